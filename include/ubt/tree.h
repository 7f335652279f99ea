/* SPDX-License-Identifier: MIT */
/*
 * A device's tree of targets, as frontends (the CLI, the daemon, tests,
 * an embedding program) use it: built from a spec expression, asked for
 * its size, limits, status and spec, sent messages.
 */
#ifndef UBT_TREE_H
#define UBT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubt/target.h"

struct ubt_tree;

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
	/*
	 * The folder relative paths in the spec are taken from (NULL: the
	 * current one): a daemon building a spec a user gave elsewhere.
	 */
	const char *base_dir;
};

/*
 * Parse spec_text and construct every node.  On failure nothing stays open
 * and err holds one line naming the node and the argument.
 */
int ubt_tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
		   struct ubt_tree **out, char *err, size_t errlen);
void ubt_tree_free(struct ubt_tree *tree);

/*
 * Build spec_text into a tree that can take live's place on its device (a
 * reload): live's options (base_dir aside: the caller's); a leaf on a file
 * that live uses shares live's claim on it; what the device promised the
 * kernel (block size, alignment, request size, read-only, discard, flush)
 * holds.  A node that loads state the running stack keeps writing
 * (ubt_target_keeps_state: a cache's metadata, a mirror's disk log) is
 * refused over live's files before it reads or writes them.  The size may differ: the caller decides.  On failure err
 * says why and nothing stays open.
 */
int ubt_tree_build_next(const struct ubt_tree *live, const char *spec_text,
			const char *base_dir, struct ubt_tree **out, char *err, size_t errlen);

/* Bytes the device exposes. */
uint64_t ubt_tree_bytes(const struct ubt_tree *tree);
/* The limits the device exposes, derived from the tree. */
const struct ubt_limits *ubt_tree_limits(const struct ubt_tree *tree);
/* How many nodes the tree has. */
unsigned int ubt_tree_nodes(const struct ubt_tree *tree);
/*
 * The tree's spec in canonical form, paths absolute: what rebuilds it
 * (a run record).  The length like snprintf.
 */
int ubt_tree_spec(const struct ubt_tree *tree, char *buf, size_t len);
/* The node with index ref (as `status` numbers them) or label ref; NULL if none. */
struct ubt_target *ubt_tree_find(struct ubt_tree *tree, const char *ref);

/*
 * What `status` shows: one line per node, dmsetup-status-like, children
 * indented, each led by "[INDEX]" or "[INDEX LABEL]", then <start>
 * <length> <type> <the node's status>.  The length like snprintf.
 */
int ubt_tree_status(struct ubt_tree *tree, char *out, size_t len);
/*
 * "INDEX DONE TOTAL WHAT" per node with background work that has an end
 * (a mirror's resync).  The length like snprintf.
 */
int ubt_tree_progress(struct ubt_tree *tree, char *out, size_t len);
/*
 * A message to node ref (an index or a label), like `dmsetup message`:
 * 0 with the node's reply in out, or a negative errno with one line in
 * out saying why it was refused (by the node, or for want of one).
 * base_dir: the folder relative paths in the words are taken from (a node
 * built by the message, as a mirror's replacement leg); NULL: the current.
 */
/* What separates the words of a message sent as one line (so no word holds a line break). */
#define UBT_MESSAGE_SPACE	" \t\n\r\v\f"
int ubt_tree_message(struct ubt_tree *tree, const char *ref, const char *base_dir, int argc,
		     char **argv, char *out, size_t len);

#endif
