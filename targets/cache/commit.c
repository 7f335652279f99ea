// SPDX-License-Identifier: MIT
/*
 * Metadata commits (dm-cache-target.c's committer), as background I/O on
 * the queue thread that asked: write the changed blocks of the idle
 * mapping copy, flush the origin and the cache (a mapping is set only
 * once its data is written, so what the blocks just written point at is
 * on disk before the superblock makes them count), flush the metadata,
 * write the superblock slot naming that copy, flush again.  One commit at a time;
 * who asks while one runs gets the next (its changes may postdate what
 * the running one wrote).
 *
 * Who waits: FLUSH requests, FUA writes that reached the cache, and
 * demotions (their block is free once the unmapping is on disk).  A
 * failed commit puts the metadata in "fail" mode: flushes fail from then
 * on, as dm's do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/util.h"
#include "cache.h"

enum {
	STEP_BLOCKS,
	STEP_FLUSH_ORIGIN,
	STEP_FLUSH_CACHE,
	STEP_FLUSH_META,
	STEP_SUPERBLOCK,
	STEP_FLUSH_SB,
	STEP_DONE,
};

int cache_commit_init(struct cache *c)
{
	pthread_mutex_init(&c->commit.lock, NULL);
	if (posix_memalign((void **)&c->commit.buf, 4096, CACHE_META_BLOCK))
		return -ENOMEM;
	c->commit.last_ns = ubt_now_ns();
	return 0;
}

void cache_commit_exit(struct cache *c)
{
	pthread_mutex_destroy(&c->commit.lock);
	free(c->commit.buf);
}

void cache_sb_contents(struct cache *c, struct cache_meta_stats *st, const char **policy)
{
	st->read_hits = __atomic_load_n(&c->stats.read_hits, __ATOMIC_RELAXED);
	st->read_misses = __atomic_load_n(&c->stats.read_misses, __ATOMIC_RELAXED);
	st->write_hits = __atomic_load_n(&c->stats.write_hits, __ATOMIC_RELAXED);
	st->write_misses = __atomic_load_n(&c->stats.write_misses, __ATOMIC_RELAXED);
	*policy = __atomic_load_n(&c->pol.cleaner, __ATOMIC_RELAXED) ? "cleaner" : "smq";
}

bool cache_meta_pending(struct cache *c)
{
	return __atomic_load_n(&c->meta.changes, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&c->commit.changes_done, __ATOMIC_RELAXED);
}

static void commit_step(struct cache *c, struct ubt_queue *q);
static void commit_start(struct cache *c, struct ubt_queue *q);

/* The commit is over (res): wake who waited for it, start the next if asked. */
static void commit_finish(struct cache *c, struct ubt_queue *q, int res)
{
	struct cache_commit *cm = &c->commit;
	struct ubt_io_wait *w;
	struct cache_mig *m, *next;
	bool again;

	pthread_mutex_lock(&c->meta_lock);
	if (res < 0)
		cache_meta_commit_failed(&c->meta, &cm->mc);
	else
		cache_meta_committed(&c->meta, &cm->mc);
	pthread_mutex_unlock(&c->meta_lock);
	if (res >= 0)
		__atomic_store_n(&cm->changes_done, cm->changes_begun, __ATOMIC_RELAXED);
	if (res < 0)
		__atomic_store_n(&cm->failed, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&cm->lock);
	w = cm->waiting;
	m = cm->migs;
	cm->waiting = cm->waiting_next;
	cm->migs = cm->migs_next;
	cm->waiting_next = NULL;
	cm->migs_next = NULL;
	again = cm->again;
	cm->again = false;
	cm->running = again;
	cm->last_ns = ubt_now_ns();
	pthread_mutex_unlock(&cm->lock);
	ubt_io_wake_all(q, w);
	for (; m; m = next) {
		next = m->next_commit;
		cache_mig_committed(m, q, res);
	}
	if (again)
		commit_start(c, q);
}

static int commit_io(struct ubt_io *io)
{
	struct cache *c = io->t->private;

	switch (c->commit.step) {
	case STEP_FLUSH_ORIGIN:
		return ubt_io_remap(io, c->origin, 0);
	case STEP_FLUSH_CACHE:
		return ubt_io_remap(io, c->cdev, 0);
	default:
		return ubt_io_remap(io, c->mdev, io->sector);
	}
}

static void commit_io_done(struct ubt_io *io, int res)
{
	struct cache *c = io->t->private;

	if (res < 0) {
		commit_finish(c, io->q, res);
		return;
	}
	if (c->commit.step != STEP_BLOCKS)
		c->commit.step++;
	commit_step(c, io->q);
}

/* Send op (with the buffer, at byte offset off for a write) for the current step. */
static void commit_send(struct cache *c, struct ubt_queue *q, uint8_t op, uint64_t off)
{
	struct ubt_io *io = ubt_bg_io(q, c->t, commit_io_done);

	if (!io) {	/* each queue keeps a tag for the commit: cannot happen */
		commit_finish(c, q, -EBUSY);
		return;
	}
	((struct cache_io *)io->priv)->mig = NULL;
	io->op = op;
	io->flags = 0;
	io->sector = off >> UBT_SECTOR_SHIFT;
	io->nr_sectors = op == UBT_OP_WRITE ? CACHE_META_BLOCK >> UBT_SECTOR_SHIFT : 0;
	io->iov = NULL;
	io->iovcnt = 0;
	if (op == UBT_OP_WRITE) {
		c->commit.iov.iov_base = c->commit.buf;
		c->commit.iov.iov_len = CACHE_META_BLOCK;
		io->iov = &c->commit.iov;
		io->iovcnt = 1;
	}
	ubt_bg_submit(io, commit_io);
}

static void commit_step(struct cache *c, struct ubt_queue *q)
{
	struct cache_commit *cm = &c->commit;
	struct cache_meta_stats st;
	const char *policy;
	uint64_t off;
	bool more;

	switch (cm->step) {
	case STEP_FLUSH_ORIGIN:
	case STEP_FLUSH_CACHE:
	case STEP_FLUSH_META:
	case STEP_FLUSH_SB:
		commit_send(c, q, UBT_OP_FLUSH, 0);
		return;
	case STEP_BLOCKS:
		pthread_mutex_lock(&c->meta_lock);
		more = cache_meta_next_block(&c->meta, &cm->mc, &off, cm->buf);
		pthread_mutex_unlock(&c->meta_lock);
		if (more) {
			commit_send(c, q, UBT_OP_WRITE, off);
			return;
		}
		cm->step = STEP_FLUSH_ORIGIN;
		commit_send(c, q, UBT_OP_FLUSH, 0);
		return;
	case STEP_SUPERBLOCK:
		cache_sb_contents(c, &st, &policy);
		/* Running: not a clean shutdown (every mapped block loads dirty after a crash). */
		off = cache_meta_encode_sb(&c->meta, &cm->mc, 0, &st, policy, cm->buf);
		commit_send(c, q, UBT_OP_WRITE, off);
		return;
	default:
		commit_finish(c, q, 0);
		return;
	}
}

static void commit_start(struct cache *c, struct ubt_queue *q)
{
	struct cache_commit *cm = &c->commit;

	cm->step = STEP_BLOCKS;
	pthread_mutex_lock(&c->meta_lock);
	cache_meta_commit_begin(&c->meta, &cm->mc);
	cm->changes_begun = c->meta.changes;
	pthread_mutex_unlock(&c->meta_lock);
	commit_step(c, q);
}

/* Ask for a commit; the caller's waiter (if any) is on the list it returns through. */
static bool enqueue(struct cache *c, struct ubt_io_wait *w, struct cache_mig *m)
{
	struct cache_commit *cm = &c->commit;
	bool start;

	pthread_mutex_lock(&cm->lock);
	start = !cm->running;
	if (start) {
		cm->running = true;
		if (w) {
			w->next = cm->waiting;
			cm->waiting = w;
		}
		if (m) {
			m->next_commit = cm->migs;
			cm->migs = m;
		}
	} else {
		cm->again = true;
		if (w) {
			w->next = cm->waiting_next;
			cm->waiting_next = w;
		}
		if (m) {
			m->next_commit = cm->migs_next;
			cm->migs_next = m;
		}
	}
	pthread_mutex_unlock(&cm->lock);
	return start;
}

void cache_commit_request(struct cache *c, struct ubt_queue *q, struct ubt_io_wait *w)
{
	if (enqueue(c, w, NULL))
		commit_start(c, q);
}

void cache_commit_request_mig(struct cache *c, struct ubt_queue *q, struct cache_mig *m)
{
	if (enqueue(c, NULL, m))
		commit_start(c, q);
}
