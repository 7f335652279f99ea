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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend_ublk.h"
#include "../engine/engine.h"
#include "ubt/util.h"

/* user_data kinds of the frontend's SQEs. */
#define UD_KIND_CMD		1	/* FETCH, COMMIT_AND_FETCH */
#define UD_KIND_REG		2	/* REGISTER_IO_BUF (zero-copy fallback) */
#define UD_KIND_UNREG		3	/* UNREGISTER_IO_BUF */
#define UD_KIND_COPY_IN		4	/* user copy: a WRITE's data from the kernel */
#define UD_KIND_COPY_OUT	5	/* user copy: a READ's data to the kernel */

/* tag_state bits */
#define TAG_MANUAL_REG		(1U << 0)	/* we registered the buffer: unregister it */

static size_t desc_offset(unsigned int q_id)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t per_queue = UBT_ROUND_UP(UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc), page);

	return UBLKSRV_CMD_BUF_OFFSET + q_id * per_queue;
}

/* An SQE of the frontend's own; every one is counted until its CQE. */
static struct io_uring_sqe *frontend_sqe(struct ubt_ublk_queue *uq, unsigned int kind,
					 unsigned int tag)
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(&uq->q);

	uq->cmd_inflight++;
	io_uring_sqe_set_data64(sqe, UBT_UD(kind, tag));
	return sqe;
}

static void prep_io_cmd(struct ubt_ublk_queue *uq, struct io_uring_sqe *sqe, unsigned int tag,
			unsigned int nr, int result, uint64_t addr)
{
	if (nr == UBLK_IO_COMMIT_AND_FETCH_REQ)
		uq->busy--;
	struct ublksrv_io_cmd cmd = {
		.q_id = (uint16_t)uq->q_id,
		.tag = (uint16_t)tag,
		.result = result,
		.addr = addr,
	};
	uint64_t ud = sqe->user_data;

	ubt_prep_uring_cmd(sqe, 0, ubt_io_cmd_op(uq->dev_flags, nr), &cmd, sizeof(cmd));
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = ud;
}

/*
 * FETCH or COMMIT_AND_FETCH.  In copy mode the command names the tag's
 * buffer, which the kernel copies to and from; under zero copy sqe->addr
 * names the buffer-table slot where the kernel registers the next request's
 * pages, with the fallback flag: if it cannot, it says so in the descriptor
 * (UBLK_IO_F_NEED_REG_BUF) instead of failing the request.
 */
static void queue_cmd(struct ubt_ublk_queue *uq, unsigned int tag, unsigned int nr, int result)
{
	struct io_uring_sqe *sqe = frontend_sqe(uq, UD_KIND_CMD, tag);
	uint64_t addr = 0;

	if (uq->mode == UBT_COPY_COPY)
		addr = (uint64_t)(uintptr_t)uq->q.tags[tag].buf;
	prep_io_cmd(uq, sqe, tag, nr, result, addr);
	if (uq->mode == UBT_COPY_ZERO_COPY) {
		uint16_t index = (uint16_t)(uq->force_reg_fallback ? uq->depth + tag : tag);

		sqe->addr = ublk_auto_buf_reg_addr(index, UBLK_AUTO_BUF_REG_FALLBACK);
	}
}

/* (UN)REGISTER_IO_BUF of the tag's request at buffer index tag. */
static void queue_buf_cmd(struct ubt_ublk_queue *uq, unsigned int tag, unsigned int nr,
			  unsigned int kind)
{
	prep_io_cmd(uq, frontend_sqe(uq, kind, tag), tag, nr, 0, tag);
}

/*
 * User copy: move a request's data between the tag's buffer and the
 * kernel's request with a read or write of /dev/ublkcN (fixed file 0).
 * Plain READ / WRITE: the driver takes only user memory for this
 * (-EACCES for a registered buffer on 7.x).
 */
static void queue_user_copy(struct ubt_ublk_queue *uq, unsigned int tag, unsigned int kind,
			    unsigned int len)
{
	struct io_uring_sqe *sqe = frontend_sqe(uq, kind, tag);
	uint64_t pos = ublk_user_copy_pos(uq->q_id, tag);
	uint64_t ud = sqe->user_data;

	io_uring_prep_rw(kind == UD_KIND_COPY_IN ? IORING_OP_READ : IORING_OP_WRITE, sqe, 0,
			 uq->q.tags[tag].buf, len, pos);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = ud;
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

static unsigned int desc_op(const struct ublksrv_io_desc *d)
{
	return d->op_flags & 0xff;
}

static unsigned int desc_bytes(const struct ublksrv_io_desc *d)
{
	return d->nr_sectors << UBT_SECTOR_SHIFT;
}

/* Hand the tag's request to the tree. */
static void start_request(struct ubt_ublk_queue *uq, unsigned int tag)
{
	const struct ublksrv_io_desc *d = &uq->descs[tag];

	ubt_queue_request(&uq->q, tag, desc_op(d), io_flags(d->op_flags), d->start_sector,
			  d->nr_sectors);
}

/* A new request arrived on tag: get its data where the tree can reach it. */
static void request_fetched(struct ubt_ublk_queue *uq, unsigned int tag)
{
	const struct ublksrv_io_desc *d = &uq->descs[tag];

	switch (desc_op(d)) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
		if (uq->mode == UBT_COPY_ZERO_COPY && (d->op_flags & UBLK_IO_F_NEED_REG_BUF)) {
			queue_buf_cmd(uq, tag, UBLK_IO_REGISTER_IO_BUF, UD_KIND_REG);
			return;
		}
		if (uq->mode == UBT_COPY_USER_COPY && desc_op(d) == UBLK_IO_OP_WRITE) {
			queue_user_copy(uq, tag, UD_KIND_COPY_IN, desc_bytes(d));
			return;
		}
		/* fall through */
	case UBLK_IO_OP_FLUSH:
	case UBLK_IO_OP_DISCARD:
	case UBLK_IO_OP_WRITE_ZEROES:
		start_request(uq, tag);
		return;
	}
	queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, -EOPNOTSUPP);
}

static void ublk_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	struct ubt_ublk_queue *uq = q->fe_priv;
	const struct ublksrv_io_desc *d = &uq->descs[tag];

	/* The request completes once its pages are unregistered and committed. */
	if (uq->tag_state[tag] & TAG_MANUAL_REG) {
		uq->tag_state[tag] &= (uint8_t)~TAG_MANUAL_REG;
		queue_buf_cmd(uq, tag, UBLK_IO_UNREGISTER_IO_BUF, UD_KIND_UNREG);
	}
	if (uq->mode == UBT_COPY_USER_COPY && desc_op(d) == UBLK_IO_OP_READ && res > 0) {
		uq->tag_res[tag] = res;
		queue_user_copy(uq, tag, UD_KIND_COPY_OUT, (unsigned int)res);
		return;
	}
	queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, res);
}

static bool handing_over(const struct ubt_ublk_queue *uq)
{
	return uq->handover && __atomic_load_n(uq->handover, __ATOMIC_ACQUIRE);
}

static void ublk_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	struct ubt_ublk_queue *uq = q->fe_priv;
	unsigned int tag = UBT_UD_TAG(cqe->user_data);

	uq->cmd_inflight--;
	switch (UBT_UD_KIND(cqe->user_data)) {
	case UD_KIND_CMD:
		/* -ENODEV: the device is stopping; anything else: give up the tag too. */
		if (ubt_unlikely(cqe->res != UBLK_IO_RES_OK)) {
			uq->q.stopping = true;
		} else if (ubt_unlikely(uq->susp != UQ_RUNNING)) {
			if (uq->susp == UQ_FAILED) {
				uq->busy++;
				queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, -EIO);
			} else if (!handing_over(uq)) {
				uq->held[uq->nr_held++] = (uint16_t)tag;
			}
		} else if (ubt_likely(!uq->q.stopping || !handing_over(uq))) {
			uq->busy++;
			request_fetched(uq, tag);
		}
		break;
	case UD_KIND_REG:
		if (cqe->res < 0) {
			queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ, -EIO);
			break;
		}
		uq->tag_state[tag] |= TAG_MANUAL_REG;
		start_request(uq, tag);
		break;
	case UD_KIND_UNREG:
		break;	/* the commit went out beside it */
	case UD_KIND_COPY_IN:
		if (cqe->res != (int)desc_bytes(&uq->descs[tag]))
			queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ,
				  cqe->res < 0 ? cqe->res : -EIO);
		else
			start_request(uq, tag);
		break;
	case UD_KIND_COPY_OUT:
		queue_cmd(uq, tag, UBLK_IO_COMMIT_AND_FETCH_REQ,
			  cqe->res == uq->tag_res[tag] ? cqe->res : (cqe->res < 0 ? cqe->res : -EIO));
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
 * several queues sharing a set, they spread over it by queue id.  (The
 * whole set, as other servers use, was measured against this with one
 * queue on 7.3: up to 30% fewer 128k reads.)
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
		.data_mode = uq->mode == UBT_COPY_ZERO_COPY ? UBT_DATA_KERNEL_BUF : UBT_DATA_TAG_BUF,
	};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int tag;
	int ret;

	pin_to_one_cpu(uq);
	uq->tag_state = calloc(uq->depth, sizeof(*uq->tag_state));
	uq->tag_res = calloc(uq->depth, sizeof(*uq->tag_res));
	uq->held = calloc(uq->depth, sizeof(*uq->held));
	if (!uq->tag_state || !uq->tag_res || !uq->held)
		return -ENOMEM;
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
	free(uq->tag_state);
	uq->tag_state = NULL;
	free(uq->tag_res);
	uq->tag_res = NULL;
	free(uq->held);
	uq->held = NULL;
}

/*
 * Handed over: the thread says it is done and stays, its ring and memory
 * untouched, until the process ends and takes them all at once, as a
 * kill would.  (A thread that ends with commands on its ring has them
 * cancelled on its own, which Linux 6.12 gets wrong and which stalls the
 * end of a zero-copy ring on 7.3.)
 */
static void park(struct ubt_ublk_queue *uq)
{
	uq->exited(uq);
	for (;;)
		pause();
}

/*
 * Nothing of the queue's in flight but its fetches (idle timers aside):
 * what a handover and a suspend wait for.
 */
static bool drained(const struct ubt_ublk_queue *uq)
{
	return !uq->busy && !uq->q.target_inflight && !uq->q.wakes_unsent &&
	       uq->q.bg_inflight <= uq->q.bg_idle;
}

static bool suspend_wanted(const struct ubt_ublk_queue *uq)
{
	return uq->suspend && __atomic_load_n(uq->suspend, __ATOMIC_ACQUIRE);
}

/* Start the requests held while suspended, oldest first, or fail them all (res < 0). */
static void release_held(struct ubt_ublk_queue *uq, int res)
{
	unsigned int i, n = uq->nr_held;

	uq->nr_held = 0;
	for (i = 0; i < n; i++) {
		uq->busy++;
		if (res < 0)
			queue_cmd(uq, uq->held[i], UBLK_IO_COMMIT_AND_FETCH_REQ, res);
		else
			request_fetched(uq, uq->held[i]);
	}
}

/*
 * One step of a suspend or a resume, each time round the loop while
 * either is under way.  Suspending, the queue stops starting requests and
 * background work, lets what is in flight finish, cancels the idle
 * timers (their I/O belongs to the tree a reload replaces) and reports.
 */
static void suspend_step(struct ubt_ublk_queue *uq)
{
	struct ubt_tree *next;
	int ret = 0;

	if (uq->susp == UQ_FAILED)
		return;
	if (suspend_wanted(uq)) {
		if (uq->susp == UQ_RUNNING) {
			uq->susp = UQ_DRAINING;
			uq->q.stopping = true;
			uq->idle_cancelled = false;
		}
		if (uq->susp != UQ_DRAINING || !drained(uq))
			return;
		if (uq->q.bg_inflight) {
			if (!uq->idle_cancelled)
				ubt_queue_cancel_idle(&uq->q);
			uq->idle_cancelled = true;
			return;
		}
		uq->susp = UQ_SUSPENDED;
		uq->suspended(uq, true, 0);
		return;
	}
	next = __atomic_load_n(uq->next_tree, __ATOMIC_ACQUIRE);
	if (uq->susp == UQ_SUSPENDED && next && next != uq->q.tree)
		ret = ubt_queue_switch_tree(&uq->q, next);
	/*
	 * A failed switch leaves the queue on no whole tree: every request
	 * fails (each one committed, as the kernel needs) until the device's
	 * main thread, told through err, stops the device.
	 */
	uq->q.stopping = ret != 0;
	uq->susp = ret ? UQ_FAILED : UQ_RUNNING;
	if (ret)
		uq->result = ret;
	uq->suspended(uq, false, ret);
	release_held(uq, ret ? -EIO : 0);
}

void *ubt_ublk_queue_thread(void *arg)
{
	struct ubt_ublk_queue *uq = arg;
	int ret;

	ret = queue_setup(uq);
	uq->ready(uq, ret);
	if (ret)
		goto out;
	/*
	 * A queue is done only when no command, no target I/O and no
	 * background I/O is in flight (nodes start none once it is stopping),
	 * and the wake-ups it owes I/O parked on other queues went out.
	 * Handing over, its fetches stay: only the requests it started must
	 * be committed (the last commits go out here); the process's end
	 * cancels the rest.
	 */
	while (uq->cmd_inflight || uq->q.target_inflight || uq->q.bg_inflight > uq->q.bg_idle ||
	       uq->q.wakes_unsent || uq->nr_held) {
		if (ubt_unlikely(handing_over(uq))) {
			uq->q.stopping = true;
			if (drained(uq)) {
				ret = io_uring_submit(&uq->q.ring);
				if (ret < 0)
					uq->result = ret;
				park(uq);
			}
		} else if (ubt_unlikely(uq->susp != UQ_RUNNING || suspend_wanted(uq))) {
			suspend_step(uq);
		}
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
