// SPDX-License-Identifier: MIT
/*
 * Multilevel queues (see mlq.h).
 */
#include <stdbool.h>

#include "mlq.h"

static uint32_t *link_of(const struct cache_mlq *q, uint32_t i, size_t off)
{
	return (uint32_t *)(q->base + (size_t)i * q->stride + off);
}

static uint8_t *byte_of(const struct cache_mlq *q, uint32_t i, size_t off)
{
	return (uint8_t *)(q->base + (size_t)i * q->stride + off);
}

void cache_mlq_init(struct cache_mlq *q, void *base, size_t stride, size_t prev_off,
		    size_t next_off, size_t level_off, size_t hit_off)
{
	unsigned int l;

	for (l = 0; l < CACHE_LEVELS; l++)
		q->head[l] = q->tail[l] = CACHE_NONE;
	q->count = 0;
	q->base = base;
	q->stride = stride;
	q->prev_off = prev_off;
	q->next_off = next_off;
	q->level_off = level_off;
	q->hit_off = hit_off;
}

static unsigned int level_of(const struct cache_mlq *q, uint32_t i)
{
	return *byte_of(q, i, q->level_off);
}

void cache_mlq_push(struct cache_mlq *q, uint32_t i, unsigned int level)
{
	*byte_of(q, i, q->level_off) = (uint8_t)level;
	*link_of(q, i, q->next_off) = CACHE_NONE;
	*link_of(q, i, q->prev_off) = q->tail[level];
	if (q->tail[level] != CACHE_NONE)
		*link_of(q, q->tail[level], q->next_off) = i;
	else
		q->head[level] = i;
	q->tail[level] = i;
	q->count++;
}

void cache_mlq_del(struct cache_mlq *q, uint32_t i)
{
	unsigned int level = level_of(q, i);
	uint32_t p = *link_of(q, i, q->prev_off), n = *link_of(q, i, q->next_off);

	if (p != CACHE_NONE)
		*link_of(q, p, q->next_off) = n;
	else
		q->head[level] = n;
	if (n != CACHE_NONE)
		*link_of(q, n, q->prev_off) = p;
	else
		q->tail[level] = p;
	q->count--;
}

/* The oldest element of the lowest level from `from` up to below `below` that has one. */
static uint32_t first_from(const struct cache_mlq *q, unsigned int from, unsigned int below)
{
	unsigned int l;

	for (l = from; l < below; l++)
		if (q->head[l] != CACHE_NONE)
			return q->head[l];
	return CACHE_NONE;
}

uint32_t cache_mlq_coldest(const struct cache_mlq *q, unsigned int below)
{
	return first_from(q, 0, below);
}

uint32_t cache_mlq_warmer(const struct cache_mlq *q, uint32_t i, unsigned int below)
{
	uint32_t n = *link_of(q, i, q->next_off);

	return n != CACHE_NONE ? n : first_from(q, level_of(q, i) + 1u, below);
}

static void move(struct cache_mlq *q, uint32_t i, unsigned int level)
{
	cache_mlq_del(q, i);
	cache_mlq_push(q, i, level);
}

/* Element i to the head (oldest) of level: colder than all already there. */
static void move_to_head(struct cache_mlq *q, uint32_t i, unsigned int level)
{
	uint32_t h = q->head[level];

	cache_mlq_del(q, i);
	*byte_of(q, i, q->level_off) = (uint8_t)level;
	*link_of(q, i, q->prev_off) = CACHE_NONE;
	*link_of(q, i, q->next_off) = h;
	if (h != CACHE_NONE)
		*link_of(q, h, q->prev_off) = i;
	else
		q->tail[level] = i;
	q->head[level] = i;
	q->count++;
}

/*
 * Spread the queue evenly over the levels again, walking up: a level over
 * its share hands its newest to the head of the level above (colder than
 * all there), one short of it takes the oldest of the next level up that
 * has any, at its tail.  Order is kept: oldest lowest.
 */
static void redistribute(struct cache_mlq *q)
{
	unsigned int l, share = q->count / CACHE_LEVELS, extra = q->count % CACHE_LEVELS;
	unsigned int have[CACHE_LEVELS] = { 0 };
	uint32_t i;

	for (l = 0; l < CACHE_LEVELS; l++)
		for (i = q->head[l]; i != CACHE_NONE; i = *link_of(q, i, q->next_off))
			have[l]++;
	for (l = 0; l + 1 < CACHE_LEVELS; l++) {
		unsigned int want = share + (l < extra), from;

		while (have[l] > want) {
			move_to_head(q, q->tail[l], l + 1);
			have[l]--;
			have[l + 1]++;
		}
		while (have[l] < want) {
			for (from = l + 1; from < CACHE_LEVELS && !have[from]; from++)
				;
			if (from == CACHE_LEVELS)
				break;
			move(q, q->head[from], l);
			have[from]--;
			have[l]++;
		}
	}
}

void cache_mlq_tick(struct cache_mlq *q)
{
	unsigned int l;
	uint32_t i, next;

	/* Top down, so an element climbs one level at most. */
	for (l = CACHE_LEVELS - 1; l-- > 0;) {
		for (i = q->head[l]; i != CACHE_NONE; i = next) {
			next = *link_of(q, i, q->next_off);
			uint8_t *flag = byte_of(q, i, q->hit_off), v = __atomic_load_n(flag, __ATOMIC_RELAXED);

			/* (A compare-and-swap: a hit that lands meanwhile is kept.) */
			if (v && __atomic_compare_exchange_n(flag, &v, v == CACHE_HIT_TICKS ? 0 : v + 1,
							     false, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
			    v == 1)
				move(q, i, l + 1);
		}
	}
	redistribute(q);
}
