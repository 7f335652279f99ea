/* SPDX-License-Identifier: MIT */
/*
 * mirror: the state the mirror's files share, split the way dm-mirror's
 * is: mirror.c (the node: arguments, status, messages; dm-raid1.c's
 * constructor), io.c (reads, writes, flushes; dm-raid1.c's map / end_io),
 * region.c (writes in flight per region, regions being copied and the I/O
 * waiting for them; dm-region-hash.c), recovery.c (copying a region from
 * one leg to others in the background; dm-kcopyd's part), log.c (the
 * dirty-region log's formats; dm-log.c) and log_io.c (reading and writing
 * the disk log).
 *
 * Threads: every queue thread runs reads, writes and copies.  Reads take
 * no lock: they test the region's in-sync bit and each leg's error count
 * with atomic loads.  Writes, copies and the region bookkeeping take
 * m->lock, briefly, never across I/O.
 */
#ifndef UBT_MIRROR_H
#define UBT_MIRROR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ubt/target.h"
#include "log.h"

#define MIRROR_MAX_LEGS		9	/* dm's MAX_NR_MIRRORS */
#define MIRROR_JOBS		2	/* regions copied at once */
#define MIRROR_REPAIRS		16	/* read repairs waiting for a job */
#define MIRROR_COPY_BYTES	(256u * 1024)	/* one read and write of a copy */

enum mirror_read_policy {
	MIRROR_READ_DEFAULT,		/* dm: the default leg while it works */
	MIRROR_READ_ROUNDROBIN,		/* the next working leg, request by request */
	MIRROR_READ_LEASTPENDING,	/* the working leg with the fewest reads in flight */
};

/* dm's error types, as bits of mirror_leg.error_type. */
enum mirror_error {
	MIRROR_ERR_WRITE,		/* 'D' */
	MIRROR_ERR_FLUSH,		/* 'F' */
	MIRROR_ERR_SYNC,		/* 'S': a copy to or from it failed */
	MIRROR_ERR_READ,		/* 'R' */
};

struct mirror_leg {
	struct ubt_target *t;
	/* Atomic: errors seen; reads avoid a leg that has any (dm). */
	uint32_t error_count;
	uint32_t error_type;		/* atomic: 1 << enum mirror_error */
	uint32_t reads;			/* atomic: reads in flight, for leastpending */
};

enum mirror_job_kind {
	MIRROR_JOB_RESYNC,		/* an out-of-sync region: default leg to all */
	MIRROR_JOB_REPAIR,		/* a read error: the leg that read it to the bad one */
	MIRROR_JOB_SCRUB,		/* check: compare every leg with the default one */
};

/*
 * One region being copied.  Writes to the region wait until it is done;
 * the copy waits until the writes already in flight are done.  Only the
 * queue thread running it touches the copy fields; busy, started, region
 * and waiters are under m->lock.
 */
struct mirror_job {
	struct mirror *m;
	bool busy;
	bool started;			/* the region is quiet and the copy runs */
	enum mirror_job_kind kind;
	uint64_t region;
	unsigned int source;
	uint32_t targets;		/* legs to write, as bits */
	uint32_t failed;		/* targets a write failed on */
	bool source_failed;
	uint64_t done;			/* sectors of the region copied */
	uint64_t mismatches;		/* scrub: sectors that differed */
	uint32_t differ;		/* scrub: legs whose step differed, to rewrite */
	uint32_t unread;		/* scrub: legs the step could not read */
	uint32_t chunk;			/* sectors in the copy step under way */
	uint32_t legs_gen;		/* m->legs_gen when claimed: a leg replaced since voids it */
	struct ubt_io_wait *waiters;	/* writes held until the region is copied */
	struct ubt_io_timer pause;	/* resync_rate: the wait before the next step */
	uint64_t wait_ns;
	void *buf;			/* MIRROR_COPY_BYTES per leg (a scrub reads them all) */
	struct iovec read_iov;
	struct iovec write_iov[MIRROR_MAX_LEGS];
};

struct mirror_repair {
	uint64_t region;
	unsigned int source;
	uint32_t targets;
};

struct mirror {
	struct ubt_target *t;
	unsigned int nr_legs;
	struct mirror_leg legs[MIRROR_MAX_LEGS];
	uint64_t region_sectors;	/* a power of two */
	unsigned int region_shift;
	uint64_t nr_regions;
	struct mirror_log log;
	enum mirror_sync sync_mode;
	bool handle_errors;
	bool keep_log;			/* dm: a failed log fails writes instead of holding them */
	enum mirror_read_policy read_policy;
	uint64_t resync_rate;		/* bytes per second; 0: as fast as it goes */
	uint64_t rate_next;		/* under lock: CLOCK_MONOTONIC ns the next step may start */
	uint32_t default_leg;		/* atomic */
	uint32_t legs_gen;		/* under lock: legs replaced by new nodes so far */
	uint32_t next_read;		/* atomic: roundrobin's counter */

	pthread_mutex_t lock;
	uint32_t *writes;		/* per region: writes in flight */
	bool pass;			/* a resync pass is under way */
	uint64_t cursor;		/* the next region the pass looks at */
	struct mirror_job jobs[MIRROR_JOBS];
	struct mirror_repair repairs[MIRROR_REPAIRS];
	unsigned int nr_repairs;
	/* The scrub (`check` / `repair` messages), under m->lock. */
	bool scrub_pass;		/* regions left to compare */
	bool scrub_fix;			/* repair: rewrite what differs from the default leg */
	bool scrub_ran;			/* status shows the last scrub's result */
	uint64_t scrub_cursor;
	uint64_t scrubbed;		/* regions compared in the last pass */
	uint64_t mismatches;		/* sectors that differed in the last pass */
	uint64_t resynced;		/* regions copied since the node was built */
	uint64_t repaired;		/* regions rewritten after a read error */

	/*
	 * The disk log (log_io.c), under m->lock: one write of the image in
	 * flight at a time.  Generation g is the g-th write; a region marked
	 * dirty waits for the write that carries its mark (mark_gen[r]).
	 */
	struct ubt_target *log_node;	/* the log's child node; NULL: core log */
	uint32_t *mark_gen;		/* per region: the write that records its mark */
	uint32_t log_gen;		/* the last write started */
	uint32_t log_done;		/* the last write finished */
	bool log_writing;
	bool log_dirty;			/* the image changed since the last write started */
	bool log_cleaned;		/* ... and marks regions clean: flush the legs first */
	uint32_t log_failed;		/* atomic: a log write failed (status D) */
	struct ubt_io_wait *log_cur;	/* writes waiting for the write in flight */
	struct ubt_io_wait *log_next;	/* writes waiting for the one after it */
	void *log_buf;			/* the image as the write in flight carries it */
	struct iovec log_iov;
	uint64_t dirty_at_start;	/* regions the log said were out of sync */
};

/*
 * Per I/O (the node's per-I/O area).  A request's child gets its own copy
 * of the iovecs (a short transfer advances them in place, and a read may
 * be retried, a write goes to every leg): iov holds nr_legs arrays of
 * t->max_iov_in entries.
 */
struct mirror_io {
	struct ubt_io_wait wait;	/* a write held by a copy of its region */
	struct mirror_job *job;		/* background I/O: the copy it belongs to */
	uint64_t r0, r1;		/* the regions it touches */
	uint32_t tried;			/* read: legs that failed it */
	uint32_t ok;			/* write: legs that completed it */
	unsigned int leg;		/* read: the leg being read */
	unsigned int outstanding;	/* write: children not yet completed */
	struct iovec iov[];
};

static inline uint64_t mirror_region_of(const struct mirror *m, uint64_t sector)
{
	return sector >> m->region_shift;
}

static inline uint64_t mirror_region_len(const struct mirror *m, uint64_t r)
{
	uint64_t start = r << m->region_shift;

	return m->t->len - start < m->region_sectors ? m->t->len - start : m->region_sectors;
}

static inline bool mirror_leg_ok(const struct mirror *m, unsigned int i)
{
	return !__atomic_load_n(&m->legs[i].error_count, __ATOMIC_ACQUIRE);
}

/* Leg i's node: a hot replace (control thread) may swap it while queues run. */
static inline struct ubt_target *mirror_leg_node(const struct mirror *m, unsigned int i)
{
	return __atomic_load_n(&m->legs[i].t, __ATOMIC_ACQUIRE);
}

static inline unsigned int mirror_default(const struct mirror *m)
{
	return __atomic_load_n(&m->default_leg, __ATOMIC_ACQUIRE);
}

/* mirror.c */
void mirror_fail_leg(struct mirror *m, unsigned int leg, enum mirror_error type);
int mirror_leg_of(const struct mirror *m, const struct ubt_target *child);

/* io.c */
int mirror_map(struct ubt_target *t, struct ubt_io *io);
int mirror_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res);

/* region.c */
bool mirror_regions_in_sync(const struct mirror *m, uint64_t r0, uint64_t r1);
/* Count a write in its regions, or hold it (true) while one is copied. */
bool mirror_write_begin(struct mirror *m, struct ubt_io *io, struct mirror_io *mio,
			int (*resume)(struct ubt_io *io));
void mirror_write_end(struct mirror *m, struct ubt_queue *q, uint64_t r0, uint64_t r1,
		      bool out_of_sync);
void mirror_mark_out_of_sync(struct mirror *m, uint64_t r0, uint64_t r1);
void mirror_queue_repair(struct mirror *m, struct ubt_queue *q, uint64_t r0, uint64_t r1,
			 unsigned int source, uint32_t targets);
/* Start what copies there are room for, on q. */
void mirror_kick(struct mirror *m, struct ubt_queue *q);
void mirror_start_pass(struct mirror *m);
void mirror_start_scrub(struct mirror *m, bool fix);
void mirror_job_finish(struct mirror_job *job, struct ubt_queue *q);

/* io.c: a write whose marks are on disk (or whose log failed) goes on. */
int mirror_write_logged(struct ubt_io *io);
/* io.c: a FLUSH child of io for every leg. */
int mirror_flush_legs(struct mirror *m, struct ubt_io *io);
/* io.c: a background I/O of the mirror for job (NULL: the log's). */
struct ubt_io *mirror_bg_io(struct mirror *m, struct ubt_queue *q, struct mirror_job *job,
			    uint8_t op, void (*done)(struct ubt_io *io, int res));

/* log_io.c */
int mirror_log_load(struct mirror *m);
void mirror_log_write(struct mirror *m, struct ubt_queue *q);
int mirror_log_end_io(struct mirror *m, struct ubt_io *child, int res);

/* recovery.c */
void mirror_job_start(struct mirror_job *job, struct ubt_queue *q);
int mirror_job_end_io(struct mirror_job *job, struct ubt_io *child, int res);

#endif
