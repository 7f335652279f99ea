// SPDX-License-Identifier: MIT
/*
 * Functional tests of the mirror through the in-process frontend: every
 * leg ends up holding what the model says the device holds, reads stay
 * right while legs fail and flap, out-of-sync regions are copied from the
 * default leg, and a read error is repaired from another leg.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ut.h"
#include "func_util.h"
#include "ubt/inproc.h"

#define LEG_BYTES	(8ULL << 20)

static char err[512];

static struct ubt_tree *build(const char *spec)
{
	struct ubt_tree *tree = func_build(spec, 512, err, sizeof(err));

	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

static int message(struct ubt_tree *tree, const char *ref, const char *words)
{
	return func_message(tree, ref, words, err, sizeof(err));
}

/* The test's files go, and their paths. */
static void remove_files(char **p, unsigned int n)
{
	while (n--) {
		unlink(p[n]);
		free(p[n]);
	}
}

/* Each path's content equals the model (the first LEG_BYTES bytes). */
static void legs_equal(const uint8_t *model, char **paths, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *now = func_file_content(paths[i], LEG_BYTES);

		if (memcmp(now, model, LEG_BYTES))
			fprintf(stderr, "\n  leg %u (%s) differs from the model\n", i, paths[i]);
		CU_ASSERT(!memcmp(now, model, LEG_BYTES));
		free(now);
	}
}

/* Let the background copies finish: a run with no requests ends when they do. */
static void settle(struct ubt_tree *tree)
{
	struct workload w = { .nr_ops = 0, .bytes = LEG_BYTES };

	w.model = calloc(1, LEG_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 4, &w), 0);
	free(w.model);
}

static void test_writes_reach_every_leg(void)
{
	struct workload w = { .nr_ops = 3000, .pct_read = 40, .pct_write = 40, .pct_flush = 5,
			      .pct_discard = 5, .pct_zeroes = 10, .pct_fua = 20, .seed = 7 };
	char *p[3], spec[1024];
	struct ubt_tree *tree;

	p[0] = func_make_file("m-w0.img", LEG_BYTES);
	p[1] = func_make_file("m-w1.img", LEG_BYTES);
	p[2] = func_make_file("m-w2.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, %s, region=64K, nosync)", p[0], p[1], p[2]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "3 file:1 file:2 file:3 128/128 1 AAA 1 core");
	w.bytes = LEG_BYTES;
	w.model = calloc(1, LEG_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	CU_ASSERT(w.by_op[1] > 0 && w.by_op[3] > 0 && w.by_op[5] > 0);
	legs_equal(w.model, p, 3);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "3 file:1 file:2 file:3 128/128 1 AAA 1 core");
	ubt_tree_free(tree);
	free(w.model);
	remove_files(p, 3);
}

/*
 * A core log knows nothing at start: every region is out of sync, reads
 * come from the default leg, and the background copy makes the other
 * legs equal to it while writes go on.
 */
static void test_start_copies_the_default_leg(void)
{
	struct workload w = { .nr_ops = 2000, .pct_read = 50, .pct_write = 50, .seed = 9 };
	char *p[2], spec[1024];
	struct ubt_tree *tree;

	w.model = func_random_file("m-s0.img", LEG_BYTES, &p[0]);
	p[1] = func_make_file("m-s1.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=64K)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 0/128 1 AA 1 core");
	w.bytes = LEG_BYTES;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 128/128 1 AA 1 core");
	legs_equal(w.model, p, 2);
	ubt_tree_free(tree);
	free(w.model);
	remove_files(p, 2);
}

/* The same on two queues: a write may wait for a copy another queue runs. */
static void test_two_queues_during_the_copy(void)
{
	struct workload w[2] = {
		{ .nr_ops = 1500, .pct_read = 40, .pct_write = 60, .seed = 3 },
		{ .nr_ops = 1500, .pct_read = 40, .pct_write = 60, .seed = 4 },
	};
	char *p[2], spec[1024];
	struct ubt_tree *tree;
	uint8_t *model;

	model = func_random_file("m-q0.img", LEG_BYTES, &p[0]);
	p[1] = func_make_file("m-q1.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=32K, resync_rate=32M)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w[0].model = w[1].model = model;
	w[0].bytes = w[1].bytes = LEG_BYTES / 2;
	w[1].start = LEG_BYTES / 2;
	CU_ASSERT_EQUAL(workload_run_parallel(tree, 16, w, 2), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 256/256 1 AA 1 core");
	legs_equal(model, p, 2);
	ubt_tree_free(tree);
	free(model);
	remove_files(p, 2);
}

/* resync_rate holds the copy back: 8M at 16M/s takes at least half a second. */
static void test_resync_rate(void)
{
	struct timespec a, b;
	char *p[2], spec[1024];
	struct ubt_tree *tree;
	uint8_t *model;
	double s;

	model = func_random_file("m-r0.img", LEG_BYTES, &p[0]);
	p[1] = func_make_file("m-r1.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=1M, resync_rate=16M)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	clock_gettime(CLOCK_MONOTONIC, &a);
	settle(tree);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CU_ASSERT(s >= 0.4);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 8/8 1 AA 1 core");
	legs_equal(model, p, 2);
	ubt_tree_free(tree);
	free(model);
	remove_files(p, 2);
}

struct flapper {
	struct ubt_tree *tree;
	volatile bool stop;
};

/* Leg f goes down and up every 5 ms; after 50 ms leg e goes down for good. */
static void *flap(void *arg)
{
	struct flapper *fl = arg;
	char e[512];
	unsigned int i;

	for (i = 0; !fl->stop; i++) {
		usleep(5000);
		func_message(fl->tree, "f", i % 2 ? "up" : "down", e, sizeof(e));
		if (i == 10)
			func_message(fl->tree, "e", "down", e, sizeof(e));
	}
	func_message(fl->tree, "f", "up", e, sizeof(e));
	return NULL;
}

/*
 * Random I/O on three legs while one flaps and another fails: nothing
 * surfaces, every read equals the model; once both are back and replaced,
 * the copy makes every leg equal to the model.
 */
static void test_failing_legs_are_hidden(void)
{
	struct workload w = { .nr_ops = 4000, .pct_read = 50, .pct_write = 45, .pct_flush = 5,
			      .seed = 11 };
	char *p[3], spec[1024];
	struct flapper fl = { 0 };
	struct ubt_tree *tree;
	pthread_t th;
	const char *st;

	w.model = func_random_file("m-f0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-f1.img", LEG_BYTES, &p[1]));
	free(func_random_file("m-f2.img", LEG_BYTES, &p[2]));
	snprintf(spec, sizeof(spec),
		 "mirror(%s, flakey(%s, up=3600, down=0, name=f), flakey(%s, up=3600, down=0, "
		 "name=e), region=64K, nosync, handle_errors, read=roundrobin, name=m)",
		 p[0], p[1], p[2]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	fl.tree = tree;
	w.bytes = LEG_BYTES;
	pthread_create(&th, NULL, flap, &fl);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	fl.stop = true;
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(w.errors, 0);
	if (w.errors)
		fprintf(stderr, "\n  %s\n", w.first_error);
	st = func_status(tree, "m");
	/* Leg 0 never failed; e failed for sure; f almost surely did. */
	CU_ASSERT_EQUAL(strncmp(st, "3 file:1 flakey:2 flakey:4 ", 27), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(st, " 1 A"));
	CU_ASSERT_PTR_NULL(strstr(st, " 1 AAA"));

	/* Both back; a leg is named by position or by its node's label. */
	CU_ASSERT_EQUAL(message(tree, "e", "up"), 0);
	CU_ASSERT(message(tree, "m", "replace 1") == 0 || strstr(err, "has not failed"));
	CU_ASSERT_EQUAL(message(tree, "m", "replace e"), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "3 file:1 flakey:2 flakey:4 128/128 1 AAA 1 core");
	legs_equal(w.model, p, 3);
	ubt_tree_free(tree);
	free(w.model);
	remove_files(p, 3);
}

/*
 * A leg whose reads fail (and writes work) holds garbage behind the
 * mirror's back: reading through the mirror returns the good copy, and the
 * region is rewritten on the bad leg from it.
 */
static void test_read_repair(void)
{
	char *p[2], spec[1024];
	uint8_t *orig, *junk, *now, *model = malloc(LEG_BYTES);
	struct ubt_tree *tree;
	int fd;

	orig = func_random_file("m-rr0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-rr1.img", LEG_BYTES, &p[1]));
	/* Region 3 (1M regions) of leg 0 turns to garbage. */
	junk = malloc(1 << 20);
	memset(junk, 0x5a, 1 << 20);
	fd = open(p[0], O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0 && pwrite(fd, junk, 1 << 20, 3 << 20) == 1 << 20);
	close(fd);
	snprintf(spec, sizeof(spec),
		 "mirror(flakey(%s, up=3600, down=0, name=bad), %s, region=1M, nosync, name=m)",
		 p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(message(tree, "bad", "features error_reads"), 0);
	CU_ASSERT_EQUAL(message(tree, "bad", "down"), 0);
	CU_ASSERT_EQUAL(model_read_device(tree, model, LEG_BYTES), 0);
	CU_ASSERT(!memcmp(model, orig, LEG_BYTES));
	settle(tree);
	CU_ASSERT_EQUAL(message(tree, "bad", "up"), 0);
	now = func_file_content(p[0], LEG_BYTES);
	CU_ASSERT(!memcmp(now, orig, LEG_BYTES));
	/* Repaired, so not failed: reads may use it again. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 flakey:1 file:3 8/8 1 AA 1 core");
	ubt_tree_free(tree);
	free(orig);
	free(junk);
	free(now);
	free(model);
	remove_files(p, 2);
}

static void test_messages(void)
{
	char *p[2], spec[1024];
	struct ubt_tree *tree;

	p[0] = func_make_file("m-msg0.img", LEG_BYTES);
	p[1] = func_make_file("m-msg1.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, file(%s, name=second), region=1M, nosync)", p[0],
		 p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(message(tree, "0", "fail second"), 0);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 8/8 1 AD 1 core");
	CU_ASSERT_EQUAL(message(tree, "0", "replace 0"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: leg 0 has not failed");
	CU_ASSERT_EQUAL(message(tree, "0", "fail 2"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: no leg 2 (legs are 0 to 1, or their name= labels)");
	CU_ASSERT_EQUAL(message(tree, "0", "scrub"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: want fail LEG, replace LEG [PATH|SPEC], check or "
			       "repair");
	CU_ASSERT_EQUAL(message(tree, "0", "replace 1"), 0);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 0/8 1 AA 1 core");
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "2 file:1 file:2 8/8 1 AA 1 core");
	ubt_tree_free(tree);
	remove_files(p, 2);
}

/*
 * Hot replace: while model-checked I/O runs, leg 1 becomes a new file.
 * Nothing surfaces, reads equal the model, and once copied the new file
 * equals the model too (the old one is left as it was).
 */
static void test_replace_with_new_file_under_io(void)
{
	struct workload w = { .nr_ops = 6000, .pct_read = 50, .pct_write = 45, .pct_flush = 5,
			      .seed = 21 };
	struct func_later r = { .ref = "m" };
	char *p[3], *legs[2], spec[1024], words[600];
	struct ubt_tree *tree;

	w.model = func_random_file("m-hr0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-hr1.img", LEG_BYTES, &p[1]));
	p[2] = func_make_file("m-hr2.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=64K, nosync, read=roundrobin, name=m)",
		 p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	snprintf(words, sizeof(words), "replace 1 %s", p[2]);
	r.tree = tree;
	r.words = words;
	w.bytes = LEG_BYTES;
	func_message_later(&r);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	func_message_join(&r);
	CU_ASSERT_EQUAL(r.ret, 0);
	CU_ASSERT(r.during_io);
	if (r.ret)
		fprintf(stderr, "\n  %s\n", r.err);
	CU_ASSERT_EQUAL(w.errors, 0);
	if (w.errors)
		fprintf(stderr, "\n  %s\n", w.first_error);
	settle(tree);
	/* The new file is node 3, the next index. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:3 128/128 1 AA 1 core");
	legs[0] = p[0];
	legs[1] = p[2];
	legs_equal(w.model, legs, 2);
	/* The tree's spec is the stack that serves: what a recovery rebuilds. */
	ubt_tree_spec(tree, spec, sizeof(spec));
	snprintf(words, sizeof(words), "mirror(%s, %s, region=64K, nosync, read=roundrobin, name=m)",
		 p[0], p[2]);
	CU_ASSERT_STRING_EQUAL(spec, words);
	/* And it serves reads: the old leg's file is no longer read or written. */
	CU_ASSERT_EQUAL(message(tree, "m", "fail 0"), 0);
	w.nr_ops = 500;
	w.pct_read = 100;
	w.pct_write = w.pct_flush = 0;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	ubt_tree_free(tree);
	free(w.model);
	remove_files(p, 3);
}

/* What a replacement must be, each refused with one line and nothing changed. */
static void test_replace_refusals(void)
{
	char *p[4], spec[1024], words[600];
	struct ubt_tree *tree;

	p[0] = func_make_file("m-rf0.img", LEG_BYTES);
	p[1] = func_make_file("m-rf1.img", LEG_BYTES);
	p[2] = func_make_file("m-rf2.img", LEG_BYTES / 2);
	p[3] = func_make_file("m-rf3.img", LEG_BYTES);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=1M, name=m)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	/* Not copied yet (sync): the default leg holds the only good copy. */
	snprintf(words, sizeof(words), "replace 0 %s", p[3]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "leg 0 is the default leg and holds the only copy"));
	settle(tree);
	snprintf(words, sizeof(words), "replace 1 %s", p[2]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: replace 1: file is 4194304 bytes, smaller than the "
			       "8388608 it must hold");
	snprintf(words, sizeof(words), "replace 1 %s", p[0]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EINVAL);
	snprintf(words, sizeof(words), "mirror: replace 1: file's file %s is in use by another node "
		 "of this device", p[0]);
	CU_ASSERT_STRING_EQUAL(err, words);
	CU_ASSERT_EQUAL(message(tree, "m", "replace 1 /nonexistent/leg.img"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mirror: replace 1: file: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/leg.img"));
	/* A node that needs more per-request state than the leg had. */
	snprintf(words, sizeof(words), "replace 1 stripe(%s, %s)", p[2], p[3]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs more per-request state than the node it replaces"));
	snprintf(words, sizeof(words), "replace 1 file(%s, name=m)", p[3]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: replace 1: name=m is given to another node");
	/* The only working leg cannot go. */
	CU_ASSERT_EQUAL(message(tree, "m", "fail 1"), 0);
	snprintf(words, sizeof(words), "replace 0 %s", p[3]);
	CU_ASSERT_EQUAL(message(tree, "m", words), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: no working leg but 0 to copy the data from");
	/* Nothing changed: both legs are still there, and a good replace works. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 8/8 1 AD 1 core");
	snprintf(words, sizeof(words), "replace 1 %s", p[3]);
	CU_ASSERT_EQUAL(message(tree, "m", words), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:3 8/8 1 AA 1 core");
	ubt_tree_free(tree);
	remove_files(p, 4);
}

/*
 * A scrub: mismatches planted behind the mirror's back are counted by
 * check (which changes nothing) and removed by repair; a check after
 * finds none.
 */
static void test_check_and_repair(void)
{
	char *p[2], spec[1024];
	uint8_t *orig, *now, junk[4096];
	struct ubt_tree *tree;
	int fd;

	orig = func_random_file("m-c0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-c1.img", LEG_BYTES, &p[1]));
	/* Leg 1: 8 sectors in region 3, 1 sector in region 6 (1M regions). */
	memset(junk, 0x3c, sizeof(junk));
	fd = open(p[1], O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pwrite(fd, junk, 4096, (3 << 20) + 8192) == 4096);
	CU_ASSERT_FATAL(pwrite(fd, junk, 512, (6 << 20) + 512 * 77) == 512);
	close(fd);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=1M, nosync, name=m)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(message(tree, "m", "check"), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 8/8 1 AA 1 core check 8/8 9");
	now = func_file_content(p[1], LEG_BYTES);
	CU_ASSERT(memcmp(now, orig, LEG_BYTES));	/* check changes nothing */
	free(now);
	CU_ASSERT_EQUAL(message(tree, "m", "repair"), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 8/8 1 AA 1 core repair 8/8 9");
	now = func_file_content(p[1], LEG_BYTES);
	CU_ASSERT(!memcmp(now, orig, LEG_BYTES));
	free(now);
	CU_ASSERT_EQUAL(message(tree, "m", "check"), 0);
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 8/8 1 AA 1 core check 8/8 0");
	ubt_tree_free(tree);
	free(orig);
	remove_files(p, 2);
}

/* A disk log image for nr regions, every one clean but those in dirty[]. */
static void write_log(const char *path, uint64_t nr, const unsigned int *dirty, unsigned int n)
{
	uint8_t image[4096] = { 0x72, 0x52, 0x69, 0x4d, 2, 0, 0, 0 };
	unsigned int i;
	int fd;

	memcpy(image + 8, &nr, 8);		/* le64 on the machines this runs on */
	for (i = 0; i < nr; i++)
		image[1024 + i / 8] |= (uint8_t)(1u << (i % 8));
	for (i = 0; i < n; i++)
		image[1024 + dirty[i] / 8] &= (uint8_t)~(1u << (dirty[i] % 8));
	fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0 && pwrite(fd, image, sizeof(image), 0) == (ssize_t)sizeof(image));
	close(fd);
}

/*
 * A start with a disk log copies only the regions it records as dirty: a
 * difference planted in a clean region stays, those in dirty regions go;
 * afterwards the log records every region clean.
 */
static void test_disk_log_copies_only_dirty_regions(void)
{
	static const unsigned int dirty[] = { 2, 5 };
	char *p[2], *log, spec[1024];
	uint8_t *model, *now, *junk = malloc(512 << 10);
	struct ubt_tree *tree;
	unsigned int r;
	int fd;

	model = func_random_file("m-d0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-d1.img", LEG_BYTES, &p[1]));
	log = func_make_file("m-d.log", 1 << 20);
	write_log(log, 16, dirty, 2);
	/* Leg 1 differs in regions 2, 5 (dirty) and 7 (clean). */
	memset(junk, 0xa5, 512 << 10);
	fd = open(p[1], O_WRONLY);
	for (r = 2; r <= 7; r += r == 2 ? 3 : 2)
		CU_ASSERT_FATAL(pwrite(fd, junk, 512 << 10, (off_t)r << 19) == 512 << 10);
	close(fd);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=512K, log=%s, name=m)", p[0], p[1], log);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 14/16 1 AA 3 disk file:3 A");
	settle(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 16/16 1 AA 3 disk file:3 A");
	now = func_file_content(p[1], LEG_BYTES);
	for (r = 0; r < 16; r++)
		CU_ASSERT_EQUAL(!memcmp(now + ((size_t)r << 19), model + ((size_t)r << 19), 512 << 10),
				r != 7);
	free(now);
	ubt_tree_free(tree);
	now = func_file_content(log, 4096);
	CU_ASSERT_EQUAL(now[1024], 0xff);
	CU_ASSERT_EQUAL(now[1025], 0xff);
	CU_ASSERT_EQUAL(now[1026], 0);
	free(now);
	free(model);
	free(junk);
	remove_files(p, 2);
	remove_files(&log, 1);
}

/*
 * A reload that would load the running mirror's log is refused before it
 * writes the log: the regions the running one still records as dirty stay
 * dirty on disk (nosync would have written them clean).
 */
static void test_reload_leaves_the_running_log_alone(void)
{
	static const unsigned int dirty[] = { 2, 5 };
	struct ubt_tree *live, *next = NULL;
	char *p[2], *log, spec[1024];
	uint8_t *before, *after;

	free(func_random_file("m-r0.img", LEG_BYTES, &p[0]));
	free(func_random_file("m-r1.img", LEG_BYTES, &p[1]));
	log = func_make_file("m-r.log", 1 << 20);
	write_log(log, 16, dirty, 2);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=512K, log=%s)", p[0], p[1], log);
	live = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	before = func_file_content(log, 4096);
	CU_ASSERT_EQUAL(before[1024], 0xdb);	/* regions 2 and 5 dirty */
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=512K, log=%s, nosync)", p[0], p[1], log);
	CU_ASSERT_EQUAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NULL(next);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mirror: node 0 would load the state that the running "
					   "stack keeps writing in the same files"));
	after = func_file_content(log, 4096);
	CU_ASSERT(!memcmp(before, after, 4096));
	free(before);
	free(after);
	ubt_tree_free(live);
	remove_files(p, 2);
	remove_files(&log, 1);
}

/*
 * A log larger than the largest request (16M regions: a 2 MiB bitmap, 4
 * requests of 512K) goes to its node in pieces, each split by the node
 * like a request from the kernel: here over a stripe of 4K chunks, the
 * bitmap alternating between the two files.
 */
static void test_large_log_on_a_stripe(void)
{
	char *l[2], spec[1024];
	struct ubt_tree *tree;
	uint8_t *a, *b;

	l[0] = func_make_file("m-big-l0.log", 2 << 20);
	l[1] = func_make_file("m-big-l1.log", 2 << 20);
	snprintf(spec, sizeof(spec), "mirror(null(size=64G), null(size=64G), region=4K, nosync, "
		 "log=stripe(%s, %s, chunk=4K))", l[0], l[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	ubt_tree_free(tree);
	a = func_file_content(l[0], 2 << 20);
	b = func_file_content(l[1], 2 << 20);
	/* The header at 0 of the first file; the bitmap (all in sync) through both. */
	CU_ASSERT(a[0] == 0x72 && a[1] == 0x52 && a[2] == 0x69 && a[3] == 0x4d);
	CU_ASSERT_EQUAL(a[1024], 0xff);
	CU_ASSERT_EQUAL(b[0], 0xff);
	/* Past the first request: stripe byte 1M is file 0's byte 512K ... */
	CU_ASSERT_EQUAL(a[512 << 10], 0xff);
	/* ... and the bitmap's last byte (stripe 1K + 2M - 1) file 0's byte 1M + 1K - 1. */
	CU_ASSERT_EQUAL(a[(1 << 20) + 1023], 0xff);
	CU_ASSERT_EQUAL(a[(1 << 20) + 1024], 0);
	free(a);
	free(b);
	remove_files(l, 2);
}

/* The log image at byte off of path: dm's magic, and 16 regions recorded clean. */
static bool clean_log_at(const char *path, off_t off)
{
	uint8_t *now = func_file_content(path, (uint64_t)off + 4096);
	bool ok = now[off] == 0x72 && now[off + 1] == 0x52 && now[off + 2] == 0x69 &&
		  now[off + 3] == 0x4d && now[off + 1024] == 0xff && now[off + 1025] == 0xff;

	free(now);
	return ok;
}

/*
 * log= may be any node, read and written through it like a leg: a window
 * of a file, where the log lands at the window's offset and a restart
 * finds it; a mirror of two files, which both hold it.
 */
static void test_disk_log_on_any_node(void)
{
	char *p[2], *l[2], spec[1024];
	struct ubt_tree *tree;
	uint8_t *head, zeros[4096] = { 0 };

	p[0] = func_make_file("m-an0.img", LEG_BYTES);
	p[1] = func_make_file("m-an1.img", LEG_BYTES);
	l[0] = func_make_file("m-an-l0.log", 1 << 20);
	l[1] = func_make_file("m-an-l1.log", 1 << 20);
	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=512K, log=linear(%s, offset=512K, "
		 "size=64K), name=m)", p[0], p[1], l[0]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 0/16 1 AA 3 disk linear:3 A");
	settle(tree);
	ubt_tree_free(tree);
	CU_ASSERT(clean_log_at(l[0], 512 << 10));
	head = func_file_content(l[0], 4096);
	CU_ASSERT(!memcmp(head, zeros, 4096));	/* nothing outside the window */
	free(head);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 16/16 1 AA 3 disk linear:3 A");
	ubt_tree_free(tree);

	snprintf(spec, sizeof(spec), "mirror(%s, %s, region=512K, log=mirror(%s, %s, region=64K, nosync), "
		 "name=m)", p[0], p[1], l[0], l[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	settle(tree);
	ubt_tree_free(tree);
	CU_ASSERT(clean_log_at(l[0], 0));
	CU_ASSERT(clean_log_at(l[1], 0));
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 file:1 file:2 16/16 1 AA 3 disk mirror:3 A");
	ubt_tree_free(tree);
	remove_files(p, 2);
	remove_files(l, 2);
}

struct log_watch {
	const char *log;
	volatile bool stop;
	unsigned int snapshots, dirty_seen;
};

/* Read the log over and over while writes run: count images with dirty bits. */
static void *watch_log(void *arg)
{
	struct log_watch *lw = arg;
	uint8_t image[1024 + 2];
	int fd = open(lw->log, O_RDONLY | O_DIRECT);
	void *buf;

	if (fd < 0 || posix_memalign(&buf, 4096, 4096))
		return NULL;
	while (!lw->stop) {
		if (pread(fd, buf, 4096, 0) == 4096) {
			memcpy(image, buf, sizeof(image));
			lw->snapshots++;
			if (image[1024] != 0xff || image[1025] != 0xff)
				lw->dirty_seen++;
		}
		usleep(2000);
	}
	free(buf);
	close(fd);
	return NULL;
}

/*
 * The log records a region dirty for as long as writes to it may be on
 * their way to the legs, and clean again once they are done: while a
 * delayed leg holds writes the log on disk shows dirty regions; at the
 * end, none.
 */
static void test_disk_log_marks_and_cleans(void)
{
	struct workload w = { .nr_ops = 300, .pct_read = 20, .pct_write = 80, .seed = 5 };
	struct log_watch lw = { 0 };
	char *p[2], *log, spec[1024];
	struct ubt_tree *tree;
	pthread_t th;
	uint8_t *img;

	p[0] = func_make_file("m-mk0.img", LEG_BYTES);
	p[1] = func_make_file("m-mk1.img", LEG_BYTES);
	log = func_make_file("m-mk.log", 1 << 20);
	snprintf(spec, sizeof(spec), "mirror(%s, delay(%s, read=0, write=20), region=512K, "
		 "log=%s, nosync)", p[0], p[1], log);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	img = func_file_content(log, 4096);
	CU_ASSERT(img[0] == 0x72 && img[1024] == 0xff && img[1025] == 0xff);	/* nosync: clean */
	free(img);
	lw.log = log;
	pthread_create(&th, NULL, watch_log, &lw);
	w.bytes = LEG_BYTES;
	w.model = calloc(1, LEG_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	lw.stop = true;
	pthread_join(th, NULL);
	CU_ASSERT(lw.snapshots > 10);
	CU_ASSERT(lw.dirty_seen > 0);
	legs_equal(w.model, p, 2);
	img = func_file_content(log, 4096);
	CU_ASSERT(img[1024] == 0xff && img[1025] == 0xff);
	free(img);
	ubt_tree_free(tree);
	free(w.model);
	remove_files(p, 2);
	remove_files(&log, 1);
}

/*
 * Two requests at once for the race a read's failure can lose: a read
 * goes to leg 0 and waits there (a delay node) while a write to the same
 * region fails on leg 0, so the region is out of sync and leg 1 is the
 * default when the read's own failure comes back.  The read must be
 * retried on leg 1, the one leg that holds the data, not failed.
 */
struct race {
	uint8_t *wdata, *rdata;
	unsigned int sent;
	int res[2];
};

static bool race_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *req)
{
	struct race *r = arg;

	if (r->sent == 2)
		return false;
	/* The read first: it must be waiting on leg 0 when the write fails there. */
	req->op = r->sent ? UBT_OP_WRITE : UBT_OP_READ;
	req->flags = 0;
	req->sector = r->sent ? 0 : 8;
	req->nr_sectors = 8;
	if (r->sent)
		memcpy(ubt_queue_buf(q, tag), r->wdata, 4096);
	r->sent++;
	return true;
}

static void race_done(void *arg, struct ubt_queue *q, unsigned int tag,
		      const struct ubt_request *req, int res)
{
	struct race *r = arg;

	r->res[req->op == UBT_OP_WRITE] = res;
	if (req->op == UBT_OP_READ)
		memcpy(r->rdata, ubt_queue_buf(q, tag), 4096);
}

static void test_read_retried_when_its_region_went_out_of_sync(void)
{
	static const struct ubt_inproc_ops ops = { .next = race_next, .done = race_done };
	uint8_t wdata[4096], rdata[4096], *orig;
	struct race r = { .wdata = wdata, .rdata = rdata };
	char *p[2], spec[1024];
	struct ubt_tree *tree;

	orig = func_random_file("m-race0.img", LEG_BYTES, &p[0]);
	free(func_random_file("m-race1.img", LEG_BYTES, &p[1]));
	memset(wdata, 0xa5, sizeof(wdata));
	snprintf(spec, sizeof(spec),
		 "mirror(delay(flakey(%s, up=3600, down=0, name=bad), read=300, write=0), %s, region=64K, "
		 "nosync, handle_errors, name=m)", p[0], p[1]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(message(tree, "bad", "down"), 0);
	CU_ASSERT_EQUAL(ubt_inproc_run(tree, 0, 2, &ops, &r), 0);
	CU_ASSERT_EQUAL(r.res[1], 4096);
	/* The write failed leg 0 and left region 0 out of sync, leg 1 the default. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "m"), "2 delay:1 file:4 127/128 1 DA 1 core");
	CU_ASSERT_EQUAL(r.res[0], 4096);
	CU_ASSERT(!memcmp(rdata, orig + 4096, 4096));
	ubt_tree_free(tree);
	free(orig);
	remove_files(p, 2);
}

static void refused(const char *spec, const char *want)
{
	struct ubt_tree *tree = func_build(spec, 512, err, sizeof(err));

	if (tree)
		fprintf(stderr, "\n  %s: built\n", spec);
	CU_ASSERT_PTR_NULL(tree);
	if (!tree && !strstr(err, want))
		fprintf(stderr, "\n  %s: got '%s', want '%s'\n", spec, err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	ubt_tree_free(tree);
}

static void test_bad_arguments(void)
{
	refused("mirror(null(size=8M))", "1 legs: a mirror has 2 to 9");
	refused("mirror(null(size=8M), null(size=8M), null(size=8M), null(size=8M), null(size=8M), "
		"null(size=8M), null(size=8M), null(size=8M), null(size=8M), null(size=8M))",
		"10 legs: a mirror has 2 to 9");
	refused("mirror(null(size=8M), null(size=8M), region=96K)",
		"region=98304 must be a power of two");
	refused("mirror(null(size=8M), null(size=8M), region=256)", "of at least the 512-byte");
	refused("mirror(null(size=8M), null(size=8M), region=16M)", "is larger than the mirror");
	refused("mirror(null(size=8M), null(size=8M), sync, nosync)", "contradict");
	refused("mirror(null(size=8M), null(size=8M), read=random)", "read=random: want default");
	refused("mirror(null(size=8M), null(size=8M), log=/nonexistent/m.log)", "/nonexistent/m.log");
	refused("mirror(null(size=8M), null(size=8M), log=null(size=512))", "the log (512 bytes) is "
		"too small: 4 regions need 1536 bytes");
	refused("mirror(null(size=8M), null(size=8M), keep_log)", "keep_log needs handle_errors");
	refused("mirror(null(size=8M), null(size=8M), resync_rate=fast)", "resync_rate");
}

UT_MAIN("mirror_inproc", UT(test_writes_reach_every_leg), UT(test_start_copies_the_default_leg),
	UT(test_two_queues_during_the_copy), UT(test_resync_rate), UT(test_failing_legs_are_hidden),
	UT(test_read_repair), UT(test_read_retried_when_its_region_went_out_of_sync),
	UT(test_messages), UT(test_replace_with_new_file_under_io),
	UT(test_replace_refusals), UT(test_check_and_repair), UT(test_disk_log_copies_only_dirty_regions),
	UT(test_disk_log_marks_and_cleans), UT(test_disk_log_on_any_node),
	UT(test_reload_leaves_the_running_log_alone), UT(test_large_log_on_a_stripe),
	UT(test_bad_arguments))
