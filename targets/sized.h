/* SPDX-License-Identifier: MIT */
/*
 * What the childless targets that are only a size (null, zero, error)
 * share: a size= argument and an empty status, as dm prints for them.
 */
#ifndef UBT_SIZED_H
#define UBT_SIZED_H

#include <errno.h>
#include <stdio.h>

#include "ubt/target.h"

static inline int sized_ctr(struct ubt_target *t, struct ubt_args *args, const char *example)
{
	uint64_t bytes;
	int ret;

	if (ubt_args_positional(args))
		return ubt_target_error(t, EINVAL, "takes no positional arguments, e.g. %s", example);
	ret = ubt_args_size(t, args, "size", &bytes);
	if (ret == -ENOENT)
		return ubt_target_error(t, EINVAL, "size= is required, e.g. %s", example);
	if (ret)
		return ret;
	if (bytes % UBT_SECTOR_SIZE)
		return ubt_target_error(t, EINVAL, "size=%llu is not a multiple of 512",
					(unsigned long long)bytes);
	t->len = bytes >> UBT_SECTOR_SHIFT;
	return 0;
}

static inline int sized_status(struct ubt_target *t, enum ubt_status_kind k, char *buf,
				    size_t len)
{
	(void)t;
	(void)k;
	if (len)
		buf[0] = '\0';
	return 0;
}

#endif
