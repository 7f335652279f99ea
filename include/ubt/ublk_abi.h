/* SPDX-License-Identifier: MIT */
/*
 * The kernel ublk driver's user ABI, as far as ublk-target uses it.
 *
 * Debian bookworm ships <linux/ublk_cmd.h> from Linux 6.1, which lacks the
 * ioctl-encoded opcodes, GET_FEATURES and the newer flags, so we keep our own
 * copy of the documented constants and structures.  Never include the
 * system header next to this one.
 */
#ifndef UBT_UBLK_ABI_H
#define UBT_UBLK_ABI_H

#include <stdint.h>
#include <linux/ioctl.h>

/* Control commands: legacy numbers; the ioctl encoding wraps the same nr. */
#define UBLK_CMD_GET_QUEUE_AFFINITY	0x01
#define UBLK_CMD_GET_DEV_INFO		0x02
#define UBLK_CMD_ADD_DEV		0x04
#define UBLK_CMD_DEL_DEV		0x05
#define UBLK_CMD_START_DEV		0x06
#define UBLK_CMD_STOP_DEV		0x07
#define UBLK_CMD_SET_PARAMS		0x08
#define UBLK_CMD_GET_PARAMS		0x09
#define UBLK_CMD_START_USER_RECOVERY	0x10
#define UBLK_CMD_END_USER_RECOVERY	0x11
#define UBLK_CMD_GET_DEV_INFO2		0x12
#define UBLK_CMD_GET_FEATURES		0x13
#define UBLK_CMD_DEL_DEV_ASYNC		0x14
/* Linux 6.16+: data[0] is the new size in sectors (UBLK_F_UPDATE_SIZE). */
#define UBLK_CMD_UPDATE_SIZE		0x15
/*
 * Linux 6.16+ (UBLK_F_QUIESCE): stop giving the server requests (they wait
 * in the kernel for the next one) and cancel its waiting fetches;
 * data[0] is how long to wait for the queues, in ms.
 */
#define UBLK_CMD_QUIESCE_DEV		0x16
/* Linux 7.0+ (UBLK_F_SAFE_STOP_DEV): STOP_DEV, unless the disk is open (-EBUSY). */
#define UBLK_CMD_TRY_STOP_DEV		0x17

/* I/O commands, issued on /dev/ublkcN. */
#define UBLK_IO_FETCH_REQ		0x20
#define UBLK_IO_COMMIT_AND_FETCH_REQ	0x21
#define UBLK_IO_NEED_GET_DATA		0x22
#define UBLK_IO_REGISTER_IO_BUF		0x23	/* zero copy, Linux 6.15+ */
#define UBLK_IO_UNREGISTER_IO_BUF	0x24

#define UBLK_IO_RES_OK			0
#define UBLK_IO_RES_NEED_GET_DATA	1
/* UBLK_IO_RES_ABORT is -ENODEV: the device is going away, do not re-fetch. */

#define UBLK_MAX_QUEUE_DEPTH		4096
#define UBLK_MAX_NR_QUEUES		4096
#define UBLK_IO_BUF_BITS		25	/* one I/O buffer is at most 32 MiB */
#define UBLKSRV_CMD_BUF_OFFSET		0

/*
 * User copy (UBLK_F_USER_COPY): the data of (queue, tag) is read or written
 * with pread/pwrite on /dev/ublkcN at this offset.
 */
#define UBLKSRV_IO_BUF_OFFSET		0x80000000ULL
#define UBLK_TAG_OFF			UBLK_IO_BUF_BITS
#define UBLK_QID_OFF			(UBLK_TAG_OFF + 16)
static inline uint64_t ublk_user_copy_pos(unsigned int q_id, unsigned int tag)
{
	return UBLKSRV_IO_BUF_OFFSET + ((uint64_t)q_id << UBLK_QID_OFF) +
	       ((uint64_t)tag << UBLK_TAG_OFF);
}

/*
 * Automatic buffer registration (UBLK_F_AUTO_BUF_REG, Linux 6.16+): the
 * slot of the ring's buffer table where the kernel registers the request's
 * pages, packed into sqe->addr of every FETCH and COMMIT_AND_FETCH.
 */
#define UBLK_AUTO_BUF_REG_FALLBACK	(1U << 0)
static inline uint64_t ublk_auto_buf_reg_addr(uint16_t index, uint8_t flags)
{
	return (uint64_t)index | ((uint64_t)flags << 16);
}

/* Feature flags (ADD_DEV dev_info.flags, GET_FEATURES). */
#define UBLK_F_SUPPORT_ZERO_COPY	(1ULL << 0)
#define UBLK_F_URING_CMD_COMP_IN_TASK	(1ULL << 1)
#define UBLK_F_NEED_GET_DATA		(1ULL << 2)
#define UBLK_F_USER_RECOVERY		(1ULL << 3)
#define UBLK_F_USER_RECOVERY_REISSUE	(1ULL << 4)
#define UBLK_F_UNPRIVILEGED_DEV		(1ULL << 5)
#define UBLK_F_CMD_IOCTL_ENCODE		(1ULL << 6)
#define UBLK_F_USER_COPY		(1ULL << 7)
#define UBLK_F_ZONED			(1ULL << 8)
#define UBLK_F_USER_RECOVERY_FAIL_IO	(1ULL << 9)
#define UBLK_F_UPDATE_SIZE		(1ULL << 10)
#define UBLK_F_AUTO_BUF_REG		(1ULL << 11)
#define UBLK_F_QUIESCE			(1ULL << 12)
#define UBLK_F_PER_IO_DAEMON		(1ULL << 13)
#define UBLK_F_BUF_REG_OFF_DAEMON	(1ULL << 14)
#define UBLK_F_BATCH_IO			(1ULL << 15)
#define UBLK_F_INTEGRITY		(1ULL << 16)
#define UBLK_F_SAFE_STOP_DEV		(1ULL << 17)
#define UBLK_F_NO_AUTO_PART_SCAN	(1ULL << 18)
#define UBLK_F_SHMEM_ZC			(1ULL << 19)

/* Device states (dev_info.state). */
#define UBLK_S_DEV_DEAD			0
#define UBLK_S_DEV_LIVE			1
#define UBLK_S_DEV_QUIESCED		2
#define UBLK_S_DEV_FAIL_IO		3

struct ublksrv_ctrl_cmd {
	uint32_t dev_id;
	uint16_t queue_id;	/* (uint16_t)-1 when not per queue */
	uint16_t len;
	uint64_t addr;
	uint64_t data[1];
	uint16_t dev_path_len;
	uint16_t pad;
	uint32_t reserved;
};

struct ublksrv_ctrl_dev_info {
	uint16_t nr_hw_queues;
	uint16_t queue_depth;
	uint16_t state;
	uint16_t pad0;
	uint32_t max_io_buf_bytes;
	uint32_t dev_id;
	int32_t ublksrv_pid;
	uint32_t pad1;
	uint64_t flags;
	uint64_t ublksrv_flags;
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint64_t reserved1;
	uint64_t reserved2;
};

/* Request operations in ublksrv_io_desc.op_flags bits 0-7. */
#define UBLK_IO_OP_READ			0
#define UBLK_IO_OP_WRITE		1
#define UBLK_IO_OP_FLUSH		2
#define UBLK_IO_OP_DISCARD		3
#define UBLK_IO_OP_WRITE_SAME		4
#define UBLK_IO_OP_WRITE_ZEROES		5

/* Request flags in op_flags bits 8-31. */
#define UBLK_IO_F_FAILFAST_DEV		(1U << 8)
#define UBLK_IO_F_FAILFAST_TRANSPORT	(1U << 9)
#define UBLK_IO_F_FAILFAST_DRIVER	(1U << 10)
#define UBLK_IO_F_META			(1U << 11)
#define UBLK_IO_F_FUA			(1U << 13)
#define UBLK_IO_F_NOUNMAP		(1U << 15)
#define UBLK_IO_F_SWAP			(1U << 16)
#define UBLK_IO_F_NEED_REG_BUF		(1U << 17)	/* auto registration failed */

struct ublksrv_io_desc {
	uint32_t op_flags;
	uint32_t nr_sectors;
	uint64_t start_sector;
	uint64_t addr;
};

struct ublksrv_io_cmd {
	uint16_t q_id;
	uint16_t tag;
	int32_t result;
	uint64_t addr;
};

#define UBLK_ATTR_READ_ONLY		(1U << 0)
#define UBLK_ATTR_ROTATIONAL		(1U << 1)
#define UBLK_ATTR_VOLATILE_CACHE	(1U << 2)
#define UBLK_ATTR_FUA			(1U << 3)

struct ublk_param_basic {
	uint32_t attrs;
	uint8_t logical_bs_shift;
	uint8_t physical_bs_shift;
	uint8_t io_opt_shift;
	uint8_t io_min_shift;
	uint32_t max_sectors;
	uint32_t chunk_sectors;
	uint64_t dev_sectors;
	uint64_t virt_boundary_mask;
};

struct ublk_param_discard {
	uint32_t discard_alignment;
	uint32_t discard_granularity;
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	uint16_t max_discard_segments;
	uint16_t reserved0;
};

struct ublk_param_devt {
	uint32_t char_major;
	uint32_t char_minor;
	uint32_t disk_major;
	uint32_t disk_minor;
};

struct ublk_param_zoned {
	uint32_t max_open_zones;
	uint32_t max_active_zones;
	uint32_t max_zone_append_sectors;
	uint8_t reserved[20];
};

/* Linux 6.15+: the memory alignment the block layer guarantees, as a mask. */
struct ublk_param_dma_align {
	uint32_t alignment;
	uint8_t pad[4];
};

/* Linux 6.15+: scatter-gather limits of a request. */
struct ublk_param_segment {
	uint64_t seg_boundary_mask;
	uint32_t max_segment_size;
	uint16_t max_segments;
	uint8_t pad[2];
};

#define UBLK_PARAM_TYPE_BASIC		(1U << 0)
#define UBLK_PARAM_TYPE_DISCARD		(1U << 1)
#define UBLK_PARAM_TYPE_DEVT		(1U << 2)
#define UBLK_PARAM_TYPE_ZONED		(1U << 3)
#define UBLK_PARAM_TYPE_DMA_ALIGN	(1U << 4)
#define UBLK_PARAM_TYPE_SEGMENT		(1U << 5)

/*
 * Older kernels take a prefix of this (len says how much we send); the
 * fields past what a kernel knows are ignored together with their types bit.
 */
struct ublk_params {
	uint32_t len;
	uint32_t types;
	struct ublk_param_basic basic;
	struct ublk_param_discard discard;
	struct ublk_param_devt devt;
	struct ublk_param_zoned zoned;
	struct ublk_param_dma_align dma;
	struct ublk_param_segment seg;
};

/* ioctl encoding of the commands (UBLK_F_CMD_IOCTL_ENCODE). */
#define UBLK_U_CTRL(dir, nr)	_IOC(dir, 'u', nr, sizeof(struct ublksrv_ctrl_cmd))
#define UBLK_U_IO(nr)		_IOWR('u', nr, struct ublksrv_io_cmd)

#endif
