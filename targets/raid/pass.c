// SPDX-License-Identifier: MIT
/*
 * The background passes over every row (md's sync actions), one at a
 * time, a stripe head per window, in row order, up to RAID_PASS_HEADS at
 * once so that requests keep the other heads:
 *   resync   read the data, write parity that agrees with it;
 *   recover  read the other legs, rebuild the legs being rebuilt (a leg
 *            taken back or a new node in a failed leg's place) and write
 *            them; rows below the pass's mark read from them again;
 *   check    read every leg, count the 512-byte sectors whose P or Q
 *            disagrees with the data (dm-raid's mismatch count);
 *   repair   the same, and write parity that agrees where it did not.
 * The pass's mark is the lowest row a head of it still works on, or has
 * yet to start: every row below it is done.  A row the pass cannot do
 * (more legs lost than the parity covers, or a data leg lost under a
 * resync or check) is passed over.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ubt/util.h"
#include "raid.h"

#define RAID_PASS_HEADS		4	/* pass heads at once; the rest serve requests */

const char *raid_pass_name(enum raid_pass pass)
{
	static const char *const names[] = { "idle", "resync", "recover", "check", "repair" };

	return names[pass];
}

void raid_pass_begin(struct raid *r, enum raid_pass pass)
{
	r->pass = pass;
	r->pass_next = 0;
	__atomic_store_n(&r->pass_mark, 0, __ATOMIC_RELEASE);
	/* With a log, the regions it names are out of sync, the rest in sync. */
	if (pass == RAID_PASS_RESYNC && !r->bm.node)
		__atomic_store_n(&r->synced, 0, __ATOMIC_RELEASE);
	if (pass == RAID_PASS_RESYNC)
		r->bm.pass_region = 0;
	if (pass == RAID_PASS_CHECK || pass == RAID_PASS_REPAIR) {
		r->last_scrub = pass;
		r->mismatches = 0;
	}
}

static uint64_t pass_steps(const struct raid *r)
{
	return r->rows * r->nr_wins;
}

static void pass_end(struct raid *r);

/* Under r->lock: a resync with a log passes over the regions it does not name. */
static void skip_in_sync(struct raid *r)
{
	uint64_t row, next;

	if (r->pass != RAID_PASS_RESYNC || !r->bm.node || r->pass_next >= pass_steps(r))
		return;
	row = r->pass_next / r->nr_wins;
	next = raid_bitmap_next_row(r, row);
	if (next != row)
		r->pass_next = next * r->nr_wins;
	if (r->pass_next >= pass_steps(r) && !r->pass_running)
		pass_end(r);
}

/*
 * Under r->lock: resync_rate's wait, in ns, before a pass head for window
 * `win` runs: a window of each leg per slot of the schedule, so each leg
 * sees at most the rate (dm-raid's max_recovery_rate, per device).
 */
static uint64_t rate_wait(struct raid *r, uint32_t win)
{
	uint64_t sectors = UBT_MIN((uint64_t)r->win, r->g.chunk - (uint64_t)win * r->win);

	return r->pass_rate ? ubt_pace(&r->rate_next, sectors << UBT_SECTOR_SHIFT, r->pass_rate)
			    : 0;
}

void raid_pass_poke(struct raid *r, struct ubt_queue *q)
{
	for (;;) {
		struct raid_head *h = NULL;

		if (ubt_queue_stopping(q))
			return;
		pthread_mutex_lock(&r->lock);
		if (!r->frozen)
			skip_in_sync(r);
		if (r->pass != RAID_PASS_NONE && !r->frozen && r->pass_next < pass_steps(r) &&
		    r->pass_running < RAID_PASS_HEADS && r->free_heads > RAID_HEADS / 2)
			h = raid_head_take(r);
		if (h) {
			h->row = r->pass_next / r->nr_wins;
			h->win = (uint32_t)(r->pass_next % r->nr_wins);
			h->pass = r->pass;
			h->wait_ns = rate_wait(r, h->win);
			r->pass_next++;
			r->pass_running++;
		}
		pthread_mutex_unlock(&r->lock);
		if (!h)
			return;
		h->req = NULL;
		h->op = UBT_OP_WRITE;
		h->flags = 0;
		h->mismatches = 0;
		h->span_lo = 0;
		h->span_hi = (uint32_t)UBT_MIN((uint64_t)r->win,
					       r->g.chunk - (uint64_t)h->win * r->win);
		raid_row_map(&r->g, h->row, &h->map);
		raid_head_launch(r, q, h);
	}
}

/* The pass went over every row: what it leaves behind. */
static void pass_end(struct raid *r)
{
	switch (r->pass) {
	case RAID_PASS_RESYNC:
		__atomic_store_n(&r->synced, r->rows, __ATOMIC_RELEASE);
		if (r->bm.node)
			raid_bitmap_synced_below(r, r->rows);
		if (r->jr.node)
			raid_journal_resynced(r);
		break;
	case RAID_PASS_RECOVER:
		/* Before the pass ends: its mark no longer guards the rebuilt legs. */
		__atomic_store_n(&r->rebuilding, 0, __ATOMIC_RELEASE);
		fprintf(stderr, "%s: recovery done: every leg in sync\n", r->t->type->name);
		break;
	default:
		break;
	}
	r->pass = RAID_PASS_NONE;
}

void raid_pass_head_done(struct raid *r, struct raid_head *h)
{
	uint64_t low = r->pass_next;
	unsigned int i;

	r->pass_running--;
	if (h->pass == RAID_PASS_CHECK || h->pass == RAID_PASS_REPAIR)
		r->mismatches += h->mismatches;
	if (h->pass != r->pass)
		return;		/* a head of a pass stopped since */
	/* The lowest step still running (this head is no longer busy). */
	for (i = 0; i < RAID_HEADS; i++) {
		const struct raid_head *o = &r->heads[i];

		if (o->busy && o->pass == r->pass)
			low = UBT_MIN(low, o->row * r->nr_wins + o->win);
	}
	__atomic_store_n(&r->pass_mark, low / r->nr_wins, __ATOMIC_RELEASE);
	if (r->pass == RAID_PASS_RESYNC && r->bm.node)
		raid_bitmap_synced_below(r, low / r->nr_wins);
	else if (r->pass == RAID_PASS_RESYNC)
		__atomic_store_n(&r->synced, low / r->nr_wins, __ATOMIC_RELEASE);
	if (r->pass_next == pass_steps(r) && !r->pass_running)
		pass_end(r);
}

static uint32_t all_legs(const struct raid *r)
{
	return (uint32_t)((1ull << r->g.disks) - 1);
}

static uint32_t parity_of(const struct raid *r, const struct raid_head *h)
{
	return (1u << h->map.pd) | (r->g.level == 6 ? 1u << h->map.qd : 0);
}

int64_t raid_pass_reads(struct raid *r, struct raid_head *h, uint32_t unreadable)
{
	uint32_t par = parity_of(r, h), lost = unreadable & all_legs(r);
	uint32_t rebuild = __atomic_load_n(&r->rebuilding, __ATOMIC_ACQUIRE) & ~raid_failed(r);

	switch (h->pass) {
	case RAID_PASS_RESYNC:
		/* Parity cannot be made from data that is gone. */
		if (lost & ~par)
			return -1;
		return all_legs(r) & ~par;
	case RAID_PASS_RECOVER:
		if ((unsigned int)__builtin_popcount(lost) > raid_parity_count(r) ||
		    !(lost & rebuild))
			return -1;
		return all_legs(r) & ~lost;
	default:	/* check, repair: every leg, or nothing to compare */
		if (lost)
			return -1;
		return all_legs(r);
	}
}

uint32_t raid_pass_compute(struct raid *r, struct raid_head *h)
{
	size_t len = (size_t)(h->span_hi - h->span_lo) << UBT_SECTOR_SHIFT;
	uint32_t par = parity_of(r, h);

	switch (h->pass) {
	case RAID_PASS_RESYNC:
		raid_parity_gen(&r->g, &h->map, h->buf, len, r->zero);
		return par;
	case RAID_PASS_RECOVER:
		raid_parity_rebuild(&r->g, &h->map, h->buf, len, h->failed & all_legs(r), h->scratch,
				    r->zero);
		return h->failed & __atomic_load_n(&r->rebuilding, __ATOMIC_ACQUIRE);
	default:
		h->mismatches = raid_parity_mismatches(&r->g, &h->map, h->buf, len, h->scratch,
						       r->zero);
		if (h->pass != RAID_PASS_REPAIR || !h->mismatches)
			return 0;
		memcpy(h->buf[h->map.pd], h->scratch[0], len);
		if (r->g.level == 6)
			memcpy(h->buf[h->map.qd], h->scratch[1], len);
		return par;
	}
}
