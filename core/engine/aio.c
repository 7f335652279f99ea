// SPDX-License-Identifier: MIT
/*
 * The Linux AIO engine of a queue, on libaio: io_submit from the queue
 * thread, with no thread of its own and no allocation per I/O.
 *
 * The engine keeps one iocb per ubt_io slot of the queue's slab, found
 * from the slot's index, so a leaf's per-I/O area carries none and a
 * stack without AIO pays nothing for it.  Each iocb names the queue's
 * eventfd.  The iocbs a loop turn prepares are sent in one io_submit just
 * before the ring waits; while any is in flight, an 8-byte READ of the
 * eventfd sits on the ring, so the ring's wait also wakes for AIO
 * completions.  The READ returns the completion count and resets it;
 * io_getevents (no wait: libaio reads the completion ring without a
 * system call when it is empty) then collects them and each goes through
 * ubt_io_leaf_cqe(), like a CQE: the same short-transfer and error
 * handling as the io_uring engine.
 */
#include <errno.h>
#include <libaio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "aio.h"
#include "ubt/util.h"

#define REAP_BATCH	64

struct ubt_aio {
	io_context_t ctx;
	int efd;
	uint64_t efd_count;		/* the eventfd READ's buffer */
	bool armed;			/* the eventfd READ is on the ring */
	unsigned int in_flight;		/* iocbs submitted, event not yet reaped */
	unsigned int nr_queued;
	unsigned int max;		/* iocbs a queue can have at once: one per slot */
	struct iocb *iocbs;		/* per slot of the queue's slab */
	struct iocb **queued;		/* prepared, not yet submitted */
};

int ubt_aio_init(struct ubt_queue *q)
{
	struct ubt_aio *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->efd = -1;
	/* Every slot of every tag may be one leaf I/O. */
	a->max = (q->depth + q->bg_tags) * q->slots_per_tag;
	a->iocbs = calloc(a->max, sizeof(*a->iocbs));
	a->queued = calloc(a->max, sizeof(*a->queued));
	if (!a->iocbs || !a->queued) {
		ret = -ENOMEM;
		goto out_free;
	}
	a->efd = eventfd(0, EFD_CLOEXEC);
	if (a->efd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = io_setup((int)a->max, &a->ctx);
	if (ret < 0)
		goto out_free;
	q->aio = a;
	return 0;
out_free:
	if (a->efd >= 0)
		close(a->efd);
	free(a->iocbs);
	free(a->queued);
	free(a);
	return ret;
}

unsigned int ubt_aio_slots(const struct ubt_queue *q)
{
	return q->aio ? q->aio->max : 0;
}

void ubt_aio_exit(struct ubt_queue *q)
{
	struct ubt_aio *a = q->aio;

	if (!a)
		return;
	/* Waits for whatever is still in flight, so no iocb outlives its slot. */
	io_destroy(a->ctx);
	close(a->efd);
	free(a->iocbs);
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
	struct ubt_queue *q = io->q;
	struct ubt_aio *a = q->aio;
	struct iocb *cb = &a->iocbs[((char *)io - q->slab) / q->slot_size];
	int fd = l->fd_index < UBT_FD_PLAIN ? q->tree->fds[l->fd_index - 1] :
		 l->fd_index - UBT_FD_PLAIN;
	long long pos = (long long)(l->pos + l->done);
	bool read = io->op == UBT_OP_READ;

	if (io->iovcnt == 1 && read)
		io_prep_pread(cb, fd, io->iov->iov_base, io->iov->iov_len, pos);
	else if (io->iovcnt == 1)
		io_prep_pwrite(cb, fd, io->iov->iov_base, io->iov->iov_len, pos);
	else if (read)
		io_prep_preadv(cb, fd, io->iov, (int)io->iovcnt, pos);
	else
		io_prep_pwritev(cb, fd, io->iov, (int)io->iovcnt, pos);
	if (!read && (io->flags & UBT_IO_FUA))
		cb->aio_rw_flags = RWF_DSYNC;
	cb->data = io;
	io_set_eventfd(cb, a->efd);
	a->queued[a->nr_queued++] = cb;
	/* Armed now, so the ring counts something in flight for this I/O. */
	arm(q, a);
}

void ubt_aio_flush(struct ubt_queue *q)
{
	struct ubt_aio *a = q->aio;
	unsigned int done = 0;

	while (done < a->nr_queued) {
		int n = io_submit(a->ctx, a->nr_queued - done, a->queued + done);

		if (n > 0) {
			a->in_flight += (unsigned int)n;
			done += (unsigned int)n;
			continue;
		}
		if (n == 0 || n == -EAGAIN)
			break;	/* the kernel is full: the rest waits for the next turn */
		/* The first iocb was refused: fail that one I/O, send the rest. */
		ubt_io_leaf_cqe(a->queued[done]->data, n);
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
	int n, i;

	a->armed = false;
	(void)res;	/* the count: io_getevents below says what finished */
	do {
		n = io_getevents(a->ctx, 0, REAP_BATCH, ev, &none);
		for (i = 0; i < n; i++) {
			a->in_flight--;
			ubt_io_leaf_cqe(ev[i].data, (int)(long)ev[i].res);
		}
	} while (n == REAP_BATCH);
	arm(q, a);
}
