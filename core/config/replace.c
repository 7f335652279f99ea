// SPDX-License-Identifier: MIT
/*
 * Changing what a running device serves: a new node in place of a child
 * (a mirror's hot replace), or a whole new tree built beside the running
 * one (a reload).  Both are built while the queues serve the old one, and
 * both must keep what the device promised the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ubt/util.h"

static const char *limits_fall_short(const struct ubt_limits *dev, const struct ubt_limits *n)
{
	if (n->logical_block_size > dev->logical_block_size)
		return "its block size is larger than the device's";
	if (n->dma_alignment > dev->dma_alignment)
		return "it needs memory aligned more strictly than the device asks of its clients";
	if (n->max_io_bytes < dev->max_io_bytes)
		return "it takes smaller requests than the device does";
	if (n->read_only && !dev->read_only)
		return "it is read-only";
	if ((dev->discard && !n->discard) || (dev->write_zeroes && !n->write_zeroes))
		return "it lacks discard or write-zeroes, which the device offers";
	if (n->volatile_cache && !dev->volatile_cache)
		return "it has a write cache and the device told the kernel it has none";
	return NULL;
}

const char *tree_misfit(const struct ubt_tree *tree, const struct ubt_limits *lim,
			const struct ubt_target *data_node, bool aio, unsigned int bg_tags,
			unsigned int slots)
{
	const char *why = limits_fall_short(&tree->limits, lim);
	uint64_t iocbs = (uint64_t)(tree->aio_depth + bg_tags) * slots;

	if (why)
		return why;
	if (data_node && tree->zero_copy)
		return "it needs the request data in the server's memory (the aio engine, or a "
		       "node that reads the data), which a zero-copy device does not keep";
	if (aio && (!tree->aio_iocbs || iocbs > tree->aio_iocbs))
		return tree->aio_iocbs ? "its aio engine needs more slots per queue than the "
					 "device set up when it started" :
					 "it uses the aio engine, which only a device that started "
					 "with it has";
	return NULL;
}

/* ---- A child of a running tree ------------------------------------------ */

/*
 * A label of t's subtree (rooted at top) that another node of it, or of
 * the tree outside `old`, has too; NULL if none.  The labels of the node
 * being replaced may be reused.
 */
static const char *label_taken(struct ubt_target *root, const struct ubt_target *old,
			       struct ubt_target *top, const struct ubt_target *t)
{
	const struct ubt_target *found;
	const char *dup;
	unsigned int i;

	if (t->label) {
		if (tree_find_node(top, t->label, 0, false, t))
			return t->label;
		found = tree_find_node(root, t->label, 0, false, NULL);
		if (found && !tree_node_under(found, old))
			return t->label;
	}
	for (i = 0; i < t->nr_children; i++) {
		dup = label_taken(root, old, top, t->children[i]);
		if (dup)
			return dup;
	}
	return NULL;
}

int ubt_target_build_child(struct ubt_target *t, unsigned int i, const char *spec_text,
			   uint64_t min_len, struct ubt_target **out, char *err, size_t errlen)
{
	struct ubt_tree *tree = t->tree;
	const struct ubt_target *old = t->children[i];
	struct subtree_needs need = { 0 }, had = { 0 };
	unsigned int slots, old_slots, nr_nodes = tree->nr_nodes;
	struct ubt_spec_arg *arg = NULL, **args;
	struct ubt_spec_node *spec;
	struct ubt_target **retired;
	bool want_aio = tree->want_aio;
	struct ubt_target *n = NULL;
	const char *why;
	int ret;

	tree->err = err;
	tree->errlen = errlen;
	err[0] = '\0';
	spec = ubt_spec_parse(spec_text, err, errlen);
	if (!spec) {
		ret = -EINVAL;
		goto out;
	}
	/* The spec as an argument of t's, as it will stand in t's spec once swapped in. */
	arg = calloc(1, sizeof(*arg));
	if (arg && spec->bare) {
		arg->word = spec->name;
		spec->name = NULL;
		ubt_spec_free(spec);
	} else if (arg) {
		arg->node = spec;
	} else {
		ubt_spec_free(spec);
	}
	/* Room to keep it and, once swapped in, the old node: no failure after. */
	args = realloc(tree->late_args, (tree->nr_late_args + 1) * sizeof(*args));
	if (args)
		tree->late_args = args;
	retired = realloc(tree->retired,
			  (tree->nr_retired + tree->nr_unswapped + 1) * sizeof(*retired));
	if (retired)
		tree->retired = retired;
	if (!arg || !args || !retired) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	ret = tree_build_node(tree, t, arg->node, arg->node ? NULL : &arg->word, &n);
	if (ret)
		goto out_undo;
	n->spec_arg = arg;
	tree->late_args[tree->nr_late_args++] = arg;
	slots = tree_slab(n, old->max_iov_in, &need);
	old_slots = tree_subtree_slots(old, &had);
	ret = -EINVAL;
	why = label_taken(tree->root, old, n, n);
	if (why)
		snprintf(err, errlen, "name=%s is given to another node", why);
	else if (n->len < min_len)
		snprintf(err, errlen, "%s is %llu bytes, smaller than the %llu it must hold",
			 n->type->name, (unsigned long long)(n->len << UBT_SECTOR_SHIFT),
			 (unsigned long long)(min_len << UBT_SECTOR_SHIFT));
	else if ((why = claims_shared_outside(tree, n, old)))
		snprintf(err, errlen, "%s's file %s is in use by another node of this device",
			 n->type->name, why);
	else if (slots > old_slots || need.slot_size > tree->slot_size ||
		 need.bg_tags > had.bg_tags)
		snprintf(err, errlen, "%s needs more per-request state than the node it replaces "
			 "(%s), sized when the device started", n->type->name, old->type->name);
	else if (need.per_queue_state)
		snprintf(err, errlen, "%s keeps per-queue state, which only a starting device sets up",
			 n->type->name);
	else if ((why = tree_misfit(tree, &n->limits, need.data_node, tree->want_aio,
				    tree->bg_tags, tree->slots_per_tag)))
		snprintf(err, errlen, "%s cannot take the place of %s: %s", n->type->name,
			 old->type->name, why);
	else
		ret = 0;
	if (!ret) {
		tree->nr_unswapped++;
		*out = n;
		goto out;
	}
	tree->nr_late_args--;
	tree_destroy_node(n);
out_undo:
	tree->want_aio = want_aio;
	tree->nr_nodes = nr_nodes;	/* a refused node leaves no gap in the indexes */
out_free:
	if (arg) {
		ubt_spec_arg_free(arg);
		free(arg);
	}
out:
	tree->err = NULL;
	return ret;
}

void ubt_target_swap_child(struct ubt_target *t, unsigned int i, struct ubt_target *n)
{
	struct ubt_tree *tree = t->tree;
	struct ubt_target *old = t->children[i];
	struct ubt_spec_arg *pa = old->spec_arg, *na = n->spec_arg, was;

	/*
	 * t's spec now writes n where it wrote old (key and place kept), and
	 * n's own argument keeps old's words alive for the retired node.
	 */
	if (pa) {
		was = *pa;
		pa->word = na->word;
		pa->node = na->node;
		na->word = was.word;
		na->node = was.node;
		n->spec_arg = pa;
		old->spec_arg = na;
	}
	claims_retire(tree, old);
	tree->nr_unswapped--;
	tree->retired[tree->nr_retired++] = old;	/* room was made when n was built */
	n->parent = t;
	__atomic_store_n(&t->children[i], n, __ATOMIC_RELEASE);
}

void ubt_target_discard_child(struct ubt_target *t, struct ubt_target *n)
{
	struct ubt_tree *tree = t->tree;
	unsigned int i;

	for (i = 0; i < tree->nr_late_args && tree->late_args[i] != n->spec_arg; i++)
		;
	if (i < tree->nr_late_args) {
		memmove(&tree->late_args[i], &tree->late_args[i + 1],
			(tree->nr_late_args - i - 1) * sizeof(*tree->late_args));
		tree->nr_late_args--;
	}
	ubt_spec_arg_free(n->spec_arg);
	free(n->spec_arg);
	tree_destroy_node(n);
	tree->nr_unswapped--;
}

/* ---- A whole new tree for a running device (reload) -------------------- */

/* Asked before the constructor reads its state, so nothing was written when refused. */
int ubt_target_keeps_state(struct ubt_target *t)
{
	if (t->tree->live && claims_from_live(t->tree, t))
		return ubt_target_error(t, EBUSY, "node %u would load the state that the running "
					"stack keeps writing in the same files; stop the device to "
					"change it", t->id);
	return 0;
}

int ubt_tree_build_next(const struct ubt_tree *live, const char *spec_text,
			const char *base_dir, struct ubt_tree **out, char *err, size_t errlen)
{
	struct ubt_tree_opts opts = live->opts;
	struct ubt_tree *tree;
	const char *why;
	int ret;

	opts.base_dir = base_dir;
	ret = tree_build(spec_text, &opts, live, &tree, err, errlen);
	if (ret)
		return ret;
	/* What the caller's base_dir pointed to is not the tree's to keep. */
	tree->opts.base_dir = NULL;
	why = tree_misfit(live, &tree->limits, tree->data_node, tree->want_aio, tree->bg_tags,
			  tree->slots_per_tag);
	if (why) {
		snprintf(err, errlen, "the new stack cannot serve this device: %s", why);
		ubt_tree_free(tree);
		return -EINVAL;
	}
	/* It is to be served by live's device, as live set it up. */
	tree->zero_copy = live->zero_copy;
	tree->aio_depth = live->aio_depth;
	tree->aio_iocbs = live->aio_iocbs;
	*out = tree;
	return 0;
}
