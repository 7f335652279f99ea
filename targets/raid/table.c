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
 * `sync` unless it has nosync or rebuild=.
 *
 * Parameters acted on besides: `rebuild <idx>` (rebuild=: the leg is
 * rebuilt from the others at start; one pair per leg), `max_recovery_rate
 * <KiB/s>` (resync_rate=, in bytes; 0, md's default, is no limit here
 * and is not printed back), `region_size <sectors>` (region=: checked as
 * dm-raid checks it; without metadata devices dm-raid keeps no bitmap, and
 * the node without log= only keeps the value).  Printed back in dm-raid's
 * order: sync, rebuild, max_recovery_rate, region_size.
 *
 * Refused as dm-raid refuses them, with its words, in its order; refused
 * with words of ours: metadata devices (the node keeps no md superblock:
 * give `-`), a missing data device, and the parameters this node does not
 * act on (daemon_sleep, min_recovery_rate, stripe_cache, journal_dev,
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
	"daemon_sleep", "min_recovery_rate", "stripe_cache", "delta_disks", "data_offset",
	"write_mostly", "max_write_behind", "raid10_copies", NULL,
};
/* Parameters whose value dm-raid reads as a word, not a number. */
static const char *const unsupported_words[] = {
	"journal_dev", "journal_mode", "raid10_format", NULL,
};

static bool listed(const char *const *list, const char *w)
{
	unsigned int i;

	for (i = 0; list[i]; i++)
		if (!strcasecmp(w, list[i]))
			return true;
	return false;
}

/* The optional parameters, as dm-raid's parse_raid_params reads them. */
struct dm_params {
	bool sync, nosync;
	uint32_t rebuild;		/* legs, as bits */
	bool has_region, has_rate;
	uint64_t region;		/* sectors */
	int max_rate;			/* KiB/s of each device */
};

/* dm-raid reads a value with kstrtoint(): decimal, an optional sign, an int. */
static bool dm_int(const char *w, int *out)
{
	char *end;
	long v;

	if (!*w || (*w != '+' && *w != '-' && (*w < '0' || *w > '9')))
		return false;
	v = strtol(w, &end, 10);
	if (*end || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* The optional parameters after the chunk: argv[from .. to), for ndevs devices. */
static int parse_params(struct ubt_table_line *l, const struct raid_layout_name *rt,
			unsigned int from, unsigned int to, uint64_t ndevs, uint64_t chunk,
			struct dm_params *pr)
{
	unsigned int i;
	int v;

	for (i = from; i < to; i++) {
		const char *w = l->argv[i];

		if (!strcasecmp(w, "nosync")) {
			if (pr->nosync)
				return ubt_table_fail(l, "raid: Only one 'nosync' argument allowed");
			pr->nosync = true;
			continue;
		}
		if (!strcasecmp(w, "sync")) {
			if (pr->sync)
				return ubt_table_fail(l, "raid: Only one 'sync' argument allowed");
			pr->sync = true;
			continue;
		}
		if (i + 1 >= to)
			return ubt_table_fail(l, "raid: Wrong number of raid parameters given");
		if (listed(unsupported_words, w))
			return ubt_table_fail(l, "raid: '%s' is not supported here", w);
		if (!dm_int(l->argv[++i], &v))
			return ubt_table_fail(l, "raid: Bad numerical argument given in raid params");
		if (!strcasecmp(w, "rebuild")) {
			if (v < 0 || (uint64_t)v >= ndevs)
				return ubt_table_fail(l, "raid: Invalid rebuild index given");
			if (v >= 32 || (pr->rebuild & (1u << v)))
				return ubt_table_fail(l, "raid: rebuild for this index already given");
			pr->rebuild |= 1u << v;
		} else if (!strcasecmp(w, "region_size")) {
			if (pr->has_region)
				return ubt_table_fail(l, "raid: Only one region_size argument pair "
						      "allowed");
			pr->has_region = true;
			pr->region = (unsigned int)v;	/* dm-raid keeps it unsigned */
		} else if (!strcasecmp(w, "max_recovery_rate")) {
			if (pr->has_rate)
				return ubt_table_fail(l, "raid: Only one max_recovery_rate argument pair "
						      "allowed");
			if (v < 0)
				return ubt_table_fail(l, "raid: max_recovery_rate out of range");
			pr->has_rate = true;
			pr->max_rate = v;
		} else if (listed(unsupported, w)) {
			return ubt_table_fail(l, "raid: '%s' is not supported here", w);
		} else {
			return ubt_table_fail(l, "raid: Unable to parse RAID parameter");
		}
	}
	if (pr->sync && pr->nosync)
		return ubt_table_fail(l, "raid: sync and nosync are mutually exclusive");
	if ((pr->sync || pr->nosync) && pr->rebuild)
		return ubt_table_fail(l, "raid: sync/nosync and rebuild are mutually exclusive");
	if (pr->has_region) {
		/* dm-raid's validate_region_size(), over the target's length. */
		uint64_t min = l->len >> 21;

		if (!pr->region)
			pr->region = min > 8192 ? 1ull << ubt_ilog2(2 * min - 1) : 8192;
		else if (pr->region > l->len)
			return ubt_table_fail(l, "raid: Supplied region size is too large");
		else if (pr->region < min)
			return ubt_table_fail(l, "raid: Supplied region size is too small");
		else if (!ubt_is_power_of_2(pr->region))
			return ubt_table_fail(l, "raid: Region size is not a power of 2");
		else if (pr->region < chunk)
			return ubt_table_fail(l, "raid: Region size is smaller than the chunk size");
	}
	if (rt->level == 6 && pr->nosync)
		return ubt_table_fail(l, "raid: Invalid flags combination");
	return 0;
}

int raid_table_parse(struct ubt_table_line *l)
{
	const struct raid_layout_name *rt;
	uint64_t nparams, ndevs, chunk;
	unsigned int parity, data, i, devs_at;
	struct dm_params pr = { 0 };
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
	if (parse_params(l, rt, 3, devs_at, ndevs, chunk, &pr))
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
		if (!strcmp(dev, "-") && (pr.rebuild & (1u << i)))
			return ubt_table_fail(l, "raid: Drive designated for rebuild not specified");
		if (!strcmp(dev, "-"))
			return ubt_table_fail(l, "raid: device %u is missing ('-'): not supported "
					      "here", i);
		snprintf(msg, sizeof(msg), "raid: Component device(s) too small");
		if (ubt_table_put_dev(l, dev, "0", l->len / data, msg))
			return -EINVAL;
		ubt_table_put(l, ", ");
	}
	ubt_table_put(l, "chunk=%llu, layout=%s", (unsigned long long)(chunk << UBT_SECTOR_SHIFT),
		      rt->name);
	/* dm-raid's new array without a flag is in sync: nosync here; sync is the node's default. */
	if (!pr.sync && !pr.rebuild)
		ubt_table_put(l, ", nosync");
	for (i = 0; i < ndevs; i++)
		if (pr.rebuild & (1u << i))
			ubt_table_put(l, "%s%u", i == (unsigned int)__builtin_ctz(pr.rebuild) ?
				      ", rebuild=" : "+", i);
	if (pr.has_rate && pr.max_rate)
		ubt_table_put(l, ", resync_rate=%llu", (unsigned long long)pr.max_rate * 1024);
	if (pr.has_region)
		ubt_table_put(l, ", region=%llu",
			      (unsigned long long)(pr.region << UBT_SECTOR_SHIFT));
	ubt_table_put(l, ")");
	return 0;
}

int raid_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	const struct raid *r = t->private;
	const struct raid_layout_name *l;
	unsigned int i, nparams;
	bool sync;

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
	if (r->pass_rate % 1024)
		return ubt_table_print_fail(o, "resync_rate=%llu is not a whole number of KiB: "
					    "dm-raid's max_recovery_rate counts KiB/s",
					    (unsigned long long)r->pass_rate);
	sync = !r->nosync && !r->rebuild_arg;
	nparams = 1 + (sync ? 1 : 0) + 2 * (unsigned int)__builtin_popcount(r->rebuild_arg) +
		  (r->pass_rate ? 2 : 0) + (r->region_arg ? 2 : 0);
	ubt_table_printf(o, "raid %s %u %llu%s", r->layout->dm_type, nparams,
			 (unsigned long long)r->g.chunk, sync ? " sync" : "");
	for (i = 0; i < r->g.disks; i++)
		if (r->rebuild_arg & (1u << i))
			ubt_table_printf(o, " rebuild %u", i);
	if (r->pass_rate)
		ubt_table_printf(o, " max_recovery_rate %llu",
				 (unsigned long long)(r->pass_rate / 1024));
	if (r->region_arg)
		ubt_table_printf(o, " region_size %llu",
				 (unsigned long long)(r->region_arg >> UBT_SECTOR_SHIFT));
	ubt_table_printf(o, " %u", r->g.disks);
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
