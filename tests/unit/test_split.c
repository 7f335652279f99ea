// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/engine/split.c and core/lib/iov.c: slicing an I/O's data into
 * per-child iovec runs, merging contiguous pieces, running out of room,
 * and -- through a whole stripe -- that splitting never allocates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/iov.c"
#include "core/engine/split.c"
#include "targets/null/null.c"
#include "targets/stripe/stripe.c"
#include "core/engine/engine.h"
#include "ut.h"
#include "ut_frontend.h"

/*
 * Count the allocator calls made while `counting` is set.  ASan brings its
 * own allocator, which this cannot wrap: under SANITIZE=1 the check is left
 * out (and says so).
 */
#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static int counting;
static unsigned long allocs;

void *malloc(size_t n)
{
	allocs += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	allocs += counting;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	allocs += counting;
	return __libc_realloc(p, n);
}
#endif

static char data[8192];

static void test_iter_take_merges_and_splits(void)
{
	struct iovec src[3] = {
		{ data, 1000 }, { data + 1000, 24 }, { data + 4096, 2048 },
	};
	struct iovec dst[4];
	struct ubt_iov_iter it;
	unsigned int n = 0;

	ubt_iov_iter_init(&it, src, 3);
	/* 1000 + 24 are contiguous in memory: one entry. */
	CU_ASSERT_EQUAL(ubt_iov_iter_take(&it, dst, &n, 4, 1024), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(dst[0].iov_len, 1024);
	CU_ASSERT_EQUAL(ubt_iov_iter_take(&it, dst, &n, 4, 512), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_PTR_EQUAL(dst[1].iov_base, data + 4096);
	ubt_iov_iter_skip(&it, 512);
	CU_ASSERT_EQUAL(ubt_iov_iter_take(&it, dst, &n, 4, 1024), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_PTR_EQUAL(dst[2].iov_base, data + 5120);
	/* The data has run out. */
	CU_ASSERT_EQUAL(ubt_iov_iter_take(&it, dst, &n, 4, 1), -E2BIG);
}

static void test_iter_take_respects_capacity(void)
{
	struct iovec src[3] = { { data, 512 }, { data + 1024, 512 }, { data + 2048, 512 } };
	struct iovec dst[2];
	struct ubt_iov_iter it;
	unsigned int n = 0;

	ubt_iov_iter_init(&it, src, 3);
	CU_ASSERT_EQUAL(ubt_iov_iter_take(&it, dst, &n, 2, 1536), -E2BIG);
	CU_ASSERT_EQUAL(n, 2);
}

static void test_split_runs(void)
{
	struct iovec root = { data, 8192 };
	_Alignas(16) char priv[4096];
	struct ubt_io io = { .op = UBT_OP_WRITE, .iov = &root, .iovcnt = 1, .priv = priv };
	struct ubt_split s;

	CU_ASSERT(ubt_split_priv_size(2, 4) <= sizeof(priv));
	ubt_split_init(&s, &io, 2, 4);
	CU_ASSERT_EQUAL(ubt_split_add(&s, 0, 100, 2), 0);
	CU_ASSERT_EQUAL(ubt_split_add(&s, 1, 50, 2), 0);
	CU_ASSERT_EQUAL(ubt_split_add(&s, 0, 102, 4), 0);
	CU_ASSERT_EQUAL(s.c[0].sector, 100);
	CU_ASSERT_EQUAL(s.c[0].nr_sectors, 6);
	CU_ASSERT_EQUAL(s.c[0].iovcnt, 2);
	CU_ASSERT_PTR_EQUAL(s.c[0].iov[1].iov_base, data + 2048);
	CU_ASSERT_EQUAL(s.c[1].iov[0].iov_len, 1024);
	/* A run with a hole in it is a mapping bug. */
	CU_ASSERT_EQUAL(ubt_split_add(&s, 1, 60, 1), -EIO);
	/* Discard ranges carry no data. */
	io.op = UBT_OP_DISCARD;
	ubt_split_init(&s, &io, 2, 4);
	CU_ASSERT_FALSE(s.data);
	CU_ASSERT_EQUAL(ubt_split_add_range(&s, 1, 8, 100), 0);
	CU_ASSERT_EQUAL(s.c[1].iovcnt, 0);
}

#ifndef __SANITIZE_ADDRESS__
static void test_stripe_requests_never_allocate(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_queue_opts qo = { .depth = 4, .frontend_fd = -1 };
	struct ubt_tree *tree = NULL;
	struct ubt_queue q;
	char err[256];
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(null(size=64M), null(size=64M), "
					     "null(size=64M), chunk=12K)", &o, &tree, err,
					     sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &qo, &fe, NULL), 0);
	allocs = 0;
	counting = 1;
	for (i = 0; i < 1000; i++) {
		unsigned int op = i % 5 == 4 ? UBT_OP_FLUSH : i % 5 == 3 ? UBT_OP_DISCARD : i & 1;

		ubt_queue_request(&q, i % 4, op, 0, (i * 7919ULL) % 300000, op == UBT_OP_FLUSH ? 0 : 1024);
	}
	ubt_queue_request(&q, 0, UBT_OP_READ, 0, 12345, 1024);
	counting = 0;
	CU_ASSERT_EQUAL(allocs, 0);
	CU_ASSERT_EQUAL(last_res, 512 * 1024);
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}
#endif

#ifdef __SANITIZE_ADDRESS__
/* Not run under ASan: its allocator cannot be wrapped. */
int main(void)
{
	static const struct ut_case cases[] = {
		UT(test_iter_take_merges_and_splits), UT(test_iter_take_respects_capacity),
		UT(test_split_runs),
	};

	(void)&fe;
	fprintf(stderr, "split: the no-allocation check is not run under ASan\n");
	return ut_run("split", cases, sizeof(cases) / sizeof(cases[0]));
}
#else
UT_MAIN("split", UT(test_iter_take_merges_and_splits), UT(test_iter_take_respects_capacity),
	UT(test_split_runs), UT(test_stripe_requests_never_allocate))
#endif
