// SPDX-License-Identifier: MIT
/*
 * Waiting for a state the kernel announces with no event: an attempt
 * repeated until it stops answering -EBUSY, for a bounded span of real
 * time.  Recovery has two such waits (the dead daemon's /dev/ublkcN to be
 * released, and START_USER_RECOVERY to be taken); both use this one.
 */
#include <errno.h>
#include <time.h>

#include "ubt/util.h"

/*
 * The pause starts at 1 ms (most waits end within a few) and doubles up
 * to 50 ms, so a long wait costs a few attempts a second, not 500.  The
 * bound is measured on the clock, not summed from the pauses: an attempt
 * that itself takes time (a control command) does not stretch it.
 */
int ubt_retry_while_busy(int (*attempt)(void *arg), void *arg, unsigned int limit_ms)
{
	uint64_t deadline = ubt_now_ns() + (uint64_t)limit_ms * 1000000ull, pause_ns = 1000000;
	int ret;

	while ((ret = attempt(arg)) == -EBUSY) {
		uint64_t now = ubt_now_ns();
		struct timespec ts;

		if (now >= deadline)
			break;
		pause_ns = UBT_MIN(pause_ns, deadline - now);
		ts.tv_sec = (time_t)(pause_ns / 1000000000ull);
		ts.tv_nsec = (long)(pause_ns % 1000000000ull);
		nanosleep(&ts, NULL);
		pause_ns = UBT_MIN(pause_ns * 2, 50000000ull);
	}
	return ret;
}
