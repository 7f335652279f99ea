/* SPDX-License-Identifier: MIT */
/*
 * A multilevel queue (smq's building block) over an array of elements that
 * carry their own links: a doubly linked list per level, oldest at the
 * head, indexes instead of pointers (CACHE_NONE ends a list).  One piece
 * of code serves the cache blocks and the hotspots: each queue knows
 * where in its elements the links, the level and the hit flag lie.
 */
#ifndef UBT_CACHE_MLQ_H
#define UBT_CACHE_MLQ_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_LEVELS		64
#define CACHE_NONE		UINT32_MAX
#define CACHE_HIT_TICKS		4	/* a hit is remembered this many ticks */

struct cache_mlq {
	uint32_t head[CACHE_LEVELS], tail[CACHE_LEVELS];
	uint32_t count;
	char *base;			/* the elements */
	size_t stride;
	size_t prev_off, next_off;	/* uint32_t links */
	size_t level_off, hit_off;	/* uint8_t level; uint8_t hit flag (atomic) */
};

/* An empty queue over array `base` of elements of `type`, each with prev, next, level, hit. */
#define CACHE_MLQ_INIT(q, base, type)						\
	cache_mlq_init((q), (base), sizeof(type), offsetof(type, prev),		\
		       offsetof(type, next), offsetof(type, level), offsetof(type, hit))

void cache_mlq_init(struct cache_mlq *q, void *base, size_t stride, size_t prev_off,
		    size_t next_off, size_t level_off, size_t hit_off);
/* Element i at the tail (newest) of level. */
void cache_mlq_push(struct cache_mlq *q, uint32_t i, unsigned int level);
void cache_mlq_del(struct cache_mlq *q, uint32_t i);
/* The oldest element of the lowest level below `below` that has one, or CACHE_NONE. */
uint32_t cache_mlq_coldest(const struct cache_mlq *q, unsigned int below);
/* The element after i, coldest first (within its level, then up), below `below`. */
uint32_t cache_mlq_warmer(const struct cache_mlq *q, uint32_t i, unsigned int below);
/*
 * A tick: elements flagged since the last one climb a level, then the
 * queue is spread evenly over the levels again.  The flag also counts the
 * ticks since: 1 = hit since the last tick (the hit path sets it), 2..N =
 * hit N - 1 ticks ago, 0 = not hit in the last CACHE_HIT_TICKS ticks.
 */
void cache_mlq_tick(struct cache_mlq *q);

#endif
