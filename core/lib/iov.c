// SPDX-License-Identifier: MIT
/*
 * Slicing an I/O's data into child I/Os without copying or allocating:
 * child iovec arrays live in the parent's per-I/O area and point into the
 * same buffers.  Addresses are only ever added to and compared, never
 * dereferenced, and as integers: under zero copy they are offsets into a
 * buffer the kernel registered (0 is a valid one), not pointers.  The
 * one exception is ubt_iov_copy, for nodes that need the data in the
 * server's memory (needs_data), where the addresses are pointers.
 */
#include <errno.h>
#include <string.h>

#include "ubt/target.h"
#include "ubt/util.h"

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

void ubt_iov_copy(const struct iovec *iov, unsigned int cnt, size_t off, unsigned char *buf,
		  size_t len, bool to_iov)
{
	unsigned int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = UBT_MIN(iov[i].iov_len - off, len);
		if (to_iov)
			memcpy((unsigned char *)iov[i].iov_base + off, buf, n);
		else
			memcpy(buf, (unsigned char *)iov[i].iov_base + off, n);
		buf += n;
		len -= n;
		off = 0;
	}
}
