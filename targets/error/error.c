// SPDX-License-Identifier: MIT
/*
 * error: a device of a given size that fails every request with EIO,
 * like device-mapper's error target: reads, writes, flushes and discards.
 *
 *   error(size=1G)                   dm table: <start> <len> error
 *
 * It stands in for a dead disk: swap a mirror leg for one, or put it in a
 * concat to make a range unreadable.
 */
#include <errno.h>

#include "ubt/table.h"
#include "ubt/target.h"

static int error_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return ubt_args_only_size(t, args, "error(size=1G)");
}

static int error_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	(void)io;
	return -EIO;
}

static void error_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	(void)t;
	lim->discard = true;
	lim->write_zeroes = true;
}

/* dm's line: <start> <len> error (no arguments). */
static int error_table_parse(struct ubt_table_line *l)
{
	/* error (1.7) may name a device only to inherit its limits. */
	if (l->argc && l->argc != 2)
		return ubt_table_fail(l, "error: Invalid argument count");
	ubt_table_put(l, "error(size=%llu)", (unsigned long long)(l->len << UBT_SECTOR_SHIFT));
	return 0;
}

/* dm prints a target without arguments with a trailing space. */
static int error_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	(void)t;
	ubt_table_printf(o, "error ");
	return 0;
}

static const char *const error_dm_names[] = { "error", NULL };

static struct ubt_target_type error_target = {
	.name = "error",
	.version = { 1, 0, 0 },
	.usage = "error(size=SIZE)",
	.ctr = error_ctr,
	.map = error_map,
	.io_hints = error_io_hints,
	.dm_names = error_dm_names,
	.table_parse = error_table_parse,
	.table_print = error_table_print,
};
UBT_TARGET_REGISTER(error_target)
