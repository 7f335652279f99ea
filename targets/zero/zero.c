// SPDX-License-Identifier: MIT
/*
 * zero: a device of a given size that reads zeros and drops every write,
 * like device-mapper's zero target.
 *
 *   zero(size=1G)                    dm table: <start> <len> zero
 *
 * Reads are filled with zeros, so the device keeps request data in our
 * memory (UBT_TARGET_NEEDS_DATA).  Writes, discards and flushes succeed
 * and vanish; write-zeroes is not offered (dm sends it none either).
 */
#include <errno.h>
#include <string.h>

#include "ubt/table.h"
#include "ubt/target.h"

static int zero_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return ubt_args_only_size(t, args, "zero(size=1G)");
}

static int zero_map(struct ubt_target *t, struct ubt_io *io)
{
	unsigned int i;

	(void)t;
	switch (io->op) {
	case UBT_OP_READ:
		for (i = 0; i < io->iovcnt; i++)
			memset(io->iov[i].iov_base, 0, io->iov[i].iov_len);
		return 0;
	case UBT_OP_WRITE:
	case UBT_OP_DISCARD:
	case UBT_OP_FLUSH:
		return 0;
	default:
		return -EIO;
	}
}

static void zero_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	(void)t;
	lim->discard = true;
	lim->write_zeroes = false;
	lim->volatile_cache = false;
}

/* dm's line: <start> <len> zero (no arguments). */
static int zero_table_parse(struct ubt_table_line *l)
{
	if (l->argc)
		return ubt_table_fail(l, "zero: No arguments required");
	ubt_table_put(l, "zero(size=%llu)", (unsigned long long)(l->len << UBT_SECTOR_SHIFT));
	return 0;
}

/* dm prints a target without arguments with a trailing space. */
static int zero_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	(void)t;
	ubt_table_printf(o, "zero ");
	return 0;
}

static const char *const zero_dm_names[] = { "zero", NULL };

static struct ubt_target_type zero_target = {
	.name = "zero",
	.version = { 1, 0, 0 },
	.flags = UBT_TARGET_NEEDS_DATA,
	.usage = "zero(size=SIZE)",
	.ctr = zero_ctr,
	.map = zero_map,
	.io_hints = zero_io_hints,
	.dm_names = zero_dm_names,
	.table_parse = zero_table_parse,
	.table_print = zero_table_print,
};
UBT_TARGET_REGISTER(zero_target)
