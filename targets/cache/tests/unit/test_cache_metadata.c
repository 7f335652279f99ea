// SPDX-License-Identifier: MIT
/*
 * Unit tests for the cache's metadata (targets/cache/metadata.c): CRC-32C
 * against published vectors, the superblock against golden bytes, a round
 * trip through a disk image, a crash at every write of a commit (the image
 * loads as the commit before or, once its superblock is down, the new one),
 * dm's dirty rule after an unclean stop, and every refusal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/crc32c.h"
#include "targets/cache/metadata.c"
#include "targets/cache/tests/meta_image.h"
#include "ut.h"

#define ORIGIN_SECTORS	(1ULL << 20)	/* 512 MiB */
#define BLOCK_SECTORS	128u		/* 64 KiB */
#define NR_CBLOCKS	1000u		/* two mapping blocks per copy */

static char err[256];

/* One write a commit makes, in order. */
struct write {
	uint64_t off;
	uint8_t data[CACHE_META_BLOCK];
};

/* Every write of one commit (blocks, then the superblock); returns how many. */
static unsigned int commit_writes(struct cache_meta *m, struct cache_meta_commit *c,
				  uint32_t flags, struct write *w, unsigned int max)
{
	static const struct cache_meta_stats stats = { 1, 2, 3, 4 };
	unsigned int n = 0;

	cache_meta_commit_begin(m, c);
	while (n < max - 1 && cache_meta_next_block(m, c, &w[n].off, w[n].data))
		n++;
	w[n].off = cache_meta_encode_sb(m, c, flags, &stats, "smq", w[n].data);
	return n + 1;
}

static void apply_writes(struct image *im, const struct write *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		memcpy(im->bytes + w[i].off, w[i].data, CACHE_META_BLOCK);
}

static int load(struct cache_meta *m, struct image *im)
{
	int ret;

	CU_ASSERT_EQUAL_FATAL(cache_meta_init(m, ORIGIN_SECTORS, BLOCK_SECTORS, NR_CBLOCKS), 0);
	err[0] = '\0';
	ret = cache_meta_load(m, image_read, im, err, sizeof(err));
	return ret;
}

static void test_crc32c_vectors(void)
{
	uint8_t zeros[32] = { 0 }, ones[32], ascending[40];
	unsigned int i;

	memset(ones, 0xff, sizeof(ones));
	for (i = 0; i < sizeof(ascending); i++)
		ascending[i] = (uint8_t)(i - 3);
	/* RFC 3720 B.4, and the common check value. */
	CU_ASSERT_EQUAL(ubt_crc32c(0, "123456789", 9), 0xE3069283);
	CU_ASSERT_EQUAL(ubt_crc32c(0, zeros, 32), 0x8A9136AA);
	CU_ASSERT_EQUAL(ubt_crc32c(0, ones, 32), 0x62A8AB43);
	CU_ASSERT_EQUAL(ubt_crc32c(0, ascending + 3, 32), 0x46DD794E);	/* unaligned start */
	/* In pieces, the same as at once. */
	CU_ASSERT_EQUAL(ubt_crc32c(ubt_crc32c(0, ascending + 3, 5), ascending + 8, 27), 0x46DD794E);
}

static void test_sizes(void)
{
	CU_ASSERT_EQUAL(cache_meta_bytes(1), 4 * 4096);
	CU_ASSERT_EQUAL(cache_meta_bytes(510), 4 * 4096);
	CU_ASSERT_EQUAL(cache_meta_bytes(511), 6 * 4096);
	/* 1M cache blocks: 2057 blocks per copy, 16 MiB and a bit. */
	CU_ASSERT_EQUAL(cache_meta_bytes(1 << 20), (2 + 2 * 2057) * 4096ULL);
}

/* The superblock's bytes, checksum included, as an independent encoder made them. */
static void test_superblock_golden_bytes(void)
{
	static const uint8_t golden[96] = {
		0x55, 0x42, 0x54, 0x43, 0x01, 0x00, 0x00, 0x00, 0xdd, 0xf3, 0xc9, 0xca, 0x01, 0x00,
		0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x02, 0x00,
		0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x6d, 0x71, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	const struct cache_meta_stats stats = { 11, 12, 13, 14 };
	struct cache_meta_commit c = { .seq = 7, .copy = 1 };
	uint8_t out[CACHE_META_BLOCK];
	struct cache_meta m;
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&m, ORIGIN_SECTORS, BLOCK_SECTORS, NR_CBLOCKS), 0);
	CU_ASSERT_EQUAL(cache_meta_encode_sb(&m, &c, CACHE_META_SB_FLAG_CLEAN, &stats, "smq", out),
			4096);	/* seq 7: slot 1 */
	CU_ASSERT(!memcmp(out, golden, sizeof(golden)));
	for (i = sizeof(golden); i < CACHE_META_BLOCK && !out[i]; i++)
		;
	CU_ASSERT_EQUAL(i, CACHE_META_BLOCK);
	cache_meta_exit(&m);
}

/* A few mappings, some dirty, across both mapping blocks. */
static void populate(struct cache_meta *m, unsigned int round)
{
	uint32_t i;

	for (i = 0; i < NR_CBLOCKS; i += 7)
		cache_meta_set(m, i, (uint64_t)i * 3 + round, (i + round) % 3 == 0);
	for (i = round; i < NR_CBLOCKS; i += 50)
		cache_meta_clear(m, i);
}

static void test_round_trip_and_fresh_node(void)
{
	struct image im = image_new(NR_CBLOCKS);
	struct write *w = malloc(8 * sizeof(*w));
	struct cache_meta m, back;
	struct cache_meta_commit c;
	unsigned int n, i;

	/* Never written: loads empty, and names no copy yet. */
	CU_ASSERT_EQUAL(load(&m, &im), 0);
	CU_ASSERT_EQUAL(m.seq, 0);
	for (i = 0; i < NR_CBLOCKS; i++)
		CU_ASSERT_FALSE(cache_meta_valid(&m, i));
	populate(&m, 1);
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	CU_ASSERT_EQUAL(n, 3);	/* both mapping blocks, then the superblock */
	apply_writes(&im, w, n);
	cache_meta_committed(&m, &c);
	CU_ASSERT_EQUAL(load(&back, &im), 0);
	CU_ASSERT(!memcmp(back.map, m.map, NR_CBLOCKS * sizeof(*m.map)));
	CU_ASSERT_EQUAL(back.seq, 1);
	CU_ASSERT_TRUE(back.clean_when_opened);
	CU_ASSERT_EQUAL(back.stats.write_misses, 4);
	CU_ASSERT_STRING_EQUAL(back.policy, "smq");
	/* Nothing changed: the next commit writes only the superblock... */
	cache_meta_set(&m, 3, 99, false);
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	/* ...except the other copy, never written: both its blocks. */
	CU_ASSERT_EQUAL(n, 3);
	apply_writes(&im, w, n);
	cache_meta_committed(&m, &c);
	cache_meta_set(&m, 520, 7, true);	/* the second block only */
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	/* Copy 0 lags by the change to block 0 (commit 2) and to block 1 (now). */
	CU_ASSERT_EQUAL(n, 3);
	apply_writes(&im, w, n);
	cache_meta_committed(&m, &c);
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	CU_ASSERT_EQUAL(n, 2);	/* copy 1 lags by block 1 only */
	apply_writes(&im, w, n);
	cache_meta_committed(&m, &c);
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	CU_ASSERT_EQUAL(n, 1);	/* nothing left: the superblock alone */
	apply_writes(&im, w, n);
	cache_meta_committed(&m, &c);
	cache_meta_exit(&back);
	CU_ASSERT_EQUAL(load(&back, &im), 0);
	CU_ASSERT(!memcmp(back.map, m.map, NR_CBLOCKS * sizeof(*m.map)));
	CU_ASSERT_EQUAL(back.seq, 5);
	cache_meta_exit(&back);
	cache_meta_exit(&m);
	free(w);
	free(im.bytes);
}

/*
 * A crash after any write of a commit: the image loads as the last
 * complete commit, or as the new one once its superblock is down; a
 * superblock torn in half counts as not down.  Several commits in a row,
 * so both copies and both slots take their turn.
 */
static void test_crash_at_every_write_of_a_commit(void)
{
	struct image im = image_new(NR_CBLOCKS), crashed = image_new(NR_CBLOCKS);
	struct write *w = malloc(8 * sizeof(*w));
	uint64_t *before = malloc(NR_CBLOCKS * sizeof(*before));
	struct cache_meta m, back;
	struct cache_meta_commit c;
	unsigned int round, n, k, bad = 0;

	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&m, ORIGIN_SECTORS, BLOCK_SECTORS, NR_CBLOCKS), 0);
	for (round = 0; round < 6; round++) {
		memcpy(before, m.map, NR_CBLOCKS * sizeof(*before));
		populate(&m, round);
		n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
		for (k = 0; k <= n; k++) {
			memcpy(crashed.bytes, im.bytes, im.size);
			apply_writes(&crashed, w, k);
			if (k == n)	/* the superblock torn: its first 40 bytes never written */
				memcpy(crashed.bytes + w[n - 1].off, im.bytes + w[n - 1].off, 40);
			if (round == 0 && k == n) {
				/*
				 * The first superblock torn: nothing says the node is
				 * ours.  (The cache commits once when it is made,
				 * before it serves a request.)
				 */
				if (load(&back, &crashed) != -EILSEQ)
					bad++;
			} else if (load(&back, &crashed)) {
				bad++;
				fprintf(stderr, "\n  round %u, %u of %u writes: %s\n", round, k, n, err);
			} else if (memcmp(back.map, before, NR_CBLOCKS * sizeof(*before))) {
				bad++;
				fprintf(stderr, "\n  round %u, %u of %u writes: not the last commit\n",
					round, k, n);
			}
			cache_meta_exit(&back);
		}
		apply_writes(&im, w, n);
		cache_meta_committed(&m, &c);
		CU_ASSERT_EQUAL(load(&back, &im), 0);
		CU_ASSERT(!memcmp(back.map, m.map, NR_CBLOCKS * sizeof(*m.map)));
		cache_meta_exit(&back);
	}
	CU_ASSERT_EQUAL(bad, 0);
	cache_meta_exit(&m);
	free(before);
	free(w);
	free(im.bytes);
	free(crashed.bytes);
}

/* Without the clean-shutdown flag every mapped block loads dirty (dm's rule). */
static void test_unclean_stop_makes_every_block_dirty(void)
{
	struct image im = image_new(NR_CBLOCKS);
	struct write *w = malloc(8 * sizeof(*w));
	struct cache_meta m, back;
	struct cache_meta_commit c;
	unsigned int i, n;

	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&m, ORIGIN_SECTORS, BLOCK_SECTORS, NR_CBLOCKS), 0);
	populate(&m, 2);
	n = commit_writes(&m, &c, 0, w, 8);
	apply_writes(&im, w, n);
	CU_ASSERT_EQUAL(load(&back, &im), 0);
	CU_ASSERT_FALSE(back.clean_when_opened);
	for (i = 0; i < NR_CBLOCKS; i++) {
		CU_ASSERT_EQUAL(cache_meta_valid(&back, i), cache_meta_valid(&m, i));
		if (cache_meta_valid(&m, i)) {
			CU_ASSERT_EQUAL(cache_meta_oblock(&back, i), cache_meta_oblock(&m, i));
			CU_ASSERT_TRUE(cache_meta_dirty(&back, i));
		}
	}
	cache_meta_exit(&back);
	cache_meta_exit(&m);
	free(w);
	free(im.bytes);
}

/* Put a valid checksum back on a mapping block someone changed. */
static void reseal_block(uint8_t *b)
{
	put32(b, block_crc(b, 0));
}

static void test_refusals(void)
{
	struct image im = image_new(NR_CBLOCKS);
	struct write *w = malloc(8 * sizeof(*w));
	struct cache_meta m, back;
	struct cache_meta_commit c;
	uint8_t *blk;
	unsigned int n;

	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&m, ORIGIN_SECTORS, BLOCK_SECTORS, NR_CBLOCKS), 0);
	populate(&m, 0);
	n = commit_writes(&m, &c, CACHE_META_SB_FLAG_CLEAN, w, 8);
	apply_writes(&im, w, n);
	blk = im.bytes + w[0].off;	/* mapping block 0 of the copy in use */

	/* A flipped bit in a mapping block. */
	blk[100] ^= 4;
	CU_ASSERT_EQUAL(load(&back, &im), -EILSEQ);
	CU_ASSERT_STRING_EQUAL(err, "metadata block 0 of copy 0 fails its checksum");
	cache_meta_exit(&back);
	blk[100] ^= 4;
	/* An origin block mapped twice (checksums right): cache block 14 takes 7's. */
	put64(blk + CACHE_META_HEADER + 8 * 14, get64(blk + CACHE_META_HEADER + 8 * 7));
	reseal_block(blk);
	CU_ASSERT_EQUAL(load(&back, &im), -EILSEQ);
	CU_ASSERT_STRING_EQUAL(err, "metadata maps origin block 21 twice");
	cache_meta_exit(&back);
	memcpy(blk, w[0].data, CACHE_META_BLOCK);
	/* A block from another place in the copy (its own checksum right). */
	memcpy(blk, w[1].data, CACHE_META_BLOCK);
	CU_ASSERT_EQUAL(load(&back, &im), -EILSEQ);
	CU_ASSERT_STRING_EQUAL(err, "metadata block 0 of copy 0 fails its checksum");
	cache_meta_exit(&back);
	memcpy(blk, w[0].data, CACHE_META_BLOCK);
	cache_meta_exit(&back);
	/* One past the origin. */
	put64(blk + CACHE_META_HEADER + 8 * 7, (ORIGIN_SECTORS / BLOCK_SECTORS) << 2 | 1);
	reseal_block(blk);
	CU_ASSERT_EQUAL(load(&back, &im), -EILSEQ);
	CU_ASSERT_STRING_EQUAL(err, "metadata maps cache block 7 to origin block 8192, past the "
			       "origin's 8192");
	cache_meta_exit(&back);
	memcpy(blk, w[0].data, CACHE_META_BLOCK);

	/* Another geometry. */
	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&back, ORIGIN_SECTORS, 64, NR_CBLOCKS), 0);
	CU_ASSERT_EQUAL(cache_meta_load(&back, image_read, &im, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "the metadata is for 128-sector blocks, not 64 (changing the "
			       "block size is not supported)");
	cache_meta_exit(&back);
	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&back, ORIGIN_SECTORS, BLOCK_SECTORS, 999), 0);
	CU_ASSERT_EQUAL(cache_meta_load(&back, image_read, &im, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "the metadata is for 1000 cache blocks, the cache has 999");
	cache_meta_exit(&back);
	CU_ASSERT_EQUAL_FATAL(cache_meta_init(&back, ORIGIN_SECTORS * 2, BLOCK_SECTORS,
					      NR_CBLOCKS), 0);
	CU_ASSERT_EQUAL(cache_meta_load(&back, image_read, &im, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "the metadata is for a 1048576-sector origin, the origin has "
			       "2097152");
	cache_meta_exit(&back);

	/* Not ours at all, in both slots. */
	memset(im.bytes, 0x5a, 2 * CACHE_META_BLOCK);
	CU_ASSERT_EQUAL(load(&back, &im), -EILSEQ);
	CU_ASSERT_STRING_EQUAL(err, "no valid metadata superblock (not ours, or both damaged)");
	cache_meta_exit(&back);
	/* A node too small to read. */
	im.size = CACHE_META_BLOCK;
	CU_ASSERT_EQUAL(load(&back, &im), -EIO);
	CU_ASSERT_STRING_EQUAL(err, "reading metadata superblock 1: Input/output error");
	cache_meta_exit(&back);
	cache_meta_exit(&m);
	free(w);
	free(im.bytes);
}

UT_MAIN("cache_metadata", UT(test_crc32c_vectors), UT(test_sizes),
	UT(test_superblock_golden_bytes), UT(test_round_trip_and_fresh_node),
	UT(test_crash_at_every_write_of_a_commit), UT(test_unclean_stop_makes_every_block_dirty),
	UT(test_refusals))
