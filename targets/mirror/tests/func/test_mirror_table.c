// SPDX-License-Identifier: MIT
/*
 * Tests of the mirror's dm line both ways: dm-raid1.c's and dm-log.c's
 * checks, in their order, with their words; a disk log as a whole device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_cu.h"

static char spec[8192], err[512];

static void test_mirror_lines(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 2048 mirror core 1 1024 2 /x/a 0 /x/b 8"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "mirror(linear(/x/a, offset=0, size=1048576), "
			       "linear(/x/b, offset=4096, size=1048576), region=524288)");
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 2048 mirror disk 3 /x/log 64 nosync 3 /x/a 0 /x/b 0 /x/c 0 "
				"2 handle_errors keep_log"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "mirror(linear(/x/a, offset=0, size=1048576), "
			       "linear(/x/b, offset=0, size=1048576), "
			       "linear(/x/c, offset=0, size=1048576), region=32768, "
			       "log=/x/log, nosync, handle_errors, keep_log)");
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 2048 mirror core 2 1024 sync 2 /x/a 0 /x/b 0 0"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "region=524288, sync)"));
}

static void test_mirror_line_errors(void)
{
	func_expect_table_error("0 2048 mirror core", "mirror: Insufficient mirror log arguments");
	func_expect_table_error("0 2048 mirror core x 1024",
		     "mirror: Invalid mirror log argument count");
	func_expect_table_error("0 2048 mirror core 3 1024 sync",
		     "mirror: Insufficient mirror log arguments");
	func_expect_table_error("0 2048 mirror journal 1 1024 2 /x 0 /y 0",
		     "mirror: Error creating mirror dirty log: unknown log type 'journal'");
	func_expect_table_error("0 2048 mirror core 3 1024 sync x 2 /x 0 /y 0",
		     "mirror: Error creating mirror dirty log: wrong number of arguments to "
		     "dirty region log");
	func_expect_table_error("0 2048 mirror disk 1 /l 2 /x 0 /y 0",
		     "wrong number of arguments to disk dirty region log");
	func_expect_table_error("0 2048 mirror core 1 1000 2 /x 0 /y 0",
		     "mirror: Error creating mirror dirty log: invalid region size 1000");
	func_expect_table_error("0 2048 mirror core 1 1 2 /x 0 /y 0", "invalid region size 1");
	func_expect_table_error("0 2048 mirror core 1 4096 2 /x 0 /y 0", "invalid region size 4096");
	func_expect_table_error("0 2048 mirror core 2 1024 often 2 /x 0 /y 0",
		     "unrecognised sync argument to dirty region log: often");
	func_expect_table_error("0 2048 mirror core 1 1024", "mirror: Invalid number of mirrors");
	func_expect_table_error("0 2048 mirror core 1 1024 1 /x 0", "mirror: Invalid number of mirrors");
	func_expect_table_error("0 2048 mirror core 1 1024 10 /x 0", "mirror: Invalid number of mirrors");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y", "mirror: Too few mirror arguments");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y z", "mirror: Invalid offset");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y 0 x",
		     "mirror: Invalid number of features");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y 0 2 handle_errors",
		     "mirror: Not enough arguments to support feature count");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 fast",
		     "mirror: Unrecognised feature requested");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 keep_log",
		     "mirror: keep_log feature requires the handle_errors feature");
	func_expect_table_error("0 2048 mirror core 1 1024 2 /x 0 /y 0 1 handle_errors x",
		     "mirror: Too many mirror arguments");
}

static void test_mirror_roundtrip(void)
{
	char *a = func_make_file("mirror-a.img", 16 << 20), *b = func_make_file("mirror-b.img", 16 << 20);
	char *c = func_make_file("mirror-c.img", 16 << 20), t[4096];

	snprintf(t, sizeof(t), "0 16384 mirror core 1 1024 2 %s 0 %s 8\n", a, b);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 16384 mirror core 2 1024 nosync 2 %s 0 %s 0 1 handle_errors\n",
		 a, b);
	func_expect_roundtrip(t);
	/* c is the disk log: a whole file, as dm's log is a whole device. */
	snprintf(t, sizeof(t), "0 16384 mirror disk 3 %s 2048 sync 2 %s 0 %s 0 2 handle_errors "
		 "keep_log\n", c, a, b);
	func_expect_roundtrip(t);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

/* A log that is no whole file has no dm form. */
static void test_mirror_log_window_has_no_dm_form(void)
{
	char *a = func_make_file("mirror-a.img", 16 << 20), *b = func_make_file("mirror-b.img", 16 << 20);
	char *c = func_make_file("mirror-c.img", 16 << 20), s[4096], out[4096];
	struct ubt_tree *tree;

	snprintf(s, sizeof(s), "mirror(%s, %s, log=linear(%s, size=1M), nosync)", a, b, c);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mirror: its log cannot be written as a dm device (a whole file "
			       "or device)");
	ubt_tree_free(tree);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

UT_MAIN("mirror_table", UT(test_mirror_lines), UT(test_mirror_line_errors),
	UT(test_mirror_roundtrip), UT(test_mirror_log_window_has_no_dm_form))
