// SPDX-License-Identifier: MIT
/*
 * The mirror's regions (dm-region-hash.c's job): how many writes each has
 * in flight, which are being copied, the writes waiting for a copy, and
 * which region a resync pass copies next.
 *
 * A region is in sync when every leg holds the same data for it (its bit
 * in log.sync).  A write marks its regions dirty (log.clean cleared) and
 * counts itself in them; a region is copied only once its count is zero,
 * and a write to a region being copied waits for the copy.  So a copy
 * never races a write to the same region, and reads need no lock: they
 * look at the in-sync bits only.
 */
#include <errno.h>

#include "ubt/util.h"
#include "mirror.h"

bool mirror_regions_in_sync(const struct mirror *m, uint64_t r0, uint64_t r1)
{
	uint64_t r;

	for (r = r0; r <= r1; r++)
		if (!mirror_log_test(m->log.sync, r))
			return false;
	return true;
}

/* Under m->lock: the job copying region r, if any. */
static struct mirror_job *job_on(struct mirror *m, uint64_t r)
{
	unsigned int i;

	for (i = 0; i < MIRROR_JOBS; i++)
		if (m->jobs[i].busy && m->jobs[i].region == r)
			return &m->jobs[i];
	return NULL;
}

/*
 * Under m->lock: region r is about to be written.  Its dirty mark goes in
 * the next log write, unless an earlier one carries it; returns the log
 * write the region's mark needs, 0 when it is on disk (or the log is core).
 */
static uint32_t mark_dirty(struct mirror *m, uint64_t r)
{
	if (mirror_log_test(m->log.clean, r)) {
		mirror_log_set(m->log.clean, r, false);
		if (!m->log_node)
			return 0;
		mirror_log_stage(&m->log, r, 1);
		m->mark_gen[r] = m->log_gen + 1;
		m->log_dirty = true;
	}
	return m->log_node && m->mark_gen[r] > m->log_done ? m->mark_gen[r] : 0;
}

bool mirror_write_begin(struct mirror *m, struct ubt_io *io, struct mirror_io *mio,
			int (*resume)(struct ubt_io *io))
{
	struct mirror_job *job;
	uint32_t need = 0;
	uint64_t r;

	pthread_mutex_lock(&m->lock);
	for (r = mio->r0; r <= mio->r1; r++) {
		job = job_on(m, r);
		if (job) {
			ubt_io_wait(io, &mio->wait, resume);
			mio->wait.next = job->waiters;
			job->waiters = &mio->wait;
			pthread_mutex_unlock(&m->lock);
			return true;
		}
	}
	for (r = mio->r0; r <= mio->r1; r++) {
		m->writes[r]++;
		need = UBT_MAX(need, mark_dirty(m, r));
	}
	if (!need) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	/* Counted; it goes on once the log write carrying its marks is done. */
	ubt_io_wait(io, &mio->wait, mirror_write_logged);
	if (m->log_writing && need == m->log_gen) {
		mio->wait.next = m->log_cur;
		m->log_cur = &mio->wait;
	} else {
		mio->wait.next = m->log_next;
		m->log_next = &mio->wait;
	}
	pthread_mutex_unlock(&m->lock);
	mirror_log_write(m, io->q);
	return true;
}

/*
 * Under m->lock: region r's writes are done and its legs agree.  dm
 * records that lazily; the disk log's next write carries it, after a flush
 * of every leg.
 */
static void mark_clean(struct mirror *m, uint64_t r)
{
	mirror_log_set(m->log.clean, r, true);
	if (!m->log_node)
		return;
	mirror_log_stage(&m->log, r, 1);
	m->log_dirty = true;
	m->log_cleaned = true;
}

/* Under m->lock: the job waiting for region r to go quiet, if any. */
static struct mirror_job *job_waiting_on(struct mirror *m, uint64_t r)
{
	struct mirror_job *job = job_on(m, r);

	return job && !job->started ? job : NULL;
}

void mirror_write_end(struct mirror *m, struct ubt_queue *q, uint64_t r0, uint64_t r1,
		      bool out_of_sync)
{
	struct mirror_job *start[MIRROR_JOBS];
	unsigned int n = 0, i;
	bool cleaned = false;
	uint64_t r;

	pthread_mutex_lock(&m->lock);
	for (r = r0; r <= r1; r++) {
		struct mirror_job *job;

		/* Before the write completes: no read may trust the region now. */
		if (out_of_sync)
			mirror_log_set(m->log.sync, r, false);
		if (--m->writes[r])
			continue;
		/*
		 * dm marks a region clean lazily once its writes are done (the
		 * disk log first flushes the legs); the core log at once.
		 */
		if (mirror_log_test(m->log.sync, r)) {
			mark_clean(m, r);
			cleaned = true;
		}
		job = job_waiting_on(m, r);
		if (job && n < MIRROR_JOBS) {
			job->started = true;
			start[n++] = job;
		}
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < n; i++)
		mirror_job_start(start[i], q);
	/* Only a region made clean here changed the image (marks wrote it already). */
	if (cleaned && m->log_node)
		mirror_log_write(m, q);
}

void mirror_mark_out_of_sync(struct mirror *m, uint64_t r0, uint64_t r1)
{
	uint64_t r;

	pthread_mutex_lock(&m->lock);
	for (r = r0; r <= r1; r++) {
		mark_dirty(m, r);
		mirror_log_set(m->log.sync, r, false);
	}
	pthread_mutex_unlock(&m->lock);
}

void mirror_queue_repair(struct mirror *m, struct ubt_queue *q, uint64_t r0, uint64_t r1,
			 unsigned int source, uint32_t targets)
{
	uint64_t r;
	unsigned int i;

	pthread_mutex_lock(&m->lock);
	for (r = r0; r <= r1; r++) {
		for (i = 0; i < m->nr_repairs; i++)
			if (m->repairs[i].region == r)
				break;
		if (i < m->nr_repairs) {
			m->repairs[i].targets |= targets;
			continue;
		}
		/*
		 * Full: the leg stays unrepaired there, and the next read of
		 * the region that fails on it asks again.
		 */
		if (m->nr_repairs == MIRROR_REPAIRS)
			break;
		m->repairs[m->nr_repairs++] = (struct mirror_repair){
			.region = r, .source = source, .targets = targets,
		};
	}
	pthread_mutex_unlock(&m->lock);
	mirror_kick(m, q);
}

void mirror_start_pass(struct mirror *m)
{
	pthread_mutex_lock(&m->lock);
	m->pass = true;
	m->cursor = 0;
	pthread_mutex_unlock(&m->lock);
}

/* Under m->lock: the next out-of-sync region of the pass nobody copies. */
static bool next_resync_region(struct mirror *m, uint64_t *out)
{
	while (m->pass && m->cursor < m->nr_regions) {
		uint64_t r = m->cursor;
		uint64_t word = __atomic_load_n(&m->log.sync[r / 64], __ATOMIC_ACQUIRE);

		if (word == ~0ULL && r % 64 == 0) {
			m->cursor += 64;	/* a whole word in sync */
			continue;
		}
		m->cursor++;
		if (!(word >> (r % 64) & 1) && !job_on(m, r)) {
			*out = r;
			return true;
		}
	}
	m->pass = false;
	return false;
}

void mirror_start_scrub(struct mirror *m, bool fix)
{
	pthread_mutex_lock(&m->lock);
	m->scrub_pass = true;
	m->scrub_fix = fix;
	m->scrub_ran = true;
	m->scrub_cursor = 0;
	m->scrubbed = 0;
	m->mismatches = 0;
	pthread_mutex_unlock(&m->lock);
}

/*
 * Under m->lock: the next region of the scrub nobody copies.  Regions out
 * of sync are left to the resync; they count as compared.
 */
static bool next_scrub_region(struct mirror *m, uint64_t *out)
{
	while (m->scrub_pass && m->scrub_cursor < m->nr_regions) {
		uint64_t r = m->scrub_cursor;

		if (job_on(m, r))
			return false;	/* try again once that copy is done */
		m->scrub_cursor++;
		if (mirror_log_test(m->log.sync, r)) {
			*out = r;
			return true;
		}
		m->scrubbed++;
	}
	m->scrub_pass = false;
	return false;
}

/* Under m->lock: what a free job does next: repairs, the resync, the scrub. */
static bool claim_work(struct mirror *m, struct mirror_job *job)
{
	uint64_t r;

	while (m->nr_repairs) {
		struct mirror_repair rep = m->repairs[0];

		m->repairs[0] = m->repairs[--m->nr_repairs];
		if (job_on(m, rep.region))
			continue;	/* being copied already: that copy rewrites it */
		job->kind = MIRROR_JOB_REPAIR;
		job->region = rep.region;
		job->source = rep.source;
		job->targets = rep.targets & ~(1u << rep.source);
		return true;
	}
	if (next_resync_region(m, &r))
		job->kind = MIRROR_JOB_RESYNC;
	else if (next_scrub_region(m, &r))
		job->kind = MIRROR_JOB_SCRUB;
	else
		return false;
	job->region = r;
	job->source = mirror_default(m);
	job->targets = ((1u << m->nr_legs) - 1) & ~(1u << job->source);
	return true;
}

void mirror_kick(struct mirror *m, struct ubt_queue *q)
{
	struct mirror_job *start[MIRROR_JOBS];
	unsigned int n = 0, i;

	if (ubt_queue_stopping(q))
		return;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < MIRROR_JOBS; i++) {
		struct mirror_job *job = &m->jobs[i];

		if (job->busy || !claim_work(m, job))
			continue;
		job->busy = true;
		job->legs_gen = m->legs_gen;
		job->started = !m->writes[job->region];
		job->waiters = NULL;
		if (job->started)
			start[n++] = job;
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < n; i++)
		mirror_job_start(start[i], q);
}

void mirror_job_finish(struct mirror_job *job, struct ubt_queue *q)
{
	struct mirror *m = job->m;
	struct ubt_io_wait *w;
	bool ok = !job->source_failed && !job->failed && job->done >= mirror_region_len(m, job->region);
	unsigned int i;

	pthread_mutex_lock(&m->lock);
	/*
	 * A leg was replaced by a new node while this copy ran: part of it
	 * went to the old one.  Nothing it saw counts; the region is out of
	 * sync again (the replace marked every region) and a new pass copies it.
	 */
	if (job->legs_gen != m->legs_gen) {
		ok = false;
		job->failed = 0;
		job->source_failed = false;
		m->pass = true;
		m->cursor = 0;
	}
	/* (mirror_fail_leg takes no lock: atomics only.) */
	for (i = 0; i < m->nr_legs; i++)
		if (job->failed & (1u << i))
			mirror_fail_leg(m, i, job->kind == MIRROR_JOB_RESYNC ? MIRROR_ERR_SYNC :
					MIRROR_ERR_READ);
	if (job->source_failed)
		mirror_fail_leg(m, job->source, MIRROR_ERR_SYNC);
	if (ok && job->kind == MIRROR_JOB_RESYNC) {
		mirror_log_set(m->log.sync, job->region, true);
		mark_clean(m, job->region);
		m->resynced++;
	} else if (ok && job->kind == MIRROR_JOB_REPAIR) {
		m->repaired++;
	}
	if (job->kind == MIRROR_JOB_SCRUB) {
		m->scrubbed++;
		m->mismatches += job->mismatches;
	}
	w = job->waiters;
	job->waiters = NULL;
	job->busy = false;
	job->started = false;
	pthread_mutex_unlock(&m->lock);

	ubt_io_wake_all(q, w);
	if (m->log_node)
		mirror_log_write(m, q);
	mirror_kick(m, q);
}
