// SPDX-License-Identifier: MIT
/*
 * The Linux AIO engine of a queue: io_submit from the queue thread, with no
 * thread of its own and no allocation per I/O.
 *
 * Each iocb lives in its leaf's per-I/O area (struct ubt_leaf_io) and names
 * the queue's eventfd (IOCB_FLAG_RESFD).  The iocbs a loop turn prepares
 * are sent in one io_submit just before the ring waits; while any is in
 * flight, an 8-byte READ of the eventfd sits on the ring, so the ring's wait
 * also wakes for AIO completions.  The READ returns the completion count
 * and resets it; io_getevents (no wait) then collects them and each goes
 * through ubt_io_leaf_cqe(), like a CQE: the same short-transfer and error
 * handling as the io_uring engine.
 *
 * Through the raw syscalls of <linux/aio_abi.h>: the ABI that libaio wraps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "aio.h"
#include "ubt/tree.h"
#include "ubt/util.h"

#define REAP_BATCH	64

struct ubt_aio {
	aio_context_t ctx;
	int efd;
	uint64_t efd_count;		/* the eventfd READ's buffer */
	bool armed;			/* the eventfd READ is on the ring */
	unsigned int in_flight;		/* iocbs submitted, event not yet reaped */
	unsigned int nr_queued;
	unsigned int max;		/* iocbs a queue can have at once */
	struct iocb **queued;		/* prepared, not yet submitted */
};

static long sys_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long sys_io_destroy(aio_context_t ctx)
{
	return syscall(SYS_io_destroy, ctx);
}

static long sys_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, nr, iocbs);
}

static long sys_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
			     struct timespec *timeout)
{
	return syscall(SYS_io_getevents, ctx, min_nr, nr, ev, timeout);
}

int ubt_aio_init(struct ubt_queue *q)
{
	struct ubt_aio *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->efd = -1;
	/* Every slot of every tag may be one leaf I/O. */
	a->max = q->depth * q->tree->slots_per_tag;
	a->queued = calloc(a->max, sizeof(*a->queued));
	if (!a->queued) {
		ret = -ENOMEM;
		goto out_free;
	}
	a->efd = eventfd(0, EFD_CLOEXEC);
	if (a->efd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (sys_io_setup(a->max, &a->ctx) < 0) {
		ret = -errno;
		goto out_free;
	}
	q->aio = a;
	return 0;
out_free:
	if (a->efd >= 0)
		close(a->efd);
	free(a->queued);
	free(a);
	return ret;
}

void ubt_aio_exit(struct ubt_queue *q)
{
	struct ubt_aio *a = q->aio;

	if (!a)
		return;
	/* Waits for whatever is still in flight, so no iocb outlives its slot. */
	sys_io_destroy(a->ctx);
	close(a->efd);
	free(a->queued);
	free(a);
	q->aio = NULL;
}

static void arm(struct ubt_queue *q, struct ubt_aio *a)
{
	struct io_uring_sqe *sqe;

	/* Queued iocbs count too: the armed READ keeps the ring waiting for them. */
	if (a->armed || (!a->in_flight && !a->nr_queued))
		return;
	sqe = ubt_queue_sqe(q);
	io_uring_prep_read(sqe, a->efd, &a->efd_count, sizeof(a->efd_count), 0);
	io_uring_sqe_set_data64(sqe, UBT_UD_AIO);
	a->armed = true;
}

void ubt_aio_queue(struct ubt_io *io, struct ubt_leaf_io *l)
{
	struct ubt_aio *a = io->q->aio;
	struct iocb *cb = &l->iocb;
	bool read = io->op == UBT_OP_READ;

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = (uint64_t)(uintptr_t)io;
	cb->aio_fildes = (uint32_t)(l->fd_index < UBT_FD_PLAIN ? io->q->tree->fds[l->fd_index - 1] :
				    l->fd_index - UBT_FD_PLAIN);
	cb->aio_offset = (int64_t)(l->pos + l->done);
	if (io->iovcnt == 1) {
		cb->aio_lio_opcode = read ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
		cb->aio_buf = (uint64_t)(uintptr_t)io->iov->iov_base;
		cb->aio_nbytes = io->iov->iov_len;
	} else {
		cb->aio_lio_opcode = read ? IOCB_CMD_PREADV : IOCB_CMD_PWRITEV;
		cb->aio_buf = (uint64_t)(uintptr_t)io->iov;
		cb->aio_nbytes = io->iovcnt;
	}
	if (!read && (io->flags & UBT_IO_FUA))
		cb->aio_rw_flags = RWF_DSYNC;
	cb->aio_flags = IOCB_FLAG_RESFD;
	cb->aio_resfd = (uint32_t)a->efd;
	a->queued[a->nr_queued++] = cb;
	/* Armed now, so the ring counts something in flight for this I/O. */
	arm(io->q, a);
}

void ubt_aio_flush(struct ubt_queue *q)
{
	struct ubt_aio *a = q->aio;
	unsigned int done = 0;

	while (done < a->nr_queued) {
		long n = sys_io_submit(a->ctx, a->nr_queued - done, a->queued + done);

		if (n > 0) {
			a->in_flight += (unsigned int)n;
			done += (unsigned int)n;
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			break;	/* the kernel is full: the rest waits for the next turn */
		/* The first iocb was refused: fail that one I/O, send the rest. */
		ubt_io_leaf_cqe((struct ubt_io *)(uintptr_t)a->queued[done]->aio_data, -errno);
		done++;
	}
	memmove(a->queued, a->queued + done, (a->nr_queued - done) * sizeof(*a->queued));
	a->nr_queued -= done;
	arm(q, a);
}

void ubt_aio_reap(struct ubt_queue *q, int res)
{
	struct ubt_aio *a = q->aio;
	struct io_event ev[REAP_BATCH];
	struct timespec none = { 0, 0 };
	long n, i;

	a->armed = false;
	(void)res;	/* the count: io_getevents below says what finished */
	do {
		n = sys_io_getevents(a->ctx, 0, REAP_BATCH, ev, &none);
		for (i = 0; i < n; i++) {
			a->in_flight--;
			ubt_io_leaf_cqe((struct ubt_io *)(uintptr_t)ev[i].data, (int)ev[i].res);
		}
	} while (n == REAP_BATCH);
	arm(q, a);
}
