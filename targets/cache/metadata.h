/* SPDX-License-Identifier: MIT */
/*
 * The cache's metadata: which origin block each cache block holds, and
 * whether it is dirty, kept crash-safe on the metadata node.  Our own
 * format (dm-cache's persistent-data btrees are not needed for a flat
 * cblock -> oblock array).  The encoding and the commit bookkeeping live
 * here; the cache target does the I/O.
 *
 * On disk, in 4096-byte blocks, every integer little-endian:
 *
 *   block 0, 1        superblock slots; commit number n writes slot n % 2
 *   block 2 ..        mapping copy 0 (table_blocks blocks)
 *   block 2 + T ..    mapping copy 1
 *
 * Superblock (bytes 0..95, the rest of the block zero):
 *    0 le32 magic 0x43544255 ("UBTC")     4 le32 version (1)
 *    8 le32 crc32c of the block, this field taken as 0
 *   12 le32 flags: 1 clean shutdown, 2 needs check
 *   16 le64 seq, the commit number        24 le64 origin sectors
 *   32 le32 block sectors                 36 le32 cache blocks
 *   40 le32 table_blocks (T)              44 le32 the mapping copy this commit wrote
 *   48 le64 read hits    56 le64 read misses    64 le64 write hits    72 le64 write misses
 *   80 char[16] policy name, NUL-padded
 *
 * Mapping block: 0 le32 crc32c (this field taken as 0), 4 le32 its index in
 * the copy, 8 le64 the commit that wrote it; then 510 entries, one per
 * cache block: le64 (oblock << 2) | dirty << 1 | valid, 0 when unmapped.
 *
 * A commit writes the blocks of the copy the current superblock does not
 * name (only those changed since that copy was last written: each block
 * has a changed bit per copy), flushes, writes the other superblock slot
 * naming that copy, and flushes again.  Until that superblock is on disk
 * the previous one and its copy are untouched: a crash anywhere in a
 * commit leaves the last complete commit.  Loading takes the valid
 * superblock with the highest seq; a mapping block that fails its
 * checksum is refused, never guessed around.
 *
 * Dirty bits are as the last commit left them, but after an unclean stop
 * (no clean-shutdown flag) every mapped block is taken as dirty, as dm
 * does: a write may have reached a clean block after that commit.
 *
 * RAM: 8 bytes per cache block for the array, 2 bits per mapping block.
 */
#ifndef UBT_CACHE_METADATA_H
#define UBT_CACHE_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_META_BLOCK	4096u
#define CACHE_META_MAGIC	0x43544255u
#define CACHE_META_VERSION	1u
#define CACHE_META_HEADER	16u
#define CACHE_META_PER_BLOCK	((CACHE_META_BLOCK - CACHE_META_HEADER) / 8)	/* 510 */
#define CACHE_META_SB_FLAG_CLEAN	1u
#define CACHE_META_SB_FLAG_NEEDS_CHECK	2u

#define CACHE_META_VALID	1ull
#define CACHE_META_DIRTY	2ull

struct cache_meta_stats {
	uint64_t read_hits, read_misses, write_hits, write_misses;
};

struct cache_meta {
	uint64_t origin_sectors;
	uint32_t block_sectors;
	uint32_t nr_cblocks;
	uint32_t table_blocks;
	uint64_t *map;			/* per cache block, the on-disk entry */
	uint8_t *changed[2];		/* per mapping block and copy: to write */
	uint64_t changes;		/* set or clear calls so far */
	uint64_t seq;			/* the last commit on disk */
	unsigned int copy;		/* the copy it names */
	uint32_t flags;			/* as loaded */
	bool clean_when_opened;
	struct cache_meta_stats stats;	/* as loaded */
	char policy[16];
};

/* Bytes the metadata node needs for nr_cblocks cache blocks. */
uint64_t cache_meta_bytes(uint32_t nr_cblocks);

/* Geometry and an all-unmapped array; 0 or -ENOMEM. */
int cache_meta_init(struct cache_meta *m, uint64_t origin_sectors, uint32_t block_sectors,
		    uint32_t nr_cblocks);
void cache_meta_exit(struct cache_meta *m);

static inline bool cache_meta_valid(const struct cache_meta *m, uint32_t cblock)
{
	return m->map[cblock] & CACHE_META_VALID;
}

static inline bool cache_meta_dirty(const struct cache_meta *m, uint32_t cblock)
{
	return m->map[cblock] & CACHE_META_DIRTY;
}

static inline uint64_t cache_meta_oblock(const struct cache_meta *m, uint32_t cblock)
{
	return m->map[cblock] >> 2;
}

/* Map cblock to oblock (dirty or not), or unmap it; marks its block changed. */
void cache_meta_set(struct cache_meta *m, uint32_t cblock, uint64_t oblock, bool dirty);
void cache_meta_clear(struct cache_meta *m, uint32_t cblock);

/*
 * Decoding a metadata image.  read(ctx, byte offset, buf, len) fills buf,
 * returning 0 or a negative errno.  A node never written (both superblock
 * slots all zeros) loads as an empty cache.  Refused with a line in err:
 * an I/O error, a superblock for another geometry or version, no valid
 * superblock where one was written, a mapping block that fails its
 * checksum or names an origin block twice or past the origin.
 */
typedef int (*cache_meta_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);
int cache_meta_load(struct cache_meta *m, cache_meta_read_fn read, void *ctx, char *err,
		    size_t errlen);

/*
 * A commit, in the order it must reach the disk: the changed mapping
 * blocks of copy 1 - m->copy (cache_meta_next_block() gives them one by
 * one, encoded, and forgets them), a flush, the superblock
 * (cache_meta_encode_sb() for seq m->seq + 1), a flush; then
 * cache_meta_committed().  A failed commit calls cache_meta_commit_failed()
 * so its blocks are written again next time.
 */
struct cache_meta_commit {
	uint64_t seq;
	unsigned int copy;
	uint32_t next;			/* the next mapping block to look at */
};

void cache_meta_commit_begin(struct cache_meta *m, struct cache_meta_commit *c);
/* The next changed block: true with its byte offset and 4096 bytes in out, or false. */
bool cache_meta_next_block(struct cache_meta *m, struct cache_meta_commit *c, uint64_t *off,
			   uint8_t *out);
/* The superblock of commit c (its slot's byte offset returned). */
uint64_t cache_meta_encode_sb(const struct cache_meta *m, const struct cache_meta_commit *c,
			      uint32_t flags, const struct cache_meta_stats *stats,
			      const char *policy, uint8_t *out);
void cache_meta_committed(struct cache_meta *m, const struct cache_meta_commit *c);
void cache_meta_commit_failed(struct cache_meta *m, const struct cache_meta_commit *c);

#endif
