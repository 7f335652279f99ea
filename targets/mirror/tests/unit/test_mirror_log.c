// SPDX-License-Identifier: MIT
/*
 * Unit tests for targets/mirror/log.c: dm-log's disk format against bytes
 * the kernel wrote, sizes, and the activation rules (sync, nosync, a grown
 * mirror, a foreign or empty log).
 */
#include <string.h>

#include "targets/mirror/log.c"
#include "ut.h"

/* A 16-region disk log, every region clean, as the kernel's dm-mirror left it. */
static const uint8_t kernel_header[16] = {
	0x72, 0x52, 0x69, 0x4d, 0x02, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_sizes(void)
{
	CU_ASSERT_EQUAL(mirror_log_bitmap_bytes(1), 8);
	CU_ASSERT_EQUAL(mirror_log_bitmap_bytes(64), 8);
	CU_ASSERT_EQUAL(mirror_log_bitmap_bytes(65), 16);
	CU_ASSERT_EQUAL(mirror_log_io_bytes(16, 512), 1536);
	CU_ASSERT_EQUAL(mirror_log_io_bytes(16, 4096), 4096);
	/* 2 TiB in 2 MiB regions: 1M regions, 128 KiB of bitmap. */
	CU_ASSERT_EQUAL(mirror_log_io_bytes(1 << 20, 512), 1024 + 131072);
}

static void test_reads_the_kernels_log(void)
{
	struct mirror_log l;

	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 16, true, 512), 0);
	memcpy(l.image, kernel_header, sizeof(kernel_header));
	l.image[1024] = 0xff;
	l.image[1025] = 0xfe;		/* region 8 dirty: a crash caught a write there */
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 1);
	CU_ASSERT_FALSE(mirror_log_test(l.sync, 8));
	CU_ASSERT_TRUE(mirror_log_test(l.sync, 9));
	CU_ASSERT_EQUAL(mirror_log_count(l.clean, 16), 15);
	/* Written back unchanged. */
	CU_ASSERT(!memcmp(l.image, kernel_header, sizeof(kernel_header)));
	CU_ASSERT_EQUAL(l.image[1024], 0xff);
	CU_ASSERT_EQUAL(l.image[1025], 0xfe);
	CU_ASSERT_EQUAL(l.image[1026], 0);
	mirror_log_exit(&l);
}

static void test_writes_what_the_kernel_reads(void)
{
	struct mirror_log l;
	uint8_t want[1536] = { 0 };

	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 16, true, 512), 0);
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_NONE), 0);
	memcpy(want, kernel_header, sizeof(kernel_header));
	want[1024] = 0xff;
	want[1025] = 0xff;
	CU_ASSERT(!memcmp(l.image, want, sizeof(want)));
	/* A write to region 9 marks it dirty: only the bitmap's first block changes. */
	mirror_log_set(l.clean, 9, false);
	CU_ASSERT_EQUAL(mirror_log_stage(&l, 9, 512), 1024);
	want[1025] = 0xfd;
	CU_ASSERT(!memcmp(l.image, want, sizeof(want)));
	mirror_log_exit(&l);
}

static void test_activation_rules(void)
{
	struct mirror_log l;

	/* No log yet (zeros): every region out of sync. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 100, true, 512), 0);
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 100);
	mirror_log_exit(&l);
	/* "sync" ignores a clean log. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 16, true, 512), 0);
	memcpy(l.image, kernel_header, sizeof(kernel_header));
	l.image[1024] = l.image[1025] = 0xff;
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_FORCE), 16);
	mirror_log_exit(&l);
	/* Grown from 16 to 70 regions: only the new ones resync; the header says 70. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 70, true, 512), 0);
	memcpy(l.image, kernel_header, sizeof(kernel_header));
	l.image[1024] = l.image[1025] = 0xff;
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 54);
	CU_ASSERT_EQUAL(l.image[8], 70);
	CU_ASSERT_EQUAL(l.image[1026], 0);
	mirror_log_exit(&l);
	/* Shrunk to 10 regions: bits past the end are cleared. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 10, true, 512), 0);
	memcpy(l.image, kernel_header, sizeof(kernel_header));
	l.image[1024] = l.image[1025] = 0xff;
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 0);
	CU_ASSERT_EQUAL(l.image[1025], 0x03);
	mirror_log_exit(&l);
	/* Version 1 is read too; a wrong magic is no log. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 16, true, 512), 0);
	memcpy(l.image, kernel_header, sizeof(kernel_header));
	l.image[4] = 1;
	l.image[1024] = l.image[1025] = 0xff;
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 0);
	CU_ASSERT_EQUAL(l.image[4], 2);
	l.image[0] = 0;
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 16);
	mirror_log_exit(&l);
	/* Core log: everything resyncs, unless nosync. */
	CU_ASSERT_EQUAL_FATAL(mirror_log_init(&l, 16, false, 512), 0);
	CU_ASSERT_PTR_NULL(l.image);
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_DEFAULT), 16);
	CU_ASSERT_EQUAL(mirror_log_resume(&l, MIRROR_SYNC_NONE), 0);
	mirror_log_exit(&l);
}

UT_MAIN("mirror_log", UT(test_sizes), UT(test_reads_the_kernels_log),
	UT(test_writes_what_the_kernel_reads), UT(test_activation_rules))
