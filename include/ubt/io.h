/* SPDX-License-Identifier: MIT */
/*
 * The data path a target works on: requests and child I/Os (struct
 * ubt_io), the helpers that split them over children, the leaf helpers
 * that turn them into backing I/O on the queue's ring, timers, waits and
 * background work.  Part of the target SDK (see ubt/target.h).
 *
 * A request enters the root as a struct ubt_io and each node either
 * remaps it, splits it into child I/Os for its children, completes it,
 * or (a leaf) queues backing I/O through the ubt_leaf_* helpers.  Every
 * ubt_io, and every node's per-I/O private area, comes from the tag's
 * preallocated slab: the hot path never allocates.
 *
 * Units: sectors are 512 bytes whatever the logical block size; results
 * are a byte count (or 0) on success and a negative errno on failure.
 */
#ifndef UBT_IO_H
#define UBT_IO_H

#include <linux/time_types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define UBT_SECTOR_SHIFT	9
#define UBT_SECTOR_SIZE		(1U << UBT_SECTOR_SHIFT)

struct ubt_queue;
struct ubt_target;

/* Operations: the same numbers as the ublk descriptor's. */
enum ubt_op {
	UBT_OP_READ = 0,
	UBT_OP_WRITE = 1,
	UBT_OP_FLUSH = 2,
	UBT_OP_DISCARD = 3,
	UBT_OP_WRITE_ZEROES = 5,
};

#define UBT_IO_FUA	(1U << 0)	/* write through to stable storage */
#define UBT_IO_NOUNMAP	(1U << 1)	/* write-zeroes must keep the blocks allocated */

struct ubt_io {
	struct ubt_target *t;		/* the node serving this I/O */
	struct ubt_io *parent;		/* NULL for the request itself */
	struct ubt_queue *q;
	uint8_t op;
	uint8_t flags;
	uint16_t tag;
	int32_t pending;		/* children and SQEs in flight, plus a dispatch bias */
	int32_t result;			/* first error seen, else 0 */
	uint64_t sector;		/* relative to t's start */
	uint32_t nr_sectors;
	uint32_t iovcnt;
	struct iovec *iov;		/* data of READ/WRITE; owned by this I/O while in flight */
	void *priv;			/* t->per_io_size bytes, not cleared: the node sets it up */
};

static inline uint64_t ubt_io_bytes(const struct ubt_io *io)
{
	return (uint64_t)io->nr_sectors << UBT_SECTOR_SHIFT;
}

/* How a leaf moves data to and from its backing file. */
enum ubt_engine {
	UBT_ENGINE_URING,		/* SQEs on the queue's io_uring */
	UBT_ENGINE_AIO,			/* Linux AIO (libaio), completions through the ring */
	UBT_ENGINE_URING_WQ,		/* io_uring, handed to its workers at once (a leaf's choice) */
};

/*
 * What the ubt_leaf_* helpers keep per I/O.  A leaf that uses them puts
 * this at the start of its private area (io->priv) and declares
 * per_io_size >= sizeof(struct ubt_leaf_io).
 */
struct ubt_leaf_io {
	uint64_t pos;			/* byte offset in the backing file */
	uint32_t done;			/* bytes already transferred */
	int32_t fd_index;		/* fixed-file index */
	enum ubt_engine engine;
};

/* ---- The queue an I/O runs on ----------------------------------------- */

/* The queue is stopping or suspending: a node starts no new work of its own. */
bool ubt_queue_stopping(const struct ubt_queue *q);

/* ---- iovec slicing ----------------------------------------------------- */

/*
 * A cursor over an I/O's data.  Nodes that split an I/O walk it in order
 * and hand each piece to a child's iovec array.
 */
struct ubt_iov_iter {
	const struct iovec *iov;
	unsigned int cnt;
	unsigned int idx;
	size_t off;			/* into iov[idx] */
};

void ubt_iov_iter_init(struct ubt_iov_iter *it, const struct iovec *iov, unsigned int cnt);
/*
 * Move the next len bytes of it into dst[*dst_cnt...], merging with the
 * last entry when contiguous.  Returns 0, or -E2BIG when dst_max is too
 * small or the data runs out.
 */
int ubt_iov_iter_take(struct ubt_iov_iter *it, struct iovec *dst, unsigned int *dst_cnt,
		      unsigned int dst_max, size_t len);
/* Skip len bytes. */
void ubt_iov_iter_skip(struct ubt_iov_iter *it, size_t len);

/*
 * Copy len bytes at byte `off` of an I/O's data to (to_iov) or from buf.
 * Only for a node that needs its data in the server's memory (needs_data):
 * elsewhere the addresses may be offsets into the kernel's pages.
 */
void ubt_iov_copy(const struct iovec *iov, unsigned int cnt, size_t off, unsigned char *buf,
		  size_t len, bool to_iov);

/* ---- Splitting an I/O over children ------------------------------------- */

/*
 * A node that spreads one I/O over several children (concat, stripe)
 * collects, per child, one contiguous run of child sectors and the pieces
 * of the parent's data that belong there, then sends one child I/O per
 * child touched.  All of it lives in the parent's per-I/O area, sized by
 * ubt_split_priv_size().
 */
struct ubt_split_child {
	uint64_t sector;
	uint32_t nr_sectors;
	unsigned int iovcnt;
	struct iovec *iov;
};

struct ubt_split {
	struct ubt_io *io;
	struct ubt_iov_iter it;
	unsigned int nr_children;
	unsigned int iov_max;		/* per child */
	bool data;			/* READ or WRITE: pieces carry data */
	struct ubt_split_child *c;
};

size_t ubt_split_priv_size(unsigned int nr_children, unsigned int iov_max);
void ubt_split_init(struct ubt_split *s, struct ubt_io *io, unsigned int nr_children,
		    unsigned int iov_max);
/*
 * The next nr_sectors of io (in order) go to child i at child sector
 * `sector`, which must continue child i's run.  Returns 0 or -EIO.
 */
int ubt_split_add(struct ubt_split *s, unsigned int i, uint64_t sector, uint32_t nr_sectors);
/* Like ubt_split_add for ranges that carry no data (discard, write-zeroes). */
int ubt_split_add_range(struct ubt_split *s, unsigned int i, uint64_t sector, uint32_t nr_sectors);
/* One child I/O per child with a run; with all = true, every child (flush). */
int ubt_split_submit(struct ubt_split *s, struct ubt_target *t, bool all);

/* ---- Child I/O and completion ------------------------------------------ */

/*
 * Child I/Os.  ubt_io_child() takes one from the tag's slab (NULL only if
 * the node exceeded its declared max_fanout); ubt_io_submit() hands it to
 * its node's map.  The parent completes when every child has.
 */
struct ubt_io *ubt_io_child(struct ubt_io *parent, struct ubt_target *child);
void ubt_io_submit(struct ubt_io *io);
/*
 * The whole of io, with its data, to child at child sector `sector`: one
 * child I/O sharing io's iovecs (linear, or a split that touches one child).
 */
int ubt_io_remap(struct ubt_io *io, struct ubt_target *child, uint64_t sector);
/* Finish io now (a node that serves the I/O itself, e.g. null). */
void ubt_io_complete(struct ubt_io *io, int res);

/* ---- Leaves ------------------------------------------------------------ */

/*
 * Queue backing I/O for io, on the queue's ring, or through Linux AIO
 * (ubt_leaf_rw_aio, after ubt_target_use_aio() in the constructor).
 * Their state is the struct ubt_leaf_io at io->priv; fd_index is what
 * ubt_target_add_fd() returned.  A short transfer is continued and a
 * transfer past the end of the file fails with -EIO.
 */
int ubt_leaf_rw(struct ubt_io *io, int fd_index, uint64_t byte_offset);
int ubt_leaf_rw_aio(struct ubt_io *io, int fd_index, uint64_t byte_offset);
/*
 * For a file io_uring can only serve from its worker threads (one whose
 * file system has no non-blocking reads and writes, as tmpfs): the SQE
 * goes to the workers at once (IOSQE_ASYNC), marked so that the ring
 * starts another worker for it rather than queueing it behind the one
 * that runs (work handed over after a failed non-blocking try waits for
 * a free worker, and a memory copy never leaves one free).
 */
int ubt_leaf_rw_wq(struct ubt_io *io, int fd_index, uint64_t byte_offset);
int ubt_leaf_fsync(struct ubt_io *io, int fd_index, bool datasync);
int ubt_leaf_fallocate(struct ubt_io *io, int fd_index, int mode, uint64_t byte_offset,
		       uint64_t bytes);

/* ---- Timers ------------------------------------------------------------ */

/*
 * Hold io on the queue's ring for a while without a thread: a TIMEOUT SQE
 * whose completion calls fn(io) on the queue thread ns nanoseconds later,
 * as if fn were io's map (a negative return fails io).  The timer lives in
 * the node's per-I/O area.  A timer cancelled by the ring's teardown fails
 * io with -EIO instead.
 */
struct ubt_io_timer {
	struct __kernel_timespec ts;
	struct ubt_io *io;
	int (*fn)(struct ubt_io *io);
	bool idle;
	/* An idle timer is on its queue's list (ubt_queue_cancel_idle). */
	struct ubt_io_timer *idle_prev, *idle_next;
};

void ubt_io_after(struct ubt_io *io, struct ubt_io_timer *tm, uint64_t ns,
		  int (*fn)(struct ubt_io *io));
/*
 * The same for a background I/O that only waits for time to pass (a
 * node's periodic tick): it keeps no queue from finishing.  A queue that
 * ends while it waits drops it (fn never runs; the node's queue_exit op
 * sees the queue go).
 */
void ubt_io_after_idle(struct ubt_io *io, struct ubt_io_timer *tm, uint64_t ns,
		       int (*fn)(struct ubt_io *io));

/* ---- Waiting ----------------------------------------------------------- */

/*
 * Park io until someone calls ubt_io_wake(w), from this queue's thread or
 * another's: then fn(io) runs on io's own queue thread, as if it were io's
 * map.  w lives in the node's per-I/O area; the waker keeps it on a list
 * of its own (w->next) in the meantime.
 */
struct ubt_io_wait {
	struct ubt_io *io;
	int (*fn)(struct ubt_io *io);
	struct ubt_io_wait *next;
};

void ubt_io_wait(struct ubt_io *io, struct ubt_io_wait *w, int (*fn)(struct ubt_io *io));
/*
 * Run a parked I/O.  From its own queue (from == w->io->q) fn runs now;
 * from another, a message on from's ring (MSG_RING) wakes w's queue, which
 * runs it.  Call it with no lock held: fn may start I/O.
 */
void ubt_io_wake(struct ubt_queue *from, struct ubt_io_wait *w);
/* ubt_io_wake() every waiter of a list linked through w->next. */
void ubt_io_wake_all(struct ubt_queue *from, struct ubt_io_wait *list);

/* ---- Background I/O ---------------------------------------------------- */

/*
 * Work a node starts on its own, not for a request (a mirror's resync
 * copies).  ubt_bg_io() takes one of the queue's background tags (the
 * node asked for them in t->bg_tags) and returns an I/O of node t, as if a
 * request had reached t: t's end_io sees its children and its per-I/O area
 * is t's.  The caller sets op, sector, nr_sectors and iov (the node's own
 * memory; or a request's data for a node that needs it in memory,
 * needs_data, while that request waits for the I/O: never addresses in a
 * kernel buffer), then ubt_bg_submit() runs fn as the I/O's
 * map; done(io, res) runs when it has completed, after which the tag is
 * free again.  NULL when every background tag of the queue is busy.
 */
struct ubt_io *ubt_bg_io(struct ubt_queue *q, struct ubt_target *t,
			 void (*done)(struct ubt_io *io, int res));
void ubt_bg_submit(struct ubt_io *io, int (*fn)(struct ubt_io *io));
/* io is a background I/O that io->t itself started (not a child of another node's). */
bool ubt_io_is_bg(const struct ubt_io *io);

#endif
