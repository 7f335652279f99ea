// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/table.c: device-mapper table lines to specs with
 * dm's checks and messages, and trees back to tables: table -> tree ->
 * table round-trips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/table.c"
#include "../../core/table_mirror.c"
#include "../../core/table_cache.c"
#include "../../targets/concat.c"
#include "../../targets/file.c"
#include "../../targets/linear.c"
#include "../../targets/stripe.c"
#include "../../targets/zero.c"
#include "../../targets/error.c"
#include "../../targets/flakey.c"
#include "../../targets/delay.c"
#include "../../targets/mirror/mirror.c"
#include "../../targets/mirror/io.c"
#include "../../targets/mirror/region.c"
#include "../../targets/mirror/recovery.c"
#include "../../targets/mirror/log.c"
#include "../../targets/mirror/log_io.c"
#include "../../targets/cache/cache.c"
#include "../../targets/cache/map.c"
#include "../../targets/cache/migrate.c"
#include "../../targets/cache/commit.c"
#include "../../targets/cache/smq.c"
#include "../../targets/cache/mlq.c"
#include "../../targets/cache/metadata.c"
#include "ut.h"

static char spec[8192], err[512], a[64], b[64], c[64];

static void make_files(void)
{
	char *names[3] = { a, b, c };
	int i, fd;

	for (i = 0; i < 3; i++) {
		snprintf(names[i], 64, "/tmp/ubt-table-%d-%d.img", (int)getpid(), i);
		fd = open(names[i], O_RDWR | O_CREAT | O_TRUNC, 0644);
		CU_ASSERT_FATAL(fd >= 0 && !ftruncate(fd, 16 << 20));
		close(fd);
	}
}

static void remove_files(void)
{
	unlink(a);
	unlink(b);
	unlink(c);
}

static int to_spec(const char *fmt, ...)
{
	char table[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(table, sizeof(table), fmt, ap);
	va_end(ap);
	err[0] = '\0';
	return ubt_table_to_spec(table, spec, sizeof(spec), err, sizeof(err));
}

static void expect_error(int ret, const char *msg)
{
	CU_ASSERT_EQUAL(ret, -EINVAL);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  got '%s', wanted '%s'\n", err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
}

static void test_linear_line(void)
{
	CU_ASSERT_EQUAL(to_spec("0 2048 linear /x/a.img 100\n"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "linear(file('/x/a.img'), offset=51200, size=1048576)");
}

static void test_striped_line(void)
{
	CU_ASSERT_EQUAL(to_spec("0 7200 striped 3 24 /x/a 8 /x/b 16 /x/c 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "stripe(linear(file('/x/a'), offset=4096, size=1228800), "
			       "linear(file('/x/b'), offset=8192, size=1228800), "
			       "linear(file('/x/c'), offset=0, size=1228800), chunk=12288)");
}

static void test_lines_make_a_concat(void)
{
	CU_ASSERT_EQUAL(to_spec("# a comment\n\n0 100 linear /x/a 0\n  100 200 linear /x/b 7\n"
				"300 16 striped 2 8 /x/a 200 /x/c 0\n"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "concat(linear(file('/x/a'), offset=0, size=51200), "
			       "linear(file('/x/b'), offset=3584, size=102400), "
			       "stripe(linear(file('/x/a'), offset=102400, size=4096), "
			       "linear(file('/x/c'), offset=0, size=4096), chunk=4096))");
}

static void test_tiling_errors(void)
{
	expect_error(to_spec("10 100 linear /x 0"), "table line 1: Gap in table: starts at 10");
	expect_error(to_spec("0 100 linear /x 0\n101 5 linear /x 0"),
		     "table line 2: Gap in table: starts at 101, the previous line ends at 100");
	expect_error(to_spec("0 100 linear /x 0\n99 5 linear /x 0"),
		     "table line 2: overlaps the previous line");
	expect_error(to_spec("0 0 linear /x 0"), "table line 1: zero-length target");
	expect_error(to_spec(""), "table: no target lines");
	expect_error(to_spec("# nothing\n\n"), "table: no target lines");
	expect_error(to_spec("0 100"), "want <start> <length> <target> <args...>");
}

static void test_target_errors(void)
{
	expect_error(to_spec("0 100 raid1 3 0 region_size 1024 2 /x 0 /y 0"),
		     "unknown target type 'raid1' (tables take linear, striped, zero, error, "
		     "flakey, delay, mirror and cache)");
	expect_error(to_spec("0 100 linear /x"), "linear: Invalid argument count");
	expect_error(to_spec("0 100 linear /x 0 9"), "linear: Invalid argument count");
	expect_error(to_spec("0 100 striped 0 8"), "striped: Invalid stripe count");
	expect_error(to_spec("0 100 striped 2 0 /x 0 /y 0"), "striped: Invalid chunk_size");
	expect_error(to_spec("0 101 striped 2 8 /x 0 /y 0"),
		     "striped: Target length not divisible by number of stripes");
	expect_error(to_spec("0 100 striped 2 8 /x 0 /y 0"),
		     "striped: Target length not divisible by chunk size");
	expect_error(to_spec("0 32 striped 2 8 /x 0"), "striped: Not enough destinations specified");
	expect_error(to_spec("0 32 striped 2 8 /x 0 /y 0 /z 0"), "Not enough destinations");
}

static void test_number_errors(void)
{
	expect_error(to_spec("0 -5 linear /x 0"), "length '-5' is not a number of sectors");
	expect_error(to_spec("0 100 linear /x -1"), "linear: offset '-1' is not a number");
	expect_error(to_spec("0 99999999999999999999 linear /x 0"), "length '99999999999999999999' is too large");
	expect_error(to_spec("0 100 linear /x 18446744073709551615"), "linear: offset 18446744073709551615 is too large");
	expect_error(to_spec("0 18446744073709551615 linear /x 0"), "is too large");
	expect_error(to_spec("0 32 striped x 8 /x 0"), "striped: stripe count 'x' is not a number");
	expect_error(to_spec("0 100 linear 999:999 0"), "no block device 999:999");
}

static void test_fault_lines(void)
{
	CU_ASSERT_EQUAL(to_spec("0 2048 zero"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "zero(size=1048576)");
	CU_ASSERT_EQUAL(to_spec("0 2048 error"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "error(size=1048576)");
	CU_ASSERT_EQUAL(to_spec("0 2048 error /x/a 0"), 0);	/* 6.12: a device for its limits */
	CU_ASSERT_STRING_EQUAL(spec, "error(size=1048576)");
	CU_ASSERT_EQUAL(to_spec("0 2048 flakey /x/a 8 3 2"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "flakey(linear(file('/x/a'), offset=4096, size=1048576), "
			       "up=3, down=2)");
	CU_ASSERT_EQUAL(to_spec("0 2048 flakey /x/a 0 0 9 7 error_reads drop_writes "
				"corrupt_bio_byte 32 r 1 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "flakey(linear(file('/x/a'), offset=0, size=1048576), "
			       "up=0, down=9, error_reads, drop_writes, corrupt_bio_byte=32:r:1:0)");
	CU_ASSERT_EQUAL(to_spec("0 2048 flakey /x/a 0 1 1 2 random_read_corrupt 500"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "flakey(linear(file('/x/a'), offset=0, size=1048576), "
			       "up=1, down=1, random_read_corrupt=500)");
	CU_ASSERT_EQUAL(to_spec("0 2048 delay /x/a 0 100"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "delay(linear(file('/x/a'), offset=0, size=1048576), read=100)");
	/* lvm2's writeerror recipe: reads to the PV, writes to an error device. */
	CU_ASSERT_EQUAL(to_spec("0 2048 delay /x/a 0 0 /x/b 16 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "delay(linear(file('/x/a'), offset=0, size=1048576), read=0, "
			       "write=0, write_to=linear(file('/x/b'), offset=8192, size=1048576))");
	CU_ASSERT_EQUAL(to_spec("0 2048 delay /x/a 0 1 /x/a 0 2 /x/c 0 3"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "delay(linear(file('/x/a'), offset=0, size=1048576), read=1, "
			       "write=2, flush=3, flush_to=linear(file('/x/c'), offset=0, "
			       "size=1048576))");
}

static void test_fault_line_errors(void)
{
	expect_error(to_spec("0 8 zero 1"), "table line 1: zero: No arguments required");
	expect_error(to_spec("0 8 error /x"), "error: Invalid argument count");
	expect_error(to_spec("0 8 flakey /x 0 1"), "flakey: Invalid argument count");
	expect_error(to_spec("0 8 flakey /x y 1 1"), "flakey: Invalid device sector");
	expect_error(to_spec("0 8 flakey /x 0 -1 1"), "flakey: Invalid up interval");
	expect_error(to_spec("0 8 flakey /x 0 1 4294967296"), "flakey: Invalid down interval");
	expect_error(to_spec("0 8 flakey /x 0 1 1 2 drop_writes"),
		     "flakey: Invalid number of feature args");
	expect_error(to_spec("0 8 flakey /x 0 1 1 12 a b c d e f g h i j k l"),
		     "flakey: Invalid number of feature args");
	expect_error(to_spec("0 8 flakey /x 0 1 1 1 drop_writes extra"), "flakey: too many arguments");
	expect_error(to_spec("0 8 flakey /x 0 1 1 3 corrupt_bio_byte 1 r"),
		     "flakey: Feature corrupt_bio_byte requires parameters");
	expect_error(to_spec("0 8 flakey /x 0 1 1 1 random_read_corrupt"),
		     "flakey: Feature random_read_corrupt requires a parameter");
	expect_error(to_spec("0 8 flakey /x 0 1 1 1 a=b"),
		     "flakey: Unrecognised flakey feature requested");
	expect_error(to_spec("0 8 delay /x 0"), "delay: Requires exactly 3, 6 or 9 arguments");
	expect_error(to_spec("0 8 delay /x 0 1 /y 0"), "delay: Requires exactly 3, 6 or 9 arguments");
	expect_error(to_spec("0 8 delay /x 0 x"), "delay: Invalid delay");
	expect_error(to_spec("0 8 delay /x 0 1 /y z 1"), "delay: Invalid device sector");
}

static void test_mirror_lines(void)
{
	CU_ASSERT_EQUAL(to_spec("0 2048 mirror core 1 1024 2 /x/a 0 /x/b 8"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "mirror(linear(file('/x/a'), offset=0, size=1048576), "
			       "linear(file('/x/b'), offset=4096, size=1048576), region=524288)");
	CU_ASSERT_EQUAL(to_spec("0 2048 mirror disk 3 /x/log 64 nosync 3 /x/a 0 /x/b 0 /x/c 0 "
				"2 handle_errors keep_log"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "mirror(linear(file('/x/a'), offset=0, size=1048576), "
			       "linear(file('/x/b'), offset=0, size=1048576), "
			       "linear(file('/x/c'), offset=0, size=1048576), region=32768, "
			       "log='/x/log', nosync, handle_errors, keep_log)");
	CU_ASSERT_EQUAL(to_spec("0 2048 mirror core 2 1024 sync 2 /x/a 0 /x/b 0 0"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "region=524288, sync)"));
}

static void test_mirror_line_errors(void)
{
	expect_error(to_spec("0 2048 mirror core"), "mirror: Insufficient mirror log arguments");
	expect_error(to_spec("0 2048 mirror core x 1024"),
		     "mirror: Invalid mirror log argument count");
	expect_error(to_spec("0 2048 mirror core 3 1024 sync"),
		     "mirror: Insufficient mirror log arguments");
	expect_error(to_spec("0 2048 mirror journal 1 1024 2 /x 0 /y 0"),
		     "mirror: Error creating mirror dirty log: unknown log type 'journal'");
	expect_error(to_spec("0 2048 mirror core 3 1024 sync x 2 /x 0 /y 0"),
		     "mirror: Error creating mirror dirty log: wrong number of arguments to "
		     "dirty region log");
	expect_error(to_spec("0 2048 mirror disk 1 /l 2 /x 0 /y 0"),
		     "wrong number of arguments to disk dirty region log");
	expect_error(to_spec("0 2048 mirror core 1 1000 2 /x 0 /y 0"),
		     "mirror: Error creating mirror dirty log: invalid region size 1000");
	expect_error(to_spec("0 2048 mirror core 1 1 2 /x 0 /y 0"), "invalid region size 1");
	expect_error(to_spec("0 2048 mirror core 1 4096 2 /x 0 /y 0"), "invalid region size 4096");
	expect_error(to_spec("0 2048 mirror core 2 1024 often 2 /x 0 /y 0"),
		     "unrecognised sync argument to dirty region log: often");
	expect_error(to_spec("0 2048 mirror core 1 1024"), "mirror: Invalid number of mirrors");
	expect_error(to_spec("0 2048 mirror core 1 1024 1 /x 0"), "mirror: Invalid number of mirrors");
	expect_error(to_spec("0 2048 mirror core 1 1024 10 /x 0"), "mirror: Invalid number of mirrors");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y"), "mirror: Too few mirror arguments");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y z"), "mirror: Invalid offset");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y 0 x"),
		     "mirror: Invalid number of features");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y 0 2 handle_errors"),
		     "mirror: Not enough arguments to support feature count");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 fast"),
		     "mirror: Unrecognised feature requested");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 keep_log"),
		     "mirror: keep_log feature requires the handle_errors feature");
	expect_error(to_spec("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 handle_errors x"),
		     "mirror: Too many mirror arguments");
}

static struct ubt_tree *build(const char *s)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_tree *tree = NULL;

	if (ubt_tree_build(s, &o, &tree, err, sizeof(err)))
		fprintf(stderr, "\n  %s: %s\n", s, err);
	return tree;
}

static void roundtrip(const char *table)
{
	struct ubt_tree *tree;
	char out[4096];

	if (ubt_table_to_spec(table, spec, sizeof(spec), err, sizeof(err)))
		fprintf(stderr, "\n  %s: %s\n", table, err);
	CU_ASSERT_EQUAL_FATAL(ubt_table_to_spec(table, spec, sizeof(spec), err, sizeof(err)), 0);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), 0);
	if (strcmp(out, table))
		fprintf(stderr, "\n  in:  %s  out: %s\n", table, out);
	CU_ASSERT_STRING_EQUAL(out, table);
	ubt_tree_free(tree);
}

static void test_roundtrip(void)
{
	char t[4096];

	make_files();
	snprintf(t, sizeof(t), "0 2048 linear %s 100\n", a);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 7200 striped 3 24 %s 8 %s 16 %s 0\n", a, b, c);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 100 linear %s 0\n100 200 linear %s 7\n300 16 striped 2 8 %s 200 %s 0\n",
		 a, b, a, c);
	roundtrip(t);
	/* mirror: core and disk logs; c is the disk log. */
	snprintf(t, sizeof(t), "0 16384 mirror core 1 1024 2 %s 0 %s 8\n", a, b);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 16384 mirror core 2 1024 nosync 2 %s 0 %s 0 1 handle_errors\n",
		 a, b);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 16384 mirror disk 3 %s 2048 sync 2 %s 0 %s 0 2 handle_errors "
		 "keep_log\n", c, a, b);
	roundtrip(t);
	/* cache: each over a fresh metadata device (a is formatted for its block size). */
	snprintf(t, sizeof(t), "0 32768 cache %s %s %s 128 1 writeback smq 0\n", a, b, c);
	roundtrip(t);
	make_files();
	snprintf(t, sizeof(t), "0 16384 cache %s %s %s 64 3 metadata2 passthrough "
		 "no_discard_passdown cleaner 2 migration_threshold 4096\n", a, b, c);
	roundtrip(t);
	make_files();
	snprintf(t, sizeof(t), "0 32768 zero \n32768 16384 cache %s %s %s 256 1 writethrough smq 0\n",
		 a, b, c);
	roundtrip(t);
	remove_files();
}

/* cache: a, b and c (16 MiB each) are the metadata, cache and origin devices. */
static void test_cache_lines(void)
{
	char want[2048];

	make_files();
	CU_ASSERT_EQUAL(to_spec("0 16384 cache %s %s %s 128 1 writeback smq 0", a, b, c), 0);
	snprintf(want, sizeof(want), "cache(meta=file('%s'), cache=file('%s'), "
		 "origin=linear(file('%s'), offset=0, size=8388608), block=65536, "
		 "mode=writeback, policy=smq)", a, b, c);
	CU_ASSERT_STRING_EQUAL(spec, want);
	/* Features without case; mq and default are smq; words after the policy's are ignored. */
	CU_ASSERT_EQUAL(to_spec("0 16384 cache %s %s %s 64 3 WriteThrough metadata2 "
				"No_Discard_Passdown mq 4 sequential_threshold 10 "
				"migration_threshold 4096 ignored words", a, b, c), 0);
	snprintf(want, sizeof(want), "cache(meta=file('%s'), cache=file('%s'), "
		 "origin=linear(file('%s'), offset=0, size=8388608), block=32768, "
		 "mode=writethrough, policy=smq, no_discard_passdown, metadata2, "
		 "migration_threshold=2097152)", a, b, c);
	CU_ASSERT_STRING_EQUAL(spec, want);
	CU_ASSERT_EQUAL(to_spec("0 16384 cache %s %s %s 2097152 0 cleaner 0", a, b, a), -EINVAL);
	CU_ASSERT_EQUAL(to_spec("0 16384 cache %s %s %s 64 0 default 2 migration_threshold 0",
				a, b, c), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "mode=writeback, policy=smq, migration_threshold=0)"));
	remove_files();
}

/* dm-cache's constructor messages, in its order. */
static void test_cache_line_errors(void)
{
	static const struct {
		const char *tail, *msg;
	} tails[] = {
		{ "", "cache: Insufficient args" },
		{ "x", "cache: Invalid data block size" },
		{ "0", "cache: Invalid data block size" },
		{ "32", "cache: Invalid data block size" },
		{ "100", "cache: Invalid data block size" },
		{ "2097216", "cache: Invalid data block size" },
		{ "65536", "cache: Data block size is larger than the cache device" },
		{ "128", "cache: Invalid number of cache feature arguments" },
		{ "128 x", "cache: Invalid number of cache feature arguments" },
		{ "128 4 writeback smq 0 a b", "cache: Invalid number of cache feature arguments" },
		{ "128 2 writeback", "cache: Invalid number of cache feature arguments" },
		{ "128 1 fast smq 0", "cache: Unrecognised cache feature requested" },
		{ "128 2 writeback WRITETHROUGH smq 0", "cache: Duplicate cache io_mode features" },
		{ "128 2 writeback writeback smq 0", "cache: Duplicate cache io_mode features" },
		{ "128 1 writeback", "cache: Insufficient args" },
		{ "128 0 smq", "cache: Invalid number of policy arguments" },
		{ "128 0 smq 2 migration_threshold", "cache: Invalid number of policy arguments" },
		{ "128 0 smq 1025", "cache: Invalid number of policy arguments" },
		{ "128 0 SMQ 0", "cache: Error creating cache's policy" },
		{ "128 0 lru 0", "cache: Error creating cache's policy" },
		{ "128 0 smq 1 migration_threshold", "cache: Error setting cache policy's config" },
		{ "128 0 smq 2 migration_threshold -1", "cache: Error setting cache policy's config" },
		{ "128 0 smq 2 sequential_threshold 10", "cache: Error setting cache policy's config" },
		{ "128 0 mq 2 sequential_threshold x", "cache: Error setting cache policy's config" },
		{ "128 0 cleaner 2 random_threshold 4", "cache: Error setting cache policy's config" },
	};
	unsigned int i;

	make_files();
	expect_error(to_spec("0 16384 cache"), "table line 1: cache: Insufficient args");
	expect_error(to_spec("0 16384 cache %s", a), "cache: Insufficient args");
	expect_error(to_spec("0 16384 cache %s %s", a, b), "cache: Insufficient args");
	expect_error(to_spec("0 16384 cache /nonexistent/m %s %s 128 0 smq 0", b, c),
		     "cache: Error opening metadata device");
	expect_error(to_spec("0 16384 cache %s 4095:4095 %s 128 0 smq 0", a, c),
		     "cache: Error opening cache device");
	expect_error(to_spec("0 16384 cache %s %s /nonexistent/o 128 0 smq 0", a, b),
		     "cache: Error opening origin device");
	/* The line longer than the origin, checked before the block size. */
	expect_error(to_spec("0 32769 cache %s %s %s x", a, b, c),
		     "cache: Device size larger than cached device");
	for (i = 0; i < UBT_ARRAY_SIZE(tails); i++)
		expect_error(to_spec("0 16384 cache %s %s %s %s", a, b, c, tails[i].tail),
			     tails[i].msg);
	remove_files();
}

/* dm's constructor checks, which the node makes once the line is a spec. */
static void expect_ctr_error(const char *line, const char *msg)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	struct ubt_tree *tree = NULL;
	char t[4096];

	snprintf(t, sizeof(t), line, a);
	CU_ASSERT_EQUAL_FATAL(ubt_table_to_spec(t, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ubt_tree_build(spec, &o, &tree, err, sizeof(err)), -EINVAL);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  %s: got '%s', wanted '%s'\n", line, err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
}

static void test_fault_ctr_errors(void)
{
	make_files();
	expect_ctr_error("0 8 flakey %s 0 0 0", "flakey: Total (up + down) interval is zero");
	expect_ctr_error("0 8 flakey %s 0 4294967295 1", "flakey: Interval overflow");
	expect_ctr_error("0 8 flakey %s 0 1 1 2 drop_writes drop_writes",
			 "flakey: Feature drop_writes duplicated");
	expect_ctr_error("0 8 flakey %s 0 1 1 2 drop_writes error_writes",
			 "flakey: Feature error_writes conflicts with feature drop_writes");
	expect_ctr_error("0 8 flakey %s 0 1 1 2 error_writes drop_writes",
			 "flakey: Feature drop_writes conflicts with feature error_writes");
	expect_ctr_error("0 8 flakey %s 0 1 1 5 corrupt_bio_byte 0 r 1 0",
			 "flakey: Invalid corrupt bio byte");
	expect_ctr_error("0 8 flakey %s 0 1 1 5 corrupt_bio_byte 1 x 1 0",
			 "flakey: Invalid corrupt bio direction (r or w)");
	expect_ctr_error("0 8 flakey %s 0 1 1 5 corrupt_bio_byte 1 r 256 0",
			 "flakey: Invalid corrupt value to write into bio byte (0-255)");
	expect_ctr_error("0 8 flakey %s 0 1 1 5 corrupt_bio_byte 1 r 1 x",
			 "flakey: Invalid corrupt bio flags mask");
	expect_ctr_error("0 8 flakey %s 0 1 1 2 random_write_corrupt 1000000001",
			 "flakey: Invalid random corrupt argument");
	expect_ctr_error("0 8 flakey %s 0 1 1 6 drop_writes corrupt_bio_byte 1 w 1 0",
			 "flakey: drop_writes is incompatible with random_write_corrupt or "
			 "corrupt_bio_byte with the WRITE flag set");
	expect_ctr_error("0 8 flakey %s 0 1 1 3 error_writes random_write_corrupt 5",
			 "flakey: error_writes is incompatible");
	expect_ctr_error("0 8 flakey %s 0 1 1 1 bogus", "flakey: Unrecognised flakey feature requested");
	remove_files();
}

static void test_fault_roundtrip(void)
{
	char t[4096];

	make_files();
	roundtrip("0 2048 zero \n");
	roundtrip("0 2048 error \n");
	snprintf(t, sizeof(t), "0 2048 flakey %s 8 3 2 2 error_reads error_writes\n", a);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 flakey %s 8 0 9 1 drop_writes\n", a);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 flakey %s 0 1 1 7 corrupt_bio_byte 32 w 7 0 "
		 "random_read_corrupt 5\n", a);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 delay %s 0 100\n", a);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 delay %s 0 0 %s 16 0\n", a, b);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 delay %s 0 1 %s 0 2 %s 0 3\n", a, b, c);
	roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 zero \n2048 2048 delay %s 0 5\n4096 8 error \n", a);
	roundtrip(t);
	remove_files();
}

static void test_trees_as_tables(void)
{
	struct ubt_tree *tree;
	char s[4096], out[4096];

	make_files();
	/* Nested windows fold into one offset; a bare file is a linear line. */
	snprintf(s, sizeof(s), "concat(linear(linear(%s, offset=1M), offset=512K, size=1M), %s)", a, b);
	tree = build(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), 0);
	snprintf(s, sizeof(s), "0 2048 linear %s 3072\n2048 32768 linear %s 0\n", a, b);
	CU_ASSERT_STRING_EQUAL(out, s);
	ubt_tree_free(tree);
	/* A stripe over a concat has no single-table form. */
	snprintf(s, sizeof(s), "stripe(%s, concat(%s, %s))", a, b, c);
	tree = build(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a concat under stripe cannot be written as one dm table"));
	ubt_tree_free(tree);
	/* A cache whose metadata and cache share a file has no dm form. */
	snprintf(s, sizeof(s), "cache(origin=%s, cache=linear(%s, offset=1M), meta=linear(%s, "
		 "size=1M))", c, a, a);
	tree = build(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cache: its metadata cannot be written as a dm device "
				      "(a whole file or device)"));
	ubt_tree_free(tree);
	remove_files();
}

UT_MAIN("table", UT(test_linear_line), UT(test_striped_line), UT(test_lines_make_a_concat),
	UT(test_tiling_errors), UT(test_target_errors), UT(test_number_errors),
	UT(test_roundtrip), UT(test_trees_as_tables), UT(test_fault_lines),
	UT(test_fault_line_errors), UT(test_fault_ctr_errors), UT(test_fault_roundtrip),
	UT(test_mirror_lines), UT(test_mirror_line_errors), UT(test_cache_lines),
	UT(test_cache_line_errors))
