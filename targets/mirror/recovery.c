// SPDX-License-Identifier: MIT
/*
 * Copying a region from one leg to others in the background (the part of
 * dm-kcopyd a mirror uses): read a step of at most MIRROR_COPY_BYTES from
 * the source leg into the job's buffer, write it to every target leg,
 * repeat until the region is done, pausing between steps to keep to
 * resync_rate.  A scrub reads the step from every leg instead, counts the
 * sectors that differ from the source and, to repair, writes the source's
 * data over the legs that differed.  Each step is one background I/O of the mirror node on the
 * queue that runs the job; the mirror's end_io sends the children's
 * results here.
 */
#include <errno.h>
#include <string.h>

#include "ubt/util.h"
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
	struct ubt_io *io = mirror_bg_io(m, q, job, op, done);

	if (!io)
		return NULL;
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

/* The legs a step writes: a copy's targets; a scrub's legs that differed. */
static uint32_t step_writes(const struct mirror_job *job)
{
	uint32_t legs = job->kind == MIRROR_JOB_SCRUB ? job->differ : job->targets;

	return legs & ~job->failed;
}

static void *leg_buf(const struct mirror_job *job, unsigned int leg)
{
	return (char *)job->buf + (size_t)leg * MIRROR_COPY_BYTES;
}

/* A child of step io for leg i, its data buf (the step's length). */
static int step_to_leg(struct ubt_io *io, unsigned int i, void *buf)
{
	struct mirror_job *job = io_job(io);
	struct ubt_io *c = ubt_io_child(io, mirror_leg_node(job->m, i));

	if (!c)
		return -ENOMEM;
	job->write_iov[i] = (struct iovec){ buf, (size_t)job->chunk << UBT_SECTOR_SHIFT };
	c->sector = io->sector;
	c->nr_sectors = io->nr_sectors;
	c->iov = &job->write_iov[i];
	c->iovcnt = 1;
	ubt_io_submit(c);
	return 0;
}

/* Every leg the step writes gets the source's data. */
static int write_targets(struct ubt_io *io)
{
	struct mirror_job *job = io_job(io);
	struct mirror *m = job->m;
	unsigned int i;

	for (i = 0; i < m->nr_legs; i++)
		if ((step_writes(job) & (1u << i)) && step_to_leg(io, i, leg_buf(job, job->source)))
			return -ENOMEM;
	return 0;
}

/*
 * A scrub step read every leg: count the sectors where a leg differs from
 * the source; with repair, those legs get the source's data (a leg whose
 * read failed too).
 */
static void compare_legs(struct mirror_job *job)
{
	struct mirror *m = job->m;
	const char *src = leg_buf(job, job->source);
	unsigned int i, s;

	job->differ = 0;
	for (i = 0; i < m->nr_legs; i++) {
		const char *b = leg_buf(job, i);

		if (i == job->source)
			continue;
		if (job->unread & (1u << i)) {
			job->mismatches += job->chunk;
			job->differ |= 1u << i;
			continue;
		}
		for (s = 0; s < job->chunk; s++) {
			size_t off = (size_t)s << UBT_SECTOR_SHIFT;

			if (!memcmp(src + off, b + off, UBT_SECTOR_SIZE))
				continue;
			job->mismatches++;
			job->differ |= 1u << i;
		}
	}
}

static void read_done(struct ubt_io *io, int res)
{
	struct mirror_job *job = io_job(io);
	struct ubt_queue *q = io->q;
	struct ubt_io *w;

	if (job->kind == MIRROR_JOB_SCRUB && !job->source_failed && !ubt_queue_stopping(q)) {
		compare_legs(job);
		if (!job->m->scrub_fix || !step_writes(job)) {
			job->done += job->chunk;
			job_step(job, q);
			return;
		}
	}
	if (res < 0 || job->source_failed || ubt_queue_stopping(q) || !step_writes(job)) {
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

/* A copy reads the source; a scrub every leg without errors, each into its buffer. */
static int read_source(struct ubt_io *io)
{
	struct mirror_job *job = io_job(io);
	struct mirror *m = job->m;
	size_t bytes = (size_t)job->chunk << UBT_SECTOR_SHIFT;
	unsigned int i;

	if (job->kind != MIRROR_JOB_SCRUB) {
		job->read_iov = (struct iovec){ leg_buf(job, job->source), bytes };
		io->iov = &job->read_iov;
		io->iovcnt = 1;
		return ubt_io_remap(io, mirror_leg_node(m, job->source), io->sector);
	}
	job->unread = 0;
	for (i = 0; i < m->nr_legs; i++) {
		if (i != job->source && !mirror_leg_ok(m, i))
			job->unread |= 1u << i;		/* not read: counts as differing */
		else if (step_to_leg(io, i, leg_buf(job, i)))
			return -ENOMEM;
	}
	return 0;
}

/*
 * resync_rate: every step of every job takes the next slot of one shared
 * schedule, so the copies together keep to the rate.  The wait before this
 * step, in ns.
 */
static uint64_t rate_wait(struct mirror *m, uint32_t sectors)
{
	uint64_t ns;

	if (!m->resync_rate)
		return 0;
	pthread_mutex_lock(&m->lock);
	ns = ubt_pace(&m->rate_next, (uint64_t)sectors << UBT_SECTOR_SHIFT, m->resync_rate);
	pthread_mutex_unlock(&m->lock);
	return ns;
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

	if (!left || ubt_queue_stopping(q) || !(job->targets & ~job->failed)) {
		mirror_job_finish(job, q);
		return;
	}
	job->chunk = (uint32_t)UBT_MIN(left, MIRROR_COPY_BYTES >> UBT_SECTOR_SHIFT);
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
	job->mismatches = 0;
	job->source_failed = false;
	job_step(job, q);
}

int mirror_job_end_io(struct mirror_job *job, struct ubt_io *child, int res)
{
	int leg;

	if (res >= 0)
		return res;
	leg = mirror_leg_of(job->m, child->t);
	if (leg < 0)
		return res;	/* a leg replaced since: the job's result is void anyway */
	if (child->op == UBT_OP_READ && leg == (int)job->source) {
		job->source_failed = true;
		return res;
	}
	if (child->op == UBT_OP_READ) {
		/* A scrub's other legs: counted as differing, rewritten by repair. */
		job->unread |= 1u << leg;
		return 0;
	}
	job->failed |= 1u << leg;
	return res;
}
