// SPDX-License-Identifier: MIT
/*
 * Tests of the stripe target's surface: its dm line both ways (dm-stripe's
 * checks and words), and its `create stripe` shorthand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_cu.h"

static char spec[8192], err[512];

static void test_striped_line(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 7200 striped 3 24 /x/a 8 /x/b 16 /x/c 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "stripe(linear(/x/a, offset=4096, size=1228800), "
			       "linear(/x/b, offset=8192, size=1228800), "
			       "linear(/x/c, offset=0, size=1228800), chunk=12288)");
}

static void test_striped_line_errors(void)
{
	func_expect_table_error("0 100 striped 0 8", "striped: Invalid stripe count");
	func_expect_table_error("0 100 striped 2 0 /x 0 /y 0", "striped: Invalid chunk_size");
	func_expect_table_error("0 101 striped 2 8 /x 0 /y 0",
		     "striped: Target length not divisible by number of stripes");
	func_expect_table_error("0 100 striped 2 8 /x 0 /y 0", "striped: Target length not divisible by chunk size");
	func_expect_table_error("0 32 striped 2 8 /x 0", "striped: Not enough destinations specified");
	func_expect_table_error("0 32 striped 2 8 /x 0 /y 0 /z 0", "Not enough destinations");
	func_expect_table_error("0 32 striped x 8 /x 0", "striped: stripe count 'x' is not a number");
	func_expect_table_error("0 32 striped 1", "striped: Not enough arguments");
	func_expect_table_error("0 32 striped 2 8 /x 0 /y q", "striped: offset 'q' is not a number");
}

static void test_striped_roundtrip(void)
{
	char *a = func_make_file("stripe-a.img", 16 << 20), *b = func_make_file("stripe-b.img", 16 << 20);
	char *c = func_make_file("stripe-c.img", 16 << 20), s[4096], t[4096], out[4096];
	struct ubt_tree *tree;

	snprintf(t, sizeof(t), "0 7200 striped 3 24 %s 8 %s 16 %s 0\n", a, b, c);
	func_expect_roundtrip(t);
	/* A stripe over a concat has no single-line form. */
	snprintf(s, sizeof(s), "stripe(%s, concat(%s, %s))", a, b, c);
	tree = func_build(s, 512, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a concat under stripe cannot be written as one dm table"));
	ubt_tree_free(tree);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

static void test_stripe_shorthand(void)
{
	CU_ASSERT_EQUAL(func_shorthand("stripe", (const char *const[]){ "--chunk", "128K", "--file",
			"/x/a", "--file", "/x/b", NULL }, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "stripe(/x/a, /x/b, chunk=128K)");
	CU_ASSERT_EQUAL(func_shorthand("stripe", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", NULL }, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "stripe(/x/a, /x/b, /x/c)");
	CU_ASSERT_EQUAL(func_shorthand("stripe", (const char *const[]){ "--chunk", "64K", NULL },
			spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "stripe needs --file PATH for each child");
	CU_ASSERT_EQUAL(func_shorthand("stripe", (const char *const[]){ "--file", "a", "--offset",
			"1M", NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "stripe takes only --chunk and --file");
	CU_ASSERT_EQUAL(func_shorthand("stripe", (const char *const[]){ "--file", "a", "--chunk",
			"x", NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--chunk: 'x' is not a size"));
}

UT_MAIN("stripe_table", UT(test_striped_line), UT(test_striped_line_errors),
	UT(test_striped_roundtrip), UT(test_stripe_shorthand))
