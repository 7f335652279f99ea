/* SPDX-License-Identifier: MIT */
/*
 * `create` arguments: device options and the stack, given as a shorthand
 * (`null --size 1G`, `file --file a.img`) or as a spec (`--spec EXPR`).
 * Both end up as one spec string.
 */
#ifndef UBT_CREATE_OPTS_H
#define UBT_CREATE_OPTS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "ubt/device.h"
#include "ubt/target.h"

struct create_opts {
	int dev_id;			/* -1: any */
	unsigned int nr_queues;
	unsigned int depth;
	unsigned int lbs;
	enum ubt_copy_mode copy_mode;
	enum ubt_recovery recovery;	/* auto unless --recovery */
	enum ubt_engine engine;		/* file leaves that name none */
	const char *scheduler;		/* NULL: keep the kernel's */
	bool foreground;
	bool help;
	const char *table;		/* --table FILE or "-": converted by the caller */
	char spec[8192];
};

/*
 * Parse argv (argv[0] is "create").  Returns 0, or -EINVAL with a one-line
 * message in err.  max_queues is the CPU count.
 */
int create_opts_parse(int argc, char **argv, unsigned int max_queues,
		      struct create_opts *o, char *err, size_t errlen);

/* `create --help`: the device options, and what the registered targets offer. */
void create_usage(FILE *f);

#endif
