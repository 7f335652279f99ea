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

static int null_ctr(struct ubt_target *t, struct ubt_args *args)
{
	uint64_t bytes;
	int ret;

	ret = ubt_args_size(t, args, "size", &bytes);
	if (ret == -ENOENT)
		return ubt_target_error(t, EINVAL, "size= is required, e.g. null(size=1G)");
	if (ret)
		return ret;
	if (bytes % UBT_SECTOR_SIZE)
		return ubt_target_error(t, EINVAL, "size=%llu is not a multiple of 512",
					(unsigned long long)bytes);
	t->len = bytes >> UBT_SECTOR_SHIFT;
	return 0;
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

static int null_status(struct ubt_target *t, enum ubt_status_kind k, char *buf, size_t len)
{
	(void)t;
	(void)k;
	if (len)
		buf[0] = '\0';
	return 0;
}

static struct ubt_target_type null_target = {
	.name = "null",
	.version = { 1, 0, 0 },
	.usage = "null(size=SIZE)",
	.ctr = null_ctr,
	.map = null_map,
	.io_hints = null_io_hints,
	.status = null_status,
};
UBT_TARGET_REGISTER(null_target)
