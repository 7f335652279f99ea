/* SPDX-License-Identifier: MIT */
/*
 * The mirror's dirty-region log, in device-mapper's formats (dm-log.c):
 *
 *   core  in memory only: every activation resyncs every region, unless
 *         nosync declares them in sync;
 *   disk  a small file or device the kernel's dm-mirror reads too:
 *           byte 0     le32 magic 0x4D695272 ("MiRr"), le32 version 2,
 *                      le64 nr_regions
 *           byte 1024  the clean bitmap, little-endian bit order: bit r
 *                      set = region r clean (every leg holds the same
 *                      data); round_up(nr_regions, 64) / 8 bytes, bits
 *                      past nr_regions zero
 *         read and written as one unit of round_up(1024 + bitmap bytes,
 *         logical block size) bytes.
 *
 * The in-memory bitmaps are words that queue threads change with atomic
 * operations; the image is what goes to disk.  This file is the format
 * and its rules, no I/O: the mirror issues the reads and writes.
 */
#ifndef UBT_MIRROR_LOG_H
#define UBT_MIRROR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIRROR_LOG_MAGIC	0x4D695272u
#define MIRROR_LOG_VERSION	2u
#define MIRROR_LOG_BITMAP	1024u		/* byte offset of the bitmap */

/* What the table said about the regions' state at activation. */
enum mirror_sync {
	MIRROR_SYNC_DEFAULT,	/* trust the disk log (core: resync everything) */
	MIRROR_SYNC_FORCE,	/* "sync": resync everything */
	MIRROR_SYNC_NONE,	/* "nosync": declare everything in sync */
};

struct mirror_log {
	bool disk;
	uint64_t nr_regions;
	uint64_t *clean;	/* bit r: region r recorded clean in the log */
	uint64_t *sync;		/* bit r: region r in sync now */
	size_t io_bytes;	/* disk: the on-disk unit */
	uint8_t *image;		/* disk: io_bytes, block aligned */
};

/* Bytes of the bitmap and of the disk log's I/O unit. */
size_t mirror_log_bitmap_bytes(uint64_t nr_regions);
size_t mirror_log_io_bytes(uint64_t nr_regions, uint32_t block);

int mirror_log_init(struct mirror_log *l, uint64_t nr_regions, bool disk, uint32_t block);
void mirror_log_exit(struct mirror_log *l);

/*
 * Activation, dm's disk_resume() (core: the core log's rules): from the
 * image just read (disk; NULL or garbage means "no log yet"), set the
 * clean and sync bits.  Regions the image did not cover (a grown mirror,
 * or a new log) are clean with nosync and dirty otherwise; sync / nosync
 * ignore the image.  The image is then rewritten for the current size,
 * ready to be written back.  Returns how many regions are out of sync.
 */
uint64_t mirror_log_resume(struct mirror_log *l, enum mirror_sync mode);

static inline bool mirror_log_test(const uint64_t *bits, uint64_t r)
{
	return __atomic_load_n(&bits[r / 64], __ATOMIC_ACQUIRE) >> (r % 64) & 1;
}

static inline void mirror_log_set(uint64_t *bits, uint64_t r, bool on)
{
	uint64_t m = 1ULL << (r % 64);

	if (on)
		__atomic_fetch_or(&bits[r / 64], m, __ATOMIC_ACQ_REL);
	else
		__atomic_fetch_and(&bits[r / 64], ~m, __ATOMIC_ACQ_REL);
}

uint64_t mirror_log_count(const uint64_t *bits, uint64_t nr_regions);

/*
 * Copy region r's clean bit into the image and return the byte offset of
 * the block of the image that holds it: what to write to make that bit
 * durable (block bytes).  The image is plain bytes: callers serialise
 * staging and the writes of one block.
 */
size_t mirror_log_stage(struct mirror_log *l, uint64_t r, uint32_t block);

#endif
