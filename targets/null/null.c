// SPDX-License-Identifier: MIT
/*
 * null: a device of a given size that completes every request at once.
 * Reads return whatever the request buffer holds; writes are dropped.
 * Useful to measure the framework itself.
 *
 *   null(size=1G)
 */
#include <errno.h>

#include "ubt/shorthand.h"
#include "ubt/target.h"

static int null_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return ubt_args_only_size(t, args, "null(size=1G)");
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

/* create null --size SIZE */
static int null_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	const char *size;

	if (ubt_shorthand_size(a, "size", &size))
		return -EINVAL;
	if (!size)
		return ubt_shorthand_fail(a, "null needs --size, e.g. 'create null --size 1G'");
	ubt_str_printf(s, "null(size=%s)", size);
	return 0;
}

static const struct ubt_shorthand null_shorthand = {
	.synopsis = "--size SIZE",
	.help = "completes every request at once",
	.opts = (const struct ubt_shorthand_opt[]){ { "size", "SIZE" }, { NULL, NULL } },
	.spec = null_shorthand_spec,
};

static struct ubt_target_type null_target = {
	.name = "null",
	.version = { 1, 0, 0 },
	.usage = "null(size=SIZE)",
	.shorthand = &null_shorthand,
	.ctr = null_ctr,
	.map = null_map,
	.io_hints = null_io_hints,
};
UBT_TARGET_REGISTER(null_target)
