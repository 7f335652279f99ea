// SPDX-License-Identifier: MIT
/*
 * The cache's background work (dm-cache-target.c's migrations): copies
 * between origin and cache as background I/O on whichever queue thread
 * finds work, at most one step (up to 256K) in flight per migration, and
 * at most migration_threshold sectors' worth of migrations at once.
 *
 * - promotion: the policy took a free block for a missed origin block; the
 *   block enters the lookup held by the migration (requests to it wait),
 *   unless a miss write to it is in flight; origin -> cache; then mapped
 *   clean.  A crash before the next commit forgets it: the origin still
 *   holds the data.
 * - overwrite promotion: a whole-block write in writeback fills a free
 *   block itself (map.c); mapped dirty when it completes.
 * - writeback: a dirty block no request uses is held, cache -> origin,
 *   then marked clean.
 * - demotion: a clean block no request uses leaves the lookup (requests go
 *   to the origin, which holds the same data), is unmapped, and becomes
 *   free only once a commit has the unmapping on disk: until then a crash
 *   would bring the old mapping back over new data.
 * - invalidation: a writethrough write reached only one of a clean block's
 *   copies (map.c); the block leaves the lookup and is unmapped at once,
 *   while the failed write still holds it, and is freed like a demoted
 *   one once no request uses it and a commit has the unmapping.
 * The tick, a timer on a queue ring while background work remains, runs
 * the policy's tick once a second, sees whether the device was idle
 * (writeback then), and commits changes older than a second.
 */
#include <errno.h>
#include <string.h>

#include "ubt/util.h"
#include "cache.h"

#define TICK_NS		1000000000ULL

static unsigned int mig_limit(const struct cache *c)
{
	uint32_t n = __atomic_load_n(&c->migration_threshold, __ATOMIC_RELAXED) / c->block_sectors;

	return c->pol.cleaner ? CACHE_MIGRATIONS : UBT_MAX(1u, UBT_MIN(n, CACHE_MIGRATIONS));
}

/*
 * mig_lock held.  Writebacks, as dm paces them: only while one more block
 * in flight stays within migration_threshold (so a block larger than the
 * threshold is never written back by smq, as in dm), except the cleaner,
 * which the threshold does not slow.
 */
static bool writeback_allowed(const struct cache *c)
{
	uint64_t threshold = __atomic_load_n(&c->migration_threshold, __ATOMIC_RELAXED);

	return c->pol.cleaner || (uint64_t)(c->active + 1) * c->block_sectors <= threshold;
}

/* mig_lock held: a free slot, or NULL. */
static struct cache_mig *slot_get(struct cache *c, enum cache_mig_kind kind)
{
	unsigned int i;

	for (i = 0; i < CACHE_MIGRATIONS; i++) {
		if (!c->migs[i].busy) {
			struct cache_mig *m = &c->migs[i];

			m->busy = true;
			m->kind = kind;
			m->result = 0;
			m->done = 0;
			m->waiters = NULL;
			c->active++;
			return m;
		}
	}
	return NULL;
}

static void slot_put(struct cache *c, struct cache_mig *m)
{
	pthread_mutex_lock(&c->mig_lock);
	m->busy = false;
	c->active--;
	pthread_mutex_unlock(&c->mig_lock);
}

static uint8_t slot_id(const struct cache *c, const struct cache_mig *m)
{
	return (uint8_t)(m - c->migs + 1);
}

/* Stripe lock taken here: the block is no longer held; its waiters go on. */
static void release_block(struct cache *c, struct ubt_queue *q, struct cache_mig *m, bool unhash)
{
	struct cache_stripe *s = cache_stripe(c, m->oblock);
	struct ubt_io_wait *w;

	cache_stripe_lock(s);
	if (unhash)
		cache_hash_remove(c, m->oblock, m->cblock);
	c->blocks[m->cblock].mig = 0;
	w = m->waiters;
	m->waiters = NULL;
	cache_stripe_unlock(s);
	ubt_io_wake_all(q, w);
}

/* ---- Copies ------------------------------------------------------------ */

static void copy_step(struct cache_mig *m, struct ubt_queue *q);
static void mig_finish(struct cache_mig *m, struct ubt_queue *q);

static int copy_io(struct ubt_io *io)
{
	struct cache_io *cio = io->priv;
	struct cache_mig *m = cio->mig;

	return ubt_io_remap(io, m->reading ? m->src : m->dst, io->sector);
}

static void copy_done(struct ubt_io *io, int res)
{
	struct cache_mig *m = ((struct cache_io *)io->priv)->mig;

	if (res < 0) {
		m->result = res;
		mig_finish(m, io->q);
		return;
	}
	if (m->reading) {
		m->reading = false;
	} else {
		m->done += m->step;
		m->reading = true;
	}
	if (m->done == m->c->block_sectors)
		mig_finish(m, io->q);
	else
		copy_step(m, io->q);
}

/* The next read or write of the copy, on q. */
static void copy_step(struct cache_mig *m, struct ubt_queue *q)
{
	struct cache *c = m->c;
	struct ubt_io *io = ubt_bg_io(q, c->t, copy_done);

	if (!io) {	/* every queue keeps a tag per migration: cannot happen */
		m->result = -EBUSY;
		mig_finish(m, q);
		return;
	}
	((struct cache_io *)io->priv)->mig = m;
	m->step = (uint32_t)UBT_MIN(c->block_sectors - m->done, CACHE_STEP_BYTES >> UBT_SECTOR_SHIFT);
	io->op = m->reading ? UBT_OP_READ : UBT_OP_WRITE;
	io->flags = 0;
	io->sector = (m->reading ? m->src_sector : m->dst_sector) + m->done;
	io->nr_sectors = m->step;
	m->iov.iov_base = m->buf;
	m->iov.iov_len = (size_t)m->step << UBT_SECTOR_SHIFT;
	io->iov = &m->iov;
	io->iovcnt = 1;
	ubt_bg_submit(io, copy_io);
}

static void copy_start(struct cache_mig *m, struct ubt_queue *q, bool to_cache)
{
	struct cache *c = m->c;
	uint64_t osec = m->oblock * c->block_sectors, csec = (uint64_t)m->cblock * c->block_sectors;

	m->src = to_cache ? c->origin : c->cdev;
	m->dst = to_cache ? c->cdev : c->origin;
	m->src_sector = to_cache ? osec : csec;
	m->dst_sector = to_cache ? csec : osec;
	m->reading = true;
	copy_step(m, q);
}

/* ---- Migrations -------------------------------------------------------- */

static void mig_finish(struct cache_mig *m, struct ubt_queue *q)
{
	struct cache *c = m->c;
	bool ok = m->result >= 0;

	switch (m->kind) {
	case MIG_PROMOTE:
		if (ok) {
			pthread_mutex_lock(&c->meta_lock);
			cache_meta_set(&c->meta, m->cblock, m->oblock, false);
			pthread_mutex_unlock(&c->meta_lock);
			__atomic_fetch_add(&c->stats.promotions, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&c->nr_resident, 1, __ATOMIC_RELAXED);
			cache_policy_added(c, m->cblock, false, m->level);
		}
		release_block(c, q, m, !ok);
		if (!ok)
			cache_policy_free(c, m->cblock);
		break;
	case MIG_WRITEBACK:
		if (ok) {
			pthread_mutex_lock(&c->meta_lock);
			cache_meta_set(&c->meta, m->cblock, m->oblock, false);
			pthread_mutex_unlock(&c->meta_lock);
			__atomic_fetch_sub(&c->nr_dirty, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&c->stats.writebacks, 1, __ATOMIC_RELAXED);
		}
		/* Back where it was on its queue: clean now, or still dirty. */
		cache_policy_requeue(c, m->cblock, !ok, m->level);
		release_block(c, q, m, false);
		break;
	default:
		break;
	}
	slot_put(c, m);
	cache_kick(c, q);
}

void cache_mig_committed(struct cache_mig *m, struct ubt_queue *q, int res)
{
	struct cache *c = m->c;

	/* A demotion or invalidation: the unmapping is on disk, the block may take another. */
	if (res >= 0) {
		if (m->kind == MIG_DEMOTE)
			__atomic_fetch_add(&c->stats.demotions, 1, __ATOMIC_RELAXED);
		release_block(c, q, m, false);
		pthread_mutex_lock(&c->mig_lock);
		c->blocks[m->cblock].invalid = 0;
		pthread_mutex_unlock(&c->mig_lock);
		cache_policy_free(c, m->cblock);
	}
	/* A failed commit keeps the block out of use: its mapping may still be on disk. */
	slot_put(c, m);
	cache_kick(c, q);
}

/* Hold cblock for m if nothing uses it; the stripe lock is taken here. */
static bool hold_block(struct cache *c, struct cache_mig *m, bool unhash)
{
	struct cache_stripe *s = cache_stripe(c, m->oblock);
	bool ok;

	cache_stripe_lock(s);
	ok = !__atomic_load_n(&c->blocks[m->cblock].users, __ATOMIC_ACQUIRE) &&
	     !c->blocks[m->cblock].mig;
	if (ok) {
		c->blocks[m->cblock].mig = slot_id(c, m);
		if (unhash)
			cache_hash_remove(c, m->oblock, m->cblock);
	}
	cache_stripe_unlock(s);
	return ok;
}

/* Not when the block is cached meanwhile; later (-EAGAIN) while a miss write changes it. */
static bool start_promotion(struct cache *c, struct cache_mig *m, struct ubt_queue *q)
{
	struct cache_stripe *s = cache_stripe(c, m->oblock);
	bool ok;

	cache_stripe_lock(s);
	ok = cache_lookup(c, m->oblock) == CACHE_NONE;
	if (ok && cache_miss_writes(s, m->oblock)) {
		m->result = -EAGAIN;
		ok = false;
	}
	if (ok) {
		c->blocks[m->cblock].mig = slot_id(c, m);
		cache_hash_insert(c, m->oblock, m->cblock);
	}
	cache_stripe_unlock(s);
	if (!ok)
		return false;
	copy_start(m, q, true);
	return true;
}

static bool start_writeback(struct cache *c, struct cache_mig *m, struct ubt_queue *q)
{
	if (!hold_block(c, m, false))
		return false;
	copy_start(m, q, false);
	return true;
}

static bool start_demotion(struct cache *c, struct cache_mig *m, struct ubt_queue *q)
{
	if (!hold_block(c, m, true))
		return false;
	/* (Out of the lookup in the same breath as held: no request waits on it.) */
	pthread_mutex_lock(&c->meta_lock);
	cache_meta_clear(&c->meta, m->cblock);
	pthread_mutex_unlock(&c->meta_lock);
	__atomic_fetch_sub(&c->nr_resident, 1, __ATOMIC_RELAXED);
	cache_commit_request_mig(c, q, m);
	return true;
}

void cache_invalidate(struct cache *c, uint32_t cblock, uint64_t oblock)
{
	struct cache_stripe *s = cache_stripe(c, oblock);
	bool mapped;

	/* Two failed pieces of one block: the first one unmaps it. */
	cache_stripe_lock(s);
	mapped = cache_lookup(c, oblock) == cblock;
	if (mapped)
		cache_hash_remove(c, oblock, cblock);
	cache_stripe_unlock(s);
	if (!mapped)
		return;
	pthread_mutex_lock(&c->meta_lock);
	cache_meta_clear(&c->meta, cblock);
	pthread_mutex_unlock(&c->meta_lock);
	__atomic_fetch_sub(&c->nr_resident, 1, __ATOMIC_RELAXED);
	/* Off the policy's queues for good (a migration that claimed it does not put it back). */
	pthread_mutex_lock(&c->mig_lock);
	pthread_mutex_lock(&c->policy_lock);
	cache_policy_unlink(c, cblock);
	c->blocks[cblock].invalid = 1;
	c->nr_invalid++;
	pthread_mutex_unlock(&c->policy_lock);
	pthread_mutex_unlock(&c->mig_lock);
	cache_work(c);	/* the request's end kicks the background work */
}

/*
 * Under mig lock: an invalidated block no request uses any more, or
 * CACHE_NONE.  Nothing finds it in the lookup, so its users only go down.
 */
static uint32_t take_invalid(struct cache *c)
{
	uint32_t cb;

	for (cb = 0; cb < c->nr_cblocks; cb++) {
		if (c->blocks[cb].invalid != 1 ||
		    __atomic_load_n(&c->blocks[cb].users, __ATOMIC_ACQUIRE))
			continue;
		c->blocks[cb].invalid = 2;	/* claimed */
		c->nr_invalid--;
		return cb;
	}
	return CACHE_NONE;
}

/*
 * Pick the next piece of work and a slot for it (policy and mig locks
 * taken here); false when there is none or no room.
 */
static bool claim(struct cache *c, struct cache_mig **out)
{
	struct cache_promotion p;
	struct cache_mig *m = NULL;
	uint32_t cb;
	bool idle = __atomic_load_n(&c->idle, __ATOMIC_RELAXED);

	pthread_mutex_lock(&c->mig_lock);
	if (c->active >= mig_limit(c)) {
		pthread_mutex_unlock(&c->mig_lock);
		return false;
	}
	pthread_mutex_lock(&c->policy_lock);
	if (c->nr_invalid && (cb = take_invalid(c)) != CACHE_NONE) {
		m = slot_get(c, MIG_INVALIDATE);
		m->cblock = cb;
		m->oblock = 0;	/* unmapped: no request waits on it under any stripe */
	} else if (cache_policy_next_promotion(c, &p)) {
		m = slot_get(c, MIG_PROMOTE);
		m->oblock = p.oblock;
		m->cblock = p.cblock;
		m->level = p.level;
	} else if ((cb = cache_policy_demotion(c)) != CACHE_NONE) {
		m = slot_get(c, MIG_DEMOTE);
		m->cblock = cb;
		m->oblock = cache_meta_oblock(&c->meta, cb);
		m->level = c->blocks[cb].level;
		cache_policy_unlink(c, cb);
	} else if (writeback_allowed(c) && (cb = cache_policy_writeback(c, idle)) != CACHE_NONE) {
		m = slot_get(c, MIG_WRITEBACK);
		m->cblock = cb;
		m->oblock = cache_meta_oblock(&c->meta, cb);
		m->level = c->blocks[cb].level;
		cache_policy_unlink(c, cb);
	}
	pthread_mutex_unlock(&c->policy_lock);
	pthread_mutex_unlock(&c->mig_lock);
	*out = m;
	return m != NULL;
}

/* Work that could not start (its block is in use): back where it came from. */
static void unclaim(struct cache *c, struct cache_mig *m)
{
	switch (m->kind) {
	case MIG_PROMOTE:
		if (m->result == -EAGAIN)
			cache_policy_defer_promotion(c, &(struct cache_promotion){ m->oblock, m->cblock,
										 m->level });
		else
			cache_policy_free(c, m->cblock);
		break;
	case MIG_DEMOTE:
	case MIG_WRITEBACK:
		cache_policy_requeue(c, m->cblock, m->kind == MIG_WRITEBACK, m->level);
		break;
	default:
		break;
	}
	slot_put(c, m);
}

void cache_kick(struct cache *c, struct ubt_queue *q)
{
	struct cache_mig *m;
	unsigned int tries;
	bool started;

	if (ubt_queue_stopping(q))
		return;
	/* A few tries: work whose block is in use goes back and waits for the next kick. */
	for (tries = 0; tries < CACHE_MIGRATIONS && claim(c, &m); tries++) {
		switch (m->kind) {
		case MIG_PROMOTE:
			started = start_promotion(c, m, q);
			break;
		case MIG_DEMOTE:
			started = start_demotion(c, m, q);
			break;
		case MIG_INVALIDATE:
			c->blocks[m->cblock].mig = slot_id(c, m);
			cache_commit_request_mig(c, q, m);
			started = true;
			break;
		default:
			started = start_writeback(c, m, q);
			break;
		}
		if (!started)
			unclaim(c, m);
	}
	cache_tick_arm(c, q);
}

/* ---- Overwrite promotions (map.c) -------------------------------------- */

struct cache_mig *cache_overwrite_begin(struct cache *c, uint64_t oblock, uint32_t cblock)
{
	struct cache_mig *m;

	pthread_mutex_lock(&c->mig_lock);
	m = slot_get(c, MIG_OVERWRITE);
	if (m) {
		m->oblock = oblock;
		m->cblock = cblock;
		c->blocks[cblock].mig = slot_id(c, m);
	}
	pthread_mutex_unlock(&c->mig_lock);
	return m;
}

void cache_overwrite_done(struct cache *c, struct ubt_queue *q, uint32_t cblock, int res)
{
	struct cache_mig *m = &c->migs[c->blocks[cblock].mig - 1];

	if (res >= 0) {
		pthread_mutex_lock(&c->meta_lock);
		cache_meta_set(&c->meta, cblock, m->oblock, true);
		pthread_mutex_unlock(&c->meta_lock);
		__atomic_fetch_add(&c->stats.promotions, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->nr_resident, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->nr_dirty, 1, __ATOMIC_RELAXED);
		cache_policy_added(c, cblock, true, CACHE_LEVELS - 1);
		cache_work(c);
	}
	release_block(c, q, m, res < 0);
	if (res < 0)
		cache_policy_free(c, cblock);
	slot_put(c, m);
}

/* ---- The tick ---------------------------------------------------------- */

static bool background_left(struct cache *c)
{
	bool left;

	pthread_mutex_lock(&c->mig_lock);
	left = c->active > 0;
	pthread_mutex_unlock(&c->mig_lock);
	return left || cache_policy_busy(c) || cache_meta_pending(c);
}

static int tick_fire(struct ubt_io *io)
{
	(void)io;
	return 0;
}

static int tick_wait(struct ubt_io *io)
{
	struct cache *c = io->t->private;

	ubt_io_after_idle(io, &c->tick_timer, TICK_NS, tick_fire);
	return 0;
}

static void tick_done(struct ubt_io *io, int res)
{
	struct cache *c = io->t->private;
	struct ubt_queue *q = io->q;
	uint64_t ios = __atomic_load_n(&c->ios, __ATOMIC_RELAXED), now = ubt_now_ns();

	pthread_mutex_lock(&c->mig_lock);
	c->ticking = false;
	c->tick_q = NULL;
	pthread_mutex_unlock(&c->mig_lock);
	if (ubt_queue_stopping(q) || res < 0)
		return;
	__atomic_store_n(&c->idle, ios == c->ios_at_tick, __ATOMIC_RELAXED);
	c->ios_at_tick = ios;
	cache_policy_tick(c);
	if (cache_meta_pending(c) && now - c->commit.last_ns >= TICK_NS)
		cache_commit_request(c, q, NULL);
	cache_kick(c, q);	/* re-arms the tick while work is left */
}

void cache_tick_arm(struct cache *c, struct ubt_queue *q)
{
	struct ubt_io *io;

	if (ubt_queue_stopping(q) || __atomic_load_n(&c->ticking, __ATOMIC_RELAXED) || !background_left(c))
		return;
	pthread_mutex_lock(&c->mig_lock);
	if (c->ticking) {
		pthread_mutex_unlock(&c->mig_lock);
		return;
	}
	c->ticking = true;
	c->tick_q = q;
	pthread_mutex_unlock(&c->mig_lock);
	io = ubt_bg_io(q, c->t, tick_done);
	if (!io) {
		pthread_mutex_lock(&c->mig_lock);
		c->ticking = false;
		c->tick_q = NULL;
		pthread_mutex_unlock(&c->mig_lock);
		return;
	}
	((struct cache_io *)io->priv)->mig = NULL;
	io->op = UBT_OP_FLUSH;	/* carries nothing; only waits */
	io->sector = 0;
	io->nr_sectors = 0;
	io->iov = NULL;
	io->iovcnt = 0;
	ubt_bg_submit(io, tick_wait);
}

/* A queue going away drops a tick waiting on its ring: another queue may start one. */
void cache_tick_queue_exit(struct cache *c, struct ubt_queue *q)
{
	pthread_mutex_lock(&c->mig_lock);
	if (c->tick_q == q) {
		c->ticking = false;
		c->tick_q = NULL;
	}
	pthread_mutex_unlock(&c->mig_lock);
}
