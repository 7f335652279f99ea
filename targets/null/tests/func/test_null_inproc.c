// SPDX-License-Identifier: MIT
/* Functional tests of the null target through the in-process frontend. */
#include <string.h>

#include "ut.h"
#include "core/config/config.h"
#include "func_util.h"

struct counter {
	unsigned int issued, ok, n;
	uint32_t sectors;
};

static bool c_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *r)
{
	struct counter *c = arg;

	(void)q;
	(void)tag;
	if (c->issued == c->n)
		return false;
	memset(r, 0, sizeof(*r));
	r->op = (uint8_t)(c->issued % 3 == 2 ? UBT_OP_FLUSH : c->issued % 3);
	r->sector = c->issued * 8ULL;
	r->nr_sectors = r->op == UBT_OP_FLUSH ? 0 : c->sectors;
	c->issued++;
	return true;
}

static void c_done(void *arg, struct ubt_queue *q, unsigned int tag,
		   const struct ubt_request *r, int res)
{
	struct counter *c = arg;

	(void)q;
	(void)tag;
	c->ok += res == (int)(r->nr_sectors << 9);
}

static const struct ubt_inproc_ops ops = { .next = c_next, .done = c_done };

static void test_null_completes_everything(void)
{
	char err[256];
	struct ubt_tree *tree = func_build("null(size=1G)", 512, err, sizeof(err));
	struct counter c = { .n = 100000, .sectors = 8 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_bytes(tree), 1ULL << 30);
	CU_ASSERT_FALSE(tree->limits.volatile_cache);
	CU_ASSERT_TRUE(tree->limits.discard);
	CU_ASSERT_EQUAL(ubt_inproc_run(tree, 0, 64, &ops, &c), 0);
	CU_ASSERT_EQUAL(c.ok, 100000);
	ubt_tree_free(tree);
}

static void test_null_size_is_required(void)
{
	char err[256];

	CU_ASSERT_PTR_NULL(func_build("null()", 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "null: size= is required"));
	CU_ASSERT_PTR_NULL(func_build("null(size=1000)", 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a multiple of 512"));
	CU_ASSERT_PTR_NULL(func_build("null(size=6K)", 4096, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a multiple of the 4096-byte block size"));
}

static void test_null_shorthand(void)
{
	char spec[256], err[256];

	CU_ASSERT_EQUAL(func_shorthand("null", (const char *const[]){ "--size", "1G", NULL }, spec,
			sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "null(size=1G)");
	CU_ASSERT_EQUAL(func_shorthand("null", (const char *const[]){ NULL }, spec, sizeof(spec), err,
			sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "null needs --size, e.g. 'create null --size 1G'");
	CU_ASSERT_EQUAL(func_shorthand("null", (const char *const[]){ "--size", "1G", "--file", "a",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "null takes only --size");
	CU_ASSERT_EQUAL(func_shorthand("null", (const char *const[]){ "--size", "1Q", NULL }, spec,
			sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--size: '1Q' is not a size"));
	CU_ASSERT_EQUAL(func_shorthand("null", (const char *const[]){ "--size", "99999999999T",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--size: '99999999999T' is too large"));
}

UT_MAIN("null_inproc", UT(test_null_completes_everything), UT(test_null_size_is_required),
	UT(test_null_shorthand))
