// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/engine/queue.c: ring sizing, the per-tag slab (every tag
 * owns slots_per_tag slots, zeroed per use, never shared), and a request
 * completing through a real ring.
 */
#include <errno.h>
#include <string.h>

#include "core/engine/queue.c"
#include "targets/null/null.c"
#include "ut.h"

static int completed_tag = -1, completed_res;

static void fe_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	(void)q;
	completed_tag = (int)tag;
	completed_res = res;
}

static void fe_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)cqe;
}

static const struct ubt_frontend_ops fe = { .complete = fe_complete, .cqe = fe_cqe };

static struct ubt_tree *null_tree(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 1 << 16 };
	struct ubt_tree *tree = NULL;
	char err[256];

	CU_ASSERT_EQUAL(ubt_tree_build("null(size=1M)", &o, &tree, err, sizeof(err)), 0);
	return tree;
}

static void test_ring_entries(void)
{
	struct ubt_queue q = { .slots_per_tag = 1 };

	CU_ASSERT_EQUAL(ring_entries(&q, 1), 8);
	CU_ASSERT_EQUAL(ring_entries(&q, 128), 256);
	q.slots_per_tag = 7;
	CU_ASSERT_EQUAL(ring_entries(&q, 128), 1024);
	CU_ASSERT_EQUAL(ring_entries(&q, 4096), RING_MAX_ENTRIES);
}

static void test_slab_per_tag(void)
{
	struct ubt_queue_opts o = { .depth = 4, .frontend_fd = -1 };
	struct ubt_tree *tree = null_tree();
	struct ubt_queue q;
	struct ubt_io *a, *b, *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	tree->slots_per_tag = 2;	/* pretend a node fans out once */
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &o, &fe, NULL), 0);
	a = ubt_queue_slot(&q, 1);
	b = ubt_queue_slot(&q, 1);
	c = ubt_queue_slot(&q, 1);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NULL(c);		/* the tag's slab is spent */
	CU_ASSERT_EQUAL((char *)b - (char *)a, (long)tree->slot_size);
	CU_ASSERT_PTR_EQUAL(a->priv, a + 1);
	CU_ASSERT_EQUAL(a->tag, 1);
	/* Tag 2's first slot follows tag 1's last. */
	c = ubt_queue_slot(&q, 2);
	CU_ASSERT_EQUAL((char *)c - (char *)b, (long)tree->slot_size);
	/* Slots are handed out with a clean header. */
	c->result = -5;
	c->pending = 3;
	c->parent = a;
	q.tags[2].next_slot = 0;
	c = ubt_queue_slot(&q, 2);
	CU_ASSERT_EQUAL(c->result, 0);
	CU_ASSERT_EQUAL(c->pending, 0);
	CU_ASSERT_PTR_NULL(c->parent);
	CU_ASSERT_PTR_EQUAL(c->priv, c + 1);
	/* Buffers are disjoint and as large as the largest request. */
	CU_ASSERT_EQUAL((char *)ubt_queue_buf(&q, 1) - (char *)ubt_queue_buf(&q, 0), 1 << 16);
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}

static void test_request_completes(void)
{
	struct ubt_queue_opts o = { .depth = 2, .frontend_fd = -1 };
	struct ubt_tree *tree = null_tree();
	struct ubt_queue q;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &o, &fe, NULL), 0);
	completed_tag = -1;
	ubt_queue_request(&q, 1, UBT_OP_READ, 0, 0, 16);
	CU_ASSERT_EQUAL(completed_tag, 1);
	CU_ASSERT_EQUAL(completed_res, 16 * 512);
	CU_ASSERT_EQUAL(q.target_inflight, 0);
	CU_ASSERT_FALSE(q.tags[1].busy);
	ubt_queue_request(&q, 0, UBT_OP_FLUSH, 0, 0, 0);
	CU_ASSERT_EQUAL(completed_tag, 0);
	CU_ASSERT_EQUAL(completed_res, 0);
	CU_ASSERT_EQUAL(ubt_queue_poll(&q, 0), 0);
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}

static void test_sqe_never_null(void)
{
	struct ubt_queue_opts o = { .depth = 1, .frontend_fd = -1 };
	struct ubt_tree *tree = null_tree();
	struct ubt_queue q;
	unsigned int i, entries;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, tree, &o, &fe, NULL), 0);
	entries = q.ring.sq.ring_entries;
	/* More NOPs than the SQ holds: the queue flushes instead of failing. */
	for (i = 0; i < entries * 3; i++) {
		struct io_uring_sqe *sqe = ubt_queue_sqe(&q);

		CU_ASSERT_PTR_NOT_NULL_FATAL(sqe);
		io_uring_prep_nop(sqe);
		sqe->user_data = 0;
	}
	CU_ASSERT_EQUAL(q.ring_inflight, entries * 3);
	while (q.ring_inflight)
		CU_ASSERT_EQUAL_FATAL(ubt_queue_poll(&q, 1), 0);
	ubt_queue_exit(&q);
	ubt_tree_free(tree);
}

/*
 * A queue moved to another tree (a reload): the ring stays, the slab is
 * sized for the new tree, and requests go to it.
 */
static void test_switch_tree(void)
{
	struct ubt_queue_opts o = { .depth = 2, .frontend_fd = -1 };
	struct ubt_tree *a = null_tree(), *b;
	struct ubt_tree_opts to = { .logical_block_size = 512, .max_io_bytes = 1 << 16 };
	struct ubt_queue q;
	int ring_fd;
	char err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("null(size=2M)", &to, &b, err, sizeof(err)), 0);
	b->slots_per_tag = 3;		/* pretend b fans out where a does not */
	CU_ASSERT_EQUAL_FATAL(ubt_queue_init(&q, a, &o, &fe, NULL), 0);
	ring_fd = q.ring.ring_fd;
	CU_ASSERT_EQUAL(a->poke_fd, ring_fd);
	CU_ASSERT_EQUAL_FATAL(ubt_queue_switch_tree(&q, b), 0);
	CU_ASSERT_PTR_EQUAL(q.tree, b);
	CU_ASSERT_EQUAL(q.ring.ring_fd, ring_fd);
	CU_ASSERT_EQUAL(a->poke_fd, -1);
	CU_ASSERT_EQUAL(b->poke_fd, ring_fd);
	CU_ASSERT_TRUE(b->fds_registered);
	CU_ASSERT_PTR_NOT_NULL(ubt_queue_slot(&q, 1));
	CU_ASSERT_PTR_NOT_NULL(ubt_queue_slot(&q, 1));
	CU_ASSERT_PTR_NOT_NULL(ubt_queue_slot(&q, 1));
	CU_ASSERT_PTR_NULL(ubt_queue_slot(&q, 1));
	q.tags[1].next_slot = 0;
	/* Past a's end, inside b's: b serves it. */
	completed_tag = -1;
	ubt_queue_request(&q, 1, UBT_OP_READ, 0, 3000, 16);
	CU_ASSERT_EQUAL(completed_tag, 1);
	CU_ASSERT_EQUAL(completed_res, 16 * 512);
	ubt_queue_exit(&q);
	ubt_tree_free(a);
	ubt_tree_free(b);
}

UT_MAIN("queue", UT(test_ring_entries), UT(test_slab_per_tag), UT(test_request_completes),
	UT(test_sqe_never_null), UT(test_switch_tree))
