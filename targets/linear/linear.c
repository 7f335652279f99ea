// SPDX-License-Identifier: MIT
/*
 * linear: a window of one child, like device-mapper's linear target.
 *
 *   linear(CHILD, offset=SIZE, size=SIZE)
 *
 * sector s of the node is sector offset + s of the child.  size defaults
 * to the rest of the child after offset.  Every operation passes through,
 * remapped; the child I/O shares the parent's data.
 *
 *   dm table: <dev> <offset>        (a window of a file or block device)
 *
 * A dm `<dev> <offset>` pair, whatever line it is on, becomes a linear
 * node over the device here (dm_window), and a chain of windows over a
 * file folds back into one (dm_device).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ubt/table.h"
#include "ubt/shorthand.h"
#include "ubt/target.h"
#include "ubt/util.h"

struct linear_ctx {
	uint64_t start;		/* sectors into the child */
};

static int linear_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct linear_ctx *lc;
	uint64_t offset = 0, size = 0, child;
	bool have_size;
	int ret;

	if (ubt_args_positional(args) != 1)
		return ubt_target_error(t, EINVAL, "takes exactly one child, e.g. "
					"linear(a.img, offset=1M, size=512M)");
	ret = ubt_args_size(t, args, "offset", &offset);
	if (ret && ret != -ENOENT)
		return ret;
	ret = ubt_args_size(t, args, "size", &size);
	if (ret && ret != -ENOENT)
		return ret;
	have_size = ret == 0;
	if (offset % UBT_SECTOR_SIZE || size % UBT_SECTOR_SIZE)
		return ubt_target_error(t, EINVAL, "%s=%llu is not a multiple of 512",
					offset % UBT_SECTOR_SIZE ? "offset" : "size",
					(unsigned long long)(offset % UBT_SECTOR_SIZE ? offset : size));
	if (have_size && !size)
		return ubt_target_error(t, EINVAL, "size is zero");
	ret = ubt_args_child(t, args, 0);
	if (ret)
		return ret;
	child = t->children[0]->len << UBT_SECTOR_SHIFT;
	if (!have_size)
		size = offset < child ? child - offset : 0;
	if (offset >= child || size > child - offset)
		return ubt_target_error(t, EINVAL, "offset=%llu size=%llu goes past the end of its "
					"child (%llu bytes)", (unsigned long long)offset,
					(unsigned long long)size, (unsigned long long)child);
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return ubt_target_error(t, ENOMEM, "out of memory");
	lc->start = offset >> UBT_SECTOR_SHIFT;
	t->len = size >> UBT_SECTOR_SHIFT;
	t->private = lc;
	return 0;
}

static void linear_dtr(struct ubt_target *t)
{
	free(t->private);
}

static int linear_map(struct ubt_target *t, struct ubt_io *io)
{
	struct linear_ctx *lc = t->private;

	return ubt_io_remap(io, t->children[0], io->op == UBT_OP_FLUSH ? 0 : lc->start + io->sector);
}

static int linear_dm_device(const struct ubt_target *t, const char **path, uint64_t *sector)
{
	const struct linear_ctx *lc = t->private;
	int ret = ubt_table_dm_device(t->children[0], path, sector);

	if (ret)
		return ret;	/* -EILSEQ: the path the refusal names */
	*sector += lc->start;
	return 0;
}

static int linear_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	const char *path;
	uint64_t sector;

	if (ubt_table_need_dm_device(o, t, &path, &sector, "a linear over a %s cannot be written "
				     "as one dm table line (dm names devices, windows of files)",
				     t->children[0]->type->name))
		return -EINVAL;
	ubt_table_printf(o, "linear %s %llu", path, (unsigned long long)sector);
	return 0;
}

static int linear_table_parse(struct ubt_table_line *l)
{
	char msg[96];
	uint64_t offset;

	if (l->argc != 2)
		return ubt_table_fail(l, "linear: Invalid argument count (want <dev> <offset>)");
	if (ubt_table_number(l, l->argv[1], "linear: offset", &offset))
		return -EINVAL;
	snprintf(msg, sizeof(msg), "linear: offset %s is too large", l->argv[1]);
	return ubt_table_put_dev(l, l->argv[0], l->argv[1], l->len, msg);
}

/* Sectors [sector, sector + len) of the device at path: linear(PATH, offset=, size=). */
static int linear_dm_window(struct ubt_table_line *l, const char *path, uint64_t sector,
			    uint64_t len)
{
	ubt_table_put(l, "linear(");
	if (ubt_table_put_word(l, path, "device path with both ' and \""))
		return -EINVAL;
	ubt_table_put(l, ", offset=%llu, size=%llu)",
		      (unsigned long long)(sector << UBT_SECTOR_SHIFT),
		      (unsigned long long)(len << UBT_SECTOR_SHIFT));
	return 0;
}

static const char *const linear_dm_names[] = { "linear", NULL };

/* create linear --file PATH [--offset SIZE] [--size SIZE] */
static int linear_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	if (ubt_shorthand_count(a, "file") != 1)
		return ubt_shorthand_fail(a, "linear needs exactly one --file PATH");
	ubt_str_printf(s, "linear(");
	if (ubt_shorthand_put_path(a, s, ubt_shorthand_value(a, "file", 0)) ||
	    ubt_shorthand_put_sizes(a, s, (const char *const[]){ "offset", "size", NULL }))
		return -EINVAL;
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand linear_shorthand = {
	.synopsis = "--file PATH [--offset SIZE] [--size SIZE]",
	.help = "a window of a file",
	.opts = (const struct ubt_shorthand_opt[]){
		{ "file", "PATH" }, { "offset", "SIZE" }, { "size", "SIZE" }, { NULL, NULL },
	},
	.spec = linear_shorthand_spec,
};

static struct ubt_target_type linear_target = {
	.name = "linear",
	.version = { 1, 0, 0 },
	.usage = "linear(CHILD, offset=SIZE, size=SIZE)",
	.max_fanout = 1,
	.shorthand = &linear_shorthand,
	.ctr = linear_ctr,
	.dtr = linear_dtr,
	.map = linear_map,
	.dm_names = linear_dm_names,
	.table_parse = linear_table_parse,
	.table_print = linear_table_print,
	.dm_device = linear_dm_device,
	.dm_window = linear_dm_window,
};
UBT_TARGET_REGISTER(linear_target)
