// SPDX-License-Identifier: MIT
/*
 * The cache's dm table line, both ways:
 *
 *   cache <metadata dev> <cache dev> <origin dev> <block sectors>
 *         <#features> [writeback|writethrough|passthrough|metadata2|
 *         no_discard_passdown]... <policy> <#policy args> [<key> <value>]...
 *
 * Parsing checks what dm-cache-target.c's constructor checks, in its
 * order, with its messages: the three devices must open, the block size
 * is 64..2097152 sectors in steps of 64 and no larger than the cache
 * device, feature words are matched without case, one io mode at most,
 * the policy is smq, mq, cleaner or default (mq and default are smq, as
 * in the kernel since 4.12), and its arguments are <key> <value> pairs:
 * migration_threshold for every policy, mq's five tunables (accepted and
 * ignored, as the kernel does), nothing else.  Words after the policy
 * arguments are ignored, as dm ignores them.  dm takes the cache's length
 * from the line, not from the origin: the origin becomes a window of it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "table_lines.h"
#include "ubt/util.h"

#define CACHE_DM_THRESHOLD	2048	/* sectors: dm's default migration_threshold */

/* One of the three devices: a path that opens, or dm's "Error opening <what> device". */
static int open_device(const char *dev, const char *what, char *path, size_t plen,
		       uint64_t *bytes, unsigned int line, char *err, size_t errlen)
{
	char ignored[256];

	if (table_device_path(dev, path, plen, line, ignored, sizeof(ignored)) ||
	    table_device_bytes(path, bytes))
		return table_fail(err, errlen, line, "cache: Error opening %s device", what);
	return 0;
}

/* dm_read_arg_group: a count of 0..max words, no more than are left. */
static bool arg_group(char **argv, unsigned int argc, unsigned int *at, unsigned int max,
		      unsigned int *n)
{
	uint64_t v;

	if (*at >= argc || ubt_parse_uint(argv[*at], &v) || v > max || v > argc - *at - 1)
		return false;
	(*at)++;
	*n = (unsigned int)v;
	return true;
}

static bool numeric(const char *s)
{
	uint64_t v;

	return !ubt_parse_uint(s, &v);
}

/* The policy's <key> <value> pairs; migration_threshold goes into the spec. */
static bool policy_args(struct table_out *o, const char *policy, char **kv, unsigned int n)
{
	static const char *const mq_keys[] = {
		"random_threshold", "sequential_threshold", "discard_promote_adjustment",
		"read_promote_adjustment", "write_promote_adjustment",
	};
	uint64_t threshold = CACHE_DM_THRESHOLD;
	unsigned int i, k;
	bool known;

	if (n % 2)
		return false;
	for (i = 0; i < n; i += 2) {
		if (!strcasecmp(kv[i], "migration_threshold")) {
			if (ubt_parse_uint(kv[i + 1], &threshold) ||
			    threshold > (UINT64_MAX >> UBT_SECTOR_SHIFT))
				return false;
			continue;
		}
		known = false;
		for (k = 0; k < UBT_ARRAY_SIZE(mq_keys); k++)
			known |= !strcasecmp(kv[i], mq_keys[k]);
		if (!known || strcmp(policy, "mq") || !numeric(kv[i + 1]))
			return false;
	}
	if (threshold != CACHE_DM_THRESHOLD)
		table_put(o, ", migration_threshold=%llu",
			  (unsigned long long)(threshold << UBT_SECTOR_SHIFT));
	return true;
}

int table_line_cache(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		     unsigned int line, char *err, size_t errlen)
{
	static const char *const what[] = { "metadata", "cache", "origin" };
	static const char *const modes[] = { "writeback", "writethrough", "passthrough" };
	char path[3][PATH_MAX];
	uint64_t bytes[3], bs;
	unsigned int i, k, at, nfeat, npol, nmodes = 0, mode = 0;
	bool metadata2 = false, passdown = true;
	const char *policy;

	for (i = 0; i < 3; i++) {
		if (i >= argc)
			return table_fail(err, errlen, line, "cache: Insufficient args");
		if (open_device(argv[i], what[i], path[i], sizeof(path[i]), &bytes[i], line, err,
				errlen))
			return -EINVAL;
	}
	if (len > bytes[2] >> UBT_SECTOR_SHIFT)
		return table_fail(err, errlen, line, "cache: Device size larger than cached device");
	if (argc < 4)
		return table_fail(err, errlen, line, "cache: Insufficient args");
	if (ubt_parse_uint(argv[3], &bs) || bs < 64 || bs > 2097152 || bs % 64)
		return table_fail(err, errlen, line, "cache: Invalid data block size");
	if (bs > bytes[1] >> UBT_SECTOR_SHIFT)
		return table_fail(err, errlen, line,
				  "cache: Data block size is larger than the cache device");
	at = 4;
	if (!arg_group(argv, argc, &at, 3, &nfeat))
		return table_fail(err, errlen, line, "cache: Invalid number of cache feature arguments");
	for (i = 0; i < nfeat; i++, at++) {
		for (k = 0; k < 3 && strcasecmp(argv[at], modes[k]); k++)
			;
		if (k < 3) {
			mode = k;
			nmodes++;
		} else if (!strcasecmp(argv[at], "metadata2")) {
			metadata2 = true;
		} else if (!strcasecmp(argv[at], "no_discard_passdown")) {
			passdown = false;
		} else {
			return table_fail(err, errlen, line, "cache: Unrecognised cache feature requested");
		}
	}
	if (nmodes > 1)
		return table_fail(err, errlen, line, "cache: Duplicate cache io_mode features requested");
	if (at >= argc)
		return table_fail(err, errlen, line, "cache: Insufficient args");
	policy = argv[at++];
	if (!arg_group(argv, argc, &at, 1024, &npol))
		return table_fail(err, errlen, line, "cache: Invalid number of policy arguments");
	if (strcmp(policy, "smq") && strcmp(policy, "mq") && strcmp(policy, "cleaner") &&
	    strcmp(policy, "default"))
		return table_fail(err, errlen, line, "cache: Error creating cache's policy");

	table_put(o, "cache(meta=file(");
	table_put_path(o, path[0]);
	table_put(o, "), cache=file(");
	table_put_path(o, path[1]);
	table_put(o, "), origin=");
	table_put_window(o, path[2], 0, len);
	table_put(o, ", block=%llu, mode=%s, policy=%s%s%s", (unsigned long long)(bs << 9),
		  modes[mode], strcmp(policy, "cleaner") ? "smq" : "cleaner",
		  passdown ? "" : ", no_discard_passdown", metadata2 ? ", metadata2" : "");
	if (!policy_args(o, policy, argv + at, npol))
		return table_fail(err, errlen, line, "cache: Error setting cache policy's config values");
	table_put(o, ")");
	return 0;
}

/* ---- tree -> table ---------------------------------------------------- */

/*
 * The node's table text is dm's line after the three devices; the
 * devices are its children: meta, cache, origin.  dm's metadata and cache
 * devices are whole devices; the origin may be longer than the cache.
 */
int table_print_cache(struct table_out *o, const struct ubt_target *t, uint64_t start,
		      char *err, size_t errlen)
{
	static const char *const what[] = { "metadata", "cache device" };
	char desc[256], path[PATH_MAX];
	uint64_t off;
	unsigned int i;

	if (t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0 ||
	    t->nr_children != 3)
		return table_fail(err, errlen, 0, "cache: no table form");
	table_put(o, "%llu %llu cache", (unsigned long long)start, (unsigned long long)t->len);
	for (i = 0; i < 2; i++)
		if (table_put_whole(o, t, i, what[i], err, errlen))
			return -EINVAL;
	if (table_fold(t->children[2], path, sizeof(path), &off) || off)
		return table_fail(err, errlen, 0, "cache: its origin cannot be written as a dm "
				  "device (a file or device from its start)");
	table_put(o, " %s %s\n", path, desc);
	return 0;
}
