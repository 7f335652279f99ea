// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the cache's metadata loader.  An input is a recipe:
 * a geometry and mappings, committed into an image by the cache's own
 * encoder, then damaged byte by byte (and, for half the inputs, its
 * checksums made right again, so the loader's checks behind them are
 * reached).  Whatever the image, loading it must not crash; a loaded map
 * must be one the cache can serve (every origin block in range, none
 * twice), and must come back the same through a second commit and load.
 * An undamaged image must load as written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "targets/cache/metadata.h"
#include "targets/cache/tests/meta_image.h"
#include "ubt/crc32c.h"

#define ORIGIN_SECTORS	(1ull << 16)	/* 32 MiB */
#define BLOCK_SECTORS	64u		/* 32K: 1024 origin blocks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Commit m into im as the cache does (a clean stop). */
static void commit(struct cache_meta *m, struct image *im)
{
	struct cache_meta_stats st = { 1, 2, 3, 4 };
	struct cache_meta_commit c;
	uint8_t blk[CACHE_META_BLOCK];
	uint64_t off;

	cache_meta_commit_begin(m, &c);
	while (cache_meta_next_block(m, &c, &off, blk))
		memcpy(im->bytes + off, blk, CACHE_META_BLOCK);
	off = cache_meta_encode_sb(m, &c, CACHE_META_SB_FLAG_CLEAN, &st, "smq", blk);
	memcpy(im->bytes + off, blk, CACHE_META_BLOCK);
	cache_meta_committed(m, &c);
}

/* The CRC-32C of a 4096-byte block whose field at `at` counts as 0. */
static void fix_crc(uint8_t *b, unsigned int at)
{
	uint32_t crc;

	memset(b + at, 0, 4);
	crc = ubt_crc32c(0, b, CACHE_META_BLOCK);
	memcpy(b + at, &crc, 4);	/* little-endian host */
}

/* A refusal is one line saying why. */
static int load(struct cache_meta *m, uint32_t nr, struct image *im)
{
	char err[256] = "";
	int ret;

	if (cache_meta_init(m, ORIGIN_SECTORS, BLOCK_SECTORS, nr))
		abort();
	ret = cache_meta_load(m, image_read, im, err, sizeof(err));
	if (ret && (!err[0] || strchr(err, '\n')))
		abort();
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_meta w, r, again;
	struct image im, im2;
	uint32_t nr, i, nmap;
	uint64_t used[1024 / 64] = { 0 };
	bool fix, damaged;
	size_t p = 4;

	if (size < 4)
		return 0;
	nr = 1 + ((uint32_t)data[0] | (uint32_t)data[1] << 8) % 1500;	/* 1..3 mapping blocks */
	nmap = data[2];
	fix = data[3] & 1;
	if (cache_meta_init(&w, ORIGIN_SECTORS, BLOCK_SECTORS, nr))
		abort();
	/* Mappings (cblock, oblock, dirty), each origin block once. */
	for (i = 0; i < nmap && p + 4 <= size; i++, p += 4) {
		uint32_t cb = ((uint32_t)data[p] | (uint32_t)data[p + 1] << 8) % nr;
		uint32_t ob = ((uint32_t)data[p + 2] | (uint32_t)data[p + 3] << 8) % 1024;

		if (used[ob / 64] >> (ob % 64) & 1 || cache_meta_valid(&w, cb))
			continue;
		used[ob / 64] |= 1ull << (ob % 64);
		cache_meta_set(&w, cb, ob, data[p] & 0x80);
	}
	im = image_new(nr);
	commit(&w, &im);
	/* The rest: damage, (offset, byte) pairs. */
	damaged = p + 3 <= size;
	for (; p + 3 <= size; p += 3) {
		uint64_t off = ((uint64_t)data[p] | (uint64_t)data[p + 1] << 8 |
				(uint64_t)(data[p + 2] & 0x7f) << 16) % im.size;

		im.bytes[off] = data[p] ^ data[p + 2];
	}
	if (fix && damaged) {
		uint64_t b;

		for (b = 0; b < im.size / CACHE_META_BLOCK; b++)
			fix_crc(im.bytes + b * CACHE_META_BLOCK, b < 2 ? 8 : 0);
	}
	if (!load(&r, nr, &im)) {
		uint64_t seen[1024 / 64] = { 0 };

		for (i = 0; i < nr; i++) {
			uint64_t ob = cache_meta_oblock(&r, i);

			if (!cache_meta_valid(&r, i))
				continue;
			if (ob >= ORIGIN_SECTORS / BLOCK_SECTORS || seen[ob / 64] >> (ob % 64) & 1)
				abort();	/* a map the cache cannot serve */
			seen[ob / 64] |= 1ull << (ob % 64);
		}
		if (!damaged && memcmp(r.map, w.map, nr * sizeof(*w.map)))
			abort();	/* not what was written */
		/* Round trip: committed again and loaded, the same map. */
		im2 = image_new(nr);
		commit(&r, &im2);
		if (load(&again, nr, &im2) || memcmp(again.map, r.map, nr * sizeof(*r.map)))
			abort();
		cache_meta_exit(&again);
		free(im2.bytes);
	} else if (!damaged) {
		abort();	/* an undamaged image refused */
	}
	cache_meta_exit(&r);
	cache_meta_exit(&w);
	free(im.bytes);
	return 0;
}
