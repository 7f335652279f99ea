/* SPDX-License-Identifier: MIT */
/*
 * A frontend for unit tests that drive a ubt_queue by hand: it records the
 * result of the last request and ignores CQEs of its own (it queues none).
 */
#ifndef UBT_UT_FRONTEND_H
#define UBT_UT_FRONTEND_H

#include "core/engine/engine.h"

static int last_res;

static void ut_fe_complete(struct ubt_queue *q, unsigned int tag, int res)
{
	(void)q;
	(void)tag;
	last_res = res;
}

static void ut_fe_cqe(struct ubt_queue *q, const struct io_uring_cqe *cqe)
{
	(void)q;
	(void)cqe;
}

static const struct ubt_frontend_ops fe = { .complete = ut_fe_complete, .cqe = ut_fe_cqe };

#endif
