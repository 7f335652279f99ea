/* SPDX-License-Identifier: MIT */
/* A cache metadata node held in memory, for the metadata's unit tests and fuzzer. */
#ifndef UBT_CACHE_TEST_META_IMAGE_H
#define UBT_CACHE_TEST_META_IMAGE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "targets/cache/metadata.h"

struct image {
	uint8_t *bytes;
	uint64_t size;
};

/* cache_meta_read_fn over an image. */
static inline int image_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct image *im = ctx;

	if (off + len > im->size)
		return -EIO;
	memcpy(buf, im->bytes + off, len);
	return 0;
}

/* A node of the size nr_cblocks need, all zeros (never written). */
static inline struct image image_new(uint32_t nr_cblocks)
{
	struct image im = { .size = cache_meta_bytes(nr_cblocks) };

	im.bytes = calloc(1, im.size);
	return im;
}

#endif
