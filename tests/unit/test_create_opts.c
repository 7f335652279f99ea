// SPDX-License-Identifier: MIT
/* Unit tests for tools/ublk-target/create_opts.c: `create` argument parsing. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/ublk-target/create_opts.c"
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
	CU_ASSERT_STRING_EQUAL(o.spec, "file('/x/a')");
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

static void test_file_shorthand(void)
{
	CU_ASSERT_EQUAL(PARSE("file", "--file", "/tmp/a.img"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file('/tmp/a.img')");
	CU_ASSERT_EQUAL(PARSE("file", "--file", "a b.img", "--offset", "1M", "--size", "2G",
			      "--readonly", "--buffered"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file('a b.img', offset=1M, size=2G, readonly, buffered)");
	CU_ASSERT_EQUAL(PARSE("file", "--file", "it's.img"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "file(\"it's.img\")");
	expect_fail(PARSE("file", "--file", "a'\".img"), "both ' and \"");
}

static void test_file_path_made_absolute(void)
{
	char cwd[4096], want[4200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "file('%s')", cwd);
	CU_ASSERT_EQUAL(PARSE("file", "--file", "."), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, want);
}

static void test_mapping_shorthands(void)
{
	CU_ASSERT_EQUAL(PARSE("stripe", "--chunk", "128K", "--file", "/x/a", "--file", "/x/b"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "stripe('/x/a', '/x/b', chunk=128K)");
	CU_ASSERT_EQUAL(PARSE("stripe", "--file", "/x/a", "--file", "/x/b", "--file", "/x/c"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "stripe('/x/a', '/x/b', '/x/c')");
	CU_ASSERT_EQUAL(PARSE("concat", "--file", "/x/a", "--file", "/x/b"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "concat('/x/a', '/x/b')");
	CU_ASSERT_EQUAL(PARSE("linear", "--file", "/x/a", "--offset", "1M", "--size", "512M"), 0);
	CU_ASSERT_STRING_EQUAL(o.spec, "linear(file('/x/a'), offset=1M, size=512M)");
	expect_fail(PARSE("stripe", "--chunk", "64K"), "stripe needs --file PATH for each child");
	expect_fail(PARSE("concat", "--file", "a", "--size", "1G"), "concat takes only --file");
	expect_fail(PARSE("file", "--file", "a", "--chunk", "64K"), "--chunk goes with stripe only");
	expect_fail(PARSE("stripe", "--chunk", "1Z", "--file", "a"), "--chunk: '1Z' is not a size");
	expect_fail(PARSE("linear", "--file", "a", "--file", "b"), "linear needs exactly one --file");
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

static void test_bad_sizes(void)
{
	expect_fail(PARSE("null", "--size", "1Q"), "--size: '1Q' is not a size");
	expect_fail(PARSE("null", "--size", "99999999999T"), "--size: '99999999999T' is too large");
	expect_fail(PARSE("file", "--file", "a", "--offset", "x"), "--offset: 'x' is not a size");
}

static void test_bad_targets(void)
{
	expect_fail(PARSE("-q", "1"), "no target given");
	expect_fail(PARSE("bogus"), "unknown target 'bogus'");
	expect_fail(PARSE("null"), "null needs --size");
	expect_fail(PARSE("null", "--size", "1G", "--file", "a"), "null takes only --size");
	expect_fail(PARSE("file"), "file needs exactly one --file");
	expect_fail(PARSE("file", "--file", "a", "--file", "b"), "file needs exactly one --file");
	expect_fail(PARSE("null", "--size", "1G", "extra"), "unexpected argument 'extra'");
}

static void test_bad_options(void)
{
	expect_fail(PARSE("null", "--size"), "option '--size' needs a value");
	expect_fail(PARSE("null", "--bogus"), "unknown option '--bogus'");
	expect_fail(PARSE("-z", "null"), "unknown option '-z'");
}

static void test_help(void)
{
	CU_ASSERT_EQUAL(PARSE("--help"), 0);
	CU_ASSERT_TRUE(o.help);
	CU_ASSERT_PTR_NOT_NULL(strstr(create_usage, "--spec EXPR"));
}

UT_MAIN("create_opts", UT(test_defaults), UT(test_copy_mode_and_scheduler), UT(test_engine),
	UT(test_recovery),
	UT(test_device_options_anywhere),
	UT(test_file_shorthand), UT(test_file_path_made_absolute), UT(test_mapping_shorthands), UT(test_spec_passthrough), UT(test_bad_counts),
	UT(test_bad_sizes), UT(test_bad_targets), UT(test_bad_options), UT(test_help))
