// SPDX-License-Identifier: MIT
/*
 * Tests of the device-mapper table frame (core/config/table.c): lines,
 * their starts, lengths and gaps as dm-table.c checks them, several lines
 * as one node whose children lie end to end, the type a line names found
 * in the registry, and trees printed back as tables.  Each target's own
 * line is tested in its folder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_cu.h"
#include "ubt/registry.h"
#include "ubt/table.h"

static char spec[8192], err[512];

static void test_lines_make_one_node(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"# a comment\n\n0 100 linear /x/a 0\n  100 200 linear /x/b 7\n"
					"300 16 striped 2 8 /x/a 200 /x/c 0\n"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "concat(linear(/x/a, offset=0, size=51200), "
			       "linear(/x/b, offset=3584, size=102400), "
			       "stripe(linear(/x/a, offset=102400, size=4096), "
			       "linear(/x/c, offset=0, size=4096), chunk=4096))");
	/* One line is its own node. */
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "0 8 zero"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "zero(size=4096)");
	/* Paths that need quotes get them; major:minor of a missing device is refused. */
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 8 linear /x/my,disk 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "linear('/x/my,disk', offset=0, size=4096)");
}

static void test_tiling_errors(void)
{
	func_expect_table_error("10 100 linear /x 0", "table line 1: Gap in table: starts at 10");
	func_expect_table_error("0 100 linear /x 0\n101 5 linear /x 0",
		     "table line 2: Gap in table: starts at 101, the previous line ends at 100");
	func_expect_table_error("0 100 linear /x 0\n99 5 linear /x 0", "table line 2: overlaps the previous line");
	func_expect_table_error("0 0 linear /x 0", "table line 1: zero-length target");
	func_expect_table_error("", "table: no target lines");
	func_expect_table_error("# nothing\n\n", "table: no target lines");
	func_expect_table_error("0 100", "want <start> <length> <target> <args...>");
	func_expect_table_error("0 -5 linear /x 0", "length '-5' is not a number of sectors");
	func_expect_table_error("0 99999999999999999999 linear /x 0", "length '99999999999999999999' is too large");
	func_expect_table_error("0 18446744073709551615 linear /x 0", "is too large");
	func_expect_table_error("0 100 linear 999:999 0", "no block device 999:999");
	func_expect_table_error("0 100 linear /x/it's\"quoted 0", "device path with both ' and \"");
}

/* A type nobody takes: the refusal lists what the build's targets take. */
static void test_unknown_type(void)
{
	const struct ubt_target_type *t;
	unsigned int i;

	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 100 raid1 3 0 region_size 1024 2 /x 0 /y 0"), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "table line 1: unknown target type 'raid1' (tables take "));
	for (t = ubt_target_types(); t; t = t->next)
		for (i = 0; t->dm_names && t->dm_names[i]; i++)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, t->dm_names[i]));
}

static void test_roundtrip(void)
{
	char *a = func_make_file("table-a.img", 16 << 20), *b = func_make_file("table-b.img", 16 << 20);
	char *c = func_make_file("table-c.img", 16 << 20), t[4096];

	snprintf(t, sizeof(t), "0 100 linear %s 0\n100 200 linear %s 7\n300 16 striped 2 8 %s 200 "
		 "%s 0\n", a, b, a, c);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 32768 zero \n32768 2048 linear %s 100\n", a);
	func_expect_roundtrip(t);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

static void test_trees_as_tables(void)
{
	char *a = func_make_file("table-a.img", 16 << 20), *b = func_make_file("table-b.img", 16 << 20);
	char s[4096], out[4096];
	struct ubt_tree *tree;

	/* Nested windows fold into one offset; a bare file is a linear line. */
	snprintf(s, sizeof(s), "concat(linear(linear(%s, offset=1M), offset=512K, size=1M), %s)", a, b);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), 0);
	snprintf(s, sizeof(s), "0 2048 linear %s 3072\n2048 32768 linear %s 0\n", a, b);
	CU_ASSERT_STRING_EQUAL(out, s);
	ubt_tree_free(tree);
	/* A node with no dm form, and one that is no plain window of a file. */
	tree = func_build("null(size=1M)", 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "a null node cannot be written as one dm table line");
	ubt_tree_free(tree);
	snprintf(s, sizeof(s), "linear(concat(%s, %s), offset=1M)", a, b);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a linear over a concat cannot be written"));
	ubt_tree_free(tree);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

/* A path with white space has no table form, however deep the window that names it. */
static void test_path_with_white_space(void)
{
	char *a = func_make_file("table with space.img", 4 << 20), s[4096], out[4096], want[4200];
	const char *const specs[] = { "'%s'", "linear('%s', offset=1M)",
				      "concat(linear(linear('%s', offset=1M), offset=512K), zero(size=1M))",
				      "stripe('%s', zero(size=4M), chunk=64K)" };
	struct ubt_tree *tree;
	unsigned int i;

	snprintf(want, sizeof(want), "%s: a dm table cannot name a path with white space", a);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		snprintf(s, sizeof(s), specs[i], a);
		tree = func_build(s, 512, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
		if (strcmp(err, want))
			fprintf(stderr, "\n  %s: %s\n", s, err);
		CU_ASSERT_STRING_EQUAL(err, want);
		ubt_tree_free(tree);
	}
	unlink(a);
	free(a);
}

UT_MAIN("table", UT(test_lines_make_one_node), UT(test_tiling_errors), UT(test_unknown_type),
	UT(test_roundtrip), UT(test_trees_as_tables), UT(test_path_with_white_space))
