// SPDX-License-Identifier: MIT
/*
 * Tests of the flakey target through the in-process frontend: what it does
 * to the data, checked against a model and the backing file; the messages
 * that change it while it runs; its dm table line both ways, with
 * dm-flakey's checks and words.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config/config.h"
#include "func_cu.h"

#define FILE_BYTES	(8ULL << 20)

static char err[512], line_spec[8192];

/* drop_writes while down: writes succeed and vanish; `up` makes them land. */
static void test_flakey_drop_writes_and_up(void)
{
	struct workload w = { .nr_ops = 500, .pct_read = 30, .pct_write = 70, .align = 4096 };
	char *path;
	uint8_t *orig = func_random_file("flakey-drop.img", FILE_BYTES, &path), *now;
	struct ubt_tree *tree = func_build_fmt("flakey(%s, up=0, down=1, drop_writes, name=f)", path, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, orig, FILE_BYTES);
	/* Reads pass, writes claim success: reads of written ranges see the old data. */
	workload_run(tree, 0, 8, &w);
	CU_ASSERT_EQUAL(w.completed, w.issued);
	now = func_file_content(path, FILE_BYTES);
	CU_ASSERT(!memcmp(now, orig, FILE_BYTES));
	free(now);
	/* Held up, the node is its child. */
	CU_ASSERT_EQUAL(func_message(tree, "f", "up", err, sizeof(err)), 0);
	memcpy(w.model, orig, FILE_BYTES);
	w.issued = w.completed = w.errors = 0;
	w.seed = 7;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = func_file_content(path, FILE_BYTES);
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
	uint8_t *orig = func_random_file("flakey-err.img", FILE_BYTES, &path);
	struct ubt_tree *tree = func_build_fmt("flakey(%s, up=0, down=1)", path, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = orig;
	workload_run(tree, 0, 8, &w);
	CU_ASSERT_EQUAL(w.errors, w.issued);
	CU_ASSERT_EQUAL(func_message(tree, "0", "features error_writes", err, sizeof(err)), 0);
	w.issued = w.completed = w.errors = w.reads_checked = 0;
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(w.reads_checked, 200);
	/* Refusals: dm's feature rules, and corruption on a node built without it. */
	CU_ASSERT_EQUAL(func_message(tree, "0", "features drop_writes error_writes", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "flakey: Feature error_writes conflicts with feature drop_writes");
	CU_ASSERT_EQUAL(func_message(tree, "0", "features corrupt_bio_byte 1 r 0 0", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "corruption needs the data in memory"));
	CU_ASSERT_EQUAL(func_message(tree, "0", "sideways", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown message 'sideways'"));
	CU_ASSERT_EQUAL(func_message(tree, "0", "cycle 0 0", err, sizeof(err)), -EINVAL);
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
	uint8_t *orig = func_random_file("flakey-time.img", FILE_BYTES, &path);
	struct ubt_tree *tree = func_build_fmt("flakey(%s, up=1, down=1, error_reads)", path, err, sizeof(err));

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
	uint8_t *orig = func_random_file("flakey-cr.img", FILE_BYTES, &path), *now;
	struct ubt_tree *tree = func_build_fmt("flakey(%s, up=0, down=1, corrupt_bio_byte=1:r:165:0)", path, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_PTR_NOT_NULL(tree->data_node);	/* corruption needs the data */
	w.bytes = FILE_BYTES;
	w.model = orig;
	workload_run(tree, 0, 4, &w);
	CU_ASSERT(w.errors > 190);	/* all but the reads whose byte already was 0xa5 */
	CU_ASSERT_PTR_NOT_NULL(strstr(w.first_error, "differs from the model at +0"));
	now = func_file_content(path, FILE_BYTES);
	CU_ASSERT(!memcmp(now, orig, FILE_BYTES));
	free(now);
	CU_ASSERT_EQUAL(func_message(tree, "0", "features", err, sizeof(err)), 0);	/* back to errors ... */
	CU_ASSERT_EQUAL(func_message(tree, "0", "up", err, sizeof(err)), 0);		/* ... but held up */
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
	uint8_t *orig = func_random_file("flakey-cw.img", FILE_BYTES, &path), *now;
	struct ubt_tree *tree = func_build_fmt("flakey(%s, up=0, down=1, corrupt_bio_byte=1:w:90:0)", path, err, sizeof(err));
	unsigned int written = 0, differ = 0, bad = 0;
	uint64_t u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, orig, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = func_file_content(path, FILE_BYTES);
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
	uint8_t *oa = func_random_file("flakey-sa.img", FILE_BYTES, &a), *ob = func_random_file("flakey-sb.img", FILE_BYTES, &b);
	uint8_t *fa, *fb;
	struct ubt_tree *tree;
	uint64_t off, dev_bytes, odd = 0, corrupted = 0;

	snprintf(spec, sizeof(spec), "stripe(flakey(%s, up=0, down=1, corrupt_bio_byte=1:w:90:0), "
		 "%%s, chunk=4K)", a);
	tree = func_build_fmt(spec, b, err, sizeof(err));
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
	fa = func_file_content(a, FILE_BYTES);
	fb = func_file_content(b, FILE_BYTES);
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

/* dm-flakey's line: the device window, the intervals, the features in the spec's form. */
static void test_flakey_lines(void)
{
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 flakey /x/a 8 3 2"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "flakey(linear(/x/a, offset=4096, size=1048576), up=3, down=2)");
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 flakey /x/a 0 0 9 7 error_reads drop_writes "
					"corrupt_bio_byte 32 r 1 0"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "flakey(linear(/x/a, offset=0, size=1048576), up=0, down=9, "
			       "error_reads, drop_writes, corrupt_bio_byte=32:r:1:0)");
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 flakey /x/a 0 1 1 2 random_read_corrupt 500"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "flakey(linear(/x/a, offset=0, size=1048576), up=1, down=1, "
			       "random_read_corrupt=500)");
	/* dm matches feature words without case: the spec has its own. */
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 flakey /x/a 0 1 1 3 Drop_Writes RANDOM_READ_CORRUPT 5"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "flakey(linear(/x/a, offset=0, size=1048576), up=1, down=1, "
			       "drop_writes, random_read_corrupt=5)");
}

/* dm-flakey.c's checks and words, the features' by the node's own parser. */
static void test_flakey_line_errors(void)
{
	func_expect_table_error("0 8 flakey /x 0 1", "flakey: Invalid argument count");
	func_expect_table_error("0 8 flakey /x y 1 1", "flakey: Invalid device sector");
	func_expect_table_error("0 8 flakey /x 0 -1 1", "flakey: Invalid up interval");
	func_expect_table_error("0 8 flakey /x 0 1 4294967296", "flakey: Invalid down interval");
	func_expect_table_error("0 8 flakey /x 0 1 1 2 drop_writes", "flakey: Invalid number of feature args");
	func_expect_table_error("0 8 flakey /x 0 1 1 12 a b c d e f g h i j k l",
			  "flakey: Invalid number of feature args");
	func_expect_table_error("0 8 flakey /x 0 1 1 1 drop_writes extra", "flakey: too many arguments");
	func_expect_table_error("0 8 flakey /x 0 1 1 3 corrupt_bio_byte 1 r",
			  "flakey: Feature corrupt_bio_byte requires parameters");
	func_expect_table_error("0 8 flakey /x 0 1 1 1 random_read_corrupt",
			  "flakey: Feature random_read_corrupt requires a parameter");
	func_expect_table_error("0 8 flakey /x 0 1 1 1 a=b", "flakey: Unrecognised flakey feature requested");
	func_expect_table_error("0 8 flakey /x 0 1 1 2 drop_writes drop_writes",
			  "flakey: Feature drop_writes duplicated");
	func_expect_table_error("0 8 flakey /x 0 1 1 2 drop_writes error_writes",
			  "flakey: Feature error_writes conflicts with feature drop_writes");
	func_expect_table_error("0 8 flakey /x 0 1 1 2 error_writes drop_writes",
			  "flakey: Feature drop_writes conflicts with feature error_writes");
	func_expect_table_error("0 8 flakey /x 0 1 1 5 corrupt_bio_byte 0 r 1 0",
			  "flakey: Invalid corrupt bio byte");
	func_expect_table_error("0 8 flakey /x 0 1 1 5 corrupt_bio_byte 1 x 1 0",
			  "flakey: Invalid corrupt bio direction (r or w)");
	func_expect_table_error("0 8 flakey /x 0 1 1 5 corrupt_bio_byte 1 r 256 0",
			  "flakey: Invalid corrupt value to write into bio byte (0-255)");
	func_expect_table_error("0 8 flakey /x 0 1 1 5 corrupt_bio_byte 1 r 1 x",
			  "flakey: Invalid corrupt bio flags mask");
	func_expect_table_error("0 8 flakey /x 0 1 1 2 random_write_corrupt 1000000001",
			  "flakey: Invalid random corrupt argument");
	func_expect_table_error("0 8 flakey /x 0 1 1 6 drop_writes corrupt_bio_byte 1 w 1 0",
			  "flakey: drop_writes is incompatible with random_write_corrupt or "
			  "corrupt_bio_byte with the WRITE flag set");
	func_expect_table_error("0 8 flakey /x 0 1 1 3 error_writes random_write_corrupt 5",
			  "flakey: error_writes is incompatible");
	func_expect_table_error("0 8 flakey /x 0 1 1 1 bogus", "flakey: Unrecognised flakey feature requested");
}

/* What only the node can check: its intervals. */
static void test_flakey_ctr_errors(void)
{
	char *a = func_make_file("flakey-ctr.img", 1 << 20);

	CU_ASSERT_EQUAL_FATAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					      "0 8 flakey %s 0 0 0", a), 0);
	CU_ASSERT_PTR_NULL(func_build(line_spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "flakey: Total (up + down) interval is zero"));
	CU_ASSERT_EQUAL_FATAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					      "0 8 flakey %s 0 4294967295 1", a), 0);
	CU_ASSERT_PTR_NULL(func_build(line_spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "flakey: Interval overflow"));
	unlink(a);
	free(a);
}

static void test_flakey_roundtrip(void)
{
	char *a = func_make_file("flakey-rt.img", 16 << 20), t[4096];

	snprintf(t, sizeof(t), "0 2048 flakey %s 8 3 2 2 error_reads error_writes\n", a);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 flakey %s 8 0 9 1 drop_writes\n", a);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 flakey %s 0 1 1 7 corrupt_bio_byte 32 w 7 0 "
		 "random_read_corrupt 5\n", a);
	func_expect_roundtrip(t);
	unlink(a);
	free(a);
}

UT_MAIN("flakey", UT(test_flakey_drop_writes_and_up), UT(test_flakey_errors_and_feature_message), UT(test_flakey_timing), UT(test_flakey_corrupts_reads), UT(test_flakey_corrupts_writes_in_a_copy), UT(test_flakey_corrupts_split_writes), UT(test_flakey_lines), UT(test_flakey_line_errors), UT(test_flakey_ctr_errors), UT(test_flakey_roundtrip))
