/* SPDX-License-Identifier: MIT */
/*
 * Private to the core: the per-queue engine (core/engine/).  One io_uring
 * carries both the frontend's commands and every backing I/O of every
 * node, one preallocated context per tag.
 *
 * Two frontends drive it: the ublk frontend (requests come from the kernel
 * through FETCH / COMMIT_AND_FETCH) and the in-process frontend (requests
 * come from a generator, for tests and `bench`).  One engine, two
 * frontends; a third, short-lived use runs I/O on one node outside the
 * device's queues (node_io.c).
 */
#ifndef UBT_CORE_ENGINE_H
#define UBT_CORE_ENGINE_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "../config/config.h"
#include "ubt/io.h"

struct ubt_tree;
struct ubt_queue;
struct ubt_aio;

/*
 * user_data of frontend SQEs has this bit set; the low 16 bits carry the
 * tag and bits 16-23 a frontend-defined kind.  Any other non-zero value is
 * the struct ubt_io whose backing I/O completed.
 */
#define UBT_UD_FRONTEND		(1ULL << 63)
#define UBT_UD(kind, tag)	(UBT_UD_FRONTEND | ((uint64_t)(kind) << 16) | (tag))
/* A node's timer (struct ubt_io_timer, see ubt_io_after) has this bit set. */
#define UBT_UD_TIMER		(1ULL << 61)
/*
 * A wake-up (struct ubt_io_wait, see ubt_io_wake) posted into this ring by
 * another queue's MSG_RING: no SQE of ours, so not in ring_inflight.
 */
#define UBT_UD_WAKE		(1ULL << 60)
/* Our own MSG_RING SQE that carried a wake-up to another queue. */
#define UBT_UD_WAKE_SENT	(1ULL << 59)
/* A poke (ubt_target_poke): call every node's poke op; no SQE of ours either. */
#define UBT_UD_POKE		(UBT_UD_WAKE | 1)
/* A nudge (ubt_ring_nudge): nothing to do; the thread's loop looks at its flags again. */
#define UBT_UD_NUDGE		(UBT_UD_WAKE | 2)
#define UBT_UD_TAG(ud)		((unsigned int)((ud) & 0xffff))
#define UBT_UD_KIND(ud)		((unsigned int)(((ud) >> 16) & 0xff))

/*
 * Slots of a queue's fixed-file table: the frontend's, then the tree's
 * files (a reload may bring a tree with more).
 */
#define UBT_RING_FILES		256

/* io_uring opcodes newer than liburing 2.3's header (Linux 6.15+). */
#define UBT_IORING_OP_READV_FIXED	60
#define UBT_IORING_OP_WRITEV_FIXED	61

struct ubt_frontend_ops {
	/* The request on tag finished with res (bytes or -errno). */
	void (*complete)(struct ubt_queue *q, unsigned int tag, int res);
	/* A CQE for one of the frontend's own SQEs. */
	void (*cqe)(struct ubt_queue *q, const struct io_uring_cqe *cqe);
};

/*
 * Where a request's data lives, which decides what the addresses in its
 * iovecs mean.  Either way a leaf passes them unchanged to READ_FIXED /
 * READV_FIXED with the tag's buffer index, because io_uring addresses a
 * registered buffer relative to the address it was registered at.
 */
enum ubt_data_mode {
	/* In the tag's buffer in our memory: iov_base is a pointer. */
	UBT_DATA_TAG_BUF,
	/*
	 * In the client's pages, which the kernel registered in this ring's
	 * buffer table at index = tag (ublk zero copy): iov_base is a byte
	 * offset into the request and no node may dereference it.
	 */
	UBT_DATA_KERNEL_BUF,
};

struct ubt_tag {
	void *buf;			/* buf_bytes, page aligned; NULL under zero copy */
	struct iovec iov;		/* the request's data, handed to the root */
	unsigned int next_slot;		/* bump allocator over this tag's slab */
	bool busy;
	/* Background tags (>= depth): called when the I/O completes. */
	void (*bg_done)(struct ubt_io *io, int res);
};

struct ubt_queue {
	struct io_uring ring;
	struct ubt_tree *tree;
	struct ubt_target *root;	/* where requests enter: the tree's root, or a node (node I/O) */
	unsigned int slots_per_tag;	/* ubt_io slots one request can need below root */
	size_t slot_size;		/* one ubt_io plus the largest per_io_size below root */
	const struct ubt_frontend_ops *fe;
	void *fe_priv;
	unsigned int q_id;
	unsigned int depth;
	unsigned int bg_tags;		/* tags depth .. depth + bg_tags - 1: background I/O */
	struct ubt_tag *tags;
	struct ubt_aio *aio;		/* Linux AIO engine, when a leaf uses it */
	char *slab;			/* depth * slots_per_tag * slot_size */
	char *bufs;
	size_t buf_bytes;		/* each tag's buffer; 0 under zero copy */
	unsigned int ring_inflight;	/* SQEs submitted or queued, CQE not yet seen */
	unsigned int target_inflight;	/* requests handed to the tree, not yet completed */
	unsigned int bg_inflight;	/* background I/Os not yet completed */
	unsigned int bg_idle;		/* ... of them, waiting on an idle timer */
	struct ubt_io_timer *idle_timers; /* those timers */
	unsigned int parked;		/* I/Os waiting for a wake-up (maybe from another queue) */
	unsigned int wakes_unsent;	/* wake-ups for other queues whose MSG_RING is not done */
	/* The frontend is shutting down or suspending: nodes start no new work. */
	bool stopping;
	int frontend_fd;		/* fixed file 0, or -1 */
	enum ubt_data_mode data_mode;
	bool ring_ready;
	bool fixed_bufs;		/* a buffer is registered at index = tag */
	bool vec_fixed;			/* the ring has READV_FIXED / WRITEV_FIXED (6.15+) */
	bool nodes_ready;
	bool serves;			/* a device's queue, not node I/O's */
};

struct ubt_queue_opts {
	unsigned int q_id;
	unsigned int depth;
	unsigned int ring_flags;	/* IORING_SETUP_* on top of the defaults */
	unsigned int ring_flags_optional; /* IORING_SETUP_* wanted where the kernel has them */
	int frontend_fd;		/* fixed file 0, or -1 */
	enum ubt_data_mode data_mode;
	/*
	 * Node I/O (node_io.c): requests enter this node, the caller gives
	 * each its buffer (tags[tag].buf), and the queue serves no device: no
	 * poke reaches it, its nodes start no background work of their own on
	 * it, and the tree's files stay free to be registered by the device's.
	 */
	struct ubt_target *node;
};

int ubt_queue_init(struct ubt_queue *q, struct ubt_tree *tree, const struct ubt_queue_opts *o,
		   const struct ubt_frontend_ops *fe, void *fe_priv);
void ubt_queue_exit(struct ubt_queue *q);

/*
 * Move an idle queue to another tree (a device's reload): no request, no
 * background I/O in flight.  The old tree's nodes leave the queue
 * (queue_exit), its files leave the ring's table, the per-tag slots are
 * sized for the new tree and its nodes join (queue_init); the ring, its
 * commands and the tag buffers stay.  0, or a negative errno: -ENOMEM
 * and -EINVAL (an AIO engine it was not set up for) leave the queue on the
 * old tree; a later failure leaves it unable to serve either.  On the
 * queue's thread.
 */
int ubt_queue_switch_tree(struct ubt_queue *q, struct ubt_tree *tree);
/*
 * Cancel the idle timers waiting on the ring (a node's periodic tick):
 * each one's I/O fails with -EIO once its completion is reaped.
 */
void ubt_queue_cancel_idle(struct ubt_queue *q);

/* An SQE from the queue's ring; flushes the ring when it is full.  Never NULL. */
struct io_uring_sqe *ubt_queue_sqe(struct ubt_queue *q);

/*
 * Start a request on a free tag: data lives where the queue's data mode
 * says (the tag's buffer, or the kernel-registered request pages).  The
 * frontend's complete() is called once the tree has finished it (possibly
 * before this returns).
 */
void ubt_queue_request(struct ubt_queue *q, unsigned int tag, unsigned int op,
		       unsigned int flags, uint64_t sector, uint32_t nr_sectors);

/* Whether the queue has work that will end in a completion it will see. */
static inline bool ubt_queue_busy(const struct ubt_queue *q)
{
	return q->ring_inflight || q->parked;
}

/*
 * Submit what is queued, wait for at least wait_nr completions and process
 * every completion available.  Returns 0 or a negative errno from the ring.
 */
int ubt_queue_poll(struct ubt_queue *q, unsigned int wait_nr);

/* Used by core/engine/io.c: a fresh ubt_io slot of tag, NULL when spent. */
struct ubt_io *ubt_queue_slot(struct ubt_queue *q, unsigned int tag);
/* Used by core/engine/io.c: the CQE of a leaf's backing I/O. */
void ubt_io_leaf_cqe(struct ubt_io *io, int res);
/* Used by core/engine/queue.c: a node's timer fired (res -ETIME) or was cancelled. */
void ubt_io_timer_cqe(struct ubt_io_timer *tm, int res);
/*
 * Wake the thread waiting on the ring ring_fd (a queue's): its poll
 * returns, and its loop sees flags set from outside.  0 or -errno.
 */
int ubt_ring_nudge(int ring_fd);

/* A poke arrived, or the queue started serving: every node's poke op runs. */
void ubt_queue_poked(struct ubt_queue *q);
/* Have queue 0 poke every node of tree soon (poke.c); 0 or a negative errno. */
int tree_poke(struct ubt_tree *tree);
/* Used by core/engine/queue.c: a wake-up for an I/O of this queue. */
void ubt_io_wait_cqe(struct ubt_io_wait *w);
/* Used by core/engine/queue.c: our MSG_RING carrying w to another queue finished. */
void ubt_io_wake_sent(struct ubt_queue *q, struct ubt_io_wait *w, int res);
/* Used by core/engine/io.c: a free background tag's root I/O, or NULL. */
struct ubt_io *ubt_queue_bg_slot(struct ubt_queue *q);
/* Used by core/engine/io.c: the root I/O of tag completed. */
void ubt_queue_root_done(struct ubt_queue *q, unsigned int tag, int res);

#endif
