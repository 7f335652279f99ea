// SPDX-License-Identifier: MIT
/*
 * null: a device of a given size that completes every request at once.
 * Reads return whatever the request buffer holds; writes are dropped.
 * Useful to measure the framework itself.
 *
 *   null(size=1G)
 */
#include <errno.h>

#include "ubt/target.h"
#include "sized.h"

static int null_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return sized_ctr(t, args, "null(size=1G)");
}

static int null_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	(void)io;
	return 0;	/* completes with the I/O's length when map returns */
}

static void null_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	(void)t;
	lim->discard = true;
	lim->write_zeroes = true;
	lim->volatile_cache = false;
}

static struct ubt_target_type null_target = {
	.name = "null",
	.version = { 1, 0, 0 },
	.usage = "null(size=SIZE)",
	.ctr = null_ctr,
	.map = null_map,
	.io_hints = null_io_hints,
	.status = sized_status,
};
UBT_TARGET_REGISTER(null_target)
