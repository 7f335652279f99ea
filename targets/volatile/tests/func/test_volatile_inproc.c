// SPDX-License-Identifier: MIT
/*
 * Functional tests of volatile, the write-cache model crash tests stand
 * on: reads see every write at once; after `crash` the child holds what
 * was flushed, plus, depending on the mode, some of the later writes in
 * their order (prefix), any of them (random), or parts of them (torn);
 * FUA writes and writes the cache had to give up survive; after a crash
 * the node answers nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include "func_util.h"
#include "ubt/inproc.h"
#include "core/engine/engine.h"

#define FILE_BYTES	(4ULL << 20)

static char err[512];

static int message(struct ubt_tree *tree, const char *ref, const char *words)
{
	return func_message(tree, ref, words, err, sizeof(err));
}

/* A write's bytes: fill, fill+7, ... */
static void fill_buf(uint8_t *buf, const struct func_step *s)
{
	uint64_t i;

	for (i = 0; i < s->len; i++)
		buf[i] = (uint8_t)(s->fill + i * 7);
}

/* Run the steps at depth 1; 0, or the first error a request got. */
static int run_script(struct ubt_tree *tree, struct func_step *steps, unsigned int n)
{
	return func_run_steps(tree, steps, n, fill_buf);
}

/* What step s leaves in a model of the device. */
static void apply(uint8_t *model, const struct func_step *s)
{
	if (s->op == UBT_OP_WRITE)
		fill_buf(model + s->off, s);
	else if (s->op == UBT_OP_WRITE_ZEROES || s->op == UBT_OP_DISCARD)
		memset(model + s->off, 0, s->len);
}

/* n random writes, write-zeroes and discards (4K-aligned, up to 64K), no flush. */
static struct func_step *random_steps(unsigned int n, uint64_t seed)
{
	struct func_step *st = calloc(n, sizeof(*st));
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t pick = func_rand(&seed) % 10;

		st[i].op = pick < 8 ? UBT_OP_WRITE : pick < 9 ? UBT_OP_WRITE_ZEROES : UBT_OP_DISCARD;
		st[i].len = (1 + func_rand(&seed) % 16) * 4096;
		st[i].off = (func_rand(&seed) % ((FILE_BYTES - st[i].len) / 4096 + 1)) * 4096;
		st[i].fill = (uint8_t)func_rand(&seed);
	}
	return st;
}

/* Let a queue run with nothing to do: a crash asked for is written then. */
static void settle(struct ubt_tree *tree)
{
	CU_ASSERT_EQUAL(run_script(tree, NULL, 0), 0);
}

static struct ubt_tree *build_over(const char *path, const char *opts)
{
	char spec[1024];
	struct ubt_tree *tree;

	snprintf(spec, sizeof(spec), "volatile(%s%s, name=v)", path, opts);
	tree = func_build(spec, 512, err, sizeof(err));
	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

/*
 * Reads see every write at once (a model-checked workload); `crash` then
 * leaves the file as the last flush left it, and the node fails what
 * comes after.
 */
static void test_crash_loses_what_was_not_flushed(void)
{
	struct workload w = { .nr_ops = 300, .pct_read = 30, .pct_write = 50, .pct_discard = 10,
			      .pct_zeroes = 10, .max_bytes = 64 * 1024, .seed = 3 };
	struct func_step flush = { .op = UBT_OP_FLUSH };
	uint8_t *flushed, *now;
	struct ubt_tree *tree;
	char *path;

	w.model = func_random_file("v-all.img", FILE_BYTES, &path);
	w.bytes = FILE_BYTES;
	tree = build_over(path, ", cache=64M");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(run_script(tree, &flush, 1), 0);
	flushed = malloc(FILE_BYTES);
	memcpy(flushed, w.model, FILE_BYTES);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "v"), "0 0 1 up");
	/* More, unflushed: reads still see them. */
	w.nr_ops = 300;
	w.issued = w.completed = 0;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	CU_ASSERT_EQUAL(strncmp(func_status(tree, "v"), "0 ", 2) != 0, 1);
	CU_ASSERT_EQUAL(message(tree, "v", "crash"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "volatile: 0 of "));
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "v"), "0 0 1 crashed");
	now = func_file_content(path, FILE_BYTES);
	CU_ASSERT(!memcmp(now, flushed, FILE_BYTES));
	/* A crashed disk answers nothing; a second crash is refused. */
	CU_ASSERT_EQUAL(run_script(tree, &flush, 1), -EIO);
	CU_ASSERT_EQUAL(message(tree, "v", "crash"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "volatile: crashed already");
	ubt_tree_free(tree);
	free(flushed);
	free(now);
	free(w.model);
	unlink(path);
	free(path);
}

/*
 * Two queues writing at once (their writes wait for each other across
 * queues): reads right throughout, and the crash still leaves exactly
 * what the flush covered.
 */
static void test_two_queues_then_crash(void)
{
	struct workload w[2] = {
		{ .nr_ops = 300, .pct_read = 30, .pct_write = 60, .pct_zeroes = 10, .seed = 8 },
		{ .nr_ops = 300, .pct_read = 30, .pct_write = 60, .pct_zeroes = 10, .seed = 9 },
	};
	struct func_step flush = { .op = UBT_OP_FLUSH };
	uint8_t *model, *flushed = malloc(FILE_BYTES), *now;
	struct ubt_tree *tree;
	unsigned int i;
	char *path;

	model = func_random_file("v-2q.img", FILE_BYTES, &path);
	tree = build_over(path, ", cache=64M");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 2; i++) {
		w[i].model = model;
		w[i].start = i * FILE_BYTES / 2;
		w[i].bytes = FILE_BYTES / 2;
	}
	CU_ASSERT_EQUAL(workload_run_parallel(tree, 8, w, 2), 0);
	CU_ASSERT_EQUAL(run_script(tree, &flush, 1), 0);
	memcpy(flushed, model, FILE_BYTES);
	for (i = 0; i < 2; i++)
		w[i].issued = w[i].completed = 0;
	CU_ASSERT_EQUAL(workload_run_parallel(tree, 8, w, 2), 0);
	CU_ASSERT_EQUAL(w[0].errors + w[1].errors, 0);
	CU_ASSERT_EQUAL(message(tree, "v", "crash"), 0);
	settle(tree);
	now = func_file_content(path, FILE_BYTES);
	CU_ASSERT(!memcmp(now, flushed, FILE_BYTES));
	ubt_tree_free(tree);
	free(model);
	free(flushed);
	free(now);
	unlink(path);
	free(path);
}

/*
 * FUA writes survive a crash; so do the oldest writes once the cache is
 * full (a disk writes them back on its own): a 32K cache holds 8 writes
 * of 4K, so of 14 the first 6 stay.
 */
static void test_fua_and_written_back_writes_survive(void)
{
	struct func_step st[14];
	uint8_t *model, *now;
	struct ubt_tree *tree;
	unsigned int i;
	char *path;

	model = func_random_file("v-fua.img", FILE_BYTES, &path);
	tree = build_over(path, ", cache=32K");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 12; i++)
		st[i] = (struct func_step){ .op = UBT_OP_WRITE, .off = i * 8192, .len = 4096,
				       .fill = (uint8_t)i };
	/* One FUA write far off, one plain after it. */
	st[12] = (struct func_step){ .op = UBT_OP_WRITE, .flags = UBT_IO_FUA, .off = 1 << 20,
				.len = 4096, .fill = 99 };
	st[13] = (struct func_step){ .op = UBT_OP_WRITE, .off = 2 << 20, .len = 4096, .fill = 77 };
	CU_ASSERT_EQUAL(run_script(tree, st, 14), 0);
	/* 14 written, 6 given up to make room: 8 held, 7 of them unsafe (one FUA). */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "v"), "7 28672 0 up");
	CU_ASSERT_EQUAL(message(tree, "v", "crash all"), 0);
	settle(tree);
	for (i = 0; i < 6; i++)
		apply(model, &st[i]);
	apply(model, &st[12]);
	now = func_file_content(path, FILE_BYTES);
	CU_ASSERT(!memcmp(now, model, FILE_BYTES));
	ubt_tree_free(tree);
	free(model);
	free(now);
	unlink(path);
	free(path);
}

/* crash prefix: the file is the flushed state plus the first k later writes, for some k. */
static void test_crash_prefix_keeps_writes_in_order(void)
{
	const unsigned int n = 120;
	struct func_step *st = random_steps(n, 17);
	uint8_t *model, *now;
	struct ubt_tree *tree;
	unsigned int k;
	bool found;
	char *path;

	model = func_random_file("v-pre.img", FILE_BYTES, &path);
	tree = build_over(path, ", cache=64M");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(run_script(tree, st, n), 0);
	CU_ASSERT_EQUAL(message(tree, "v", "crash prefix 12345"), 0);
	settle(tree);
	now = func_file_content(path, FILE_BYTES);
	found = !memcmp(now, model, FILE_BYTES);
	for (k = 0; k < n && !found; k++) {
		apply(model, &st[k]);
		found = !memcmp(now, model, FILE_BYTES);
	}
	if (!found)
		fprintf(stderr, "\n  %s; no prefix matches\n", err);
	CU_ASSERT(found);
	/* The message said how many survived; the prefix is that long. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, " of 120 unsafe writes survive"));
	if (found)
		CU_ASSERT_EQUAL(strtoul(err + strlen("volatile: "), NULL, 10), k);
	ubt_tree_free(tree);
	free(st);
	free(model);
	free(now);
	unlink(path);
	free(path);
}

/*
 * crash random / torn: each 512-byte sector of the file holds what the
 * flush left or what one of the later writes covering it put there (for
 * random: whole writes, so a write either shows everywhere it is not
 * overwritten later, or nowhere).
 */
static void check_sectors_from_candidates(const char *mode, uint64_t seed)
{
	const unsigned int n = 100;
	struct func_step *st = random_steps(n, seed);
	uint8_t *base, *now, *sec = malloc(512), *cand = malloc(FILE_BYTES);
	struct ubt_tree *tree;
	unsigned int i, bad = 0, changed = 0;
	uint64_t s;
	char *path, words[64];

	base = func_random_file("v-rnd.img", FILE_BYTES, &path);
	tree = build_over(path, ", cache=64M");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(run_script(tree, st, n), 0);
	snprintf(words, sizeof(words), "crash %s %llu", mode, (unsigned long long)seed);
	CU_ASSERT_EQUAL(message(tree, "v", words), 0);
	settle(tree);
	now = func_file_content(path, FILE_BYTES);
	for (s = 0; s < FILE_BYTES / 512; s++) {
		uint64_t off = s * 512;
		bool ok = !memcmp(now + off, base + off, 512);

		changed += !ok;
		for (i = 0; i < n && !ok; i++) {
			if (st[i].off > off || st[i].off + st[i].len <= off)
				continue;
			memcpy(cand + st[i].off, base + st[i].off, st[i].len);
			apply(cand, &st[i]);
			ok = !memcmp(now + off, cand + off, 512);
		}
		bad += !ok;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(changed > 0);		/* some writes survived (seeded: not by luck) */
	ubt_tree_free(tree);
	free(st);
	free(base);
	free(now);
	free(sec);
	free(cand);
	unlink(path);
	free(path);
}

static void test_crash_random_and_torn(void)
{
	check_sectors_from_candidates("random", 5);
	check_sectors_from_candidates("torn", 6);
}

/*
 * A flush still held below the node when `crash` comes (a delay child
 * holds it 250 ms; the crash is asked for at 20 ms, while it waits): the
 * rewrite starts at once on queue 0 and restores the four writes' before
 * images one per 100 ms (120, 220, 320, 420 ms).  The flush comes back at
 * 250 ms, after the crash: it must not make the logged writes safe under
 * the running rewrite (it used to drop them from the log, which ended the
 * rewrite early and left the oldest write on the file).
 */
static void test_flush_in_flight_when_crash_comes(void)
{
	struct func_step st[5];
	struct func_later m = { .ref = "v", .words = "crash" };
	struct ubt_tree *tree;
	uint8_t *base, *now;
	char spec[1024], *path;
	unsigned int i;
	int fret;

	base = func_random_file("v-fl.img", FILE_BYTES, &path);
	snprintf(spec, sizeof(spec), "volatile(delay(%s, read=0, write=100, flush=250, name=d), "
		 "cache=1M, name=v)", path);
	tree = func_build(spec, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 4; i++)
		st[i] = (struct func_step){ .op = UBT_OP_WRITE, .off = i * 65536, .len = 4096,
				       .fill = (uint8_t)(i + 1) };
	st[4] = (struct func_step){ .op = UBT_OP_FLUSH };
	CU_ASSERT_EQUAL(run_script(tree, st, 4), 0);
	m.tree = tree;
	func_message_later(&m);
	fret = run_script(tree, &st[4], 1);
	func_message_join(&m);
	CU_ASSERT_EQUAL(m.ret, 0);
	CU_ASSERT(m.during_io);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "v"), "0 0 0 crashed");
	now = func_file_content(path, FILE_BYTES);
	/* The flush did not finish before the crash: none of the four is safe. */
	for (i = 0; i < 4; i++)
		if (memcmp(now + i * 65536, base + i * 65536, 4096))
			fprintf(stderr, "\n  write %u survived the crash (flush result %d)\n", i,
				fret);
	CU_ASSERT(!memcmp(now, base, FILE_BYTES));
	CU_ASSERT_EQUAL(fret, -EIO);	/* a crashed disk answers nothing */
	ubt_tree_free(tree);
	free(base);
	free(now);
	unlink(path);
	free(path);
}

static void test_bad_arguments(void)
{
	struct ubt_tree *tree;
	char *path = func_make_file("v-bad.img", FILE_BYTES);

	CU_ASSERT_PTR_NULL(build_over(path, ", cache=1K"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cache=1024: want 4K to 4G"));
	tree = build_over(path, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(message(tree, "v", "crash sideways 1"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "volatile: want crash [all], or crash prefix|random|torn SEED");
	CU_ASSERT_EQUAL(message(tree, "v", "crash random"), -EINVAL);
	CU_ASSERT_EQUAL(message(tree, "v", "explode"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "v"), "0 0 0 up");
	ubt_tree_free(tree);
	unlink(path);
	free(path);
}

UT_MAIN("volatile_inproc", UT(test_crash_loses_what_was_not_flushed), UT(test_two_queues_then_crash),
	UT(test_fua_and_written_back_writes_survive), UT(test_crash_prefix_keeps_writes_in_order),
	UT(test_crash_random_and_torn), UT(test_flush_in_flight_when_crash_comes),
	UT(test_bad_arguments))
