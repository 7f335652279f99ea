// SPDX-License-Identifier: MIT
/*
 * concat: children end to end, what several device-mapper linear lines
 * make of one device.
 *
 *   concat(CHILD, CHILD, ...)
 *
 * A request that crosses a boundary becomes one child I/O per child it
 * touches.  Flush goes to every child; discard and write-zeroes to each
 * child's part of the range.  A dm table of several lines is a concat of
 * one node per line, and a concat prints as one line per child.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ubt/shorthand.h"
#include "ubt/target.h"
#include "generated/autoconf.h"
#include "ubt/util.h"

struct concat_ctx {
	uint64_t *start;	/* per child: first sector of the node it serves */
};

static int concat_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct concat_ctx *cc;
	unsigned int i;
	int ret;

	/* Windows of one file end to end are fine: dm tables do it all the time. */
	ret = ubt_build_children(t, args, "concat(a.img, b.img)", false);
	if (ret)
		return ret;
	cc = calloc(1, sizeof(*cc));
	if (cc)
		cc->start = calloc(t->nr_children, sizeof(*cc->start));
	if (!cc || !cc->start) {
		free(cc);
		return ubt_target_error(t, ENOMEM, "out of memory");
	}
	for (i = 0; i < t->nr_children; i++) {
		cc->start[i] = t->len;
		t->len += t->children[i]->len;
	}
	t->private = cc;
	return 0;
}

static void concat_dtr(struct ubt_target *t)
{
	struct concat_ctx *cc = t->private;

	free(cc->start);
	free(cc);
}

static void concat_io_budget(struct ubt_target *t)
{
	/* A child's piece is a slice of the parent's data: no wider than it. */
	t->child_max_iov = t->max_iov_in;
	t->max_fanout = t->nr_children;
	t->per_io_size = ubt_split_priv_size(t->nr_children, t->max_iov_in);
}

static int concat_map(struct ubt_target *t, struct ubt_io *io)
{
	struct concat_ctx *cc = t->private;
	uint64_t sector = io->sector, end = io->sector + io->nr_sectors;
	struct ubt_split s;
	unsigned int i = 0;
	int ret;

	if (io->op == UBT_OP_FLUSH) {
		ubt_split_init(&s, io, t->nr_children, t->max_iov_in);
		return ubt_split_submit(&s, t, true);
	}
	while (i + 1 < t->nr_children && cc->start[i + 1] <= sector)
		i++;
	/* Within one child: remap, no split. */
	if (end <= cc->start[i] + t->children[i]->len)
		return ubt_io_remap(io, t->children[i], sector - cc->start[i]);
	while (sector < end) {
		uint64_t child_end = cc->start[i] + t->children[i]->len;
		uint32_t n = (uint32_t)(UBT_MIN(end, child_end) - sector);

		if (sector == io->sector)
			ubt_split_init(&s, io, t->nr_children, t->max_iov_in);
		ret = ubt_split_add(&s, i, sector - cc->start[i], n);
		if (ubt_unlikely(ret))
			return ret;
		sector += n;
		i++;
	}
	return ubt_split_submit(&s, t, false);
}

/* create concat --file PATH --file PATH ... */
static int concat_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	if (!ubt_shorthand_count(a, "file"))
		return ubt_shorthand_fail(a, "concat needs --file PATH for each child");
	ubt_str_printf(s, "concat(");
	if (ubt_shorthand_put_paths(a, s, "file"))
		return -EINVAL;
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand concat_shorthand = {
	.synopsis = "--file PATH --file PATH ...",
	.help = "files end to end",
	.opts = (const struct ubt_shorthand_opt[]){ { "file", "PATH" }, { NULL, NULL } },
	.spec = concat_shorthand_spec,
};

static struct ubt_target_type concat_target = {
	.name = "concat",
	.version = { 1, 0, 0 },
	/* What several dm table lines make of one device. */
	.flags = UBT_TARGET_END_TO_END,
	.usage = "concat(CHILD, CHILD, ...)",
	.max_fanout = CONFIG_MAX_FANOUT,
	.shorthand = &concat_shorthand,
	.ctr = concat_ctr,
	.dtr = concat_dtr,
	.io_budget = concat_io_budget,
	.map = concat_map,
};
UBT_TARGET_REGISTER(concat_target)
