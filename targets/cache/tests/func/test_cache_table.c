// SPDX-License-Identifier: MIT
/*
 * Tests of the cache's dm line both ways: dm-cache-target.c's constructor
 * checks, in its order, with its messages; the metadata and cache devices
 * as whole devices, the origin as a window of the line's length.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_cu.h"

static char spec[8192], err[512];

/* a, b and c (16 MiB each): the metadata, cache and origin devices. */
static char *a, *b, *c;

static void make_files(void)
{
	free(a);
	free(b);
	free(c);
	a = func_make_file("cache-table-a.img", 16 << 20);
	b = func_make_file("cache-table-b.img", 16 << 20);
	c = func_make_file("cache-table-c.img", 16 << 20);
}

static void remove_files(void)
{
	unlink(a);
	unlink(b);
	unlink(c);
}

static void expect_fmt_error(const char *msg, const char *fmt, ...)
{
	char table[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(table, sizeof(table), fmt, ap);
	va_end(ap);
	func_expect_table_error(table, msg);
}

/* cache: a, b and c (16 MiB each) are the metadata, cache and origin devices. */
static void test_cache_lines(void)
{
	char want[2048];

	make_files();
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 16384 cache %s %s %s 128 1 writeback smq 0", a, b, c), 0);
	snprintf(want, sizeof(want), "cache(meta=%s, cache=%s, origin=linear(%s, offset=0, "
		 "size=8388608), block=65536, mode=writeback, policy=smq)", a, b, c);
	CU_ASSERT_STRING_EQUAL(spec, want);
	/* Features without case; mq and default are smq; words after the policy's are ignored. */
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 16384 cache %s %s %s 64 3 WriteThrough metadata2 "
					"No_Discard_Passdown mq 4 sequential_threshold 10 "
					"migration_threshold 4096 ignored words", a, b, c), 0);
	snprintf(want, sizeof(want), "cache(meta=%s, cache=%s, origin=linear(%s, offset=0, "
		 "size=8388608), block=32768, mode=writethrough, policy=smq, "
		 "no_discard_passdown, metadata2, migration_threshold=2097152)", a, b, c);
	CU_ASSERT_STRING_EQUAL(spec, want);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 16384 cache %s %s %s 2097152 0 cleaner 0", a, b, a), -EINVAL);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 16384 cache %s %s %s 64 0 default 2 migration_threshold 0",
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
	expect_fmt_error("table line 1: cache: Insufficient args", "0 16384 cache");
	expect_fmt_error("cache: Insufficient args", "0 16384 cache %s", a);
	expect_fmt_error("cache: Insufficient args", "0 16384 cache %s %s", a, b);
	expect_fmt_error("cache: Error opening metadata device",
			 "0 16384 cache /nonexistent/m %s %s 128 0 smq 0", b, c);
	expect_fmt_error("cache: Error opening cache device",
			 "0 16384 cache %s 4095:4095 %s 128 0 smq 0", a, c);
	expect_fmt_error("cache: Error opening origin device",
			 "0 16384 cache %s %s /nonexistent/o 128 0 smq 0", a, b);
	/* The line longer than the origin, checked before the block size. */
	expect_fmt_error("cache: Device size larger than cached device",
			 "0 32769 cache %s %s %s x", a, b, c);
	for (i = 0; i < UBT_ARRAY_SIZE(tails); i++)
		expect_fmt_error(tails[i].msg, "0 16384 cache %s %s %s %s", a, b, c, tails[i].tail);
	remove_files();
}

static void test_cache_roundtrip(void)
{
	char t[4096];

	/* Each over a fresh metadata device (a is formatted for its block size). */
	make_files();
	snprintf(t, sizeof(t), "0 32768 cache %s %s %s 128 1 writeback smq 0\n", a, b, c);
	func_expect_roundtrip(t);
	make_files();
	snprintf(t, sizeof(t), "0 16384 cache %s %s %s 64 3 metadata2 passthrough "
		 "no_discard_passdown cleaner 2 migration_threshold 4096\n", a, b, c);
	func_expect_roundtrip(t);
	make_files();
	snprintf(t, sizeof(t), "0 32768 zero \n32768 16384 cache %s %s %s 256 1 writethrough smq 0\n",
		 a, b, c);
	func_expect_roundtrip(t);
	remove_files();
}

/* A cache whose metadata and cache share a file has no dm form. */
static void test_cache_shared_file_has_no_dm_form(void)
{
	struct ubt_tree *tree;
	char s[4096], out[4096];

	make_files();
	snprintf(s, sizeof(s), "cache(origin=%s, cache=linear(%s, offset=1M), meta=linear(%s, "
		 "size=1M))", c, a, a);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cache: its metadata cannot be written as a dm device "
				      "(a whole file or device)"));
	ubt_tree_free(tree);
	remove_files();
}

UT_MAIN("cache_table", UT(test_cache_lines), UT(test_cache_line_errors), UT(test_cache_roundtrip),
	UT(test_cache_shared_file_has_no_dm_form))
