/* SPDX-License-Identifier: MIT */
/*
 * Private to the core: the Linux AIO engine of one queue (aio.c).  Leaves on
 * engine=aio submit with io_submit from the queue thread; the kernel signals
 * completions on an eventfd that a READ on the queue's ring waits for, so
 * one io_uring_enter still waits for everything.
 */
#ifndef UBT_CORE_AIO_H
#define UBT_CORE_AIO_H

#include "engine.h"

/* user_data of the eventfd READ: neither a frontend SQE nor a ubt_io. */
#define UBT_UD_AIO	(1ULL << 62)

int ubt_aio_init(struct ubt_queue *q);
void ubt_aio_exit(struct ubt_queue *q);
/* How many slots the queue's AIO state has an iocb for (0: none). */
unsigned int ubt_aio_slots(const struct ubt_queue *q);
/* Prepare l's iocb for what is left of io's transfer; sent by ubt_aio_flush(). */
void ubt_aio_queue(struct ubt_io *io, struct ubt_leaf_io *l);
/* io_submit what was queued; arm the eventfd READ.  Before each ring wait. */
void ubt_aio_flush(struct ubt_queue *q);
/* The eventfd READ completed: complete every finished iocb. */
void ubt_aio_reap(struct ubt_queue *q, int res);

#endif
