// SPDX-License-Identifier: MIT
/*
 * The mirror's dirty-region log: dm-log's core and disk formats and their
 * activation rules.  See log.h.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ubt/util.h"

#define LOG_ALIGN	4096

size_t mirror_log_bitmap_bytes(uint64_t nr_regions)
{
	return (size_t)(UBT_ROUND_UP(nr_regions, 64) / 8);
}

size_t mirror_log_io_bytes(uint64_t nr_regions, uint32_t block)
{
	return UBT_ROUND_UP(MIRROR_LOG_BITMAP + mirror_log_bitmap_bytes(nr_regions), block);
}

int mirror_log_init(struct mirror_log *l, uint64_t nr_regions, bool disk, uint32_t block)
{
	size_t words = (size_t)(UBT_ROUND_UP(nr_regions, 64) / 64);

	memset(l, 0, sizeof(*l));
	l->disk = disk;
	l->nr_regions = nr_regions;
	l->clean = calloc(words ? words : 1, sizeof(uint64_t));
	l->sync = calloc(words ? words : 1, sizeof(uint64_t));
	if (disk) {
		l->io_bytes = mirror_log_io_bytes(nr_regions, block);
		if (posix_memalign((void **)&l->image, LOG_ALIGN, l->io_bytes))
			l->image = NULL;
		else
			memset(l->image, 0, l->io_bytes);
	}
	if (!l->clean || !l->sync || (disk && !l->image)) {
		mirror_log_exit(l);
		return -ENOMEM;
	}
	return 0;
}

void mirror_log_exit(struct mirror_log *l)
{
	free(l->clean);
	free(l->sync);
	free(l->image);
	l->clean = l->sync = NULL;
	l->image = NULL;
}

static bool image_bit(const uint8_t *image, uint64_t r)
{
	return image[MIRROR_LOG_BITMAP + r / 8] >> (r % 8) & 1;
}

static void image_set(uint8_t *image, uint64_t r, bool on)
{
	uint8_t *b = &image[MIRROR_LOG_BITMAP + r / 8];

	*b = on ? (uint8_t)(*b | 1u << (r % 8)) : (uint8_t)(*b & ~(1u << (r % 8)));
}

uint64_t mirror_log_count(const uint64_t *bits, uint64_t nr_regions)
{
	uint64_t r, n = 0;

	for (r = 0; r < nr_regions; r += 64) {
		uint64_t w = __atomic_load_n(&bits[r / 64], __ATOMIC_ACQUIRE);

		if (nr_regions - r < 64)
			w &= (1ULL << (nr_regions - r)) - 1;
		n += (uint64_t)__builtin_popcountll(w);
	}
	return n;
}

uint64_t mirror_log_resume(struct mirror_log *l, enum mirror_sync mode)
{
	uint64_t old = 0, r;
	uint32_t magic, version;

	if (!l->disk) {
		/* dm's core log: nothing survives; nosync alone says "in sync". */
		for (r = 0; r < l->nr_regions; r++) {
			mirror_log_set(l->clean, r, true);
			mirror_log_set(l->sync, r, mode == MIRROR_SYNC_NONE);
		}
		return l->nr_regions - mirror_log_count(l->sync, l->nr_regions);
	}
	memcpy(&magic, l->image, 4);
	memcpy(&version, l->image + 4, 4);
	if (le32toh(magic) == MIRROR_LOG_MAGIC && (le32toh(version) == 1 || le32toh(version) == 2) &&
	    mode == MIRROR_SYNC_DEFAULT) {
		memcpy(&old, l->image + 8, 8);
		old = le64toh(old);
	}
	/* The image may describe fewer regions (grown) or more (shrunk): keep the overlap. */
	for (r = 0; r < l->nr_regions; r++) {
		bool clean = r < old ? image_bit(l->image, r) : mode == MIRROR_SYNC_NONE;

		mirror_log_set(l->clean, r, clean);
		mirror_log_set(l->sync, r, clean);
	}
	/* The image as it must now be on disk. */
	memset(l->image, 0, l->io_bytes);
	magic = htole32(MIRROR_LOG_MAGIC);
	version = htole32(MIRROR_LOG_VERSION);
	old = htole64(l->nr_regions);
	memcpy(l->image, &magic, 4);
	memcpy(l->image + 4, &version, 4);
	memcpy(l->image + 8, &old, 8);
	for (r = 0; r < l->nr_regions; r++)
		image_set(l->image, r, mirror_log_test(l->clean, r));
	return l->nr_regions - mirror_log_count(l->sync, l->nr_regions);
}

size_t mirror_log_stage(struct mirror_log *l, uint64_t r, uint32_t block)
{
	image_set(l->image, r, mirror_log_test(l->clean, r));
	return (MIRROR_LOG_BITMAP + r / 8) / block * block;
}
