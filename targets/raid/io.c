// SPDX-License-Identifier: MIT
/*
 * Requests.  A read goes straight to the data legs, one child per chunk
 * piece, with no lock (md's chunk-aligned read bypass, for every read):
 * a healthy leg holds the data as it is.  A read that touches a failed
 * leg, or whose piece fails, goes through stripe heads, which read the
 * row's other legs and rebuild.  Every write goes through stripe heads
 * (stripe.c).  A flush goes to every working leg.
 *
 * A request served by heads waits on p->hold until its last head is done;
 * heads run on the request's own queue, so the wake-up is a call.
 */
#include <errno.h>

#include "ubt/util.h"
#include "raid.h"

static int hold_fn(struct ubt_io *io)
{
	return ((struct raid_io *)io->priv)->result;
}

static void hold(struct ubt_io *io)
{
	struct raid_io *p = io->priv;

	if (p->held)
		return;
	p->held = true;
	ubt_io_wait(io, &p->hold, hold_fn);
}

void raid_request_maybe_done(struct ubt_io *io, struct ubt_queue *from)
{
	struct raid *r = io->t->private;
	struct raid_io *p = io->priv;
	uint64_t chunk = (io->sector + io->nr_sectors - 1) / r->g.chunk;

	if (p->finished || p->steps || p->next < (chunk / r->g.data + 1) * r->nr_wins)
		return;
	p->finished = true;
	if (io->op == UBT_OP_WRITE && r->bm.node)
		raid_bitmap_write_end(r, from, io);
	ubt_io_wake(from, &p->hold);
}

void raid_request_step_done(struct ubt_io *io, struct ubt_queue *from, int res)
{
	struct raid_io *p = io->priv;

	if (res < 0 && p->result >= 0)
		p->result = res;
	p->steps--;
	raid_request_maybe_done(io, from);
}

/* Serve the request through stripe heads, from its first row on. */
static int through_heads(struct raid *r, struct ubt_io *io)
{
	struct raid_io *p = io->priv;

	hold(io);
	p->next = (io->sector / r->g.chunk / r->g.data) * r->nr_wins;
	return raid_heads_start(io);
}

int raid_flush_legs(struct ubt_io *io)
{
	struct raid *r = io->t->private;
	uint32_t failed = raid_failed(r);
	unsigned int i;

	for (i = 0; i < r->g.disks; i++) {
		struct ubt_io *c;

		if (failed & (1u << i))
			continue;
		c = ubt_io_child(io, raid_leg_node(r, i));
		if (!c)
			return -ENOMEM;
		c->op = UBT_OP_FLUSH;
		c->sector = 0;
		c->nr_sectors = 0;
		c->iov = NULL;
		c->iovcnt = 0;
		ubt_io_submit(c);
	}
	return 0;
}

int raid_sync_legs(struct raid *r)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < r->g.disks && !ret; i++)
		if (!(raid_failed(r) & (1u << i)))
			ret = ubt_target_sync(raid_leg_node(r, i));
	return ret;
}

static int write_logged(struct ubt_io *io)
{
	return through_heads(io->t->private, io);
}

/* Whether any chunk piece of [sector, end) lies on a leg that cannot be read there. */
static bool touches_lost(const struct raid *r, uint64_t sector, uint64_t end)
{
	uint64_t row;

	while (sector < end) {
		uint64_t chunk = sector / r->g.chunk;
		unsigned int leg = raid_chunk_disk(&r->g, chunk, &row);

		if (raid_unreadable(r, row) & (1u << leg))
			return true;
		sector = (chunk + 1) * r->g.chunk;
	}
	return false;
}

static int read_pieces(struct ubt_target *t, struct ubt_io *io)
{
	struct raid *r = t->private;
	struct raid_io *p = io->priv;
	uint64_t sector = io->sector, end = io->sector + io->nr_sectors;
	struct ubt_iov_iter it;
	unsigned int n = 0;
	int ret = 0;

	ubt_iov_iter_init(&it, io->iov, io->iovcnt);
	p->gen = __atomic_load_n(&r->legs_gen, __ATOMIC_ACQUIRE);
	p->pieces = 1;		/* bias: pieces completing inline cannot start the redo early */
	while (sector < end) {
		uint64_t chunk = sector / r->g.chunk, off = sector % r->g.chunk, row;
		uint32_t len = (uint32_t)UBT_MIN(r->g.chunk - off, end - sector);
		unsigned int leg = raid_chunk_disk(&r->g, chunk, &row);
		struct iovec *iov = p->iov + (size_t)n * t->max_iov_in;
		struct ubt_io *c = ubt_io_child(io, raid_leg_node(r, leg));

		if (ubt_unlikely(!c)) {
			ret = -ENOMEM;
			break;
		}
		c->sector = row * r->g.chunk + off;
		c->nr_sectors = len;
		c->iov = iov;
		c->iovcnt = 0;
		ret = ubt_iov_iter_take(&it, iov, &c->iovcnt, t->max_iov_in,
					(size_t)len << UBT_SECTOR_SHIFT);
		if (ubt_unlikely(ret))
			c->op = UBT_OP_FLUSH;	/* harmless: the error below fails the read */
		p->pieces++;
		n++;
		ubt_io_submit(c);
		if (ret)
			break;
		sector += len;
	}
	if (--p->pieces == 0 && p->redo && !ret)
		return through_heads(r, io);
	return ret;
}

int raid_map(struct ubt_target *t, struct ubt_io *io)
{
	struct raid *r = t->private;
	struct raid_io *p = io->priv;

	p->head = NULL;
	p->log = false;
	p->journal = false;
	p->held = false;
	p->finished = false;
	p->redo = false;
	p->steps = 0;
	p->result = 0;
	switch (io->op) {
	case UBT_OP_READ:
		if (ubt_unlikely(raid_failed(r) || __atomic_load_n(&r->rebuilding, __ATOMIC_ACQUIRE)) &&
		    touches_lost(r, io->sector, io->sector + io->nr_sectors))
			return through_heads(r, io);
		return read_pieces(t, io);
	case UBT_OP_WRITE:
		/* With a log, the write's regions are recorded before any leg sees it. */
		if (r->bm.node && raid_bitmap_write_begin(r, io, write_logged))
			return 0;
		return through_heads(r, io);
	case UBT_OP_FLUSH:
		return raid_flush_legs(io);
	default:
		return -EOPNOTSUPP;
	}
}

static bool array_lost(const struct raid *r)
{
	return (unsigned int)__builtin_popcount(raid_failed(r)) > raid_parity_count(r);
}

int raid_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct raid *r = t->private;
	struct raid_io *p = io->priv;
	int leg;

	if (p->log)
		return raid_bitmap_end_io(r, io, child, res);
	if (p->journal)
		return raid_journal_end_io(r, io, child, res);
	if (p->head)
		return raid_head_end_io(r, io, child, res);
	if (res < 0 && res != -EOPNOTSUPP && res != -ENOMEM) {
		leg = raid_leg_of(r, child->t);
		if (leg >= 0)
			raid_fail_leg(r, (unsigned int)leg);
		if (io->op == UBT_OP_FLUSH)
			return array_lost(r) ? res : 0;
		if (io->op == UBT_OP_READ && !array_lost(r)) {
			/* Rebuilt from the other legs once every piece is back. */
			p->redo = true;
			hold(io);
			res = 0;
		}
	}
	/* A leg replaced while the pieces were out: what they read may be the new node's. */
	if (io->op == UBT_OP_READ && !p->redo &&
	    p->gen != __atomic_load_n(&r->legs_gen, __ATOMIC_ACQUIRE)) {
		p->redo = true;
		hold(io);
	}
	if (io->op == UBT_OP_READ && --p->pieces == 0 && p->redo)
		through_heads(r, io);
	return res;
}
