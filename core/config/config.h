/* SPDX-License-Identifier: MIT */
/*
 * Private to the core: a device's tree of nodes as configuration keeps it
 * (core/config/), read by the engine and the device rooms above it.
 *
 * The rooms of core/ depend one way:
 *   lib/     small libraries (sizes, iovecs, CRC-32C, words); nothing else
 *   config/  the spec, the registry, argument access, building a tree and
 *            its limits, claims on backing files, device-mapper tables,
 *            status and message dispatch; uses lib/
 *   engine/  the per-queue engine: requests, child I/O, leaves' backing
 *            I/O, timers, background work, node I/O outside the queues,
 *            the in-process frontend; uses config/ and lib/
 *   device/  the ublk device: control commands, its queues, lifecycle,
 *            recovery, reload; uses everything below it
 */
#ifndef UBT_CORE_CONFIG_H
#define UBT_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubt/spec.h"
#include "ubt/target.h"
#include "ubt/tree.h"

struct ubt_claim;

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
	/*
	 * What the device serving this tree set up, which a node or a tree
	 * built to take a place in it must fit: request data only in the
	 * client's pages (zero copy, set by the device), and each queue's
	 * Linux AIO, sized once for aio_iocbs slots (0: none), one per slot of
	 * its first slab (set as queue 0 starts); a slab of aio_depth request
	 * tags and a tree's background tags, each of slots_per_tag slots, must
	 * fit in it.  A tree no device serves keeps the data in memory.
	 */
	bool zero_copy;
	unsigned int aio_depth;
	unsigned int aio_iocbs;
	bool fds_registered;		/* the queues' fixed-file tables are made */
	/* Claims on backing files (claims.c), and which node uses which. */
	struct ubt_claim **claims;
	unsigned int nr_claims;
	struct ubt_claim_use *uses;
	unsigned int nr_uses;
	/*
	 * Nodes replaced in the running tree, and the spec arguments built
	 * into the tree since it was (a replacement's spec, then, once swapped
	 * in, what the replaced node's was: a retired node's words stay valid).
	 */
	struct ubt_target **retired;
	unsigned int nr_retired;
	unsigned int nr_unswapped;	/* built, not yet swapped in or discarded: room kept */
	struct ubt_spec_arg **late_args;
	unsigned int nr_late_args;
	/*
	 * While this tree is built to take a running one's place (reload):
	 * the running tree, whose claims on files a leaf may share.
	 */
	const struct ubt_tree *live;
	char *err;			/* constructor error buffer */
	size_t errlen;
};

/* A node's use of a claimed file. */
struct ubt_claim_use {
	const struct ubt_target *t;	/* NULL once the node is retired */
	struct ubt_claim *c;
	bool shared;			/* the node only reads it */
};

/* The arguments of the node being built (args.c). */
struct ubt_args {
	struct ubt_spec_node *node;
	/* A bare word built as a bare-leaf node: the spec's own word, for ubt_args_path. */
	char **bare;
};

/* What a subtree needs of each tag: ubt_io slots, private bytes, background tags. */
struct subtree_needs {
	size_t max_priv;
	size_t slot_size;			/* a ubt_io and max_priv, cache-line aligned */
	unsigned int bg_tags;
	const struct ubt_target *data_node;	/* the first that needs the data, pre-order */
	bool per_queue_state;
};

/* The largest request under a data mode with (true) or without tag buffers. */
static inline uint32_t ubt_tree_io_bytes(const struct ubt_tree *tree, bool tag_bufs)
{
	if (tag_bufs && tree->opts.tag_buf_bytes && tree->opts.tag_buf_bytes < tree->opts.max_io_bytes)
		return tree->opts.tag_buf_bytes;
	return tree->opts.max_io_bytes;
}

/* build.c */
/* Build a tree; live: the running tree it is to succeed (reload), or NULL. */
int tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
	       const struct ubt_tree *live, struct ubt_tree **out, char *err, size_t errlen);
/*
 * Build spec node `node` (NULL: the bare word *bare, a path, as the bare
 * leaf type's node) as a node of tree under parent.
 */
int tree_build_node(struct ubt_tree *tree, struct ubt_target *parent,
		    struct ubt_spec_node *node, char **bare, struct ubt_target **out);
void tree_destroy_node(struct ubt_target *t);
/* Settle each node's per-I/O budget below t, whose input carries max_iov_in iovecs. */
void tree_budget(struct ubt_target *t, unsigned int max_iov_in);
/* How many ubt_io slots one request can need below (and including) t; the rest in n. */
unsigned int tree_subtree_slots(const struct ubt_target *t, struct subtree_needs *n);
/*
 * Budget top's subtree for inputs of max_iov_in iovecs and size a tag's
 * slab for it: the slots returned, n->slot_size the bytes of each, the
 * rest of n as tree_subtree_slots() says.
 */
unsigned int tree_slab(struct ubt_target *top, unsigned int max_iov_in, struct subtree_needs *n);
/* The node with this label (or index) below t, skipping skip; NULL if none. */
struct ubt_target *tree_find_node(struct ubt_target *t, const char *ref, uint64_t index,
				  bool by_index, const struct ubt_target *skip);
/*
 * Why something built to serve the device that serves tree does not fit
 * it, or NULL: limits short of what the device promised the kernel, a
 * node that needs the data in our memory (data_node) on a zero-copy
 * device, Linux AIO (aio, for a slab with bg_tags background tags and
 * slots per tag) the queues were not set up for.  The one check a hot
 * replace and a reload both make.
 */
const char *tree_misfit(const struct ubt_tree *tree, const struct ubt_limits *lim,
			const struct ubt_target *data_node, bool aio, unsigned int bg_tags,
			unsigned int slots);
/* Whether t is node top or below it. */
bool tree_node_under(const struct ubt_target *t, const struct ubt_target *top);

/* claims.c */
/* Drop every use node t holds; a claim no node uses any more is released. */
void claims_drop(struct ubt_tree *tree, const struct ubt_target *t);
void claims_free(struct ubt_tree *tree);
/*
 * Node t's subtree left the tree (a hot replace): its claims stay until the
 * tree goes, but its uses count for nobody, so its files may come back.
 */
void claims_retire(struct ubt_tree *tree, const struct ubt_target *t);
/* tree, built to take a running one's place, now serves: its locks are its own. */
void claims_adopt(struct ubt_tree *tree);
/*
 * The path of a file that a node under `in` uses and that a node outside
 * both `in` and `except` (NULL: none) uses too; NULL if there is none.
 */
const char *claims_shared_outside(const struct ubt_tree *tree, const struct ubt_target *in,
				  const struct ubt_target *except);
/* Whether a node under t uses a file whose claim the tree shares with the running one. */
bool claims_from_live(const struct ubt_tree *tree, const struct ubt_target *t);

/* registry.c */
/*
 * The first type for which match(type, arg) holds, among those registered,
 * else after loading every module: a role in the framework one type plays,
 * a device-mapper name one type takes.
 */
const struct ubt_target_type *registry_find(bool (*match)(const struct ubt_target_type *t,
							   const void *arg),
					   const void *arg);
const struct ubt_target_type *registry_find_flag(unsigned int flag);

#endif
