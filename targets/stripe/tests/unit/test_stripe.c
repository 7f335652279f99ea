// SPDX-License-Identifier: MIT
/*
 * Unit tests for targets/stripe.c: the mapper against a brute-force,
 * per-sector model of dm-stripe's layout over many random (stripes,
 * chunk, child sizes, request) cases, power-of-two chunks and not, and
 * requests crossing many chunks.  Children are capture leaves that record
 * the child I/Os; every sector of the request must land on the right
 * child, at the right child sector, carrying the right bytes of the
 * request's buffer -- and each child gets at most one I/O.
 */
#include <errno.h>
#include <string.h>

#include "targets/stripe/stripe.c"
#include "core/engine/engine.h"
#include "ubt/inproc.h"
#include "ubt/registry.h"
#include "ut.h"
#include "ut_frontend.h"

#define MAX_CHILDREN 8
#define MAX_RECORDS 16

struct record {
	unsigned int child;
	unsigned int op;
	uint64_t sector;
	uint32_t nr_sectors;
	unsigned int iovcnt;
	struct iovec iov[1100];
};

static struct record records[MAX_RECORDS];
static unsigned int nr_records;
/* cap(size=SIZE): records each I/O; its index in the parent is its id order. */
static int cap_ctr(struct ubt_target *t, struct ubt_args *a)
{
	uint64_t size;
	int ret = ubt_args_size(t, a, "size", &size);

	if (ret)
		return ret;
	t->len = size >> 9;
	t->private = ubt_args_flag(a, "fail") ? (void *)1 : NULL;
	return 0;
}

static int cap_map(struct ubt_target *t, struct ubt_io *io)
{
	struct record *r = &records[nr_records++];
	unsigned int i;

	if (t->private)
		return -EIO;
	CU_ASSERT_FATAL(nr_records <= MAX_RECORDS);
	for (i = 0; i < t->parent->nr_children; i++)
		if (t->parent->children[i] == t)
			r->child = i;
	r->op = io->op;
	r->sector = io->sector;
	r->nr_sectors = io->nr_sectors;
	r->iovcnt = io->iovcnt;
	CU_ASSERT_FATAL(io->iovcnt <= 1100);
	if (io->iovcnt)
		memcpy(r->iov, io->iov, io->iovcnt * sizeof(struct iovec));
	return 0;
}

static struct ubt_target_type cap = { .name = "cap", .ctr = cap_ctr, .map = cap_map };

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* The model: dm-stripe's formula, one sector at a time. */
static uint64_t model(uint64_t s, uint64_t chunk, unsigned int n, unsigned int *stripe)
{
	uint64_t c = s / chunk;

	*stripe = (unsigned int)(c % n);
	return (c / n) * chunk + s % chunk;
}

/*
 * The address of byte `off` of a record's data, or UINTPTR_MAX past its
 * end.  An integer: under zero copy addresses are offsets from 0.
 */
static uintptr_t record_addr(const struct record *r, uint64_t off)
{
	unsigned int i;

	for (i = 0; i < r->iovcnt; i++) {
		if (off < r->iov[i].iov_len)
			return (uintptr_t)r->iov[i].iov_base + off;
		off -= r->iov[i].iov_len;
	}
	return UINTPTR_MAX;
}

static struct record *record_of(unsigned int child)
{
	unsigned int i;

	for (i = 0; i < nr_records; i++)
		if (records[i].child == child)
			return &records[i];
	return NULL;
}

static unsigned int failures;

static void check_request(struct ubt_queue *q, uint64_t chunk, unsigned int n, unsigned int op,
			  uint64_t start, uint32_t nr)
{
	uintptr_t base = (uintptr_t)ubt_queue_buf(q, 0);	/* 0 under zero copy */
	uint64_t k, lo[MAX_CHILDREN], hi[MAX_CHILDREN];
	unsigned int i, seen[MAX_CHILDREN] = { 0 };
	bool ok = true;

	nr_records = 0;
	ubt_queue_request(q, 0, op, 0, start, nr);
	CU_ASSERT_EQUAL(last_res, op == UBT_OP_READ || op == UBT_OP_WRITE ? (int)(nr << 9) : 0);
	for (i = 0; i < nr_records; i++) {
		CU_ASSERT_EQUAL(records[i].op, op);
		CU_ASSERT_EQUAL(seen[records[i].child]++, 0);	/* one I/O per child */
	}
	for (i = 0; i < n; i++) {
		lo[i] = UINT64_MAX;
		hi[i] = 0;
	}
	for (k = 0; k < nr; k++) {
		uint64_t cs = model(start + k, chunk, n, &i);
		struct record *r = record_of(i);

		lo[i] = UBT_MIN(lo[i], cs);
		hi[i] = UBT_MAX(hi[i], cs + 1);
		if (!r || cs < r->sector || cs >= r->sector + r->nr_sectors) {
			ok = false;
			break;
		}
		if (op == UBT_OP_READ || op == UBT_OP_WRITE) {
			if (record_addr(r, (cs - r->sector) << 9) != base + (k << 9)) {
				ok = false;
				break;
			}
		}
	}
	/* Nothing beyond what the model puts on each child. */
	for (i = 0; i < nr_records; i++) {
		struct record *r = &records[i];

		if (r->sector != lo[r->child] || r->sector + r->nr_sectors != hi[r->child])
			ok = false;
	}
	if (!ok && failures++ < 5)
		fprintf(stderr, "\n  mismatch: n=%u chunk=%llu op=%u start=%llu nr=%u\n", n,
			(unsigned long long)chunk, op, (unsigned long long)start, nr);
	CU_ASSERT_TRUE(ok);
}

static enum ubt_data_mode data_mode = UBT_DATA_TAG_BUF;

static void run_config(unsigned int n, uint64_t chunk, uint64_t *child_sectors, unsigned int reqs)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_queue_opts qo = { .depth = 1, .frontend_fd = -1, .data_mode = data_mode };
	char spec[2048], err[256];
	struct ubt_tree *tree = NULL;
	struct ubt_queue q;
	uint64_t smallest = UINT64_MAX, dev;
	size_t pos;
	unsigned int i, r;

	pos = (size_t)snprintf(spec, sizeof(spec), "stripe(");
	for (i = 0; i < n; i++) {
		pos += (size_t)snprintf(spec + pos, sizeof(spec) - pos, "cap(size=%llu), ",
					(unsigned long long)(child_sectors[i] << 9));
		smallest = UBT_MIN(smallest, child_sectors[i]);
	}
	snprintf(spec + pos, sizeof(spec) - pos, "chunk=%llu)", (unsigned long long)(chunk << 9));
	if (ubt_tree_build(spec, &o, &tree, err, sizeof(err))) {
		fprintf(stderr, "\n  %s: %s\n", spec, err);
		CU_FAIL_FATAL("build");
	}
	dev = (smallest - smallest % chunk) * n;
	CU_ASSERT_EQUAL(tree->root->len, dev);
	CU_ASSERT_EQUAL(tree->limits.io_min, chunk << 9);
	CU_ASSERT_EQUAL(tree->limits.io_opt, (chunk << 9) * n);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &qo, &fe, NULL), 0);
	for (r = 0; r < reqs; r++) {
		uint32_t nr = (uint32_t)(1 + rnd(UBT_MIN(dev, 1024)));
		uint64_t start = rnd(dev - nr + 1);
		unsigned int pick = (unsigned int)rnd(10);
		unsigned int op = pick < 4 ? UBT_OP_READ : pick < 8 ? UBT_OP_WRITE :
				  pick < 9 ? UBT_OP_DISCARD : UBT_OP_WRITE_ZEROES;

		check_request(&q, chunk, n, op, start, nr);
	}
	/* Whole-row and edge cases. */
	check_request(&q, chunk, n, UBT_OP_READ, 0, (uint32_t)UBT_MIN(dev, 1024));
	check_request(&q, chunk, n, UBT_OP_WRITE, dev - 1, 1);
	/* A flush reaches every child once. */
	nr_records = 0;
	ubt_queue_request(&q, 0, UBT_OP_FLUSH, 0, 0, 0);
	CU_ASSERT_EQUAL(nr_records, n);
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}

static void test_random_layouts_match_model(void)
{
	uint64_t sizes[MAX_CHILDREN];
	unsigned int cfg, i;

	for (cfg = 0; cfg < 300; cfg++) {
		unsigned int n = 1 + (unsigned int)rnd(MAX_CHILDREN);
		uint64_t chunk = rnd(3) ? 1 + rnd(64) : 1ULL << rnd(8);	/* sectors */

		for (i = 0; i < n; i++)
			sizes[i] = chunk * (1 + rnd(40)) + rnd(chunk);
		run_config(n, chunk, sizes, 60);
	}
}

/*
 * The same under zero copy, where a request's data is the kernel-registered
 * client pages and every address a child gets is a byte offset into the
 * request, starting at 0: the pieces must land at the same offsets.
 */
static void test_zero_copy_offsets_match_model(void)
{
	uint64_t sizes[MAX_CHILDREN];
	unsigned int cfg, i;

	data_mode = UBT_DATA_KERNEL_BUF;
	for (cfg = 0; cfg < 100; cfg++) {
		unsigned int n = 1 + (unsigned int)rnd(MAX_CHILDREN);
		uint64_t chunk = rnd(3) ? 1 + rnd(64) : 1ULL << rnd(8);

		for (i = 0; i < n; i++)
			sizes[i] = chunk * (1 + rnd(40)) + rnd(chunk);
		run_config(n, chunk, sizes, 60);
	}
	sizes[0] = sizes[1] = 1 << 20;
	run_config(2, 1, sizes, 20);
	data_mode = UBT_DATA_TAG_BUF;
}

static void test_dm_verified_layout(void)
{
	/* The layout checked byte for byte against the kernel: 3 stripes, chunk 24. */
	uint64_t sizes[3] = { 2400, 2400, 2400 };
	unsigned int st;

	CU_ASSERT_EQUAL(model(0, 24, 3, &st), 0);
	CU_ASSERT_EQUAL(st, 0);
	CU_ASSERT_EQUAL(model(24, 24, 3, &st), 0);
	CU_ASSERT_EQUAL(st, 1);
	CU_ASSERT_EQUAL(model(75, 24, 3, &st), 27);
	CU_ASSERT_EQUAL(st, 0);
	run_config(3, 24, sizes, 200);
}

static void test_large_requests_many_chunks(void)
{
	uint64_t sizes[2] = { 1 << 20, 1 << 20 };

	run_config(2, 1, sizes, 50);	/* 512-byte chunks: 1024 pieces per request */
	run_config(2, 7, sizes, 50);
}

static void test_discard_ranges_like_dm(void)
{
	struct stripe_ctx sc = { .chunk = 8, .chunk_shift = 3, .n = 3 };

	/* [10, 50): rows 0-2; stripe 1 owns 10..15 (child 2..7) and 32..39 (child 8..15). */
	CU_ASSERT_EQUAL(stripe_map_range(&sc, 10, 1), 2);
	CU_ASSERT_EQUAL(stripe_map_range(&sc, 50, 1), 16);
	CU_ASSERT_EQUAL(stripe_map_range(&sc, 10, 0), 8);	/* stripe 0 starts next row */
	CU_ASSERT_EQUAL(stripe_map_range(&sc, 10, 2), 0);
	CU_ASSERT_EQUAL(stripe_map_range(&sc, 50, 2), 16);
}

static void test_construction_errors(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_tree_opts o4k = { .logical_block_size = 4096, .max_io_bytes = 512 * 1024 };
	struct ubt_tree *tree = NULL;
	char err[256];

	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(chunk=64K)", &o, &tree, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stripe: needs at least one child"));
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), chunk=0)", &o, &tree, err,
					   sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "chunk=0 must be a non-zero multiple of the 512-byte"));
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), chunk=6K)", &o4k, &tree, err,
					   sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "chunk=6144 must be a non-zero multiple of the 4096-byte"));
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), cap(size=32K), chunk=64K)", &o,
					   &tree, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "child 2 (32768 bytes) is smaller than one chunk"));
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), chunk=1000)", &o, &tree, err,
					   sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), chunk=-1)", &o, &tree, err,
					   sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "chunk=-1 is not a size"));
	CU_ASSERT_NOT_EQUAL(ubt_tree_build("stripe(cap(size=1M), chunk=99999999999999999999)", &o,
					   &tree, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is too large"));
	CU_ASSERT_EQUAL(ubt_tree_build("stripe(cap(size=1M), cap(size=3M))", &o, &tree, err,
				       sizeof(err)), 0);
	CU_ASSERT_EQUAL(tree->root->len, 2 * 2048);	/* 2 x the smallest, default chunk 64K */
	ubt_tree_free(tree);
}

/*
 * chunk_sectors reaches the device only when asked for (dm's behaviour):
 * by default the node splits and the kernel sends whole requests.  The block
 * layer takes powers of two only.
 */
static void test_chunk_sectors_only_when_asked(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_tree *tree = NULL;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(cap(size=1M), cap(size=1M), chunk=64K)", &o,
					     &tree, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tree->limits.chunk_sectors, 0);
	CU_ASSERT_EQUAL(tree->limits.io_min, 65536);
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(cap(size=1M), cap(size=1M), chunk=64K, "
					     "chunk_sectors)", &o, &tree, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tree->limits.chunk_sectors, 128);
	CU_ASSERT_EQUAL(tree->nr_nodes, 3);	/* the flag is not a child */
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(cap(size=1M), cap(size=1M), chunk=48K, "
					     "chunk_sectors)", &o, &tree, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tree->limits.chunk_sectors, 0);
	ubt_tree_free(tree);
}

static void test_status_marks_failed_children(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_queue_opts qo = { .depth = 1, .frontend_fd = -1 };
	struct ubt_tree *tree = NULL;
	struct ubt_queue q;
	char err[256], info[256];

	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(cap(size=1M), cap(size=1M, fail), cap(size=1M), "
					     "chunk=4K)", &o, &tree, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &qo, &fe, NULL), 0);
	tree->root->type->status(tree->root, info, sizeof(info));
	CU_ASSERT_STRING_EQUAL(info, "3 cap:1 cap:2 cap:3 1 AAA");
	ubt_queue_request(&q, 0, UBT_OP_READ, 0, 0, 8);		/* child 1 only */
	CU_ASSERT_EQUAL(last_res, 4096);
	ubt_queue_request(&q, 0, UBT_OP_READ, 0, 0, 24);	/* all three */
	CU_ASSERT_EQUAL(last_res, -EIO);
	tree->root->type->status(tree->root, info, sizeof(info));
	CU_ASSERT_STRING_EQUAL(info, "3 cap:1 cap:2 cap:3 1 ADA");
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}

int main(void)
{
	static const struct ut_case cases[] = {
		UT(test_random_layouts_match_model), UT(test_zero_copy_offsets_match_model),
		UT(test_dm_verified_layout),
		UT(test_large_requests_many_chunks), UT(test_discard_ranges_like_dm),
		UT(test_construction_errors), UT(test_status_marks_failed_children),
		UT(test_chunk_sectors_only_when_asked),
	};

	cap.abi = UBT_TARGET_ABI;
	ubt_register_target(&cap);
	ubt_set_module_dir("");
	return ut_run("stripe", cases, sizeof(cases) / sizeof(cases[0]));
}
