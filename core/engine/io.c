// SPDX-License-Identifier: MIT
/*
 * The life of a ubt_io: dispatch to a node's map, child I/Os, the leaf
 * helpers that turn an I/O into SQEs, and the completion walk back up.
 *
 * Counting: io->pending holds one count per child or SQE in flight plus a
 * bias of one while map() runs, so a child that completes inline (null,
 * zero, an error) cannot finish its parent before map() has queued the
 * rest.  The first error wins; a parent's success result is its length.
 */
#include <errno.h>
#include <string.h>

#include "aio.h"
#include "engine.h"
#include "ubt/util.h"

static void io_put(struct ubt_io *io);

/* The first error wins. */
void ubt_io_complete(struct ubt_io *io, int res)
{
	if (res < 0 && io->result >= 0)
		io->result = res;
}

static int io_success(const struct ubt_io *io)
{
	if (io->op == UBT_OP_READ || io->op == UBT_OP_WRITE)
		return (int)ubt_io_bytes(io);
	return 0;
}

static void io_finish(struct ubt_io *io)
{
	int res = io->result < 0 ? io->result : io_success(io);
	struct ubt_io *parent = io->parent;

	if (!parent) {
		ubt_queue_root_done(io->q, io->tag, res);
		return;
	}
	if (parent->t->type->end_io)
		res = parent->t->type->end_io(parent->t, parent, io, res);
	ubt_io_complete(parent, res);
	io_put(parent);
}

static void io_put(struct ubt_io *io)
{
	if (--io->pending == 0)
		io_finish(io);
}

struct ubt_io *ubt_io_child(struct ubt_io *parent, struct ubt_target *child)
{
	struct ubt_io *io = ubt_queue_slot(parent->q, parent->tag);

	if (ubt_unlikely(!io))
		return NULL;
	io->t = child;
	io->parent = parent;
	io->op = parent->op;
	io->flags = parent->flags;
	parent->pending++;
	return io;
}

int ubt_io_remap(struct ubt_io *io, struct ubt_target *child, uint64_t sector)
{
	struct ubt_io *c = ubt_io_child(io, child);

	if (ubt_unlikely(!c))
		return -ENOMEM;
	c->sector = sector;
	c->nr_sectors = io->nr_sectors;
	c->iov = io->iov;
	c->iovcnt = io->iovcnt;
	ubt_io_submit(c);
	return 0;
}

void ubt_io_submit(struct ubt_io *io)
{
	int ret;

	io->pending = 1;
	ret = io->t->type->map(io->t, io);
	ubt_io_complete(io, ret);
	io_put(io);
}

/* ---- Timers ------------------------------------------------------------ */

void ubt_io_after(struct ubt_io *io, struct ubt_io_timer *tm, uint64_t ns,
		  int (*fn)(struct ubt_io *io))
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(io->q);

	tm->ts.tv_sec = (long long)(ns / 1000000000u);
	tm->ts.tv_nsec = (long long)(ns % 1000000000u);
	tm->io = io;
	tm->fn = fn;
	tm->idle = false;
	io_uring_prep_timeout(sqe, &tm->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)tm | UBT_UD_TIMER);
	io->pending++;
}

void ubt_io_after_idle(struct ubt_io *io, struct ubt_io_timer *tm, uint64_t ns,
		       int (*fn)(struct ubt_io *io))
{
	struct ubt_queue *q = io->q;

	ubt_io_after(io, tm, ns, fn);
	tm->idle = true;
	tm->idle_prev = NULL;
	tm->idle_next = q->idle_timers;
	if (q->idle_timers)
		q->idle_timers->idle_prev = tm;
	q->idle_timers = tm;
	q->bg_idle++;
}

void ubt_io_timer_cqe(struct ubt_io_timer *tm, int res)
{
	struct ubt_io *io = tm->io;
	struct ubt_queue *q = io->q;

	if (tm->idle) {
		q->bg_idle--;
		if (tm->idle_prev)
			tm->idle_prev->idle_next = tm->idle_next;
		else
			q->idle_timers = tm->idle_next;
		if (tm->idle_next)
			tm->idle_next->idle_prev = tm->idle_prev;
	}
	/* -ETIME: it expired; anything else: the ring is going away. */
	ubt_io_complete(io, res == -ETIME ? tm->fn(io) : -EIO);
	io_put(io);
}

void ubt_queue_cancel_idle(struct ubt_queue *q)
{
	struct ubt_io_timer *tm;

	for (tm = q->idle_timers; tm; tm = tm->idle_next) {
		struct io_uring_sqe *sqe = ubt_queue_sqe(q);

		io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)tm | UBT_UD_TIMER, 0);
		io_uring_sqe_set_data64(sqe, 0);	/* its own completion needs nothing */
	}
}

/* ---- Waiting --------------------------------------------------------- */

void ubt_io_wait(struct ubt_io *io, struct ubt_io_wait *w, int (*fn)(struct ubt_io *io))
{
	w->io = io;
	w->fn = fn;
	w->next = NULL;
	io->pending++;
	io->q->parked++;
}

void ubt_io_wait_cqe(struct ubt_io_wait *w)
{
	struct ubt_io *io = w->io;

	io->q->parked--;
	ubt_io_complete(io, w->fn(io));
	io_put(io);
}

static void wake_send(struct ubt_queue *from, struct ubt_io_wait *w)
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(from);

	io_uring_prep_msg_ring(sqe, w->io->q->ring.ring_fd, 0,
			       (uint64_t)(uintptr_t)w | UBT_UD_WAKE, 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)w | UBT_UD_WAKE_SENT);
	from->wakes_unsent++;	/* a queue leaving must send it first */
}

void ubt_io_wake(struct ubt_queue *from, struct ubt_io_wait *w)
{
	if (from == w->io->q)
		ubt_io_wait_cqe(w);
	else
		wake_send(from, w);
}

void ubt_io_wake_all(struct ubt_queue *from, struct ubt_io_wait *list)
{
	struct ubt_io_wait *next;

	/* Read next first: a woken I/O may park again on some other list. */
	for (; list; list = next) {
		next = list->next;
		ubt_io_wake(from, list);
	}
}

/*
 * A wake-up that did not arrive would leave its I/O parked for good: a
 * full completion ring on the other side is retried; anything else means
 * that ring is gone, and its queue with it.
 */
void ubt_io_wake_sent(struct ubt_queue *q, struct ubt_io_wait *w, int res)
{
	q->wakes_unsent--;
	if (res == -EOVERFLOW || res == -EAGAIN || res == -EBUSY)
		wake_send(q, w);
}

/* ---- Background I/O ------------------------------------------------------ */

struct ubt_io *ubt_bg_io(struct ubt_queue *q, struct ubt_target *t,
			 void (*done)(struct ubt_io *io, int res))
{
	struct ubt_io *io = ubt_queue_bg_slot(q);

	if (!io)
		return NULL;
	io->t = t;
	q->tags[io->tag].bg_done = done;
	return io;
}

void ubt_bg_submit(struct ubt_io *io, int (*fn)(struct ubt_io *io))
{
	int ret;

	io->pending = 1;
	ret = fn(io);
	ubt_io_complete(io, ret);
	io_put(io);
}

/* On a background tag: the data is a node's own memory, never a request's. */
static bool on_bg_tag(const struct ubt_io *io)
{
	return io->tag >= io->q->depth;
}

bool ubt_io_is_bg(const struct ubt_io *io)
{
	/* The node's own: children of another node's background I/O are ordinary I/O to it. */
	return on_bg_tag(io) && !io->parent;
}

/* ---- Leaf helpers ------------------------------------------------------ */

/* The descriptor an SQE names: a fixed-file index, or a plain fd (UBT_FD_PLAIN). */
static inline int sqe_fd(int fd_index)
{
	return fd_index < UBT_FD_PLAIN ? fd_index : fd_index - UBT_FD_PLAIN;
}

/* An SQE of io's on the file fd_index names: its CQE comes back to io. */
static void leaf_queued(struct ubt_io *io, struct io_uring_sqe *sqe, int fd_index)
{
	if (ubt_likely(fd_index < UBT_FD_PLAIN))
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, io);
	io->pending++;
}

/*
 * Whether the data lies in the buffer registered at index io->tag, so the
 * iovec addresses can go to a *_FIXED opcode as they are: always under zero
 * copy (offsets into the request), and for tag buffers when registered.
 */
static bool in_fixed_buf(const struct ubt_io *io)
{
	const struct ubt_queue *q = io->q;
	uintptr_t base, end, p;
	unsigned int i;

	/* Background I/O: plain memory (the node's, or a request's under copy), never registered. */
	if (!q->fixed_bufs || on_bg_tag(io))
		return false;
	if (q->data_mode == UBT_DATA_KERNEL_BUF)
		return true;
	base = (uintptr_t)q->tags[io->tag].buf;
	end = base + q->buf_bytes;
	for (i = 0; i < io->iovcnt; i++) {
		p = (uintptr_t)io->iov[i].iov_base;
		if (p < base || p + io->iov[i].iov_len > end)
			return false;
	}
	return true;
}

/*
 * One SQE for the whole of what is left of io: READ_FIXED for one
 * contiguous piece, READV_FIXED for several (a split request) where the
 * ring has it, plain READV otherwise (tag buffers only: their addresses
 * are pointers).
 */
static void prep_uring_rw(struct ubt_io *io, struct ubt_leaf_io *l)
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(io->q);
	uint64_t pos = l->pos + l->done;
	bool read = io->op == UBT_OP_READ;
	bool fixed = in_fixed_buf(io);

	if (fixed && io->iovcnt == 1) {
		io_uring_prep_rw(read ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED, sqe,
				 sqe_fd(l->fd_index), io->iov->iov_base, (unsigned int)io->iov->iov_len,
				 pos);
		sqe->buf_index = io->tag;
	} else if (fixed && io->q->vec_fixed) {
		io_uring_prep_rw(read ? UBT_IORING_OP_READV_FIXED : UBT_IORING_OP_WRITEV_FIXED,
				 sqe, sqe_fd(l->fd_index), io->iov, io->iovcnt, pos);
		sqe->buf_index = io->tag;
	} else {
		io_uring_prep_rw(read ? IORING_OP_READV : IORING_OP_WRITEV, sqe,
				 sqe_fd(l->fd_index), io->iov, io->iovcnt, pos);
	}
	if (!read && (io->flags & UBT_IO_FUA))
		sqe->rw_flags = RWF_DSYNC;
	if (l->engine == UBT_ENGINE_URING_WQ)
		sqe->flags |= IOSQE_ASYNC;
	leaf_queued(io, sqe, l->fd_index);
}

/* Queue what is left of io's transfer on its leaf's engine. */
static void prep_rw(struct ubt_io *io)
{
	struct ubt_leaf_io *l = io->priv;

	if (l->engine == UBT_ENGINE_AIO) {
		ubt_aio_queue(io, l);
		io->pending++;
	} else {
		prep_uring_rw(io, l);
	}
}

static int leaf_rw(struct ubt_io *io, int fd_index, uint64_t byte_offset, enum ubt_engine e)
{
	struct ubt_leaf_io *l = io->priv;

	l->fd_index = fd_index;
	l->pos = byte_offset;
	l->done = 0;
	l->engine = e;
	prep_rw(io);
	return 0;
}

int ubt_leaf_rw(struct ubt_io *io, int fd_index, uint64_t byte_offset)
{
	return leaf_rw(io, fd_index, byte_offset, UBT_ENGINE_URING);
}

int ubt_leaf_rw_wq(struct ubt_io *io, int fd_index, uint64_t byte_offset)
{
	return leaf_rw(io, fd_index, byte_offset, UBT_ENGINE_URING_WQ);
}

int ubt_leaf_rw_aio(struct ubt_io *io, int fd_index, uint64_t byte_offset)
{
	if (ubt_unlikely(!io->q->aio))
		return -EINVAL;	/* the constructor did not call ubt_target_use_aio() */
	return leaf_rw(io, fd_index, byte_offset, UBT_ENGINE_AIO);
}

int ubt_leaf_fsync(struct ubt_io *io, int fd_index, bool datasync)
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(io->q);

	io_uring_prep_fsync(sqe, sqe_fd(fd_index), datasync ? IORING_FSYNC_DATASYNC : 0);
	leaf_queued(io, sqe, fd_index);
	return 0;
}

int ubt_leaf_fallocate(struct ubt_io *io, int fd_index, int mode, uint64_t byte_offset,
		       uint64_t bytes)
{
	struct io_uring_sqe *sqe = ubt_queue_sqe(io->q);

	io_uring_prep_fallocate(sqe, sqe_fd(fd_index), mode, (off_t)byte_offset, (off_t)bytes);
	leaf_queued(io, sqe, fd_index);
	return 0;
}

/*
 * Drop the first n bytes of io's iovec array, in place.  Addresses may be
 * offsets into a kernel buffer (zero copy), so they move as integers.
 */
static void iov_advance(struct ubt_io *io, size_t n)
{
	while (n && io->iovcnt) {
		if (n < io->iov->iov_len) {
			io->iov->iov_base = (void *)((uintptr_t)io->iov->iov_base + n);
			io->iov->iov_len -= n;
			return;
		}
		n -= io->iov->iov_len;
		io->iov++;
		io->iovcnt--;
	}
}

void ubt_io_leaf_cqe(struct ubt_io *io, int res)
{
	bool rw = io->op == UBT_OP_READ || io->op == UBT_OP_WRITE;

	if (rw && res > 0) {
		struct ubt_leaf_io *l = io->priv;
		uint64_t left = ubt_io_bytes(io) - l->done;

		if ((uint64_t)res < left) {
			/* A short transfer: queue the rest, keep the count. */
			l->done += (uint32_t)res;
			iov_advance(io, (size_t)res);
			io->pending--;
			prep_rw(io);
			return;
		}
	} else if (rw && res == 0 && ubt_io_bytes(io)) {
		res = -EIO;	/* past the end of the backing file */
	}
	if (res == -EAGAIN && rw) {
		io->pending--;
		prep_rw(io);
		return;
	}
	ubt_io_complete(io, res);
	io_put(io);
}
