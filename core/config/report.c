// SPDX-License-Identifier: MIT
/*
 * What a running tree tells the world, and what it is told: the status
 * lines of every node, the progress of background work, and messages to
 * one node.  The frames are here; what a line or a reply says is each
 * type's own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ubt/util.h"

static void status_node(struct ubt_target *t, uint64_t start, unsigned int depth,
			struct ubt_str *s)
{
	char info[1024] = "";
	uint64_t child_start = 0;
	unsigned int i;

	if (t->type->status && t->type->status(t, info, sizeof(info)) < 0)
		snprintf(info, sizeof(info), "?");
	ubt_str_printf(s, "%*s[%u%s%s] %llu %llu %s%s%s\n", (int)(2 * depth), "", t->id,
		       t->label ? " " : "", t->label ? t->label : "", (unsigned long long)start,
		       (unsigned long long)t->len, t->type->name, info[0] ? " " : "", info);
	for (i = 0; i < t->nr_children; i++) {
		status_node(t->children[i], child_start, depth + 1, s);
		/* Where a child starts in its parent: only end-to-end children move on. */
		if (t->type->flags & UBT_TARGET_END_TO_END)
			child_start += t->children[i]->len;
	}
}

int ubt_tree_status(struct ubt_tree *tree, char *out, size_t len)
{
	struct ubt_str s = UBT_STR(out, len);

	if (len)
		out[0] = '\0';
	status_node(tree->root, 0, 0, &s);
	return (int)s.pos;
}

static void progress_node(struct ubt_target *t, struct ubt_str *s)
{
	unsigned int i;

	if (t->type->progress) {
		uint64_t done = 0, total = 0;
		const char *what = "";

		t->type->progress(t, &done, &total, &what);
		ubt_str_printf(s, "%u %llu %llu %s\n", t->id, (unsigned long long)done,
			       (unsigned long long)total, what);
	}
	for (i = 0; i < t->nr_children; i++)
		progress_node(t->children[i], s);
}

int ubt_tree_progress(struct ubt_tree *tree, char *out, size_t len)
{
	struct ubt_str s = UBT_STR(out, len);

	if (len)
		out[0] = '\0';
	progress_node(tree->root, &s);
	return (int)s.pos;
}

int ubt_tree_message(struct ubt_tree *tree, const char *ref, const char *base_dir, int argc,
		     char **argv, char *out, size_t len)
{
	struct ubt_target *t = ubt_tree_find(tree, ref);
	int ret;

	if (len)
		out[0] = '\0';
	if (!t) {
		snprintf(out, len, "no node '%s' (see 'ublk-target status')", ref);
		return -ENOENT;
	}
	if (!t->type->message) {
		snprintf(out, len, "node %u (%s) takes no messages", t->id, t->type->name);
		return -EINVAL;
	}
	if (argc < 1) {
		snprintf(out, len, "a message needs at least one word");
		return -EINVAL;
	}
	/* A node the message builds takes its paths from the sender's folder. */
	tree->opts.base_dir = base_dir;
	ret = t->type->message(t, argc, argv, out, len);
	tree->opts.base_dir = NULL;
	if (ret < 0 && len && !out[0])
		snprintf(out, len, "%s", strerror(-ret));
	return ret;
}
