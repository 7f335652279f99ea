// SPDX-License-Identifier: MIT
/*
 * The cache's request path (dm-cache-target.c's map_bio and friends).
 *
 * A request is served a cache block at a time, in order (the block layer
 * sends whole-block requests when the cache is the device: its block is
 * the device's chunk_sectors).  For each piece, under its stripe's lock:
 * - mapped, and a migration holds the block: the request waits for it;
 * - mapped (a hit): the block gets one more user, so no migration can
 *   start on it, and the piece goes to the cache block (a read; a write in
 *   writeback, which makes the block dirty first); in writethrough (and
 *   passthrough, which keeps the cached copy right instead of dropping
 *   it) a write goes to the cache and the origin both, while the block is
 *   clean; a passthrough read goes to the origin;
 * - not mapped (a miss): the origin; a write is counted in the stripe so
 *   no promotion copies the block under it.  The policy hears of the miss
 *   and may queue a promotion, or, for a whole-block write in writeback,
 *   hand over a free block that the write itself fills (an overwrite
 *   promotion: no origin read).
 * Discards go to the origin only (dm's passdown), or nowhere.  A FLUSH
 * waits for a metadata commit (which flushes origin and cache first); a
 * FUA write that reached the cache waits for one too.
 */
#include <errno.h>
#include <string.h>

#include "ubt/util.h"
#include "cache.h"

/* ---- Lookup ------------------------------------------------------------ */

/* The origin block a chain entry stands for: its mapping, or the migration filling it. */
static uint64_t entry_oblock(struct cache *c, uint32_t cb)
{
	uint8_t mig = c->blocks[cb].mig;

	if (mig && (c->migs[mig - 1].kind == MIG_PROMOTE || c->migs[mig - 1].kind == MIG_OVERWRITE))
		return c->migs[mig - 1].oblock;
	return __atomic_load_n(&c->meta.map[cb], __ATOMIC_RELAXED) >> 2;
}

uint32_t cache_lookup(struct cache *c, uint64_t oblock)
{
	uint32_t cb;

	for (cb = c->buckets[cache_bucket(c, oblock)]; cb != CACHE_NONE; cb = c->blocks[cb].hash_next)
		if (entry_oblock(c, cb) == oblock)
			return cb;
	return CACHE_NONE;
}

void cache_hash_insert(struct cache *c, uint64_t oblock, uint32_t cblock)
{
	uint32_t *head = &c->buckets[cache_bucket(c, oblock)];

	c->blocks[cblock].hash_next = *head;
	*head = cblock;
}

void cache_hash_remove(struct cache *c, uint64_t oblock, uint32_t cblock)
{
	uint32_t *pp = &c->buckets[cache_bucket(c, oblock)];

	while (*pp != CACHE_NONE && *pp != cblock)
		pp = &c->blocks[*pp].hash_next;
	if (*pp == cblock)
		*pp = c->blocks[cblock].hash_next;
	c->blocks[cblock].hash_next = CACHE_NONE;
}

bool cache_miss_writes(struct cache_stripe *s, uint64_t oblock)
{
	unsigned int i;

	if (s->miss_overflow)
		return true;
	for (i = 0; i < CACHE_MISS_WRITES; i++)
		if (s->miss_writes[i] && s->miss_oblock[i] == oblock)
			return true;
	return false;
}

/* Stripe lock held: count a miss write to oblock. */
static void miss_write_get(struct cache_stripe *s, uint64_t oblock)
{
	unsigned int i, spare = CACHE_MISS_WRITES;

	for (i = 0; i < CACHE_MISS_WRITES; i++) {
		if (s->miss_writes[i] && s->miss_oblock[i] == oblock) {
			s->miss_writes[i]++;
			return;
		}
		if (!s->miss_writes[i] && spare == CACHE_MISS_WRITES)
			spare = i;
	}
	if (spare == CACHE_MISS_WRITES) {
		s->miss_overflow++;
		return;
	}
	s->miss_oblock[spare] = oblock;
	s->miss_writes[spare] = 1;
}

static void miss_write_put(struct cache_stripe *s, uint64_t oblock)
{
	unsigned int i;

	for (i = 0; i < CACHE_MISS_WRITES; i++) {
		if (s->miss_writes[i] && s->miss_oblock[i] == oblock) {
			s->miss_writes[i]--;
			return;
		}
	}
	s->miss_overflow--;
}

/* ---- Pieces ------------------------------------------------------------ */

static bool is_write(const struct ubt_io *io)
{
	return io->op == UBT_OP_WRITE || io->op == UBT_OP_WRITE_ZEROES;
}

/*
 * A child I/O of io for the piece, to node n at sector `sector`, with the
 * piece's slice of the data (each child its own copy: a short transfer
 * advances a child's iovecs in place), counted in the piece, not yet sent.
 * A request that is one piece lends its own iovecs to its first child, as
 * a remap does (nothing reads them after it); a second child (writethrough)
 * copies them, before either is sent.
 */
static struct ubt_io *piece_child(struct ubt_io *io, struct ubt_target *n, uint64_t sector)
{
	struct cache_io *cio = io->priv;
	struct ubt_io *ch = ubt_io_child(io, n);

	if (!ch)
		return NULL;
	ch->sector = sector;
	ch->nr_sectors = cio->piece;
	ch->iov = NULL;
	ch->iovcnt = cio->iovcnt;	/* 0 for a request without data */
	if (io->iovcnt) {
		/* The slice: the request's own iovecs when it is one piece. */
		struct iovec *slice = cio->whole ? io->iov : cio->iov;

		ch->iov = slice;
		if (cio->children) {
			ch->iov = cio->iov + (cio->whole ? 0 : io->t->max_iov_in);
			memcpy(ch->iov, slice, cio->iovcnt * sizeof(*ch->iov));
		}
	}
	cio->children++;
	return ch;
}

static int send_piece(struct ubt_io *io, struct ubt_target *n, uint64_t sector)
{
	struct ubt_io *ch = piece_child(io, n, sector);

	if (!ch)
		return -ENOMEM;
	ubt_io_submit(ch);
	return 0;
}

static int piece_start(struct ubt_io *io);

/*
 * Mark a clean block dirty before a write reaches it (a commit may carry it
 * any time).  The caller is one of the block's users, so no writeback can
 * make it clean meanwhile: a block already dirty needs no lock.
 */
static void make_dirty(struct cache *c, uint32_t cb)
{
	bool was;

	if (__atomic_load_n(&c->meta.map[cb], __ATOMIC_RELAXED) & CACHE_META_DIRTY)
		return;
	pthread_mutex_lock(&c->meta_lock);
	was = cache_meta_dirty(&c->meta, cb);
	if (!was)
		cache_meta_set(&c->meta, cb, cache_meta_oblock(&c->meta, cb), true);
	pthread_mutex_unlock(&c->meta_lock);
	if (!was) {
		__atomic_fetch_add(&c->nr_dirty, 1, __ATOMIC_RELAXED);
		cache_policy_set_dirty(c, cb, true);
		cache_work(c);	/* to commit, and write back when idle */
	}
}

static int route_hit(struct cache *c, struct ubt_io *io, uint32_t cb, uint64_t off)
{
	struct cache_io *cio = io->priv;
	uint64_t csector = (uint64_t)cb * c->block_sectors + off;
	struct ubt_io *to_cache, *to_origin;

	if (io->op == UBT_OP_READ) {
		__atomic_fetch_add(&c->stats.read_hits, 1, __ATOMIC_RELAXED);
		if (c->mode == CACHE_PASSTHROUGH)
			return send_piece(io, c->origin, cio->sector);
		return send_piece(io, c->cdev, csector);
	}
	__atomic_fetch_add(&c->stats.write_hits, 1, __ATOMIC_RELAXED);
	cio->touched_cache = true;
	if (c->mode == CACHE_WRITEBACK || cache_meta_dirty(&c->meta, cb)) {
		if (c->mode == CACHE_WRITEBACK)
			make_dirty(c, cb);
		return send_piece(io, c->cdev, csector);
	}
	/*
	 * Writethrough (and passthrough): both copies, the block stays clean.
	 * Both are counted before either is sent: a node may end a request in
	 * its own map (a failure), and the piece must end once, after both.
	 */
	to_cache = piece_child(io, c->cdev, csector);
	if (!to_cache)
		return -ENOMEM;
	cio->copies = true;
	cio->cache_failed = false;
	cio->origin_res = 0;
	to_origin = piece_child(io, c->origin, cio->sector);
	ubt_io_submit(to_cache);
	if (!to_origin)
		return -ENOMEM;
	ubt_io_submit(to_origin);
	return 0;
}

/*
 * Start the piece at cio->sector: look it up, take what it needs, send it.
 * Runs from map, from the end of the previous piece, or when a migration
 * the piece waited for is over.
 */
static int piece_start(struct ubt_io *io)
{
	struct cache *c = io->t->private;
	struct cache_io *cio = io->priv;
	uint64_t b = cio->sector / c->block_sectors, off = cio->sector % c->block_sectors;
	struct cache_stripe *s;
	unsigned int cnt = 0;
	uint32_t cb;
	int ret;

	cio->piece = (uint32_t)UBT_MIN(cio->end - cio->sector, c->block_sectors - off);
	cio->cblock = CACHE_NONE;
	cio->oblock = b;
	cio->user = cio->miss_write = cio->overwrite = false;
	cio->children = 0;
	if (io->iovcnt && !cio->sliced) {
		/* The piece's slice of the data (once: a wait comes back here). */
		ret = ubt_iov_iter_take(&cio->it, cio->iov, &cnt, io->t->max_iov_in,
					(size_t)cio->piece << UBT_SECTOR_SHIFT);
		if (ret)
			return ret;
		cio->iovcnt = cnt;
		cio->sliced = true;
	}
	if (io->op == UBT_OP_DISCARD)
		return c->discard_passdown ? send_piece(io, c->origin, cio->sector) : 0;
	if (b >= c->origin_blocks)	/* the partial tail block: never cached */
		return send_piece(io, c->origin, cio->sector);

	s = cache_stripe(c, b);
	cache_stripe_lock(s);
	cb = cache_lookup(c, b);
	if (cb != CACHE_NONE && c->blocks[cb].mig) {
		/* A migration holds the block: wait for it, then look again. */
		struct cache_mig *m = &c->migs[c->blocks[cb].mig - 1];

		ubt_io_wait(io, &cio->wait, piece_start);
		cio->wait.next = m->waiters;
		m->waiters = &cio->wait;
		cache_stripe_unlock(s);
		return 0;
	}
	if (cb != CACHE_NONE) {
		__atomic_fetch_add(&c->blocks[cb].users, 1, __ATOMIC_RELAXED);
		cache_stripe_unlock(s);
		cio->cblock = cb;
		cio->user = true;
		cache_policy_hit(c, cb);
		return route_hit(c, io, cb, off);
	}
	if (is_write(io)) {
		miss_write_get(s, b);
		cio->miss_write = true;
	}
	cache_stripe_unlock(s);
	if (io->op == UBT_OP_READ)
		__atomic_fetch_add(&c->stats.read_misses, 1, __ATOMIC_RELAXED);
	cb = cache_policy_miss(c, b, io->op == UBT_OP_WRITE, cio->piece == c->block_sectors);
	if (cb != CACHE_NONE) {
		/* The write fills a free block itself, unless another took the block meanwhile. */
		cache_stripe_lock(s);
		if (cache_lookup(c, b) == CACHE_NONE && cache_overwrite_begin(c, b, cb)) {
			cache_hash_insert(c, b, cb);
			miss_write_put(s, b);
			cio->miss_write = false;
			cache_stripe_unlock(s);
			cio->cblock = cb;
			cio->overwrite = true;
			cio->touched_cache = true;
			return send_piece(io, c->cdev, (uint64_t)cb * c->block_sectors);
		}
		cache_stripe_unlock(s);
		cache_policy_free(c, cb);
	}
	/* A write that filled a block is a promotion, not a miss (dm counts it so). */
	if (io->op != UBT_OP_READ)
		__atomic_fetch_add(&c->stats.write_misses, 1, __ATOMIC_RELAXED);
	ret = send_piece(io, c->origin, cio->sector);
	cache_kick_request(c, io->q);
	return ret;
}

static int flush_done(struct ubt_io *io)
{
	struct cache *c = io->t->private;

	return __atomic_load_n(&c->commit.failed, __ATOMIC_ACQUIRE) ? -EIO : 0;
}

int cache_map(struct ubt_target *t, struct ubt_io *io)
{
	struct cache *c = t->private;
	struct cache_io *cio = io->priv;

	__atomic_fetch_add(&c->ios, 1, __ATOMIC_RELAXED);
	/* Idle ends with this request: no further writeback starts beside user I/O. */
	if (__atomic_load_n(&c->idle, __ATOMIC_RELAXED))
		__atomic_store_n(&c->idle, false, __ATOMIC_RELAXED);
	cio->result = 0;
	cio->touched_cache = false;
	cio->copies = false;
	if (io->op == UBT_OP_FLUSH) {
		if (__atomic_load_n(&c->commit.failed, __ATOMIC_ACQUIRE))
			return -EIO;
		ubt_io_wait(io, &cio->wait, flush_done);
		cache_commit_request(c, io->q, &cio->wait);
		return 0;
	}
	cio->sector = io->sector;
	cio->end = io->sector + io->nr_sectors;
	/* Most requests are one piece (the block layer splits at the block): no slicing. */
	cio->whole = io->sector % c->block_sectors + io->nr_sectors <= c->block_sectors;
	cio->sliced = cio->whole;
	cio->iovcnt = io->iovcnt;
	if (io->iovcnt && !cio->whole)
		ubt_iov_iter_init(&cio->it, io->iov, io->iovcnt);
	return piece_start(io);
}

/* The piece is done (res): give back what it took. */
static void piece_end(struct cache *c, struct ubt_io *io, int res)
{
	struct cache_io *cio = io->priv;
	struct cache_stripe *s;

	if (cio->overwrite) {
		cache_overwrite_done(c, io->q, cio->cblock, res);
		return;
	}
	if (cio->user)	/* after the piece's I/O: a migration that sees 0 may copy the block */
		__atomic_fetch_sub(&c->blocks[cio->cblock].users, 1, __ATOMIC_RELEASE);
	if (!cio->miss_write)
		return;
	s = cache_stripe(c, cio->oblock);
	cache_stripe_lock(s);
	miss_write_put(s, cio->oblock);
	cache_stripe_unlock(s);
	/* A promotion of the block may have waited for this write (migrate.c). */
	if (__atomic_load_n(&c->pol.nr_deferred, __ATOMIC_RELAXED))
		cache_work(c);
}

static int fua_done(struct ubt_io *io)
{
	struct cache_io *cio = io->priv;

	return cio->result ? cio->result : flush_done(io);
}

int cache_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct cache *c = t->private;
	struct cache_io *cio = io->priv;
	int ret;

	if (ubt_io_is_bg(io))
		return res;		/* migrations and commits: their done callback decides */
	if (cio->copies && res < 0) {
		/* One of two copies: what it means is known once both ended. */
		if (child->t == c->cdev)
			cio->cache_failed = true;
		else
			cio->origin_res = res;
	} else if (res < 0 && !cio->result) {
		cio->result = res;
		__atomic_fetch_add(&c->data_errors, 1, __ATOMIC_RELAXED);
	}
	if (--cio->children)
		return 0;
	if (cio->copies) {
		/*
		 * A write that reached one copy and not the other left them
		 * different: the origin is the one to believe (it holds the
		 * write, or, if the write failed there, what the client was
		 * told is still there), so the cache's copy goes, while this
		 * piece still holds the block.  The request's answer is the
		 * origin's.
		 */
		cio->copies = false;
		if (cio->cache_failed || cio->origin_res < 0)
			cache_invalidate(c, cio->cblock, cio->oblock);
		if (cio->origin_res < 0 && !cio->result) {
			cio->result = cio->origin_res;
			__atomic_fetch_add(&c->data_errors, 1, __ATOMIC_RELAXED);
		}
	}
	piece_end(c, io, cio->result);
	cio->sector += cio->piece;
	if (cio->sector < cio->end && !cio->result) {
		cio->sliced = false;
		ret = piece_start(io);
		if (ret && !cio->result)
			cio->result = ret;
		return cio->result;
	}
	if (!cio->result && (io->flags & UBT_IO_FUA) && cio->touched_cache) {
		/* The block's mapping must be on disk before the answer. */
		ubt_io_wait(io, &cio->wait, fua_done);
		cache_commit_request(c, io->q, &cio->wait);
		return 0;
	}
	cache_kick_request(c, io->q);
	return cio->result;
}
