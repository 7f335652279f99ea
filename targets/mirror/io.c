// SPDX-License-Identifier: MIT
/*
 * The mirror's data path (dm-raid1.c's map and end_io).
 *
 * Reads go to one leg: in an in-sync region the read policy picks among
 * the legs without errors; elsewhere only the default leg holds data that
 * is known good.  A read that fails is retried on another in-sync leg, and
 * the region is then rewritten from the leg that served it (read repair,
 * by a background copy: under zero copy the request's pages cannot be the
 * source of a write).
 *
 * Writes (and write-zeroes, discards) go to every leg, once their regions
 * are counted (region.c).  A leg that fails one is marked failed and the
 * regions out of sync; the request succeeds while a leg without errors
 * remains (dm's rule).  A discard that fails is an error for the request
 * and degrades nothing (dm's rule).  Flushes go to every leg.
 */
#include <errno.h>
#include <string.h>

#include "ubt/util.h"
#include "mirror.h"

static struct iovec *child_iov(struct ubt_target *t, struct mirror_io *mio, unsigned int slot)
{
	return mio->iov + (size_t)slot * t->max_iov_in;
}

/* A child I/O of io for leg i, with its own copy of io's iovecs in slot. */
static int send_to_leg(struct mirror *m, struct ubt_io *io, unsigned int i, unsigned int slot)
{
	struct mirror_io *mio = io->priv;
	struct ubt_io *c = ubt_io_child(io, mirror_leg_node(m, i));

	if (!c)
		return -ENOMEM;
	c->sector = io->sector;
	c->nr_sectors = io->nr_sectors;
	if (io->iovcnt) {
		c->iov = child_iov(m->t, mio, slot);
		memcpy(c->iov, io->iov, io->iovcnt * sizeof(*io->iov));
		c->iovcnt = io->iovcnt;
	}
	ubt_io_submit(c);
	return 0;
}

/* ---- Reads ------------------------------------------------------------ */

/* Leg i may serve a read: not one the read already failed on, and without errors. */
static bool leg_usable(const struct mirror *m, unsigned int i, uint32_t skip)
{
	return !(skip & (1u << i)) && mirror_leg_ok(m, i);
}

/* dm's choose_mirror: the default leg, else the next one down that works. */
static int leg_from_default(const struct mirror *m, uint32_t skip)
{
	unsigned int d = mirror_default(m), i = d;

	do {
		if (leg_usable(m, i, skip))
			return (int)i;
		i = i ? i - 1 : m->nr_legs - 1;
	} while (i != d);
	return -1;
}

static int leg_round_robin(struct mirror *m, uint32_t skip)
{
	unsigned int start = __atomic_fetch_add(&m->next_read, 1, __ATOMIC_RELAXED), k;

	for (k = 0; k < m->nr_legs; k++) {
		unsigned int i = (start + k) % m->nr_legs;

		if (leg_usable(m, i, skip))
			return (int)i;
	}
	return -1;
}

static int leg_least_pending(struct mirror *m, uint32_t skip)
{
	unsigned int i, best_reads = UINT32_MAX;
	int best = -1;

	for (i = 0; i < m->nr_legs; i++) {
		unsigned int reads = __atomic_load_n(&m->legs[i].reads, __ATOMIC_RELAXED);

		if (!leg_usable(m, i, skip) || reads >= best_reads)
			continue;
		best = (int)i;
		best_reads = reads;
	}
	return best;
}

/* The leg to read io from, not one in skip; -1 when none holds good data. */
static int choose_read_leg(struct mirror *m, const struct mirror_io *mio, uint32_t skip)
{
	if (!mirror_regions_in_sync(m, mio->r0, mio->r1)) {
		unsigned int d = mirror_default(m);

		return leg_usable(m, d, skip) ? (int)d : -1;
	}
	switch (m->read_policy) {
	case MIRROR_READ_ROUNDROBIN:
		return leg_round_robin(m, skip);
	case MIRROR_READ_LEASTPENDING:
		return leg_least_pending(m, skip);
	default:
		return leg_from_default(m, skip);
	}
}

static int read_from(struct mirror *m, struct ubt_io *io, int leg)
{
	struct mirror_io *mio = io->priv;

	if (leg < 0)
		return -EIO;
	mio->leg = (unsigned int)leg;
	__atomic_fetch_add(&m->legs[leg].reads, 1, __ATOMIC_RELAXED);
	return send_to_leg(m, io, (unsigned int)leg, 0);
}

static int read_end_io(struct mirror *m, struct ubt_io *io, int res)
{
	struct mirror_io *mio = io->priv;

	__atomic_fetch_sub(&m->legs[mio->leg].reads, 1, __ATOMIC_RELAXED);
	if (res >= 0) {
		if (mio->tried)
			mirror_queue_repair(m, io->q, mio->r0, mio->r1, mio->leg, mio->tried);
		return res;
	}
	/*
	 * dm: "Read failure on mirror device. Trying alternative device."
	 * choose_read_leg() asks again whether the region is in sync: a write
	 * that failed while this read was out may have left it out of sync
	 * since, and then the default leg (perhaps a new one) is the retry.
	 */
	mio->tried |= 1u << mio->leg;
	if (read_from(m, io, choose_read_leg(m, mio, mio->tried)))
		return res;
	return 0;	/* the retry decides the request's result */
}

/* ---- Writes ----------------------------------------------------------- */

static bool any_leg_ok(const struct mirror *m)
{
	unsigned int i;

	for (i = 0; i < m->nr_legs; i++)
		if (mirror_leg_ok(m, i))
			return true;
	return false;
}

/* Leg `leg` finished its part of write io with res; the result to fold in. */
static int write_leg_done(struct mirror *m, struct ubt_io *io, int leg, int res)
{
	struct mirror_io *mio = io->priv;
	bool discard = io->op == UBT_OP_DISCARD;
	uint32_t all = (1u << m->nr_legs) - 1;

	if (res >= 0 && leg >= 0)
		mio->ok |= 1u << leg;
	else if (leg >= 0 && !discard)
		mirror_fail_leg(m, (unsigned int)leg, MIRROR_ERR_WRITE);
	if (--mio->outstanding)
		return discard ? res : 0;
	/* The last leg: settle the regions, then the request. */
	mirror_write_end(m, io->q, mio->r0, mio->r1, !discard && mio->ok != all);
	if (discard)
		return res;
	return mio->ok && any_leg_ok(m) ? 0 : -EIO;
}

static int write_to_legs(struct ubt_io *io)
{
	struct mirror *m = io->t->private;
	struct mirror_io *mio = io->priv;
	unsigned int i;

	mio->ok = 0;
	mio->outstanding = m->nr_legs;
	for (i = 0; i < m->nr_legs; i++)
		if (send_to_leg(m, io, i, i))
			ubt_io_complete(io, write_leg_done(m, io, (int)i, -ENOMEM));
	return 0;
}

int mirror_write_logged(struct ubt_io *io)
{
	struct mirror *m = io->t->private;
	struct mirror_io *mio = io->priv;

	if (ubt_unlikely(__atomic_load_n(&m->log_failed, __ATOMIC_ACQUIRE) && m->keep_log)) {
		mirror_write_end(m, io->q, mio->r0, mio->r1, false);
		return -EIO;
	}
	return write_to_legs(io);
}

/*
 * Count a write in its regions and send it to the legs; a write held by a
 * copy of one of its regions comes back here once the copy is done.
 */
static int write_start(struct ubt_io *io)
{
	struct mirror *m = io->t->private;
	struct mirror_io *mio = io->priv;

	if (mirror_write_begin(m, io, mio, write_start))
		return 0;
	return write_to_legs(io);
}

/* ---- Background I/O ------------------------------------------------- */

struct ubt_io *mirror_bg_io(struct mirror *m, struct ubt_queue *q, struct mirror_job *job,
			    uint8_t op, void (*done)(struct ubt_io *io, int res))
{
	struct ubt_io *io = ubt_bg_io(q, m->t, done);

	/* Each queue keeps a tag per copy and one for the log: never NULL in practice. */
	if (!io)
		return NULL;
	((struct mirror_io *)io->priv)->job = job;
	io->op = op;
	return io;
}

/* ---- Flushes ---------------------------------------------------------- */

int mirror_flush_legs(struct mirror *m, struct ubt_io *io)
{
	unsigned int i;
	int ret;

	for (i = 0; i < m->nr_legs; i++) {
		ret = send_to_leg(m, io, i, i);
		if (ret)
			return ret;
	}
	return 0;
}

static int flush_end_io(struct mirror *m, struct ubt_io *child, int res)
{
	int leg = mirror_leg_of(m, child->t);

	if (res < 0 && leg >= 0)
		mirror_fail_leg(m, (unsigned int)leg, MIRROR_ERR_FLUSH);
	/* A flush fails only when no working leg is left to hold the data. */
	return res < 0 && !any_leg_ok(m) ? res : 0;
}

/* ---- map / end_io ----------------------------------------------------- */

int mirror_map(struct ubt_target *t, struct ubt_io *io)
{
	struct mirror *m = t->private;
	struct mirror_io *mio = io->priv;

	mio->job = NULL;
	mio->tried = 0;
	if (io->op == UBT_OP_FLUSH)
		return mirror_flush_legs(m, io);
	mio->r0 = mirror_region_of(m, io->sector);
	mio->r1 = mirror_region_of(m, io->sector + io->nr_sectors - 1);
	if (io->op == UBT_OP_READ)
		return read_from(m, io, choose_read_leg(m, mio, 0));
	return write_start(io);
}

int mirror_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct mirror *m = t->private;
	struct mirror_io *mio = io->priv;

	if (ubt_io_is_bg(io))
		return mio->job ? mirror_job_end_io(mio->job, child, res) :
				  mirror_log_end_io(m, child, res);
	switch (io->op) {
	case UBT_OP_READ:
		return read_end_io(m, io, res);
	case UBT_OP_FLUSH:
		return flush_end_io(m, child, res);
	default:
		return write_leg_done(m, io, mirror_leg_of(m, child->t), res);
	}
}
