// SPDX-License-Identifier: MIT
/* Unit tests for tools/ublk-target/create_opts.c: `create` argument parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ublk-target/create_opts.c"
#include "ubt/registry.h"
#include "ubt/target.h"
#include "ubt/util.h"
#include "ut.h"

static struct create_opts o;
static char err[512];

/* Parse a NULL-terminated list of words after "create". */
#define PARSE(...) parse((char *[]){ "create", __VA_ARGS__, NULL })

static int parse(char **words)
{
	int argc = 0;

	while (words[argc])
		argc++;
	err[0] = '\0';
	return create_opts_parse(argc, words, 4, &o, err, sizeof(err));
}

static void expect_fail(int ret, const char *msg)
{
	CU_ASSERT_EQUAL(ret, -EINVAL);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  got '%s', wanted '%s'\n", err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
}

static void test_defaults(void)
{
	CU_ASSERT_EQUAL(PARSE("null", "--size", "1G"), 0);
	CU_ASSERT_EQUAL(o.dev_id, -1);
	CU_ASSERT_EQUAL(o.nr_queues, 1);
	CU_ASSERT_EQUAL(o.depth, CONFIG_DEFAULT_QUEUE_DEPTH);
	CU_ASSERT_EQUAL(o.lbs, 512);
	CU_ASSERT_FALSE(o.foreground);
	CU_ASSERT_STRING_EQUAL(o.spec, "null(size=1G)");
	CU_ASSERT_EQUAL(o.copy_mode, UBT_COPY_AUTO);
	CU_ASSERT_EQUAL(o.recovery, UBT_RECOVERY_AUTO);
	CU_ASSERT_STRING_EQUAL(o.scheduler, "none");
}

static void test_recovery(void)
{
	static const struct {
		char *word;
		enum ubt_recovery r;
	} ok[] = {
		{ "reissue", UBT_RECOVERY_REISSUE },
		{ "fail-io", UBT_RECOVERY_FAIL_IO },
		{ "none", UBT_RECOVERY_NONE },
	};
	unsigned int i;

	for (i = 0; i < UBT_ARRAY_SIZE(ok); i++) {
		CU_ASSERT_EQUAL(PARSE("--recovery", ok[i].word, "null", "--size", "1G"), 0);
		CU_ASSERT_EQUAL(o.recovery, ok[i].r);
		CU_ASSERT_STRING_EQUAL(ubt_recovery_name(ok[i].r), ok[i].word);
	}
	/* auto is what no --recovery means, not a word to give. */
	expect_fail(PARSE("--recovery", "auto", "null", "--size", "1G"),
		    "--recovery takes reissue, fail-io or none, not 'auto'");
	expect_fail(PARSE("null", "--size", "1G", "--recovery", "always"),
		    "--recovery takes reissue, fail-io or none, not 'always'");
}

static void test_engine(void)
{
	CU_ASSERT_EQUAL(PARSE("file", "--file", "/x/a"), 0);
	CU_ASSERT_EQUAL(o.engine, UBT_ENGINE_URING);
	CU_ASSERT_EQUAL(PARSE("file", "--file", "/x/a", "--engine", "aio"), 0);
	CU_ASSERT_EQUAL(o.engine, UBT_ENGINE_AIO);
	CU_ASSERT_STRING_EQUAL(o.spec, "file(/x/a)");
	CU_ASSERT_EQUAL(PARSE("--engine", "aio", "--spec", "a.img"), 0);
	CU_ASSERT_EQUAL(o.engine, UBT_ENGINE_AIO);
	expect_fail(PARSE("file", "--file", "/x/a", "--engine", "libaio"),
		    "--engine takes uring or aio, not 'libaio'");
}

static void test_copy_mode_and_scheduler(void)
{
	CU_ASSERT_EQUAL(PARSE("--copy-mode", "zero-copy", "null", "--size", "1G"), 0);
	CU_ASSERT_EQUAL(o.copy_mode, UBT_COPY_ZERO_COPY);
	CU_ASSERT_EQUAL(PARSE("null", "--size", "1G", "--copy-mode", "user-copy"), 0);
	CU_ASSERT_EQUAL(o.copy_mode, UBT_COPY_USER_COPY);
	CU_ASSERT_EQUAL(PARSE("--io-scheduler", "mq-deadline", "null", "--size", "1G"), 0);
	CU_ASSERT_STRING_EQUAL(o.scheduler, "mq-deadline");
	CU_ASSERT_EQUAL(PARSE("--io-scheduler", "kernel", "null", "--size", "1G"), 0);
	CU_ASSERT_PTR_NULL(o.scheduler);
	expect_fail(PARSE("--copy-mode", "zc", "null", "--size", "1G"),
		    "--copy-mode takes auto, copy, zero-copy or user-copy, not 'zc'");
	expect_fail(PARSE("--io-scheduler", "../x", "null", "--size", "1G"),
		    "--io-scheduler takes a scheduler name");
}

static void test_device_options_anywhere(void)
{
	CU_ASSERT_EQUAL(PARSE("-n", "3", "null", "-q", "2", "--size", "4M", "-d", "64",
			      "--lbs", "4096", "--foreground"), 0);
	CU_ASSERT_EQUAL(o.dev_id, 3);
	CU_ASSERT_EQUAL(o.nr_queues, 2);
	CU_ASSERT_EQUAL(o.depth, 64);
	CU_ASSERT_EQUAL(o.lbs, 4096);
	CU_ASSERT_TRUE(o.foreground);
	CU_ASSERT_STRING_EQUAL(o.spec, "null(size=4M)");
	CU_ASSERT_EQUAL(PARSE("--id=7", "--queues=4", "--depth=4096", "null", "--size=1T"), 0);
	CU_ASSERT_EQUAL(o.dev_id, 7);
	CU_ASSERT_EQUAL(o.nr_queues, 4);
	CU_ASSERT_EQUAL(o.depth, 4096);
}

/* The shorthands are the targets' own (tested in their folders): here, that the line reaches them. */
static void test_shorthands_reach_their_targets(void)
{
	CU_ASSERT_EQUAL(PARSE("file", "--file", "/tmp/a.img"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file(/tmp/a.img)");
	/* Target options anywhere on the line, device options among them. */
	CU_ASSERT_EQUAL(PARSE("--file", "a b.img", "-q", "2", "file", "--readonly"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file('a b.img', readonly)");
	CU_ASSERT_EQUAL(o.nr_queues, 2);
	CU_ASSERT_EQUAL(PARSE("stripe", "--chunk", "128K", "--file", "/x/a", "--file", "/x/b"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "stripe(/x/a, /x/b, chunk=128K)");
	expect_fail(PARSE("concat", "--file", "a", "--size", "1G"), "concat takes only --file");
	expect_fail(PARSE("file", "--file", "a'\".img"), "both ' and \"");
	/* A target without a shorthand says how to build it. */
	expect_fail(PARSE("mirror", "--file", "a"), "mirror has no shorthand: give the stack with "
		    "--spec, e.g. --spec 'mirror(");
}

static void test_spec_passthrough(void)
{
	CU_ASSERT_EQUAL(PARSE("--spec", "file(a.img, offset=1M)", "-q", "2"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file(a.img, offset=1M)");
	CU_ASSERT_EQUAL(o.nr_queues, 2);
	expect_fail(PARSE("--spec", "null(size=1G)", "null"), "--spec describes the whole stack");
	expect_fail(PARSE("--spec", "x", "--size", "1G"), "--spec describes the whole stack");
}

static void test_bad_counts(void)
{
	expect_fail(PARSE("-q", "0", "null", "--size", "1G"), "-q takes a number from 1 to 4, not '0'");
	expect_fail(PARSE("-q", "5", "null", "--size", "1G"), "-q takes a number from 1 to 4");
	expect_fail(PARSE("-q", "x", "null", "--size", "1G"), "not 'x'");
	expect_fail(PARSE("-d", "0", "null", "--size", "1G"), "-d takes a number from 1 to 4096, not '0'");
	expect_fail(PARSE("-d", "4097", "null", "--size", "1G"), "-d takes a number from 1 to 4096");
	expect_fail(PARSE("-n", "-1", "null", "--size", "1G"), "-n takes a number");
	expect_fail(PARSE("--lbs", "1024", "null", "--size", "1G"), "--lbs takes 512 or 4096");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_bad_targets(void)
{
	const struct ubt_target_type *t;
	const char *names[64];
	char want[1024];
	struct ubt_str s = UBT_STR(want, sizeof(want));
	unsigned int n = 0, i;

	expect_fail(PARSE("-q", "1"), "no target given");
	/* The shorthands named: whichever targets this build has that offer one, sorted. */
	for (t = ubt_target_types(); t && n < 64; t = t->next)
		if (t->shorthand)
			names[n++] = t->name;
	qsort(names, n, sizeof(names[0]), by_name);
	ubt_str_printf(&s, "unknown target 'bogus' (shorthands: ");
	for (i = 0; i < n; i++)
		ubt_str_printf(&s, "%s%s", i ? ", " : "", names[i]);
	ubt_str_printf(&s, "; any stack: --spec)");
	CU_ASSERT(n >= 2);
	expect_fail(PARSE("bogus"), want);
	expect_fail(PARSE("null", "--size", "1G", "extra"), "unexpected argument 'extra'");
}

static void test_bad_options(void)
{
	expect_fail(PARSE("null", "--size"), "option '--size' needs a value");
	expect_fail(PARSE("null", "--bogus"), "unknown option '--bogus'");
	expect_fail(PARSE("-z", "null"), "unknown option '-z'");
}

/* --help: the device's options, and what the registered targets offer. */
static void test_help(void)
{
	const struct ubt_target_type *t;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_EQUAL(PARSE("--help"), 0);
	CU_ASSERT_TRUE(o.help);
	create_usage(f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "--spec EXPR"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  stripe [--chunk SIZE] --file PATH --file PATH ..."));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "striped"));
	for (t = ubt_target_types(); t; t = t->next)
		CU_ASSERT_PTR_NOT_NULL(strstr(text, t->usage));
	free(text);
}

UT_MAIN("create_opts", UT(test_defaults), UT(test_copy_mode_and_scheduler), UT(test_engine),
	UT(test_recovery),
	UT(test_device_options_anywhere),
	UT(test_shorthands_reach_their_targets), UT(test_spec_passthrough), UT(test_bad_counts),
	UT(test_bad_targets), UT(test_bad_options), UT(test_help))
