/* SPDX-License-Identifier: MIT */
/* Private to the core: one ublk queue and its thread (frontend_ublk.c). */
#ifndef UBT_FRONTEND_UBLK_H
#define UBT_FRONTEND_UBLK_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "ubt/device.h"
#include "ubt/queue.h"
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
	bool q_ready;
	int result;
	pthread_t thread;
	/* Called from the queue thread: setup finished with ret; the thread ends. */
	void (*ready)(struct ubt_ublk_queue *uq, int ret);
	void (*exited)(struct ubt_ublk_queue *uq);
};

void *ubt_ublk_queue_thread(void *arg);

#endif
