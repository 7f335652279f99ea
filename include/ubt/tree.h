/* SPDX-License-Identifier: MIT */
/*
 * A device's tree of targets, built from a spec expression: construction,
 * the limits the device exposes, and the per-tag slab geometry.
 */
#ifndef UBT_TREE_H
#define UBT_TREE_H

#include "ubt/target.h"

struct ubt_spec_node;

struct ubt_tree_opts {
	uint32_t logical_block_size;	/* bytes: 512 or 4096 */
	/*
	 * The largest request the device takes when the data stays in the
	 * client's pages (zero copy); every node budgets its splits for it.
	 */
	uint32_t max_io_bytes;
	/*
	 * Each tag's buffer, and so the largest request, when the data moves
	 * through our memory (copy and user copy); 0 means max_io_bytes.
	 */
	uint32_t tag_buf_bytes;
	enum ubt_engine engine;		/* leaves' engine where the spec names none */
};

struct ubt_tree {
	struct ubt_target *root;
	struct ubt_spec_node *spec;
	struct ubt_tree_opts opts;
	unsigned int nr_nodes;
	int *fds;			/* backing fds, fixed-file index i+1 */
	unsigned int nr_fds;
	struct ubt_limits limits;	/* the device's, derived from the tree */
	/* The first node that needs the data (needs_data), or NULL. */
	const struct ubt_target *data_node;
	bool want_aio;			/* some leaf uses Linux AIO: queues set it up */
	size_t slot_size;		/* one ubt_io plus the largest per_io_size */
	unsigned int slots_per_tag;	/* ubt_io slots one request can need */
	unsigned int bg_tags;		/* background tags every queue sets aside */
	int poke_fd;			/* queue 0's ring while it runs, else -1 */
	bool fds_registered;		/* the queues' fixed-file tables are made */
	/* Nodes replaced in the running tree, and the specs they came from. */
	struct ubt_target **retired;
	unsigned int nr_retired;
	struct ubt_spec_node **late_specs;
	unsigned int nr_late_specs;
	/*
	 * While this tree is built to take a running one's place (reload):
	 * the running tree, whose claims on files a leaf may share.
	 */
	const struct ubt_tree *live;
	char *err;			/* constructor error buffer */
	size_t errlen;
};

/* The largest request under a data mode with (true) or without tag buffers. */
static inline uint32_t ubt_tree_io_bytes(const struct ubt_tree *tree, bool tag_bufs)
{
	if (tag_bufs && tree->opts.tag_buf_bytes && tree->opts.tag_buf_bytes < tree->opts.max_io_bytes)
		return tree->opts.tag_buf_bytes;
	return tree->opts.max_io_bytes;
}

/*
 * Parse spec_text and construct every node.  On failure nothing stays open
 * and err holds one line naming the node and the argument.
 */
int ubt_tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
		   struct ubt_tree **out, char *err, size_t errlen);
void ubt_tree_free(struct ubt_tree *tree);

/*
 * Have a queue thread call every node's poke op soon: for a message
 * handler (any thread) whose change needs I/O.  0, or a negative errno
 * when the poke could not be sent.
 */
int ubt_tree_poke(struct ubt_tree *tree);

/*
 * Build spec_text into a node that can take old's place in the running
 * tree (a mirror's hot replace): at least min_len sectors long, no file
 * that the tree outside old uses, I/O that fits the per-tag slots sized
 * for old, and what the device promised the kernel (block size,
 * alignment, discard, flush).  The caller puts it in place; the new node
 * takes the next index.  On failure err says why and nothing stays open.
 */
int ubt_tree_build_replacement(struct ubt_tree *tree, const struct ubt_target *old,
			       const char *spec_text, uint64_t min_len, struct ubt_target **out,
			       char *err, size_t errlen);
/*
 * A node taken out of the running tree: kept (with its files open) until
 * the tree is freed, since I/O may still be in flight on it.
 */
int ubt_tree_retire(struct ubt_tree *tree, struct ubt_target *t);

/*
 * Build spec_text into a tree that can take live's place on its device (a
 * reload): live's options; a leaf on a file that live uses shares live's
 * claim on it (ubt_tree_shared_claim); what the device promised the kernel
 * (block size, alignment, request size, read-only, discard, flush) holds.
 * A node that loads state the running stack keeps writing (keeps_state:
 * a cache's metadata, a mirror's disk log) is refused over live's files.
 * The size may differ: the caller decides.  On failure err says why and
 * nothing stays open.
 */
int ubt_tree_build_next(const struct ubt_tree *live, const char *spec_text,
			struct ubt_tree **out, char *err, size_t errlen);
/*
 * For a leaf's constructor, once it has set its backing_dev and
 * backing_ino, while a tree is built to succeed a running one: a new
 * descriptor sharing the running tree's claim (flock) on that file -- a
 * dup, since the claim belongs to the open file description -- or -1 when
 * the running tree does not use the file.
 */
int ubt_tree_shared_claim(const struct ubt_target *t);

/* The node with index ref (as `status` numbers them) or label ref; NULL if none. */
struct ubt_target *ubt_tree_find(struct ubt_tree *tree, const char *ref);

/* Bytes the device exposes. */
static inline uint64_t ubt_tree_bytes(const struct ubt_tree *tree)
{
	return tree->root->len << UBT_SECTOR_SHIFT;
}

/* Registry lookups (after modules were loaded on demand). */
const struct ubt_target_type *ubt_find_target(const char *name);
/* Only what is registered already: no module is loaded. */
const struct ubt_target_type *ubt_find_target_loaded(const char *name);
const struct ubt_target_type *ubt_target_types(void);
/* Where `m` targets are looked for; set before the first lookup. */
void ubt_set_module_dir(const char *dir);
const char *ubt_module_dir(void);

#endif
