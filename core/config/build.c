// SPDX-License-Identifier: MIT
/*
 * Building a tree of targets from a spec: construction, the stacking of
 * limits, labels, and the per-I/O budget and per-tag slab geometry.
 *
 * Construction is depth first: a node's constructor builds its children
 * through ubt_args_child(), so errors surface from the innermost node and
 * everything built so far is destroyed again on the way out, its claims on
 * files released with it.
 */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ubt/registry.h"
#include "ubt/util.h"

/* ---- Construction ------------------------------------------------------ */

void tree_destroy_node(struct ubt_target *t)
{
	unsigned int i;

	if (!t)
		return;
	if (t->type->dtr)
		t->type->dtr(t);
	for (i = 0; i < t->nr_children; i++)
		tree_destroy_node(t->children[i]);
	claims_drop(t->tree, t);
	free(t->children);
	free(t);
}

static void default_limits(struct ubt_tree *tree, struct ubt_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->logical_block_size = tree->opts.logical_block_size;
	lim->physical_block_size = tree->opts.logical_block_size;
	lim->max_io_bytes = tree->opts.max_io_bytes;
	lim->discard = true;
	lim->write_zeroes = true;
	lim->fua = true;
}

/* A parent can do no more than all of its children allow. */
static void stack_limits(struct ubt_limits *top, const struct ubt_limits *b)
{
	top->logical_block_size = UBT_MAX(top->logical_block_size, b->logical_block_size);
	top->physical_block_size = UBT_MAX(top->physical_block_size, b->physical_block_size);
	top->io_min = UBT_MAX(top->io_min, b->io_min);
	top->io_opt = UBT_MAX(top->io_opt, b->io_opt);
	top->max_io_bytes = UBT_MIN(top->max_io_bytes, b->max_io_bytes);
	top->discard_granularity = UBT_MAX(top->discard_granularity, b->discard_granularity);
	top->dma_alignment = UBT_MAX(top->dma_alignment, b->dma_alignment);
	top->read_only |= b->read_only;
	top->discard &= b->discard;
	top->write_zeroes &= b->write_zeroes;
	top->volatile_cache |= b->volatile_cache;
	top->fua &= b->fua;
}

/*
 * name=LABEL on any node: how `message` and `status` let a user name it
 * besides its index.  A label is a word that is not a number, unique in
 * the tree (checked once the tree is built).
 */
static int node_label(struct ubt_target *t, struct ubt_spec_node *node)
{
	unsigned int i;

	for (i = 0; i < node->nr_args; i++) {
		struct ubt_spec_arg *a = &node->args[i];
		const char *p;

		if (!a->key || strcmp(a->key, "name"))
			continue;
		a->used = true;
		if (!a->word || !a->word[0])
			return ubt_target_error(t, EINVAL, "name= takes a label, not a node");
		for (p = a->word; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
				return ubt_target_error(t, EINVAL, "name=%s: a label is letters, digits, "
							"'_', '.' and '-'", a->word);
		if (strspn(a->word, "0123456789") == strlen(a->word))
			return ubt_target_error(t, EINVAL, "name=%s: a label cannot be a number "
						"(numbers are node indexes)", a->word);
		t->label = a->word;
	}
	return 0;
}

struct ubt_target *tree_find_node(struct ubt_target *t, const char *ref, uint64_t index,
				  bool by_index, const struct ubt_target *skip)
{
	struct ubt_target *hit;
	unsigned int i;

	if (t != skip && (by_index ? t->id == index : t->label && !strcmp(t->label, ref)))
		return t;
	for (i = 0; i < t->nr_children; i++) {
		hit = tree_find_node(t->children[i], ref, index, by_index, skip);
		if (hit)
			return hit;
	}
	return NULL;
}

struct ubt_target *ubt_tree_find(struct ubt_tree *tree, const char *ref)
{
	uint64_t index = 0;
	bool by_index = !ubt_parse_uint(ref, &index);

	return tree_find_node(tree->root, ref, index, by_index, NULL);
}

/* The first node whose label another node also has, or NULL. */
static const struct ubt_target *duplicate_label(struct ubt_tree *tree, const struct ubt_target *t)
{
	const struct ubt_target *dup;
	unsigned int i;

	if (t->label && tree_find_node(tree->root, t->label, 0, false, t))
		return t;
	for (i = 0; i < t->nr_children; i++) {
		dup = duplicate_label(tree, t->children[i]);
		if (dup)
			return dup;
	}
	return NULL;
}

int tree_build_node(struct ubt_tree *tree, struct ubt_target *parent,
		    struct ubt_spec_node *node, char **bare, struct ubt_target **out)
{
	struct ubt_spec_node bare_node = { 0 };
	struct ubt_spec_arg bare_arg = { 0 };
	const struct ubt_target_type *type;
	struct ubt_args args = { .node = node };
	struct ubt_target *t;
	unsigned int i;
	int ret;

	if (!node) {
		/* A bare word where a node is expected: the bare leaf's node, on that word. */
		type = registry_find_flag(UBT_TARGET_BARE_LEAF);
		if (!type) {
			snprintf(tree->err, tree->errlen, "'%s': no target takes a bare word "
				 "(see 'ublk-target features')", *bare);
			return -EINVAL;
		}
		bare_arg.word = *bare;
		bare_node.name = (char *)type->name;
		bare_node.args = &bare_arg;
		bare_node.nr_args = 1;
		node = &bare_node;
		args.node = node;
		args.bare = bare;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(tree->err, tree->errlen, "out of memory");
		return -ENOMEM;
	}
	t->tree = tree;
	t->parent = parent;
	t->id = tree->nr_nodes++;
	t->type = ubt_find_target(node->name);
	if (!t->type) {
		snprintf(tree->err, tree->errlen,
			 "unknown target '%s' (see 'ublk-target features' for the built ones)",
			 node->name);
		free(t);
		return -EINVAL;
	}
	default_limits(tree, &t->limits);
	t->needs_data = t->type->flags & UBT_TARGET_NEEDS_DATA;
	for (i = 0; i < node->nr_args; i++)
		node->args[i].used = false;
	ret = node_label(t, node);
	if (ret) {
		free(t);
		return ret;
	}
	ret = t->type->ctr(t, &args);
	if (ret) {
		if (!tree->err[0])
			ubt_target_error(t, -ret, "%s", strerror(-ret));
		/* The constructor cleaned up after itself; children and claims are ours. */
		for (i = 0; i < t->nr_children; i++)
			tree_destroy_node(t->children[i]);
		claims_drop(tree, t);
		free(t->children);
		free(t);
		return ret;
	}
	for (i = 0; i < node->nr_args; i++) {
		struct ubt_spec_arg *a = &node->args[i];

		if (a->used)
			continue;
		if (a->key)
			ret = ubt_target_error(t, EINVAL, "unknown argument '%s='", a->key);
		else
			ret = ubt_target_error(t, EINVAL, "unexpected argument '%s'",
					       a->word ? a->word : a->node->name);
		goto out_destroy;
	}
	if (t->len == 0) {
		ret = ubt_target_error(t, EINVAL, "size is zero");
		goto out_destroy;
	}
	for (i = 0; i < t->nr_children; i++)
		stack_limits(&t->limits, &t->children[i]->limits);
	t->limits.chunk_sectors = 0;	/* a child's boundaries are not ours */
	if (t->type->io_hints)
		t->type->io_hints(t, &t->limits);
	*out = t;
	return 0;
out_destroy:
	tree_destroy_node(t);
	return ret;
}

/* Top down: a child's input is its parent's output. */
void tree_budget(struct ubt_target *t, unsigned int max_iov_in)
{
	unsigned int i;

	t->max_iov_in = max_iov_in;
	t->per_io_size = t->type->per_io_size;
	t->max_fanout = t->type->max_fanout;
	t->child_max_iov = max_iov_in;
	if (t->type->io_budget)
		t->type->io_budget(t);
	for (i = 0; i < t->nr_children; i++)
		tree_budget(t->children[i], t->child_max_iov);
}

unsigned int tree_subtree_slots(const struct ubt_target *t, struct subtree_needs *n)
{
	unsigned int i, worst = 0;

	if (t->needs_data && !n->data_node)
		n->data_node = t;
	n->max_priv = UBT_MAX(n->max_priv, t->per_io_size);
	n->bg_tags += t->bg_tags;
	n->per_queue_state |= t->type->queue_init || t->type->queue_exit;
	for (i = 0; i < t->nr_children; i++)
		worst = UBT_MAX(worst, tree_subtree_slots(t->children[i], n));
	return 1 + t->max_fanout * worst;
}

unsigned int tree_slab(struct ubt_target *top, unsigned int max_iov_in, struct subtree_needs *n)
{
	unsigned int slots;

	tree_budget(top, max_iov_in);
	slots = tree_subtree_slots(top, n);
	n->slot_size = UBT_ROUND_UP(sizeof(struct ubt_io) + n->max_priv, 64);
	return slots;
}

int tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
		      const struct ubt_tree *live, struct ubt_tree **out, char *err, size_t errlen)
{
	struct subtree_needs needs = { 0 };
	struct ubt_tree *tree;
	uint64_t bytes;
	const struct ubt_target *dup;
	int ret;

	tree = calloc(1, sizeof(*tree));
	if (!tree) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tree->poke_fd = -1;
	tree->opts = *opts;
	tree->live = live;
	tree->err = err;
	tree->errlen = errlen;
	err[0] = '\0';
	tree->spec = ubt_spec_parse(spec_text, err, errlen);
	if (!tree->spec) {
		ret = -EINVAL;
		goto out_free;
	}
	ret = tree_build_node(tree, NULL, tree->spec->bare ? NULL : tree->spec,
			      &tree->spec->name, &tree->root);
	if (ret)
		goto out_free;
	dup = duplicate_label(tree, tree->root);
	if (dup) {
		snprintf(err, errlen, "name=%s is given to two nodes", dup->label);
		ret = -EINVAL;
		goto out_free;
	}
	tree->limits = tree->root->limits;
	bytes = ubt_tree_bytes(tree);
	if (bytes % tree->limits.logical_block_size) {
		snprintf(err, errlen, "%s: size %llu is not a multiple of the %u-byte block size",
			 tree->root->type->name, (unsigned long long)bytes,
			 tree->limits.logical_block_size);
		ret = -EINVAL;
		goto out_free;
	}
	tree->slots_per_tag = tree_slab(tree->root, 1, &needs);	/* a request: one buffer */
	tree->data_node = needs.data_node;
	tree->bg_tags = needs.bg_tags;
	tree->slot_size = needs.slot_size;
	tree->err = NULL;
	tree->live = NULL;
	tree->opts.base_dir = NULL;	/* the caller's string: paths are absolute from here */
	/*
	 * Constructors may have used large arrays for a while (a cache loading
	 * a million mappings): give what they freed back, so the daemon keeps
	 * only what the nodes hold.
	 */
	malloc_trim(0);
	*out = tree;
	return 0;
out_free:
	ubt_tree_free(tree);
	return ret;
}

int ubt_tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
		   struct ubt_tree **out, char *err, size_t errlen)
{
	return tree_build(spec_text, opts, NULL, out, err, errlen);
}

void ubt_tree_free(struct ubt_tree *tree)
{
	unsigned int i;

	if (!tree)
		return;
	/*
	 * Replaced nodes first: they left the tree, and a destructor that
	 * writes its state finds its own subtree whole either way.
	 */
	for (i = 0; i < tree->nr_retired; i++)
		tree_destroy_node(tree->retired[i]);
	tree_destroy_node(tree->root);
	free(tree->retired);
	claims_free(tree);
	ubt_spec_free(tree->spec);
	for (i = 0; i < tree->nr_late_args; i++) {
		ubt_spec_arg_free(tree->late_args[i]);
		free(tree->late_args[i]);
	}
	free(tree->late_args);
	free(tree->fds);
	free(tree);
}

/* ---- What frontends and targets ask of a tree ----------------------------- */

uint64_t ubt_tree_bytes(const struct ubt_tree *tree)
{
	return tree->root->len << UBT_SECTOR_SHIFT;
}

const struct ubt_limits *ubt_tree_limits(const struct ubt_tree *tree)
{
	return &tree->limits;
}

unsigned int ubt_tree_nodes(const struct ubt_tree *tree)
{
	return tree->nr_nodes;
}

int ubt_tree_spec(const struct ubt_tree *tree, char *buf, size_t len)
{
	return ubt_spec_format(tree->spec, buf, len);
}

uint32_t ubt_target_block_size(const struct ubt_target *t)
{
	return t->tree->opts.logical_block_size;
}

uint32_t ubt_target_max_io_bytes(const struct ubt_target *t)
{
	return t->tree->opts.max_io_bytes;
}

enum ubt_engine ubt_target_engine(const struct ubt_target *t)
{
	return t->tree->opts.engine;
}

int ubt_target_add_fd(struct ubt_target *t, int fd)
{
	struct ubt_tree *tree = t->tree;
	int *fds;

	/* Not in tree->fds: queue threads read it (Linux AIO), so it never moves now. */
	if (__atomic_load_n(&tree->fds_registered, __ATOMIC_RELAXED))
		return UBT_FD_PLAIN + fd;
	fds = realloc(tree->fds, (tree->nr_fds + 1) * sizeof(*fds));
	if (!fds)
		return ubt_target_error(t, ENOMEM, "out of memory");
	tree->fds = fds;
	tree->fds[tree->nr_fds++] = fd;
	return (int)tree->nr_fds;	/* index 0 is the frontend's */
}

void ubt_target_close_fd(struct ubt_target *t, int index)
{
	struct ubt_tree *tree = t->tree;

	if (index >= UBT_FD_PLAIN) {
		close(index - UBT_FD_PLAIN);
		return;
	}
	if (index < 1 || (unsigned int)index > tree->nr_fds || tree->fds[index - 1] < 0)
		return;
	close(tree->fds[index - 1]);
	tree->fds[index - 1] = -1;	/* an empty slot to whoever registers the files next */
}

void ubt_target_use_aio(struct ubt_target *t)
{
	t->tree->want_aio = true;
	t->needs_data = true;
}
