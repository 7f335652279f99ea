// SPDX-License-Identifier: MIT
/*
 * What the cache's metadata costs the CPU: a commit of every mapping
 * block (each encoded with its CRC-32C, as after a start that found the
 * cache unclean, or a cleaner pass), and a load of the whole image (each
 * block's CRC checked), for a cache of BLOCKS blocks (default 1M: a 32 GiB
 * cache of 32K blocks, 8 MiB of mappings), REPEATS times, medians.  No I/O:
 * what the disk adds is the same whoever computes the checksums.  It
 * builds against the metadata library alone (metadata.c and the core's
 * CRC-32C), so it measures one implementation against another.
 *
 *   meta_commit [-r REPEATS] [BLOCKS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "targets/cache/metadata.h"
#include "ubt/crc32c.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

struct image {
	uint8_t *bytes;
	uint64_t len;
};

static int image_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (off + len > im->len)
		return -5;
	memcpy(buf, im->bytes + off, len);
	return 0;
}

/* Every mapping block, encoded into the image; seconds. */
static double commit(struct cache_meta *m, struct image *im, uint32_t flags)
{
	struct cache_meta_commit c;
	struct cache_meta_stats st = { 0 };
	uint8_t blk[CACHE_META_BLOCK];
	uint64_t off;
	double t0 = now_s(), t;

	cache_meta_commit_begin(m, &c);
	while (cache_meta_next_block(m, &c, &off, blk))
		memcpy(im->bytes + off, blk, CACHE_META_BLOCK);
	off = cache_meta_encode_sb(m, &c, flags, &st, "smq", blk);
	memcpy(im->bytes + off, blk, CACHE_META_BLOCK);
	t = now_s() - t0;
	cache_meta_committed(m, &c);
	return t;
}

int main(int argc, char **argv)
{
	unsigned int repeats = 5, r, i = 1;
	uint32_t blocks = 1u << 20, cb;
	double *tc, *tl, tcrc[16];
	struct cache_meta m;
	struct image im;
	char err[256];

	if (argc > 2 && !strcmp(argv[1], "-r")) {
		repeats = (unsigned int)atoi(argv[2]);
		i = 3;
	}
	if (argc > (int)i)
		blocks = (uint32_t)strtoul(argv[i], NULL, 10);
	if (!repeats || !blocks) {
		fprintf(stderr, "usage: meta_commit [-r REPEATS] [BLOCKS]\n");
		return 2;
	}
	tc = calloc(repeats, sizeof(*tc));
	tl = calloc(repeats, sizeof(*tl));
	im.len = cache_meta_bytes(blocks);
	im.bytes = calloc(1, im.len);
	if (!tc || !tl || !im.bytes || cache_meta_init(&m, (uint64_t)blocks * 2 * 64, 64, blocks))
		return 1;
	for (r = 0; r < repeats; r++) {
		struct cache_meta l;

		/* Every block remapped, every other one dirty: every mapping block changes. */
		for (cb = 0; cb < blocks; cb++)
			cache_meta_set(&m, cb, (uint64_t)cb * 2 + (r & 1), cb & 1);
		tc[r] = commit(&m, &im, 0);
		if (cache_meta_init(&l, (uint64_t)blocks * 2 * 64, 64, blocks))
			return 1;
		tl[r] = now_s();
		if (cache_meta_load(&l, image_read, &im, err, sizeof(err))) {
			fprintf(stderr, "meta_commit: load: %s\n", err);
			return 1;
		}
		tl[r] = now_s() - tl[r];
		cache_meta_exit(&l);
	}
	/* The checksum alone, over the image's bytes. */
	for (r = 0; r < 16 && r < repeats * 3; r++) {
		volatile uint32_t sink;

		tcrc[r] = now_s();
		sink = ubt_crc32c(0, im.bytes, im.len);
		(void)sink;
		tcrc[r] = now_s() - tcrc[r];
	}
	printf("blocks %u, %llu metadata bytes, medians of %u\n", blocks,
	       (unsigned long long)im.len, repeats);
	printf("commit (encode every mapping block) %8.2f ms\n", median(tc, repeats) * 1e3);
	printf("load (check every mapping block)    %8.2f ms\n", median(tl, repeats) * 1e3);
	printf("CRC-32C of the image                %8.2f ms  %8.0f MB/s\n",
	       median(tcrc, r) * 1e3, (double)im.len / median(tcrc, r) / 1e6);
	cache_meta_exit(&m);
	free(im.bytes);
	free(tc);
	free(tl);
	return 0;
}
