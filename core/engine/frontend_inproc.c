// SPDX-License-Identifier: MIT
/*
 * The in-process frontend.  Free tags are kept on a stack; each loop turn
 * fills every free tag from the generator, then submits and reaps once.
 */
#include <errno.h>
#include <stdlib.h>

#include "ubt/inproc.h"
#include "engine.h"

struct inproc {
	const struct ubt_inproc_ops *ops;
	void *arg;
	struct ubt_request *reqs;	/* per tag */
	unsigned int *free_tags;
	unsigned int nr_free;
};

static void inproc_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	struct inproc *ip = q->fe_priv;

	ip->ops->done(ip->arg, q, tag, &ip->reqs[tag], res);
	ip->free_tags[ip->nr_free++] = tag;
}

static void inproc_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)cqe;	/* the in-process frontend queues no SQEs of its own */
}

static const struct ubt_frontend_ops inproc_ops = {
	.complete = inproc_complete,
	.cqe = inproc_cqe,
};

int ubt_inproc_run(struct ubt_tree *tree, unsigned int q_id, unsigned int depth,
		   const struct ubt_inproc_ops *ops, void *arg)
{
	struct ubt_queue_opts qo = { .q_id = q_id, .depth = depth, .frontend_fd = -1 };
	struct inproc ip = { .ops = ops, .arg = arg };
	struct ubt_queue q;
	bool more = true;
	unsigned int i;
	int ret;

	ip.reqs = calloc(depth, sizeof(*ip.reqs));
	ip.free_tags = calloc(depth, sizeof(*ip.free_tags));
	if (!ip.reqs || !ip.free_tags) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < depth; i++)
		ip.free_tags[ip.nr_free++] = depth - 1 - i;
	ret = ubt_queue_init(&q, tree, &qo, &inproc_ops, &ip);
	if (ret)
		goto out_free;

	for (;;) {
		while (more && ip.nr_free) {
			unsigned int tag = ip.free_tags[--ip.nr_free];
			struct ubt_request *r = &ip.reqs[tag];

			if (!ops->next(arg, &q, tag, r)) {
				ip.free_tags[ip.nr_free++] = tag;
				more = false;
				break;
			}
			ubt_queue_request(&q, tag, r->op, r->flags, r->sector, r->nr_sectors);
		}
		/*
		 * Done when the generator is, and background work (a resync) too,
		 * and the wake-ups this queue owes other queues have gone out.
		 */
		if (!q.target_inflight && q.bg_inflight == q.bg_idle && !q.wakes_unsent && !more)
			break;
		if (!ubt_queue_busy(&q) && (q.target_inflight || q.bg_inflight)) {
			/* An I/O with nothing in flight can never finish. */
			ret = -EIO;
			break;
		}
		ret = ubt_queue_poll(&q, ubt_queue_busy(&q) ? 1 : 0);
		if (ret)
			break;
	}
	ubt_queue_exit(&q);
out_free:
	free(ip.reqs);
	free(ip.free_tags);
	return ret;
}
