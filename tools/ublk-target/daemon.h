/* SPDX-License-Identifier: MIT */
/*
 * The daemon that serves a device, for `create` (a new device), `recover`
 * and `restart` (an existing one): forked from the command, which prints
 * /dev/ublkbN once the daemon says the device is live, or its one-line
 * error.  Once detached, what the daemon and its targets write to stderr
 * goes to syslog (the journal), each line with the device id.
 */
#ifndef UBT_DAEMON_H
#define UBT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "create_opts.h"

struct ubt_tree;

struct daemon_job {
	const struct create_opts *o;	/* the device's options and spec */
	bool recover;			/* take over device o->dev_id, do not create one */
	uint64_t cookie;		/* kept with the device and in its run record */
};

/*
 * Serve tree as the job says, in a forked daemon (or here with
 * o->foreground).  Takes the tree.  Returns the command's exit code.
 */
int daemon_launch(struct ubt_tree *tree, const struct daemon_job *job);

/* A fresh cookie for a new device. */
uint64_t daemon_new_cookie(void);

#endif
