// SPDX-License-Identifier: MIT
/*
 * Functional tests of the cache through the in-process frontend, with a
 * cache far smaller than the working set so promotions, demotions and
 * writebacks happen all the time: every read equals the model in every
 * mode; writethrough leaves nothing dirty; after `cleaner` the origin
 * equals the model; a restart maps what was cached; and crashes through
 * `volatile` at hundreds of points never lose a write a completed FLUSH
 * covered, nor show data that was never written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include "func_util.h"
#include "ubt/target.h"

#define ORIGIN_BYTES	(16ULL << 20)
#define CACHE_BYTES	(1ULL << 20)	/* 32 blocks of 32K */
#define META_BYTES	(64ULL << 10)

static char err[512];

struct files {
	char *origin, *cache, *meta;
};

static struct files make_files(const char *tag, uint8_t **origin_content)
{
	struct files f;
	char name[64];

	snprintf(name, sizeof(name), "c-%s-o.img", tag);
	*origin_content = func_random_file(name, ORIGIN_BYTES, &f.origin);
	snprintf(name, sizeof(name), "c-%s-c.img", tag);
	f.cache = func_make_file(name, CACHE_BYTES);
	snprintf(name, sizeof(name), "c-%s-m.img", tag);
	f.meta = func_make_file(name, META_BYTES);
	return f;
}

static void remove_files(struct files *f)
{
	unlink(f->origin);
	unlink(f->cache);
	unlink(f->meta);
	free(f->origin);
	free(f->cache);
	free(f->meta);
}

/* cache(...) over the files, each child wrapped as wrap(PATH) when wrap is set. */
static struct ubt_tree *build(const struct files *f, const char *wrap, const char *opts)
{
	char spec[2048], o[600], c[600], m[600];
	struct ubt_tree *tree;

	snprintf(o, sizeof(o), wrap ? "%s(%s, name=vo)" : "%s%s", wrap ? wrap : "", f->origin);
	snprintf(c, sizeof(c), wrap ? "%s(%s, name=vc)" : "%s%s", wrap ? wrap : "", f->cache);
	snprintf(m, sizeof(m), wrap ? "%s(%s, name=vm)" : "%s%s", wrap ? wrap : "", f->meta);
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=32K%s, name=c)", o,
		 c, m, opts);
	tree = func_build(spec, 512, err, sizeof(err));
	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

/* The numbers of a cache status line (dm's order). */
struct cstatus {
	unsigned long long used, total, rh, rm, wh, wm, demotions, promotions, dirty;
};

static struct cstatus cache_status(struct ubt_tree *tree)
{
	struct cstatus s = { 0 };
	const char *st = func_status(tree, "c");

	CU_ASSERT_EQUAL(sscanf(st, "8 %*u/%*u %*u %llu/%llu %llu %llu %llu %llu %llu %llu %llu",
			       &s.used, &s.total, &s.rh, &s.rm, &s.wh, &s.wm, &s.demotions,
			       &s.promotions, &s.dirty), 9);
	return s;
}

/* Background work runs out (writebacks wait for idle ticks: up to a few seconds). */
static void settle(struct ubt_tree *tree)
{
	struct func_step none = { .op = UBT_OP_FLUSH };

	CU_ASSERT_EQUAL(func_run_steps(tree, &none, 1, NULL), 0);
}

/* The cache gone, the origin alone holds the model; the model and the files go too. */
static void origin_holds_model(struct ubt_tree *tree, uint8_t *model, struct files *f)
{
	uint8_t *now;

	ubt_tree_free(tree);
	now = func_file_content(f->origin, ORIGIN_BYTES);
	CU_ASSERT(!memcmp(now, model, ORIGIN_BYTES));
	free(now);
	free(model);
	remove_files(f);
}

/* Random reads, writes, write-zeroes and flushes over the whole origin, checked. */
static void random_io(struct ubt_tree *tree, uint8_t *model, unsigned int ops, uint64_t seed)
{
	struct workload w = { .nr_ops = ops, .pct_read = 45, .pct_write = 45, .pct_zeroes = 5,
			      .pct_flush = 5, .pct_fua = 10, .max_bytes = 96 * 1024,
			      .align = 4096, .seed = seed };

	w.model = model;
	w.bytes = ORIGIN_BYTES;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	if (w.errors)
		fprintf(stderr, "\n  %s\n", w.first_error);
}

/* Reads and a few 4K writes in the first bytes of the origin, checked. */
static void mostly_reads(struct ubt_tree *tree, uint8_t *model, uint64_t bytes, unsigned int ops,
			 uint64_t seed)
{
	struct workload w = { .nr_ops = ops, .pct_read = 97, .pct_write = 3, .max_bytes = 4096,
			      .align = 4096, .seed = seed };

	w.model = model;
	w.bytes = bytes;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
}

static void run_mode(const char *mode)
{
	uint8_t *model;
	struct ubt_tree *tree;
	struct cstatus s;
	struct files f;
	char opts[64];
	unsigned int round;

	f = make_files(mode, &model);
	snprintf(opts, sizeof(opts), ", mode=%s", mode);
	tree = build(&f, NULL, opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	/* A hot 2M (64 blocks, twice the cache) takes most of the I/O. */
	for (round = 0; round < 6; round++)
		random_io(tree, model, 1500, 100 + round);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.total, 32);
	CU_ASSERT(s.rm > 0 && s.wm > 0);
	if (strcmp(mode, "passthrough")) {
		CU_ASSERT(s.promotions > 0);
		CU_ASSERT(s.demotions > 0);
		CU_ASSERT(s.rh > 0);
	} else {
		CU_ASSERT_EQUAL(s.promotions, 0);
		CU_ASSERT_EQUAL(s.used, 0);
	}
	if (strcmp(mode, "writeback"))
		CU_ASSERT_EQUAL(s.dirty, 0);
	/* Write everything back: then the origin alone holds the model. */
	CU_ASSERT_EQUAL(func_message(tree, "c", "cleaner", err, sizeof(err)), 0);
	settle(tree);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.dirty, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(func_status(tree, "c"), " cleaner 0 rw -"));
	origin_holds_model(tree, model, &f);
}

static void test_writeback(void)
{
	run_mode("writeback");
}

static void test_writethrough(void)
{
	run_mode("writethrough");
}

static void test_passthrough(void)
{
	run_mode("passthrough");
}

static void put_file(const char *path, const uint8_t *content, uint64_t size)
{
	FILE *fp = fopen(path, "r+");

	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(fwrite(content, 1, size, fp), size);
	fclose(fp);
}

/* Every read of the device equals the model. */
static void reads_equal_model(struct ubt_tree *tree, const uint8_t *model)
{
	uint8_t *now = malloc(ORIGIN_BYTES);

	CU_ASSERT_EQUAL(model_read_device(tree, now, ORIGIN_BYTES), 0);
	CU_ASSERT(!memcmp(now, model, ORIGIN_BYTES));
	free(now);
}

/*
 * A restart over the same metadata maps what was cached.  After a clean
 * stop the dirty bits are exact (passthrough refuses while any is set);
 * after an unclean one (the files as a running cache leaves them,
 * copied before the stop) every mapped block is dirty.  Once the cleaner
 * ran and the cache stopped, passthrough starts, and the origin holds the
 * model.
 */
static void test_restart_keeps_mappings(void)
{
	uint8_t *model, *running_meta, *running_cache;
	struct ubt_tree *tree;
	struct cstatus s, before;
	struct files f;
	unsigned int round;

	f = make_files("re", &model);
	tree = build(&f, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	/* The first 1M (the cache's size): mostly reads, a few 4K writes. */
	for (round = 0; round < 3; round++)
		mostly_reads(tree, model, 1 << 20, 400, 20 + round);
	settle(tree);
	before = cache_status(tree);
	CU_ASSERT(before.dirty > 0 && before.dirty < before.used);
	running_meta = func_file_content(f.meta, META_BYTES);
	running_cache = func_file_content(f.cache, CACHE_BYTES);
	ubt_tree_free(tree);

	/* Clean stop: the same mappings, the same dirty blocks. */
	tree = build(&f, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.used, before.used);
	CU_ASSERT_EQUAL(s.dirty, before.dirty);
	CU_ASSERT_EQUAL(s.rh, before.rh);
	CU_ASSERT_EQUAL(s.wm, before.wm);
	reads_equal_model(tree, model);
	ubt_tree_free(tree);
	CU_ASSERT_PTR_NULL(build(&f, NULL, ", mode=passthrough"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot enter passthrough mode unless all blocks are "
				      "clean"));

	/*
	 * Unclean: every mapped block dirty.  (The cache's blocks go back as
	 * they were too: the reads above promoted others into them.)
	 */
	put_file(f.meta, running_meta, META_BYTES);
	put_file(f.cache, running_cache, CACHE_BYTES);
	free(running_meta);
	free(running_cache);
	tree = build(&f, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.used, before.used);
	CU_ASSERT_EQUAL(s.dirty, s.used);
	reads_equal_model(tree, model);
	ubt_tree_free(tree);

	/* Cleaned and stopped: passthrough starts, caching what it had. */
	tree = build(&f, NULL, ", policy=cleaner");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	settle(tree);
	CU_ASSERT_EQUAL(cache_status(tree).dirty, 0);
	ubt_tree_free(tree);
	tree = build(&f, NULL, ", mode=passthrough");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.used, before.used);
	CU_ASSERT_EQUAL(s.dirty, 0);
	reads_equal_model(tree, model);
	origin_holds_model(tree, model, &f);
}

/* ---- Crashes ----------------------------------------------------------- */

struct written {
	uint64_t seq, sector, nr;
};

/*
 * Writes, reads (checked) and flushes at random, then a crash of all three
 * devices at a random point, a restart over what they kept, and a check of
 * every sector: it holds what the last completed flush covered, or a write
 * that came after it; never anything else.  Round after round, so crashes
 * meet promotions, demotions, writebacks and commits at every stage.
 */
static void crash_rounds(const char *crash_words, unsigned int rounds, uint64_t seed)
{
	const uint64_t sectors = ORIGIN_BYTES / 512;
	uint64_t *flushed = calloc(sectors, sizeof(*flushed)), *latest;
	struct written *since = malloc(4096 * sizeof(*since));
	struct func_step *st = calloc(400, sizeof(*st));
	uint8_t *origin0, *buf = malloc(ORIGIN_BYTES), *rd = malloc(128 * 1024);
	unsigned int round, i, n, nsince, bad = 0;
	uint64_t seq = 1, s;
	struct ubt_tree *tree;
	struct files f;
	char words[64];

	latest = calloc(sectors, sizeof(*latest));
	f = make_files("crash", &origin0);
	/* Seq 0 is the start: stamp the whole origin as written by "write 0". */
	{
		struct func_step all = { .op = UBT_OP_WRITE, .off = 0, .len = ORIGIN_BYTES, .seq = 0 };

		func_stamp(buf, &all);
		tree = build(&f, NULL, "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		ubt_tree_free(tree);
		FILE *fp = fopen(f.origin, "r+b");

		CU_ASSERT_FATAL(fp && fwrite(buf, 1, ORIGIN_BYTES, fp) == ORIGIN_BYTES);
		fclose(fp);
	}
	for (round = 0; round < rounds && !bad; round++) {
		tree = build(&f, "volatile", "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		n = 1 + (unsigned int)(func_rand(&seed) % 300);
		nsince = 0;
		for (i = 0; i < n; i++) {
			uint64_t pick = func_rand(&seed) % 100, len, off;

			len = (1 + func_rand(&seed) % 16) * 4096;
			/* Mostly a hot 4M, so blocks get cached and evicted. */
			off = func_rand(&seed) % 4 ? func_rand(&seed) % ((4 << 20) / 4096) * 4096 :
						     func_rand(&seed) % ((ORIGIN_BYTES - len) / 4096) * 4096;
			if (off + len > ORIGIN_BYTES)
				off = ORIGIN_BYTES - len;
			st[i] = (struct func_step){ .off = off, .len = len };
			if (pick < 45) {
				st[i].op = UBT_OP_READ;
				st[i].read_into = NULL;
			} else if (pick < 92) {
				st[i].op = UBT_OP_WRITE;
				st[i].seq = seq++;
				st[i].flags = pick < 50 ? UBT_IO_FUA : 0;
			} else {
				st[i].op = UBT_OP_FLUSH;
				st[i].off = st[i].len = 0;
			}
		}
		/* Run them one by one, keeping the books. */
		for (i = 0; i < n; i++) {
			if (st[i].op == UBT_OP_READ)
				st[i].read_into = rd;
			CU_ASSERT_EQUAL(func_run_steps(tree, &st[i], 1, func_stamp), 0);
			if (st[i].op == UBT_OP_WRITE) {
				for (s = st[i].off / 512; s < (st[i].off + st[i].len) / 512; s++)
					latest[s] = st[i].seq;
				if (st[i].flags & UBT_IO_FUA)
					for (s = st[i].off / 512; s < (st[i].off + st[i].len) / 512; s++)
						flushed[s] = st[i].seq;
				if (nsince < 4096)
					since[nsince++] = (struct written){ st[i].seq, st[i].off / 512,
									   st[i].len / 512 };
			} else if (st[i].op == UBT_OP_FLUSH) {
				memcpy(flushed, latest, sectors * sizeof(*flushed));
				nsince = 0;
			} else {
				for (s = 0; s < st[i].len / 512; s++)
					if (func_stamped_seq(rd + s * 512, st[i].off / 512 + s) !=
					    (int64_t)latest[st[i].off / 512 + s])
						bad++;
			}
		}
		if (bad)
			fprintf(stderr, "\n  round %u: a read did not see the latest write\n", round);
		/* Crash every device at once, as a power cut would. */
		if (strchr(crash_words, '%'))
			snprintf(words, sizeof(words), crash_words, (unsigned long long)func_rand(&seed));
		else
			snprintf(words, sizeof(words), "%s", crash_words);
		CU_ASSERT_EQUAL(func_message(tree, "vo", words, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(func_message(tree, "vc", words, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(func_message(tree, "vm", words, err, sizeof(err)), 0);
		func_run_steps(tree, NULL, 0, func_stamp);	/* the crash is written */
		ubt_tree_free(tree);
		/* Up again over what survived: read everything back. */
		tree = build(&f, NULL, "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		CU_ASSERT_EQUAL(model_read_device(tree, buf, ORIGIN_BYTES), 0);
		for (s = 0; s < sectors; s++) {
			int64_t got = func_stamped_seq(buf + s * 512, s);
			bool ok = got >= 0 && (uint64_t)got == flushed[s];

			for (i = 0; i < nsince && !ok; i++)
				ok = got >= 0 && (uint64_t)got == since[i].seq && since[i].sector <= s &&
				     s < since[i].sector + since[i].nr && (uint64_t)got > flushed[s];
			if (!ok && bad++ < 5)
				fprintf(stderr, "\n  round %u: sector %llu holds write %lld; flushed %llu\n",
					round, (unsigned long long)s, (long long)got,
					(unsigned long long)flushed[s]);
			/* What is there now is the truth from here on. */
			if (got >= 0)
				flushed[s] = latest[s] = (uint64_t)got;
		}
		ubt_tree_free(tree);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(flushed);
	free(latest);
	free(since);
	free(st);
	free(origin0);
	free(buf);
	free(rd);
	remove_files(&f);
}

static void test_crash_all_unflushed_lost(void)
{
	crash_rounds("crash all", 120, 1);
}

static void test_crash_random_subsets(void)
{
	crash_rounds("crash random %llu", 120, 2);
}

static void test_crash_torn_writes(void)
{
	crash_rounds("crash torn %llu", 60, 3);
}

/* ---- dm's promotion rules ---------------------------------------------- */

static void fill_byte(uint8_t *buf, const struct func_step *s)
{
	memset(buf, s->fill, s->len);
}

/*
 * 100 whole-block writes to blocks never cached, on a fresh cache of 128
 * blocks, then reads of them: the counters as dm's would move (the
 * kernel's own test suite checks these), and the data right.
 */
static void whole_block_writes(const char *opts, const struct cstatus *want)
{
	static struct func_step steps[200];
	uint8_t *model, *bufs = malloc(100 * 32768);
	struct ubt_tree *tree;
	struct cstatus s;
	struct files f;
	unsigned int i;

	f = make_files("wb", &model);
	CU_ASSERT_EQUAL_FATAL(truncate(f.cache, 128 * 32768), 0);
	tree = build(&f, NULL, opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 100; i++) {
		steps[i] = (struct func_step){ .op = UBT_OP_WRITE, .off = 2ull * i * 32768,
					       .len = 32768, .fill = (uint8_t)(i + 1) };
		steps[100 + i] = (struct func_step){ .op = UBT_OP_READ, .off = 2ull * i * 32768,
						     .len = 32768, .read_into = bufs + i * 32768 };
	}
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 200, fill_byte), 0);
	for (i = 0; i < 100; i++) {
		memset(model + 2ull * i * 32768, i + 1, 32768);
		CU_ASSERT(!memcmp(bufs + i * 32768, model + 2ull * i * 32768, 32768));
	}
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.used, want->used);
	CU_ASSERT_EQUAL(s.promotions, want->promotions);
	CU_ASSERT_EQUAL(s.demotions, 0);
	CU_ASSERT_EQUAL(s.dirty, want->dirty);
	CU_ASSERT_EQUAL(s.wm, want->wm);
	CU_ASSERT_EQUAL(s.wh, 0);
	CU_ASSERT_EQUAL(s.rh, want->rh);
	CU_ASSERT_EQUAL(s.rm, want->rm);
	if (s.promotions != want->promotions || s.used != want->used)
		fprintf(stderr, "\n  %s: %s\n", opts, func_status(tree, "c"));
	free(bufs);
	CU_ASSERT_EQUAL(func_message(tree, "c", "cleaner", err, sizeof(err)), 0);
	settle(tree);
	origin_holds_model(tree, model, &f);
}

/*
 * writeback: 100 promotions that read nothing (residency = promotions,
 * no write miss), then 100 read hits; passthrough and the cleaner promote
 * nothing: 100 write misses, then 100 read misses.
 */
static void test_whole_block_writes_promote_like_dm(void)
{
	const struct cstatus writeback = { .used = 100, .promotions = 100, .dirty = 100, .rh = 100 };
	const struct cstatus none = { .wm = 100, .rm = 100 };

	whole_block_writes("", &writeback);
	whole_block_writes(", mode=passthrough", &none);
	whole_block_writes(", policy=cleaner", &none);
}

/* ---- What stays --------------------------------------------------------- */

/* Reads of 4K at the start of blocks first..first+n-1 (32K blocks), each `times` times. */
static unsigned int block_reads(struct func_step *steps, unsigned int first, unsigned int n,
				unsigned int times)
{
	unsigned int i, k = 0;

	while (times--)
		for (i = 0; i < n; i++)
			steps[k++] = (struct func_step){ .op = UBT_OP_READ,
							 .off = (uint64_t)(first + i) * 32768,
							 .len = 4096 };
	return k;
}

/*
 * A full cache of blocks in use: rounds of a read of every cached block,
 * then misses to cold blocks, each missed twice (so their hotspots qualify
 * and climb their own queue).  No block in use may leave for them: every
 * read of a cached block stays a hit and nothing is demoted.  (On level
 * alone, the clean queue's lowest block, in use or not, gave way.)
 */
static void test_blocks_in_use_stay_under_cold_misses(void)
{
	enum { ROUNDS = 40, COLD = 8 };
	static struct func_step steps[64];
	struct cstatus before, after;
	struct ubt_tree *tree;
	struct files f;
	uint8_t *model;
	unsigned int r, n;

	f = make_files("stay", &model);
	tree = build(&f, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	/* Blocks 0..31 fill the cache (a hotspot's first miss promotes nothing: two passes). */
	for (r = 0; r < 2; r++) {
		n = block_reads(steps, 0, 32, 1);
		CU_ASSERT_EQUAL(func_run_steps(tree, steps, n, NULL), 0);
		settle(tree);
	}
	before = cache_status(tree);
	CU_ASSERT_EQUAL_FATAL(before.used, 32);
	for (r = 0; r < ROUNDS; r++) {
		n = block_reads(steps, 0, 32, 1);
		n += block_reads(steps + n, 256 + (r % 16) * COLD, COLD, 2);
		CU_ASSERT_EQUAL(func_run_steps(tree, steps, n, NULL), 0);
	}
	settle(tree);
	after = cache_status(tree);
	CU_ASSERT_EQUAL(after.rh - before.rh, ROUNDS * 32);
	CU_ASSERT_EQUAL(after.demotions, 0);
	CU_ASSERT_EQUAL(after.used, 32);
	if (after.demotions || after.rh - before.rh != ROUNDS * 32)
		fprintf(stderr, "\n  %s\n", func_status(tree, "c"));
	ubt_tree_free(tree);
	free(model);
	remove_files(&f);
}

/*
 * A writethrough write hit that reaches only one of the block's two
 * copies: the copies differ, and the origin is the one to believe.  The
 * block leaves the cache (the next read is a miss, served by the origin):
 * nothing ever reads the other copy, after a restart neither.
 * cache_fails: the write fails on the cache (the client gets success: the
 * origin holds it); else on the origin (the client gets the error, and
 * reads keep the old data).  The failing node fails the write in its own
 * map, so the first child ends before the second is sent: the piece must
 * still end once, or its use of the block is given back twice and the
 * block is never freed (used would not come back to 32).  Flushes go
 * around the failing node (delay's flush_to), as to a disk with one bad
 * sector: a device that fails its flushes fails the cache's commits.
 */
static void one_copy_fails(bool cache_fails)
{
	static struct func_step steps[64];
	struct ubt_tree *tree;
	struct cstatus st;
	struct files f;
	uint8_t *model, want[4096], got[4096];
	char spec[2048];
	const char *node = cache_fails ? "fc" : "fo";
	unsigned int r, n;
	uint8_t *now;

	f = make_files(cache_fails ? "wtc" : "wto", &model);
	snprintf(spec, sizeof(spec), "cache(origin=delay(flakey(%s, up=3600, down=1, name=fo), "
		 "flush_to=null(size=16M)), cache=delay(flakey(%s, up=3600, down=1, name=fc), "
		 "flush_to=null(size=16M)), meta=%s, block=32K, mode=writethrough, name=c)",
		 f.origin, f.cache, f.meta);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (r = 0; r < 2; r++) {
		n = block_reads(steps, 0, 32, 1);
		CU_ASSERT_EQUAL(func_run_steps(tree, steps, n, NULL), 0);
		settle(tree);
	}
	CU_ASSERT_EQUAL_FATAL(cache_status(tree).used, 32);
	/* Writes fail there; reads still work (the stale copy could be read). */
	CU_ASSERT_EQUAL(func_message(tree, node, "features error_writes", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, node, "down", err, sizeof(err)), 0);
	steps[0] = (struct func_step){ .op = UBT_OP_WRITE, .off = 0, .len = 4096, .fill = 0x5a };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, fill_byte), cache_fails ? 0 : -EIO);
	CU_ASSERT_EQUAL(func_message(tree, node, "up", err, sizeof(err)), 0);
	st = cache_status(tree);
	CU_ASSERT_EQUAL(st.used, 31);
	if (cache_fails)
		memset(want, 0x5a, sizeof(want));
	else
		memcpy(want, model, sizeof(want));
	/* A miss, served by the origin. */
	steps[0] = (struct func_step){ .op = UBT_OP_READ, .off = 0, .len = 4096, .read_into = got };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, NULL), 0);
	CU_ASSERT(!memcmp(got, want, sizeof(want)));
	CU_ASSERT_EQUAL(cache_status(tree).rm, st.rm + 1);
	/*
	 * The hot block comes back, copied from the origin, into its old
	 * cache block, free again once the unmapping was committed (else a
	 * promotion would have had to push another block out).
	 */
	settle(tree);
	st = cache_status(tree);
	CU_ASSERT_EQUAL(st.used, 32);
	CU_ASSERT_EQUAL(st.demotions, 0);
	memset(got, 0, sizeof(got));
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, NULL), 0);
	CU_ASSERT(!memcmp(got, want, sizeof(want)));
	CU_ASSERT_EQUAL(cache_status(tree).rh, st.rh + 1);
	/* And after a restart. */
	ubt_tree_free(tree);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	memset(got, 0, sizeof(got));
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, NULL), 0);
	CU_ASSERT(!memcmp(got, want, sizeof(want)));
	ubt_tree_free(tree);
	now = func_file_content(f.origin, 4096);
	CU_ASSERT(!memcmp(now, want, sizeof(want)));
	free(now);
	free(model);
	remove_files(&f);
}

static void test_writethrough_write_failing_on_the_cache(void)
{
	one_copy_fails(true);
}

static void test_writethrough_write_failing_on_the_origin(void)
{
	one_copy_fails(false);
}

/* ---- Warm-up ----------------------------------------------------------- */

/*
 * A write miss that earns its block's promotion (the second miss) is in
 * flight when the promotion would start, so the copy must wait for it,
 * not be dropped: once settled, the block is cached and a read of it is a
 * hit that returns the write.  (A cache of 8 blocks: too small for a
 * hotspot to be brought in whole, which would hide the drop.)
 */
static void test_write_miss_promotion_waits_for_the_write(void)
{
	static struct func_step steps[2];
	static uint8_t got[32768];
	uint8_t *model;
	struct ubt_tree *tree;
	struct cstatus st;
	struct files f;

	f = make_files("wmp", &model);
	CU_ASSERT_EQUAL_FATAL(truncate(f.cache, 8 * 32768), 0);
	tree = build(&f, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	steps[0] = (struct func_step){ .op = UBT_OP_WRITE, .off = 0, .len = 4096, .fill = 0xa1 };
	steps[1] = (struct func_step){ .op = UBT_OP_WRITE, .off = 0, .len = 4096, .fill = 0xa2 };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 2, fill_byte), 0);
	memset(model, 0xa2, 4096);
	settle(tree);
	steps[0] = (struct func_step){ .op = UBT_OP_READ, .off = 0, .len = 32768, .read_into = got };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, NULL), 0);
	st = cache_status(tree);
	CU_ASSERT_EQUAL(st.wm, 2);
	CU_ASSERT_EQUAL(st.promotions, 1);
	CU_ASSERT_EQUAL(st.rh, 1);
	if (st.promotions != 1 || st.rh != 1)
		fprintf(stderr, "\n  %s\n", func_status(tree, "c"));
	CU_ASSERT(!memcmp(got, model, sizeof(got)));
	origin_holds_model(tree, model, &f);
}

/*
 * A cold cache misses everywhere, so the policy's hotspot entries are
 * recycled faster than a hotspot misses twice: a miss, then misses in
 * 1100 other hotspots (more than the 1024 entries), then the same block
 * again must still promote it (the filter of this tick's misses remembers
 * it).  The cache having room, the whole hotspot (16 blocks) comes in with
 * it: the next read of a neighbour is a hit that reads what the origin
 * holds.
 */
static void test_second_miss_promotes_after_many_others(void)
{
	enum { OTHERS = 1100, HOTSPOT = 16 * 32768 };
	static struct func_step steps[OTHERS + 3];
	static uint8_t got[2][4096], first[HOTSPOT];
	char *o = func_make_file("c-warm-o.img", 2ULL << 30);
	char *c = func_make_file("c-warm-c.img", 2048 * 32768);	/* 2048 blocks, free */
	char *m = func_make_file("c-warm-m.img", 1 << 20), spec[2048];
	struct ubt_tree *tree;
	struct cstatus s;
	uint64_t seed = 7;
	unsigned int i;
	int fd;

	for (i = 0; i < HOTSPOT; i++)
		first[i] = (uint8_t)func_rand(&seed);
	fd = open(o, O_WRONLY);
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, first, HOTSPOT, 0), HOTSPOT);
	close(fd);

	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=32K, name=c)", o, c, m);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	steps[0] = (struct func_step){ .op = UBT_OP_READ, .off = 0, .len = 4096 };
	for (i = 1; i <= OTHERS; i++)
		steps[i] = (struct func_step){ .op = UBT_OP_READ, .off = (uint64_t)i * HOTSPOT,
					       .len = 4096 };
	steps[OTHERS + 1] = (struct func_step){ .op = UBT_OP_READ, .off = 4096, .len = 4096,
						.read_into = got[0] };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, OTHERS + 2, NULL), 0);
	settle(tree);
	steps[0] = (struct func_step){ .op = UBT_OP_READ, .off = 5 * 32768 + 8192, .len = 4096,
				       .read_into = got[1] };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 1, NULL), 0);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.rm, OTHERS + 2);
	CU_ASSERT_EQUAL(s.promotions, 16);
	CU_ASSERT_EQUAL(s.used, 16);
	CU_ASSERT_EQUAL(s.rh, 1);
	if (s.promotions != 16 || s.rh != 1)
		fprintf(stderr, "\n  %s\n", func_status(tree, "c"));
	CU_ASSERT(!memcmp(got[0], first + 4096, 4096));
	CU_ASSERT(!memcmp(got[1], first + 5 * 32768 + 8192, 4096));
	ubt_tree_free(tree);
	remove_files(&(struct files){ .origin = o, .cache = c, .meta = m });
}

static void refused(const char *spec, const char *want)
{
	struct ubt_tree *tree = func_build(spec, 512, err, sizeof(err));

	CU_ASSERT_PTR_NULL(tree);
	if (tree)
		ubt_tree_free(tree);
	if (!strstr(err, want))
		fprintf(stderr, "\n  %s: got '%s', want '%s'\n", spec, err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_bad_arguments(void)
{
	char *o = func_make_file("c-bad-o.img", 4 << 20), *c = func_make_file("c-bad-c.img", 1 << 20);
	char *m = func_make_file("c-bad-m.img", 8192), spec[2048];

	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s)", o, c);
	refused(spec, "meta= is missing");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s)", o, c, m);
	refused(spec, "meta= is 8192 bytes; 16 cache blocks need 16384");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=48K)", o, c, m);
	refused(spec, "block=49152: want a multiple of 32K from 32K to 1G");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, mode=fast)", o, c, m);
	refused(spec, "mode=fast: want writeback, writethrough or passthrough");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, policy=mq)", o, c, m);
	refused(spec, "policy=mq: want smq or cleaner");
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=2M)", o, c, m);
	refused(spec, "Data block size is larger than the cache device (cache= is 1048576 bytes, "
		"block= 2097152)");
	snprintf(spec, sizeof(spec), "cache(%s, origin=%s, cache=%s, meta=%s)", o, o, c, m);
	refused(spec, "takes origin=, cache= and meta= nodes");
	remove_files(&(struct files){ .origin = o, .cache = c, .meta = m });
}

/*
 * meta= may be any node: the constructor reads it, and the clean stop
 * writes it, by I/O on the node outside the queues.  On a mirror of two
 * files, both hold the mappings, and a restart finds them.
 */
static void test_metadata_on_a_mirror(void)
{
	uint8_t *model, *m1, *m2;
	struct files f = make_files("mm", &model);
	char *leg = func_make_file("c-mm-leg.img", META_BYTES), spec[2048];
	struct ubt_tree *tree;
	struct cstatus before, s;

	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=mirror(%s, %s, region=16K), "
		 "block=32K, name=c)", f.origin, f.cache, f.meta, leg);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	mostly_reads(tree, model, 1 << 20, 400, 5);
	settle(tree);
	before = cache_status(tree);
	CU_ASSERT(before.used > 0);
	ubt_tree_free(tree);
	m1 = func_file_content(f.meta, META_BYTES);
	m2 = func_file_content(leg, META_BYTES);
	CU_ASSERT(!memcmp(m1, m2, META_BYTES));
	free(m1);
	free(m2);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	s = cache_status(tree);
	CU_ASSERT_EQUAL(s.used, before.used);
	CU_ASSERT_EQUAL(s.dirty, before.dirty);
	reads_equal_model(tree, model);
	ubt_tree_free(tree);
	unlink(leg);
	free(leg);
	free(model);
	remove_files(&f);
}

/*
 * A reload cannot build a cache over the running cache's files: it would
 * load metadata that the running one keeps writing.  A stack without the
 * cache over the same origin is fine.
 */
static void test_successor_refuses_a_running_cache(void)
{
	uint8_t *content;
	struct files f = make_files("next", &content);
	struct ubt_tree *live = build(&f, NULL, ""), *next = NULL;
	char spec[2048];

	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	snprintf(spec, sizeof(spec), "cache(origin=%s, cache=%s, meta=%s, block=32K)", f.origin,
		 f.cache, f.meta);
	CU_ASSERT_EQUAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cache: node 0 would load the state that the running "
					   "stack keeps writing in the same files"));
	CU_ASSERT_PTR_NULL(next);
	snprintf(spec, sizeof(spec), "file(%s)", f.origin);
	CU_ASSERT_EQUAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), 0);
	ubt_tree_free(next);
	ubt_tree_free(live);
	free(content);
	remove_files(&f);
}

/*
 * A cache under a parent stops clean even when a sibling's file closed
 * first (the parent's children go in order): the last commit, through node
 * I/O, registers only files still open.
 */
static void test_clean_stop_after_a_sibling(void)
{
	uint8_t *content, *sb;
	struct files f = make_files("sib", &content);
	char spec[2048], *side = func_make_file("c-sib-a.img", 1 << 20);
	struct ubt_tree *tree;
	uint64_t seq[2];
	uint32_t flags;

	snprintf(spec, sizeof(spec), "concat(%s, cache(origin=%s, cache=%s, meta=%s, block=32K, "
		 "name=c))", side, f.origin, f.cache, f.meta);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	settle(tree);		/* a clean stop is made by the process whose queues ran */
	ubt_tree_free(tree);
	/* The newer of the two superblock slots (blocks 0 and 1, seq at 16): flag 1, clean. */
	sb = func_file_content(f.meta, 8192);
	memcpy(&seq[0], sb + 16, 8);		/* little-endian on the machines this runs on */
	memcpy(&seq[1], sb + 4096 + 16, 8);
	memcpy(&flags, sb + (seq[1] > seq[0] ? 4096 : 0) + 12, 4);
	CU_ASSERT_EQUAL(flags & 1, 1);
	free(sb);
	unlink(side);
	free(side);
	free(content);
	remove_files(&f);
}

UT_MAIN("cache_inproc", UT(test_writeback), UT(test_writethrough), UT(test_passthrough),
	UT(test_writethrough_write_failing_on_the_cache), UT(test_writethrough_write_failing_on_the_origin),
	UT(test_restart_keeps_mappings), UT(test_crash_all_unflushed_lost),
	UT(test_crash_random_subsets), UT(test_crash_torn_writes),
	UT(test_whole_block_writes_promote_like_dm),
	UT(test_blocks_in_use_stay_under_cold_misses),
	UT(test_write_miss_promotion_waits_for_the_write),
	UT(test_second_miss_promotes_after_many_others), UT(test_bad_arguments), UT(test_metadata_on_a_mirror),
	UT(test_successor_refuses_a_running_cache), UT(test_clean_stop_after_a_sibling))
