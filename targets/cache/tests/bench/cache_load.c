// SPDX-License-Identifier: MIT
/*
 * How long a cache takes to start over a full metadata node, and how much
 * memory it keeps per cache block.  For each size asked (default 1M cache
 * blocks of 32K: a 32 GiB cache), a metadata image is written with every
 * cache block mapped (every other one dirty) and marked clean, then the
 * cache is built in-process over sparse files, REPEATS times: the time
 * the constructor takes (reading, checking and loading the mappings,
 * building the lookup and the policy's queues, and the commit that marks
 * the metadata in use) and the resident memory it adds (what the nodes
 * hold: the build gives what constructors freed back), medians printed as
 * a table.
 *
 *   cache_load [-r REPEATS] [BLOCKS...]     (UBT_TEST_DIR: where the files go)
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "func_util.h"
#include "targets/cache/metadata.h"
#include "ubt/tree.h"

#define BLOCK_BYTES	(32u * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	fprintf(stderr, "cache_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Every cache block mapped (origin block 2 * cblock), every other dirty, marked clean. */
static void write_full_metadata(const char *path, uint64_t origin_sectors, uint32_t nr)
{
	const struct cache_meta_stats none = { 0 };
	struct cache_meta m;
	struct cache_meta_commit mc;
	uint8_t *blk = aligned_alloc(4096, CACHE_META_BLOCK);
	uint64_t off;
	uint32_t i;
	int fd = open(path, O_WRONLY);

	if (fd < 0 || !blk || cache_meta_init(&m, origin_sectors, BLOCK_BYTES >> 9, nr))
		die("metadata");
	for (i = 0; i < nr; i++)
		cache_meta_set(&m, i, 2ull * i, i % 2);
	cache_meta_commit_begin(&m, &mc);
	while (cache_meta_next_block(&m, &mc, &off, blk))
		if (pwrite(fd, blk, CACHE_META_BLOCK, (off_t)off) != CACHE_META_BLOCK)
			die("writing metadata");
	off = cache_meta_encode_sb(&m, &mc, CACHE_META_SB_FLAG_CLEAN, &none, "smq", blk);
	if (pwrite(fd, blk, CACHE_META_BLOCK, (off_t)off) != CACHE_META_BLOCK || fsync(fd))
		die("writing the superblock");
	close(fd);
	free(blk);
	cache_meta_exit(&m);
}

static char *sparse_file(const char *name, uint64_t bytes)
{
	char *path = func_make_file(name, 0);

	if (truncate(path, (off_t)bytes))
		die(path);
	return path;
}

static void measure(uint32_t nr, unsigned int repeats)
{
	uint64_t cache_bytes = (uint64_t)nr * BLOCK_BYTES, origin_bytes = 2 * cache_bytes;
	char *origin = sparse_file("cl-origin.img", origin_bytes);
	char *cache = sparse_file("cl-cache.img", cache_bytes);
	char *meta = sparse_file("cl-meta.img", cache_meta_bytes(nr));
	double *secs = calloc(repeats, sizeof(double)), *per = calloc(repeats, sizeof(double));
	char spec[4096], err[512];
	unsigned int r;

	if (!secs || !per)
		die("calloc");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=32K, name=c)",
		 origin, cache, meta);
	for (r = 0; r < repeats; r++) {
		struct ubt_tree *tree;
		long before;
		double t0;

		/*
		 * A fresh image each round (the last round's start commit wrote a
		 * newer superblock); the page cache holds it: what is timed is the
		 * load, not the disk.
		 */
		if (truncate(meta, 0) || truncate(meta, (off_t)cache_meta_bytes(nr)))
			die(meta);
		write_full_metadata(meta, origin_bytes >> 9, nr);
		malloc_trim(0);	/* the last round's memory is not this one's */
		before = rss_bytes();
		t0 = now_s();
		tree = func_build(spec, 512, err, sizeof(err));
		secs[r] = now_s() - t0;
		if (!tree) {
			fprintf(stderr, "cache_load: %s\n", err);
			exit(1);
		}
		per[r] = (double)(rss_bytes() - before) / nr;
		ubt_tree_free(tree);
	}
	qsort(secs, repeats, sizeof(double), cmp_double);
	qsort(per, repeats, sizeof(double), cmp_double);
	printf("| %u | %.2f GiB | %.0f ms | %.1f |\n", nr, (double)cache_bytes / (1 << 30),
	       secs[repeats / 2] * 1e3, per[repeats / 2]);
	unlink(origin);
	unlink(cache);
	unlink(meta);
	free(origin);
	free(cache);
	free(meta);
	free(secs);
	free(per);
}

int main(int argc, char **argv)
{
	unsigned int repeats = 5;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-r")) {
		repeats = (unsigned int)strtoul(argv[2], NULL, 10);
		i = 3;
	}
	for (int k = i; k < argc; k++)
		if (!strtoul(argv[k], NULL, 0) || strtoul(argv[k], NULL, 0) > UINT32_MAX - 1)
			repeats = 0;
	if (!repeats || repeats > 101) {
		fprintf(stderr, "usage: cache_load [-r REPEATS (1-101)] [BLOCKS (1 or more)...]\n");
		return 2;
	}
	printf("Cache start over a full metadata node (32K blocks, all mapped, half dirty), "
	       "median of %u\n\n", repeats);
	printf("| cache blocks | cache size | load time | RSS bytes per block |\n");
	printf("|---|---|---|---|\n");
	if (i == argc)
		measure(1u << 20, repeats);
	for (; i < argc; i++)
		measure((uint32_t)strtoul(argv[i], NULL, 0), repeats);
	return 0;
}
