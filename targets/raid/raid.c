// SPDX-License-Identifier: MIT
/*
 * raid4 / raid5 / raid6: parity RAID over any nodes, with md's layouts
 * (the legs hold what md and dm-raid would hold for the same layout and
 * chunk), degraded service and a background resync.
 *
 *   raid5(LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync)
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
 *
 * Legs: 3 to MAX_FANOUT (raid6: 4 to MAX_FANOUT); each counts as its size
 * rounded down to a chunk, the smallest sets the rows; the node holds
 * rows * (legs - parity) chunks.
 *
 * Status (dm-raid's): <type> <#legs> <health per leg> <synced>/<leg sectors>
 * <action> <mismatches> 0 -; health A in sync, a being resynced, D failed;
 * action idle, resync or frozen.
 * Messages: `fail LEG` marks a leg failed (reads of it are rebuilt from
 * the others, writes go on without it); `frozen` pauses the resync,
 * `idle` lets it go on, `resync` starts it again from the first row.
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

void raid_fail_leg(struct raid *r, unsigned int leg)
{
	uint32_t was = __atomic_fetch_or(&r->failed, 1u << leg, __ATOMIC_ACQ_REL);

	__atomic_fetch_add(&r->errors, 1, __ATOMIC_RELAXED);
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

static int raid_build(struct ubt_target *t, struct ubt_args *args, struct raid *r)
{
	uint64_t chunk = RAID_DEFAULT_CHUNK, smallest = UINT64_MAX;
	unsigned int level = type_level(t), min_legs = level == 6 ? 4 : 3, i;
	uint32_t lbs = ubt_target_block_size(t);
	int ret;

	r->g.level = level;
	r->nosync = ubt_args_flag(args, "nosync");
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
	r->synced = r->nosync ? r->rows : 0;
	r->resync_next = r->nosync ? r->rows * r->nr_wins : 0;
	raid_parity_init();
	ret = raid_heads_init(r);
	if (ret)
		return ubt_target_error(t, ENOMEM, "out of memory for %u stripe heads", RAID_HEADS);
	/* Each queue may run every head. */
	t->bg_tags = RAID_HEADS;
	return 0;
}

static void raid_dtr(struct ubt_target *t)
{
	struct raid *r = t->private;

	if (!r)
		return;
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
	raid_resync_poke(t->private, q);
}

static bool resyncing(struct raid *r)
{
	return raid_synced(r) < r->rows;
}

static void raid_progress(struct ubt_target *t, uint64_t *done, uint64_t *total,
			  const char **what)
{
	struct raid *r = t->private;

	*done = raid_synced(r);
	*total = r->rows;
	*what = "rows resynced";
}

/* dm-raid's name for the array, or one in its style where dm-raid has none. */
static const char *status_type(const struct raid *r, char *buf, size_t len)
{
	if (r->layout->dm_type)
		return r->layout->dm_type;
	snprintf(buf, len, "raid%u_%s", r->g.level, r->layout->name);
	return buf;
}

static int raid_status(struct ubt_target *t, char *buf, size_t len)
{
	struct raid *r = t->private;
	struct ubt_str s = UBT_STR(buf, len);
	uint32_t failed = raid_failed(r);
	bool sync = resyncing(r), frozen;
	char name[64];
	unsigned int i;

	pthread_mutex_lock(&r->lock);
	frozen = r->resync_frozen;
	pthread_mutex_unlock(&r->lock);
	ubt_str_printf(&s, "%s %u ", status_type(r, name, sizeof(name)), r->g.disks);
	for (i = 0; i < r->g.disks; i++)
		ubt_str_printf(&s, "%c", failed & (1u << i) ? 'D' : sync ? 'a' : 'A');
	ubt_str_printf(&s, " %llu/%llu %s 0 0 -",
		       (unsigned long long)(raid_synced(r) * r->g.chunk),
		       (unsigned long long)r->leg_len,
		       frozen ? "frozen" : sync ? "resync" : "idle");
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

static int raid_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct raid *r = t->private;
	const char *name = t->type->name;
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
	if (argc == 1 && (!strcmp(argv[0], "frozen") || !strcmp(argv[0], "idle") ||
			  !strcmp(argv[0], "resync"))) {
		pthread_mutex_lock(&r->lock);
		r->resync_frozen = !strcmp(argv[0], "frozen");
		if (!strcmp(argv[0], "resync")) {
			/* From the first row; heads still running finish theirs. */
			r->resync_next = 0;
			r->resync_rows_done = 0;
			__atomic_store_n(&r->synced, 0, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&r->lock);
		if (ubt_target_poke(t))
			snprintf(out, len, "%s: no queue thread could be woken: the resync goes on "
				 "when the device next starts", name);
		return 0;
	}
	snprintf(out, len, "%s: want fail LEG, frozen, idle or resync", name);
	return -EINVAL;
}

/* create raidN [--chunk SIZE] [--layout NAME] [--nosync] --file PATH --file PATH ... */
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
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand raid_shorthand = {
	.synopsis = "[--chunk SIZE] [--layout NAME] [--nosync] --file PATH --file PATH ...",
	.help = "parity RAID over the files with md's layouts (chunk default 64K)",
	.opts = (const struct ubt_shorthand_opt[]){
		{ "chunk", "SIZE" }, { "layout", "NAME" }, { "nosync", NULL }, { "file", "PATH" },
		{ NULL, NULL },
	},
	.spec = raid_shorthand_spec,
};

#define RAID_STATUS_USAGE \
	"<type> <#legs> <health per leg> <synced>/<leg sectors> <action> <mismatches> 0 -,\n" \
	"as dm-raid's: type raid4, raid5_ls, raid6_zr, ... (raidN_<layout> where dm-raid\n" \
	"has none); health A in sync, a being resynced, D failed; action idle, resync,\n" \
	"frozen"
#define RAID_MESSAGE_USAGE \
	"fail LEG               mark a leg failed: its data is rebuilt from the\n" \
	"                       others, writes go on without it\n" \
	"frozen                 pause the resync\n" \
	"idle                   let a paused resync go on\n" \
	"resync                 compute every row's parity again, from the first\n" \
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
		     "nosync)", NULL);
static struct ubt_target_type raid5_target =
	RAID_TYPE(5, "raid5(LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync)", raid_dm_names);
static struct ubt_target_type raid6_target =
	RAID_TYPE(6, "raid6(LEG, LEG, LEG, LEG, ..., chunk=SIZE, layout=NAME, nosync)", NULL);
UBT_TARGET_REGISTER(raid4_target)
UBT_TARGET_REGISTER(raid5_target)
UBT_TARGET_REGISTER(raid6_target)
