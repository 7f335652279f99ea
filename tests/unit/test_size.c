// SPDX-License-Identifier: MIT
/* Unit tests for core/lib/size.c: size and number parsing, size formatting. */
#include <errno.h>
#include <string.h>

#include "core/lib/size.c"
#include "ut.h"

static void test_plain_numbers(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(ubt_parse_size("0", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(ubt_parse_size("4096", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(ubt_parse_size("512B", &v), 0);
	CU_ASSERT_EQUAL(v, 512);
}

static void test_suffixes(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(ubt_parse_size("64K", &v), 0);
	CU_ASSERT_EQUAL(v, 65536);
	CU_ASSERT_EQUAL(ubt_parse_size("64k", &v), 0);
	CU_ASSERT_EQUAL(v, 65536);
	CU_ASSERT_EQUAL(ubt_parse_size("1M", &v), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 20);
	CU_ASSERT_EQUAL(ubt_parse_size("2G", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 30);
	CU_ASSERT_EQUAL(ubt_parse_size("3T", &v), 0);
	CU_ASSERT_EQUAL(v, 3ULL << 40);
	CU_ASSERT_EQUAL(ubt_parse_size("64KiB", &v), 0);
	CU_ASSERT_EQUAL(v, 65536);
	CU_ASSERT_EQUAL(ubt_parse_size("1MB", &v), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 20);
}

static void test_bad_sizes(void)
{
	uint64_t v = 7;

	CU_ASSERT_EQUAL(ubt_parse_size("", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size("K", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size("1X", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size("1KK", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size("-1", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size("1.5G", &v), -EINVAL);
	CU_ASSERT_EQUAL(ubt_parse_size(" 1G", &v), -EINVAL);
	CU_ASSERT_EQUAL(v, 7);	/* untouched on error */
}

static void test_overflow(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(ubt_parse_size("18446744073709551615", &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(ubt_parse_size("18446744073709551616", &v), -ERANGE);
	CU_ASSERT_EQUAL(ubt_parse_size("16777216T", &v), -ERANGE);
	CU_ASSERT_EQUAL(ubt_parse_size("16777215T", &v), 0);
	CU_ASSERT_EQUAL(ubt_parse_size("99999999999999999999999999999999", &v), -ERANGE);
	CU_ASSERT_EQUAL(ubt_parse_uint("99999999999999999999", &v), -ERANGE);
}

static void test_format(void)
{
	char buf[32];

	ubt_format_size(1ULL << 30, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1G");
	ubt_format_size(3ULL << 20, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "3M");
	ubt_format_size(1536 * 1024, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1536K");
	ubt_format_size(1000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1000");
	ubt_format_size(0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0");
	ubt_format_size(5ULL << 40, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "5T");
}

UT_MAIN("size", UT(test_plain_numbers), UT(test_suffixes), UT(test_bad_sizes),
	UT(test_overflow), UT(test_format))
