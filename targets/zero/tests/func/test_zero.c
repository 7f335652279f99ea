// SPDX-License-Identifier: MIT
/*
 * Tests of the zero target: what it does to the data, and its dm table line.
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

static void test_zero_reads_zeros_and_drops_writes(void)
{
	struct workload w = { .nr_ops = 400, .pct_write = 60, .pct_discard = 20, .pct_flush = 20 };
	struct ubt_tree *tree = func_build_fmt("zero(size=8M)", NULL, err, sizeof(err));
	uint8_t *model = malloc(FILE_BYTES), *zeros = calloc(1, FILE_BYTES);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_FALSE(tree->limits.write_zeroes);	/* dm sends zero no write-zeroes */
	w.bytes = FILE_BYTES;
	w.model = calloc(1, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	memset(model, 0xff, FILE_BYTES);
	CU_ASSERT_EQUAL(model_read_device(tree, model, FILE_BYTES), 0);
	CU_ASSERT(!memcmp(model, zeros, FILE_BYTES));
	ubt_tree_free(tree);
	free(w.model);
	free(model);
	free(zeros);
}

/* dm's zero line: no arguments, printed with a trailing space as dm prints it. */
static void test_zero_table(void)
{
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "0 2048 zero"), 0);
	CU_ASSERT_STRING_EQUAL(spec, "zero(size=1048576)");
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "0 8 zero 1"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "table line 1: zero: No arguments required");
	func_expect_roundtrip("0 2048 zero \n");
	func_expect_roundtrip("0 2048 zero \n2048 8 zero \n");
}

UT_MAIN("zero", UT(test_zero_reads_zeros_and_drops_writes), UT(test_zero_table))
