// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the run record parser (`list`, `delete`, `recover`
 * and `restart` read a device's record): any text must not crash; a
 * refusal is one line saying why; an accepted record is one the tools can
 * use (known words, values in range) and comes back the same written and
 * read again.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ublk-target/rundir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* rundir.c's one-line errors go nowhere here. */
int cli_error(const char *fmt, ...)
{
	(void)fmt;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run_record r, back;
	static char text[RUNDIR_RECORD_MAX + 64];
	char why[128] = "";
	int n;

	if (rundir_parse((const char *)data, size, &r, why, sizeof(why))) {
		if (!why[0] || strchr(why, '\n'))
			abort();
		return 0;
	}
	if (!r.queues || !r.depth || r.lbs < 512 || r.size % r.lbs || !r.spec[0] ||
	    strchr(r.spec, '\n'))
		abort();
	n = rundir_format(&r, text, sizeof(text));
	if (n < 0 || (size_t)n >= sizeof(text))
		abort();
	if (rundir_parse(text, (size_t)n, &back, why, sizeof(why)) || memcmp(&r, &back, sizeof(r)))
		abort();
	return 0;
}
