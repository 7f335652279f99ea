// SPDX-License-Identifier: MIT
/*
 * Unit tests for the cache policy's multilevel queues
 * (targets/cache/mlq.c): order within and across levels, a hit climbing
 * one level per tick, the hit flag counting the ticks since, and the
 * even spread after a tick.
 */
#include <string.h>

#include "targets/cache/mlq.c"
#include "ut.h"

struct elem {
	uint32_t prev, next;
	uint8_t level, hit;
};

static struct elem e[256];
static struct cache_mlq q;

static void fresh(unsigned int n)
{
	unsigned int i;

	memset(e, 0, sizeof(e));
	CACHE_MLQ_INIT(&q, e, struct elem);
	for (i = 0; i < n; i++)
		cache_mlq_push(&q, i, 0);
}

/* The elements from the coldest up, as the policy would take them. */
static unsigned int drain(uint32_t *out)
{
	unsigned int n = 0;
	uint32_t i;

	while ((i = cache_mlq_coldest(&q, CACHE_LEVELS)) != CACHE_NONE) {
		cache_mlq_del(&q, i);
		out[n++] = i;
	}
	return n;
}

static void test_push_keeps_order(void)
{
	uint32_t got[4];

	fresh(0);
	cache_mlq_push(&q, 2, 5);
	cache_mlq_push(&q, 0, 0);
	cache_mlq_push(&q, 3, 5);
	cache_mlq_push(&q, 1, 0);
	CU_ASSERT_EQUAL(q.count, 4);
	CU_ASSERT_EQUAL(cache_mlq_coldest(&q, 5), 0);
	CU_ASSERT_EQUAL(drain(got), 4);
	CU_ASSERT(got[0] == 0 && got[1] == 1 && got[2] == 2 && got[3] == 3);
	CU_ASSERT_EQUAL(q.count, 0);
	CU_ASSERT_EQUAL(cache_mlq_coldest(&q, CACHE_LEVELS), CACHE_NONE);
}

/* 128 elements: two per level after a tick, oldest lowest; a hit one climbs past its level. */
static void test_tick_spreads_and_climbs(void)
{
	uint32_t got[128];
	unsigned int l, i;

	fresh(128);
	cache_mlq_tick(&q);
	for (l = 0; l < CACHE_LEVELS; l++) {
		CU_ASSERT_EQUAL(e[2 * l].level, l);
		CU_ASSERT_EQUAL(e[2 * l + 1].level, l);
	}
	e[0].hit = 1;	/* the coldest, hit: it climbs and is no longer the coldest */
	cache_mlq_tick(&q);
	CU_ASSERT_NOT_EQUAL(cache_mlq_coldest(&q, CACHE_LEVELS), 0);
	CU_ASSERT_EQUAL(drain(got), 128);
	for (i = 0; i < 128 && got[i] != 0; i++)
		;
	CU_ASSERT(i >= 2 && i < 128);
}

/* 1 = hit since the last tick; each tick counts up to CACHE_HIT_TICKS, then 0. */
static void test_hit_flag_counts_ticks(void)
{
	unsigned int t, level;

	fresh(4);
	e[1].hit = 1;
	cache_mlq_tick(&q);
	level = e[1].level;
	for (t = 2; t <= CACHE_HIT_TICKS; t++) {
		CU_ASSERT_EQUAL(e[1].hit, t);
		cache_mlq_tick(&q);
		/* Only a hit since the last tick climbs. */
		CU_ASSERT(e[1].level <= level);
	}
	CU_ASSERT_EQUAL(e[1].hit, 0);
	CU_ASSERT_EQUAL(e[0].hit, 0);
	/* A hit again restarts the count. */
	e[1].hit = 1;
	cache_mlq_tick(&q);
	CU_ASSERT_EQUAL(e[1].hit, 2);
}

UT_MAIN("cache_mlq", UT(test_push_keeps_order), UT(test_tick_spreads_and_climbs),
	UT(test_hit_flag_counts_ticks))
