// SPDX-License-Identifier: MIT
/*
 * Splitting one I/O into at most one child I/O per child, without
 * allocation: runs and iovec arrays live in the parent's per-I/O area.
 */
#include <errno.h>
#include <string.h>

#include "engine.h"
#include "ubt/util.h"

size_t ubt_split_priv_size(unsigned int nr_children, unsigned int iov_max)
{
	return nr_children * (sizeof(struct ubt_split_child) + iov_max * sizeof(struct iovec));
}

void ubt_split_init(struct ubt_split *s, struct ubt_io *io, unsigned int nr_children,
		    unsigned int iov_max)
{
	struct iovec *iovs;
	unsigned int i;

	s->io = io;
	s->nr_children = nr_children;
	s->iov_max = iov_max;
	s->data = io->op == UBT_OP_READ || io->op == UBT_OP_WRITE;
	s->c = io->priv;
	iovs = (struct iovec *)(s->c + nr_children);
	for (i = 0; i < nr_children; i++) {
		s->c[i].sector = 0;
		s->c[i].nr_sectors = 0;
		s->c[i].iovcnt = 0;
		s->c[i].iov = iovs + (size_t)i * iov_max;
	}
	if (s->data)
		ubt_iov_iter_init(&s->it, io->iov, io->iovcnt);
}

int ubt_split_add_range(struct ubt_split *s, unsigned int i, uint64_t sector, uint32_t nr_sectors)
{
	struct ubt_split_child *c = &s->c[i];

	if (c->nr_sectors == 0)
		c->sector = sector;
	else if (ubt_unlikely(c->sector + c->nr_sectors != sector))
		return -EIO;	/* a mapping bug: runs must be contiguous */
	c->nr_sectors += nr_sectors;
	return 0;
}

int ubt_split_add(struct ubt_split *s, unsigned int i, uint64_t sector, uint32_t nr_sectors)
{
	struct ubt_split_child *c = &s->c[i];
	int ret = ubt_split_add_range(s, i, sector, nr_sectors);

	if (ret || !s->data)
		return ret;
	return ubt_iov_iter_take(&s->it, c->iov, &c->iovcnt, s->iov_max,
				 (size_t)nr_sectors << UBT_SECTOR_SHIFT);
}

int ubt_split_submit(struct ubt_split *s, struct ubt_target *t, bool all)
{
	unsigned int i;

	for (i = 0; i < s->nr_children; i++) {
		struct ubt_split_child *c = &s->c[i];
		struct ubt_io *child;

		if (!all && !c->nr_sectors)
			continue;
		child = ubt_io_child(s->io, t->children[i]);
		if (ubt_unlikely(!child))
			return -ENOMEM;
		child->sector = c->sector;
		child->nr_sectors = c->nr_sectors;
		if (s->data) {
			child->iov = c->iov;
			child->iovcnt = c->iovcnt;
		}
		ubt_io_submit(child);
	}
	return 0;
}
