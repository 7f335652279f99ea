// SPDX-License-Identifier: MIT
/*
 * The ublk frontend of one queue: its thread, the descriptor array shared
 * with the kernel, and the FETCH / COMMIT_AND_FETCH commands on the same
 * ring as the backing I/O.
 *
 * The descriptor array of queue q sits at
 *   q * round_up(UBLK_MAX_QUEUE_DEPTH * sizeof(desc), page)
 * in /dev/ublkcN whatever the configured depth: the kernel lays the queues
 * out by the maximum depth.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend_ublk.h"
#include "ubt/tree.h"
#include "ubt/util.h"

#define UD_KIND_CMD	1

static size_t desc_offset(unsigned int q_id)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t per_queue = UBT_ROUND_UP(UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc), page);

	return UBLKSRV_CMD_BUF_OFFSET + q_id * per_queue;
}

static void queue_cmd(struct ubt_ublk_queue *uq, unsigned int tag, unsigned int nr, int result)
{
	struct ubt_queue *q = &uq->q;
	struct io_uring_sqe *sqe = ubt_queue_sqe(q);
	struct ublksrv_io_cmd cmd = {
		.q_id = (uint16_t)q->q_id,
		.tag = (uint16_t)tag,
		.result = result,
		.addr = (uint64_t)(uintptr_t)q->tags[tag].buf,
	};

	ubt_prep_uring_cmd(sqe, 0, ubt_io_cmd_op(uq->dev_flags, nr), &cmd, sizeof(cmd));
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = UBT_UD(UD_KIND_CMD, tag);
	uq->cmd_inflight++;
}

static void ublk_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	struct ubt_ublk_queue *uq = q->fe_priv;

	queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, res);
}

static unsigned int io_flags(uint32_t op_flags)
{
	unsigned int f = 0;

	if (op_flags & UBLK_IO_F_FUA)
		f |= UBT_IO_FUA;
	if (op_flags & UBLK_IO_F_NOUNMAP)
		f |= UBT_IO_NOUNMAP;
	return f;
}

static void ublk_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	struct ubt_ublk_queue *uq = q->fe_priv;
	unsigned int tag = UBT_UD_TAG(cqe->user_data);
	const struct ublksrv_io_desc *d;
	unsigned int op;

	uq->cmd_inflight--;
	if (ubt_unlikely(cqe->res != UBLK_IO_RES_OK)) {
		/* -ENODEV: the device is stopping; anything else: give up the tag too. */
		return;
	}
	d = &uq->descs[tag];
	op = d->op_flags & 0xff;
	switch (op) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
	case UBLK_IO_OP_FLUSH:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		ubt_queue_request(q, tag, op, io_flags(d->op_flags), d->start_sector,
				  d->nr_sectors);
		break;
	default:
		queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, -EOPNOTSUPP);
		break;
	}
}

static const struct ubt_frontend_ops ublk_ops = {
	.complete = ublk_complete,
	.cqe = ublk_cqe,
};

/*
 * Run the queue on one CPU of the set the kernel maps to it: the thread
 * stays cache-hot and the scheduler keeps the submitters elsewhere.  With
 * several queues sharing a set, they spread over it by queue id.
 */
static void pin_to_one_cpu(struct ubt_ublk_queue *uq)
{
	unsigned int n = (unsigned int)CPU_COUNT(&uq->cpus), pick, cpu;
	cpu_set_t one;

	if (!n)
		return;
	pick = uq->q_id % n;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &uq->cpus))
			continue;
		if (pick-- == 0)
			break;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
}

static int queue_setup(struct ubt_ublk_queue *uq)
{
	struct ubt_queue_opts qo = {
		.q_id = uq->q_id,
		.depth = uq->depth,
		.ring_flags = IORING_SETUP_SQE128,
		/* Where the kernel has it: completions run only when we reap. */
		.ring_flags_optional = IORING_SETUP_DEFER_TASKRUN,
		.frontend_fd = uq->cdev_fd,
	};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int tag;
	int ret;

	pin_to_one_cpu(uq);
	uq->descs_len = UBT_ROUND_UP(uq->depth * sizeof(struct ublksrv_io_desc), page);
	uq->descs = mmap(NULL, uq->descs_len, PROT_READ, MAP_SHARED | MAP_POPULATE,
			 uq->cdev_fd, (off_t)desc_offset(uq->q_id));
	if (uq->descs == MAP_FAILED) {
		uq->descs = NULL;
		return -errno;
	}
	ret = ubt_queue_init(&uq->q, uq->tree, &qo, &ublk_ops, uq);
	if (ret)
		return ret;
	uq->q_ready = true;
	for (tag = 0; tag < uq->depth; tag++)
		queue_cmd(uq, tag, UBLK_IO_FETCH_REQ, 0);
	ret = io_uring_submit(&uq->q.ring);
	return ret < 0 ? ret : 0;
}

static void queue_teardown(struct ubt_ublk_queue *uq)
{
	if (uq->q_ready)
		ubt_queue_exit(&uq->q);
	uq->q_ready = false;
	if (uq->descs)
		munmap(uq->descs, uq->descs_len);
	uq->descs = NULL;
}

void *ubt_ublk_queue_thread(void *arg)
{
	struct ubt_ublk_queue *uq = arg;
	int ret;

	ret = queue_setup(uq);
	uq->ready(uq, ret);
	if (ret)
		goto out;
	/* A queue is done only when no command and no target I/O is in flight. */
	while (uq->cmd_inflight || uq->q.target_inflight) {
		ret = ubt_queue_poll(&uq->q, 1);
		if (ret) {
			uq->result = ret;
			break;
		}
	}
out:
	queue_teardown(uq);
	uq->exited(uq);
	return NULL;
}
