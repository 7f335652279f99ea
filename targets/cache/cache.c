// SPDX-License-Identifier: MIT
/*
 * cache: a fast node (cache=) in front of a slow one (origin=), with its
 * mappings in a metadata node (meta=), like device-mapper's cache target.
 *
 *   cache(origin=NODE, cache=NODE, meta=NODE, block=SIZE,
 *         mode=writeback|writethrough|passthrough, policy=smq|cleaner,
 *         migration_threshold=SIZE, no_discard_passdown, metadata2)
 *
 *   block=      the unit of caching: a multiple of 32K, 32K to 1G (default
 *               64K, lvm's)
 *   mode=       writeback (the default): writes to cached blocks stay in the
 *               cache (dirty) until written back; writethrough: they go to
 *               both, nothing is ever dirty; passthrough: reads and writes go
 *               to the origin (cached copies are kept right), nothing is
 *               promoted, and it refuses to start while blocks are dirty
 *   policy=     smq (the default; smq.c) or cleaner: write every dirty block
 *               back, promote nothing
 *   migration_threshold=  bytes of copying in flight at once (default 1M)
 *   no_discard_passdown   discards stop here instead of reaching the origin
 *   metadata2   dm's second metadata format, as a table may ask: accepted
 *               and shown; our one format already keeps what it adds
 *
 * The node is as long as the origin.  meta= may be any node (a file, a
 * window of one, a mirror of two): the constructor reads it by I/O on the
 * node outside the queues, and formats it when it was never written.  Its
 * size: 8 KiB plus 16 bytes per cache block, in 4 KiB blocks
 * (`cache_meta_bytes`); it is refused when smaller.
 *
 * Status, in dm-cache's field order: <metadata block size> <used>/<total
 * metadata blocks> <block size> <used>/<total cache blocks> <read hits>
 * <read misses> <write hits> <write misses> <demotions> <promotions>
 * <dirty> <#features> <features> 2 migration_threshold <sectors> <policy>
 * 0 rw -, or "Fail" once a metadata commit failed.
 *
 *   dm table: cache <metadata dev> <cache dev> <origin dev> <block sectors>
 *             <#features> [writeback|writethrough|passthrough|metadata2|
 *             no_discard_passdown]... <policy> <#policy args> [<key> <value>]...
 *
 * Messages: `migration_threshold SECTORS`, `cleaner` (switch the policy to
 * the cleaner), `clear_stats`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ubt/table.h"
#include "ubt/util.h"
#include "cache.h"

#define CACHE_DEFAULT_BLOCK	(64u * 1024)
#define CACHE_DEFAULT_THRESHOLD	2048	/* sectors, dm's */
#define CACHE_EXAMPLE		"cache(origin=slow.img, cache=linear(fast.img, offset=16M), " \
				"meta=linear(fast.img, size=16M))"

/* ---- Metadata I/O before any queue runs, and after ---------------------- */

static int meta_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	return ubt_node_io(ctx, UBT_OP_READ, 0, off, buf, len);
}

/*
 * A whole commit with no queue running (commit.c's steps, by I/O on the
 * metadata node outside the queues): the changed mapping blocks, a flush,
 * the superblock with flags, a flush.  Used to format a node never
 * written, to clear the clean flag when a cache starts, and to set it when
 * it stops.
 */
static int direct_commit(struct cache *c, uint32_t flags)
{
	struct cache_meta_stats st;
	struct cache_meta_commit mc;
	uint8_t blk[CACHE_META_BLOCK];
	struct ubt_node_io *n;
	const char *policy;
	uint64_t off;
	int ret;

	ret = ubt_node_io_open(c->mdev, &n);
	if (ret)
		return ret;
	cache_sb_contents(c, &st, &policy);
	cache_meta_commit_begin(&c->meta, &mc);
	while (!ret && cache_meta_next_block(&c->meta, &mc, &off, blk))
		ret = ubt_node_io(n, UBT_OP_WRITE, 0, off, blk, CACHE_META_BLOCK);
	if (!ret)
		ret = ubt_node_io(n, UBT_OP_FLUSH, 0, 0, NULL, 0);
	if (!ret) {
		off = cache_meta_encode_sb(&c->meta, &mc, flags, &st, policy, blk);
		ret = ubt_node_io(n, UBT_OP_WRITE, 0, off, blk, CACHE_META_BLOCK);
	}
	if (!ret)
		ret = ubt_node_io(n, UBT_OP_FLUSH, 0, 0, NULL, 0);
	ubt_node_io_close(n);
	if (ret)
		cache_meta_commit_failed(&c->meta, &mc);
	else
		cache_meta_committed(&c->meta, &mc);
	return ret;
}

/*
 * A clean stop (dm's postsuspend): once every queue has stopped, make the
 * origin's and the cache's data durable, then commit the exact dirty bits
 * with the clean-shutdown flag, so the next start trusts them instead of
 * writing every mapped block back.  Only in the process whose queues ran
 * (not in the one that built the tree and handed it to the daemon), and
 * not after a failed or unfinished commit, a request a child failed (a
 * writethrough write may have reached one copy only), or when a child
 * cannot be synced (a crashed volatile node): the metadata then stays as
 * the last commit left it, unclean.
 */
static void clean_shutdown(struct cache *c)
{
	int ret;

	if (__atomic_load_n(&c->commit.failed, __ATOMIC_ACQUIRE) || c->commit.running)
		return;		/* (a commit cut short may have written a superblock already) */
	if (__atomic_load_n(&c->data_errors, __ATOMIC_RELAXED)) {
		fprintf(stderr, "cache: a child failed a request: not marked clean, the next "
			"start takes every mapped block as dirty\n");
		return;
	}
	ret = ubt_target_sync(c->origin);
	if (!ret)
		ret = ubt_target_sync(c->cdev);
	if (!ret)
		ret = direct_commit(c, CACHE_META_SB_FLAG_CLEAN);
	if (ret)
		fprintf(stderr, "cache: the metadata was not marked clean (%s): the next start "
			"takes every mapped block as dirty\n", strerror(-ret));
}

static int load_metadata(struct cache *c)
{
	struct ubt_node_io *n;
	char err[256];
	uint32_t i;
	uint64_t dirty = 0;
	int ret;

	ret = ubt_node_io_open(c->mdev, &n);
	if (ret)
		return ubt_target_error(c->t, -ret, "meta=: %s", strerror(-ret));
	ret = cache_meta_load(&c->meta, meta_read, n, err, sizeof(err));
	ubt_node_io_close(n);
	if (ret)
		return ubt_target_error(c->t, -ret, "%s", err);
	for (i = 0; i < c->nr_cblocks; i++) {
		if (!cache_meta_valid(&c->meta, i))
			continue;
		cache_hash_insert(c, cache_meta_oblock(&c->meta, i), i);
		cache_policy_load(c, i, cache_meta_dirty(&c->meta, i));
		c->nr_resident++;
		dirty += cache_meta_dirty(&c->meta, i);
	}
	c->nr_dirty = dirty;
	c->stats.read_hits = c->meta.stats.read_hits;
	c->stats.read_misses = c->meta.stats.read_misses;
	c->stats.write_hits = c->meta.stats.write_hits;
	c->stats.write_misses = c->meta.stats.write_misses;
	if (c->mode == CACHE_PASSTHROUGH && dirty)
		return ubt_target_error(c->t, EBUSY, "cannot enter passthrough mode unless all "
					"blocks are clean (%llu dirty%s)", (unsigned long long)dirty,
					c->meta.clean_when_opened ? "" :
					", as every block is after an unclean stop");
	/*
	 * In use from here: a node never written is formatted, and a clean
	 * flag is cleared on disk before any write can make the dirty bits
	 * it vouches for wrong (dm clears it at open).
	 */
	if (!c->meta.seq || c->meta.clean_when_opened)
		ret = direct_commit(c, 0);
	if (ret)
		return ubt_target_error(c->t, -ret, "writing the metadata: %s", strerror(-ret));
	if (c->nr_resident)
		fprintf(stderr, "cache: the metadata maps %llu of %u blocks, %llu dirty%s\n",
			(unsigned long long)c->nr_resident, c->nr_cblocks,
			(unsigned long long)dirty,
			c->meta.clean_when_opened ? "" :
			" (not stopped cleanly: every mapped block is written back)");
	return 0;
}

/* ---- Construction ------------------------------------------------------ */

static int parse_mode(struct ubt_target *t, struct ubt_args *args, enum cache_mode *mode)
{
	const char *s = ubt_args_str(args, "mode");

	*mode = CACHE_WRITEBACK;
	if (!s || !strcmp(s, "writeback"))
		return 0;
	if (!strcmp(s, "writethrough"))
		*mode = CACHE_WRITETHROUGH;
	else if (!strcmp(s, "passthrough"))
		*mode = CACHE_PASSTHROUGH;
	else
		return ubt_target_error(t, EINVAL, "mode=%s: want writeback, writethrough or "
					"passthrough", s);
	return 0;
}

static int cache_parse_options(struct ubt_target *t, struct ubt_args *args, struct cache *c,
			 bool *cleaner)
{
	uint64_t block = CACHE_DEFAULT_BLOCK, threshold = CACHE_DEFAULT_THRESHOLD << 9;
	const char *policy = ubt_args_str(args, "policy");
	int ret;

	unsigned int i;

	c->discard_passdown = !ubt_args_flag(args, "no_discard_passdown");
	c->metadata2 = ubt_args_flag(args, "metadata2");
	for (i = 0; i < ubt_args_positional(args); i++)
		if (!ubt_args_taken(args, i))
			return ubt_target_error(t, EINVAL, "takes origin=, cache= and meta= nodes, "
						"e.g. %s", CACHE_EXAMPLE);
	ret = ubt_args_size(t, args, "block", &block);
	if (ret && ret != -ENOENT)
		return ret;
	if (block % (CACHE_MIN_BLOCK << 9) || block < (CACHE_MIN_BLOCK << 9) ||
	    block > ((uint64_t)CACHE_MAX_BLOCK << 9))
		return ubt_target_error(t, EINVAL, "block=%llu: want a multiple of 32K from 32K to "
					"1G (dm's limits)", (unsigned long long)block);
	c->block_sectors = (uint32_t)(block >> 9);
	ret = parse_mode(t, args, &c->mode);
	if (ret)
		return ret;
	*cleaner = policy && !strcmp(policy, "cleaner");
	if (policy && !*cleaner && strcmp(policy, "smq"))
		return ubt_target_error(t, EINVAL, "policy=%s: want smq or cleaner", policy);
	ret = ubt_args_size(t, args, "migration_threshold", &threshold);
	if (ret && ret != -ENOENT)
		return ret;
	if (threshold >> 9 > UINT32_MAX)
		return ubt_target_error(t, EINVAL, "migration_threshold=%llu is too large",
					(unsigned long long)threshold);
	c->migration_threshold = (uint32_t)(threshold >> 9);
	return 0;
}

static int build_children(struct ubt_target *t, struct ubt_args *args, struct cache *c)
{
	static const char *const keys[] = { "meta", "cache", "origin" };
	struct ubt_target **slot[] = { &c->mdev, &c->cdev, &c->origin };
	unsigned int i;
	int ret;

	for (i = 0; i < 3; i++) {
		ret = ubt_args_key_child(t, args, keys[i]);
		if (ret == -ENOENT)
			return ubt_target_error(t, EINVAL, "%s= is missing, e.g. %s", keys[i],
						CACHE_EXAMPLE);
		if (ret)
			return ret;
		*slot[i] = t->children[t->nr_children - 1];
	}
	return 0;
}

static int cache_alloc_state(struct cache *c)
{
	uint32_t i, buckets = 64;

	c->blocks = calloc(c->nr_cblocks, sizeof(*c->blocks));
	while (buckets < c->nr_cblocks / 4)
		buckets <<= 1;
	c->bucket_mask = buckets - 1;
	c->buckets = malloc(buckets * sizeof(*c->buckets));
	if (!c->blocks || !c->buckets)
		return -ENOMEM;
	memset(c->buckets, 0xff, buckets * sizeof(*c->buckets));
	for (i = 0; i < c->nr_cblocks; i++)
		c->blocks[i].hash_next = CACHE_NONE;
	for (i = 0; i < CACHE_STRIPES; i++)
		pthread_spin_init(&c->stripes[i].lock, PTHREAD_PROCESS_PRIVATE);
	pthread_mutex_init(&c->meta_lock, NULL);
	pthread_mutex_init(&c->policy_lock, NULL);
	pthread_mutex_init(&c->mig_lock, NULL);
	for (i = 0; i < CACHE_MIGRATIONS; i++) {
		c->migs[i].c = c;
		if (posix_memalign(&c->migs[i].buf, 4096, CACHE_STEP_BYTES))
			return -ENOMEM;
	}
	return cache_commit_init(c);
}

static void cache_dtr(struct ubt_target *t)
{
	struct cache *c = t->private;
	unsigned int i;

	if (!c)
		return;
	if (__atomic_load_n(&c->started, __ATOMIC_RELAXED))
		clean_shutdown(c);
	for (i = 0; i < CACHE_STRIPES; i++)
		pthread_spin_destroy(&c->stripes[i].lock);
	pthread_mutex_destroy(&c->meta_lock);
	pthread_mutex_destroy(&c->policy_lock);
	pthread_mutex_destroy(&c->mig_lock);
	for (i = 0; i < CACHE_MIGRATIONS; i++)
		free(c->migs[i].buf);
	cache_commit_exit(c);
	cache_policy_exit(c);
	cache_meta_exit(&c->meta);
	free(c->blocks);
	free(c->buckets);
	free(c);
	t->private = NULL;
}

static int cache_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct cache *c;
	uint64_t cache_bytes;
	bool cleaner = false;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ubt_target_error(t, ENOMEM, "out of memory");
	t->private = c;
	c->t = t;
	ret = cache_parse_options(t, args, c, &cleaner);
	if (!ret)
		ret = build_children(t, args, c);
	if (ret)
		goto fail;
	cache_bytes = c->cdev->len << 9;
	c->nr_cblocks = (uint32_t)UBT_MIN(c->cdev->len / c->block_sectors, UINT32_MAX - 1);
	if (!c->nr_cblocks) {
		ret = ubt_target_error(t, EINVAL, "Data block size is larger than the cache device "
				       "(cache= is %llu bytes, block= %u)",
				       (unsigned long long)cache_bytes, c->block_sectors << 9);
		goto fail;
	}
	c->origin_blocks = c->origin->len / c->block_sectors;
	c->meta_bytes = c->mdev->len << 9;
	if (c->meta_bytes < cache_meta_bytes(c->nr_cblocks)) {
		ret = ubt_target_error(t, EINVAL, "meta= is %llu bytes; %u cache blocks need %llu "
				       "(a larger meta=, or a larger block=)",
				       (unsigned long long)c->meta_bytes, c->nr_cblocks,
				       (unsigned long long)cache_meta_bytes(c->nr_cblocks));
		goto fail;
	}
	t->len = c->origin->len;
	ret = cache_alloc_state(c);
	if (!ret)
		ret = cache_meta_init(&c->meta, c->origin->len, c->block_sectors, c->nr_cblocks);
	if (!ret)
		ret = cache_policy_init(c, cleaner);
	if (ret) {
		ret = ubt_target_error(t, ENOMEM, "out of memory for %u cache blocks", c->nr_cblocks);
		goto fail;
	}
	ret = ubt_target_keeps_state(t);
	if (!ret)
		ret = load_metadata(c);
	if (ret)
		goto fail;
	/* What the metadata holds now is on disk. */
	c->commit.changes_done = c->meta.changes;
	/* A tag per migration, one for the commit, one for the tick. */
	t->bg_tags = CACHE_MIGRATIONS + 2;
	return 0;
fail:
	cache_dtr(t);
	return ret;
}

static void cache_io_budget(struct ubt_target *t)
{
	struct cache *c = t->private;
	/* Pieces one request can have: whole blocks, and a partial one at each end. */
	uint64_t pieces = ubt_target_max_io_bytes(t) / ((uint64_t)c->block_sectors << 9) + 2;

	/*
	 * Children are taken from the request's slots one after the other
	 * (a slot comes back only with the request): up to two per piece.
	 */
	t->max_fanout = (unsigned int)(2 * pieces);
	t->child_max_iov = t->max_iov_in;
	t->per_io_size = sizeof(struct cache_io) + 2 * (size_t)t->max_iov_in * sizeof(struct iovec);
}

static void cache_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	struct cache *c = t->private;

	/* Whole-block requests when the cache is the device. */
	if (ubt_is_power_of_2(c->block_sectors))
		lim->chunk_sectors = c->block_sectors;
	/*
	 * The kernel must send flushes whatever the children say: a FLUSH is
	 * what commits the mappings.
	 */
	lim->volatile_cache = true;
	lim->fua = true;
	lim->discard = c->discard_passdown && c->origin->limits.discard;
}

/* ---- Status and messages ----------------------------------------------- */

static const char *const mode_name[] = { "writeback", "writethrough", "passthrough" };

static int cache_status(struct ubt_target *t, char *buf, size_t len)
{
	static const char *const *mode = mode_name;
	struct cache *c = t->private;
	const char *policy = __atomic_load_n(&c->pol.cleaner, __ATOMIC_RELAXED) ? "cleaner" : "smq";
	uint32_t threshold = __atomic_load_n(&c->migration_threshold, __ATOMIC_RELAXED);
	unsigned int nfeat = 1 + !c->discard_passdown + c->metadata2;

	if (__atomic_load_n(&c->commit.failed, __ATOMIC_ACQUIRE))
		return snprintf(buf, len, "Fail");
	return snprintf(buf, len,
			"8 %llu/%llu %u %llu/%u %llu %llu %llu %llu %llu %llu %llu %u %s%s%s "
			"2 migration_threshold %u %s 0 rw -",
			(unsigned long long)(cache_meta_bytes(c->nr_cblocks) / CACHE_META_BLOCK),
			(unsigned long long)(c->meta_bytes / CACHE_META_BLOCK), c->block_sectors,
			(unsigned long long)__atomic_load_n(&c->nr_resident, __ATOMIC_RELAXED),
			c->nr_cblocks,
			(unsigned long long)__atomic_load_n(&c->stats.read_hits, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->stats.read_misses, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->stats.write_hits, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->stats.write_misses, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->stats.demotions, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->stats.promotions, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&c->nr_dirty, __ATOMIC_RELAXED), nfeat,
			c->metadata2 ? "metadata2 " : "", mode[c->mode],
			c->discard_passdown ? "" : " no_discard_passdown", threshold, policy);
}

static int cache_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct cache *c = t->private;
	uint64_t v;

	if (len)
		out[0] = '\0';
	if (argc == 2 && !strcmp(argv[0], "migration_threshold")) {
		if (ubt_parse_uint(argv[1], &v) || v > UINT32_MAX) {
			snprintf(out, len, "cache: migration_threshold %s is not a number of sectors",
				 argv[1]);
			return -EINVAL;
		}
		__atomic_store_n(&c->migration_threshold, (uint32_t)v, __ATOMIC_RELAXED);
		ubt_target_poke(t);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "cleaner")) {
		cache_policy_set_cleaner(c);
		ubt_target_poke(t);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "clear_stats")) {
		__atomic_store_n(&c->stats.read_hits, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stats.read_misses, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stats.write_hits, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stats.write_misses, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stats.demotions, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c->stats.promotions, 0, __ATOMIC_RELAXED);
		return 0;
	}
	snprintf(out, len, "cache: want migration_threshold SECTORS, cleaner or clear_stats");
	return -EINVAL;
}

/* A queue starting to serve, or a message: background work goes on. */
static void cache_poke(struct ubt_target *t, struct ubt_queue *q)
{
	struct cache *c = t->private;

	/* Serving: this process owns the metadata now, and marks it clean at the end. */
	__atomic_store_n(&c->started, true, __ATOMIC_RELAXED);
	cache_kick(c, q);
}

static void cache_queue_exit(struct ubt_target *t, struct ubt_queue *q)
{
	cache_tick_queue_exit(t->private, q);
}

/* `status --wait`: until every block is clean. */
static void cache_progress(struct ubt_target *t, uint64_t *done, uint64_t *total,
			   const char **what)
{
	struct cache *c = t->private;
	uint64_t resident = __atomic_load_n(&c->nr_resident, __ATOMIC_RELAXED);
	uint64_t dirty = __atomic_load_n(&c->nr_dirty, __ATOMIC_RELAXED);

	*total = resident;
	*done = resident - UBT_MIN(dirty, resident);
	*what = "cache blocks clean";
}

/* One of the three devices: a path that opens, or dm's "Error opening <what> device". */
static int open_device(struct ubt_table_line *l, const char *dev, const char *what, char *path,
		       size_t plen, uint64_t *bytes)
{
	struct ubt_table_line quiet = *l;
	char ignored[256];

	quiet.err = ignored;
	quiet.errlen = sizeof(ignored);
	if (ubt_table_device(&quiet, dev, path, plen) || ubt_path_bytes(path, bytes))
		return ubt_table_fail(l, "cache: Error opening %s device", what);
	return 0;
}

/* dm_read_arg_group: a count of 0..max words, no more than are left. */
static bool arg_group(char **argv, unsigned int argc, unsigned int *at, unsigned int max,
		      unsigned int *n)
{
	uint64_t v;

	if (*at >= argc || ubt_parse_uint(argv[*at], &v) || v > max || v > argc - *at - 1)
		return false;
	(*at)++;
	*n = (unsigned int)v;
	return true;
}

static bool numeric(const char *s)
{
	uint64_t v;

	return !ubt_parse_uint(s, &v);
}

/* The policy's <key> <value> pairs; migration_threshold goes into the spec. */
static bool policy_args(struct ubt_table_line *l, const char *policy, char **kv, unsigned int n)
{
	static const char *const mq_keys[] = {
		"random_threshold", "sequential_threshold", "discard_promote_adjustment",
		"read_promote_adjustment", "write_promote_adjustment",
	};
	uint64_t threshold = CACHE_DEFAULT_THRESHOLD;
	unsigned int i, k;
	bool known;

	if (n % 2)
		return false;
	for (i = 0; i < n; i += 2) {
		if (!strcasecmp(kv[i], "migration_threshold")) {
			if (ubt_parse_uint(kv[i + 1], &threshold) ||
			    threshold > (UINT64_MAX >> UBT_SECTOR_SHIFT))
				return false;
			continue;
		}
		known = false;
		for (k = 0; k < UBT_ARRAY_SIZE(mq_keys); k++)
			known |= !strcasecmp(kv[i], mq_keys[k]);
		if (!known || strcmp(policy, "mq") || !numeric(kv[i + 1]))
			return false;
	}
	if (threshold != CACHE_DEFAULT_THRESHOLD)
		ubt_table_put(l, ", migration_threshold=%llu",
			  (unsigned long long)(threshold << UBT_SECTOR_SHIFT));
	return true;
}

/*
 * Checks what dm-cache-target.c's constructor checks, in its order, with
 * its messages: the three devices must open, the block size is
 * 64..2097152 sectors in steps of 64 and no larger than the cache device,
 * feature words are matched without case, one io mode at most, the policy
 * is smq, mq, cleaner or default (mq and default are smq, as in the kernel
 * since 4.12), and its arguments are <key> <value> pairs:
 * migration_threshold for every policy, mq's five tunables (accepted and
 * ignored, as the kernel does), nothing else.  Words after the policy
 * arguments are ignored, as dm ignores them.  dm takes the cache's length
 * from the line, not from the origin: the origin becomes a window of it.
 */
static int cache_table_parse(struct ubt_table_line *l)
{
	static const char *const what[] = { "metadata", "cache", "origin" };
	char **argv = l->argv;
	unsigned int argc = l->argc;
	static const char *const modes[] = { "writeback", "writethrough", "passthrough" };
	char path[3][PATH_MAX];
	uint64_t bytes[3], bs;
	unsigned int i, k, at, nfeat, npol, nmodes = 0, mode = 0;
	bool metadata2 = false, passdown = true;
	const char *policy;

	for (i = 0; i < 3; i++) {
		if (i >= argc)
			return ubt_table_fail(l, "cache: Insufficient args");
		if (open_device(l, argv[i], what[i], path[i], sizeof(path[i]), &bytes[i]))
			return -EINVAL;
	}
	if (l->len > bytes[2] >> UBT_SECTOR_SHIFT)
		return ubt_table_fail(l, "cache: Device size larger than cached device");
	if (argc < 4)
		return ubt_table_fail(l, "cache: Insufficient args");
	if (ubt_parse_uint(argv[3], &bs) || bs < 64 || bs > 2097152 || bs % 64)
		return ubt_table_fail(l, "cache: Invalid data block size");
	if (bs > bytes[1] >> UBT_SECTOR_SHIFT)
		return ubt_table_fail(l, "cache: Data block size is larger than the cache device");
	at = 4;
	if (!arg_group(argv, argc, &at, 3, &nfeat))
		return ubt_table_fail(l, "cache: Invalid number of cache feature arguments");
	for (i = 0; i < nfeat; i++, at++) {
		for (k = 0; k < 3 && strcasecmp(argv[at], modes[k]); k++)
			;
		if (k < 3) {
			mode = k;
			nmodes++;
		} else if (!strcasecmp(argv[at], "metadata2")) {
			metadata2 = true;
		} else if (!strcasecmp(argv[at], "no_discard_passdown")) {
			passdown = false;
		} else {
			return ubt_table_fail(l, "cache: Unrecognised cache feature requested");
		}
	}
	if (nmodes > 1)
		return ubt_table_fail(l, "cache: Duplicate cache io_mode features requested");
	if (at >= argc)
		return ubt_table_fail(l, "cache: Insufficient args");
	policy = argv[at++];
	if (!arg_group(argv, argc, &at, 1024, &npol))
		return ubt_table_fail(l, "cache: Invalid number of policy arguments");
	if (strcmp(policy, "smq") && strcmp(policy, "mq") && strcmp(policy, "cleaner") &&
	    strcmp(policy, "default"))
		return ubt_table_fail(l, "cache: Error creating cache's policy");

	/* meta= and cache= are whole devices; dm takes the origin's length from the line. */
	ubt_table_put(l, "cache(meta=");
	if (ubt_table_put_whole_dev(l, path[0], "cache: Error opening metadata device"))
		return -EINVAL;
	ubt_table_put(l, ", cache=");
	if (ubt_table_put_whole_dev(l, path[1], "cache: Error opening cache device"))
		return -EINVAL;
	ubt_table_put(l, ", origin=");
	if (ubt_table_put_dev(l, path[2], "0", l->len, "cache: Error opening origin device"))
		return -EINVAL;
	ubt_table_put(l, ", block=%llu, mode=%s, policy=%s%s%s", (unsigned long long)(bs << 9),
		      modes[mode], strcmp(policy, "cleaner") ? "smq" : "cleaner",
		      passdown ? "" : ", no_discard_passdown", metadata2 ? ", metadata2" : "");
	if (!policy_args(l, policy, argv + at, npol))
		return ubt_table_fail(l, "cache: Error setting cache policy's config values");
	ubt_table_put(l, ")");
	return 0;
}

/*
 * dm's line: cache <metadata dev> <cache dev> <origin dev> <block sectors>
 * <#features> <features> <policy> <#policy args> <policy args>.  dm's
 * metadata and cache devices are whole devices; the origin may be longer
 * than the cache.
 */
static int cache_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	struct cache *c = t->private;
	const char *policy = __atomic_load_n(&c->pol.cleaner, __ATOMIC_RELAXED) ? "cleaner" : "smq";
	uint32_t threshold = __atomic_load_n(&c->migration_threshold, __ATOMIC_RELAXED);
	unsigned int nfeat = 1 + !c->discard_passdown + c->metadata2;
	const char *path;
	uint64_t sector;

	ubt_table_printf(o, "cache");
	if (ubt_table_print_whole_dev(o, c->mdev, "metadata") ||
	    ubt_table_print_whole_dev(o, c->cdev, "cache device"))
		return -EINVAL;
	if (ubt_table_need_dm_device(o, c->origin, &path, &sector, "cache: its origin cannot be "
				     "written as a dm device (a file or device from its start)"))
		return -EINVAL;
	if (sector)
		return ubt_table_print_fail(o, "cache: its origin cannot be written as a dm device "
					    "(a file or device from its start)");
	ubt_table_printf(o, " %s %u %u %s%s%s %s", path, c->block_sectors, nfeat,
			 c->metadata2 ? "metadata2 " : "", mode_name[c->mode],
			 c->discard_passdown ? "" : " no_discard_passdown", policy);
	if (threshold != CACHE_DEFAULT_THRESHOLD)
		ubt_table_printf(o, " 2 migration_threshold %u", threshold);
	else
		ubt_table_printf(o, " 0");
	return 0;
}

static const char *const cache_dm_names[] = { "cache", NULL };

static struct ubt_target_type cache_target = {
	.name = "cache",
	.version = { 1, 0, 0 },
	.usage = "cache(origin=NODE, cache=NODE, meta=NODE, block=SIZE, "
		 "mode=writeback|writethrough|passthrough, policy=smq|cleaner, "
		 "migration_threshold=SIZE, no_discard_passdown, metadata2)",
	.ctr = cache_ctr,
	.dtr = cache_dtr,
	.map = cache_map,
	.end_io = cache_end_io,
	.io_budget = cache_io_budget,
	.io_hints = cache_io_hints,
	.status = cache_status,
	.status_usage =
		"dm-cache's fields in its order: <metadata block size> <used>/<total\n"
		"metadata blocks> <block size> <used>/<total cache blocks> <read hits>\n"
		"<read misses> <write hits> <write misses> <demotions> <promotions> <dirty>\n"
		"<#features> <features> 2 migration_threshold <sectors> <policy> 0 rw -,\n"
		"or Fail once a metadata commit failed",
	.message = cache_message,
	.message_usage =
		"migration_threshold SECTORS  copying in flight at once\n"
		"cleaner                      write every dirty block back, promote nothing\n"
		"clear_stats                  zero the hit, miss and migration counters\n",
	.poke = cache_poke,
	.queue_exit = cache_queue_exit,
	.progress = cache_progress,
	.dm_names = cache_dm_names,
	.table_parse = cache_table_parse,
	.table_print = cache_table_print,
};
UBT_TARGET_REGISTER(cache_target)
