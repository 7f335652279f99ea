/* SPDX-License-Identifier: MIT */
/* The ublk control path: commands on /dev/ublk-control through io_uring. */
#ifndef UBT_UBLK_CTRL_H
#define UBT_UBLK_CTRL_H

#include <liburing.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ubt/ublk_abi.h"

#define UBT_CTRL_DEV	"/dev/ublk-control"
/* How long a control command may take before it fails with -ETIMEDOUT. */
#define UBT_CTRL_TIMEOUT_S	30

struct ubt_ctrl {
	int fd;
	struct io_uring ring;
	uint64_t features;	/* GET_FEATURES, 0 on kernels without it */
	bool ioctl_encode;	/* use UBLK_U_CMD_* rather than the legacy numbers */
	bool timed_out;		/* a command never completed: the ring takes no other */
};

/* The bound on each command: $UBT_CTRL_TIMEOUT_S (seconds) or UBT_CTRL_TIMEOUT_S. */
unsigned int ubt_ctrl_timeout_s(void);
/* strerror(-ret), or what a timed-out command means. */
const char *ubt_ctrl_strerror(int ret);

/* Open the control device and probe its features: -ENOENT when ublk_drv is not loaded. */
int ubt_ctrl_open(struct ubt_ctrl *c);
void ubt_ctrl_close(struct ubt_ctrl *c);

int ubt_ctrl_add_dev(struct ubt_ctrl *c, struct ublksrv_ctrl_dev_info *info);
int ubt_ctrl_del_dev(struct ubt_ctrl *c, uint32_t dev_id);
/*
 * Remove the device without waiting for its disk's last user (6.9+:
 * DEL_DEV_ASYNC), then wait up to limit_ms for its id to be free: 0 once
 * it is, -EBUSY while a user (a mount) still holds it.
 */
int ubt_ctrl_del_dev_within(struct ubt_ctrl *c, uint32_t dev_id, unsigned int limit_ms);
int ubt_ctrl_start_dev(struct ubt_ctrl *c, uint32_t dev_id, pid_t pid);
int ubt_ctrl_stop_dev(struct ubt_ctrl *c, uint32_t dev_id);
/* TRY_STOP_DEV (Linux 7.0+, UBLK_F_SAFE_STOP_DEV): -EBUSY while the disk is open. */
int ubt_ctrl_try_stop_dev(struct ubt_ctrl *c, uint32_t dev_id);
/* Linux 6.16+: the disk's capacity, in 512-byte sectors, while it runs. */
int ubt_ctrl_update_size(struct ubt_ctrl *c, uint32_t dev_id, uint64_t sectors);
/* Linux 6.16+: hold the device's requests for the next server (see ublk_abi.h). */
int ubt_ctrl_quiesce_dev(struct ubt_ctrl *c, uint32_t dev_id, unsigned int timeout_ms);
int ubt_ctrl_set_params(struct ubt_ctrl *c, uint32_t dev_id, struct ublk_params *p);
int ubt_ctrl_get_info(struct ubt_ctrl *c, uint32_t dev_id, struct ublksrv_ctrl_dev_info *info);
int ubt_ctrl_get_affinity(struct ubt_ctrl *c, uint32_t dev_id, uint16_t q_id, cpu_set_t *set);
int ubt_ctrl_get_params(struct ubt_ctrl *c, uint32_t dev_id, struct ublk_params *p);
/* START_USER_RECOVERY: -EBUSY while the old server's /dev/ublkcN is still open. */
int ubt_ctrl_start_recovery(struct ubt_ctrl *c, uint32_t dev_id);
/* END_USER_RECOVERY: pid must be the process that opened /dev/ublkcN and fetched every tag. */
int ubt_ctrl_end_recovery(struct ubt_ctrl *c, uint32_t dev_id, pid_t pid);

/* The I/O command opcode to use on /dev/ublkcN for this device's flags. */
uint32_t ubt_io_cmd_op(uint64_t dev_flags, unsigned int nr);

/* Fill an SQE128 for a URING_CMD: liburing 2.3 has no helper for it. */
void ubt_prep_uring_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
			const void *payload, size_t len);

const char *ubt_dev_state_name(unsigned int state);

#endif
