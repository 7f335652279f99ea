// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/engine/io.c: dispatch, child I/Os, completion counting,
 * first-error-wins, end_io, and the leaf helpers' short-transfer and
 * -EAGAIN handling.  The queue is replaced by stubs that hand out slots
 * from a small array and capture SQEs, so each CQE is played by hand.
 */
#include <errno.h>
#include <string.h>

#include "core/engine/io.c"
#include "ut.h"

#define NSLOTS 16
#define SLOT_BYTES 256

static struct ubt_queue fake_q;
static _Alignas(64) char slab[NSLOTS][SLOT_BYTES];
static unsigned int next_slot, slot_limit = NSLOTS;
static struct io_uring_sqe sqes[64];
static unsigned int nr_sqes;
static int root_res, root_calls;

struct ubt_io *ubt_queue_slot(struct ubt_queue *q, unsigned int tag)
{
	struct ubt_io *io;

	if (next_slot >= slot_limit)
		return NULL;
	io = (struct ubt_io *)slab[next_slot++];
	memset(io, 0, SLOT_BYTES);
	io->priv = io + 1;
	io->q = q;
	io->tag = (uint16_t)tag;
	return io;
}

static unsigned int root_tag;

void ubt_queue_root_done(struct ubt_queue *q, unsigned int tag, int res)
{
	(void)q;
	root_tag = tag;
	root_res = res;
	root_calls++;
}

/* The one background tag: the one after the depth. */
struct ubt_io *ubt_queue_bg_slot(struct ubt_queue *q)
{
	return ubt_queue_slot(q, q->depth);
}

struct io_uring_sqe *ubt_queue_sqe(struct ubt_queue *q)
{
	(void)q;
	memset(&sqes[nr_sqes], 0, sizeof(sqes[0]));
	return &sqes[nr_sqes++];
}

/* ---- mock targets -------------------------------------------------------- */

/* A leaf that completes inline with the result in its private int. */
static int inline_map(struct ubt_target *t, struct ubt_io *io)
{
	ubt_io_complete(io, *(int *)t->private);
	return 0;
}
static struct ubt_target_type inline_type = { .name = "inline", .map = inline_map };

/* A leaf that queues one readv/writev per I/O on fixed file 1. */
static int sqe_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	return ubt_leaf_rw(io, 1, io->sector << 9);
}
static struct ubt_target_type sqe_type = { .name = "sqe", .map = sqe_map };

/* A parent that sends the whole I/O to each of its children. */
static int fan_map(struct ubt_target *t, struct ubt_io *io)
{
	unsigned int i;

	for (i = 0; i < t->nr_children; i++) {
		struct ubt_io *c = ubt_io_child(io, t->children[i]);

		if (!c)
			return -ENOMEM;
		c->sector = io->sector;
		c->nr_sectors = io->nr_sectors;
		c->iov = io->iov;
		c->iovcnt = io->iovcnt;
		ubt_io_submit(c);
	}
	return 0;
}
static struct ubt_target_type fan_type = { .name = "fan", .map = fan_map, .max_fanout = 8 };

/* Like fan, but an error from any child but the first is forgiven. */
static int forgiving_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child,
			    int res)
{
	(void)io;
	return child->t == t->children[0] ? res : 0;
}
static struct ubt_target_type forgiving_type = {
	.name = "forgiving", .map = fan_map, .end_io = forgiving_end_io, .max_fanout = 8,
};

static int failing_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	(void)io;
	return -EOPNOTSUPP;
}
static struct ubt_target_type failing_type = { .name = "failing", .map = failing_map };

static struct ubt_target nodes[8];
static int results[8];
static char buf[8192];
static struct iovec root_iov;

static void reset(void)
{
	memset(nodes, 0, sizeof(nodes));
	memset(results, 0, sizeof(results));
	next_slot = 0;
	slot_limit = NSLOTS;
	nr_sqes = 0;
	root_res = 12345;
	root_calls = 0;
	fake_q.depth = 8;	/* tags 0..7 are requests' */
}

static struct ubt_target *leaf(int i, const struct ubt_target_type *type, int res)
{
	nodes[i].type = type;
	results[i] = res;
	nodes[i].private = &results[i];
	return &nodes[i];
}

static struct ubt_target *parent(int i, const struct ubt_target_type *type,
				 struct ubt_target **children, unsigned int n)
{
	nodes[i].type = type;
	nodes[i].children = children;
	nodes[i].nr_children = n;
	return &nodes[i];
}

static void start(struct ubt_target *root, unsigned int op, uint32_t nr_sectors)
{
	struct ubt_io *io = ubt_queue_slot(&fake_q, 0);

	io->t = root;
	io->op = (uint8_t)op;
	io->sector = 8;
	io->nr_sectors = nr_sectors;
	root_iov.iov_base = buf;
	root_iov.iov_len = (size_t)nr_sectors << 9;
	io->iov = &root_iov;
	io->iovcnt = 1;
	ubt_io_submit(io);
}

/* ---- tests ------------------------------------------------------------- */

static void test_inline_leaf_reports_bytes(void)
{
	reset();
	start(leaf(0, &inline_type, 0), UBT_OP_READ, 8);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, 4096);
	reset();
	start(leaf(0, &inline_type, 0), UBT_OP_FLUSH, 0);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, 0);
}

static void test_inline_children_first_error_wins(void)
{
	struct ubt_target *kids[3];

	reset();
	kids[0] = leaf(1, &inline_type, 0);
	kids[1] = leaf(2, &inline_type, -EIO);
	kids[2] = leaf(3, &inline_type, -ENOSPC);
	start(parent(0, &fan_type, kids, 3), UBT_OP_WRITE, 2);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -EIO);
	CU_ASSERT_EQUAL(next_slot, 4);	/* root + one slot per child */
}

static void test_parent_waits_for_every_sqe(void)
{
	struct ubt_target *kids[3];
	struct ubt_io *ios[3];
	unsigned int i;

	reset();
	for (i = 0; i < 3; i++)
		kids[i] = leaf((int)i + 1, &sqe_type, 0);
	start(parent(0, &fan_type, kids, 3), UBT_OP_READ, 4);
	CU_ASSERT_EQUAL(root_calls, 0);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 3);
	for (i = 0; i < 3; i++) {
		ios[i] = (struct ubt_io *)(uintptr_t)sqes[i].user_data;
		CU_ASSERT_EQUAL(sqes[i].flags & IOSQE_FIXED_FILE, IOSQE_FIXED_FILE);
		CU_ASSERT_EQUAL(sqes[i].fd, 1);
		CU_ASSERT_EQUAL(sqes[i].off, 8 << 9);
	}
	ubt_io_leaf_cqe(ios[2], -EIO);
	CU_ASSERT_EQUAL(root_calls, 0);
	ubt_io_leaf_cqe(ios[0], 2048);
	CU_ASSERT_EQUAL(root_calls, 0);
	ubt_io_leaf_cqe(ios[1], -ENOSPC);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -EIO);
}

static void test_short_transfer_is_resubmitted(void)
{
	struct ubt_io *io;

	reset();
	start(leaf(0, &sqe_type, 0), UBT_OP_WRITE, 16);	/* 8 KiB */
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_WRITEV);
	io = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	ubt_io_leaf_cqe(io, 3072);
	CU_ASSERT_EQUAL(root_calls, 0);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	CU_ASSERT_EQUAL(sqes[1].off, (8 << 9) + 3072);
	CU_ASSERT_EQUAL(io->iov->iov_base, buf + 3072);
	CU_ASSERT_EQUAL(io->iov->iov_len, 8192 - 3072);
	ubt_io_leaf_cqe(io, 8192 - 3072);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, 8192);
}

static void test_eagain_retries_and_eof_fails(void)
{
	struct ubt_io *io;

	reset();
	start(leaf(0, &sqe_type, 0), UBT_OP_READ, 1);
	io = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	ubt_io_leaf_cqe(io, -EAGAIN);
	CU_ASSERT_EQUAL(root_calls, 0);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	ubt_io_leaf_cqe(io, 0);		/* nothing read: past the end */
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -EIO);
}

static void test_fua_sets_dsync(void)
{
	struct ubt_io *io = NULL;

	reset();
	io = ubt_queue_slot(&fake_q, 0);
	io->t = leaf(0, &sqe_type, 0);
	io->op = UBT_OP_WRITE;
	io->flags = UBT_IO_FUA;
	io->nr_sectors = 1;
	root_iov.iov_base = buf;
	root_iov.iov_len = 512;
	io->iov = &root_iov;
	io->iovcnt = 1;
	ubt_io_submit(io);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].rw_flags, RWF_DSYNC);
}

static void test_fixed_buffer_when_registered(void)
{
	struct ubt_tree tree = { .opts = { .max_io_bytes = sizeof(buf) } };
	struct ubt_tag tags[1] = { { .buf = buf } };
	struct ubt_io *io;

	reset();
	fake_q.fixed_bufs = true;
	fake_q.tags = tags;
	fake_q.tree = &tree;
	fake_q.buf_bytes = sizeof(buf);
	start(leaf(0, &sqe_type, 0), UBT_OP_READ, 4);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_READ_FIXED);
	CU_ASSERT_EQUAL(sqes[0].buf_index, 0);
	CU_ASSERT_EQUAL(sqes[0].addr, (uint64_t)(uintptr_t)buf);
	CU_ASSERT_EQUAL(sqes[0].len, 2048);
	/* A short read continues inside the same registered buffer. */
	io = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	ubt_io_leaf_cqe(io, 1024);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	CU_ASSERT_EQUAL(sqes[1].opcode, IORING_OP_READ_FIXED);
	CU_ASSERT_EQUAL(sqes[1].addr, (uint64_t)(uintptr_t)(buf + 1024));
	CU_ASSERT_EQUAL(sqes[1].len, 1024);
	ubt_io_leaf_cqe(io, 1024);
	CU_ASSERT_EQUAL(root_res, 2048);
	/* Data outside the tag's buffer (a target's own) goes the vectored way. */
	fake_q.buf_bytes = 1024;
	reset();
	start(leaf(0, &sqe_type, 0), UBT_OP_WRITE, 4);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_WRITEV);
	fake_q.fixed_bufs = false;
	fake_q.tags = NULL;
	fake_q.tree = NULL;
}

/* A root I/O on tag 5 whose data is the given iovecs. */
static struct ubt_io *start_iov(struct ubt_target *root, unsigned int op, struct iovec *iov,
				unsigned int cnt, uint32_t nr_sectors)
{
	struct ubt_io *io = ubt_queue_slot(&fake_q, 5);

	io->t = root;
	io->op = (uint8_t)op;
	io->sector = 8;
	io->nr_sectors = nr_sectors;
	io->iov = iov;
	io->iovcnt = cnt;
	ubt_io_submit(io);
	return io;
}

/*
 * Under zero copy the request's pages sit at buffer index = tag and the
 * iovecs hold offsets into the request: READ_FIXED takes the offset as its
 * address, and a short transfer continues at the right offset.
 */
static void test_zero_copy_offsets(void)
{
	struct ubt_tree tree = { .opts = { .max_io_bytes = 1 << 20 } };
	struct iovec one = { NULL, 4096 };
	struct ubt_io *io;

	reset();
	fake_q.fixed_bufs = true;
	fake_q.data_mode = UBT_DATA_KERNEL_BUF;
	fake_q.tree = &tree;
	start_iov(leaf(0, &sqe_type, 0), UBT_OP_READ, &one, 1, 8);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_READ_FIXED);
	CU_ASSERT_EQUAL(sqes[0].buf_index, 5);
	CU_ASSERT_EQUAL(sqes[0].addr, 0);
	CU_ASSERT_EQUAL(sqes[0].len, 4096);
	CU_ASSERT_EQUAL(sqes[0].off, 8 << 9);
	io = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	ubt_io_leaf_cqe(io, 1536);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	CU_ASSERT_EQUAL(sqes[1].opcode, IORING_OP_READ_FIXED);
	CU_ASSERT_EQUAL(sqes[1].buf_index, 5);
	CU_ASSERT_EQUAL(sqes[1].addr, 1536);
	CU_ASSERT_EQUAL(sqes[1].len, 4096 - 1536);
	CU_ASSERT_EQUAL(sqes[1].off, (8 << 9) + 1536);
	ubt_io_leaf_cqe(io, 4096 - 1536);
	CU_ASSERT_EQUAL(root_res, 4096);
	fake_q.fixed_bufs = false;
	fake_q.data_mode = UBT_DATA_TAG_BUF;
	fake_q.tree = NULL;
}

/*
 * A split piece with several runs goes as one WRITEV_FIXED whose iovecs
 * are offsets; a short write drops whole iovecs and trims the next.
 */
static void test_zero_copy_vectored(void)
{
	struct ubt_tree tree = { .opts = { .max_io_bytes = 1 << 20 } };
	struct iovec runs[3] = { { NULL, 512 }, { (void *)2048, 1024 }, { (void *)8192, 512 } };
	const struct iovec *sent;
	struct ubt_io *io;

	reset();
	fake_q.fixed_bufs = true;
	fake_q.vec_fixed = true;
	fake_q.data_mode = UBT_DATA_KERNEL_BUF;
	fake_q.tree = &tree;
	start_iov(leaf(0, &sqe_type, 0), UBT_OP_WRITE, runs, 3, 4);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, UBT_IORING_OP_WRITEV_FIXED);
	CU_ASSERT_EQUAL(sqes[0].buf_index, 5);
	CU_ASSERT_EQUAL(sqes[0].len, 3);
	sent = (const struct iovec *)(uintptr_t)sqes[0].addr;
	CU_ASSERT_EQUAL((uintptr_t)sent[1].iov_base, 2048);
	io = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	ubt_io_leaf_cqe(io, 512 + 100);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	CU_ASSERT_EQUAL(sqes[1].opcode, UBT_IORING_OP_WRITEV_FIXED);
	CU_ASSERT_EQUAL(sqes[1].len, 2);
	CU_ASSERT_EQUAL(sqes[1].off, (8 << 9) + 612);
	sent = (const struct iovec *)(uintptr_t)sqes[1].addr;
	CU_ASSERT_EQUAL((uintptr_t)sent[0].iov_base, 2148);
	CU_ASSERT_EQUAL(sent[0].iov_len, 924);
	CU_ASSERT_EQUAL((uintptr_t)sent[1].iov_base, 8192);
	ubt_io_leaf_cqe(io, 924 + 512);
	CU_ASSERT_EQUAL(root_res, 2048);
	fake_q.fixed_bufs = false;
	fake_q.vec_fixed = false;
	fake_q.data_mode = UBT_DATA_TAG_BUF;
	fake_q.tree = NULL;
}

/*
 * Copy mode with a split request inside the registered tag buffer:
 * READV_FIXED where the ring has it, plain READV where it does not (6.12).
 */
static void test_tag_buffer_vectored(void)
{
	struct ubt_tree tree = { .opts = { .max_io_bytes = sizeof(buf) } };
	struct ubt_tag tags[6] = { [5] = { .buf = buf } };
	struct iovec runs[2] = { { buf, 512 }, { buf + 4096, 512 } };

	reset();
	fake_q.fixed_bufs = true;
	fake_q.vec_fixed = true;
	fake_q.tags = tags;
	fake_q.tree = &tree;
	fake_q.buf_bytes = sizeof(buf);
	start_iov(leaf(0, &sqe_type, 0), UBT_OP_READ, runs, 2, 2);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, UBT_IORING_OP_READV_FIXED);
	CU_ASSERT_EQUAL(sqes[0].buf_index, 5);
	fake_q.vec_fixed = false;
	reset();
	start_iov(leaf(0, &sqe_type, 0), UBT_OP_READ, runs, 2, 2);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_READV);
	CU_ASSERT_EQUAL(sqes[0].buf_index, 0);
	fake_q.fixed_bufs = false;
	fake_q.tags = NULL;
	fake_q.tree = NULL;
}

static void test_map_error_completes(void)
{
	reset();
	nodes[0].type = &failing_type;
	start(&nodes[0], UBT_OP_DISCARD, 8);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -EOPNOTSUPP);
}

static void test_end_io_rewrites_result(void)
{
	struct ubt_target *kids[2];

	reset();
	kids[0] = leaf(1, &inline_type, 0);
	kids[1] = leaf(2, &inline_type, -EIO);
	start(parent(0, &forgiving_type, kids, 2), UBT_OP_WRITE, 1);
	CU_ASSERT_EQUAL(root_res, 512);
	reset();
	kids[0] = leaf(1, &inline_type, -EIO);
	kids[1] = leaf(2, &inline_type, 0);
	start(parent(0, &forgiving_type, kids, 2), UBT_OP_WRITE, 1);
	CU_ASSERT_EQUAL(root_res, -EIO);
}

static void test_nested_tree_counts(void)
{
	struct ubt_target *inner[2], *outer[2];
	struct ubt_io *a, *b;

	reset();
	inner[0] = leaf(2, &sqe_type, 0);
	inner[1] = leaf(3, &inline_type, 0);
	outer[0] = parent(1, &fan_type, inner, 2);
	outer[1] = leaf(4, &sqe_type, 0);
	start(parent(0, &fan_type, outer, 2), UBT_OP_WRITE, 2);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 2);
	a = (struct ubt_io *)(uintptr_t)sqes[0].user_data;
	b = (struct ubt_io *)(uintptr_t)sqes[1].user_data;
	ubt_io_leaf_cqe(b, 1024);
	CU_ASSERT_EQUAL(root_calls, 0);
	ubt_io_leaf_cqe(a, 1024);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, 1024);
}

static void test_slab_exhaustion_fails_cleanly(void)
{
	struct ubt_target *kids[3];

	reset();
	slot_limit = 3;	/* root + 2 children: the third has no slot */
	kids[0] = leaf(1, &inline_type, 0);
	kids[1] = leaf(2, &inline_type, 0);
	kids[2] = leaf(3, &inline_type, 0);
	start(parent(0, &fan_type, kids, 3), UBT_OP_READ, 1);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -ENOMEM);
}

static int bg_read_leaf(struct ubt_io *io)
{
	return ubt_io_remap(io, &nodes[1], 8);
}

/*
 * Background I/O under zero copy: its data is the node's own memory, so
 * the leaf takes plain pointers (READV), never the request's buffer index.
 */
static void test_background_io_uses_its_own_memory(void)
{
	struct ubt_tag tags[2] = { { 0 } };
	struct iovec iov = { buf, 2048 };
	struct ubt_io *io;

	reset();
	fake_q.depth = 1;
	fake_q.tags = tags;
	fake_q.fixed_bufs = true;
	fake_q.vec_fixed = true;
	fake_q.data_mode = UBT_DATA_KERNEL_BUF;
	leaf(1, &sqe_type, 0);
	io = ubt_bg_io(&fake_q, leaf(0, &fan_type, 0), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(io);
	CU_ASSERT(ubt_io_is_bg(io));
	io->op = UBT_OP_READ;
	io->nr_sectors = 4;
	io->iov = &iov;
	io->iovcnt = 1;
	ubt_bg_submit(io, bg_read_leaf);
	CU_ASSERT_EQUAL_FATAL(nr_sqes, 1);
	CU_ASSERT_EQUAL(sqes[0].opcode, IORING_OP_READV);
	CU_ASSERT_EQUAL(sqes[0].off, 8 << 9);
	ubt_io_leaf_cqe((struct ubt_io *)(uintptr_t)sqes[0].user_data, 2048);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_tag, 1);
	CU_ASSERT_EQUAL(root_res, 2048);
	fake_q.fixed_bufs = false;
	fake_q.vec_fixed = false;
	fake_q.data_mode = UBT_DATA_TAG_BUF;
	fake_q.tags = NULL;
}

static int wait_calls;

static int after_wait(struct ubt_io *io)
{
	(void)io;
	wait_calls++;
	return -EAGAIN;
}

/* A parked I/O holds its parent; a wake from its own queue runs it at once. */
static void test_wait_and_wake_on_the_same_queue(void)
{
	struct ubt_io_wait w;
	struct ubt_io *io;

	reset();
	wait_calls = 0;
	io = ubt_queue_slot(&fake_q, 0);
	io->t = leaf(0, &inline_type, 0);
	io->op = UBT_OP_FLUSH;
	io->pending = 1;
	ubt_io_wait(io, &w, after_wait);
	CU_ASSERT_EQUAL(fake_q.parked, 1);
	ubt_io_complete(io, 0);
	io->pending--;		/* the dispatch bias: only the wait holds it now */
	CU_ASSERT_EQUAL(root_calls, 0);
	ubt_io_wake(&fake_q, &w);
	CU_ASSERT_EQUAL(wait_calls, 1);
	CU_ASSERT_EQUAL(fake_q.parked, 0);
	CU_ASSERT_EQUAL(root_calls, 1);
	CU_ASSERT_EQUAL(root_res, -EAGAIN);
}

UT_MAIN("io", UT(test_background_io_uses_its_own_memory),
	UT(test_wait_and_wake_on_the_same_queue), UT(test_inline_leaf_reports_bytes), UT(test_inline_children_first_error_wins),
	UT(test_parent_waits_for_every_sqe), UT(test_short_transfer_is_resubmitted),
	UT(test_eagain_retries_and_eof_fails), UT(test_fua_sets_dsync),
	UT(test_fixed_buffer_when_registered), UT(test_zero_copy_offsets),
	UT(test_zero_copy_vectored), UT(test_tag_buffer_vectored),
	UT(test_map_error_completes), UT(test_end_io_rewrites_result),
	UT(test_nested_tree_counts), UT(test_slab_exhaustion_fails_cleanly))
