// SPDX-License-Identifier: MIT
/*
 * Slicing an I/O's data into child I/Os without copying or allocating:
 * child iovec arrays live in the parent's per-I/O area and point into the
 * same buffers.  Addresses are only ever added to and compared, never
 * dereferenced, and as integers: under zero copy they are offsets into a
 * buffer the kernel registered (0 is a valid one), not pointers.
 */
#include <errno.h>

#include "ubt/target.h"

void ubt_iov_iter_init(struct ubt_iov_iter *it, const struct iovec *iov, unsigned int cnt)
{
	it->iov = iov;
	it->cnt = cnt;
	it->idx = 0;
	it->off = 0;
}

int ubt_iov_iter_take(struct ubt_iov_iter *it, struct iovec *dst, unsigned int *dst_cnt,
		      unsigned int dst_max, size_t len)
{
	while (len) {
		const struct iovec *src;
		uintptr_t base;
		size_t n;

		if (it->idx >= it->cnt)
			return -E2BIG;
		src = &it->iov[it->idx];
		base = (uintptr_t)src->iov_base + it->off;
		n = src->iov_len - it->off;
		if (n > len)
			n = len;
		if (*dst_cnt &&
		    (uintptr_t)dst[*dst_cnt - 1].iov_base + dst[*dst_cnt - 1].iov_len == base) {
			dst[*dst_cnt - 1].iov_len += n;
		} else {
			if (*dst_cnt >= dst_max)
				return -E2BIG;
			dst[*dst_cnt].iov_base = (void *)base;
			dst[*dst_cnt].iov_len = n;
			(*dst_cnt)++;
		}
		len -= n;
		it->off += n;
		if (it->off == src->iov_len) {
			it->idx++;
			it->off = 0;
		}
	}
	return 0;
}

void ubt_iov_iter_skip(struct ubt_iov_iter *it, size_t len)
{
	while (len && it->idx < it->cnt) {
		size_t n = it->iov[it->idx].iov_len - it->off;

		if (n > len) {
			it->off += len;
			return;
		}
		len -= n;
		it->idx++;
		it->off = 0;
	}
}
