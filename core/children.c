// SPDX-License-Identifier: MIT
/*
 * Building the children of a node that takes several (concat, stripe):
 * bounds on their number and, where asked (stripe), no backing file
 * shared between two of them.
 */
#include <errno.h>

#include "generated/autoconf.h"
#include "ubt/target.h"

/* Whether the subtree under t has a leaf backed by (dev, ino). */
static const struct ubt_target *find_backing(const struct ubt_target *t, uint64_t dev,
					     uint64_t ino)
{
	const struct ubt_target *hit;
	unsigned int i;

	if (!t->nr_children)
		return t->backing_dev == dev && t->backing_ino == ino ? t : NULL;
	for (i = 0; i < t->nr_children; i++) {
		hit = find_backing(t->children[i], dev, ino);
		if (hit)
			return hit;
	}
	return NULL;
}

/* A leaf under child a whose file is also under another child. */
static const struct ubt_target *shared_leaf(const struct ubt_target *t, const struct ubt_target *a,
					    unsigned int ai)
{
	const struct ubt_target *leaf;
	unsigned int i;

	if (a->nr_children) {
		for (i = 0; i < a->nr_children; i++) {
			leaf = shared_leaf(t, a->children[i], ai);
			if (leaf)
				return leaf;
		}
		return NULL;
	}
	if (!a->backing_dev && !a->backing_ino)
		return NULL;	/* not file-backed */
	for (i = ai + 1; i < t->nr_children; i++)
		if (find_backing(t->children[i], a->backing_dev, a->backing_ino))
			return a;
	return NULL;
}

int ubt_build_children(struct ubt_target *t, struct ubt_args *args, const char *example,
		       bool unique_files)
{
	unsigned int i, all = ubt_args_positional(args), n = 0;
	const struct ubt_target *dup;
	char desc[256];
	int ret;

	for (i = 0; i < all; i++)
		n += !ubt_args_taken(args, i);
	if (n == 0)
		return ubt_target_error(t, EINVAL, "needs at least one child, e.g. %s", example);
	if (n > CONFIG_MAX_FANOUT)
		return ubt_target_error(t, EINVAL, "%u children is more than %d (CONFIG_MAX_FANOUT)",
					n, CONFIG_MAX_FANOUT);
	for (i = 0; i < all; i++) {
		if (ubt_args_taken(args, i))
			continue;
		ret = ubt_args_child(t, args, i);
		if (ret)
			return ret;
	}
	for (i = 0; unique_files && i < n; i++) {
		dup = shared_leaf(t, t->children[i], i);
		if (!dup)
			continue;
		if (!dup->type->status ||
		    dup->type->status((struct ubt_target *)dup, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0)
			desc[0] = '\0';
		return ubt_target_error(t, EINVAL, "the same file is used by two children (%s)",
					desc);
	}
	return 0;
}
