// SPDX-License-Identifier: MIT
/*
 * raid4 / raid5 / raid6: parity RAID over any nodes, with md's layouts
 * (the legs hold what md and dm-raid would hold for the same layout and
 * chunk), degraded service and a background resync.
 *
 *   raid5(LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync|sync,
 *         log=NODE, region=SIZE, journal=NODE, rebuild=LEGS, resync_rate=SIZE)
 *   raid4(...)  raid6(LEG, LEG, LEG, LEG, ...)
 *
 *   chunk=   a power of two from 4K (md's page) up, a multiple of every
 *            leg's block size; default 64K (lvm's)
 *   layout=  md's names (mdadm --layout): raid5 left-symmetric (md's
 *            default), left-asymmetric, right-symmetric, right-asymmetric,
 *            parity-first, parity-last; raid4 parity-first (dm-raid's raid4,
 *            the default) or parity-last (md's raid4); raid6 the same six
 *            (left-symmetric the default) and ddf-zero-restart,
 *            ddf-N-restart, ddf-N-continue, left-asymmetric-6,
 *            right-asymmetric-6, left-symmetric-6, right-symmetric-6,
 *            parity-first-6
 *   nosync   the legs' parity already agrees with their data (new zeroed
 *            legs, say): no resync at start.  Without it every start
 *            computes parity for every row in the background, and rows it
 *            has not reached yet take reconstruct-writes.
 *   log=     a write-intent log (bitmap.c) in a node of its own (a PATH: a
 *            file): a start after a crash resyncs only the regions that
 *            were being written; a new (zeroed) log resyncs everything once
 *   region=  the log's region, bytes of each leg: a power of two of at
 *            least the chunk; default 4M (dm-raid's).  Without log= it
 *            is only checked and kept (dm-raid's region_size without
 *            metadata devices, for its table)
 *   sync     with a log or journal: resync every row at this start all
 *            the same
 *   journal= a write journal (journal.c) in a node of its own: every
 *            write reaches it before the legs, and a start after a crash
 *            writes what it holds to the legs again, so a leg lost after a
 *            crash is rebuilt right (the write hole closed); not with log=
 *   rebuild= legs (rebuild=1, rebuild=1+3) whose content is not to be
 *            trusted: rebuilt from the others at start (dm-raid's rebuild);
 *            not with sync, nosync, log= or journal=
 *   resync_rate= bytes per second of each leg that the background passes
 *            (resync, recover, check, repair) may use; default no limit
 *            (dm-raid's max_recovery_rate)
 *
 * Legs: 3 to MAX_FANOUT (raid6: 4 to MAX_FANOUT); each counts as its size
 * rounded down to a chunk, the smallest sets the rows; the node holds
 * rows * (legs - parity) chunks.
 *
 * Status (dm-raid's): <type> <#legs> <health per leg> <done>/<leg sectors>
 * <action> <mismatches> 0 -; health A in sync, a being resynced or
 * rebuilt, D failed; action idle, resync, recover, check, repair, frozen.
 * Messages: `fail LEG` marks a leg failed (reads of it are rebuilt from
 * the others, writes go on without it); `replace LEG` takes it back and
 * rebuilds it, `replace LEG PATH|SPEC` puts a new node in its place while
 * I/O runs and rebuilds that; dm-raid's actions `recover` (every failed
 * leg taken back), `check`, `repair`, `resync`, `frozen`, `idle`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generated/autoconf.h"
#include "ubt/shorthand.h"
#include "ubt/table.h"
#include "ubt/util.h"
#include "raid.h"

#define RAID_DEFAULT_CHUNK	(64u * 1024)

int raid_leg_of(const struct raid *r, const struct ubt_target *child)
{
	unsigned int i;

	for (i = 0; i < r->g.disks; i++)
		if (r->t->children[i] == child)
			return (int)i;
	return -1;
}

void raid_fail_leg_quiet(struct raid *r, unsigned int leg)
{
	__atomic_fetch_or(&r->failed, 1u << leg, __ATOMIC_ACQ_REL);
}

void raid_fail_leg(struct raid *r, unsigned int leg)
{
	uint32_t was = __atomic_fetch_or(&r->failed, 1u << leg, __ATOMIC_ACQ_REL);

	if (!(was & (1u << leg)))
		fprintf(stderr, "%s: leg %u (%s:%u) failed%s\n", r->t->type->name, leg,
			r->t->children[leg]->type->name, r->t->children[leg]->id,
			(unsigned int)__builtin_popcount(was | (1u << leg)) > raid_parity_count(r) ?
			": more legs lost than the parity covers, the array fails I/O" :
			": its data is rebuilt from the others");
}

static unsigned int type_level(const struct ubt_target *t)
{
	return (unsigned int)(t->type->name[4] - '0');
}

static const char *example(unsigned int level)
{
	return level == 6 ? "raid6(a.img, b.img, c.img, d.img, chunk=64K)"
			  : level == 4 ? "raid4(a.img, b.img, c.img, chunk=64K)"
				       : "raid5(a.img, b.img, c.img, chunk=64K)";
}

static int parse_layout(struct ubt_target *t, struct ubt_args *args, struct raid *r)
{
	const char *name = ubt_args_str(args, "layout");
	const struct raid_layout_name *l;
	unsigned int level = r->g.level;

	if (!name)
		name = level == 4 ? "parity-first" : "left-symmetric";
	l = raid_layout_find(level, name);
	if (!l) {
		char list[512];
		struct ubt_str s = UBT_STR(list, sizeof(list));

		for (l = raid_layouts; l->name; l++)
			if (l->level == level)
				ubt_str_printf(&s, "%s%s", s.pos ? ", " : "", l->name);
		return ubt_target_error(t, EINVAL, "layout=%s is not a raid%u layout (%s)", name,
					level, list);
	}
	r->layout = l;
	r->g.algo = l->algo;
	return 0;
}

/*
 * rebuild=LEG[+LEG]: dm-raid's `rebuild <idx>` -- the named legs' content
 * is not to be trusted (a new disk in an old array's place): a recovery
 * rebuilds them from the others at start, and the others are taken as in
 * sync, so neither sync nor nosync goes with it (dm-raid's rule).
 */
static int parse_rebuild(struct ubt_target *t, struct ubt_args *args, struct raid *r,
			 bool force_sync)
{
	const char *arg = ubt_args_str(args, "rebuild"), *p;
	unsigned int n;

	if (!arg) {
		if (ubt_args_has(args, "rebuild"))
			return ubt_target_error(t, EINVAL, "rebuild= takes leg numbers (rebuild=1, "
						"rebuild=1+3), not a node");
		return 0;
	}
	for (p = arg; *p;) {
		char *end;
		unsigned long leg = strtoul(p, &end, 10);

		if (end == p || (*end && *end != '+') || (*end == '+' && !end[1]))
			return ubt_target_error(t, EINVAL, "rebuild=%s: leg numbers joined by '+' "
						"(rebuild=1, rebuild=1+3)", arg);
		if (leg >= r->g.disks)
			return ubt_target_error(t, EINVAL, "rebuild=%s: there is no leg %lu (legs 0 "
						"to %u)", arg, leg, r->g.disks - 1);
		if (r->rebuild_arg & (1u << leg))
			return ubt_target_error(t, EINVAL, "rebuild=%s: leg %lu given twice", arg,
						leg);
		r->rebuild_arg |= 1u << leg;
		p = *end ? end + 1 : end;
	}
	n = (unsigned int)__builtin_popcount(r->rebuild_arg);
	if (n > raid_parity_count(r))
		return ubt_target_error(t, EINVAL, "rebuild=%s: %u legs to rebuild, the parity "
					"covers %u", arg, n, raid_parity_count(r));
	if (r->nosync || force_sync)
		return ubt_target_error(t, EINVAL, "rebuild= takes the other legs as in sync and "
					"rebuilds the named ones: not with %s", r->nosync ? "nosync" :
					"sync");
	if (ubt_args_has(args, "log") || ubt_args_has(args, "journal"))
		return ubt_target_error(t, EINVAL, "rebuild= is not with %s= here: give the "
					"legs to rebuild by message once it runs (replace LEG)",
					ubt_args_has(args, "log") ? "log" : "journal");
	return 0;
}

static int raid_build(struct ubt_target *t, struct ubt_args *args, struct raid *r)
{
	uint64_t chunk = RAID_DEFAULT_CHUNK, smallest = UINT64_MAX;
	unsigned int level = type_level(t), min_legs = level == 6 ? 4 : 3, i;
	uint32_t lbs = ubt_target_block_size(t);
	bool force_sync;
	int ret;

	r->g.level = level;
	r->nosync = ubt_args_flag(args, "nosync");
	force_sync = ubt_args_flag(args, "sync");
	if (r->nosync && force_sync)
		return ubt_target_error(t, EINVAL, "sync and nosync contradict each other");
	ret = ubt_args_size(t, args, "chunk", &chunk);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ubt_is_power_of_2(chunk) || chunk < 4096)
		return ubt_target_error(t, EINVAL, "chunk=%llu must be a power of two of at least 4K "
					"(md's rule)", (unsigned long long)chunk);
	if (chunk % lbs)
		return ubt_target_error(t, EINVAL, "chunk=%llu is not a multiple of the %u-byte "
					"block size", (unsigned long long)chunk, lbs);
	ret = parse_layout(t, args, r);
	if (ret)
		return ret;
	ret = ubt_build_children(t, args, example(level), true);
	if (ret)
		return ret;
	if (t->nr_children < min_legs || t->nr_children > RAID_MAX_LEGS)
		return ubt_target_error(t, EINVAL, "%u legs: a raid%u has %u to %u, e.g. %s",
					t->nr_children, level, min_legs,
					UBT_MIN(RAID_MAX_LEGS, CONFIG_MAX_FANOUT), example(level));
	r->g.disks = t->nr_children;
	r->g.data = r->g.disks - (level == 6 ? 2 : 1);
	r->g.chunk = chunk >> UBT_SECTOR_SHIFT;
	for (i = 0; i < t->nr_children; i++) {
		const struct ubt_target *c = t->children[i];

		if (chunk % c->limits.logical_block_size)
			return ubt_target_error(t, EINVAL, "chunk=%llu is not a multiple of leg %u's "
						"%u-byte block size", (unsigned long long)chunk, i,
						c->limits.logical_block_size);
		if (c->len < r->g.chunk)
			return ubt_target_error(t, EINVAL, "leg %u (%llu bytes) is smaller than one "
						"chunk (%llu bytes)", i,
						(unsigned long long)(c->len << UBT_SECTOR_SHIFT),
						(unsigned long long)chunk);
		smallest = UBT_MIN(smallest, c->len);
	}
	r->rows = smallest / r->g.chunk;
	r->leg_len = r->rows * r->g.chunk;
	t->len = r->leg_len * r->g.data;
	r->win = (uint32_t)UBT_MIN(r->g.chunk, RAID_WINDOW_BYTES >> UBT_SECTOR_SHIFT);
	r->nr_wins = (uint32_t)(r->g.chunk / r->win);
	ret = ubt_args_size(t, args, "resync_rate", &r->pass_rate);
	if (ret && ret != -ENOENT)
		return ret;
	ret = parse_rebuild(t, args, r, force_sync);
	if (!ret)
		ret = raid_bitmap_build(t, args, r, force_sync);
	if (!ret)
		ret = raid_journal_build(t, args, r);
	if (ret)
		return ret;
	if (r->jr.node) {
		bool resync;

		/* Whole entries back on the legs: every row agrees, unless never resynced. */
		ret = raid_journal_load(r, &resync);
		if (ret)
			return ret;
		if (resync || force_sync)
			raid_pass_begin(r, RAID_PASS_RESYNC);
		else
			r->synced = r->rows;
	} else if (r->bm.node) {
		/* The log says which regions the resync visits; the rest are in sync. */
		ret = raid_bitmap_load(r, force_sync);
		if (ret)
			return ret;
		r->synced = r->rows;
		if (r->bm.dirty_at_start)
			raid_pass_begin(r, RAID_PASS_RESYNC);
	} else if (r->rebuild_arg) {
		r->synced = r->rows;
		raid_pass_begin(r, RAID_PASS_RECOVER);
		r->rebuilding = r->rebuild_arg;
	} else if (r->nosync) {
		r->synced = r->rows;
	} else {
		raid_pass_begin(r, RAID_PASS_RESYNC);
	}
	raid_parity_init();
	ret = raid_heads_init(r);
	if (ret)
		return ubt_target_error(t, ENOMEM, "out of memory for %u stripe heads", RAID_HEADS);
	/* Each queue may run every head, and a log write or a journal checkpoint. */
	t->bg_tags = RAID_HEADS + (r->bm.node || r->jr.node ? 1 : 0);
	return 0;
}

static void raid_dtr(struct ubt_target *t)
{
	struct raid *r = t->private;

	if (!r)
		return;
	raid_bitmap_stop(r);
	raid_bitmap_free(r);
	raid_journal_stop(r);
	raid_journal_free(r);
	raid_heads_free(r);
	pthread_mutex_destroy(&r->lock);
	free(r);
	t->private = NULL;
}

static int raid_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct raid *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return ubt_target_error(t, ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	t->private = r;
	r->t = t;
	ret = raid_build(t, args, r);
	if (ret)
		raid_dtr(t);
	return ret;
}

static void raid_io_budget(struct ubt_target *t)
{
	struct raid *r = t->private;
	unsigned int heads = r->g.disks * 2 * (raid_parity_count(r) + 2);

	/* A read: one child per chunk piece; a head: reads and writes, planned again per lost leg. */
	r->max_pieces = (unsigned int)(ubt_target_max_io_bytes(t) /
				       (r->g.chunk << UBT_SECTOR_SHIFT)) + 2;
	t->max_fanout = UBT_MAX(UBT_MAX(r->max_pieces, heads), r->g.disks);
	t->child_max_iov = t->max_iov_in;
	t->per_io_size = sizeof(struct raid_io) +
			 (size_t)r->max_pieces * t->max_iov_in * sizeof(struct iovec);
}

static void raid_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	struct raid *r = t->private;
	uint64_t chunk = r->g.chunk << UBT_SECTOR_SHIFT;

	/* dm-raid's: io_min the chunk, io_opt a full row of data. */
	lim->io_min = (uint32_t)chunk;
	lim->io_opt = (uint32_t)UBT_MIN(chunk * r->g.data, UINT32_MAX);
	lim->discard = false;
	lim->write_zeroes = false;
}

static void raid_poke(struct ubt_target *t, struct ubt_queue *q)
{
	struct raid *r = t->private;

	/* Serving: this process owns the journal now, and records it at a clean stop. */
	if (r->jr.node)
		__atomic_store_n(&r->jr.started, true, __ATOMIC_RELAXED);
	raid_journal_kick(t->private, q);
	raid_bitmap_kick(t->private, q);
	raid_pass_poke(t->private, q);
}

static void raid_progress(struct ubt_target *t, uint64_t *done, uint64_t *total,
			  const char **what)
{
	struct raid *r = t->private;
	static const char *const whats[] = {
		"rows", "rows resynced", "rows recovered", "rows checked", "rows repaired",
	};

	pthread_mutex_lock(&r->lock);
	*total = r->rows;
	*done = r->pass == RAID_PASS_NONE ? r->rows : __atomic_load_n(&r->pass_mark,
									__ATOMIC_ACQUIRE);
	*what = whats[r->pass];
	pthread_mutex_unlock(&r->lock);
}

/* dm-raid's name for the array, or one in its style where dm-raid has none. */
static const char *status_type(const struct raid *r, char *buf, size_t len)
{
	if (r->layout->dm_type)
		return r->layout->dm_type;
	snprintf(buf, len, "raid%u_%s", r->g.level, r->layout->name);
	return buf;
}

/*
 * dm-raid's: health A in sync, a being resynced or rebuilt, D failed; the
 * pass's progress in leg sectors (all of them when idle); the action; the
 * mismatches the last check found (0 after a repair, as dm-raid shows).
 */
static int raid_status(struct ubt_target *t, char *buf, size_t len)
{
	struct raid *r = t->private;
	struct ubt_str s = UBT_STR(buf, len);
	uint32_t failed = raid_failed(r), rebuilding;
	enum raid_pass pass;
	uint64_t mark, mismatches;
	bool frozen;
	char name[64];
	unsigned int i;

	pthread_mutex_lock(&r->lock);
	pass = r->pass;
	frozen = r->frozen;
	mark = pass == RAID_PASS_NONE ? r->rows : __atomic_load_n(&r->pass_mark, __ATOMIC_ACQUIRE);
	mismatches = r->last_scrub == RAID_PASS_CHECK ? r->mismatches : 0;
	rebuilding = __atomic_load_n(&r->rebuilding, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&r->lock);
	ubt_str_printf(&s, "%s %u ", status_type(r, name, sizeof(name)), r->g.disks);
	for (i = 0; i < r->g.disks; i++)
		ubt_str_printf(&s, "%c", failed & (1u << i) ? 'D' :
			       pass == RAID_PASS_RESYNC || (rebuilding & (1u << i)) ? 'a' : 'A');
	ubt_str_printf(&s, " %llu/%llu %s %llu 0 -", (unsigned long long)(mark * r->g.chunk),
		       (unsigned long long)r->leg_len, frozen ? "frozen" : raid_pass_name(pass),
		       (unsigned long long)mismatches);
	return (int)s.pos;
}

/* LEG: a position (0 first) or a leg node's label. */
static int find_leg(const struct ubt_target *t, const char *s)
{
	uint64_t v;
	unsigned int i;

	if (!ubt_parse_uint(s, &v))
		return v < t->nr_children ? (int)v : -1;
	for (i = 0; i < t->nr_children; i++)
		if (t->children[i]->label && !strcmp(t->children[i]->label, s))
			return (int)i;
	return -1;
}

/* Under r->lock: legs in `legs` are rebuilt from the others, from the first row on. */
static void start_recovery(struct raid *r, uint32_t legs)
{
	raid_pass_begin(r, RAID_PASS_RECOVER);
	/* Rebuilding before no longer failed: a reader never sees the leg as whole. */
	__atomic_fetch_or(&r->rebuilding, legs, __ATOMIC_ACQ_REL);
	__atomic_fetch_and(&r->failed, ~legs, __ATOMIC_ACQ_REL);
	r->frozen = false;
}

/* A pass is under way: the one-line refusal. */
static int busy(struct raid *r, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s: a %s is under way: wait for it (status --wait)%s", name,
		 raid_pass_name(r->pass),
		 r->pass == RAID_PASS_CHECK || r->pass == RAID_PASS_REPAIR ? " or stop it (idle)" : "");
	return -EBUSY;
}

/*
 * `replace LEG SPEC`: a new node (a file's PATH, or any spec expression)
 * takes the leg's place while I/O runs, and is rebuilt from the others.
 * The leg stops being read first; I/O already sent to the old node
 * finishes there and is read again (legs_gen), and the old node stays
 * open until the device goes.
 */
static int replace_with_node(struct ubt_target *t, unsigned int leg, int argc, char **argv,
			     char *out, size_t len)
{
	struct raid *r = t->private;
	const char *name = t->type->name;
	struct ubt_target *n, *old = raid_leg_node(r, leg);
	char spec[1024], err[512];
	struct ubt_str s = UBT_STR(spec, sizeof(spec));
	int i;

	for (i = 2; i < argc; i++)
		ubt_str_printf(&s, "%s%s", i > 2 ? " " : "", argv[i]);
	if (!ubt_str_fits(&s)) {
		snprintf(out, len, "%s: replace %u: the spec is longer than %zu bytes", name, leg,
			 sizeof(spec) - 1);
		return -EINVAL;
	}
	if (ubt_target_build_child(t, leg, spec, r->leg_len, &n, err, sizeof(err))) {
		snprintf(out, len, "%s: replace %u: %s", name, leg, err);
		return -EINVAL;
	}
	raid_fail_leg_quiet(r, leg);
	pthread_mutex_lock(&r->lock);
	__atomic_fetch_add(&r->legs_gen, 1, __ATOMIC_ACQ_REL);
	ubt_target_swap_child(t, leg, n);
	start_recovery(r, 1u << leg);
	pthread_mutex_unlock(&r->lock);
	fprintf(stderr, "%s: leg %u is now %s:%u (was %s:%u); rebuilding it from the others\n",
		name, leg, n->type->name, n->id, old->type->name, old->id);
	return 0;
}

static int message_replace(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct raid *r = t->private;
	const char *name = t->type->name;
	uint32_t failed = raid_failed(r);
	int leg = find_leg(t, argv[1]), ret = 0;

	if (leg < 0) {
		snprintf(out, len, "%s: no leg %s (legs are 0 to %u, or their name= labels)", name,
			 argv[1], t->nr_children - 1);
		return -EINVAL;
	}
	pthread_mutex_lock(&r->lock);
	if (r->pass != RAID_PASS_NONE)
		ret = busy(r, name, out, len);
	pthread_mutex_unlock(&r->lock);
	if (ret)
		return ret;
	if ((unsigned int)__builtin_popcount(failed | (1u << leg)) > raid_parity_count(r)) {
		snprintf(out, len, "%s: leg %d cannot be rebuilt: %u legs lost, the parity covers %u",
			 name, leg, (unsigned int)__builtin_popcount(failed | (1u << leg)),
			 raid_parity_count(r));
		return -EINVAL;
	}
	if (argc > 2)
		ret = replace_with_node(t, (unsigned int)leg, argc, argv, out, len);
	else if (!(failed & (1u << leg))) {
		snprintf(out, len, "%s: leg %d has not failed", name, leg);
		return -EINVAL;
	} else {
		/* The leg's device was fixed or swapped underneath: rebuild all of it. */
		pthread_mutex_lock(&r->lock);
		start_recovery(r, 1u << leg);
		pthread_mutex_unlock(&r->lock);
	}
	if (!ret && ubt_target_poke(t))
		snprintf(out, len, "%s: no queue thread could be woken: the rebuild starts when the "
			 "device next starts", name);
	return ret;
}

/* dm-raid's sync actions. */
static int message_action(struct ubt_target *t, const char *action, char *out, size_t len)
{
	struct raid *r = t->private;
	const char *name = t->type->name;
	uint32_t failed = raid_failed(r);
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!strcmp(action, "frozen")) {
		r->frozen = true;
	} else if (!strcmp(action, "idle")) {
		/* A check or repair stops; a resync or recovery goes on. */
		if (r->pass == RAID_PASS_CHECK || r->pass == RAID_PASS_REPAIR)
			r->pass = RAID_PASS_NONE;
		r->frozen = false;
	} else if (r->pass != RAID_PASS_NONE && !(!strcmp(action, "resync") &&
						 r->pass == RAID_PASS_RESYNC)) {
		ret = busy(r, name, out, len);
	} else if (!strcmp(action, "resync")) {
		if (r->bm.node)
			raid_bitmap_resync_all(r);
		raid_pass_begin(r, RAID_PASS_RESYNC);
		r->frozen = false;
	} else if (!strcmp(action, "recover")) {
		if (!failed) {
			snprintf(out, len, "%s: no leg has failed: nothing to recover", name);
			ret = -EINVAL;
		} else if ((unsigned int)__builtin_popcount(failed) > raid_parity_count(r)) {
			snprintf(out, len, "%s: %u legs lost, the parity covers %u: nothing to rebuild "
				 "them from", name, (unsigned int)__builtin_popcount(failed),
				 raid_parity_count(r));
			ret = -EINVAL;
		} else {
			start_recovery(r, failed);
		}
	} else if (failed) {
		snprintf(out, len, "%s: %s needs every leg (leg %u has failed)", name, action,
			 (unsigned int)__builtin_ctz(failed));
		ret = -EINVAL;
	} else {
		raid_pass_begin(r, !strcmp(action, "check") ? RAID_PASS_CHECK : RAID_PASS_REPAIR);
		r->frozen = false;
	}
	pthread_mutex_unlock(&r->lock);
	if (!ret && ubt_target_poke(t))
		snprintf(out, len, "%s: no queue thread could be woken: the %s goes on when the "
			 "device next starts", name, action);
	return ret;
}

static int raid_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	static const char *const actions[] = {
		"frozen", "idle", "resync", "recover", "check", "repair", NULL,
	};
	struct raid *r = t->private;
	const char *name = t->type->name;
	unsigned int i;
	int leg;

	if (argc == 2 && !strcmp(argv[0], "fail")) {
		leg = find_leg(t, argv[1]);
		if (leg < 0) {
			snprintf(out, len, "%s: no leg %s (legs are 0 to %u, or their name= labels)",
				 name, argv[1], t->nr_children - 1);
			return -EINVAL;
		}
		raid_fail_leg(r, (unsigned int)leg);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[0], "replace"))
		return message_replace(t, argc, argv, out, len);
	for (i = 0; argc == 1 && actions[i]; i++)
		if (!strcmp(argv[0], actions[i]))
			return message_action(t, argv[0], out, len);
	snprintf(out, len, "%s: want fail LEG, replace LEG [PATH|SPEC], check, repair, recover, "
		 "resync, frozen or idle", name);
	return -EINVAL;
}

/*
 * create raidN [--chunk SIZE] [--layout NAME] [--nosync] [--log PATH [--region SIZE]]
 *              [--journal PATH] --file PATH --file PATH ...
 */
static int raid_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	unsigned int level = (unsigned int)(a->type->name[4] - '0');
	const char *layout = ubt_shorthand_value(a, "layout", 0);

	if (ubt_shorthand_count(a, "file") < (level == 6 ? 4u : 3u))
		return ubt_shorthand_fail(a, "%s needs --file PATH for each leg, at least %u",
					  a->type->name, level == 6 ? 4 : 3);
	if (layout && !raid_layout_find(level, layout))
		return ubt_shorthand_fail(a, "--layout %s is not a raid%u layout (see "
					  "'ublk-target features')", layout, level);
	ubt_str_printf(s, "%s(", a->type->name);
	if (ubt_shorthand_put_paths(a, s, "file") ||
	    ubt_shorthand_put_sizes(a, s, (const char *const[]){ "chunk", NULL }))
		return -EINVAL;
	if (layout)
		ubt_str_printf(s, ", layout=%s", layout);
	if (ubt_shorthand_count(a, "nosync"))
		ubt_str_printf(s, ", nosync");
	if (ubt_shorthand_count(a, "region") && !ubt_shorthand_count(a, "log"))
		return ubt_shorthand_fail(a, "--region sizes the log: give --log PATH too");
	if (ubt_shorthand_count(a, "journal")) {
		ubt_str_printf(s, ", journal=");
		if (ubt_shorthand_put_path(a, s, ubt_shorthand_value(a, "journal", 0)))
			return -EINVAL;
	}
	if (ubt_shorthand_count(a, "log")) {
		ubt_str_printf(s, ", log=");
		if (ubt_shorthand_put_path(a, s, ubt_shorthand_value(a, "log", 0)) ||
		    ubt_shorthand_put_sizes(a, s, (const char *const[]){ "region", NULL }))
			return -EINVAL;
	}
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand raid_shorthand = {
	.synopsis = "[--chunk SIZE] [--layout NAME] [--nosync] [--log PATH [--region SIZE]] "
		    "[--journal PATH] --file PATH --file PATH ...",
	.help = "parity RAID over the files with md's layouts (chunk default 64K); --log PATH "
		"keeps a write-intent log there, --journal PATH a write journal",
	.opts = (const struct ubt_shorthand_opt[]){
		{ "chunk", "SIZE" }, { "layout", "NAME" }, { "nosync", NULL }, { "log", "PATH" },
		{ "region", "SIZE" }, { "journal", "PATH" }, { "file", "PATH" }, { NULL, NULL },
	},
	.spec = raid_shorthand_spec,
};

#define RAID_STATUS_USAGE \
	"<type> <#legs> <health per leg> <done>/<leg sectors> <action> <mismatches> 0 -,\n" \
	"as dm-raid's: type raid4, raid5_ls, raid6_zr, ... (raidN_<layout> where dm-raid\n" \
	"has none); health A in sync, a being resynced or rebuilt, D failed; action\n" \
	"idle, resync, recover, check, repair or frozen, <done> its progress; mismatches:\n" \
	"where the last check found parity wrong, as md counts it (8 per 4 KiB page)"
#define RAID_MESSAGE_USAGE \
	"fail LEG               mark a leg failed: its data is rebuilt from the\n" \
	"                       others, writes go on without it\n" \
	"replace LEG            take a failed leg back (fixed or swapped): rebuild it\n" \
	"replace LEG PATH|SPEC  put a new file (or node) in the leg's place while\n" \
	"                       I/O runs, then rebuild it from the others\n" \
	"recover                take back every failed leg and rebuild them\n" \
	"check                  count the sectors whose parity disagrees\n" \
	"repair                 ... and write parity that agrees\n" \
	"resync                 compute every row's parity again, from the first\n" \
	"frozen                 pause the pass under way\n" \
	"idle                   stop a check or repair; let a paused pass go on\n" \
	"                       LEG is a leg's position (0 first) or its label\n"

#define RAID_TYPE(lvl, use, dm)						\
	{								\
		.name = "raid" #lvl,					\
		.version = { 1, 0, 0 },					\
		.flags = UBT_TARGET_NEEDS_DATA,				\
		.usage = use,						\
		.ctr = raid_ctr,					\
		.dtr = raid_dtr,					\
		.map = raid_map,					\
		.end_io = raid_end_io,					\
		.io_budget = raid_io_budget,				\
		.io_hints = raid_io_hints,				\
		.poke = raid_poke,					\
		.progress = raid_progress,				\
		.status = raid_status,					\
		.status_usage = RAID_STATUS_USAGE,			\
		.message = raid_message,				\
		.message_usage = RAID_MESSAGE_USAGE,			\
		.shorthand = &raid_shorthand,				\
		.dm_names = dm,						\
		.table_parse = raid_table_parse,			\
		.table_print = raid_table_print,			\
	}

static struct ubt_target_type raid4_target =
	RAID_TYPE(4, "raid4(LEG, LEG, LEG, ..., chunk=SIZE, layout=parity-first|parity-last, "
		     "nosync|sync, log=NODE, region=SIZE, journal=NODE, rebuild=LEGS, "
		     "resync_rate=SIZE)", NULL);
static struct ubt_target_type raid5_target =
	RAID_TYPE(5, "raid5(LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync|sync, log=NODE, "
		     "region=SIZE, journal=NODE, rebuild=LEGS, resync_rate=SIZE)", raid_dm_names);
static struct ubt_target_type raid6_target =
	RAID_TYPE(6, "raid6(LEG, LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync|sync, "
		     "log=NODE, region=SIZE, journal=NODE, rebuild=LEGS, resync_rate=SIZE)", NULL);
UBT_TARGET_REGISTER(raid4_target)
UBT_TARGET_REGISTER(raid5_target)
UBT_TARGET_REGISTER(raid6_target)
