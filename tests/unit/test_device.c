// SPDX-License-Identifier: MIT
/* Unit tests for core/device.c: the ublk parameters derived from a tree's limits. */
#include <string.h>

#include "../../core/device.c"
#include "ut.h"

static struct ubt_target root = { .len = (1ULL << 30) >> 9 };
static struct ubt_tree tree = { .root = &root };

static void limits(uint32_t lbs)
{
	memset(&tree.limits, 0, sizeof(tree.limits));
	tree.limits.logical_block_size = lbs;
	tree.limits.physical_block_size = lbs;
	tree.limits.max_io_bytes = 512 * 1024;
}

static void test_basic(void)
{
	struct ublk_params p;

	limits(4096);
	tree.limits.io_min = 65536;
	tree.limits.io_opt = 3 * 65536;		/* not a power of two: left out */
	fill_params(&tree, &p);
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC);
	CU_ASSERT_EQUAL(p.basic.logical_bs_shift, 12);
	CU_ASSERT_EQUAL(p.basic.physical_bs_shift, 12);
	CU_ASSERT_EQUAL(p.basic.io_min_shift, 16);
	CU_ASSERT_EQUAL(p.basic.io_opt_shift, 0);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 1024);
	CU_ASSERT_EQUAL(p.basic.dev_sectors, 2097152);
	CU_ASSERT_EQUAL(p.basic.attrs, 0);
}

static void test_cache_and_read_only(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.volatile_cache = true;
	tree.limits.fua = true;
	fill_params(&tree, &p);
	CU_ASSERT_EQUAL(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);
	tree.limits.read_only = true;
	tree.limits.discard = true;
	fill_params(&tree, &p);
	CU_ASSERT(p.basic.attrs & UBLK_ATTR_READ_ONLY);
	/* A read-only device offers no discard. */
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC);
}

static void test_discard(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.discard = true;
	fill_params(&tree, &p);
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	CU_ASSERT_EQUAL(p.discard.discard_granularity, 512);
	CU_ASSERT(p.discard.max_discard_sectors > 0);
	CU_ASSERT_EQUAL(p.discard.max_write_zeroes_sectors, 0);
	CU_ASSERT_EQUAL(p.discard.max_discard_segments, 1);
	tree.limits.discard = false;
	tree.limits.write_zeroes = true;
	tree.limits.discard_granularity = 65536;
	fill_params(&tree, &p);
	CU_ASSERT_EQUAL(p.discard.max_discard_sectors, 0);
	CU_ASSERT(p.discard.max_write_zeroes_sectors > 0);
	CU_ASSERT_EQUAL(p.discard.discard_granularity, 65536);
}

UT_MAIN("device", UT(test_basic), UT(test_cache_and_read_only), UT(test_discard))
