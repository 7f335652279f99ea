// SPDX-License-Identifier: MIT
/*
 * Stripe heads (md's stripe_head, by the window rather than the page): a
 * head owns one window of columns of one row -- at most RAID_WINDOW_BYTES
 * of each leg at the same offsets -- while it reads what it needs, computes
 * parity and writes.  Owning the window is the row lock: two heads never
 * work on the same window at once, so parity always matches the data a
 * head read.  Heads are shared by every queue (r->lock); a head runs as a
 * background I/O of the raid node on the queue of the request it serves,
 * so its reads and writes are that I/O's children and come back through
 * the node's end_io.
 *
 * A write head picks, as md does (handle_stripe_dirtying), the cheapest
 * way that works with the legs that work:
 *   FULL  every data chunk of the window is written: parity from the new
 *         data, no reads;
 *   RMW   read the old data being replaced and the old parity, fold the
 *         difference into the parity (P += old + new; Q += g^slot (old +
 *         new));
 *   RCW   read the data not being written, compute parity afresh;
 *   RECON read every working leg, rebuild the missing ones, then as RCW
 *         (a failed data leg that is only partly written, say).
 * RMW needs parity that agrees with the data: rows the resync has not
 * reached yet take RCW, which makes them agree (md: rcw while recovery_cp
 * is below the stripe).  Ties go to RCW (md's default rmw_level).
 * A read head (a failed leg's data) reads every working leg and rebuilds.
 * A pass's head (pass.c) reads what its pass needs and writes what it made.
 * A leg being rebuilt counts as lost for reading in rows the recovery has
 * not reached, and is written like any working leg.
 * A leg that fails a read makes the head plan again without it; one that
 * fails a write is marked failed, and the write stands while the array
 * can still rebuild what that leg held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/util.h"
#include "raid.h"

static void head_release(struct raid_head *h, struct ubt_queue *q);
static int head_plan(struct ubt_io *bg);

int raid_heads_init(struct raid *r)
{
	size_t win = (size_t)r->win << UBT_SECTOR_SHIFT;
	size_t per = (r->g.disks + 2) * win;
	unsigned int i, j, n = RAID_HEADS;
	char *m;

	if (posix_memalign(&r->mem, 4096, (size_t)n * per + win))
		return -ENOMEM;
	m = r->mem;
	memset(m, 0, (size_t)n * per + win);
	for (i = 0; i < n; i++) {
		struct raid_head *h = &r->heads[i];

		h->r = r;
		for (j = 0; j < r->g.disks; j++, m += win)
			h->buf[j] = m;
		h->scratch[0] = m;
		h->scratch[1] = m + win;
		m += 2 * win;
	}
	r->zero = m;
	r->free_heads = n;
	/* A journal entry per head: a header block and a window of every leg. */
	for (i = 0; r->jr.node && i < n; i++)
		if (posix_memalign(&r->heads[i].jbuf, 4096, r->jr.slot_bytes))
			return -ENOMEM;
	r->head_waiters = NULL;
	r->head_waiters_tail = &r->head_waiters;
	return 0;
}

void raid_heads_free(struct raid *r)
{
	unsigned int i;

	for (i = 0; i < RAID_HEADS; i++)
		free(r->heads[i].jbuf);
	free(r->mem);
}

static struct raid_head *head_of(struct ubt_io *bg)
{
	return ((struct raid_io *)bg->priv)->head;
}

struct raid_head *raid_head_take(struct raid *r)
{
	unsigned int i;

	if (!r->free_heads)
		return NULL;
	for (i = 0; i < RAID_HEADS; i++) {
		struct raid_head *h = &r->heads[i];

		if (!h->busy) {
			h->busy = true;
			h->locked = false;
			h->waiters = NULL;
			h->riders = NULL;
			h->ride_wait = NULL;
			h->pass = RAID_PASS_NONE;
			h->jseq = 0;
			h->jfailed = false;
			h->wait_ns = 0;
			r->free_heads--;
			return h;
		}
	}
	return NULL;
}

/* ---- Which part of a request a head covers ------------------------------ */

static uint64_t req_end(const struct ubt_io *io)
{
	return io->sector + io->nr_sectors;
}

/* Steps are (row, window) pairs numbered row * nr_wins + window: the one past the last. */
static uint64_t end_step(const struct raid *r, const struct ubt_io *io)
{
	uint64_t chunk = (req_end(io) - 1) / r->g.chunk;

	return (chunk / r->g.data + 1) * r->nr_wins;
}

/*
 * Fill h's per-data-index ranges for step `step` of request io: the part
 * of each data chunk of the row, within the window, that the request
 * covers.  False when it covers none of the window.
 */
static bool head_cover(struct raid *r, struct raid_head *h, const struct ubt_io *io,
		       uint64_t step)
{
	uint64_t row = step / r->nr_wins, s = io->sector, e = req_end(io);
	uint32_t win = (uint32_t)(step % r->nr_wins), wlen = r->win, k;
	uint64_t w0 = (uint64_t)win * r->win;
	bool any = false;

	if (w0 + wlen > r->g.chunk)
		wlen = (uint32_t)(r->g.chunk - w0);
	h->span_lo = UINT32_MAX;
	h->span_hi = 0;
	for (k = 0; k < r->g.data; k++) {
		uint64_t a = (row * r->g.data + k) * r->g.chunk + w0, b = a + wlen;
		uint64_t lo = UBT_MAX(a, s), hi = UBT_MIN(b, e);

		if (lo >= hi) {
			h->lo[k] = h->hi[k] = 0;
			continue;
		}
		h->lo[k] = (uint32_t)(lo - a);
		h->hi[k] = (uint32_t)(hi - a);
		h->span_lo = UBT_MIN(h->span_lo, h->lo[k]);
		h->span_hi = UBT_MAX(h->span_hi, h->hi[k]);
		any = true;
	}
	h->row = row;
	h->win = win;
	return any;
}

/* Array sector of window-relative sector `off` of data index k in h's window. */
static uint64_t head_array_sector(const struct raid *r, const struct raid_head *h,
				  unsigned int k, uint32_t off)
{
	return (h->row * r->g.data + k) * r->g.chunk + (uint64_t)h->win * r->win + off;
}

/* Leg sector of window-relative sector `off`. */
static uint64_t head_leg_sector(const struct raid *r, const struct raid_head *h, uint32_t off)
{
	return h->row * r->g.chunk + (uint64_t)h->win * r->win + off;
}

/* ---- Requests taking heads ---------------------------------------------- */

static void head_done(struct ubt_io *bg, int res);
static int head_run(struct ubt_io *bg);

static int request_resume(struct ubt_io *io)
{
	return raid_heads_start(io);
}

/* A pass's head that waits for its slot of resync_rate first. */
static int head_pause(struct ubt_io *bg)
{
	struct raid_head *h = head_of(bg);

	ubt_io_after(bg, &h->pause, h->wait_ns, head_run);
	return 0;
}

void raid_head_launch(struct raid *r, struct ubt_queue *q, struct raid_head *h)
{
	struct ubt_io *bg = ubt_bg_io(q, r->t, head_done);
	struct raid_io *bp;

	if (ubt_unlikely(!bg)) {
		/* Each queue has a background tag per head: cannot happen. */
		struct ubt_io *req = h->req;

		head_release(h, q);
		if (req)
			raid_request_step_done(req, q, -EIO);
		return;
	}
	bp = bg->priv;
	bp->head = h;
	bp->log = false;
	bp->journal = false;
	bg->op = h->op;
	bg->flags = h->flags;
	h->phase = 0;
	ubt_bg_submit(bg, h->wait_ns ? head_pause : head_run);
}

int raid_heads_start(struct ubt_io *io)
{
	struct raid *r = io->t->private;
	struct raid_io *p = io->priv;
	uint64_t end = end_step(r, io);

	while (p->next < end) {
		struct raid_head *h;

		pthread_mutex_lock(&r->lock);
		h = raid_head_take(r);
		if (!h) {
			/* Wait for one, first come first served. */
			ubt_io_wait(io, &p->wait, request_resume);
			*r->head_waiters_tail = &p->wait;
			r->head_waiters_tail = &p->wait.next;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		pthread_mutex_unlock(&r->lock);
		while (p->next < end && !head_cover(r, h, io, p->next))
			p->next++;
		if (p->next == end) {
			head_release(h, io->q);
			break;
		}
		p->next++;
		h->req = io;
		h->op = io->op;
		h->flags = io->flags & UBT_IO_FUA;
		raid_row_map(&r->g, h->row, &h->map);
		p->steps++;
		raid_head_launch(r, io->q, h);
	}
	raid_request_maybe_done(io, io->q);
	return 0;
}

/* ---- A head's life ------------------------------------------------------- */

static struct raid_head *waiting_head(struct ubt_io_wait *w)
{
	return ((struct raid_io *)w->io->priv)->head;
}

/* A head a hand-over may merge: a request's write. */
static bool may_ride(const struct raid_head *h)
{
	return h->req && h->pass == RAID_PASS_NONE && h->op == UBT_OP_WRITE;
}

/*
 * Whether rider x's part of the window joins leader l's without a gap or
 * an overlap in any data chunk: then one range per chunk still says what
 * the merged head writes, and no two requests write the same sector (whose
 * order would matter).
 */
static bool rides_with(const struct raid *r, const struct raid_head *l,
		       const struct raid_head *x)
{
	unsigned int k;

	for (k = 0; k < r->g.data; k++) {
		if (x->lo[k] == x->hi[k] || l->lo[k] == l->hi[k])
			continue;
		if (x->hi[k] != l->lo[k] && x->lo[k] != l->hi[k])
			return false;
	}
	return true;
}

static void take_rider(struct raid *r, struct raid_head *l, struct raid_head *x,
		       struct ubt_io_wait *w)
{
	unsigned int k;

	if (!l->riders) {
		memcpy(l->own_lo, l->lo, sizeof(l->lo));
		memcpy(l->own_hi, l->hi, sizeof(l->hi));
	}
	for (k = 0; k < r->g.data; k++) {
		if (x->lo[k] == x->hi[k])
			continue;
		if (l->lo[k] == l->hi[k]) {
			l->lo[k] = x->lo[k];
			l->hi[k] = x->hi[k];
		} else {
			l->lo[k] = UBT_MIN(l->lo[k], x->lo[k]);
			l->hi[k] = UBT_MAX(l->hi[k], x->hi[k]);
		}
	}
	l->span_lo = UBT_MIN(l->span_lo, x->span_lo);
	l->span_hi = UBT_MAX(l->span_hi, x->span_hi);
	l->flags |= x->flags;
	r->merged++;
	x->ride_wait = w;
	x->next_rider = l->riders;
	l->riders = x;
}

/*
 * A head is done with its window and others wait for it (r->lock held):
 * give the window straight to the oldest waiting write and let that head
 * take in every other waiting write that joins its part (md's stripe
 * head collecting the bios that reach it before it runs: sequential small
 * writes to one row become one write of the row).  Returns the waiters
 * to wake: the new owner, which goes on to plan, and those it did not
 * take, which wait for it.
 */
static struct ubt_io_wait *head_hand_over(struct raid *r, struct ubt_io_wait *list)
{
	struct ubt_io_wait *w, **pp, **lp = NULL;
	struct raid_head *l;

	/* Waiters are pushed at the front: the oldest write is the last one. */
	for (pp = &list; *pp; pp = &(*pp)->next)
		if (may_ride(waiting_head(*pp)))
			lp = pp;
	if (!lp)
		return list;
	l = waiting_head(*lp);
	l->locked = true;
	for (pp = &list; (w = *pp);) {
		struct raid_head *x = waiting_head(w);

		if (x != l && may_ride(x) && rides_with(r, l, x)) {
			*pp = w->next;
			w->next = NULL;
			take_rider(r, l, x, w);
			continue;
		}
		pp = &w->next;
	}
	return list;
}

static int rider_end(struct ubt_io *bg)
{
	(void)bg;
	return 0;	/* no child: the background I/O ends, head_done reports */
}

/* Give the head back, and its window; wake who waits for either. */
static void head_release(struct raid_head *h, struct ubt_queue *q)
{
	struct raid *r = h->r;
	struct ubt_io_wait *row_waiters, *next_req = NULL;

	pthread_mutex_lock(&r->lock);
	row_waiters = h->waiters;
	h->waiters = NULL;
	if (h->locked && row_waiters)
		row_waiters = head_hand_over(r, row_waiters);
	h->locked = false;
	h->busy = false;
	r->free_heads++;
	if (h->pass != RAID_PASS_NONE)
		raid_pass_head_done(r, h);
	h->pass = RAID_PASS_NONE;
	if (r->head_waiters) {
		next_req = r->head_waiters;
		r->head_waiters = next_req->next;
		if (!r->head_waiters)
			r->head_waiters_tail = &r->head_waiters;
		next_req->next = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	ubt_io_wake_all(q, row_waiters);
	if (next_req)
		ubt_io_wake(q, next_req);
}

static void head_done(struct ubt_io *bg, int res)
{
	struct raid_head *h = head_of(bg);
	struct ubt_io *req = h->req;
	struct raid *r = h->r;
	struct raid_head *x, *riders = h->riders;
	int phase = h->phase < 0 ? -1 : 2;

	(void)res;	/* the children's errors are the head's to judge: phase -1 */
	res = phase < 0 ? -EIO : 0;
	if (h->jseq)
		raid_journal_entry_done(r, bg->q, h);
	h->riders = NULL;
	head_release(h, bg->q);
	if (req)
		raid_request_step_done(req, bg->q, res);
	/* The writes this head took in share its outcome. */
	for (x = riders; x; x = riders) {
		struct ubt_io_wait *w = x->ride_wait;

		riders = x->next_rider;
		x->phase = phase;
		w->fn = rider_end;
		ubt_io_wake(bg->q, w);
	}
	/* A pass waits for heads that requests held: give it this one. */
	if (__atomic_load_n(&r->pass, __ATOMIC_RELAXED) != RAID_PASS_NONE)
		raid_pass_poke(r, bg->q);
}

/* Take the head's window, or wait for the head that has it. */
static int head_run(struct ubt_io *bg)
{
	struct raid_head *h = head_of(bg);
	struct raid *r = h->r;
	unsigned int i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; !h->locked && i < RAID_HEADS; i++) {
		struct raid_head *o = &r->heads[i];

		if (o != h && o->locked && o->row == h->row && o->win == h->win) {
			struct raid_io *bp = bg->priv;

			ubt_io_wait(bg, &bp->wait, head_run);
			bp->wait.next = o->waiters;
			o->waiters = &bp->wait;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
	}
	h->locked = true;
	pthread_mutex_unlock(&r->lock);
	return head_plan(bg);
}

static uint32_t span_len(const struct raid_head *h)
{
	return h->span_hi - h->span_lo;
}

static void *buf_at(const struct raid_head *h, unsigned int leg, uint32_t off)
{
	return (char *)h->buf[leg] + ((size_t)(off - h->span_lo) << UBT_SECTOR_SHIFT);
}

static uint32_t parity_legs(const struct raid *r, const struct raid_head *h)
{
	uint32_t m = 1u << h->map.pd;

	if (r->g.level == 6)
		m |= 1u << h->map.qd;
	return m;
}

/* One child of the head's I/O: leg `leg`, window-relative [lo, hi), data at buf. */
static int head_child(struct ubt_io *bg, struct raid_head *h, unsigned int leg, uint8_t op,
		      uint32_t lo, uint32_t hi, void *buf)
{
	struct raid *r = h->r;
	struct ubt_io *c = ubt_io_child(bg, raid_leg_node(r, leg));

	if (ubt_unlikely(!c))
		return -ENOMEM;
	c->op = op;
	c->flags = op == UBT_OP_WRITE ? h->flags : 0;
	c->sector = head_leg_sector(r, h, lo);
	c->nr_sectors = hi - lo;
	h->iov[leg].iov_base = buf;
	h->iov[leg].iov_len = (size_t)(hi - lo) << UBT_SECTOR_SHIFT;
	c->iov = &h->iov[leg];
	c->iovcnt = 1;
	h->outstanding++;
	ubt_io_submit(c);
	return 0;
}

/* Whether data index k is written over the whole span. */
static bool covers_span(const struct raid_head *h, unsigned int k)
{
	return h->lo[k] == h->span_lo && h->hi[k] == h->span_hi;
}

static bool written(const struct raid_head *h, unsigned int k)
{
	return h->lo[k] < h->hi[k];
}

static void head_plan_write(struct raid *r, struct raid_head *h, uint32_t failed)
{
	uint32_t par = parity_legs(r, h), len = span_len(h);
	bool rmw_ok = true, rcw_ok = true, full = true;
	uint64_t rmw = 0, rcw = 0;
	unsigned int k;

	for (k = 0; k < r->g.data; k++) {
		uint32_t leg_bit = 1u << h->map.disk[k];

		if (!covers_span(h, k)) {
			full = false;
			rcw += len;
			if (failed & leg_bit)
				rcw_ok = false;
		}
		if (written(h, k)) {
			rmw += h->hi[k] - h->lo[k];
			if (failed & leg_bit)
				rmw_ok = false;
		}
	}
	rmw += (uint64_t)len * (unsigned int)__builtin_popcount(par & ~failed);
	if (!raid_row_synced(r, h->row))
		rmw_ok = false;		/* parity not known to be right yet */
	if (!(par & ~failed))
		rmw_ok = false;		/* no parity left to update: RCW writes only data */
	/*
	 * A parity leg being rebuilt is written like a working one, but in a
	 * row at or past the recovery's mark it was not read: a read-modify-
	 * write has no old parity to fold the change into and would write
	 * whatever its buffer held there.  The mark trails (the lowest row a
	 * recovery head still works on), so the row may be rebuilt already
	 * and never visited again: compute parity afresh (RCW, RECON).
	 */
	if (par & failed & ~raid_failed(r))
		rmw_ok = false;
	if (full)
		h->mode = RAID_HEAD_FULL;
	else if (rmw_ok && (!rcw_ok || rmw < rcw))
		h->mode = RAID_HEAD_RMW;
	else if (rcw_ok)
		h->mode = RAID_HEAD_RCW;
	else
		h->mode = RAID_HEAD_RECON;
}

/*
 * Where the request keeps data index k's part of the window, when the
 * node can use it in place: one piece of the request's memory, aligned as
 * ISA-L wants its vectors.  NULL: it goes through the head's buffer.
 */
static void *req_piece(const struct raid_head *h, unsigned int k)
{
	const struct ubt_io *req = h->req;
	size_t off = (size_t)(head_array_sector(h->r, h, k, h->lo[k]) - req->sector)
		     << UBT_SECTOR_SHIFT;
	size_t len = (size_t)(h->hi[k] - h->lo[k]) << UBT_SECTOR_SHIFT;
	unsigned int i;

	for (i = 0; i < req->iovcnt; i++) {
		if (off < req->iov[i].iov_len) {
			char *p = (char *)req->iov[i].iov_base + off;

			if (off + len > req->iov[i].iov_len || ((uintptr_t)p & 31))
				return NULL;
			return p;
		}
		off -= req->iov[i].iov_len;
	}
	return NULL;
}

/*
 * Which legs' data the head reads into, writes from or computes with in
 * the request's own memory rather than its buffer (h->direct, by leg:
 * the address of the leg's data at lo[k]), saving a copy each way.
 * A write uses the request's data for every data index it writes: the
 * parity is computed from it there, and the leg written from it.  A read
 * through a head (a lost leg's data) reads the legs the request wants
 * straight into it, and rebuilds the lost one there.  Only where the
 * request covers the head's whole span for a read and for a full or
 * reconstruct-write (the rebuild and the parity run over the span);
 * a read-modify-write only touches what it writes.  A write rebuilding a
 * lost leg (RECON) keeps every leg in the buffer: its rebuild needs the
 * old data where the new replaces it.
 */
static void head_direct(struct raid_head *h)
{
	struct raid *r = h->r;
	unsigned int k;

	memset(h->direct, 0, sizeof(h->direct));
	if (h->pass != RAID_PASS_NONE || h->riders ||
	    (h->op == UBT_OP_WRITE && h->mode == RAID_HEAD_RECON))
		return;
	for (k = 0; k < r->g.data; k++) {
		if (!written(h, k))
			continue;
		if (h->mode != RAID_HEAD_RMW && !covers_span(h, k))
			continue;
		h->direct[h->map.disk[k]] = req_piece(h, k);
	}
}

/* Phase 1: decide, then read what the decision needs. */
static int head_plan(struct ubt_io *bg)
{
	struct raid_head *h = head_of(bg);
	struct raid *r = h->r;
	uint32_t failed, lo, hi, reads = 0;
	unsigned int k, leg;
	int ret;

	h->gen = __atomic_load_n(&r->legs_gen, __ATOMIC_ACQUIRE);
	failed = raid_unreadable(r, h->row);
	h->failed = failed;
	h->io_failed = 0;
	h->outstanding = 0;
	if (h->pass != RAID_PASS_NONE) {
		int64_t want = raid_pass_reads(r, h, failed);

		if (want < 0) {
			h->phase = 2;		/* passed over: nothing to write */
			return 0;
		}
		reads = (uint32_t)want;
		h->mode = RAID_HEAD_RECON;
	} else if ((unsigned int)__builtin_popcount(failed) > raid_parity_count(r)) {
		h->phase = -1;		/* more legs lost than parity: nothing to rebuild from */
		return 0;
	} else if (h->op == UBT_OP_READ) {
		h->mode = RAID_HEAD_RECON;
	} else {
		head_plan_write(r, h, failed);
	}
	head_direct(h);
	h->phase = 1;
	h->outstanding = 1;	/* bias: children completing inline cannot end the phase */
	for (leg = 0; leg < r->g.disks; leg++) {
		uint32_t bit = 1u << leg;

		k = h->map.index[leg];
		lo = h->span_lo;
		hi = h->span_hi;
		if (h->pass != RAID_PASS_NONE) {
			if (!(reads & bit))
				continue;
		} else if (failed & bit) {
			continue;
		} else if (h->mode == RAID_HEAD_FULL) {
			continue;
		} else if (h->mode == RAID_HEAD_RMW && k != RAID_NO_DISK) {
			if (!written(h, k))
				continue;
			lo = h->lo[k];
			hi = h->hi[k];
		} else if (h->mode == RAID_HEAD_RCW && (k == RAID_NO_DISK || covers_span(h, k))) {
			continue;
		}
		/* RECON: every readable leg, data written whole too: the rebuild takes each. */
		/* A write reads the old data into its buffer: its direct legs hold the new. */
		ret = head_child(bg, h, leg, UBT_OP_READ, lo, hi,
				 h->op == UBT_OP_READ ? raid_head_data(h, leg, lo) : buf_at(h, leg, lo));
		if (ret)
			return ret;
	}
	if (--h->outstanding == 0)
		return raid_head_end_io(r, bg, NULL, 0);
	return 0;
}

/*
 * Head m's request's data for data index k of h's window, [lo, hi), into
 * (or, reading, out of) h's buffer; m is h or one of its riders.
 */
static void member_copy(struct raid_head *h, const struct raid_head *m, unsigned int k,
			uint32_t lo, uint32_t hi, bool to_req)
{
	struct raid *r = h->r;
	uint64_t a = head_array_sector(r, h, k, lo);
	size_t off = (size_t)(a - m->req->sector) << UBT_SECTOR_SHIFT;
	size_t len = (size_t)(hi - lo) << UBT_SECTOR_SHIFT;

	ubt_iov_copy(m->req->iov, m->req->iovcnt, off, buf_at(h, h->map.disk[k], lo), len, to_req);
}

static void head_copy(struct raid_head *h, unsigned int k, bool to_req)
{
	member_copy(h, h, k, h->lo[k], h->hi[k], to_req);
}

/* The new data for data index k into the buffer: the request's, and its riders'. */
static void head_fill(struct raid_head *h, unsigned int k)
{
	const struct raid_head *x;

	if (!h->riders) {
		head_copy(h, k, false);
		return;
	}
	if (h->own_lo[k] < h->own_hi[k])
		member_copy(h, h, k, h->own_lo[k], h->own_hi[k], false);
	for (x = h->riders; x; x = x->next_rider)
		if (x->lo[k] < x->hi[k])
			member_copy(h, x, k, x->lo[k], x->hi[k], false);
}

void *raid_head_data(const struct raid_head *h, unsigned int leg, uint32_t off)
{
	return h->direct[leg] ? h->direct[leg] : buf_at(h, leg, off);
}

/* The head's vectors by leg, over its span. */
static void head_vectors(const struct raid_head *h, void **v)
{
	unsigned int leg;

	for (leg = 0; leg < h->r->g.disks; leg++)
		v[leg] = raid_head_data(h, leg, h->span_lo);
}

/* After the reads: rebuild what is missing, put the new data in, compute parity. */
static void head_compute(struct raid_head *h)
{
	struct raid *r = h->r;
	size_t blen = (size_t)span_len(h) << UBT_SECTOR_SHIFT;
	void *v[RAID_MAX_LEGS];
	uint32_t missing;
	unsigned int k;

	head_vectors(h, v);
	switch (h->mode) {
	case RAID_HEAD_FULL:
	case RAID_HEAD_RCW:
		for (k = 0; k < r->g.data; k++)
			if (written(h, k) && !h->direct[h->map.disk[k]])
				head_fill(h, k);
		raid_parity_gen(&r->g, &h->map, v, blen, r->zero);
		return;
	case RAID_HEAD_RMW:
		for (k = 0; k < r->g.data; k++) {
			unsigned int leg = h->map.disk[k];
			size_t off = (size_t)(h->lo[k] - h->span_lo) << UBT_SECTOR_SHIFT;
			size_t len = (size_t)(h->hi[k] - h->lo[k]) << UBT_SECTOR_SHIFT;
			char *d = (char *)h->buf[leg] + off;

			if (!written(h, k))
				continue;
			/* The change, old + new, folded into P and Q. */
			if (h->direct[leg]) {
				raid_xor_to(h->scratch[0], d, h->direct[leg], len);
			} else {
				memcpy(h->scratch[0], d, len);
				head_fill(h, k);
				raid_xor_into(h->scratch[0], d, len);
			}
			if (!(h->failed & (1u << h->map.pd)))
				raid_xor_into((char *)h->buf[h->map.pd] + off, h->scratch[0], len);
			if (r->g.level == 6 && !(h->failed & (1u << h->map.qd)))
				raid_q_delta((char *)h->buf[h->map.qd] + off, h->scratch[0], len,
					     h->map.slot[k]);
		}
		return;
	case RAID_HEAD_RECON:
		/* Parity legs count too: they decide which formula rebuilds the data. */
		missing = h->failed & (uint32_t)((1ull << r->g.disks) - 1);
		raid_parity_rebuild(&r->g, &h->map, v, blen, missing, h->scratch, r->zero);
		if (h->op == UBT_OP_READ) {
			for (k = 0; k < r->g.data; k++)
				if (written(h, k) && !h->direct[h->map.disk[k]])
					head_copy(h, k, true);
			return;
		}
		for (k = 0; k < r->g.data; k++)
			if (written(h, k))
				head_fill(h, k);
		raid_parity_gen(&r->g, &h->map, h->buf, blen, r->zero);
		return;
	}
}

/*
 * Phase 2: write the data that changed and the parity (a pass: the legs it
 * made), to the legs that work -- those being rebuilt included.  With a
 * journal, a request's writes go to it first, whole (journal.c), and to
 * the legs once it has them.
 */
static int head_write(struct ubt_io *bg, struct raid_head *h, uint32_t pass_writes)
{
	struct raid *r = h->r;
	uint32_t failed = raid_failed(r), par = parity_legs(r, h);
	unsigned int leg, k;

	h->wmask = 0;
	for (leg = 0; leg < r->g.disks; leg++) {
		uint32_t lo = h->span_lo, hi = h->span_hi;

		if (failed & (1u << leg))
			continue;
		k = h->map.index[leg];
		if (h->pass != RAID_PASS_NONE) {
			if (!(pass_writes & (1u << leg)))
				continue;
		} else if (k != RAID_NO_DISK) {
			if (!written(h, k))
				continue;
			lo = h->lo[k];
			hi = h->hi[k];
		} else if (!(par & (1u << leg))) {
			continue;
		}
		h->wmask |= 1u << leg;
		h->wlo[leg] = lo;
		h->whi[leg] = hi;
	}
	if (r->jr.node && h->pass == RAID_PASS_NONE && h->wmask)
		return raid_journal_write(bg, h);
	return raid_head_submit_writes(bg, h);
}

int raid_head_submit_writes(struct ubt_io *bg, struct raid_head *h)
{
	struct raid *r = h->r;
	unsigned int leg;
	int ret;

	h->phase = 2;
	h->outstanding = 1;
	for (leg = 0; leg < r->g.disks; leg++) {
		if (!(h->wmask & (1u << leg)))
			continue;
		ret = head_child(bg, h, leg, UBT_OP_WRITE, h->wlo[leg], h->whi[leg],
				 raid_head_data(h, leg, h->wlo[leg]));
		if (ret)
			return ret;
	}
	if (--h->outstanding == 0)
		return raid_head_end_io(r, bg, NULL, 0);
	return 0;
}

/*
 * A child of a head finished (child NULL: the phase's bias).  When the
 * phase has no child left, move on: after reads, plan again if a leg
 * failed, else compute and write; after writes, the head is done (its
 * background I/O ends with its last child).
 */
int raid_head_end_io(struct raid *r, struct ubt_io *bg, struct ubt_io *child, int res)
{
	struct raid_head *h = head_of(bg);
	int leg;

	if (child && h->phase == 3) {
		/* The journal's write: the legs are written only once it holds the entry. */
		h->outstanding--;
		if (res < 0) {
			h->jfailed = true;
			h->phase = -1;
			return 0;
		}
		return raid_head_submit_writes(bg, h);
	}
	if (child && res < 0 && res != -EOPNOTSUPP) {
		leg = raid_leg_of(r, child->t);
		if (leg >= 0) {
			h->io_failed |= 1u << leg;
			raid_fail_leg(r, (unsigned int)leg);
		}
	}
	if (child && --h->outstanding)
		return 0;
	if (h->phase == 1) {
		/* A leg lost, or replaced, under the reads: plan again with what is left. */
		if (h->io_failed || h->gen != __atomic_load_n(&r->legs_gen, __ATOMIC_ACQUIRE))
			return head_plan(bg);
		if (h->pass != RAID_PASS_NONE)
			return head_write(bg, h, raid_pass_compute(r, h));
		head_compute(h);
		return head_write(bg, h, 0);
	}
	if (h->phase == 2 && h->pass == RAID_PASS_NONE &&
	    (unsigned int)__builtin_popcount(raid_failed(r)) > raid_parity_count(r))
		h->phase = -1;		/* the write reached too few legs to stand */
	return 0;
}
