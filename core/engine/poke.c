// SPDX-License-Identifier: MIT
/*
 * Waking a queue thread from outside the data path.  A message, handled on
 * the control thread, may change a node's state in a way only a queue
 * thread can act on (a mirror told to copy a leg again must start copies
 * and write its log, which are I/O on a queue's ring).  ubt_target_poke()
 * posts a completion into queue 0's ring with MSG_RING, from a small ring
 * of the poker's own; queue 0's thread then calls every node's poke op.
 * With no queue running there is nothing to wake: the next queue to start
 * pokes its nodes as it starts, which sees the change.  The same ring nudges a queue
 * thread (ubt_ring_nudge) so that it looks at a flag set from outside.
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>

#include "engine.h"

static pthread_mutex_t poke_lock = PTHREAD_MUTEX_INITIALIZER;
static struct io_uring poke_ring;
static bool poke_ring_ready;

/* Post a CQE with user_data ud into the ring fd, from the poke ring. */
static int post(int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	pthread_mutex_lock(&poke_lock);
	if (!poke_ring_ready) {
		ret = io_uring_queue_init(2, &poke_ring, 0);
		if (ret) {
			pthread_mutex_unlock(&poke_lock);
			return ret;
		}
		poke_ring_ready = true;
	}
	sqe = io_uring_get_sqe(&poke_ring);
	io_uring_prep_msg_ring(sqe, fd, 0, ud, 0);
	io_uring_sqe_set_data64(sqe, 0);
	ret = io_uring_submit_and_wait(&poke_ring, 1);
	if (ret >= 0) {
		ret = io_uring_wait_cqe(&poke_ring, &cqe);
		if (!ret) {
			ret = cqe->res < 0 ? cqe->res : 0;
			io_uring_cqe_seen(&poke_ring, cqe);
		}
	}
	pthread_mutex_unlock(&poke_lock);
	return ret;
}

int tree_poke(struct ubt_tree *tree)
{
	int fd = __atomic_load_n(&tree->poke_fd, __ATOMIC_ACQUIRE);

	return fd < 0 ? 0 : post(fd, UBT_UD_POKE);
}

int ubt_target_poke(struct ubt_target *t)
{
	return tree_poke(t->tree);
}

int ubt_ring_nudge(int ring_fd)
{
	return post(ring_fd, UBT_UD_NUDGE);
}
