// SPDX-License-Identifier: MIT
/*
 * Copying a region from one leg to others in the background (the part of
 * dm-kcopyd a mirror uses): read a step of at most MIRROR_COPY_BYTES from
 * the source leg into the job's buffer, write it to every target leg,
 * repeat until the region is done, pausing between steps to keep to
 * resync_rate.  Each step is one background I/O of the mirror node on the
 * queue that runs the job; the mirror's end_io sends the children's
 * results here.
 */
#include <errno.h>
#include <time.h>

#include "ubt/queue.h"
#include "mirror.h"

static void job_step(struct mirror_job *job, struct ubt_queue *q);

static struct mirror_job *io_job(struct ubt_io *io)
{
	return ((struct mirror_io *)io->priv)->job;
}

static struct ubt_io *job_io(struct mirror_job *job, struct ubt_queue *q, uint8_t op,
			     void (*done)(struct ubt_io *io, int res))
{
	struct mirror *m = job->m;
	struct ubt_io *io = ubt_bg_io(q, m->t, done);
	struct mirror_io *mio;

	/* Each queue keeps MIRROR_JOBS tags for the mirror, one per job. */
	if (!io)
		return NULL;
	mio = io->priv;
	mio->job = job;
	io->op = op;
	io->sector = (job->region << m->region_shift) + job->done;
	io->nr_sectors = job->chunk;
	return io;
}

static void write_done(struct ubt_io *io, int res)
{
	struct mirror_job *job = io_job(io);

	(void)res;	/* failures are in job->failed, per leg */
	job->done += job->chunk;
	job_step(job, io->q);
}

/* Every target leg that has not failed this copy gets the step. */
static int write_targets(struct ubt_io *io)
{
	struct mirror_job *job = io_job(io);
	struct mirror *m = job->m;
	unsigned int i;

	for (i = 0; i < m->nr_legs; i++) {
		struct ubt_io *c;

		if (!(job->targets & ~job->failed & (1u << i)))
			continue;
		c = ubt_io_child(io, m->legs[i].t);
		if (!c)
			return -ENOMEM;
		job->write_iov[i] = (struct iovec){ job->buf, (size_t)job->chunk << UBT_SECTOR_SHIFT };
		c->sector = io->sector;
		c->nr_sectors = io->nr_sectors;
		c->iov = &job->write_iov[i];
		c->iovcnt = 1;
		ubt_io_submit(c);
	}
	return 0;
}

static void read_done(struct ubt_io *io, int res)
{
	struct mirror_job *job = io_job(io);
	struct ubt_queue *q = io->q;
	struct ubt_io *w;

	if (res < 0 || job->source_failed || q->stopping ||
	    !(job->targets & ~job->failed)) {
		job->source_failed |= res < 0;
		mirror_job_finish(job, q);
		return;
	}
	w = job_io(job, q, UBT_OP_WRITE, write_done);
	if (!w) {
		mirror_job_finish(job, q);
		return;
	}
	ubt_bg_submit(w, write_targets);
}

static int read_source(struct ubt_io *io)
{
	struct mirror_job *job = io_job(io);

	job->read_iov = (struct iovec){ job->buf, (size_t)job->chunk << UBT_SECTOR_SHIFT };
	io->iov = &job->read_iov;
	io->iovcnt = 1;
	return ubt_io_remap(io, job->m->legs[job->source].t, io->sector);
}

/*
 * resync_rate: every step of every job takes the next slot of one shared
 * schedule, so the copies together keep to the rate.  The wait before this
 * step, in ns.
 */
static uint64_t rate_wait(struct mirror *m, uint32_t sectors)
{
	uint64_t ns, now, start;
	struct timespec ts;

	if (!m->resync_rate)
		return 0;
	ns = ((uint64_t)sectors << UBT_SECTOR_SHIFT) * 1000000000ull / m->resync_rate;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&m->lock);
	start = m->rate_next > now ? m->rate_next : now;
	m->rate_next = start + ns;
	pthread_mutex_unlock(&m->lock);
	return start - now;
}

/* The wait as a timer: its callback reads the step. */
static int pause_then_read(struct ubt_io *io)
{
	struct mirror_job *job = io_job(io);

	ubt_io_after(io, &job->pause, job->wait_ns, read_source);
	return 0;
}

static void job_step(struct mirror_job *job, struct ubt_queue *q)
{
	struct mirror *m = job->m;
	uint64_t left = mirror_region_len(m, job->region) - job->done;
	struct ubt_io *io;

	if (!left || q->stopping || !(job->targets & ~job->failed)) {
		mirror_job_finish(job, q);
		return;
	}
	job->chunk = (uint32_t)(left < MIRROR_COPY_BYTES >> UBT_SECTOR_SHIFT ?
				left : MIRROR_COPY_BYTES >> UBT_SECTOR_SHIFT);
	io = job_io(job, q, UBT_OP_READ, read_done);
	if (!io) {
		mirror_job_finish(job, q);
		return;
	}
	job->wait_ns = rate_wait(m, job->chunk);
	ubt_bg_submit(io, job->wait_ns ? pause_then_read : read_source);
}

void mirror_job_start(struct mirror_job *job, struct ubt_queue *q)
{
	job->done = 0;
	job->failed = 0;
	job->source_failed = false;
	job_step(job, q);
}

int mirror_job_end_io(struct mirror_job *job, struct ubt_io *child, int res)
{
	int leg;

	if (res >= 0)
		return res;
	leg = mirror_leg_of(job->m, child->t);
	if (child->op == UBT_OP_READ)
		job->source_failed = true;
	else if (leg >= 0)
		job->failed |= 1u << leg;
	return res;
}
