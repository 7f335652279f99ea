// SPDX-License-Identifier: MIT
/*
 * The cache's metadata format and commit bookkeeping (see metadata.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/crc32c.h"
#include "metadata.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The block's checksum, its field (at 8 in a superblock, 0 in a mapping block) as zero. */
static uint32_t block_crc(const uint8_t *b, size_t field)
{
	static const uint8_t zero[4];
	uint32_t crc = ubt_crc32c(0, b, field);

	crc = ubt_crc32c(crc, zero, 4);
	return ubt_crc32c(crc, b + field + 4, CACHE_META_BLOCK - field - 4);
}

static uint32_t table_blocks(uint32_t nr_cblocks)
{
	return (nr_cblocks + CACHE_META_PER_BLOCK - 1) / CACHE_META_PER_BLOCK;
}

uint64_t cache_meta_bytes(uint32_t nr_cblocks)
{
	return (2 + 2 * (uint64_t)table_blocks(nr_cblocks)) * CACHE_META_BLOCK;
}

/* Byte offset of mapping block i of a copy. */
static uint64_t block_off(const struct cache_meta *m, unsigned int copy, uint32_t i)
{
	return (2 + (uint64_t)copy * m->table_blocks + i) * CACHE_META_BLOCK;
}

int cache_meta_init(struct cache_meta *m, uint64_t origin_sectors, uint32_t block_sectors,
		    uint32_t nr_cblocks)
{
	memset(m, 0, sizeof(*m));
	m->origin_sectors = origin_sectors;
	m->block_sectors = block_sectors;
	m->nr_cblocks = nr_cblocks;
	m->table_blocks = table_blocks(nr_cblocks);
	m->map = calloc(nr_cblocks ? nr_cblocks : 1, sizeof(*m->map));
	m->changed[0] = calloc(m->table_blocks + 1, 1);
	m->changed[1] = calloc(m->table_blocks + 1, 1);
	m->copy = 1;	/* the first commit writes copy 0 */
	if (!m->map || !m->changed[0] || !m->changed[1]) {
		cache_meta_exit(m);
		return -ENOMEM;
	}
	/* A fresh node: every block of both copies is to be written once. */
	memset(m->changed[0], 1, m->table_blocks);
	memset(m->changed[1], 1, m->table_blocks);
	return 0;
}

void cache_meta_exit(struct cache_meta *m)
{
	free(m->map);
	free(m->changed[0]);
	free(m->changed[1]);
	m->map = NULL;
	m->changed[0] = m->changed[1] = NULL;
}

static void mark_changed(struct cache_meta *m, uint32_t cblock)
{
	uint32_t i = cblock / CACHE_META_PER_BLOCK;

	m->changed[0][i] = 1;
	m->changed[1][i] = 1;
	__atomic_store_n(&m->changes, m->changes + 1, __ATOMIC_RELAXED);
}

void cache_meta_set(struct cache_meta *m, uint32_t cblock, uint64_t oblock, bool dirty)
{
	m->map[cblock] = oblock << 2 | (dirty ? CACHE_META_DIRTY : 0) | CACHE_META_VALID;
	mark_changed(m, cblock);
}

void cache_meta_clear(struct cache_meta *m, uint32_t cblock)
{
	m->map[cblock] = 0;
	mark_changed(m, cblock);
}

/* ---- Loading ---------------------------------------------------------- */

static bool all_zero(const uint8_t *b)
{
	size_t i;

	for (i = 0; i < CACHE_META_BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

/* Whether b is a superblock of ours with a good checksum. */
static bool sb_valid(const uint8_t *b)
{
	return get32(b) == CACHE_META_MAGIC && get32(b + 8) == block_crc(b, 8);
}

static int check_geometry(const struct cache_meta *m, const uint8_t *sb, char *err,
			  size_t errlen)
{
	if (get32(sb + 4) != CACHE_META_VERSION) {
		snprintf(err, errlen, "metadata version %u; this build reads version %u",
			 get32(sb + 4), CACHE_META_VERSION);
		return -EINVAL;
	}
	if (get32(sb + 32) != m->block_sectors) {
		snprintf(err, errlen, "the metadata is for %u-sector blocks, not %u (changing the "
			 "block size is not supported)", get32(sb + 32), m->block_sectors);
		return -EINVAL;
	}
	if (get32(sb + 36) != m->nr_cblocks) {
		snprintf(err, errlen, "the metadata is for %u cache blocks, the cache has %u",
			 get32(sb + 36), m->nr_cblocks);
		return -EINVAL;
	}
	if (get64(sb + 24) != m->origin_sectors) {
		snprintf(err, errlen, "the metadata is for a %llu-sector origin, the origin has %llu",
			 (unsigned long long)get64(sb + 24),
			 (unsigned long long)m->origin_sectors);
		return -EINVAL;
	}
	if (get32(sb + 40) != m->table_blocks || get32(sb + 44) > 1) {
		snprintf(err, errlen, "the metadata superblock is inconsistent (table of %u blocks, "
			 "copy %u)", get32(sb + 40), get32(sb + 44));
		return -EINVAL;
	}
	return 0;
}

/* Decode one mapping block into the array, refusing what cannot be. */
static int load_block(struct cache_meta *m, const uint8_t *b, uint32_t i, char *err,
		      size_t errlen)
{
	uint64_t origin_blocks = m->origin_sectors / m->block_sectors;
	uint32_t k, first = i * CACHE_META_PER_BLOCK;

	if (get32(b) != block_crc(b, 0) || get32(b + 4) != i) {
		snprintf(err, errlen, "metadata block %u of copy %u fails its checksum", i, m->copy);
		return -EILSEQ;
	}
	for (k = 0; k < CACHE_META_PER_BLOCK && first + k < m->nr_cblocks; k++) {
		uint64_t e = get64(b + CACHE_META_HEADER + 8 * k);

		if (e && (!(e & CACHE_META_VALID) || (e >> 2) >= origin_blocks)) {
			snprintf(err, errlen, "metadata maps cache block %u to origin block %llu, "
				 "past the origin's %llu", first + k,
				 (unsigned long long)(e >> 2), (unsigned long long)origin_blocks);
			return -EILSEQ;
		}
		m->map[first + k] = e;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* An origin block mapped by two cache blocks: the array cannot be trusted. */
static int check_unique(const struct cache_meta *m, char *err, size_t errlen)
{
	uint64_t *o = malloc((m->nr_cblocks ? m->nr_cblocks : 1) * sizeof(*o));
	uint32_t i, n = 0;
	int ret = 0;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < m->nr_cblocks; i++)
		if (cache_meta_valid(m, i))
			o[n++] = cache_meta_oblock(m, i);
	qsort(o, n, sizeof(*o), cmp_u64);
	for (i = 1; i < n && !ret; i++) {
		if (o[i] == o[i - 1]) {
			snprintf(err, errlen, "metadata maps origin block %llu twice",
				 (unsigned long long)o[i]);
			ret = -EILSEQ;
		}
	}
	free(o);
	return ret;
}

int cache_meta_load(struct cache_meta *m, cache_meta_read_fn read, void *ctx, char *err,
		    size_t errlen)
{
	uint8_t *sb[2], *b = NULL;
	int chosen = -1, ret;
	unsigned int s;
	uint32_t i;

	sb[0] = malloc(CACHE_META_BLOCK);
	sb[1] = malloc(CACHE_META_BLOCK);
	ret = sb[0] && sb[1] ? 0 : -ENOMEM;
	for (s = 0; s < 2 && !ret; s++) {
		ret = read(ctx, (uint64_t)s * CACHE_META_BLOCK, sb[s], CACHE_META_BLOCK);
		if (ret)
			snprintf(err, errlen, "reading metadata superblock %u: %s", s, strerror(-ret));
	}
	if (ret)
		goto out;
	for (s = 0; s < 2; s++)
		if (sb_valid(sb[s]) && (chosen < 0 || get64(sb[s] + 16) > get64(sb[chosen] + 16)))
			chosen = (int)s;
	if (chosen < 0) {
		if (all_zero(sb[0]) && all_zero(sb[1]))
			goto out;	/* never written: an empty cache, every block to write */
		snprintf(err, errlen, "no valid metadata superblock (not ours, or both damaged)");
		ret = -EILSEQ;
		goto out;
	}
	ret = check_geometry(m, sb[chosen], err, errlen);
	if (ret)
		goto out;
	m->seq = get64(sb[chosen] + 16);
	m->copy = get32(sb[chosen] + 44);
	m->flags = get32(sb[chosen] + 12);
	m->clean_when_opened = m->flags & CACHE_META_SB_FLAG_CLEAN;
	m->stats = (struct cache_meta_stats){
		get64(sb[chosen] + 48), get64(sb[chosen] + 56), get64(sb[chosen] + 64),
		get64(sb[chosen] + 72),
	};
	memcpy(m->policy, sb[chosen] + 80, sizeof(m->policy));
	m->policy[sizeof(m->policy) - 1] = '\0';
	b = malloc(CACHE_META_BLOCK);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->table_blocks; i++) {
		ret = read(ctx, block_off(m, m->copy, i), b, CACHE_META_BLOCK);
		if (ret) {
			snprintf(err, errlen, "reading metadata block %u: %s", i, strerror(-ret));
			goto out;
		}
		ret = load_block(m, b, i, err, errlen);
		if (ret)
			goto out;
	}
	ret = check_unique(m, err, errlen);
	if (ret)
		goto out;
	/* The loaded copy is on disk; the other lags it by every block. */
	memset(m->changed[m->copy], 0, m->table_blocks);
	memset(m->changed[1 - m->copy], 1, m->table_blocks);
	if (!m->clean_when_opened)
		for (i = 0; i < m->nr_cblocks; i++)
			if (cache_meta_valid(m, i))
				m->map[i] |= CACHE_META_DIRTY;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(sb[0]);
	free(sb[1]);
	free(b);
	return ret;
}

/* ---- Commits ---------------------------------------------------------- */

void cache_meta_commit_begin(struct cache_meta *m, struct cache_meta_commit *c)
{
	c->seq = m->seq + 1;
	c->copy = 1 - m->copy;
	c->next = 0;
}

bool cache_meta_next_block(struct cache_meta *m, struct cache_meta_commit *c, uint64_t *off,
			   uint8_t *out)
{
	uint32_t i, k, first;

	while (c->next < m->table_blocks && !m->changed[c->copy][c->next])
		c->next++;
	if (c->next == m->table_blocks)
		return false;
	i = c->next++;
	/* Forget it now: a change from here on marks it again, for the next commit. */
	m->changed[c->copy][i] = 0;
	first = i * CACHE_META_PER_BLOCK;
	memset(out, 0, CACHE_META_BLOCK);
	put32(out + 4, i);
	put64(out + 8, c->seq);
	for (k = 0; k < CACHE_META_PER_BLOCK && first + k < m->nr_cblocks; k++)
		put64(out + CACHE_META_HEADER + 8 * k, m->map[first + k]);
	put32(out, block_crc(out, 0));
	*off = block_off(m, c->copy, i);
	return true;
}

uint64_t cache_meta_encode_sb(const struct cache_meta *m, const struct cache_meta_commit *c,
			      uint32_t flags, const struct cache_meta_stats *stats,
			      const char *policy, uint8_t *out)
{
	memset(out, 0, CACHE_META_BLOCK);
	put32(out, CACHE_META_MAGIC);
	put32(out + 4, CACHE_META_VERSION);
	put32(out + 12, flags);
	put64(out + 16, c->seq);
	put64(out + 24, m->origin_sectors);
	put32(out + 32, m->block_sectors);
	put32(out + 36, m->nr_cblocks);
	put32(out + 40, m->table_blocks);
	put32(out + 44, c->copy);
	put64(out + 48, stats->read_hits);
	put64(out + 56, stats->read_misses);
	put64(out + 64, stats->write_hits);
	put64(out + 72, stats->write_misses);
	memcpy(out + 80, policy, strnlen(policy, 16));
	put32(out + 8, block_crc(out, 8));
	return (c->seq % 2) * CACHE_META_BLOCK;
}

void cache_meta_committed(struct cache_meta *m, const struct cache_meta_commit *c)
{
	m->seq = c->seq;
	m->copy = c->copy;
}

void cache_meta_commit_failed(struct cache_meta *m, const struct cache_meta_commit *c)
{
	/* What reached the copy is unknown: all of it is written again. */
	memset(m->changed[c->copy], 1, m->table_blocks);
}
