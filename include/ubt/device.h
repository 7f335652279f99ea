/* SPDX-License-Identifier: MIT */
/*
 * A ublk device served by a tree: ADD_DEV, one pinned thread per queue,
 * SET_PARAMS, START_DEV; then serve until STOP_DEV (from `delete`) or a
 * signal, and DEL_DEV.
 */
#ifndef UBT_DEVICE_H
#define UBT_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ubt_tree;
struct ubt_device;

/*
 * How request data moves between the client and the server.
 *   copy        the driver copies it to and from a buffer per tag (any kernel)
 *   zero-copy   the driver registers the client's pages in the queue's ring
 *               (UBLK_F_AUTO_BUF_REG, Linux 6.16+); leaves read and write
 *               them directly, nothing is copied
 *   user-copy   the server copies it itself with I/O on /dev/ublkcN
 *               (UBLK_F_USER_COPY, Linux 6.5+)
 *   auto        zero-copy where the kernel has it and no node needs to see
 *               the data; copy otherwise
 */
enum ubt_copy_mode {
	UBT_COPY_AUTO,
	UBT_COPY_COPY,
	UBT_COPY_ZERO_COPY,
	UBT_COPY_USER_COPY,
};

const char *ubt_copy_mode_name(enum ubt_copy_mode m);
/* 0, or -EINVAL for a name that is not a mode. */
int ubt_copy_mode_parse(const char *name, enum ubt_copy_mode *m);
/* Whether a kernel with these GET_FEATURES flags offers mode m. */
bool ubt_copy_mode_available(enum ubt_copy_mode m, uint64_t features);
/*
 * The mode a device gets: `want`, with auto settled, checked against the
 * kernel's GET_FEATURES and the tree.  0, or -EOPNOTSUPP / -EINVAL with a
 * one-line reason in err.
 */
int ubt_copy_mode_resolve(enum ubt_copy_mode want, uint64_t features,
			  const struct ubt_tree *tree, enum ubt_copy_mode *out,
			  char *err, size_t errlen);

/*
 * What the kernel does with a device whose daemon died (user recovery):
 *   none      the device goes away; its I/O fails
 *   reissue   the device stays; I/O waits, and what the dead daemon held
 *             is sent again to the daemon that recovers it (Linux 6.0+)
 *   fail-io   the device stays; I/O fails at once until it is recovered
 *             (Linux 6.13+)
 *   auto      reissue where the kernel offers it, else none
 */
enum ubt_recovery {
	UBT_RECOVERY_AUTO,
	UBT_RECOVERY_NONE,
	UBT_RECOVERY_REISSUE,
	UBT_RECOVERY_FAIL_IO,
};

const char *ubt_recovery_name(enum ubt_recovery r);
/* 0, or -EINVAL for a name that is not a recovery mode. */
int ubt_recovery_parse(const char *name, enum ubt_recovery *r);

struct ubt_device_opts {
	int dev_id;			/* -1: the kernel picks */
	unsigned int nr_queues;
	unsigned int depth;
	enum ubt_copy_mode copy_mode;
	/* The block layer's I/O scheduler for the device; NULL keeps the kernel's. */
	const char *scheduler;
	enum ubt_recovery recovery;
	/*
	 * Kept by the kernel with the device (dev_info.ublksrv_flags) and
	 * checked by a recovery: the run record and the device must agree.
	 */
	uint64_t cookie;
};

/*
 * Create and start the device; on return /dev/ublkbN exists and serves I/O.
 * On failure nothing is left in the kernel and err holds one line.
 */
int ubt_device_start(struct ubt_tree *tree, const struct ubt_device_opts *o,
		     struct ubt_device **out, char *err, size_t errlen);
/*
 * Take over device o->dev_id, whose daemon died or handed it over: check
 * it against o->cookie and the tree (the same size; the flags it was
 * created with decide the copy mode), START_USER_RECOVERY (waiting up to
 * the control timeout while the old daemon's /dev/ublkcN is still open),
 * fetch every tag, END_USER_RECOVERY.  On return it serves I/O again; on
 * failure it is left as it was found (waiting for a recovery) and err
 * holds one line.  o->nr_queues, depth and copy_mode are ignored: the
 * device's own are used.
 */
int ubt_device_recover(struct ubt_tree *tree, const struct ubt_device_opts *o,
		       struct ubt_device **out, char *err, size_t errlen);
uint32_t ubt_device_id(const struct ubt_device *dev);
/* The copy mode in use (never auto). */
enum ubt_copy_mode ubt_device_copy_mode(const struct ubt_device *dev);
/* The recovery mode in effect (never auto). */
enum ubt_recovery ubt_device_recovery(const struct ubt_device *dev);

/*
 * A control channel served next to the queues: a listening stream socket;
 * each connection sends one command line and gets handle()'s text back.
 */
struct ubt_control {
	int fd;				/* listening socket, or -1 for none */
	int (*handle)(void *arg, const char *cmd, char *out, size_t len);
	/*
	 * The device now runs tree (a resume after a reload; the old tree is
	 * freed): what handle() answers from, and what a recovery rebuilds,
	 * must follow it.
	 */
	void (*switched)(void *arg, struct ubt_tree *tree);
	void *arg;
};

/*
 * Besides handle()'s commands, the control socket takes these, answered
 * by the device (see dmsetup suspend / load / resume):
 *   suspend            finish the requests in flight and hold new ones
 *   reload SHRINK DIR SPEC
 *                      build SPEC into a stack for this device beside the
 *                      running one (which keeps serving); SHRINK is
 *                      "shrink-ok" or "no-shrink" (a smaller stack refused);
 *                      DIR the folder its relative paths are in, as a
 *                      field ("<length> <bytes>", ubt_take_field)
 *   resume             switch to the reloaded stack if there is one (the
 *                      kernel's size follows it, UPDATE_SIZE), and let the
 *                      held requests go
 *   release            let the held requests go, leaving a reloaded stack
 *   state              "suspended=0|1 loaded=0|1"
 *   handover           see UBT_DEVICE_HANDED_OVER
 *
 * Serve until the queues stop (STOP_DEV from elsewhere) or SIGTERM, SIGINT
 * or SIGHUP arrives (then stop the device ourselves); delete the device and
 * free everything.  The signals must be blocked in every thread before
 * ubt_device_start().  Returns 0 or a negative errno, or
 * UBT_DEVICE_HANDED_OVER after the control command "handover" (a device
 * with reissue recovery only): the queues committed every request they
 * had started and ended, leaving the rest to the kernel, which requeues
 * them for the daemon that recovers the device; the device was neither
 * stopped nor deleted.
 */
#define UBT_DEVICE_HANDED_OVER	1
int ubt_device_serve(struct ubt_device *dev, const struct ubt_control *ctl);

#endif
