// SPDX-License-Identifier: MIT
/*
 * dm-raid's table line for the parity types, both ways:
 *
 *   raid <raid_type> <#raid_params> <chunk_size> [sync|nosync]
 *        <#raid_devs> <meta_dev> <data_dev> ...
 *
 * raid_type: raid4 (parity on the first leg), raid5_la, raid5_ra, raid5_ls,
 * raid5_rs, raid5_n, raid6_zr, raid6_nr, raid6_nc, raid6_n_6, raid6_la_6,
 * raid6_ra_6, raid6_ls_6, raid6_rs_6.  Each data device serves from its
 * sector 0 for <length> / <data devices> sectors, rounded down to a chunk
 * (md's rounding; the device shrinks to it).
 *
 * Sync: dm-raid without metadata devices takes a new array as in sync
 * unless told `sync`; here that is `nosync` (no resync at start), and
 * `sync` is the node's default (a resync at every start).  A node prints
 * `sync` unless it has nosync.
 *
 * Refused as dm-raid refuses them, with its words, in its order; refused
 * with words of ours: metadata devices (the node keeps no md superblock:
 * give `-`), a missing data device, and the parameters this node does not
 * act on (rebuild, region_size -- there is no write-intent bitmap --,
 * daemon_sleep, the recovery rates, stripe_cache, journal_dev,
 * journal_mode, delta_disks, data_offset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ubt/table.h"
#include "ubt/util.h"
#include "raid.h"

/* One owner for "raid" lines: the raid5 type (all three share this file). */
const char *const raid_dm_names[] = { "raid", NULL };

static const char *const unsupported[] = {
	"rebuild", "region_size", "daemon_sleep", "min_recovery_rate", "max_recovery_rate",
	"stripe_cache",
	"journal_dev", "journal_mode", "delta_disks", "data_offset", "write_mostly",
	"max_write_behind", "raid10_copies", "raid10_format", "raid10_use_near_sets", NULL,
};

static bool is_unsupported(const char *w)
{
	unsigned int i;

	for (i = 0; unsupported[i]; i++)
		if (!strcasecmp(w, unsupported[i]))
			return true;
	return false;
}

/* The optional parameters after the chunk: argv[from .. to). */
static int parse_params(struct ubt_table_line *l, const struct raid_layout_name *rt,
			unsigned int from, unsigned int to, bool *nosync)
{
	bool sync = false, seen_nosync = false;
	unsigned int i;

	for (i = from; i < to; i++) {
		const char *w = l->argv[i];

		if (!strcasecmp(w, "nosync")) {
			if (seen_nosync)
				return ubt_table_fail(l, "raid: Only one 'nosync' argument allowed");
			seen_nosync = true;
			continue;
		}
		if (!strcasecmp(w, "sync")) {
			if (sync)
				return ubt_table_fail(l, "raid: Only one 'sync' argument allowed");
			sync = true;
			continue;
		}
		if (i + 1 >= to)
			return ubt_table_fail(l, "raid: Wrong number of raid parameters given");
		if (is_unsupported(w))
			return ubt_table_fail(l, "raid: '%s' is not supported here", w);
		return ubt_table_fail(l, "raid: Unable to parse RAID parameter");
	}
	if (sync && seen_nosync)
		return ubt_table_fail(l, "raid: sync and nosync are mutually exclusive");
	if (rt->level == 6 && seen_nosync)
		return ubt_table_fail(l, "raid: Invalid flags combination");
	*nosync = !sync;
	return 0;
}

int raid_table_parse(struct ubt_table_line *l)
{
	const struct raid_layout_name *rt;
	uint64_t nparams, ndevs, chunk;
	unsigned int parity, data, i, devs_at;
	bool nosync = false;
	char msg[128];

	if (l->argc < 1)
		return ubt_table_fail(l, "raid: No arguments");
	rt = raid_layout_by_dm(l->argv[0]);
	if (!rt) {
		if (!strncasecmp(l->argv[0], "raid1", 5) || !strcasecmp(l->argv[0], "raid0"))
			return ubt_table_fail(l, "raid: %s is not a parity type (a mirror or stripe "
					      "node serves it)", l->argv[0]);
		return ubt_table_fail(l, "raid: Unrecognised raid_type");
	}
	if (l->argc < 2 || ubt_parse_uint(l->argv[1], &nparams) || nparams > l->argc - 2)
		return ubt_table_fail(l, "raid: Cannot understand number of raid parameters");
	devs_at = 2 + (unsigned int)nparams;
	if (devs_at >= l->argc || ubt_parse_uint(l->argv[devs_at], &ndevs) || !ndevs ||
	    ndevs > (l->argc - devs_at - 1) / 2)
		return ubt_table_fail(l, "raid: Cannot understand number of raid devices "
				      "parameters");
	if (ndevs > 253)
		return ubt_table_fail(l, "raid: Invalid number of supplied raid devices");
	parity = rt->level == 6 ? 2 : 1;
	if (ndevs <= parity)
		return ubt_table_fail(l, "raid: Insufficient number of devices");
	if (!nparams || ubt_parse_uint(l->argv[2], &chunk))
		return ubt_table_fail(l, "raid: Bad numerical argument given for chunk_size");
	if (!ubt_is_power_of_2(chunk))
		return ubt_table_fail(l, "raid: Chunk size must be a power of 2");
	if (chunk < 8)
		return ubt_table_fail(l, "raid: Chunk size value is too small");
	if (parse_params(l, rt, 3, devs_at, &nosync))
		return -EINVAL;
	if (devs_at + 1 + 2 * ndevs != l->argc)
		return ubt_table_fail(l, "raid: %llu words after the %llu device pairs",
				      (unsigned long long)(l->argc - devs_at - 1 - 2 * ndevs),
				      (unsigned long long)ndevs);
	data = (unsigned int)ndevs - parity;
	if (l->len % data)
		return ubt_table_fail(l, "raid: Target length not divisible by number of data "
				      "devices");
	ubt_table_put(l, "raid%u(", rt->level);
	for (i = 0; i < ndevs; i++) {
		const char *meta = l->argv[devs_at + 1 + 2 * i];
		const char *dev = l->argv[devs_at + 2 + 2 * i];

		if (strcmp(meta, "-"))
			return ubt_table_fail(l, "raid: metadata device %s: this node keeps no md "
					      "superblock, give '-'", meta);
		if (!strcmp(dev, "-"))
			return ubt_table_fail(l, "raid: device %u is missing ('-'): not supported "
					      "here", i);
		snprintf(msg, sizeof(msg), "raid: Component device(s) too small");
		if (ubt_table_put_dev(l, dev, "0", l->len / data, msg))
			return -EINVAL;
		ubt_table_put(l, ", ");
	}
	ubt_table_put(l, "chunk=%llu, layout=%s%s)",
		      (unsigned long long)(chunk << UBT_SECTOR_SHIFT), rt->name,
		      nosync ? ", nosync" : "");
	return 0;
}

int raid_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	const struct raid *r = t->private;
	const struct raid_layout_name *l;
	unsigned int i;

	if (r->bm.node)
		return ubt_table_print_fail(o, "the raid node's write-intent log (log=) has no "
					    "dm-raid form here: dm-raid keeps its bitmap on "
					    "metadata devices");
	if (r->jr.node)
		return ubt_table_print_fail(o, "the raid node's journal (journal=) has no dm-raid "
					    "form here: dm-raid's journal_dev needs metadata "
					    "devices");
	if (!r->layout->dm_type) {
		char list[256];
		struct ubt_str s = UBT_STR(list, sizeof(list));

		for (l = raid_layouts; l->name; l++)
			if (l->level == r->g.level && l->dm_type)
				ubt_str_printf(&s, "%s%s", s.pos ? ", " : "", l->name);
		return ubt_table_print_fail(o, "raid%u layout %s has no dm-raid type (dm-raid has "
					    "%s)", r->g.level, r->layout->name, list);
	}
	ubt_table_printf(o, "raid %s %u %llu%s %u", r->layout->dm_type, r->nosync ? 1 : 2,
			 (unsigned long long)r->g.chunk, r->nosync ? "" : " sync", r->g.disks);
	for (i = 0; i < r->g.disks; i++) {
		const char *path;
		uint64_t sector;

		if (ubt_table_need_dm_device(o, t->children[i], &path, &sector,
					     "leg %u of the raid node is not a file or a block "
					     "device", i))
			return -EINVAL;
		if (sector)
			return ubt_table_print_fail(o, "leg %u starts at sector %llu of %s: dm-raid "
						    "reads its data devices from sector 0", i,
						    (unsigned long long)sector, path);
		ubt_table_printf(o, " - %s", path);
	}
	return 0;
}
