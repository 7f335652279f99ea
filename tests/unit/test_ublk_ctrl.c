// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/device/ublk_ctrl.c and the ABI header: opcode encodings
 * against the kernel's documented values, structure sizes, and the
 * URING_CMD SQE layout.
 */
#include <stddef.h>
#include <string.h>

#include "core/device/ublk_ctrl.c"
#include "ut.h"

static void test_abi_sizes(void)
{
	CU_ASSERT_EQUAL(sizeof(struct ublksrv_ctrl_cmd), 32);
	CU_ASSERT_EQUAL(sizeof(struct ublksrv_ctrl_dev_info), 64);
	CU_ASSERT_EQUAL(sizeof(struct ublksrv_io_desc), 24);
	CU_ASSERT_EQUAL(sizeof(struct ublksrv_io_cmd), 16);
	CU_ASSERT_EQUAL(sizeof(struct ublk_param_basic), 32);
	CU_ASSERT_EQUAL(sizeof(struct ublk_param_discard), 20);
	CU_ASSERT_EQUAL(offsetof(struct ublk_params, basic), 8);
	CU_ASSERT_EQUAL(offsetof(struct ublk_params, discard), 40);
	CU_ASSERT_EQUAL(offsetof(struct ublksrv_ctrl_dev_info, flags), 24);
}

static void test_ioctl_encoded_opcodes(void)
{
	struct ubt_ctrl c = { .ioctl_encode = true };

	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_ADD_DEV), 0xC0207504U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_DEL_DEV), 0xC0207505U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_START_DEV), 0xC0207506U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_STOP_DEV), 0xC0207507U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_SET_PARAMS), 0xC0207508U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_GET_FEATURES), 0x80207513U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_GET_DEV_INFO), 0x80207502U);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_GET_QUEUE_AFFINITY), 0x80207501U);
	CU_ASSERT_EQUAL(ubt_io_cmd_op(UBLK_F_CMD_IOCTL_ENCODE, UBLK_IO_FETCH_REQ), 0xC0107520U);
	CU_ASSERT_EQUAL(ubt_io_cmd_op(UBLK_F_CMD_IOCTL_ENCODE, UBLK_IO_COMMIT_AND_FETCH_REQ),
			0xC0107521U);
}

static void test_legacy_opcodes(void)
{
	struct ubt_ctrl c = { .ioctl_encode = false };

	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_ADD_DEV), 0x04);
	CU_ASSERT_EQUAL(ctrl_op(&c, UBLK_CMD_STOP_DEV), 0x07);
	CU_ASSERT_EQUAL(ubt_io_cmd_op(0, UBLK_IO_FETCH_REQ), 0x20);
	CU_ASSERT_EQUAL(ubt_io_cmd_op(0, UBLK_IO_COMMIT_AND_FETCH_REQ), 0x21);
}

static void test_uring_cmd_layout(void)
{
	unsigned char raw[128];
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)raw;
	struct ublksrv_io_cmd cmd = { .q_id = 3, .tag = 77, .result = -5, .addr = 0x1234 };
	struct ublksrv_io_cmd got;

	memset(raw, 0xff, sizeof(raw));
	ubt_prep_uring_cmd(sqe, 0, 0xC0107521U, &cmd, sizeof(cmd));
	CU_ASSERT_EQUAL(sqe->opcode, IORING_OP_URING_CMD);
	CU_ASSERT_EQUAL(sqe->cmd_op, 0xC0107521U);
	CU_ASSERT_EQUAL(sqe->__pad1, 0);
	CU_ASSERT_EQUAL(sqe->fd, 0);
	CU_ASSERT_EQUAL(sqe->user_data, 0);
	/* The payload starts at the command area, offset 48, and the rest is zero. */
	memcpy(&got, raw + 48, sizeof(got));
	CU_ASSERT_EQUAL(got.q_id, 3);
	CU_ASSERT_EQUAL(got.tag, 77);
	CU_ASSERT_EQUAL(got.result, -5);
	CU_ASSERT_EQUAL(got.addr, 0x1234);
	CU_ASSERT_EQUAL(raw[48 + sizeof(cmd)], 0);
	CU_ASSERT_EQUAL(raw[127], 0);
}

static void test_state_names(void)
{
	CU_ASSERT_STRING_EQUAL(ubt_dev_state_name(UBLK_S_DEV_LIVE), "live");
	CU_ASSERT_STRING_EQUAL(ubt_dev_state_name(UBLK_S_DEV_DEAD), "dead");
	CU_ASSERT_STRING_EQUAL(ubt_dev_state_name(99), "unknown");
}

UT_MAIN("ublk_ctrl", UT(test_abi_sizes), UT(test_ioctl_encoded_opcodes), UT(test_legacy_opcodes),
	UT(test_uring_cmd_layout), UT(test_state_names))
