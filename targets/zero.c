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

#include "ubt/target.h"
#include "sized.h"

static int zero_ctr(struct ubt_target *t, struct ubt_args *args)
{
	return sized_ctr(t, args, "zero(size=1G)");
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

static struct ubt_target_type zero_target = {
	.name = "zero",
	.version = { 1, 0, 0 },
	.flags = UBT_TARGET_NEEDS_DATA,
	.usage = "zero(size=SIZE)",
	.ctr = zero_ctr,
	.map = zero_map,
	.io_hints = zero_io_hints,
	.status = sized_status,
};
UBT_TARGET_REGISTER(zero_target)
