// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the mirror's disk log (dm-log's format) as read at
 * start: any image, for any region count and sync mode, must not crash;
 * what it yields must be what it writes back (the image rewritten at start
 * gives the same regions in sync when read again); and nosync / sync
 * ignore the image as dm does.  dm's format has no checksum: a damaged
 * bitmap can only be taken as it reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "targets/mirror/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_log a, b;
	uint64_t nr, r, out_of_sync;
	enum mirror_sync mode;

	if (size < 3)
		return 0;
	nr = 1 + ((uint64_t)data[0] | (uint64_t)data[1] << 8) % 20000;
	mode = (enum mirror_sync)(data[2] % 3);
	data += 3;
	size -= 3;
	if (mirror_log_init(&a, nr, true, 512) || mirror_log_init(&b, nr, true, 512))
		abort();
	memcpy(a.image, data, size < a.io_bytes ? size : a.io_bytes);
	out_of_sync = mirror_log_resume(&a, mode);
	if (out_of_sync > nr || out_of_sync != nr - mirror_log_count(a.sync, nr))
		abort();
	if (mode == MIRROR_SYNC_NONE && out_of_sync)
		abort();	/* nosync: every region in sync */
	if (mode == MIRROR_SYNC_FORCE && out_of_sync != nr)
		abort();	/* sync: every region copied */
	/* What it wrote back reads back the same. */
	memcpy(b.image, a.image, a.io_bytes);
	if (mirror_log_resume(&b, MIRROR_SYNC_DEFAULT) != out_of_sync)
		abort();
	for (r = 0; r < nr; r++)
		if (mirror_log_test(a.sync, r) != mirror_log_test(b.sync, r))
			abort();
	mirror_log_exit(&a);
	mirror_log_exit(&b);
	return 0;
}
