/* SPDX-License-Identifier: MIT */
/* Private to the core: one ublk queue and its thread (frontend_ublk.c). */
#ifndef UBT_FRONTEND_UBLK_H
#define UBT_FRONTEND_UBLK_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "ubt/device.h"
#include "../engine/engine.h"
#include "ubt/ublk_ctrl.h"

struct ubt_ublk_queue {
	struct ubt_queue q;
	struct ubt_tree *tree;
	void *dev;			/* the owning struct ubt_device */
	unsigned int q_id;
	unsigned int depth;
	int cdev_fd;
	uint64_t dev_flags;
	enum ubt_copy_mode mode;	/* copy, zero-copy or user-copy */
	/* Zero copy: pass an index the kernel cannot use, to exercise the fallback. */
	bool force_reg_fallback;
	uint8_t *tag_state;		/* per tag: TAG_* bits */
	int32_t *tag_res;		/* per tag: the result waiting for a user copy-out */
	cpu_set_t cpus;
	struct ublksrv_io_desc *descs;
	size_t descs_len;
	unsigned int cmd_inflight;
	/* Tags whose request the tree has, from its fetch until its commit is queued. */
	unsigned int busy;
	/*
	 * Set (by the device's main thread) when the daemon hands the device
	 * over to a new one: requests fetched from then on are left unstarted
	 * (the kernel requeues them for the new daemon once this one has
	 * closed /dev/ublkcN), and the thread ends once the rest are committed.
	 */
	const int *handover;
	/*
	 * Set (by the device's main thread) while the device is suspended:
	 * requests fetched from then on are held unstarted, and once nothing
	 * of the queue's is in flight it reports itself suspended.  Cleared,
	 * it moves to *next_tree if that is set (a reload), then starts what
	 * it held, in the order it came.
	 */
	const int *suspend;
	struct ubt_tree *const *next_tree;
	/* FAILED: the switch failed; every request fails until the device stops. */
	enum { UQ_RUNNING, UQ_DRAINING, UQ_SUSPENDED, UQ_FAILED } susp;
	bool idle_cancelled;		/* draining: the idle timers were told to go */
	uint16_t *held;			/* tags fetched while suspended */
	unsigned int nr_held;
	bool q_ready;
	int result;
	pthread_t thread;
	/* Called from the queue thread: setup finished with ret; the thread ends. */
	void (*ready)(struct ubt_ublk_queue *uq, int ret);
	void (*exited)(struct ubt_ublk_queue *uq);
	/* Called from the queue thread: suspended (yes), or resumed with err from the switch. */
	void (*suspended)(struct ubt_ublk_queue *uq, bool yes, int err);
};

void *ubt_ublk_queue_thread(void *arg);

#endif
