// SPDX-License-Identifier: MIT
/*
 * Tests of the linear target's surface: its dm line both ways (dm-linear's
 * checks and words; a window of a window folds back into one line), and
 * its `create linear` shorthand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_cu.h"

static char spec[8192], err[512];

static void test_linear_line(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 2048 linear /x/a.img 100\n"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "linear(/x/a.img, offset=51200, size=1048576)");
	func_expect_table_error("0 100 linear /x", "linear: Invalid argument count");
	func_expect_table_error("0 100 linear /x 0 9", "linear: Invalid argument count");
	func_expect_table_error("0 100 linear /x -1", "linear: offset '-1' is not a number");
	func_expect_table_error("0 100 linear /x 18446744073709551615",
		     "linear: offset 18446744073709551615 is too large");
}

static void test_linear_roundtrip(void)
{
	char *a = func_make_file("linear-rt.img", 16 << 20), t[4096], s[4096], out[4096];
	struct ubt_tree *tree;

	snprintf(t, sizeof(t), "0 2048 linear %s 100\n", a);
	func_expect_roundtrip(t);
	/* A window of a window of a file is one line; so is a file with a window of its own. */
	snprintf(s, sizeof(s), "linear(linear(file(%s, offset=1M), offset=1M), offset=512K, size=1M)",
		 a);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), 0);
	snprintf(t, sizeof(t), "0 2048 linear %s 5120\n", a);
	CU_ASSERT_STRING_EQUAL(out, t);
	ubt_tree_free(tree);
	unlink(a);
	free(a);
}

static void test_linear_shorthand(void)
{
	CU_ASSERT_EQUAL(func_shorthand("linear", (const char *const[]){ "--file", "/x/a",
			"--offset", "1M", "--size", "512M", NULL }, spec, sizeof(spec), err,
			sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "linear(/x/a, offset=1M, size=512M)");
	CU_ASSERT_EQUAL(func_shorthand("linear", (const char *const[]){ "--file", "a", "--file", "b",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "linear needs exactly one --file PATH");
	CU_ASSERT_EQUAL(func_shorthand("linear", (const char *const[]){ "--file", "a", "--readonly",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "linear takes only --file, --offset and --size");
	CU_ASSERT_EQUAL(func_shorthand("linear", (const char *const[]){ "--file", "a", "--size",
			"lots", NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--size: 'lots' is not a size"));
}

UT_MAIN("linear", UT(test_linear_line), UT(test_linear_roundtrip), UT(test_linear_shorthand))
