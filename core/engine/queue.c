// SPDX-License-Identifier: MIT
/*
 * The per-queue engine: ring setup, per-tag contexts and the completion
 * loop shared by both frontends.  Everything a request needs was allocated
 * here, before the first request: buffers, the slab of ubt_io slots and the
 * ring sized for the worst fan-out of the tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "aio.h"
#include "engine.h"
#include "ubt/inproc.h"
#include "ubt/util.h"

#define RING_MAX_ENTRIES	4096
#define UBT_FIXED_BUFS_MAX_BYTES	(256ULL << 20)

static unsigned int ring_entries(const struct ubt_queue *q, unsigned int depth)
{
	/* Every tag may have each of its slots in flight plus its command. */
	uint64_t want = (uint64_t)depth * (q->slots_per_tag + 1);
	unsigned int n = 8;

	while (n < want && n < RING_MAX_ENTRIES)
		n <<= 1;
	return n;
}

/*
 * Set the ring up with the most the kernel takes: the caller's optional
 * flags, then the default COOP_TASKRUN | SINGLE_ISSUER, then neither --
 * each dropped in turn where an older kernel answers -EINVAL.
 */
static int ring_init(struct ubt_queue *q, const struct ubt_queue_opts *o)
{
	const unsigned int defaults = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
	const unsigned int tries[] = { o->ring_flags_optional | defaults, defaults, 0 };
	unsigned int entries = ring_entries(q, o->depth), i;
	struct io_uring_params p;
	int ret = -EINVAL;

	for (i = 0; i < UBT_ARRAY_SIZE(tries) && ret == -EINVAL; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = o->ring_flags | tries[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 2;
		ret = io_uring_queue_init_params(entries, &q->ring, &p);
	}
	return ret;
}

/*
 * Put the tree's files in the ring's fixed-file table from index 1 on
 * (index 0 is the frontend's), clearing up to `used` slots the previous
 * tree had.  Slots are replaced one by one: clearing the whole table
 * would wait (before Linux 6.13) for commands that hold it, and the
 * frontend's commands wait for requests for as long as the device lives.
 */
static int fill_files(struct ubt_queue *q, unsigned int used)
{
	struct ubt_tree *tree = q->tree;
	unsigned int i, n = UBT_MAX(tree->nr_fds, used);
	int fds[n + 1];
	int ret;

	if (tree->nr_fds + 1 > UBT_RING_FILES)
		return -EMFILE;
	for (i = 0; i < n; i++)
		fds[i] = i < tree->nr_fds ? tree->fds[i] : -1;
	/* Files opened from now on are used by their plain descriptors. */
	if (q->serves)
		__atomic_store_n(&tree->fds_registered, true, __ATOMIC_RELAXED);
	if (!n)
		return 0;
	ret = io_uring_register_files_update(&q->ring, 1, fds, n);
	return ret < 0 ? ret : 0;
}

static int register_files(struct ubt_queue *q, int frontend_fd)
{
	int ret = io_uring_register_files_sparse(&q->ring, UBT_RING_FILES);

	if (!ret)
		ret = io_uring_register_files_update(&q->ring, 0, &frontend_fd, 1);
	return ret < 0 ? ret : fill_files(q, 0);
}

/* Child i, as a hot replace (ubt_target_swap_child) last stored it. */
static struct ubt_target *child(const struct ubt_target *t, unsigned int i)
{
	return __atomic_load_n(&t->children[i], __ATOMIC_ACQUIRE);
}

/* Let each node set up per-queue state (optional). */
static int queue_init_nodes(struct ubt_queue *q, struct ubt_target *t)
{
	unsigned int i;
	int ret;

	if (t->type->queue_init) {
		ret = t->type->queue_init(t, q);
		if (ret)
			return ret;
	}
	for (i = 0; i < t->nr_children; i++) {
		ret = queue_init_nodes(q, child(t, i));
		if (ret)
			return ret;
	}
	return 0;
}

static void poke_nodes(struct ubt_queue *q, struct ubt_target *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_children; i++)
		poke_nodes(q, child(t, i));
	if (t->type->poke)
		t->type->poke(t, q);
}

void ubt_queue_poked(struct ubt_queue *q)
{
	poke_nodes(q, q->root);
}

static void queue_exit_nodes(struct ubt_queue *q, struct ubt_target *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_children; i++)
		queue_exit_nodes(q, child(t, i));
	if (t->type->queue_exit)
		t->type->queue_exit(t, q);
}

/*
 * Register the tag buffers so leaves can use READ_FIXED / WRITE_FIXED:
 * no page pinning or iovec import per I/O.  Registration pins the memory,
 * so very deep queues of large buffers go without it.
 */
static void register_tag_buffers(struct ubt_queue *q)
{
	size_t buf_bytes = q->buf_bytes;
	struct iovec *iov;
	unsigned int i;

	if ((uint64_t)q->depth * buf_bytes > UBT_FIXED_BUFS_MAX_BYTES)
		return;
	iov = calloc(q->depth, sizeof(*iov));
	if (!iov)
		return;
	for (i = 0; i < q->depth; i++) {
		iov[i].iov_base = q->tags[i].buf;
		iov[i].iov_len = buf_bytes;
	}
	q->fixed_bufs = io_uring_register_buffers(&q->ring, iov, q->depth) == 0;
	free(iov);
}

/*
 * The buffer table: one slot per tag, holding the tag's buffer, or left
 * empty for the kernel to register each request's pages in (zero copy).
 */
static int setup_buffers(struct ubt_queue *q)
{
	struct io_uring_probe *probe;
	int ret;

	if (!q->serves)
		return 0;	/* node I/O: the caller's memory, never registered */
	probe = io_uring_get_probe_ring(&q->ring);
	q->vec_fixed = probe && io_uring_opcode_supported(probe, UBT_IORING_OP_READV_FIXED) &&
		       io_uring_opcode_supported(probe, UBT_IORING_OP_WRITEV_FIXED);
	io_uring_free_probe(probe);
	if (q->data_mode == UBT_DATA_TAG_BUF) {
		register_tag_buffers(q);
		return 0;
	}
	ret = io_uring_register_buffers_sparse(&q->ring, q->depth);
	if (ret)
		return ret;
	q->fixed_bufs = true;
	return 0;
}

static int alloc_tag_buffers(struct ubt_queue *q)
{
	size_t buf_bytes = ubt_tree_io_bytes(q->tree, true);
	unsigned int i;

	/* Buffers are touched only as requests use them. */
	q->bufs = mmap(NULL, (size_t)q->depth * buf_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->bufs == MAP_FAILED) {
		q->bufs = NULL;
		return -ENOMEM;
	}
	q->buf_bytes = buf_bytes;
	for (i = 0; i < q->depth; i++)
		q->tags[i].buf = q->bufs + (size_t)i * buf_bytes;
	return 0;
}

/*
 * The slab's geometry: the tree's, or for node I/O the subtree's, settled
 * here since a node may be read while its tree is still being built.  A
 * budget is a function of the node and its input, so settling it again on
 * a built tree changes nothing.
 */
static void geometry(struct ubt_queue *q)
{
	struct subtree_needs needs = { 0 };

	if (q->root == q->tree->root && q->tree->slots_per_tag) {
		q->slots_per_tag = q->tree->slots_per_tag;
		q->slot_size = q->tree->slot_size;
		q->bg_tags = q->tree->bg_tags;
		return;
	}
	q->slots_per_tag = tree_slab(q->root, q->root->max_iov_in ? q->root->max_iov_in : 1,
				     &needs);
	q->slot_size = needs.slot_size;
	q->bg_tags = needs.bg_tags;
}

int ubt_queue_init(struct ubt_queue *q, struct ubt_tree *tree, const struct ubt_queue_opts *o,
		   const struct ubt_frontend_ops *fe, void *fe_priv)
{
	unsigned int nr_tags;
	size_t slab_bytes;
	int ret;

	memset(q, 0, sizeof(*q));
	q->tree = tree;
	q->root = o->node ? o->node : tree->root;
	q->serves = !o->node;
	q->fe = fe;
	q->fe_priv = fe_priv;
	q->q_id = o->q_id;
	q->depth = o->depth;
	q->data_mode = o->data_mode;
	q->frontend_fd = o->frontend_fd;
	geometry(q);
	nr_tags = o->depth + q->bg_tags;
	slab_bytes = (size_t)nr_tags * q->slots_per_tag * q->slot_size;

	q->tags = calloc(nr_tags, sizeof(*q->tags));
	if (!q->tags)
		return -ENOMEM;
	if (posix_memalign((void **)&q->slab, 64, slab_bytes)) {
		ret = -ENOMEM;
		goto out_free;
	}
	memset(q->slab, 0, slab_bytes);
	/* Under zero copy the data stays in the client's pages: no tag buffers. */
	if (q->data_mode == UBT_DATA_TAG_BUF && q->serves) {
		ret = alloc_tag_buffers(q);
		if (ret)
			goto out_free;
	}

	ret = ring_init(q, o);
	if (ret)
		goto out_free;
	q->ring_ready = true;
	ret = register_files(q, o->frontend_fd);
	if (ret)
		goto out_free;
	/* Saves a file lookup per io_uring_enter; fine to lack. */
	io_uring_register_ring_fd(&q->ring);
	ret = setup_buffers(q);
	if (ret)
		goto out_free;
	if (tree->want_aio) {
		ret = ubt_aio_init(q);
		if (ret)
			goto out_free;
	}
	q->nodes_ready = true;
	ret = queue_init_nodes(q, q->root);
	if (ret)
		goto out_free;
	if (!q->serves)
		return 0;
	if (q->q_id == 0)
		__atomic_store_n(&tree->poke_fd, q->ring.ring_fd, __ATOMIC_RELEASE);
	/*
	 * The AIO state the serving queues have, as the first of them sized it:
	 * what a stack built later to take this one's place must fit.  A stack
	 * built for a reload has its live one's from the start.
	 */
	if (q->q_id == 0 && !tree->aio_iocbs) {
		tree->aio_depth = q->depth;
		tree->aio_iocbs = ubt_aio_slots(q);
	}
	/* A queue that serves: the nodes' background work may start on it. */
	ubt_queue_poked(q);
	return 0;
out_free:
	ubt_queue_exit(q);
	return ret;
}

void ubt_queue_exit(struct ubt_queue *q)
{
	if (q->tree && q->serves && q->q_id == 0 && q->ring_ready)
		__atomic_store_n(&q->tree->poke_fd, -1, __ATOMIC_RELEASE);
	if (q->nodes_ready)
		queue_exit_nodes(q, q->root);
	q->nodes_ready = false;
	if (q->ring_ready) {
		/* Drop the backing files now, not when the ring's teardown gets to it. */
		io_uring_unregister_files(&q->ring);
		io_uring_queue_exit(&q->ring);
	}
	q->ring_ready = false;
	/* After the ring: its eventfd READ points into the AIO state until then. */
	ubt_aio_exit(q);
	if (q->bufs)
		munmap(q->bufs, (size_t)q->depth * q->buf_bytes);
	q->bufs = NULL;
	free(q->slab);
	q->slab = NULL;
	free(q->tags);
	q->tags = NULL;
}

int ubt_queue_switch_tree(struct ubt_queue *q, struct ubt_tree *tree)
{
	struct ubt_tree *old = q->tree;
	unsigned int nr_tags = q->depth + tree->bg_tags, i;
	size_t slab_bytes = (size_t)nr_tags * tree->slots_per_tag * tree->slot_size;

	struct ubt_tag *tags;
	char *slab;
	int ret;

	/*
	 * The AIO state is sized once, an iocb per slot of the first slab;
	 * the device checked the new slab fits it (tree_misfit).
	 */
	if (tree->want_aio && (uint64_t)nr_tags * tree->slots_per_tag > ubt_aio_slots(q))
		return -EINVAL;
	tags = calloc(nr_tags, sizeof(*tags));
	if (!tags)
		return -ENOMEM;
	if (posix_memalign((void **)&slab, 64, slab_bytes)) {
		free(tags);
		return -ENOMEM;
	}
	memset(slab, 0, slab_bytes);
	queue_exit_nodes(q, q->root);
	for (i = 0; i < q->depth; i++)
		tags[i].buf = q->tags[i].buf;
	free(q->tags);
	free(q->slab);
	q->tags = tags;
	q->slab = slab;
	q->bg_tags = tree->bg_tags;
	q->slots_per_tag = tree->slots_per_tag;
	q->slot_size = tree->slot_size;
	q->tree = tree;
	q->root = tree->root;
	ret = fill_files(q, old->nr_fds);
	if (!ret)
		ret = queue_init_nodes(q, tree->root);
	if (q->q_id == 0) {
		__atomic_store_n(&old->poke_fd, -1, __ATOMIC_RELEASE);
		__atomic_store_n(&tree->poke_fd, q->ring.ring_fd, __ATOMIC_RELEASE);
	}
	if (!ret)
		ubt_queue_poked(q);
	return ret;
}

bool ubt_queue_stopping(const struct ubt_queue *q)
{
	return q->stopping;
}

void *ubt_queue_buf(struct ubt_queue *q, unsigned int tag)
{
	return q->tags[tag].buf;
}

struct io_uring_sqe *ubt_queue_sqe(struct ubt_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	while (ubt_unlikely(!sqe)) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	q->ring_inflight++;
	return sqe;
}

static struct ubt_io *tag_slot(struct ubt_queue *q, unsigned int tag, unsigned int slot)
{
	size_t idx = (size_t)tag * q->slots_per_tag + slot;

	return (struct ubt_io *)(q->slab + idx * q->slot_size);
}

/* Taken by core/engine/io.c for child I/Os; NULL when the tag's slab is spent. */
struct ubt_io *ubt_queue_slot(struct ubt_queue *q, unsigned int tag)
{
	struct ubt_tag *t = &q->tags[tag];
	struct ubt_io *io;

	if (ubt_unlikely(t->next_slot >= q->slots_per_tag))
		return NULL;
	io = tag_slot(q, tag, t->next_slot++);
	/* The private area is the node's to initialise: only the header is cleared. */
	memset(io, 0, sizeof(*io));
	io->priv = io + 1;
	io->q = q;
	io->tag = (uint16_t)tag;
	return io;
}

void ubt_queue_request(struct ubt_queue *q, unsigned int tag, unsigned int op,
		       unsigned int flags, uint64_t sector, uint32_t nr_sectors)
{
	struct ubt_tag *t = &q->tags[tag];
	struct ubt_io *io;

	t->next_slot = 0;
	t->busy = true;
	q->target_inflight++;
	io = ubt_queue_slot(q, tag);
	io->t = q->root;
	io->op = (uint8_t)op;
	io->flags = (uint8_t)flags;
	io->sector = sector;
	io->nr_sectors = nr_sectors;
	if (op == UBT_OP_READ || op == UBT_OP_WRITE) {
		/* Under zero copy, t->buf is NULL: offset 0 of the request. */
		t->iov.iov_base = t->buf;
		t->iov.iov_len = (size_t)nr_sectors << UBT_SECTOR_SHIFT;
		io->iov = &t->iov;
		io->iovcnt = 1;
	}
	ubt_io_submit(io);
}

struct ubt_io *ubt_queue_bg_slot(struct ubt_queue *q)
{
	unsigned int tag;

	for (tag = q->depth; tag < q->depth + q->bg_tags; tag++) {
		struct ubt_tag *t = &q->tags[tag];

		if (t->busy)
			continue;
		t->busy = true;
		t->next_slot = 0;
		q->bg_inflight++;
		return ubt_queue_slot(q, tag);
	}
	return NULL;
}

void ubt_queue_root_done(struct ubt_queue *q, unsigned int tag, int res)
{
	/* Free before done(), which may start the next background I/O. */
	q->tags[tag].busy = false;
	if (tag >= q->depth) {
		q->bg_inflight--;
		q->tags[tag].bg_done(tag_slot(q, tag, 0), res);
		return;
	}
	q->target_inflight--;
	q->fe->complete(q, tag, res);
}

int ubt_queue_poll(struct ubt_queue *q, unsigned int wait_nr)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int ret;

	if (q->aio)
		ubt_aio_flush(q);
	ret = io_uring_submit_and_wait(&q->ring, wait_nr);
	if (ubt_unlikely(ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY))
		return ret;
	io_uring_for_each_cqe(&q->ring, head, cqe) {
		uint64_t ud = cqe->user_data;

		seen++;
		if (ud == UBT_UD_POKE) {
			ubt_queue_poked(q);
			continue;
		}
		if (ud == UBT_UD_NUDGE)
			continue;
		if (ud & UBT_UD_WAKE) {
			/* Another queue's message: not one of our SQEs. */
			ubt_io_wait_cqe((struct ubt_io_wait *)(uintptr_t)(ud & ~UBT_UD_WAKE));
			continue;
		}
		q->ring_inflight--;
		if (ud & UBT_UD_WAKE_SENT)
			ubt_io_wake_sent(q, (struct ubt_io_wait *)(uintptr_t)(ud & ~UBT_UD_WAKE_SENT),
					 cqe->res);
		else if (ud & UBT_UD_FRONTEND)
			q->fe->cqe(q, cqe);
		else if (ud == UBT_UD_AIO)
			ubt_aio_reap(q, cqe->res);
		else if (ud & UBT_UD_TIMER)
			ubt_io_timer_cqe((struct ubt_io_timer *)(uintptr_t)(ud & ~UBT_UD_TIMER),
					 cqe->res);
		else if (ud)
			ubt_io_leaf_cqe((struct ubt_io *)(uintptr_t)ud, cqe->res);
	}
	io_uring_cq_advance(&q->ring, seen);
	return 0;
}
