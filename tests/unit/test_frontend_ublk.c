// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/device/frontend_ublk.c: where each queue's descriptor array
 * lives, and how a descriptor becomes a request -- sector math in 512-byte
 * units whatever the logical block size, flags, unsupported operations,
 * and the COMMIT_AND_FETCH that carries the result back; under zero copy
 * the buffer-table slot in every command and the fallback's register and
 * unregister; under user copy the copies through /dev/ublkcN.
 */
#include <errno.h>
#include <string.h>

#include "core/device/frontend_ublk.c"
#include "ubt/inproc.h"
#include "ut.h"

static struct ubt_io seen;
static int seen_calls;

static int capture_ctr(struct ubt_target *t, struct ubt_args *a)
{
	(void)a;
	t->len = (64 << 20) >> 9;
	return 0;
}

static int capture_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	seen = *io;
	seen_calls++;
	return 0;
}

static struct ubt_target_type capture = {
	.name = "capture", .ctr = capture_ctr, .map = capture_map,
};

static void test_descriptor_offsets(void)
{
	/* round_up(4096 * 24, 4096) = 98304 per queue, whatever the depth. */
	CU_ASSERT_EQUAL(desc_offset(0), 0);
	CU_ASSERT_EQUAL(desc_offset(1), 98304);
	CU_ASSERT_EQUAL(desc_offset(3), 3 * 98304);
}

static void test_flags(void)
{
	CU_ASSERT_EQUAL(io_flags(UBLK_IO_OP_WRITE | UBLK_IO_F_FUA), UBT_IO_FUA);
	CU_ASSERT_EQUAL(io_flags(UBLK_IO_OP_WRITE_ZEROES | UBLK_IO_F_NOUNMAP), UBT_IO_NOUNMAP);
	CU_ASSERT_EQUAL(io_flags(UBLK_IO_OP_READ | UBLK_IO_F_META | UBLK_IO_F_FAILFAST_DEV), 0);
}

struct harness {
	struct ubt_ublk_queue uq;
	struct ublksrv_io_desc descs[4];
	uint8_t tag_state[4];
	int32_t tag_res[4];
	struct ubt_tree *tree;
};

static void setup_mode(struct harness *h, uint32_t lbs, enum ubt_copy_mode mode)
{
	struct ubt_tree_opts o = { .logical_block_size = lbs, .max_io_bytes = 1 << 19 };
	struct ubt_queue_opts qo = { .q_id = 2, .depth = 4, .ring_flags = IORING_SETUP_SQE128,
				     .frontend_fd = -1 };
	char err[256];

	memset(h, 0, sizeof(*h));
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("capture()", &o, &h->tree, err, sizeof(err)), 0);
	h->uq.descs = h->descs;
	h->uq.tag_state = h->tag_state;
	h->uq.tag_res = h->tag_res;
	h->uq.dev_flags = UBLK_F_CMD_IOCTL_ENCODE;
	h->uq.mode = mode;
	h->uq.q_id = 2;
	h->uq.depth = 4;
	if (mode == UBT_COPY_ZERO_COPY)
		qo.data_mode = UBT_DATA_KERNEL_BUF;
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&h->uq.q, h->tree, &qo, &ublk_ops, &h->uq), 0);
	h->uq.cmd_inflight = 4;
}

static void setup(struct harness *h, uint32_t lbs)
{
	setup_mode(h, lbs, UBT_COPY_COPY);
}

static void teardown(struct harness *h)
{
	ubt_queue_exit(&h->uq.q);
	ubt_tree_free(h->tree);
}

/* The SQE queued n entries before the last (0: the last). */
static struct io_uring_sqe *queued(struct harness *h, unsigned int n)
{
	struct io_uring *r = &h->uq.q.ring;

	/* SQE128: each entry is two 64-byte slots. */
	return &r->sq.sqes[((r->sq.sqe_tail - 1 - n) & r->sq.ring_mask) << 1];
}

/* Deliver a CQE of the given kind on tag; return the last SQE it queued, if any. */
static struct io_uring_sqe *deliver_kind(struct harness *h, unsigned int kind, unsigned int tag,
					 int res)
{
	struct io_uring_cqe cqe = { .user_data = UBT_UD(kind, tag), .res = res };
	unsigned int before = io_uring_sq_ready(&h->uq.q.ring);

	ublk_cqe(&h->uq.q, &cqe);
	if (io_uring_sq_ready(&h->uq.q.ring) == before)
		return NULL;
	return queued(h, 0);
}

static struct io_uring_sqe *deliver(struct harness *h, unsigned int tag, int res)
{
	return deliver_kind(h, UD_KIND_CMD, tag, res);
}

static struct ublksrv_io_cmd cmd_of(const struct io_uring_sqe *sqe)
{
	struct ublksrv_io_cmd cmd;

	memcpy(&cmd, sqe->cmd, sizeof(cmd));
	return cmd;
}

static void test_request_in_sectors_with_4k_blocks(void)
{
	struct harness h;
	struct io_uring_sqe *sqe;
	struct ublksrv_io_cmd cmd;

	setup(&h, 4096);
	h.descs[3] = (struct ublksrv_io_desc){
		.op_flags = UBLK_IO_OP_WRITE | UBLK_IO_F_FUA,
		.nr_sectors = 16, .start_sector = 8,
	};
	seen_calls = 0;
	sqe = deliver(&h, 3, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 1);
	CU_ASSERT_EQUAL(seen.op, UBT_OP_WRITE);
	CU_ASSERT_EQUAL(seen.flags, UBT_IO_FUA);
	CU_ASSERT_EQUAL(seen.sector, 8);
	CU_ASSERT_EQUAL(seen.nr_sectors, 16);
	CU_ASSERT_EQUAL(seen.iovcnt, 1);
	CU_ASSERT_EQUAL(seen.iov->iov_len, 8192);
	CU_ASSERT_PTR_EQUAL(seen.iov->iov_base, ubt_queue_buf(&h.uq.q, 3));
	/* Completed inline: a COMMIT_AND_FETCH with the byte count. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->opcode, IORING_OP_URING_CMD);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107521U);
	CU_ASSERT_EQUAL(sqe->flags & IOSQE_FIXED_FILE, IOSQE_FIXED_FILE);
	CU_ASSERT_EQUAL(sqe->user_data, UBT_UD(UD_KIND_CMD, 3));
	memcpy(&cmd, sqe->cmd, sizeof(cmd));
	CU_ASSERT_EQUAL(cmd.q_id, 2);
	CU_ASSERT_EQUAL(cmd.tag, 3);
	CU_ASSERT_EQUAL(cmd.result, 8192);
	CU_ASSERT_EQUAL(cmd.addr, (uint64_t)(uintptr_t)ubt_queue_buf(&h.uq.q, 3));
	CU_ASSERT_EQUAL(h.uq.cmd_inflight, 4);
	teardown(&h);
}

static void test_discard_and_flush(void)
{
	struct harness h;

	setup(&h, 512);
	h.descs[0] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_DISCARD,
					       .nr_sectors = 2048, .start_sector = 4096 };
	deliver(&h, 0, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen.op, UBT_OP_DISCARD);
	CU_ASSERT_EQUAL(seen.sector, 4096);
	CU_ASSERT_EQUAL(seen.nr_sectors, 2048);
	CU_ASSERT_PTR_NULL(seen.iov);
	h.descs[1] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_FLUSH };
	deliver(&h, 1, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen.op, UBT_OP_FLUSH);
	teardown(&h);
}

static void test_unsupported_op_fails(void)
{
	struct harness h;
	struct io_uring_sqe *sqe;
	struct ublksrv_io_cmd cmd;

	setup(&h, 512);
	h.descs[2] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_WRITE_SAME, .nr_sectors = 8 };
	seen_calls = 0;
	sqe = deliver(&h, 2, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	memcpy(&cmd, sqe->cmd, sizeof(cmd));
	CU_ASSERT_EQUAL(cmd.result, -EOPNOTSUPP);
	teardown(&h);
}

static void test_abort_stops_the_tag(void)
{
	struct harness h;

	setup(&h, 512);
	seen_calls = 0;
	CU_ASSERT_PTR_NULL(deliver(&h, 1, -ENODEV));
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_EQUAL(h.uq.cmd_inflight, 3);
	teardown(&h);
}

/*
 * Zero copy: the request's data is offset 0 of the pages the kernel
 * registered at index = tag; every FETCH and COMMIT_AND_FETCH names that
 * slot in sqe->addr, with the fallback flag, and carries no buffer address.
 */
static void test_zero_copy_commands(void)
{
	struct harness h;
	struct io_uring_sqe *sqe;

	setup_mode(&h, 512, UBT_COPY_ZERO_COPY);
	h.descs[3] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_READ, .nr_sectors = 8,
					       .start_sector = 64 };
	seen_calls = 0;
	sqe = deliver(&h, 3, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 1);
	CU_ASSERT_EQUAL((uintptr_t)seen.iov->iov_base, 0);
	CU_ASSERT_EQUAL(seen.iov->iov_len, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107521U);
	CU_ASSERT_EQUAL(cmd_of(sqe).addr, 0);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, 4096);
	CU_ASSERT_EQUAL(sqe->addr, 3 | (UBLK_AUTO_BUF_REG_FALLBACK << 16));
	CU_ASSERT_EQUAL(sqe->user_data, UBT_UD(UD_KIND_CMD, 3));
	/* The fallback's test hook names a slot past the table, which the kernel refuses. */
	h.uq.force_reg_fallback = true;
	h.descs[2] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_FLUSH };
	sqe = deliver(&h, 2, UBLK_IO_RES_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->addr, (4 + 2) | (UBLK_AUTO_BUF_REG_FALLBACK << 16));
	teardown(&h);
}

/*
 * When the kernel could not register the pages (NEED_REG_BUF), we register
 * them at the tag's slot, serve the request, then unregister and commit.
 */
static void test_zero_copy_fallback_registers(void)
{
	struct harness h;
	struct io_uring_sqe *sqe;

	setup_mode(&h, 512, UBT_COPY_ZERO_COPY);
	h.descs[1] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_WRITE |
							   UBLK_IO_F_NEED_REG_BUF,
					       .nr_sectors = 2, .start_sector = 10 };
	seen_calls = 0;
	sqe = deliver(&h, 1, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107523U);	/* UBLK_U_IO_REGISTER_IO_BUF */
	CU_ASSERT_EQUAL(cmd_of(sqe).tag, 1);
	CU_ASSERT_EQUAL(cmd_of(sqe).addr, 1);		/* the buffer-table index */
	CU_ASSERT_EQUAL(sqe->user_data, UBT_UD(UD_KIND_REG, 1));
	CU_ASSERT_EQUAL(h.uq.cmd_inflight, 4);
	/* Registered: the request runs and completes inline. */
	sqe = deliver_kind(&h, UD_KIND_REG, 1, 0);
	CU_ASSERT_EQUAL(seen_calls, 1);
	CU_ASSERT_EQUAL(seen.sector, 10);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107521U);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, 1024);
	sqe = queued(&h, 1);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107524U);	/* UBLK_U_IO_UNREGISTER_IO_BUF */
	CU_ASSERT_EQUAL(cmd_of(sqe).addr, 1);
	CU_ASSERT_EQUAL(h.tag_state[1], 0);
	CU_ASSERT_EQUAL(h.uq.cmd_inflight, 5);		/* the commit and the unregister */
	/* A failed registration fails the request rather than touching other memory. */
	seen_calls = 0;
	sqe = deliver_kind(&h, UD_KIND_REG, 2, -EBUSY);
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, -EIO);
	teardown(&h);
}

/*
 * User copy: a WRITE's data is read from /dev/ublkcN (fixed file 0) at the
 * tag's offset before the tree sees it; a READ's result is written there
 * before the commit, which carries the byte count.
 */
static void test_user_copy(void)
{
	struct harness h;
	struct io_uring_sqe *sqe;
	uint64_t pos = UBLKSRV_IO_BUF_OFFSET + (2ULL << 41) + (3ULL << 25);

	setup_mode(&h, 512, UBT_COPY_USER_COPY);
	h.descs[3] = (struct ublksrv_io_desc){ .op_flags = UBLK_IO_OP_WRITE, .nr_sectors = 4,
					       .start_sector = 0 };
	seen_calls = 0;
	sqe = deliver(&h, 3, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
	CU_ASSERT_EQUAL(sqe->opcode, IORING_OP_READ);
	CU_ASSERT_EQUAL(sqe->fd, 0);
	CU_ASSERT(sqe->flags & IOSQE_FIXED_FILE);
	CU_ASSERT_EQUAL(sqe->off, pos);
	CU_ASSERT_EQUAL(sqe->len, 2048);
	CU_ASSERT_EQUAL(sqe->addr, (uint64_t)(uintptr_t)ubt_queue_buf(&h.uq.q, 3));
	/* A short copy fails the request. */
	sqe = deliver_kind(&h, UD_KIND_COPY_IN, 3, 1024);
	CU_ASSERT_EQUAL(seen_calls, 0);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, -EIO);
	sqe = deliver_kind(&h, UD_KIND_COPY_IN, 3, 2048);
	CU_ASSERT_EQUAL(seen_calls, 1);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, 2048);
	CU_ASSERT_EQUAL(cmd_of(sqe).addr, 0);
	/* A READ: served into the tag buffer, then copied out, then committed. */
	h.descs[3].op_flags = UBLK_IO_OP_READ;
	sqe = deliver(&h, 3, UBLK_IO_RES_OK);
	CU_ASSERT_EQUAL(seen_calls, 2);
	CU_ASSERT_EQUAL(sqe->opcode, IORING_OP_WRITE);
	CU_ASSERT_EQUAL(sqe->off, pos);
	CU_ASSERT_EQUAL(sqe->len, 2048);
	sqe = deliver_kind(&h, UD_KIND_COPY_OUT, 3, 2048);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107521U);
	CU_ASSERT_EQUAL(cmd_of(sqe).result, 2048);
	teardown(&h);
}

int main(void)
{
	static const struct ut_case cases[] = {
		UT(test_descriptor_offsets), UT(test_flags),
		UT(test_request_in_sectors_with_4k_blocks), UT(test_discard_and_flush),
		UT(test_unsupported_op_fails), UT(test_abort_stops_the_tag),
		UT(test_zero_copy_commands), UT(test_zero_copy_fallback_registers),
		UT(test_user_copy),
	};

	capture.abi = UBT_TARGET_ABI;
	ubt_register_target(&capture);
	return ut_run("frontend_ublk", cases, sizeof(cases) / sizeof(cases[0]));
}
