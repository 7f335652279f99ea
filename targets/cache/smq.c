// SPDX-License-Identifier: MIT
/*
 * The cache policy, smq-like (dm-cache-policy-smq.c in spirit):
 *
 * - Cache blocks sit on multilevel queues (64 levels, a clean and a dirty
 *   one); a hit sets the block's hit flag (no lock), and each tick moves
 *   every flagged block up a level, then spreads each queue evenly over
 *   the levels again (what climbed pushes the untouched down).
 * - Misses are tracked per hotspot (a run of origin blocks, 16 cache blocks
 *   wide unless the origin is small), on a multilevel queue of their own;
 *   a hotspot entry comes in at the bottom, recycling the coldest one.
 * - A miss promotes when its hotspot missed before (repeated misses) and
 *   either a block is free or the hotspot is hotter than the block that
 *   would leave for it (victim()), which is then demoted; a dirty block can
 *   only leave once written back, and a block hit in the last
 *   CACHE_HIT_TICKS ticks never leaves for a miss.  "Missed before" is the
 *   hotspot entry's count, or a bit for the hotspot in a filter of the
 *   misses since the last tick: the entries are far fewer than the
 *   origin's hotspots, and while a cold cache misses everywhere a new entry
 *   is recycled before its hotspot can miss again, which would keep the
 *   cache from warming up.  While the
 *   cache has room for it, a hotspot that earns a promotion is brought in
 *   whole, not only the block missed; the neighbours come in at the
 *   bottom of the clean queue, the block missed at the top.  A whole-block
 *   write in writeback promotes at once, into a free block, without
 *   reading the origin.
 * - Writeback: the coldest dirty block, when the device is idle (from a
 *   tick that saw no request until the next request); the cleaner writes
 *   back everything, idle or not, and promotes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/util.h"
#include "cache.h"

static struct cache_mlq *queue_of(struct cache *c, uint32_t i)
{
	return c->blocks[i].queue == CQ_DIRTY ? &c->pol.dirty : &c->pol.clean;
}

/* ---- Hotspots ---------------------------------------------------------- */

static uint32_t hs_hash(const struct cache_policy *p, uint32_t hb)
{
	return (uint32_t)((hb * 0x9E3779B97F4A7C15ULL) >> 32) & p->hs_mask;
}

static void hs_unhash(struct cache_policy *p, uint32_t i)
{
	uint32_t *pp = &p->hs_buckets[hs_hash(p, p->hs[i].hb)];

	while (*pp != i)
		pp = &p->hs[*pp].hash_next;
	*pp = p->hs[i].hash_next;
}

/* The hotspot entry of hb, brought in at the bottom (recycling the coldest) if new. */
static struct cache_hotspot *hotspot(struct cache_policy *p, uint32_t hb)
{
	uint32_t b = hs_hash(p, hb), i;

	for (i = p->hs_buckets[b]; i != CACHE_NONE; i = p->hs[i].hash_next)
		if (p->hs[i].hb == hb)
			return &p->hs[i];
	i = cache_mlq_coldest(&p->hsq, CACHE_LEVELS);	/* every entry is always on the queue */
	cache_mlq_del(&p->hsq, i);
	if (p->hs[i].in_use)
		hs_unhash(p, i);
	p->hs[i] = (struct cache_hotspot){ .hb = hb, .hash_next = p->hs_buckets[b], .in_use = 1 };
	p->hs_buckets[b] = i;
	cache_mlq_push(&p->hsq, i, 0);
	return &p->hs[i];
}

/* Whether hb missed since the last tick (a hash collision may say yes); notes that it did now. */
static bool missed_recently(struct cache_policy *p, uint32_t hb)
{
	uint32_t bit = (uint32_t)((hb * 0xC2B2AE3D27D4EB4FULL) >> 32) & p->recent_mask;
	uint64_t *w = &p->recent[bit / 64], m = 1ULL << (bit % 64);
	bool was = *w & m;

	*w |= m;
	return was;
}

/* ---- The policy -------------------------------------------------------- */

static void tick_locked(struct cache *c);

int cache_policy_init(struct cache *c, bool cleaner)
{
	struct cache_policy *p = &c->pol;
	uint32_t i, buckets = 1;
	uint64_t bits;

	memset(p, 0, sizeof(*p));
	p->cleaner = cleaner;
	CACHE_MLQ_INIT(&p->clean, c->blocks, struct cache_block);
	CACHE_MLQ_INIT(&p->dirty, c->blocks, struct cache_block);
	p->free_head = CACHE_NONE;
	for (i = c->nr_cblocks; i-- > 0;) {
		c->blocks[i].queue = CQ_FREE;
		c->blocks[i].next = p->free_head;
		p->free_head = i;
	}
	p->nr_free = c->nr_cblocks;
	/* Hotspots 16 cache blocks wide, fewer when the origin is small. */
	p->hotspot_blocks = 16;
	while (p->hotspot_blocks > 1 && c->origin_blocks / p->hotspot_blocks < c->nr_cblocks)
		p->hotspot_blocks /= 2;
	p->nr_hotspots = UBT_MAX(c->nr_cblocks / 16, 1024);
	while (buckets < p->nr_hotspots / 2)
		buckets <<= 1;
	p->hs_mask = buckets - 1;
	p->hs = calloc(p->nr_hotspots, sizeof(*p->hs));
	p->hs_buckets = malloc(buckets * sizeof(*p->hs_buckets));
	/* Four bits per cache block (at least 4096): few collisions in a tick's misses. */
	bits = 4096;
	while (bits < 4ull * c->nr_cblocks)
		bits <<= 1;
	p->recent_mask = (uint32_t)(bits - 1);
	p->recent = calloc(bits / 64, sizeof(*p->recent));
	if (!p->hs || !p->hs_buckets || !p->recent) {
		cache_policy_exit(c);
		return -ENOMEM;
	}
	memset(p->hs_buckets, 0xff, buckets * sizeof(*p->hs_buckets));
	CACHE_MLQ_INIT(&p->hsq, p->hs, struct cache_hotspot);
	for (i = 0; i < p->nr_hotspots; i++)
		cache_mlq_push(&p->hsq, i, 0);
	return 0;
}

void cache_policy_exit(struct cache *c)
{
	free(c->pol.hs);
	free(c->pol.hs_buckets);
	free(c->pol.recent);
	c->pol.hs = NULL;
	c->pol.hs_buckets = NULL;
	c->pol.recent = NULL;
}

/* Take cblock off the free list (it is known to be there). */
static void take_free(struct cache *c, uint32_t cblock)
{
	uint32_t *pp = &c->pol.free_head;

	while (*pp != cblock)
		pp = &c->blocks[*pp].next;
	*pp = c->blocks[cblock].next;
	c->pol.nr_free--;
	c->blocks[cblock].queue = CQ_NONE;
}

static uint32_t alloc_free(struct cache *c)
{
	uint32_t i = c->pol.free_head;

	if (i == CACHE_NONE)
		return i;
	c->pol.free_head = c->blocks[i].next;
	c->pol.nr_free--;
	c->blocks[i].queue = CQ_NONE;
	return i;
}

void cache_policy_load(struct cache *c, uint32_t cblock, bool dirty)
{
	take_free(c, cblock);
	c->blocks[cblock].queue = dirty ? CQ_DIRTY : CQ_CLEAN;
	/* Loaded blocks start low: what was hot comes back up by its hits. */
	cache_mlq_push(dirty ? &c->pol.dirty : &c->pol.clean, cblock, 0);
}

void cache_policy_requeue(struct cache *c, uint32_t cblock, bool dirty, unsigned int level)
{
	pthread_mutex_lock(&c->policy_lock);
	/* A migration that did not start, on a block invalidated meanwhile: migrate.c frees it. */
	if (c->blocks[cblock].invalid) {
		pthread_mutex_unlock(&c->policy_lock);
		return;
	}
	c->blocks[cblock].queue = dirty ? CQ_DIRTY : CQ_CLEAN;
	cache_mlq_push(dirty ? &c->pol.dirty : &c->pol.clean, cblock, level);
	pthread_mutex_unlock(&c->policy_lock);
}

void cache_policy_added(struct cache *c, uint32_t cblock, bool dirty, unsigned int level)
{
	/* As if hit now: a block just brought in has a few ticks to be hit before it may leave. */
	__atomic_store_n(&c->blocks[cblock].hit, 1, __ATOMIC_RELAXED);
	cache_policy_requeue(c, cblock, dirty, level);
}

void cache_policy_set_dirty(struct cache *c, uint32_t cblock, bool dirty)
{
	unsigned int level;

	pthread_mutex_lock(&c->policy_lock);
	if (c->blocks[cblock].queue == (dirty ? CQ_CLEAN : CQ_DIRTY)) {
		level = c->blocks[cblock].level;
		cache_mlq_del(queue_of(c, cblock), cblock);
		c->blocks[cblock].queue = dirty ? CQ_DIRTY : CQ_CLEAN;
		cache_mlq_push(queue_of(c, cblock), cblock, level);
	}
	pthread_mutex_unlock(&c->policy_lock);
}

void cache_policy_free(struct cache *c, uint32_t cblock)
{
	pthread_mutex_lock(&c->policy_lock);
	c->blocks[cblock].queue = CQ_FREE;
	c->blocks[cblock].next = c->pol.free_head;
	c->pol.free_head = cblock;
	c->pol.nr_free++;
	pthread_mutex_unlock(&c->policy_lock);
}

void cache_policy_unlink(struct cache *c, uint32_t cblock)
{
	if (c->blocks[cblock].queue == CQ_CLEAN || c->blocks[cblock].queue == CQ_DIRTY)
		cache_mlq_del(queue_of(c, cblock), cblock);
	c->blocks[cblock].queue = CQ_NONE;
}

static bool promotion_queued(const struct cache_policy *p, uint64_t oblock)
{
	unsigned int i;

	for (i = 0; i < p->nr_promote; i++)
		if (p->promote[i].oblock == oblock)
			return true;
	return false;
}

/*
 * The block a promotion would push out: the coldest clean one below level
 * `below` not hit in the last CACHE_HIT_TICKS ticks, of the few coldest (a
 * block in use low on the queue does not shield the unused ones above it).
 */
static uint32_t victim(struct cache *c, unsigned int below)
{
	uint32_t i = cache_mlq_coldest(&c->pol.clean, below);
	unsigned int n;

	for (n = 0; i != CACHE_NONE && n < CACHE_VICTIM_LOOK; n++) {
		if (!__atomic_load_n(&c->blocks[i].hit, __ATOMIC_RELAXED))
			return i;
		i = cache_mlq_warmer(&c->pol.clean, i, below);
	}
	return CACHE_NONE;
}

/*
 * While the cache has room for all of it, a hotspot that earns a promotion
 * is brought in whole (once per entry): a cold cache then fills from the
 * regions in use at the pace of migrations, not of one block per miss.
 * Neighbours never hit sink to the bottom of the clean queue and are the
 * first to leave once the room is gone.
 */
static void queue_fill(struct cache *c, struct cache_hotspot *h)
{
	struct cache_policy *p = &c->pol;
	uint64_t first = (uint64_t)h->hb * p->hotspot_blocks;

	if (h->filled || p->hotspot_blocks < 2 || p->nr_free < p->hotspot_blocks ||
	    p->nr_fill == CACHE_FILLS)
		return;
	h->filled = 1;
	p->fill[p->nr_fill++] = (struct cache_fill){
		first, UBT_MIN(first + p->hotspot_blocks, c->origin_blocks) };
}

uint32_t cache_policy_miss(struct cache *c, uint64_t oblock, bool write, bool whole_block)
{
	struct cache_policy *p = &c->pol;
	struct cache_hotspot *h;
	uint32_t cblock = CACHE_NONE, leaver, hb;
	bool promote, again;

	pthread_mutex_lock(&c->policy_lock);
	/* Ticks come with time (migrate.c), and with misses: a cacheful of them is one. */
	if (++p->misses_since_tick >= UBT_MAX(c->nr_cblocks, 64u)) {
		p->misses_since_tick = 0;
		tick_locked(c);
	}
	hb = (uint32_t)(oblock / p->hotspot_blocks);
	again = missed_recently(p, hb);
	h = hotspot(p, hb);
	h->hit = 1;
	if (h->hits < UINT8_MAX)
		h->hits++;
	if (p->cleaner || c->mode == CACHE_PASSTHROUGH)
		goto out;
	if (write && whole_block && c->mode == CACHE_WRITEBACK && p->nr_free) {
		cblock = alloc_free(c);
		goto out;
	}
	/*
	 * Repeated misses, and room, or hotter than what would leave for it,
	 * a block not hit lately (victim()).  Level alone would let a stream
	 * of misses to cold hotspots (which climb their own queue) push out
	 * blocks in use: each tick spreads the clean queue over all levels
	 * again, so some block in use is always lowest.
	 */
	promote = (h->hits >= 2 || again) &&
		  (p->nr_free || ((leaver = victim(c, CACHE_LEVELS / 2)) != CACHE_NONE &&
				  h->level > c->blocks[leaver].level));
	if (!promote || promotion_queued(p, oblock) || p->nr_promote == CACHE_PROMOTE_QUEUE)
		goto out;
	if (!p->nr_free) {
		p->want_demotion = true;
	} else {
		/* It comes in at the top: it was missed repeatedly. */
		p->promote[p->nr_promote++] = (struct cache_promotion){ oblock, alloc_free(c),
									CACHE_LEVELS - 1 };
		queue_fill(c, h);
	}
	cache_work(c);
out:
	pthread_mutex_unlock(&c->policy_lock);
	return cblock;
}

bool cache_policy_next_promotion(struct cache *c, struct cache_promotion *out)
{
	struct cache_policy *p = &c->pol;

	if (p->nr_promote) {
		/* Newest first: the hottest miss is the latest one (dm's tracker is LIFO too). */
		*out = p->promote[--p->nr_promote];
		if (p->nr_promote < p->nr_deferred)	/* it was one put back */
			__atomic_store_n(&p->nr_deferred, p->nr_promote, __ATOMIC_RELAXED);
		return true;
	}
	while (p->nr_fill) {
		struct cache_fill *f = &p->fill[p->nr_fill - 1];

		if (f->next == f->end) {
			p->nr_fill--;
			continue;
		}
		if (!p->nr_free) {	/* the room is gone: so are the fills */
			p->nr_fill = 0;
			break;
		}
		/*
		 * At the bottom: not missed itself, it must be hit to stay.  (A
		 * block already cached or being written is dropped when the copy
		 * would start.)
		 */
		*out = (struct cache_promotion){ f->next++, alloc_free(c), 0 };
		return true;
	}
	return false;
}

/*
 * A write miss to the block was in flight when its promotion would have
 * started (the copy could read the origin before the write reached it):
 * back at the bottom of the queue, behind the newer misses, to start once
 * a miss write has ended (piece_end() asks for work while any wait).  A
 * write miss that itself earned its block's promotion (randrw warming up)
 * used to lose it here.
 */
void cache_policy_defer_promotion(struct cache *c, const struct cache_promotion *pr)
{
	struct cache_policy *p = &c->pol;

	pthread_mutex_lock(&c->policy_lock);
	if (p->cleaner || p->nr_promote == CACHE_PROMOTE_QUEUE) {
		pthread_mutex_unlock(&c->policy_lock);
		cache_policy_free(c, pr->cblock);
		return;
	}
	memmove(&p->promote[1], &p->promote[0], p->nr_promote * sizeof(p->promote[0]));
	p->promote[0] = *pr;
	p->nr_promote++;
	__atomic_store_n(&p->nr_deferred, p->nr_deferred + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->policy_lock);
}

uint32_t cache_policy_demotion(struct cache *c)
{
	struct cache_policy *p = &c->pol;

	if (!p->want_demotion || p->nr_free)
		return CACHE_NONE;
	p->want_demotion = false;
	/* The bottom half only: a block still hot stays. */
	return victim(c, CACHE_LEVELS / 2);
}

uint32_t cache_policy_writeback(struct cache *c, bool idle)
{
	struct cache_policy *p = &c->pol;

	if (!p->cleaner && !idle && !(p->want_demotion && !p->clean.count))
		return CACHE_NONE;
	return cache_mlq_coldest(&p->dirty, CACHE_LEVELS);
}

static void tick_locked(struct cache *c)
{
	memset(c->pol.recent, 0, ((size_t)c->pol.recent_mask + 1) / 8);
	cache_mlq_tick(&c->pol.clean);
	cache_mlq_tick(&c->pol.dirty);
	cache_mlq_tick(&c->pol.hsq);
}

void cache_policy_tick(struct cache *c)
{
	pthread_mutex_lock(&c->policy_lock);
	tick_locked(c);
	pthread_mutex_unlock(&c->policy_lock);
}

void cache_policy_set_cleaner(struct cache *c)
{
	struct cache_policy *p = &c->pol;

	pthread_mutex_lock(&c->policy_lock);
	p->cleaner = true;
	/* Promotions asked for and not started give their blocks back. */
	p->nr_deferred = 0;
	while (p->nr_promote) {
		uint32_t cb = p->promote[--p->nr_promote].cblock;

		c->blocks[cb].queue = CQ_FREE;
		c->blocks[cb].next = p->free_head;
		p->free_head = cb;
		p->nr_free++;
	}
	p->nr_fill = 0;
	p->want_demotion = false;
	pthread_mutex_unlock(&c->policy_lock);
	cache_work(c);
}

bool cache_policy_busy(struct cache *c)
{
	bool busy;

	pthread_mutex_lock(&c->policy_lock);
	busy = c->pol.nr_promote || c->pol.nr_fill || c->pol.want_demotion || c->pol.dirty.count;
	pthread_mutex_unlock(&c->policy_lock);
	return busy;
}
