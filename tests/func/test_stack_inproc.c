// SPDX-License-Identifier: MIT
/*
 * Functional tests of stacks (stripe, linear, concat over files) through
 * the in-process frontend: random I/O checked against a model, then every
 * backing file checked against the layout computed independently here
 * with device-mapper's formulas.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ut.h"
#include "core/config/config.h"
#include "func_util.h"

static char err[512];

static uint8_t *read_file(const char *path, uint64_t bytes)
{
	uint8_t *buf = malloc(bytes);
	int fd = open(path, O_RDONLY);

	if (!buf || fd < 0 || pread(fd, buf, bytes, 0) != (ssize_t)bytes) {
		perror(path);
		exit(1);
	}
	close(fd);
	return buf;
}

/* dm-stripe: device sector -> (stripe, child sector). */
static uint64_t stripe_sector(uint64_t s, uint64_t chunk, unsigned int n, unsigned int *stripe)
{
	*stripe = (unsigned int)((s / chunk) % n);
	return (s / chunk / n) * chunk + s % chunk;
}

static void report(const struct workload *w)
{
	if (w->errors)
		fprintf(stderr, "\n  %u errors, first: %s\n", w->errors, w->first_error);
}

/*
 * A stripe of three files with 12 KiB chunks, each child file(PATH) plus
 * `child_args` (", engine=aio"): the backing files are checked sector by
 * sector against dm-stripe's formula.
 */
static void run_stripe_of_three(const char *child_args)
{
	const uint64_t file_bytes = 12ULL << 20, chunk = 24;	/* 12 KiB chunks */
	char *f[3], spec[4096];
	uint8_t *img[3];
	struct ubt_tree *tree;
	struct workload w = {
		.nr_ops = 3000, .pct_read = 40, .pct_write = 40, .pct_flush = 4,
		.pct_discard = 8, .pct_zeroes = 8, .pct_fua = 10, .max_bytes = 256 * 1024,
	};
	uint64_t dev, s;
	unsigned int i, bad = 0;

	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u.img", i);
		f[i] = func_make_file(name, file_bytes);
	}
	snprintf(spec, sizeof(spec), "stripe(file('%s'%s), file('%s'%s), file('%s'%s), chunk=12K)",
		 f[0], child_args, f[1], child_args, f[2], child_args);
	tree = func_build(spec, 512, err, sizeof(err));
	if (!tree)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	dev = ubt_tree_bytes(tree);
	CU_ASSERT_EQUAL(dev, 3 * (file_bytes - file_bytes % (chunk << 9)));
	w.bytes = dev;
	w.model = calloc(1, dev);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	report(&w);
	ubt_tree_free(tree);
	for (i = 0; i < 3; i++)
		img[i] = read_file(f[i], file_bytes);
	for (s = 0; s < dev >> 9; s++) {
		uint64_t cs = stripe_sector(s, chunk, 3, &i);

		bad += memcmp(img[i] + (cs << 9), w.model + (s << 9), 512) != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	for (i = 0; i < 3; i++) {
		free(img[i]);
		unlink(f[i]);
		free(f[i]);
	}
	free(w.model);
}

static void test_stripe_of_three_odd_chunk(void)
{
	run_stripe_of_three("");
}

/* The same over Linux AIO: split requests become PREADV / PWRITEV iocbs. */
static void test_stripe_of_three_on_aio(void)
{
	run_stripe_of_three(", engine=aio");
}

/* stripe(linear(a, offset=1M, size=16M), concat(b, c), chunk=64K) */
struct stack3 {
	char *a, *b, *c;
	struct ubt_tree *tree;
};

static void stack3_build(struct stack3 *s)
{
	char spec[4096];

	s->a = func_make_file("a.img", 20 << 20);
	s->b = func_make_file("b.img", 8 << 20);
	s->c = func_make_file("c.img", 8 << 20);
	snprintf(spec, sizeof(spec),
		 "stripe(linear('%s', offset=1M, size=16M), concat('%s', '%s'), chunk=64K)",
		 s->a, s->b, s->c);
	s->tree = func_build(spec, 512, err, sizeof(err));
	if (!s->tree)
		fprintf(stderr, "\n  %s\n", err);
}

/* Check a, b and c against the model, through the formulas. */
static unsigned int stack3_check(struct stack3 *s, const uint8_t *model)
{
	uint8_t *a = read_file(s->a, 20 << 20), *b = read_file(s->b, 8 << 20),
		*c = read_file(s->c, 8 << 20), *at;
	uint64_t sec;
	unsigned int bad = 0, i;

	for (sec = 0; sec < (32ULL << 20) >> 9; sec++) {
		uint64_t cs = stripe_sector(sec, 128, 2, &i);

		if (i == 0)
			at = a + (1 << 20) + (cs << 9);
		else if (cs < (8 << 20) >> 9)
			at = b + (cs << 9);
		else
			at = c + ((cs << 9) - (8 << 20));
		bad += memcmp(at, model + (sec << 9), 512) != 0;
	}
	free(a);
	free(b);
	free(c);
	return bad;
}

static void stack3_free(struct stack3 *s)
{
	ubt_tree_free(s->tree);
	unlink(s->a);
	unlink(s->b);
	unlink(s->c);
	free(s->a);
	free(s->b);
	free(s->c);
}

static void test_three_level_stack(void)
{
	struct stack3 s;
	struct workload w = {
		.bytes = 32 << 20, .nr_ops = 3000, .pct_read = 40, .pct_write = 45,
		.pct_flush = 5, .pct_discard = 5, .pct_zeroes = 5, .max_bytes = 512 * 1024,
	};

	stack3_build(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.tree);
	CU_ASSERT_EQUAL(ubt_tree_bytes(s.tree), 32 << 20);
	CU_ASSERT_EQUAL(s.tree->nr_nodes, 6);
	CU_ASSERT_EQUAL(s.tree->limits.io_min, 65536);
	CU_ASSERT_EQUAL(s.tree->limits.io_opt, 131072);
	w.model = calloc(1, 32 << 20);
	CU_ASSERT_EQUAL(workload_run(s.tree, 0, 32, &w), 0);
	report(&w);
	CU_ASSERT(w.reads_checked > 500);
	CU_ASSERT_EQUAL(stack3_check(&s, w.model), 0);
	free(w.model);
	stack3_free(&s);
}

static void test_stack_two_queues(void)
{
	uint8_t *model = calloc(1, 32 << 20);
	struct workload w[2];
	struct stack3 s;
	int i;

	stack3_build(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.tree);
	for (i = 0; i < 2; i++)
		w[i] = (struct workload){
			.model = model, .start = (uint64_t)i << 24, .bytes = 16 << 20,
			.nr_ops = 1500, .pct_read = 40, .pct_write = 55, .pct_flush = 5,
			.max_bytes = 256 * 1024, .seed = 77 + (uint64_t)i,
		};
	CU_ASSERT_EQUAL(workload_run_parallel(s.tree, 16, w, 2), 0);
	for (i = 0; i < 2; i++)
		report(&w[i]);
	CU_ASSERT_EQUAL(stack3_check(&s, model), 0);
	free(model);
	stack3_free(&s);
}

static void test_stack_errors(void)
{
	char *a = func_make_file("dup.img", 4 << 20), spec[4096];

	snprintf(spec, sizeof(spec), "stripe('%s', linear('%s', offset=1M))", a, a);
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stripe: the same file is used by two children"));
	snprintf(spec, sizeof(spec), "stripe(linear('%s', size=1M), linear('%s', offset=2M, size=1M))", a, a);
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stripe: the same file is used by two children"));
	snprintf(spec, sizeof(spec), "linear('%s', offset=3M, size=2M)", a);
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "linear: offset=3145728 size=2097152 goes past the end"));
	snprintf(spec, sizeof(spec), "linear('%s', '%s')", a, a);
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "linear: takes exactly one child"));
	CU_ASSERT_PTR_NULL(func_build("concat()", 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "concat: needs at least one child"));
	unlink(a);
	free(a);
}

/* Labels: found by name or index; a number or a repeated label is refused. */
static void test_labels(void)
{
	struct ubt_tree *tree = func_build("concat(null(size=1M, name=a), zero(size=1M, name=b.2))", 512, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_find(tree, "a")->id, 1);
	CU_ASSERT_EQUAL(ubt_tree_find(tree, "b.2")->id, 2);
	CU_ASSERT_STRING_EQUAL(ubt_tree_find(tree, "2")->label, "b.2");
	CU_ASSERT_PTR_NULL(ubt_tree_find(tree, "3"));
	CU_ASSERT_PTR_NULL(ubt_tree_find(tree, "c"));
	ubt_tree_free(tree);
	CU_ASSERT_PTR_NULL(func_build("concat(null(size=1M, name=a), null(size=1M, name=a))", 512, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "name=a is given to two nodes");
	CU_ASSERT_PTR_NULL(func_build("null(size=1M, name=12)", 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a label cannot be a number"));
	CU_ASSERT_PTR_NULL(func_build("null(size=1M, name='a b')", 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a label is letters, digits"));
}

UT_MAIN("stack_inproc", UT(test_stripe_of_three_odd_chunk), UT(test_stripe_of_three_on_aio), UT(test_three_level_stack),
	UT(test_stack_two_queues), UT(test_stack_errors), UT(test_labels))
