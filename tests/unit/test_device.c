// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/device/device.c and core/device/copy_mode.c: the ublk parameters
 * derived from a tree's limits, and the copy mode a device gets.
 */
#include <stddef.h>
#include <string.h>

#include "core/device/device.c"
#include "ut.h"

static struct ubt_target root = { .len = (1ULL << 30) >> 9 };
static struct ubt_tree tree = {
	.root = &root,
	.opts = { .max_io_bytes = 1024 * 1024, .tag_buf_bytes = 512 * 1024 },
};

static void limits(uint32_t lbs)
{
	memset(&tree.limits, 0, sizeof(tree.limits));
	tree.limits.logical_block_size = lbs;
	tree.limits.physical_block_size = lbs;
	tree.limits.max_io_bytes = 1024 * 1024;
}

static void test_basic(void)
{
	struct ublk_params p;

	limits(4096);
	tree.limits.io_min = 65536;
	tree.limits.io_opt = 3 * 65536;		/* not a power of two: left out */
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC);
	CU_ASSERT_EQUAL(p.basic.logical_bs_shift, 12);
	CU_ASSERT_EQUAL(p.basic.physical_bs_shift, 12);
	CU_ASSERT_EQUAL(p.basic.io_min_shift, 16);
	CU_ASSERT_EQUAL(p.basic.io_opt_shift, 0);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 1024);
	CU_ASSERT_EQUAL(p.basic.dev_sectors, 2097152);
	CU_ASSERT_EQUAL(p.basic.attrs, 0);
	CU_ASSERT_EQUAL(p.basic.chunk_sectors, 0);
}

/* Tag buffers bound a request in copy modes; without them only the tree does. */
static void test_max_sectors_by_mode(void)
{
	struct ublk_params p;

	limits(512);
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 1024);
	fill_params(&tree, UBT_COPY_USER_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 1024);
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 2048);
	/* A leaf's own limit still wins. */
	tree.limits.max_io_bytes = 256 * 1024;
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.max_sectors, 512);
}

static void test_cache_and_read_only(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.volatile_cache = true;
	tree.limits.fua = true;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);
	tree.limits.read_only = true;
	tree.limits.discard = true;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT(p.basic.attrs & UBLK_ATTR_READ_ONLY);
	/* A read-only device offers no discard. */
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC);
}

static void test_discard(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.discard = true;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	CU_ASSERT_EQUAL(p.discard.discard_granularity, 512);
	CU_ASSERT(p.discard.max_discard_sectors > 0);
	CU_ASSERT_EQUAL(p.discard.max_write_zeroes_sectors, 0);
	CU_ASSERT_EQUAL(p.discard.max_discard_segments, 1);
	tree.limits.discard = false;
	tree.limits.write_zeroes = true;
	tree.limits.discard_granularity = 65536;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.discard.max_discard_sectors, 0);
	CU_ASSERT(p.discard.max_write_zeroes_sectors > 0);
	CU_ASSERT_EQUAL(p.discard.discard_granularity, 65536);
}

/* A stripe's chunk reaches the kernel as chunk_sectors, in every mode. */
static void test_chunk_sectors(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.chunk_sectors = 128;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.chunk_sectors, 128);
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT_EQUAL(p.basic.chunk_sectors, 128);
}

/*
 * The leaves' O_DIRECT memory alignment becomes the DMA alignment, but only
 * under zero copy: in the copy modes our buffers are page aligned.
 */
static void test_dma_alignment(void)
{
	struct ublk_params p;

	limits(512);
	tree.limits.dma_alignment = 512;
	fill_params(&tree, UBT_COPY_COPY, &p);
	CU_ASSERT_FALSE(p.types & UBLK_PARAM_TYPE_DMA_ALIGN);
	fill_params(&tree, UBT_COPY_USER_COPY, &p);
	CU_ASSERT_FALSE(p.types & UBLK_PARAM_TYPE_DMA_ALIGN);
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT(p.types & UBLK_PARAM_TYPE_DMA_ALIGN);
	CU_ASSERT_EQUAL(p.dma.alignment, 511);
	tree.limits.dma_alignment = 4096;
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT_EQUAL(p.dma.alignment, 4095);
	/* Nothing to ask beyond the kernel's default of 4 bytes (buffered files). */
	tree.limits.dma_alignment = 0;
	fill_params(&tree, UBT_COPY_ZERO_COPY, &p);
	CU_ASSERT_FALSE(p.types & UBLK_PARAM_TYPE_DMA_ALIGN);
	/* The layout of the kernel's struct (ublk_cmd.h, 6.15+), field by field. */
	CU_ASSERT_EQUAL(offsetof(struct ublk_params, zoned), 76);
	CU_ASSERT_EQUAL(offsetof(struct ublk_params, dma), 108);
	CU_ASSERT_EQUAL(offsetof(struct ublk_params, seg), 120);
}

static const uint64_t k612 = UBLK_F_SUPPORT_ZERO_COPY | UBLK_F_CMD_IOCTL_ENCODE | UBLK_F_USER_COPY;
static const uint64_t k616 = UBLK_F_SUPPORT_ZERO_COPY | UBLK_F_CMD_IOCTL_ENCODE | UBLK_F_USER_COPY |
			     UBLK_F_AUTO_BUF_REG;

static void test_copy_mode_auto(void)
{
	static struct ubt_target_type plain = { .name = "plain" };
	static struct ubt_target_type looker = { .name = "looker", .flags = UBT_TARGET_NEEDS_DATA };
	struct ubt_target node = { .type = &looker, .id = 3, .needs_data = true };
	enum ubt_copy_mode m = UBT_COPY_AUTO;
	char err[256];

	root.type = &plain;
	tree.data_node = NULL;
	/* 6.12 lists SUPPORT_ZERO_COPY but cannot do it: copy. */
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_AUTO, k612, &tree, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m, UBT_COPY_COPY);
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_AUTO, k616, &tree, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m, UBT_COPY_ZERO_COPY);
	/* A node that needs the data keeps auto on copy. */
	tree.data_node = &node;
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_AUTO, k616, &tree, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m, UBT_COPY_COPY);
	tree.data_node = NULL;
}

static void test_copy_mode_forced(void)
{
	static struct ubt_target_type looker = { .name = "looker", .flags = UBT_TARGET_NEEDS_DATA };
	struct ubt_target node = { .type = &looker, .id = 3, .needs_data = true };
	enum ubt_copy_mode m = UBT_COPY_AUTO;
	char err[256] = "";

	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_ZERO_COPY, k612, &tree, &m, err,
					      sizeof(err)), -EOPNOTSUPP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Linux 6.16"));
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_USER_COPY, UBLK_F_CMD_IOCTL_ENCODE, &tree,
					      &m, err, sizeof(err)), -EOPNOTSUPP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "user copy"));
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_USER_COPY, k612, &tree, &m, err,
					      sizeof(err)), 0);
	CU_ASSERT_EQUAL(m, UBT_COPY_USER_COPY);
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_COPY, 0, &tree, &m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m, UBT_COPY_COPY);
	tree.data_node = &node;
	CU_ASSERT_EQUAL(ubt_copy_mode_resolve(UBT_COPY_ZERO_COPY, k616, &tree, &m, err,
					      sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "node 3 (looker) needs the data in the daemon's memory"));
	tree.data_node = NULL;
	CU_ASSERT_EQUAL(device_copy_mode_flags(UBT_COPY_ZERO_COPY),
			UBLK_F_AUTO_BUF_REG | UBLK_F_SUPPORT_ZERO_COPY);
	CU_ASSERT_EQUAL(device_copy_mode_flags(UBT_COPY_USER_COPY), UBLK_F_USER_COPY);
	CU_ASSERT_EQUAL(device_copy_mode_flags(UBT_COPY_COPY), 0);
}

static void test_copy_mode_names(void)
{
	enum ubt_copy_mode m;
	const char *names[] = { "auto", "copy", "zero-copy", "user-copy" };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(ubt_copy_mode_parse(names[i], &m), 0);
		CU_ASSERT_STRING_EQUAL(ubt_copy_mode_name(m), names[i]);
	}
	CU_ASSERT_EQUAL(ubt_copy_mode_parse("zerocopy", &m), -EINVAL);
	CU_ASSERT_EQUAL(ubt_copy_mode_parse("", &m), -EINVAL);
}

/*
 * The ADD_DEV flags of each recovery mode; auto is reissue where the
 * kernel offers it (6.12 does), none where it does not; fail-io forced on
 * a kernel without it is refused with the reason.
 */
static void test_recovery_flags(void)
{
	const uint64_t reissue = UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE;
	const uint64_t with = k612 | reissue, with_fail = with | UBLK_F_USER_RECOVERY_FAIL_IO;
	enum ubt_recovery r;
	char err[256];

	CU_ASSERT_EQUAL(device_recovery_flags(UBT_RECOVERY_REISSUE), reissue);
	CU_ASSERT_EQUAL(device_recovery_flags(UBT_RECOVERY_FAIL_IO),
			UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_FAIL_IO);
	CU_ASSERT_EQUAL(device_recovery_flags(UBT_RECOVERY_NONE), 0);
	CU_ASSERT_EQUAL(device_recovery_flags(UBT_RECOVERY_AUTO), 0);
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_AUTO, with, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r, UBT_RECOVERY_REISSUE);
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_AUTO, k612, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r, UBT_RECOVERY_NONE);
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_NONE, with, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r, UBT_RECOVERY_NONE);
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_FAIL_IO, with_fail, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r, UBT_RECOVERY_FAIL_IO);
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_FAIL_IO, with, &r, err, sizeof(err)),
			-EOPNOTSUPP);
	CU_ASSERT_STRING_EQUAL(err, "--recovery fail-io: this kernel's ublk driver does not offer "
			       "it (fail-io needs Linux 6.13 or later)");
	CU_ASSERT_EQUAL(recovery_resolve(UBT_RECOVERY_REISSUE, k612, &r, err, sizeof(err)),
			-EOPNOTSUPP);
}

UT_MAIN("device", UT(test_basic), UT(test_max_sectors_by_mode), UT(test_cache_and_read_only), UT(test_discard),
	UT(test_chunk_sectors), UT(test_dma_alignment), UT(test_copy_mode_auto),
	UT(test_copy_mode_forced), UT(test_copy_mode_names), UT(test_recovery_flags))
