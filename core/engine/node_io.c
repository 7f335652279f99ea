// SPDX-License-Identifier: MIT
/*
 * I/O on one node outside the device's queues: a constructor reading its
 * metadata from a child before any queue runs, a destructor's last words
 * after they all stopped.  The node's own map and end_io serve it, on a
 * short-lived queue of depth 1 whose requests enter that node, so any node
 * serves -- a stack of them, a mirror, a remote leaf -- and nothing beside
 * the engine reads or writes a backing file.
 *
 * The queue serves no device: no poke reaches it, so a node starts none of
 * its background work there; what background I/O a request itself needs
 * (a mirror's log write) runs on it and is waited for.  It registers the
 * tree's files in a ring of its own, leaving the tree's table free for the
 * device's queues, and reads and writes a page-aligned bounce buffer, since
 * a leaf may be O_DIRECT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ubt/util.h"

struct ubt_node_io {
	struct ubt_queue q;
	bool done;
	int res;
	void *bounce;
	size_t bounce_len;
};

static void node_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	struct ubt_node_io *n = q->fe_priv;

	(void)tag;
	n->done = true;
	n->res = res;
}

static void node_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)cqe;	/* no SQE of the frontend's own */
}

static const struct ubt_frontend_ops node_ops = {
	.complete = node_complete,
	.cqe = node_cqe,
};

int ubt_node_io_open(struct ubt_target *t, struct ubt_node_io **out)
{
	struct ubt_queue_opts qo = { .depth = 1, .frontend_fd = -1, .node = t };
	struct ubt_node_io *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return -ENOMEM;
	ret = ubt_queue_init(&n->q, t->tree, &qo, &node_ops, n);
	if (ret) {
		free(n);
		return ret;
	}
	*out = n;
	return 0;
}

/* Reap until the request is done (and, stopping, until background work is too). */
static int run(struct ubt_node_io *n, bool until_idle)
{
	struct ubt_queue *q = &n->q;
	int ret;

	for (;;) {
		bool idle = !q->target_inflight && q->bg_inflight == q->bg_idle && !q->wakes_unsent;

		if (until_idle ? idle : n->done)
			return 0;
		if (!ubt_queue_busy(q))
			return -EIO;	/* nothing in flight could finish it */
		ret = ubt_queue_poll(q, 1);
		if (ret)
			return ret;
	}
}

/* One request of at most the device's largest size: what the nodes budget their splits for. */
static int one_request(struct ubt_node_io *n, enum ubt_op op, unsigned int flags, uint64_t off,
		       void *buf, size_t len)
{
	struct ubt_queue *q = &n->q;
	int ret;

	if (len > n->bounce_len) {
		free(n->bounce);
		n->bounce_len = 0;
		if (posix_memalign(&n->bounce, 4096, UBT_ROUND_UP(len, 4096)))
			return -ENOMEM;
		n->bounce_len = UBT_ROUND_UP(len, 4096);
	}
	if (op == UBT_OP_WRITE)
		memcpy(n->bounce, buf, len);
	q->tags[0].buf = n->bounce;
	n->done = false;
	ubt_queue_request(q, 0, op, flags, off >> UBT_SECTOR_SHIFT,
			  (uint32_t)(len >> UBT_SECTOR_SHIFT));
	ret = run(n, false);
	if (ret)
		return ret;
	if (n->res < 0)
		return n->res;
	if (op == UBT_OP_READ)
		memcpy(buf, n->bounce, len);
	return 0;
}

int ubt_node_io(struct ubt_node_io *n, enum ubt_op op, unsigned int flags, uint64_t off,
		void *buf, size_t len)
{
	size_t max = n->q.tree->opts.max_io_bytes, done, piece;
	int ret;

	if ((off | len) & (UBT_SECTOR_SIZE - 1))
		return -EINVAL;
	if ((op != UBT_OP_READ && op != UBT_OP_WRITE) || !max)
		return one_request(n, op, flags, off, buf, len);
	/* A log or metadata larger than a request goes as the kernel would send it: in pieces. */
	for (done = 0; done < len; done += piece) {
		piece = UBT_MIN(len - done, max);
		ret = one_request(n, op, flags, off + done, (char *)buf + done, piece);
		if (ret)
			return ret;
	}
	return 0;
}

void ubt_node_io_close(struct ubt_node_io *n)
{
	if (!n)
		return;
	/*
	 * What a request left running (a node's copy of a region) ends with the
	 * queue; a node's idle timer is dropped with the ring (its queue_exit
	 * sees the queue go).
	 */
	n->q.stopping = true;
	run(n, true);
	ubt_queue_exit(&n->q);
	free(n->bounce);
	free(n);
}

int ubt_target_sync(struct ubt_target *t)
{
	struct ubt_node_io *n;
	int ret = ubt_node_io_open(t, &n);

	if (ret)
		return ret;
	ret = ubt_node_io(n, UBT_OP_FLUSH, 0, 0, NULL, 0);
	ubt_node_io_close(n);
	return ret;
}
