/* SPDX-License-Identifier: MIT */
/*
 * Private to the core: a device on the control path, shared by its start
 * and serving (device.c) and its recovery (device_recover.c).
 */
#ifndef UBT_DEVICE_PRIV_H
#define UBT_DEVICE_PRIV_H

#include <pthread.h>
#include <stdbool.h>

#include "ubt/device.h"
#include "ubt/ublk_ctrl.h"

struct ubt_ublk_queue;

struct ubt_device {
	struct ubt_ctrl ctrl;
	struct ubt_tree *tree;
	struct ublksrv_ctrl_dev_info info;
	enum ubt_copy_mode mode;
	int cdev_fd;
	int exit_efd;			/* queue threads post here as they end */
	struct ubt_ublk_queue *queues;
	unsigned int nr_started;	/* threads created */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int nr_ready;
	int setup_err;
	bool added;			/* ours to stop and delete at the end */
	enum ubt_recovery recovery;	/* in effect: never auto */
	int handover;			/* queues: leave, committing what they started */
	/* Suspend, reload, resume (device_reload.c). */
	int suspend;			/* queues: hold new requests, drain, report */
	bool suspended;			/* every queue reported it */
	unsigned int nr_suspended;	/* queues that report themselves suspended */
	unsigned int nr_exited;		/* queue threads that ended */
	int switch_err;			/* the first queue's failure to switch trees */
	struct ubt_tree *next_tree;	/* loaded by a reload, for the next resume */
	struct ubt_tree *switch_to;	/* queues move to it as they resume */
	struct ubt_tree *stale_tree;	/* a tree that queues may use until they end */
};

/* The ADD_DEV flags a copy mode needs. */
uint64_t device_copy_mode_flags(enum ubt_copy_mode mode);
/* ... and a recovery mode (auto: none). */
uint64_t device_recovery_flags(enum ubt_recovery r);
/* Open /dev/ublkcN, waiting a moment for its node: the fd or -errno. */
int device_open_cdev(uint32_t id);
/* Start a thread per queue, each FETCHing every tag; wait until all are set up. */
int device_start_queues(struct ubt_device *dev, unsigned int nr, unsigned int depth,
			char *err, size_t errlen);
/*
 * Stop what runs (STOP_DEV when added and not handing over); join every
 * thread; DEL_DEV if added; free dev.
 */
void device_teardown(struct ubt_device *dev);
/* Have every queue thread look at its flags again (handover, suspend). */
void device_nudge_queues(struct ubt_device *dev);
/*
 * Have the queues hand over: they commit what they started, leave the rest
 * to the kernel and park until the process ends (frontend_ublk.c).
 */
void device_hand_over(struct ubt_device *dev);
/*
 * The control commands of device_reload.c: "suspend", "resume", "release"
 * (resume, leaving a loaded stack unused), "reload SHRINK SPEC" and
 * "state".  Whether cmd was one of them; the reply goes to out.
 */
bool device_reload_request(struct ubt_device *dev, const struct ubt_control *ctl,
			   const char *cmd, char *out, size_t len);
/* Let held I/O go (a stop must not wait for it), leaving a loaded stack unused. */
void device_release(struct ubt_device *dev);
/* A queue reports (from its thread): suspended (yes), or resumed with err from a switch. */
void device_queue_suspended(struct ubt_ublk_queue *uq, bool yes, int err);

/* A new device: its locks, its queues' array; NULL with err set. */
struct ubt_device *device_alloc(struct ubt_tree *tree, unsigned int nr_queues, char *err,
				size_t errlen);
/* Open the control device, with its one-line error. */
int device_open_ctrl(struct ubt_device *dev, char *err, size_t errlen);

#endif
