// SPDX-License-Identifier: MIT
/*
 * Tests of the concat target's surface: the lines of a dm table are its
 * children, end to end, and `status` places each after the one before;
 * its `create concat` shorthand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func_util.h"
#include "ubt/tree.h"
#include "ut.h"

static char spec[8192], err[512];

static void test_concat_status_places_children(void)
{
	struct ubt_tree *tree = func_build("concat(null(size=1M), zero(size=2M), null(size=4K))",
					   512, err, sizeof(err));
	char out[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	ubt_tree_status(tree, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "[0] 0 6152 concat\n  [1] 0 2048 null\n  [2] 2048 4096 zero\n"
			       "  [3] 6144 8 null\n");
	ubt_tree_free(tree);
}

static void test_concat_shorthand(void)
{
	CU_ASSERT_EQUAL(func_shorthand("concat", (const char *const[]){ "--file", "/x/a", "--file",
			"my disk.img", NULL }, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "concat(/x/a, 'my disk.img')");
	CU_ASSERT_EQUAL(func_shorthand("concat", (const char *const[]){ "--file", "a", "--size", "1G",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "concat takes only --file");
	CU_ASSERT_EQUAL(func_shorthand("concat", (const char *const[]){ NULL }, spec, sizeof(spec),
			err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "concat needs --file PATH for each child");
}

UT_MAIN("concat", UT(test_concat_status_places_children), UT(test_concat_shorthand))
