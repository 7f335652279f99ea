// SPDX-License-Identifier: MIT
/*
 * Reading and writing the mirror's disk log (the I/O half of dm-log.c's
 * disk log; log.c has the format).
 *
 * At construction the log node is read, dm's activation rules applied
 * (log.c) and the result written back, by I/O on the node outside the
 * queues (nothing serves I/O yet).  From then on the image lives in memory and is written whole, as a
 * background write of the mirror to the log's child node, with FUA:
 *
 *   - a write that marks a region dirty waits for the log write carrying
 *     that mark (its generation) before it goes to any leg (dm: the log is
 *     flushed after marking and before dispatching);
 *   - regions become clean in the image once their writes are done; before
 *     an image with new clean bits is written, every leg is flushed, so no
 *     region is recorded clean before its data is stable on all legs (dm's
 *     flush callback);
 *   - one log write is in flight at a time, carrying a copy of the image
 *     taken when it started: a write of an older image can never land after
 *     a newer one.
 *
 * A log write that fails marks the log failed (status D); writes go on
 * (dm without handle_errors), or fail with keep_log (dm's keep_log).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mirror.h"

int mirror_log_load(struct mirror *m)
{
	struct ubt_target *t = m->t;
	struct ubt_node_io *n;
	int ret;

	ret = ubt_node_io_open(m->log_node, &n);
	if (ret)
		return ubt_target_error(t, -ret, "log: %s", strerror(-ret));
	/* A log never written reads as zeroes or garbage: no magic, a new log. */
	ret = ubt_node_io(n, UBT_OP_READ, 0, 0, m->log.image, m->log.io_bytes);
	if (ret) {
		ubt_node_io_close(n);
		return ubt_target_error(t, -ret, "log: cannot read it: %s", strerror(-ret));
	}
	m->dirty_at_start = mirror_log_resume(&m->log, m->sync_mode);
	ret = ubt_node_io(n, UBT_OP_WRITE, UBT_IO_FUA, 0, m->log.image, m->log.io_bytes);
	ubt_node_io_close(n);
	if (ret)
		return ubt_target_error(t, -ret, "log: cannot write it: %s", strerror(-ret));
	return 0;
}

/* The write in flight is over: its waiters go on, and the next starts. */
static void log_write_done(struct mirror *m, struct ubt_queue *q, int res)
{
	struct ubt_io_wait *w;
	bool again;

	if (res < 0)
		__atomic_store_n(&m->log_failed, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&m->lock);
	m->log_done = m->log_gen;
	m->log_writing = false;
	w = m->log_cur;
	m->log_cur = NULL;
	again = m->log_dirty;
	pthread_mutex_unlock(&m->lock);
	ubt_io_wake_all(q, w);
	if (again)
		mirror_log_write(m, q);
}

static void image_written(struct ubt_io *io, int res)
{
	log_write_done(io->t->private, io->q, res);
}

static int write_image(struct ubt_io *io)
{
	struct mirror *m = io->t->private;

	io->sector = 0;
	io->nr_sectors = (uint32_t)(m->log.io_bytes >> UBT_SECTOR_SHIFT);
	io->flags = UBT_IO_FUA;
	m->log_iov = (struct iovec){ m->log_buf, m->log.io_bytes };
	io->iov = &m->log_iov;
	io->iovcnt = 1;
	return ubt_io_remap(io, m->log_node, 0);
}

static void legs_flushed(struct ubt_io *io, int res)
{
	struct mirror *m = io->t->private;
	struct ubt_queue *q = io->q;
	/* io's tag is free again: the write may reuse it. */
	struct ubt_io *w = mirror_bg_io(m, q, NULL, UBT_OP_WRITE, image_written);

	(void)res;	/* a leg whose flush failed is marked F, and reads avoid it */
	if (w)
		ubt_bg_submit(w, write_image);
	else
		log_write_done(m, q, -EBUSY);
}

static int flush_every_leg(struct ubt_io *io)
{
	return mirror_flush_legs(io->t->private, io);
}

void mirror_log_write(struct mirror *m, struct ubt_queue *q)
{
	bool flush_first;
	struct ubt_io *io;

	pthread_mutex_lock(&m->lock);
	if (m->log_writing || !m->log_dirty) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	m->log_writing = true;
	m->log_dirty = false;
	flush_first = m->log_cleaned;
	m->log_cleaned = false;
	m->log_gen++;
	m->log_cur = m->log_next;
	m->log_next = NULL;
	memcpy(m->log_buf, m->log.image, m->log.io_bytes);
	pthread_mutex_unlock(&m->lock);

	io = mirror_bg_io(m, q, NULL, flush_first ? UBT_OP_FLUSH : UBT_OP_WRITE,
			  flush_first ? legs_flushed : image_written);
	if (!io) {
		/* Cannot happen (a tag is kept for it): fail the log rather than hang. */
		log_write_done(m, q, -EBUSY);
		return;
	}
	ubt_bg_submit(io, flush_first ? flush_every_leg : write_image);
}

int mirror_log_end_io(struct mirror *m, struct ubt_io *child, int res)
{
	int leg = mirror_leg_of(m, child->t);

	if (res < 0 && leg >= 0 && child->op == UBT_OP_FLUSH)
		mirror_fail_leg(m, (unsigned int)leg, MIRROR_ERR_FLUSH);
	return child->op == UBT_OP_FLUSH ? 0 : res;
}
