// SPDX-License-Identifier: MIT
/* Unit tests for core/config/spec.c: the spec expression parser and printer. */
#include <string.h>

#include "core/config/spec.c"
#include "ut.h"

static char err[256];

static void roundtrip(const char *in, const char *canonical)
{
	struct ubt_spec_node *n = ubt_spec_parse(in, err, sizeof(err));
	char out[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	ubt_spec_format(n, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, canonical);
	ubt_spec_free(n);
	/* The canonical form parses to itself. */
	n = ubt_spec_parse(canonical, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	ubt_spec_format(n, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, canonical);
	ubt_spec_free(n);
}

static void test_bare_word(void)
{
	struct ubt_spec_node *n = ubt_spec_parse("a.img", err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_TRUE(n->bare);
	CU_ASSERT_STRING_EQUAL(n->name, "a.img");
	ubt_spec_free(n);
}

static void test_keys_and_positionals(void)
{
	struct ubt_spec_node *n = ubt_spec_parse("file(/x/a.img, offset=1M, readonly)",
						 err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(n->name, "file");
	CU_ASSERT_FALSE(n->bare);
	CU_ASSERT_EQUAL_FATAL(n->nr_args, 3);
	CU_ASSERT_PTR_NULL(n->args[0].key);
	CU_ASSERT_STRING_EQUAL(n->args[0].word, "/x/a.img");
	CU_ASSERT_STRING_EQUAL(n->args[1].key, "offset");
	CU_ASSERT_STRING_EQUAL(n->args[1].word, "1M");
	CU_ASSERT_STRING_EQUAL(n->args[2].word, "readonly");
	CU_ASSERT_EQUAL(n->args[1].column, 16);
	ubt_spec_free(n);
}

static void test_nested_nodes(void)
{
	const char *s = "stripe(linear(a.img, offset=1M, size=512M), concat(b.img, c.img), chunk=128K)";
	struct ubt_spec_node *n = ubt_spec_parse(s, err, sizeof(err));
	struct ubt_spec_node *lin;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL_FATAL(n->nr_args, 3);
	lin = n->args[0].node;
	CU_ASSERT_PTR_NOT_NULL_FATAL(lin);
	CU_ASSERT_STRING_EQUAL(lin->name, "linear");
	CU_ASSERT_EQUAL(lin->nr_args, 3);
	CU_ASSERT_STRING_EQUAL(n->args[1].node->name, "concat");
	CU_ASSERT_STRING_EQUAL(n->args[1].node->args[1].word, "c.img");
	CU_ASSERT_STRING_EQUAL(n->args[2].key, "chunk");
	ubt_spec_free(n);
	roundtrip(s, s);
}

static void test_keyed_node(void)
{
	struct ubt_spec_node *n = ubt_spec_parse(
		"cache(origin=stripe(a.img, b.img, chunk=64K), cache=ssd.img, mode=writeback)",
		err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(n->args[0].key, "origin");
	CU_ASSERT_PTR_NOT_NULL(n->args[0].node);
	CU_ASSERT_STRING_EQUAL(n->args[0].node->name, "stripe");
	CU_ASSERT_STRING_EQUAL(n->args[1].word, "ssd.img");
	ubt_spec_free(n);
}

static void test_whitespace_and_empty(void)
{
	roundtrip("  null ( size = 1G )  ", "null(size=1G)");
	roundtrip("zero()", "zero()");
	roundtrip("a\t(\n b ,c )", "a(b, c)");
}

static void test_quoting(void)
{
	struct ubt_spec_node *n = ubt_spec_parse("file('my disk (1).img', size=1M)", err,
						 sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(n->args[0].word, "my disk (1).img");
	ubt_spec_free(n);
	roundtrip("file(\"it's.img\")", "file(\"it's.img\")");
	roundtrip("file('a,b=c')", "file('a,b=c')");
}

static void expect_error(const char *in, const char *msg)
{
	struct ubt_spec_node *n = ubt_spec_parse(in, err, sizeof(err));

	CU_ASSERT_PTR_NULL(n);
	ubt_spec_free(n);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  '%s' -> '%s', wanted '%s'\n", in, err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
	CU_ASSERT_EQUAL(strncmp(err, "spec: ", 6), 0);
}

static void test_errors_name_the_column(void)
{
	expect_error("", "unexpected end at column 1");
	expect_error("file(a.img", "missing ')' for file( opened at column 1 at column 11");
	expect_error("file(a.img,)", "unexpected ')' at column 12");
	expect_error("file(a.img))", "unexpected ')' after the expression at column 12");
	expect_error("file(=x)", "unexpected '=' at column 6");
	expect_error("file(a b)", "expected ',' or ')' but found 'b' at column 8");
	expect_error("file('abc)", "unterminated quote at column 6");
	expect_error("stripe(linear(a)=x)", "a key cannot be a node at column 17");
	expect_error("a b", "unexpected 'b' after the expression at column 3");
	expect_error("x(k=)", "unexpected ')' at column 5");
}

static void test_depth_limit(void)
{
	char deep[4096] = "";
	int i;

	for (i = 0; i < 100; i++)
		strcat(deep, "n(");
	strcat(deep, "x");
	for (i = 0; i < 100; i++)
		strcat(deep, ")");
	expect_error(deep, "nesting deeper than 64");
	/* 60 levels are fine. */
	deep[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(deep, "n(");
	strcat(deep, "x");
	for (i = 0; i < 60; i++)
		strcat(deep, ")");
	roundtrip(deep, deep);
}

static void test_format_truncation(void)
{
	struct ubt_spec_node *n = ubt_spec_parse("null(size=1G)", err, sizeof(err));
	char small[6];
	int len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	len = ubt_spec_format(n, small, sizeof(small));
	CU_ASSERT_EQUAL(len, 13);	/* the length it needs, like snprintf */
	CU_ASSERT_STRING_EQUAL(small, "null(");
	ubt_spec_free(n);
}

UT_MAIN("spec", UT(test_bare_word), UT(test_keys_and_positionals), UT(test_nested_nodes),
	UT(test_keyed_node), UT(test_whitespace_and_empty), UT(test_quoting),
	UT(test_errors_name_the_column), UT(test_depth_limit), UT(test_format_truncation))
