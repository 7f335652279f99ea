/* SPDX-License-Identifier: MIT */
/*
 * The target interface: what a target module implements and what the core
 * offers it.  Modelled on device-mapper's struct target_type.
 *
 * A device is a tree of struct ubt_target nodes.  A request enters the root
 * as a struct ubt_io and each node either remaps it, splits it into child
 * I/Os for its children, completes it, or (a leaf) queues backing I/O on
 * the queue's ring through the ubt_leaf_* helpers.  Every ubt_io, and every
 * node's per-I/O private area, comes from the tag's preallocated slab: the
 * hot path never allocates.
 *
 * Units: sectors are 512 bytes whatever the logical block size; results are
 * a byte count (or 0) on success and a negative errno on failure.
 */
#ifndef UBT_TARGET_H
#define UBT_TARGET_H

#include <linux/aio_abi.h>
#include <linux/time_types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define UBT_SECTOR_SHIFT	9
#define UBT_SECTOR_SIZE		(1U << UBT_SECTOR_SHIFT)

struct ubt_queue;
struct ubt_tree;
struct ubt_spec_node;

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

/* How a leaf moves data to and from its backing file. */
enum ubt_engine {
	UBT_ENGINE_URING,		/* SQEs on the queue's io_uring */
	UBT_ENGINE_AIO,			/* Linux AIO (io_submit), completions through the ring */
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
	struct iocb iocb;		/* Linux AIO: the request in flight */
};

/* Limits a device exposes; each node may restrict what its children allow. */
struct ubt_limits {
	uint32_t logical_block_size;	/* bytes */
	uint32_t physical_block_size;	/* bytes */
	uint32_t io_min;		/* bytes, 0: none */
	uint32_t io_opt;		/* bytes, 0: none */
	uint32_t max_io_bytes;
	uint32_t discard_granularity;	/* bytes */
	uint32_t dma_alignment;		/* bytes the memory of a request must be aligned to */
	/*
	 * Requests should not cross multiples of this many sectors (dm-stripe's
	 * chunk).  Counted from the node's own start, so it is not inherited:
	 * only the root's reaches the device.
	 */
	uint32_t chunk_sectors;
	bool read_only;
	bool discard;
	bool write_zeroes;
	bool volatile_cache;		/* flushes matter */
	bool fua;
};

enum ubt_status_kind {
	UBT_STATUS_INFO,		/* like dmsetup status */
	UBT_STATUS_TABLE,		/* like dmsetup table */
};

struct ubt_args;

/*
 * The type's map or end_io reads or writes the bytes of an I/O itself
 * (fills a read, checksums, copies between children).  A device with such
 * a node keeps request data in memory the server can address (copy or user
 * copy); without one it may leave the data in the client's pages (zero
 * copy), where iov_base is an offset that must not be dereferenced.
 */
#define UBT_TARGET_NEEDS_DATA	(1U << 0)

struct ubt_target_type {
	const char *name;
	unsigned int version[3];
	unsigned int flags;		/* UBT_TARGET_* */
	const char *usage;		/* one line: "file(PATH, offset=, size=, readonly)" */
	size_t per_io_size;		/* private bytes per I/O, preallocated per tag */
	unsigned int max_fanout;	/* child I/Os one I/O can need (0: a leaf) */
	int (*ctr)(struct ubt_target *t, struct ubt_args *args);
	void (*dtr)(struct ubt_target *t);
	int (*map)(struct ubt_target *t, struct ubt_io *io);
	/* A child I/O of io finished with res; may rewrite res (optional). */
	int (*end_io)(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res);
	void (*io_hints)(struct ubt_target *t, struct ubt_limits *lim);
	int (*status)(struct ubt_target *t, enum ubt_status_kind k, char *buf, size_t len);
	int (*message)(struct ubt_target *t, int argc, char **argv, char *out, size_t len);
	/*
	 * Size the node's per-I/O state once its input is known: t->max_iov_in
	 * is the most iovecs an incoming I/O carries; set t->per_io_size,
	 * t->max_fanout and t->child_max_iov (the most a child I/O will
	 * carry).  Optional: the defaults are the type's per_io_size and
	 * max_fanout, and child I/Os as wide as the input.
	 */
	void (*io_budget)(struct ubt_target *t);
	int (*queue_init)(struct ubt_target *t, struct ubt_queue *q);
	/* On queue 0's thread, after ubt_tree_poke() (optional). */
	void (*poke)(struct ubt_target *t, struct ubt_queue *q);
	/*
	 * Background work that has an end (a mirror's resync): how much of it
	 * is done, in units of what (optional; `status --wait` draws it).
	 */
	void (*progress)(struct ubt_target *t, uint64_t *done, uint64_t *total,
			 const char **what);
	void (*queue_exit)(struct ubt_target *t, struct ubt_queue *q);
	/*
	 * Where the node's bytes lie when they lie plainly in one file (a file,
	 * a window of one): its descriptor and the byte offset of sector 0
	 * (optional).  For a constructor that must read or write a child before
	 * any queue runs (a cache's metadata); see ubt_target_direct().
	 */
	int (*direct)(const struct ubt_target *t, int *fd, uint64_t *offset);
	struct ubt_target_type *next;	/* registry link, owned by the core */
};

struct ubt_target {
	const struct ubt_target_type *type;
	struct ubt_tree *tree;
	struct ubt_target *parent;
	struct ubt_target **children;
	unsigned int nr_children;
	unsigned int id;		/* pre-order index in the tree */
	const char *label;		/* name=LABEL from the spec, or NULL */
	uint64_t len;			/* sectors */
	struct ubt_limits limits;	/* what this node can serve */
	void *private;
	/* Per-I/O budget, settled after construction (see io_budget). */
	size_t per_io_size;
	unsigned int max_fanout;
	unsigned int max_iov_in;
	unsigned int child_max_iov;
	/* A leaf's backing file, so parents can refuse the same file twice. */
	uint64_t backing_dev;
	uint64_t backing_ino;
	/*
	 * ... and the descriptor whose open file description holds the claim
	 * (flock) on it, which a stack built to succeed this one shares.
	 */
	int claim_fd;
	/*
	 * Background I/Os (ubt_bg_io) this node may have in flight at once
	 * on one queue; each queue sets aside that many tags for it.
	 */
	unsigned int bg_tags;
	/*
	 * This node reads or writes the bytes of its I/Os in the server's
	 * memory (UBT_TARGET_NEEDS_DATA, or a leaf on Linux AIO, which cannot
	 * reach pages registered in io_uring): the device keeps request data
	 * there (copy or user copy), never zero copy.
	 */
	bool needs_data;
	/*
	 * The constructor loaded state from its children that the node keeps
	 * writing while it runs (a cache's metadata, a mirror's disk log): a
	 * second stack must not load it beside a running one (reload).
	 */
	bool keeps_state;
};

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

/* ---- Constructor helpers ---------------------------------------------- */

/* Report a constructor error: "node: message".  Returns -err for chaining. */
int ubt_target_error(struct ubt_target *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Arguments of a node.  Each accessor marks what it read; an argument no
 * accessor asked for is an error once the constructor returns.
 */
unsigned int ubt_args_positional(struct ubt_args *a);
/* Whether key= was given (as a word or a node). */
bool ubt_args_has(struct ubt_args *a, const char *key);
/* Whether positional i was read already (a flag word ubt_args_flag took). */
bool ubt_args_taken(struct ubt_args *a, unsigned int i);
/* Positional i as a word (NULL when it is a node). */
const char *ubt_args_word(struct ubt_args *a, unsigned int i);
/* Build positional i (a node, or a bare path meaning file(path)) as a child. */
int ubt_args_child(struct ubt_target *t, struct ubt_args *a, unsigned int i);
/* Build key=NODE (or key=path) as a child; -ENOENT when absent. */
int ubt_args_key_child(struct ubt_target *t, struct ubt_args *a, const char *key);
/* key=VALUE as a string; NULL when absent. */
const char *ubt_args_str(struct ubt_args *a, const char *key);
/* key=SIZE with an optional K/M/G/T suffix; 0 present, -ENOENT absent, -EINVAL bad. */
int ubt_args_size(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out);
/* key=N, a whole number; 0 present, -ENOENT absent, -EINVAL bad. */
int ubt_args_uint(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out);
/* A bare positional word used as a flag ("readonly"). */
bool ubt_args_flag(struct ubt_args *a, const char *word);

/*
 * Build every positional argument not taken already (flag words read
 * first) as a child, 1 .. CONFIG_MAX_FANOUT of them; with unique_files,
 * refuse a backing file used under two children.
 */
int ubt_build_children(struct ubt_target *t, struct ubt_args *args, const char *example,
		       bool unique_files);

/*
 * The file and byte offset holding node t's sector 0, when t's bytes lie
 * plainly in one file; -EOPNOTSUPP otherwise.  The descriptor may be
 * O_DIRECT: I/O on it is block-aligned.
 */
int ubt_target_direct(const struct ubt_target *t, int *fd, uint64_t *offset);

/*
 * Make what node t's subtree holds durable, outside any queue (a node's
 * last words at teardown): fdatasync every file its bytes lie in.  A node
 * without a direct op is synced through its children; one holding no file
 * (null, zero) has nothing to sync.  0 or a negative errno (a crashed
 * volatile node answers -EIO).
 */
int ubt_target_sync(const struct ubt_target *t);

/*
 * Register a backing fd with the device; returns its fixed-file index.  A
 * file opened once the queues registered theirs (a node built into a
 * running tree) gets UBT_FD_PLAIN + fd instead: the leaf helpers then use
 * the plain descriptor.
 */
int ubt_target_add_fd(struct ubt_target *t, int fd);
#define UBT_FD_PLAIN		(1 << 24)
/*
 * The node will call ubt_leaf_rw_aio(): every queue gets a Linux AIO
 * context, and the node needs its data in our memory (needs_data).
 */
void ubt_target_use_aio(struct ubt_target *t);

/* ---- Data path -------------------------------------------------------- */

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

/*
 * Leaf helpers: queue backing I/O for io, on the queue's ring, or through
 * Linux AIO (ubt_leaf_rw_aio, after ubt_target_use_aio() in the
 * constructor).  Their state is the struct ubt_leaf_io at io->priv.
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

/*
 * Background I/O: work a node starts on its own, not for a request (a
 * mirror's resync copies).  ubt_bg_io() takes one of the queue's
 * background tags (the node asked for them in t->bg_tags) and returns an
 * I/O of node t, as if a request had reached t: t's end_io sees its
 * children and its per-I/O area is t's.  The caller sets op, sector,
 * nr_sectors and iov (the node's own memory, never a request's), then
 * ubt_bg_submit() runs fn as the I/O's map; done(io, res) runs when it has
 * completed, after which the tag is free again.  NULL when every
 * background tag of the queue is busy.
 */
struct ubt_io *ubt_bg_io(struct ubt_queue *q, struct ubt_target *t,
			 void (*done)(struct ubt_io *io, int res));
void ubt_bg_submit(struct ubt_io *io, int (*fn)(struct ubt_io *io));
/* io is a background I/O that io->t itself started (not a child of another node's). */
bool ubt_io_is_bg(const struct ubt_io *io);

static inline uint64_t ubt_io_bytes(const struct ubt_io *io)
{
	return (uint64_t)io->nr_sectors << UBT_SECTOR_SHIFT;
}

/* ---- Registry --------------------------------------------------------- */

void ubt_register_target(struct ubt_target_type *type);

/* Register a type at load time, whether linked in or loaded as a module. */
#define UBT_TARGET_REGISTER(type)					\
	static void __attribute__((constructor)) ubt_register_##type(void) \
	{								\
		ubt_register_target(&(type));				\
	}

#endif
