// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/lib/wait.c: a wait for a kernel state is bounded in
 * real time even when each look at the state is slow, and it looks a few
 * times a second at most once the wait is long.
 */
#include <errno.h>
#include <time.h>

#include "core/lib/wait.c"
#include "ut.h"

struct probe {
	unsigned int calls, busy_for;	/* answers -EBUSY busy_for times */
	long cost_ms;			/* what one look costs */
	int then;			/* the answer after */
};

static int look(void *arg)
{
	struct probe *p = arg;
	struct timespec ts = { 0, p->cost_ms * 1000000 };

	if (p->cost_ms)
		nanosleep(&ts, NULL);
	return p->calls++ < p->busy_for ? -EBUSY : p->then;
}

static double ms_since(uint64_t t0)
{
	return (double)(ubt_now_ns() - t0) / 1e6;
}

static void test_first_answer_returned_at_once(void)
{
	struct probe p = { .busy_for = 0, .then = -ENODEV };
	uint64_t t0 = ubt_now_ns();

	CU_ASSERT_EQUAL(ubt_retry_while_busy(look, &p, 1000), -ENODEV);
	CU_ASSERT_EQUAL(p.calls, 1);
	CU_ASSERT(ms_since(t0) < 50);
}

static void test_busy_then_ready(void)
{
	struct probe p = { .busy_for = 3, .then = 0 };

	CU_ASSERT_EQUAL(ubt_retry_while_busy(look, &p, 1000), 0);
	CU_ASSERT_EQUAL(p.calls, 4);
}

/* Each look costs 10 ms: the 200-ms bound is still about 200 ms. */
static void test_bound_is_real_time(void)
{
	struct probe p = { .busy_for = ~0u, .cost_ms = 10 };
	uint64_t t0 = ubt_now_ns();
	double took;

	CU_ASSERT_EQUAL(ubt_retry_while_busy(look, &p, 200), -EBUSY);
	took = ms_since(t0);
	CU_ASSERT(took >= 200 && took < 600);	/* the old loops: 100 looks, 1.2 s */
}

/* A second of waiting is a few dozen looks, not hundreds. */
static void test_pauses_grow(void)
{
	struct probe p = { .busy_for = ~0u };

	CU_ASSERT_EQUAL(ubt_retry_while_busy(look, &p, 1000), -EBUSY);
	CU_ASSERT(p.calls >= 10 && p.calls <= 40);
}

UT_MAIN("wait", UT(test_first_answer_returned_at_once), UT(test_busy_then_ready),
	UT(test_bound_is_real_time), UT(test_pauses_grow))
