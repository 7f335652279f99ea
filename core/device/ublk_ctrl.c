// SPDX-License-Identifier: MIT
/*
 * Control commands on /dev/ublk-control: one small SQE128 ring, one
 * synchronous submit-and-wait per command.  GET_FEATURES (Linux 6.5+)
 * decides between the ioctl-encoded opcodes and the legacy numbers.
 *
 * Every command is bounded (UBT_CTRL_TIMEOUT_S, or $UBT_CTRL_TIMEOUT_S):
 * a driver that never completes one (some kernels oops in ADD_DEV and
 * leave it pending) must not hang the tool.  After a timeout the ring
 * still holds that command, so it takes no other: each later one fails
 * with -ETIMEDOUT at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubt/ublk_ctrl.h"
#include "ubt/util.h"

void ubt_prep_uring_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
			const void *payload, size_t len)
{
	/* The 64-byte SQE head plus the 80-byte command area of SQE128. */
	memset(sqe, 0, sizeof(*sqe) + 64);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, payload, len);
}

/* Commands that only read are _IOR; the rest are _IOWR. */
static uint32_t ctrl_op(const struct ubt_ctrl *c, unsigned int nr)
{
	unsigned int dir = _IOC_READ | _IOC_WRITE;

	if (!c->ioctl_encode)
		return nr;
	switch (nr) {
	case UBLK_CMD_GET_QUEUE_AFFINITY:
	case UBLK_CMD_GET_DEV_INFO:
	case UBLK_CMD_GET_PARAMS:
	case UBLK_CMD_GET_DEV_INFO2:
	case UBLK_CMD_GET_FEATURES:
	case UBLK_CMD_DEL_DEV_ASYNC:
		dir = _IOC_READ;
		break;
	}
	return UBLK_U_CTRL(dir, nr);
}

uint32_t ubt_io_cmd_op(uint64_t dev_flags, unsigned int nr)
{
	if (dev_flags & UBLK_F_CMD_IOCTL_ENCODE)
		return UBLK_U_IO(nr);
	return nr;
}

unsigned int ubt_ctrl_timeout_s(void)
{
	const char *e = getenv("UBT_CTRL_TIMEOUT_S");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 86400 ? (unsigned int)v : UBT_CTRL_TIMEOUT_S;
}

const char *ubt_ctrl_strerror(int ret)
{
	static __thread char buf[96];

	if (ret != -ETIMEDOUT)
		return strerror(-ret);
	snprintf(buf, sizeof(buf), "no answer from the ublk driver within %u s",
		 ubt_ctrl_timeout_s());
	return buf;
}

static int ctrl_cmd(struct ubt_ctrl *c, unsigned int nr, struct ublksrv_ctrl_cmd *cmd)
{
	struct __kernel_timespec ts = { .tv_sec = ubt_ctrl_timeout_s() };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	if (c->timed_out)
		return -ETIMEDOUT;
	sqe = io_uring_get_sqe(&c->ring);
	if (!sqe)
		return -EBUSY;
	ubt_prep_uring_cmd(sqe, c->fd, ctrl_op(c, nr), cmd, sizeof(*cmd));
	ret = io_uring_submit(&c->ring);
	if (ret < 0)
		return ret;
	do {
		ret = io_uring_wait_cqe_timeout(&c->ring, &cqe, &ts);
	} while (ret == -EINTR);
	if (ret == -ETIME) {
		c->timed_out = true;
		return -ETIMEDOUT;
	}
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	return ret;
}

static struct ublksrv_ctrl_cmd dev_cmd(uint32_t dev_id)
{
	struct ublksrv_ctrl_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = dev_id;
	cmd.queue_id = (uint16_t)-1;
	return cmd;
}

int ubt_ctrl_open(struct ubt_ctrl *c)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd((uint32_t)-1);
	uint64_t features = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = open(UBT_CTRL_DEV, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	ret = io_uring_queue_init(4, &c->ring, IORING_SETUP_SQE128);
	if (ret) {
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	/* GET_FEATURES exists only in the ioctl encoding. */
	c->ioctl_encode = true;
	cmd.addr = (uint64_t)(uintptr_t)&features;
	cmd.len = sizeof(features);
	ret = ctrl_cmd(c, UBLK_CMD_GET_FEATURES, &cmd);
	if (ret < 0) {
		/* Before Linux 6.5: legacy opcodes, no feature probe. */
		c->ioctl_encode = false;
		c->features = 0;
	} else {
		c->features = features;
		c->ioctl_encode = !!(features & UBLK_F_CMD_IOCTL_ENCODE);
	}
	return 0;
}

void ubt_ctrl_close(struct ubt_ctrl *c)
{
	if (c->fd < 0)
		return;
	io_uring_queue_exit(&c->ring);
	close(c->fd);
	c->fd = -1;
}

int ubt_ctrl_add_dev(struct ubt_ctrl *c, struct ublksrv_ctrl_dev_info *info)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(info->dev_id);

	cmd.addr = (uint64_t)(uintptr_t)info;
	cmd.len = sizeof(*info);
	return ctrl_cmd(c, UBLK_CMD_ADD_DEV, &cmd);
}

/* A command that names only the device, and with data[0] a pid (0: none). */
static int dev_pid_cmd(struct ubt_ctrl *c, unsigned int nr, uint32_t dev_id, pid_t pid)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	cmd.data[0] = (uint64_t)pid;
	return ctrl_cmd(c, nr, &cmd);
}

int ubt_ctrl_del_dev(struct ubt_ctrl *c, uint32_t dev_id)
{
	return dev_pid_cmd(c, UBLK_CMD_DEL_DEV, dev_id, 0);
}

struct id_wait {
	struct ubt_ctrl *c;
	uint32_t dev_id;
};

static int id_taken(void *arg)
{
	struct id_wait *w = arg;
	struct ublksrv_ctrl_dev_info info;
	int ret = ubt_ctrl_get_info(w->c, w->dev_id, &info);

	return !ret ? -EBUSY : ret == -ENODEV || ret == -ENOENT ? 0 : ret;
}

/*
 * DEL_DEV waits until the last user of the disk lets go: a mount can hold
 * it forever.  DEL_DEV_ASYNC removes the disk just the same and returns;
 * the id is freed when that last user goes, which is waited for here, up
 * to limit_ms (a daemon's rings usually let go within milliseconds).
 */
int ubt_ctrl_del_dev_within(struct ubt_ctrl *c, uint32_t dev_id, unsigned int limit_ms)
{
	struct id_wait w = { .c = c, .dev_id = dev_id };
	int ret = dev_pid_cmd(c, UBLK_CMD_DEL_DEV_ASYNC, dev_id, 0);

	if (ret == -EOPNOTSUPP || ret == -EINVAL)
		return ubt_ctrl_del_dev(c, dev_id);	/* before 6.9 */
	if (ret)
		return ret;
	return ubt_retry_while_busy(id_taken, &w, limit_ms);
}

int ubt_ctrl_start_dev(struct ubt_ctrl *c, uint32_t dev_id, pid_t pid)
{
	return dev_pid_cmd(c, UBLK_CMD_START_DEV, dev_id, pid);
}

int ubt_ctrl_stop_dev(struct ubt_ctrl *c, uint32_t dev_id)
{
	return dev_pid_cmd(c, UBLK_CMD_STOP_DEV, dev_id, 0);
}

/* SET_PARAMS or GET_PARAMS: the whole struct either way. */
static int params_cmd(struct ubt_ctrl *c, unsigned int nr, uint32_t dev_id, struct ublk_params *p)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	p->len = sizeof(*p);
	cmd.addr = (uint64_t)(uintptr_t)p;
	cmd.len = sizeof(*p);
	return ctrl_cmd(c, nr, &cmd);
}

int ubt_ctrl_try_stop_dev(struct ubt_ctrl *c, uint32_t dev_id)
{
	return dev_pid_cmd(c, UBLK_CMD_TRY_STOP_DEV, dev_id, 0);
}

int ubt_ctrl_update_size(struct ubt_ctrl *c, uint32_t dev_id, uint64_t sectors)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	cmd.data[0] = sectors;
	return ctrl_cmd(c, UBLK_CMD_UPDATE_SIZE, &cmd);
}

int ubt_ctrl_quiesce_dev(struct ubt_ctrl *c, uint32_t dev_id, unsigned int timeout_ms)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	cmd.data[0] = timeout_ms;
	return ctrl_cmd(c, UBLK_CMD_QUIESCE_DEV, &cmd);
}

int ubt_ctrl_set_params(struct ubt_ctrl *c, uint32_t dev_id, struct ublk_params *p)
{
	return params_cmd(c, UBLK_CMD_SET_PARAMS, dev_id, p);
}

int ubt_ctrl_get_info(struct ubt_ctrl *c, uint32_t dev_id, struct ublksrv_ctrl_dev_info *info)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	memset(info, 0, sizeof(*info));
	cmd.addr = (uint64_t)(uintptr_t)info;
	cmd.len = sizeof(*info);
	return ctrl_cmd(c, UBLK_CMD_GET_DEV_INFO, &cmd);
}

int ubt_ctrl_get_params(struct ubt_ctrl *c, uint32_t dev_id, struct ublk_params *p)
{
	memset(p, 0, sizeof(*p));
	return params_cmd(c, UBLK_CMD_GET_PARAMS, dev_id, p);
}

int ubt_ctrl_start_recovery(struct ubt_ctrl *c, uint32_t dev_id)
{
	return dev_pid_cmd(c, UBLK_CMD_START_USER_RECOVERY, dev_id, 0);
}

int ubt_ctrl_end_recovery(struct ubt_ctrl *c, uint32_t dev_id, pid_t pid)
{
	return dev_pid_cmd(c, UBLK_CMD_END_USER_RECOVERY, dev_id, pid);
}

int ubt_ctrl_get_affinity(struct ubt_ctrl *c, uint32_t dev_id, uint16_t q_id, cpu_set_t *set)
{
	struct ublksrv_ctrl_cmd cmd = dev_cmd(dev_id);

	CPU_ZERO(set);
	cmd.queue_id = q_id;
	cmd.data[0] = q_id;
	cmd.addr = (uint64_t)(uintptr_t)set;
	cmd.len = sizeof(*set);
	return ctrl_cmd(c, UBLK_CMD_GET_QUEUE_AFFINITY, &cmd);
}

const char *ubt_dev_state_name(unsigned int state)
{
	switch (state) {
	case UBLK_S_DEV_DEAD: return "dead";
	case UBLK_S_DEV_LIVE: return "live";
	case UBLK_S_DEV_QUIESCED: return "quiesced";
	case UBLK_S_DEV_FAIL_IO: return "fail-io";
	}
	return "unknown";
}
