/* SPDX-License-Identifier: MIT */
/*
 * raid4 / raid5 / raid6: the state the parity RAID's files share, split
 * the way md's raid5 is: raid.c (the node: arguments, status, messages,
 * replace; md's run() and dm-raid's constructor), pass.c (the background
 * passes over every row: resync, recovery onto a leg, check and repair;
 * md_do_sync's part), layout.c (where data,
 * P and Q of each chunk live: raid5_compute_sector's algorithms),
 * parity.c (P and Q over a column of buffers, and rebuilding up to two
 * missing ones: lib/raid6 and async_pq's part, on ISA-L), stripe.c (the
 * stripe heads: one column window of one row, locked, read, computed and
 * written; handle_stripe's part), io.c (requests: reads straight to the
 * data legs, everything else through stripe heads), bitmap.c (the
 * write-intent log: md-bitmap.c's part), journal.c (the write journal
 * that closes the write hole: raid5-cache.c's write-through part) and
 * table.c (dm-raid's table line in both directions).
 *
 * Threads: every queue thread runs requests and stripe heads.  Reads of a
 * working leg take no lock; stripe heads, the row locks and the resync
 * pass are under r->lock, held briefly and never across I/O.  A leg's
 * failed and rebuilding bits are atomic.
 */
#ifndef UBT_RAID_H
#define UBT_RAID_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ubt/target.h"

#define RAID_MAX_LEGS		32	/* at most CONFIG_MAX_FANOUT, checked at construction */
#define RAID_HEADS		32	/* stripe heads, shared by every queue */
#define RAID_WINDOW_BYTES	(64u * 1024)	/* one head's column: at most this much per leg */
#define RAID_NO_DISK		0xff

/* md's algorithm numbers (include/linux/raid/md_p.h / raid5.h). */
enum raid_algo {
	RAID_LEFT_ASYMMETRIC = 0,
	RAID_RIGHT_ASYMMETRIC = 1,
	RAID_LEFT_SYMMETRIC = 2,
	RAID_RIGHT_SYMMETRIC = 3,
	RAID_PARITY_0 = 4,
	RAID_PARITY_N = 5,
	RAID_ROTATING_ZERO_RESTART = 8,
	RAID_ROTATING_N_RESTART = 9,
	RAID_ROTATING_N_CONTINUE = 10,
	RAID_LEFT_ASYMMETRIC_6 = 16,
	RAID_RIGHT_ASYMMETRIC_6 = 17,
	RAID_LEFT_SYMMETRIC_6 = 18,
	RAID_RIGHT_SYMMETRIC_6 = 19,
	RAID_PARITY_0_6 = 20,
	RAID_PARITY_N_6 = RAID_PARITY_N,
};

/* The shape of an array: what layout.c needs to place a chunk. */
struct raid_geom {
	unsigned int level;		/* 4, 5 or 6 */
	enum raid_algo algo;
	unsigned int disks;		/* legs */
	unsigned int data;		/* data chunks per row: disks - 1 or - 2 */
	uint64_t chunk;			/* sectors */
};

/*
 * One row (md's stripe) of chunks: which leg holds data chunk k, where P
 * and Q are, and each data chunk's place in the Q syndrome (md's slot:
 * data chunk k is multiplied by g^slot[k]).  nr_slots is how many sources
 * the syndrome has: the data count, or every leg for the DDF layouts,
 * whose P and Q positions count as zero blocks.
 */
struct raid_row {
	uint8_t disk[RAID_MAX_LEGS];	/* data index -> leg */
	uint8_t index[RAID_MAX_LEGS];	/* leg -> data index, or RAID_NO_DISK */
	uint8_t slot[RAID_MAX_LEGS];	/* data index -> syndrome slot */
	uint8_t pd, qd;			/* qd: RAID_NO_DISK below raid6 */
	uint8_t nr_slots;
};

/* layout.c */
struct raid_layout_name {
	const char *name;		/* our spec's layout= word (mdadm's name) */
	const char *dm_type;		/* dm-raid's raid_type, or NULL when it has none */
	unsigned int level;
	enum raid_algo algo;
};
extern const struct raid_layout_name raid_layouts[];
const struct raid_layout_name *raid_layout_find(unsigned int level, const char *name);
const struct raid_layout_name *raid_layout_of(unsigned int level, enum raid_algo algo);
const struct raid_layout_name *raid_layout_by_dm(const char *dm_type);
/* Data chunk number `chunk` of the array: its leg, and its row. */
unsigned int raid_chunk_disk(const struct raid_geom *g, uint64_t chunk, uint64_t *row);
void raid_row_map(const struct raid_geom *g, uint64_t row, struct raid_row *out);

/* parity.c */
void raid_parity_init(void);
/*
 * bufs[leg]: len bytes of each leg's column (32-byte aligned, len a
 * multiple of 32).  Compute P (and Q) from the data buffers.
 */
void raid_parity_gen(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		     size_t len, void *zero);
/*
 * Fill the buffers of the legs in `missing` (at most the parity count)
 * from the others.  scratch: two more buffers of len bytes.
 */
void raid_parity_rebuild(const struct raid_geom *g, const struct raid_row *row, void **bufs,
			 size_t len, uint32_t missing, void **scratch, void *zero);
/*
 * Compute P (and Q) afresh into scratch and count where the legs' own P or
 * Q differs, as md counts it: 8 sectors per 4 KiB page that differs.
 */
uint64_t raid_parity_mismatches(const struct raid_geom *g, const struct raid_row *row,
				void **bufs, size_t len, void **scratch, void *zero);
/* dst ^= src over len bytes. */
void raid_xor_into(void *dst, const void *src, size_t len);
/* dst = a + b (xor). */
void raid_xor_to(void *dst, const void *a, const void *b, size_t len);
/* dst ^= g^slot * src over len bytes (the Q delta of a changed data chunk). */
void raid_q_delta(void *dst, const void *src, size_t len, unsigned int slot);
/* Whether P (and Q) agree with the data; the first differing byte in *where. */
bool raid_parity_ok(const struct raid_geom *g, const struct raid_row *row, void **bufs,
		    size_t len, void **scratch, void *zero, size_t *where);

struct raid;
struct raid_head;

/* Background work over every row, one at a time (md's sync actions). */
enum raid_pass {
	RAID_PASS_NONE,
	RAID_PASS_RESYNC,		/* parity from the data */
	RAID_PASS_RECOVER,		/* rebuilding legs' content from the others */
	RAID_PASS_CHECK,		/* count the sectors whose parity disagrees */
	RAID_PASS_REPAIR,		/* ... and write parity that agrees */
};

/*
 * A request's state (the node's per-I/O area).  Reads go to the data legs
 * in pieces, one child per chunk piece; what a failed leg held, and every
 * write, goes through stripe heads, one (row, window) at a time, while the
 * request waits on `hold`.
 */
struct raid_io {
	struct ubt_io_wait hold;	/* the request, until its heads are done */
	struct ubt_io_wait wait;	/* a request waiting for a free head; a head for its row */
	struct raid_head *head;		/* a background I/O: the head it runs */
	uint64_t next;			/* the next sector no head has taken yet */
	unsigned int steps;		/* heads running for this request */
	unsigned int pieces;		/* read pieces in flight */
	uint32_t gen;			/* r->legs_gen when the pieces went out */
	bool log;			/* a background I/O of the write-intent log */
	bool journal;			/* a background I/O of the journal's checkpoint */
	bool redo;			/* a piece's leg failed: read it again through heads */
	bool held;			/* hold is parked */
	bool finished;			/* hold was woken */
	int result;
	struct iovec iov[];		/* read pieces: t->max_iov_in entries each */
};

/*
 * A stripe head: one window of columns [w0, w1) (sectors within the
 * chunk) of one row, for one request.  `want` is the part of the request
 * in the window, per data index, as [lo, hi) in window-relative sectors.
 */
enum raid_head_mode {
	RAID_HEAD_FULL,			/* every data chunk written whole: no reads */
	RAID_HEAD_RMW,			/* read old data and parity, update parity */
	RAID_HEAD_RCW,			/* read the data not written, compute parity */
	RAID_HEAD_RECON,		/* read every working leg, rebuild the missing */
};

struct raid_head {
	struct raid *r;
	bool busy;			/* under r->lock: taken by a request or the resync */
	bool locked;			/* under r->lock: owns (row, win) */
	uint64_t row;
	uint32_t win;			/* window number within the chunk */
	struct ubt_io_wait *waiters;	/* heads waiting for this one's row window */
	/*
	 * Write heads of other requests for the same window that this one
	 * took in while they waited for it (stripe.c: head_hand_over): it
	 * writes their data with its own, and ends them when it ends.
	 */
	struct raid_head *riders;
	struct raid_head *next_rider;
	struct ubt_io_wait *ride_wait;	/* a rider: its parked background I/O */
	uint32_t own_lo[RAID_MAX_LEGS], own_hi[RAID_MAX_LEGS];	/* with riders: its request's part */

	/* The rest belongs to the queue thread running the head. */
	struct ubt_io *req;		/* the request, or NULL for a pass's head */
	enum raid_pass pass;		/* a pass's head: which; RAID_PASS_NONE for a request */
	uint8_t op;			/* READ (rebuild a failed leg's data) or WRITE */
	uint8_t flags;			/* UBT_IO_FUA */
	uint32_t span_lo, span_hi;	/* window-relative sectors every phase covers */
	uint32_t lo[RAID_MAX_LEGS], hi[RAID_MAX_LEGS];	/* per data index */
	struct raid_row map;
	enum raid_head_mode mode;
	uint32_t failed;		/* legs failed when the head planned */
	uint32_t io_failed;		/* legs whose I/O failed in this phase */
	unsigned int outstanding;
	int phase;			/* 0 plan, 1 reads, 2 writes, 3 journal; -1 failed */
	uint32_t gen;			/* r->legs_gen when it planned: a leg replaced since voids it */
	uint64_t mismatches;		/* check/repair: sectors of the window that disagreed */
	uint64_t wait_ns;		/* a pass's head: resync_rate's wait before it runs */
	struct ubt_io_timer pause;
	void *buf[RAID_MAX_LEGS];	/* RAID_WINDOW per leg */
	void *scratch[2];
	void *direct[RAID_MAX_LEGS];	/* by leg: its data in the request's memory (stripe.c) */
	struct iovec iov[RAID_MAX_LEGS];
	/* What phase 2 writes: legs, and each one's window-relative [lo, hi). */
	uint32_t wmask;
	uint32_t wlo[RAID_MAX_LEGS], whi[RAID_MAX_LEGS];
	/* The journal (journal.c): this head's entry, its sequence number (0: none). */
	void *jbuf;
	uint64_t jseq;
	bool jfailed;
	struct iovec jiov;
};

/*
 * The write-intent log (bitmap.c; md's write-intent bitmap), under r->lock
 * but `resync` and `failed` (atomic).  A region is rows_per_region rows;
 * its bit on disk is set before any write reaches its legs and cleared
 * once its writes are done and on stable storage, so after a crash only
 * regions with a bit set can have parity that disagrees with the data.
 */
struct raid_bitmap {
	struct ubt_target *node;	/* the log's child node; NULL: no log */
	unsigned int rows_shift;	/* log2 of the rows per region */
	uint64_t nr_regions;
	uint64_t *resync;		/* atomic bits: regions the resync must still visit */
	uint32_t *writes;		/* per region: write requests in flight */
	uint32_t *mark_gen;		/* per region: the log write that sets its bit */
	uint8_t *image;			/* the log as it must be on disk */
	void *buf;			/* the image the write in flight carries */
	struct iovec iov;
	size_t io_bytes;
	uint32_t gen, done;		/* log writes started, finished */
	bool writing;
	bool dirty;			/* the image changed since the write in flight began */
	bool cleaned;			/* ... and clears bits: flush the legs first */
	unsigned int idle;		/* regions with a bit set, no write, no resync due */
	uint64_t pass_region;		/* the resync pass: regions below are done */
	struct ubt_io_wait *cur;	/* writes waiting for the log write in flight */
	struct ubt_io_wait *next;	/* writes waiting for the one after it */
	uint32_t failed;		/* atomic: a log write failed */
	bool started;			/* atomic: a queue served: a stop writes it clean */
	uint64_t dirty_at_start;	/* regions the log had set */
};

/*
 * The write journal (journal.c), under r->lock but `failed` (atomic).
 * Entry s lives in slot s % nr_slots; entries up to `checkpoint` are on
 * the legs and flushed, so a replay ignores them and their slots are free.
 */
struct raid_journal {
	struct ubt_target *node;	/* the journal's child node; NULL: none */
	uint64_t slot_bytes;		/* a header block and a window of every leg */
	uint32_t nr_slots;
	uint64_t *slot_seq;		/* per slot: the entry it holds */
	uint8_t *slot_done;		/* per slot: that entry's leg writes are done */
	uint64_t next_seq;		/* the next entry's number (from 1) */
	uint64_t done_upto;		/* entries up to this one are done */
	uint64_t checkpoint;		/* ... and up to this one flushed and recorded */
	uint64_t cp_target;		/* the checkpoint being written */
	bool checkpointing;
	bool resynced;			/* the first resync is over (or nosync): recorded */
	struct ubt_io_wait *waiters;	/* heads waiting for a free slot */
	uint8_t *sb;			/* the superblock, 4 KiB */
	void *sb_buf;			/* ... as the write in flight carries it */
	struct iovec sb_iov;
	uint32_t failed;		/* atomic: a journal write failed */
	bool started;			/* atomic: a queue served: a stop records everything done */
	uint64_t replayed;		/* entries written to the legs at construction */
	uint64_t id;			/* this journal's: its entries carry it */
};

struct raid {
	struct ubt_target *t;
	struct raid_geom g;
	const struct raid_layout_name *layout;
	uint32_t win;			/* sectors per head window */
	uint32_t nr_wins;		/* windows per chunk */
	uint64_t rows;
	uint64_t leg_len;		/* sectors of each leg the array uses */
	uint32_t failed;		/* atomic: legs failed, as bits */
	unsigned int max_pieces;	/* read pieces of one request at most */

	pthread_mutex_t lock;
	struct raid_head heads[RAID_HEADS];
	uint64_t merged;		/* under lock: write heads taken in by another (stripe.c) */
	unsigned int free_heads;
	struct ubt_io_wait *head_waiters, **head_waiters_tail;
	void *zero;			/* a window of zeroes, never written */
	void *mem;

	/* Rows below `synced` have parity that agrees with the data (atomic). */
	bool nosync;			/* assumed in sync from the start */
	uint64_t synced;
	/*
	 * Legs being rebuilt (atomic bits): written like working legs, read
	 * only in rows below pass_mark, which the recovery has rebuilt.
	 */
	uint32_t rebuilding;
	uint32_t legs_gen;		/* atomic: legs replaced by new nodes so far */

	uint32_t rebuild_arg;		/* rebuild=: legs rebuilt from the others at start */
	uint64_t region_arg;		/* region= as given (bytes; 0 absent) */

	/* The pass under way (pass.c), under lock but pass_mark (atomic). */
	enum raid_pass pass;
	uint64_t pass_rate;		/* resync_rate=: bytes per second of each leg; 0 no limit */
	uint64_t rate_next;		/* the time (ns) the next pass head may start */
	uint64_t pass_next;		/* the next step (row * nr_wins + window) to start */
	unsigned int pass_running;	/* its heads in flight */
	uint64_t pass_mark;		/* rows the pass has finished */
	bool frozen;			/* `frozen`: no pass head starts */
	enum raid_pass last_scrub;	/* the last check or repair, for the status */
	uint64_t mismatches;		/* sectors it found disagreeing */

	struct raid_bitmap bm;
	struct raid_journal jr;
};

static inline uint32_t raid_failed(const struct raid *r)
{
	return __atomic_load_n(&r->failed, __ATOMIC_ACQUIRE);
}

static inline unsigned int raid_parity_count(const struct raid *r)
{
	return r->g.level == 6 ? 2 : 1;
}

static inline uint64_t raid_synced(const struct raid *r)
{
	return __atomic_load_n(&r->synced, __ATOMIC_ACQUIRE);
}

static inline bool raid_bit_test(const uint64_t *bits, uint64_t i)
{
	return __atomic_load_n(&bits[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1;
}

static inline void raid_bit_set(uint64_t *bits, uint64_t i, bool on)
{
	if (on)
		__atomic_fetch_or(&bits[i / 64], 1ull << (i % 64), __ATOMIC_ACQ_REL);
	else
		__atomic_fetch_and(&bits[i / 64], ~(1ull << (i % 64)), __ATOMIC_ACQ_REL);
}

/*
 * Whether row's parity is known to agree with its data: below the resync's
 * mark and, with a log, outside the regions it still has to visit.
 */
static inline bool raid_row_synced(const struct raid *r, uint64_t row)
{
	if (row >= raid_synced(r))
		return false;
	return !r->bm.node || !raid_bit_test(r->bm.resync, row >> r->bm.rows_shift);
}

/* Leg i's node: a replace (control thread) may swap it while queues run. */
static inline struct ubt_target *raid_leg_node(const struct raid *r, unsigned int i)
{
	return __atomic_load_n(&r->t->children[i], __ATOMIC_ACQUIRE);
}

/* The legs whose content in row `row` cannot be read: failed, or not rebuilt there yet. */
static inline uint32_t raid_unreadable(const struct raid *r, uint64_t row)
{
	uint32_t f = raid_failed(r), b = __atomic_load_n(&r->rebuilding, __ATOMIC_ACQUIRE);

	if (b && row >= __atomic_load_n(&r->pass_mark, __ATOMIC_ACQUIRE))
		f |= b;
	return f;
}

/* raid.c */
void raid_fail_leg(struct raid *r, unsigned int leg);
/* The same without a word: the leg is about to be replaced. */
void raid_fail_leg_quiet(struct raid *r, unsigned int leg);
int raid_leg_of(const struct raid *r, const struct ubt_target *child);

/* stripe.c */
int raid_heads_init(struct raid *r);
void raid_heads_free(struct raid *r);
/* Start heads for request io from p->next on; 0 or a negative errno. */
int raid_heads_start(struct ubt_io *io);
int raid_head_end_io(struct raid *r, struct ubt_io *io, struct ubt_io *child, int res);
/* Under r->lock: a free head, or NULL. */
struct raid_head *raid_head_take(struct raid *r);
/* Run a head a pass took (row, win and pass set). */
void raid_head_launch(struct raid *r, struct ubt_queue *q, struct raid_head *h);

/* pass.c */
/* Under r->lock: start a pass over every row (the last one must have ended). */
void raid_pass_begin(struct raid *r, enum raid_pass pass);
/* Start the pass's heads while there are free ones and rows left. */
void raid_pass_poke(struct raid *r, struct ubt_queue *q);
/* Under r->lock: one of the pass's heads is done. */
void raid_pass_head_done(struct raid *r, struct raid_head *h);
/*
 * Plan a pass head: the legs to read, or -1 when the row cannot be done
 * (too many legs lost) and is passed over.
 */
int64_t raid_pass_reads(struct raid *r, struct raid_head *h, uint32_t unreadable);
/* After the reads: compute; the legs to write. */
uint32_t raid_pass_compute(struct raid *r, struct raid_head *h);
const char *raid_pass_name(enum raid_pass pass);

/* io.c */
int raid_map(struct ubt_target *t, struct ubt_io *io);
int raid_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res);
/* io's children: a FLUSH to every working leg (a request's, or a log's or journal's). */
int raid_flush_legs(struct ubt_io *io);
/* Outside the queues (a destructor): make every working leg durable; 0 or -errno. */
int raid_sync_legs(struct raid *r);
/* One of a request's heads is done, with res. */
void raid_request_step_done(struct ubt_io *io, struct ubt_queue *from, int res);
/* Finish the request if no head of it runs and none is left to start. */
void raid_request_maybe_done(struct ubt_io *io, struct ubt_queue *from);

/* bitmap.c */
/* log=NODE and region=SIZE (after the legs are built): 0, or an error set. */
int raid_bitmap_build(struct ubt_target *t, struct ubt_args *args, struct raid *r,
		      bool force_sync);
/* Read the log, set the regions to resync, write it back; 0 or an error set. */
int raid_bitmap_load(struct raid *r, bool force_sync);
void raid_bitmap_free(struct raid *r);
/* A clean stop: flush the legs, write the log with only the resync's regions set. */
void raid_bitmap_stop(struct raid *r);
/*
 * Count write request io in its regions; true when it waits for the log
 * write that records them (resume runs it then).
 */
bool raid_bitmap_write_begin(struct raid *r, struct ubt_io *io, int (*resume)(struct ubt_io *));
/* Write request io is done (its legs have it). */
void raid_bitmap_write_end(struct raid *r, struct ubt_queue *q, const struct ubt_io *io);
/* Start the log write the image waits for, if any. */
void raid_bitmap_kick(struct raid *r, struct ubt_queue *q);
int raid_bitmap_end_io(struct raid *r, struct ubt_io *io, struct ubt_io *child, int res);
/* Under r->lock: the resync is done below `row`. */
void raid_bitmap_synced_below(struct raid *r, uint64_t row);
/* Under r->lock: every region to resync (the resync message). */
void raid_bitmap_resync_all(struct raid *r);
/* Under r->lock: the first row at or after `row` in a region the resync must visit. */
uint64_t raid_bitmap_next_row(const struct raid *r, uint64_t row);

/* journal.c */
/* journal=NODE (after the legs are built): 0, or an error set. */
int raid_journal_build(struct ubt_target *t, struct ubt_args *args, struct raid *r);
/*
 * Read the journal, write every entry not yet recorded as flushed to the
 * legs (oldest first), flush them, record it; true in *resync when the
 * first resync has not ended.  0 or an error set.
 */
int raid_journal_load(struct raid *r, bool *resync);
void raid_journal_free(struct raid *r);
/* A clean stop: flush the legs, record every entry done. */
void raid_journal_stop(struct raid *r);
/* Write head h's entry (phase 3), then its legs; 0 or a negative errno. */
int raid_journal_write(struct ubt_io *bg, struct raid_head *h);
/* Head h's leg writes are over. */
void raid_journal_entry_done(struct raid *r, struct ubt_queue *q, struct raid_head *h);
/* Start the checkpoint there is reason for, if any. */
void raid_journal_kick(struct raid *r, struct ubt_queue *q);
int raid_journal_end_io(struct raid *r, struct ubt_io *io, struct ubt_io *child, int res);
/* Under r->lock: the first resync is over; the next superblock write says so. */
void raid_journal_resynced(struct raid *r);
/* stripe.c: phase 2, the writes (after the journal, if any). */
int raid_head_submit_writes(struct ubt_io *bg, struct raid_head *h);
/*
 * Where the head keeps leg `leg`'s data at window-relative sector off: in
 * the request's memory where it uses that in place, else in its buffer.
 */
void *raid_head_data(const struct raid_head *h, unsigned int leg, uint32_t off);

/* table.c */
extern const char *const raid_dm_names[];
int raid_table_parse(struct ubt_table_line *l);
int raid_table_print(const struct ubt_target *t, struct ubt_table_out *o);

#endif
