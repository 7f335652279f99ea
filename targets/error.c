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

#include "ubt/target.h"
#include "sized.h"

static int error_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return sized_ctr(t, args, "error(size=1G)");
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

static struct ubt_target_type error_target = {
	.name = "error",
	.version = { 1, 0, 0 },
	.usage = "error(size=SIZE)",
	.ctr = error_ctr,
	.map = error_map,
	.io_hints = error_io_hints,
	.status = sized_status,
};
UBT_TARGET_REGISTER(error_target)
