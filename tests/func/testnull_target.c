// SPDX-License-Identifier: MIT
/*
 * testnull: a target built only as a loadable module, to check that
 * ublk-target finds ubt-NAME.so in the module directory on first use.
 */
#include <errno.h>

#include "ubt/target.h"

static int testnull_ctr(struct ubt_target *t, struct ubt_args *args)
{
	uint64_t bytes;
	int ret = ubt_args_size(t, args, "size", &bytes);

	if (ret)
		return ret == -ENOENT ? ubt_target_error(t, EINVAL, "size= is required") : ret;
	t->len = bytes >> UBT_SECTOR_SHIFT;
	return 0;
}

static int testnull_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	(void)io;
	return 0;
}

static struct ubt_target_type testnull_target = {
	.name = "testnull",
	.version = { 1, 0, 0 },
	.usage = "testnull(size=SIZE)",
	.ctr = testnull_ctr,
	.map = testnull_map,
};
UBT_TARGET_REGISTER(testnull_target)
