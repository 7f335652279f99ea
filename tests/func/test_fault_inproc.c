// SPDX-License-Identifier: MIT
/*
 * Functional tests of the fault targets (zero, error, flakey, delay)
 * through the in-process frontend: what each does to the data, checked
 * against a model and the backing file, and the messages that change them
 * while they run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../unit/ut.h"
#include "func_util.h"

#define FILE_BYTES	(8ULL << 20)

static char err[512];

static struct ubt_tree *build(const char *fmt, const char *path)
{
	struct ubt_tree *tree;
	char spec[4096];

	snprintf(spec, sizeof(spec), fmt, path);
	tree = func_build(spec, 512, err, sizeof(err));
	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

static uint8_t *random_file(const char *name, char **path)
{
	return func_random_file(name, FILE_BYTES, path);
}

static uint8_t *file_content(const char *path)
{
	return func_file_content(path, FILE_BYTES);
}

static int message(struct ubt_tree *tree, const char *ref, const char *words)
{
	return func_message(tree, ref, words, err, sizeof(err));
}

static void test_zero_reads_zeros_and_drops_writes(void)
{
	struct workload w = { .nr_ops = 400, .pct_write = 60, .pct_discard = 20, .pct_flush = 20 };
	struct ubt_tree *tree = build("zero(size=8M)", NULL);
	uint8_t *model = malloc(FILE_BYTES), *zeros = calloc(1, FILE_BYTES);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_FALSE(tree->limits.write_zeroes);	/* dm sends zero no write-zeroes */
	w.bytes = FILE_BYTES;
	w.model = calloc(1, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	memset(model, 0xff, FILE_BYTES);
	CU_ASSERT_EQUAL(model_read_device(tree, model, FILE_BYTES), 0);
	CU_ASSERT(!memcmp(model, zeros, FILE_BYTES));
	ubt_tree_free(tree);
	free(w.model);
	free(model);
	free(zeros);
}

static void test_error_fails_everything(void)
{
	struct workload w = { .nr_ops = 300, .pct_read = 40, .pct_write = 30, .pct_flush = 10,
			      .pct_discard = 10, .pct_zeroes = 10 };
	struct ubt_tree *tree = build("error(size=8M)", NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = calloc(1, FILE_BYTES);
	CU_ASSERT_NOT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	CU_ASSERT_EQUAL(w.completed, w.issued);
	CU_ASSERT_EQUAL(w.errors, w.issued);
	ubt_tree_free(tree);
	free(w.model);
}

/* drop_writes while down: writes succeed and vanish; `up` makes them land. */
static void test_flakey_drop_writes_and_up(void)
{
	struct workload w = { .nr_ops = 500, .pct_read = 30, .pct_write = 70, .align = 4096 };
	char *path;
	uint8_t *orig = random_file("flakey-drop.img", &path), *now;
	struct ubt_tree *tree = build("flakey(%s, up=0, down=1, drop_writes, name=f)", path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, orig, FILE_BYTES);
	/* Reads pass, writes claim success: reads of written ranges see the old data. */
	workload_run(tree, 0, 8, &w);
	CU_ASSERT_EQUAL(w.completed, w.issued);
	now = file_content(path);
	CU_ASSERT(!memcmp(now, orig, FILE_BYTES));
	free(now);
	/* Held up, the node is its child. */
	CU_ASSERT_EQUAL(message(tree, "f", "up"), 0);
	memcpy(w.model, orig, FILE_BYTES);
	w.issued = w.completed = w.errors = 0;
	w.seed = 7;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = file_content(path);
	CU_ASSERT(!memcmp(now, w.model, FILE_BYTES));
	free(now);
	ubt_tree_free(tree);
	free(w.model);
	free(orig);
	unlink(path);
	free(path);
}

/* No feature: everything fails while down; `features error_writes` lets reads through. */
static void test_flakey_errors_and_feature_message(void)
{
	struct workload w = { .nr_ops = 200, .pct_read = 100 };
	char *path;
	uint8_t *orig = random_file("flakey-err.img", &path);
	struct ubt_tree *tree = build("flakey(%s, up=0, down=1)", path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = orig;
	workload_run(tree, 0, 8, &w);
	CU_ASSERT_EQUAL(w.errors, w.issued);
	CU_ASSERT_EQUAL(message(tree, "0", "features error_writes"), 0);
	w.issued = w.completed = w.errors = w.reads_checked = 0;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(w.reads_checked, 200);
	/* Refusals: dm's feature rules, and corruption on a node built without it. */
	CU_ASSERT_EQUAL(message(tree, "0", "features drop_writes error_writes"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "flakey: Feature error_writes conflicts with feature drop_writes");
	CU_ASSERT_EQUAL(message(tree, "0", "features corrupt_bio_byte 1 r 0 0"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "corruption needs the data in memory"));
	CU_ASSERT_EQUAL(message(tree, "0", "sideways"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown message 'sideways'"));
	CU_ASSERT_EQUAL(message(tree, "0", "cycle 0 0"), -EINVAL);
	ubt_tree_free(tree);
	free(orig);
	unlink(path);
	free(path);
}

/* up=1 down=1: reads succeed in the first second, fail in the next. */
static void test_flakey_timing(void)
{
	struct workload w = { .nr_ops = 1, .pct_read = 100 };
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	unsigned int ok = 0, failed = 0, i;
	char *path;
	uint8_t *orig = random_file("flakey-time.img", &path);
	struct ubt_tree *tree = build("flakey(%s, up=1, down=1, error_reads)", path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = orig;
	for (i = 0; i < 15; i++) {
		w.issued = w.completed = w.errors = 0;
		if (workload_run(tree, 0, 1, &w) == 0) {
			CU_ASSERT_EQUAL(failed, 0);	/* up comes first */
			ok++;
		} else {
			failed++;
		}
		nanosleep(&pause, NULL);
	}
	CU_ASSERT(ok >= 5 && failed >= 3);
	ubt_tree_free(tree);
	free(orig);
	unlink(path);
	free(path);
}

/* corrupt_bio_byte r: byte 1 of each read comes back as 0xa5; the file keeps its data. */
static void test_flakey_corrupts_reads(void)
{
	struct workload w = { .nr_ops = 200, .pct_read = 100, .align = 4096, .max_bytes = 4096 };
	char *path;
	uint8_t *orig = random_file("flakey-cr.img", &path), *now;
	struct ubt_tree *tree = build("flakey(%s, up=0, down=1, corrupt_bio_byte=1:r:165:0)", path);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_PTR_NOT_NULL(tree->data_node);	/* corruption needs the data */
	w.bytes = FILE_BYTES;
	w.model = orig;
	workload_run(tree, 0, 4, &w);
	CU_ASSERT(w.errors > 190);	/* all but the reads whose byte already was 0xa5 */
	CU_ASSERT_PTR_NOT_NULL(strstr(w.first_error, "differs from the model at +0"));
	now = file_content(path);
	CU_ASSERT(!memcmp(now, orig, FILE_BYTES));
	free(now);
	CU_ASSERT_EQUAL(message(tree, "0", "features"), 0);	/* back to errors ... */
	CU_ASSERT_EQUAL(message(tree, "0", "up"), 0);		/* ... but held up */
	w.issued = w.completed = w.errors = 0;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 4, &w), 0);
	ubt_tree_free(tree);
	free(orig);
	unlink(path);
	free(path);
}

/*
 * corrupt_bio_byte w: byte 1 of each 4K write lands as 0x5a, in a copy: the
 * request's own data (which the model records after completion) is intact.
 */
static void test_flakey_corrupts_writes_in_a_copy(void)
{
	struct workload w = { .nr_ops = 300, .pct_write = 100, .align = 4096, .max_bytes = 4096 };
	char *path;
	uint8_t *orig = random_file("flakey-cw.img", &path), *now;
	struct ubt_tree *tree = build("flakey(%s, up=0, down=1, corrupt_bio_byte=1:w:90:0)", path);
	unsigned int written = 0, differ = 0, bad = 0;
	uint64_t u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, orig, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = file_content(path);
	for (u = 0; u < FILE_BYTES; u += 4096) {
		if (!memcmp(w.model + u, orig + u, 4096))
			continue;	/* never written (or by chance the same) */
		written++;
		bad += now[u] != 90 || memcmp(now + u + 1, w.model + u + 1, 4095);
		differ += w.model[u] != 90;
	}
	CU_ASSERT(written > 200);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(differ > written - 10);	/* the request's byte was not touched */
	free(now);
	ubt_tree_free(tree);
	free(w.model);
	free(orig);
	unlink(path);
	free(path);
}

/*
 * Under a stripe with 4K chunks, a flakey child gets requests made of
 * several pieces of the parent's buffer: the copied block must land at the
 * right place among them.  The flakey file may differ from the model only
 * in single bytes that hold the corrupt value; the other file not at all.
 */
static void test_flakey_corrupts_split_writes(void)
{
	struct workload w = { .nr_ops = 300, .pct_write = 100, .align = 4096,
			      .max_bytes = 64 * 1024 };
	char *a, *b, spec[4096];
	uint8_t *oa = random_file("flakey-sa.img", &a), *ob = random_file("flakey-sb.img", &b);
	uint8_t *fa, *fb;
	struct ubt_tree *tree;
	uint64_t off, dev_bytes, odd = 0, corrupted = 0;

	snprintf(spec, sizeof(spec), "stripe(flakey(%s, up=0, down=1, corrupt_bio_byte=1:w:90:0), "
		 "%%s, chunk=4K)", a);
	tree = build(spec, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	dev_bytes = ubt_tree_bytes(tree);
	w.bytes = dev_bytes;
	w.model = malloc(dev_bytes);
	/* The device's content before: the files interleaved by 4K chunks. */
	for (off = 0; off < dev_bytes; off += 4096)
		memcpy(w.model + off, (off / 4096) % 2 ? ob + off / 8192 * 4096 : oa + off / 8192 * 4096,
		       4096);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	ubt_tree_free(tree);
	fa = file_content(a);
	fb = file_content(b);
	for (off = 0; off < dev_bytes; off++) {
		uint64_t chunk = off / 4096, in = off % 4096, pos = chunk / 2 * 4096 + in;
		uint8_t got = chunk % 2 ? fb[pos] : fa[pos];

		if (got == w.model[off])
			continue;
		if (chunk % 2 == 0 && got == 90)
			corrupted++;
		else
			odd++;
	}
	CU_ASSERT_EQUAL(odd, 0);
	CU_ASSERT(corrupted > 100 && corrupted <= 300);
	free(fa);
	free(fb);
	free(w.model);
	free(oa);
	free(ob);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* delay: reads held 30 ms each (depth 1), writes not; a message changes it. */
static void test_delay_holds_requests(void)
{
	struct workload w = { .nr_ops = 10, .pct_read = 100 };
	char *path;
	uint8_t *orig = random_file("delay.img", &path);
	struct ubt_tree *tree = build("delay(%s, read=30, write=0, name=d)", path);
	struct ubt_target *d;
	char status[64];
	double t0, t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	d = ubt_tree_find(tree, "d");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	w.bytes = FILE_BYTES;
	w.model = orig;
	t0 = now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 1, &w), 0);
	t = now_s() - t0;
	CU_ASSERT(t >= 0.3);
	/* Held in parallel, not in turn: 10 at depth 10 take one delay. */
	w.issued = w.completed = 0;
	t0 = now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 10, &w), 0);
	t = now_s() - t0;
	CU_ASSERT(t >= 0.03 && t < 0.25);
	d->type->status(d, UBT_STATUS_INFO, status, sizeof(status));
	CU_ASSERT_STRING_EQUAL(status, "0 0 0");
	d->type->status(d, UBT_STATUS_TABLE, status, sizeof(status));
	CU_ASSERT_STRING_EQUAL(status, "30 0 0");
	CU_ASSERT_EQUAL(message(tree, "d", "read 0 flush 5"), 0);
	d->type->status(d, UBT_STATUS_TABLE, status, sizeof(status));
	CU_ASSERT_STRING_EQUAL(status, "0 0 0 0 5");
	w.issued = w.completed = 0;
	w.nr_ops = 200;
	t0 = now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 1, &w), 0);
	CU_ASSERT(now_s() - t0 < 1.0);
	CU_ASSERT_EQUAL(message(tree, "d", "read"), -EINVAL);
	CU_ASSERT_EQUAL(message(tree, "d", "sideways 5"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown class 'sideways'"));
	CU_ASSERT_EQUAL(message(tree, "d", "write -1"), -EINVAL);
	ubt_tree_free(tree);
	free(orig);
	unlink(path);
	free(path);
}

/* write_to: writes go to another child, reads do not see them. */
static void test_delay_write_to(void)
{
	struct workload w = { .nr_ops = 300, .pct_write = 100, .align = 4096 };
	char *a, *b, spec[4096];
	uint8_t *oa = random_file("delay-a.img", &a), *ob = random_file("delay-b.img", &b), *now;
	struct ubt_tree *tree;

	snprintf(spec, sizeof(spec), "delay(%s, write_to=file('%%s'))", a);
	tree = build(spec, b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, ob, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = file_content(a);
	CU_ASSERT(!memcmp(now, oa, FILE_BYTES));
	free(now);
	now = file_content(b);
	CU_ASSERT(!memcmp(now, w.model, FILE_BYTES));
	free(now);
	ubt_tree_free(tree);
	free(w.model);
	free(oa);
	free(ob);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

/* Labels: found by name or index; a number or a repeated label is refused. */
static void test_labels(void)
{
	struct ubt_tree *tree = build("concat(null(size=1M, name=a), zero(size=1M, name=b.2))", NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_find(tree, "a")->id, 1);
	CU_ASSERT_EQUAL(ubt_tree_find(tree, "b.2")->id, 2);
	CU_ASSERT_STRING_EQUAL(ubt_tree_find(tree, "2")->label, "b.2");
	CU_ASSERT_PTR_NULL(ubt_tree_find(tree, "3"));
	CU_ASSERT_PTR_NULL(ubt_tree_find(tree, "c"));
	ubt_tree_free(tree);
	CU_ASSERT_PTR_NULL(build("concat(null(size=1M, name=a), null(size=1M, name=a))", NULL));
	CU_ASSERT_STRING_EQUAL(err, "name=a is given to two nodes");
	CU_ASSERT_PTR_NULL(build("null(size=1M, name=12)", NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a label cannot be a number"));
	CU_ASSERT_PTR_NULL(build("null(size=1M, name='a b')", NULL));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a label is letters, digits"));
}

UT_MAIN("fault_inproc", UT(test_zero_reads_zeros_and_drops_writes), UT(test_error_fails_everything),
	UT(test_flakey_drop_writes_and_up), UT(test_flakey_errors_and_feature_message),
	UT(test_flakey_timing), UT(test_flakey_corrupts_reads),
	UT(test_flakey_corrupts_writes_in_a_copy), UT(test_flakey_corrupts_split_writes),
	UT(test_delay_holds_requests),
	UT(test_delay_write_to), UT(test_labels))
