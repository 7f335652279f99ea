/* SPDX-License-Identifier: MIT */
/*
 * cache: a small fast node in front of a large slow one, with dm-cache's
 * semantics, split the way dm-cache is: cache.c (the node: arguments,
 * status, messages; dm-cache-target.c's constructor), map.c (requests:
 * hits, misses, writethrough; its map path), migrate.c (promotions,
 * writebacks, demotions as background I/O; its migration worker),
 * commit.c (metadata commits; its committer), smq.c (the policy;
 * dm-cache-policy-smq.c) over mlq.c (multilevel queues) and metadata.c
 * (the on-disk format).
 *
 * Locks, never held across I/O:
 * - stripe locks (CACHE_STRIPES, by origin block; spin locks, as what
 *   they guard takes a few instructions): the oblock -> cblock lookup
 *   chains, each cache block's migration, and a use of it being taken.  A
 *   hit takes only its stripe's lock, once: no global lock on the hit
 *   path, and a use ends with an atomic decrement (a migration only has
 *   to see it, under the lock, as gone or not yet gone).
 * - policy_lock: the policy's queues and hotspots (misses, migrations,
 *   the tick).
 * - meta_lock: the metadata array and its changed bits (migrations, the
 *   first write to a clean block, commits).
 * - mig_lock: migration slots.
 * - commit.lock: the commit in flight and who waits for it.
 * Order, when nested: stripe, then meta or policy.
 */
#ifndef UBT_CACHE_H
#define UBT_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ubt/target.h"
#include "metadata.h"
#include "mlq.h"

#define CACHE_STRIPES		256
#define CACHE_MIGRATIONS	16	/* migrations in flight at most (the default threshold's worth at 64K) */
#define CACHE_PROMOTE_QUEUE	64	/* promotions the policy asked for, not yet started */
#define CACHE_FILLS		8	/* hotspots being brought in whole, at most */
#define CACHE_VICTIM_LOOK	32	/* clean blocks looked at for one not in use */
#define CACHE_MIN_BLOCK		64	/* sectors (dm: 32K .. 1G, a multiple of 32K) */
#define CACHE_MAX_BLOCK		2097152
#define CACHE_STEP_BYTES	(256u * 1024)	/* one read or write of a migration */
#define CACHE_MISS_WRITES	4	/* per stripe: origin blocks with writes in flight */

enum cache_mode { CACHE_WRITEBACK, CACHE_WRITETHROUGH, CACHE_PASSTHROUGH };

/* Which policy queue a cache block is on. */
enum cache_queue { CQ_FREE, CQ_CLEAN, CQ_DIRTY, CQ_NONE };

/*
 * Per cache block, in RAM: 20 bytes; with the metadata array's 8, the
 * lookup buckets' 1-2 and the hotspots' 1.5, at most 32 from 16384 blocks
 * up (below, the floor of 1024 hotspots weighs more).
 */
struct cache_block {
	uint32_t hash_next;		/* stripe lock: lookup chain */
	uint32_t prev, next;		/* policy lock: its queue */
	uint16_t users;			/* atomic, taken under the stripe lock: requests on it */
	uint8_t mig;			/* stripe lock: migration slot + 1 holding it, or 0 */
	uint8_t level;			/* policy lock */
	uint8_t queue;			/* policy lock: enum cache_queue */
	uint8_t hit;			/* atomic: hit since the last tick */
	uint8_t invalid;		/* mig + policy locks: unmapped, to be freed (migrate.c) */
};

struct cache_stripe {
	pthread_spinlock_t lock;
	/* Origin blocks with miss writes in flight: a promotion must not copy under them. */
	uint64_t miss_oblock[CACHE_MISS_WRITES];
	uint16_t miss_writes[CACHE_MISS_WRITES];
	uint16_t miss_overflow;		/* writes not in the table: no promotion in the stripe */
} __attribute__((aligned(64)));

enum cache_mig_kind {
	MIG_PROMOTE,			/* origin -> a free cache block */
	MIG_OVERWRITE,			/* a whole-block write lands in a free cache block */
	MIG_WRITEBACK,			/* a dirty cache block -> origin */
	MIG_DEMOTE,			/* a clean cache block leaves, once committed */
	MIG_INVALIDATE,			/* a block whose copies differ: freed once committed */
};

struct cache;

struct cache_mig {
	struct cache *c;
	bool busy;
	enum cache_mig_kind kind;
	uint64_t oblock;
	uint32_t cblock;
	uint64_t done;			/* sectors copied */
	uint32_t step;			/* sectors in the copy step under way */
	bool reading;			/* the step under way reads (else writes) */
	uint8_t level;			/* writeback: where it was on the dirty queue; promotion: where it goes */
	struct ubt_target *src, *dst;
	uint64_t src_sector, dst_sector;
	int result;
	struct ubt_io_wait *waiters;	/* stripe lock: requests held by it */
	struct cache_mig *next_commit;	/* commit.lock: waiting for a commit */
	void *buf;			/* CACHE_STEP_BYTES */
	struct iovec iov;
};

struct cache_stats {
	uint64_t read_hits, read_misses, write_hits, write_misses;
	uint64_t promotions, demotions, writebacks;
};

/* The policy (smq.c), under policy_lock except where said. */
struct cache_hotspot {
	uint32_t hb;			/* hotspot block: origin block / hotspot_blocks */
	uint32_t hash_next;
	uint32_t prev, next;
	uint8_t level;
	uint8_t hits;			/* misses since it came in, saturating */
	uint8_t in_use;
	uint8_t hit;			/* missed since the last tick */
	uint8_t filled;			/* brought in whole once already */
};

/* Origin blocks [next, end) of a hotspot, still to be promoted. */
struct cache_fill {
	uint64_t next, end;
};

struct cache_promotion {
	uint64_t oblock;
	uint32_t cblock;		/* taken from the free queue for it */
	uint8_t level;			/* where it enters the clean queue */
};

struct cache_policy {
	bool cleaner;			/* write every dirty block back, promote nothing */
	struct cache_mlq clean, dirty;
	uint32_t free_head, nr_free;
	uint32_t nr_hotspots, hotspot_blocks;	/* origin blocks per hotspot */
	struct cache_hotspot *hs;
	uint32_t *hs_buckets, hs_mask;
	struct cache_mlq hsq;		/* hotspots by level */
	uint64_t *recent;		/* a bit per hash of hotspot: missed since the last tick */
	uint32_t recent_mask;		/* bits - 1 */
	struct cache_promotion promote[CACHE_PROMOTE_QUEUE];
	unsigned int nr_promote;
	unsigned int nr_deferred;	/* of them, put back to wait for a write (atomic reads) */
	struct cache_fill fill[CACHE_FILLS];	/* taken after promote[] */
	unsigned int nr_fill;
	bool want_demotion;		/* a promotion waits for a free block */
	uint32_t misses_since_tick;
};

/* The commit engine (commit.c). */
struct cache_commit {
	pthread_mutex_t lock;
	bool running;
	bool again;			/* someone asked while it ran: run once more */
	struct ubt_io_wait *waiting, *waiting_next;	/* requests */
	struct cache_mig *migs, *migs_next;		/* demotions */
	struct cache_meta_commit mc;
	int step;
	int result;
	struct ubt_queue *q;
	uint8_t *buf;			/* one metadata block */
	struct iovec iov;
	uint64_t last_ns;		/* when the last one finished */
	uint64_t changes_begun;		/* meta.changes when the running one began */
	uint64_t changes_done;		/* atomic: ... when the last good one began */
	uint32_t failed;		/* atomic: a commit failed: metadata mode "fail" */
};

struct cache {
	struct ubt_target *t;
	struct ubt_target *origin, *cdev, *mdev;
	enum cache_mode mode;
	bool discard_passdown;
	bool metadata2;			/* shown only: a dm table asked for it */
	uint32_t block_sectors;
	uint64_t origin_blocks;		/* whole blocks; a partial tail goes to the origin */
	uint32_t nr_cblocks;
	uint64_t meta_bytes;		/* the metadata node's size */
	uint32_t migration_threshold;	/* sectors of migration I/O in flight */
	bool started;			/* atomic: a queue ran: a stop marks the metadata clean */
	uint32_t data_errors;		/* atomic: requests a child failed */

	struct cache_block *blocks;
	uint32_t *buckets, bucket_mask;	/* oblock -> first cblock of its chain */
	struct cache_stripe stripes[CACHE_STRIPES];

	pthread_mutex_t meta_lock;
	struct cache_meta meta;

	pthread_mutex_t policy_lock;
	struct cache_policy pol;

	pthread_mutex_t mig_lock;
	struct cache_mig migs[CACHE_MIGRATIONS];
	unsigned int active;
	unsigned int nr_invalid;	/* blocks with invalid set, not yet claimed */

	struct cache_commit commit;

	/* The tick: a background timer while there is background work. */
	bool ticking;			/* mig_lock; read without it as a hint */
	uint32_t work;			/* atomic: background work may wait: requests kick */
	struct ubt_queue *tick_q;	/* mig_lock: whose ring the tick waits on */
	struct ubt_io_timer tick_timer;
	uint64_t last_tick_ns;
	uint64_t ios;			/* atomic: requests seen */
	uint64_t ios_at_tick;		/* ... at the last tick: idle when unchanged */
	bool idle;			/* no request since a tick that saw none: write back */

	/* atomic */
	struct cache_stats stats;
	uint64_t nr_dirty;
	uint64_t nr_resident;
};

/*
 * Per request (the node's per-I/O area).  A request is served one cache
 * block's piece at a time, in order; iov holds the piece's slice of the
 * request's data, twice (writethrough sends it to two children).
 */
struct cache_io {
	struct ubt_io_wait wait;
	struct cache_mig *mig;		/* background I/O: the migration it belongs to */
	uint64_t sector;		/* the piece under way */
	uint32_t piece;			/* its sectors */
	uint64_t end;
	uint32_t cblock;		/* CACHE_NONE: the piece is on the origin */
	uint64_t oblock;
	uint8_t children;		/* of the piece, not yet completed */
	bool user;			/* holds a use of cblock */
	bool miss_write;		/* counted in its stripe's miss writes */
	bool overwrite;			/* fills a new cache block (MIG_OVERWRITE) */
	bool touched_cache;		/* FUA: a commit before the answer */
	bool copies;			/* writethrough: the piece writes both copies */
	bool cache_failed;		/* ... and the one on the cache device failed */
	int origin_res;			/* ... the origin's answer */
	bool sliced;			/* iov holds the piece's slice */
	bool whole;			/* one piece: children share the request's iovecs */
	unsigned int iovcnt;
	int result;
	struct ubt_iov_iter it;
	struct iovec iov[];		/* 2 x t->max_iov_in: a second child's copy */
};

static inline struct cache_stripe *cache_stripe(struct cache *c, uint64_t oblock)
{
	return &c->stripes[(oblock * 0x9E3779B97F4A7C15ULL) >> 56];
}

static inline void cache_stripe_lock(struct cache_stripe *s)
{
	pthread_spin_lock(&s->lock);
}

static inline void cache_stripe_unlock(struct cache_stripe *s)
{
	pthread_spin_unlock(&s->lock);
}

static inline uint32_t cache_bucket(const struct cache *c, uint64_t oblock)
{
	return (uint32_t)((oblock * 0x9E3779B97F4A7C15ULL) >> 32) & c->bucket_mask;
}

/* map.c */
int cache_map(struct ubt_target *t, struct ubt_io *io);
int cache_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res);
/* Stripe lock held: the cache block holding (or filling) oblock, or CACHE_NONE. */
uint32_t cache_lookup(struct cache *c, uint64_t oblock);
void cache_hash_insert(struct cache *c, uint64_t oblock, uint32_t cblock);
void cache_hash_remove(struct cache *c, uint64_t oblock, uint32_t cblock);
/* Stripe lock held: whether a miss write to oblock is in flight. */
bool cache_miss_writes(struct cache_stripe *s, uint64_t oblock);

/* migrate.c */
/* Start what background work there is room for (any queue thread). */
void cache_kick(struct cache *c, struct ubt_queue *q);
/*
 * The same from the request path, only when something said work may wait
 * (cache_work): the hit path stays free of the migration and policy locks.
 */
static inline void cache_work(struct cache *c)
{
	if (!__atomic_load_n(&c->work, __ATOMIC_RELAXED))
		__atomic_store_n(&c->work, 1, __ATOMIC_RELAXED);
}

static inline void cache_kick_request(struct cache *c, struct ubt_queue *q)
{
	if (__atomic_load_n(&c->work, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&c->work, 0, __ATOMIC_ACQ_REL))
		cache_kick(c, q);
}
void cache_mig_committed(struct cache_mig *m, struct ubt_queue *q, int res);
/* A clean block's two copies differ: out of the lookup now, freed when unused and committed. */
void cache_invalidate(struct cache *c, uint32_t cblock, uint64_t oblock);
/* An overwrite promotion's write finished (map.c). */
void cache_overwrite_done(struct cache *c, struct ubt_queue *q, uint32_t cblock, int res);
/* Claim a slot for an overwrite promotion of oblock into cblock; NULL if none free. */
struct cache_mig *cache_overwrite_begin(struct cache *c, uint64_t oblock, uint32_t cblock);
void cache_tick_arm(struct cache *c, struct ubt_queue *q);
void cache_tick_queue_exit(struct cache *c, struct ubt_queue *q);

/* commit.c */
/* Commit soon; w (a request's, parked by the caller) is woken once one covering now is done. */
void cache_commit_request(struct cache *c, struct ubt_queue *q, struct ubt_io_wait *w);
void cache_commit_request_mig(struct cache *c, struct ubt_queue *q, struct cache_mig *m);
int cache_commit_init(struct cache *c);
void cache_commit_exit(struct cache *c);
/* Whether the metadata changed since the last commit. */
bool cache_meta_pending(struct cache *c);
/* What a superblock records besides the mappings: the hit counters and the policy's name. */
void cache_sb_contents(struct cache *c, struct cache_meta_stats *st, const char **policy);

/* smq.c */
int cache_policy_init(struct cache *c, bool cleaner);
void cache_policy_exit(struct cache *c);
/* Put a loaded mapping on its queue (construction). */
void cache_policy_load(struct cache *c, uint32_t cblock, bool dirty);
static inline void cache_policy_hit(struct cache *c, uint32_t cblock)
{
	if (__atomic_load_n(&c->blocks[cblock].hit, __ATOMIC_RELAXED) != 1)
		__atomic_store_n(&c->blocks[cblock].hit, 1, __ATOMIC_RELAXED);
}
/*
 * A miss on oblock.  Returns a free cache block taken for an overwrite
 * promotion (writeback, a whole-block write, a free block), or CACHE_NONE;
 * may queue a promotion.
 */
uint32_t cache_policy_miss(struct cache *c, uint64_t oblock, bool write, bool whole_block);
/* A promotion done: on its queue at level (CACHE_LEVELS - 1 for a block missed itself). */
void cache_policy_added(struct cache *c, uint32_t cblock, bool dirty, unsigned int level);
/* Back on the clean or dirty queue at level (a migration that ended or did not start). */
void cache_policy_requeue(struct cache *c, uint32_t cblock, bool dirty, unsigned int level);
void cache_policy_set_dirty(struct cache *c, uint32_t cblock, bool dirty);
/* A promotion that did not happen gives its block back. */
void cache_policy_free(struct cache *c, uint32_t cblock);
/* A promotion whose block a write was changing: queued again, or given back if no room. */
void cache_policy_defer_promotion(struct cache *c, const struct cache_promotion *p);
/* Under policy lock: the next queued promotion (false if none). */
bool cache_policy_next_promotion(struct cache *c, struct cache_promotion *p);
/* Under policy lock: a clean block to demote, or a dirty one to write back. */
uint32_t cache_policy_demotion(struct cache *c);
uint32_t cache_policy_writeback(struct cache *c, bool idle);
/* Under policy lock: take cblock off its queue (it is being demoted). */
void cache_policy_unlink(struct cache *c, uint32_t cblock);
void cache_policy_tick(struct cache *c);
/* Switch to the cleaner: write everything back, promote nothing. */
void cache_policy_set_cleaner(struct cache *c);
/* Whether background work is wanted (promotions queued, dirty blocks to clean). */
bool cache_policy_busy(struct cache *c);

#endif
