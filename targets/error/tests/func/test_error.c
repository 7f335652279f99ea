// SPDX-License-Identifier: MIT
/*
 * Tests of the error target: every request fails, and its dm table line.
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

static char err[512], spec[8192];

static void test_error_fails_everything(void)
{
	struct workload w = { .nr_ops = 300, .pct_read = 40, .pct_write = 30, .pct_flush = 10,
			      .pct_discard = 10, .pct_zeroes = 10 };
	struct ubt_tree *tree = func_build_fmt("error(size=8M)", NULL, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = calloc(1, FILE_BYTES);
	CU_ASSERT_NOT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	CU_ASSERT_EQUAL(w.completed, w.issued);
	CU_ASSERT_EQUAL(w.errors, w.issued);
	ubt_tree_free(tree);
	free(w.model);
}

/* dm's error line: no arguments, or (1.7) a device only for its limits. */
static void test_error_table(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "0 2048 error"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "error(size=1048576)");
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err),
					"0 2048 error /x/a 0"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "error(size=1048576)");
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "0 8 error /x"),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "error: Invalid argument count"));
	func_expect_roundtrip("0 2048 error \n");
}

UT_MAIN("error", UT(test_error_fails_everything), UT(test_error_table))
