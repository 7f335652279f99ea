/* SPDX-License-Identifier: MIT */
/*
 * The in-process frontend: drives a tree through the same queue engine as
 * the ublk frontend, with requests from a generator instead of the kernel.
 * Used by the functional tests and by `ublk-target bench`.
 */
#ifndef UBT_INPROC_H
#define UBT_INPROC_H

#include <stdbool.h>
#include <stdint.h>

struct ubt_queue;
struct ubt_tree;

struct ubt_request {
	uint8_t op;		/* enum ubt_op */
	uint8_t flags;		/* UBT_IO_* */
	uint64_t sector;
	uint32_t nr_sectors;
};

struct ubt_inproc_ops {
	/*
	 * Fill the next request for tag, whose buffer is ubt_queue_buf(q, tag)
	 * (fill it for a write).  Return false when there is nothing more.
	 */
	bool (*next)(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *req);
	/* The request on tag finished with res (bytes or -errno). */
	void (*done)(void *arg, struct ubt_queue *q, unsigned int tag,
		     const struct ubt_request *req, int res);
};

/* The data buffer of tag on q (what next() fills for a write, done() reads). */
void *ubt_queue_buf(struct ubt_queue *q, unsigned int tag);

/*
 * Run one queue of depth tags on the calling thread until next() returns
 * false and every request finished.  Returns 0 or a negative errno.
 */
int ubt_inproc_run(struct ubt_tree *tree, unsigned int q_id, unsigned int depth,
		   const struct ubt_inproc_ops *ops, void *arg);

#endif
