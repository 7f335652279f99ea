/* SPDX-License-Identifier: MIT */
/*
 * A ublk device served by a tree: ADD_DEV, one pinned thread per queue,
 * SET_PARAMS, START_DEV; then serve until STOP_DEV (from `delete`) or a
 * signal, and DEL_DEV.
 */
#ifndef UBT_DEVICE_H
#define UBT_DEVICE_H

#include <stddef.h>
#include <stdint.h>

struct ubt_tree;
struct ubt_device;

struct ubt_device_opts {
	int dev_id;			/* -1: the kernel picks */
	unsigned int nr_queues;
	unsigned int depth;
};

/*
 * Create and start the device; on return /dev/ublkbN exists and serves I/O.
 * On failure nothing is left in the kernel and err holds one line.
 */
int ubt_device_start(struct ubt_tree *tree, const struct ubt_device_opts *o,
		     struct ubt_device **out, char *err, size_t errlen);
uint32_t ubt_device_id(const struct ubt_device *dev);

/*
 * A control channel served next to the queues: a listening stream socket;
 * each connection sends one command line and gets handle()'s text back.
 */
struct ubt_control {
	int fd;				/* listening socket, or -1 for none */
	int (*handle)(void *arg, const char *cmd, char *out, size_t len);
	void *arg;
};

/*
 * Serve until the queues stop (STOP_DEV from elsewhere) or SIGTERM, SIGINT
 * or SIGHUP arrives (then stop the device ourselves); delete the device and
 * free everything.  The signals must be blocked in every thread before
 * ubt_device_start().  Returns 0 or a negative errno.
 */
int ubt_device_serve(struct ubt_device *dev, const struct ubt_control *ctl);

#endif
