// SPDX-License-Identifier: MIT
/*
 * linear: a window of one child, like device-mapper's linear target.
 *
 *   linear(CHILD, offset=SIZE, size=SIZE)
 *
 * sector s of the node is sector offset + s of the child.  size defaults
 * to the rest of the child after offset.  Every operation passes through,
 * remapped; the child I/O shares the parent's data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

static int linear_status(struct ubt_target *t, enum ubt_status_kind k, char *buf, size_t len)
{
	struct linear_ctx *lc = t->private;

	if (k == UBT_STATUS_TABLE)
		return snprintf(buf, len, "%llu", (unsigned long long)lc->start);
	if (len)
		buf[0] = '\0';
	return 0;
}

static int linear_direct(const struct ubt_target *t, int *fd, uint64_t *offset)
{
	const struct linear_ctx *lc = t->private;
	int ret = ubt_target_direct(t->children[0], fd, offset);

	if (!ret)
		*offset += lc->start << UBT_SECTOR_SHIFT;
	return ret;
}

static struct ubt_target_type linear_target = {
	.name = "linear",
	.version = { 1, 0, 0 },
	.usage = "linear(CHILD, offset=SIZE, size=SIZE)",
	.max_fanout = 1,
	.ctr = linear_ctr,
	.dtr = linear_dtr,
	.map = linear_map,
	.status = linear_status,
	.direct = linear_direct,
};
UBT_TARGET_REGISTER(linear_target)
