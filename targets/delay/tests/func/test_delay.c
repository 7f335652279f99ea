// SPDX-License-Identifier: MIT
/*
 * Tests of the delay target through the in-process frontend: requests held
 * and where each class goes; messages that change the delays while it runs;
 * its dm table line both ways, with dm-delay's checks and words.
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

static char err[512], line_spec[8192];

/* delay: reads held 30 ms each (depth 1), writes not; a message changes it. */
static void test_delay_holds_requests(void)
{
	struct workload w = { .nr_ops = 10, .pct_read = 100 };
	char *path;
	uint8_t *orig = func_random_file("delay.img", FILE_BYTES, &path);
	struct ubt_tree *tree = func_build_fmt("delay(%s, read=30, write=0, name=d)", path, err, sizeof(err));
	struct ubt_target *d;
	char table[8192], want[8192];
	double t0, t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	d = ubt_tree_find(tree, "d");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	w.bytes = FILE_BYTES;
	w.model = orig;
	t0 = func_now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 1, &w), 0);
	t = func_now_s() - t0;
	CU_ASSERT(t >= 0.3);
	/* Held in parallel, not in turn: 10 at depth 10 take one delay. */
	w.issued = w.completed = 0;
	t0 = func_now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 10, &w), 0);
	t = func_now_s() - t0;
	CU_ASSERT(t >= 0.03 && t < 0.25);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "d"), "0 0 0");
	/* The delays as dm's line says them: one triple while they are alike. */
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, table, sizeof(table), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "0 16384 delay %s 0 30 %s 0 0\n", path, path);
	CU_ASSERT_STRING_EQUAL(table, want);
	CU_ASSERT_EQUAL(func_message(tree, "d", "read 0 flush 5", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ubt_tree_to_table(tree, table, sizeof(table), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "0 16384 delay %s 0 0 %s 0 0 %s 0 5\n", path, path, path);
	CU_ASSERT_STRING_EQUAL(table, want);
	w.issued = w.completed = 0;
	w.nr_ops = 200;
	t0 = func_now_s();
	CU_ASSERT_EQUAL(workload_run(tree, 0, 1, &w), 0);
	CU_ASSERT(func_now_s() - t0 < 1.0);
	CU_ASSERT_EQUAL(func_message(tree, "d", "read", err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(func_message(tree, "d", "sideways 5", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown class 'sideways'"));
	CU_ASSERT_EQUAL(func_message(tree, "d", "write -1", err, sizeof(err)), -EINVAL);
	ubt_tree_free(tree);
	free(orig);
	unlink(path);
	free(path);
}

/* write_to: writes go to another child, reads do not see them. */
static void test_delay_write_to(void)
{
	struct workload w = { .nr_ops = 300, .pct_write = 100, .align = 4096 };
	char *a, *b, spec[4096];
	uint8_t *oa = func_random_file("delay-a.img", FILE_BYTES, &a), *ob = func_random_file("delay-b.img", FILE_BYTES, &b), *now;
	struct ubt_tree *tree;

	snprintf(spec, sizeof(spec), "delay(%s, write_to=file('%%s'))", a);
	tree = func_build_fmt(spec, b, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = FILE_BYTES;
	w.model = malloc(FILE_BYTES);
	memcpy(w.model, ob, FILE_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 8, &w), 0);
	now = func_file_content(a, FILE_BYTES);
	CU_ASSERT(!memcmp(now, oa, FILE_BYTES));
	free(now);
	now = func_file_content(b, FILE_BYTES);
	CU_ASSERT(!memcmp(now, w.model, FILE_BYTES));
	free(now);
	ubt_tree_free(tree);
	free(w.model);
	free(oa);
	free(ob);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}

/* dm-delay's triples: each class inherits the device and delay not given. */
static void test_delay_lines(void)
{
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 delay /x/a 0 100"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "delay(linear(/x/a, offset=0, size=1048576), read=100)");
	/* lvm2's writeerror recipe: reads to the PV, writes to an error device. */
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 delay /x/a 0 0 /x/b 16 0"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "delay(linear(/x/a, offset=0, size=1048576), read=0, write=0, "
			       "write_to=linear(/x/b, offset=8192, size=1048576))");
	CU_ASSERT_EQUAL(func_table_spec(line_spec, sizeof(line_spec), err, sizeof(err),
					"0 2048 delay /x/a 0 1 /x/a 0 2 /x/c 0 3"), 0);
	CU_ASSERT_STRING_EQUAL(line_spec, "delay(linear(/x/a, offset=0, size=1048576), read=1, write=2, "
			       "flush=3, flush_to=linear(/x/c, offset=0, size=1048576))");
	func_expect_table_error("0 8 delay /x 0", "delay: Requires exactly 3, 6 or 9 arguments");
	func_expect_table_error("0 8 delay /x 0 1 /y 0", "delay: Requires exactly 3, 6 or 9 arguments");
	func_expect_table_error("0 8 delay /x 0 x", "delay: Invalid delay");
	func_expect_table_error("0 8 delay /x 0 1 /y z 1", "delay: Invalid device sector");
}

static void test_delay_roundtrip(void)
{
	char *a = func_make_file("delay-rta.img", 16 << 20), *b = func_make_file("delay-rtb.img", 16 << 20);
	char *c = func_make_file("delay-rtc.img", 16 << 20), t[4096];

	snprintf(t, sizeof(t), "0 2048 delay %s 0 100\n", a);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 delay %s 0 0 %s 16 0\n", a, b);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 delay %s 0 1 %s 0 2 %s 0 3\n", a, b, c);
	func_expect_roundtrip(t);
	snprintf(t, sizeof(t), "0 2048 zero \n2048 2048 delay %s 0 5\n4096 8 error \n", a);
	func_expect_roundtrip(t);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

UT_MAIN("delay", UT(test_delay_holds_requests), UT(test_delay_write_to), UT(test_delay_lines), UT(test_delay_roundtrip))
