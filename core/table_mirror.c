// SPDX-License-Identifier: MIT
/*
 * The mirror's dm table line, both ways.  Parsing checks what dm-raid1.c
 * and dm-log.c check, in their order, with their words; printing turns
 * the node's own table text back into dm's line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "table_lines.h"
#include "ubt/util.h"

/*
 * mirror <log type> <#log args> <log args> <#mirrors> (<dev> <offset>)...
 *        [<#features> handle_errors [keep_log]]
 * log args: core <region> [sync|nosync]; disk <log dev> <region> [sync|nosync].
 * dm-raid1.c's and dm-log.c's checks, in their order, with their words.
 */
static int mirror_log_args(struct table_out *o, char **argv, uint64_t nlog, uint64_t len,
			   unsigned int line, char *err, size_t errlen)
{
	static const char bad_log[] = "mirror: Error creating mirror dirty log";
	bool disk = !strcmp(argv[0], "disk");
	char path[PATH_MAX];
	uint64_t region;
	unsigned int a = 2 + (disk ? 1 : 0);

	if (strcmp(argv[0], "core") && !disk)
		return table_fail(err, errlen, line, "%s: unknown log type '%s' (core or disk)", bad_log,
			    argv[0]);
	if (nlog < (disk ? 2 : 1) || nlog > (disk ? 3 : 2))
		return table_fail(err, errlen, line, "%s: wrong number of arguments to %sdirty region log",
			    bad_log, disk ? "disk " : "");
	if (ubt_parse_uint(argv[a], &region) || region > UINT32_MAX || region < 2 ||
	    region > len || !ubt_is_power_of_2(region))
		return table_fail(err, errlen, line, "%s: invalid region size %s", bad_log, argv[a]);
	if (nlog == (disk ? 3u : 2u) && strcmp(argv[a + 1], "sync") && strcmp(argv[a + 1], "nosync"))
		return table_fail(err, errlen, line, "%s: unrecognised sync argument to dirty region log: %s",
			    bad_log, argv[a + 1]);
	table_put(o, ", region=%llu", (unsigned long long)(region << UBT_SECTOR_SHIFT));
	if (disk) {
		if (table_device_path(argv[2], path, sizeof(path), line, err, errlen))
			return -EINVAL;
		table_put(o, ", log=");
		table_put_path(o, path);
	}
	if (nlog == (disk ? 3u : 2u))
		table_put(o, ", %s", argv[a + 1]);
	return 0;
}

int table_line_mirror(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		       unsigned int line, char *err, size_t errlen)
{
	uint64_t nlog, nm, nf = 0, i;
	unsigned int used;
	bool handle = false, keep = false;
	char legbuf[8192], logbuf[PATH_MAX + 64];
	struct table_out legs = { .buf = legbuf, .len = sizeof(legbuf) };
	struct table_out log = { .buf = logbuf, .len = sizeof(logbuf) };

	if (argc < 2)
		return table_fail(err, errlen, line, "mirror: Insufficient mirror log arguments");
	if (ubt_parse_uint(argv[1], &nlog) || nlog > UINT32_MAX)
		return table_fail(err, errlen, line, "mirror: Invalid mirror log argument count");
	if (argc < 2 + nlog)
		return table_fail(err, errlen, line, "mirror: Insufficient mirror log arguments");
	if (mirror_log_args(&log, argv, nlog, len, line, err, errlen))
		return -EINVAL;
	used = 2 + (unsigned int)nlog;
	if (used >= argc || ubt_parse_uint(argv[used], &nm) || nm < 2 || nm > 9)
		return table_fail(err, errlen, line, "mirror: Invalid number of mirrors");
	used++;
	if (argc - used < nm * 2)
		return table_fail(err, errlen, line, "mirror: Too few mirror arguments");
	for (i = 0; i < nm; i++, used += 2) {
		if (i)
			table_put(&legs, ", ");
		if (table_window(&legs, argv[used], argv[used + 1], len, "mirror: Invalid offset", line,
			   err, errlen))
			return -EINVAL;
	}
	if (used < argc) {
		if (ubt_parse_uint(argv[used], &nf) || nf > UINT32_MAX)
			return table_fail(err, errlen, line, "mirror: Invalid number of features");
		used++;
		if (nf > argc - used)
			return table_fail(err, errlen, line,
				    "mirror: Not enough arguments to support feature count");
		for (i = 0; i < nf; i++, used++) {
			if (!strcmp(argv[used], "handle_errors"))
				handle = true;
			else if (!strcmp(argv[used], "keep_log"))
				keep = true;
			else
				return table_fail(err, errlen, line, "mirror: Unrecognised feature requested");
		}
		if (keep && !handle)
			return table_fail(err, errlen, line,
				    "mirror: keep_log feature requires the handle_errors feature");
	}
	if (used < argc)
		return table_fail(err, errlen, line, "mirror: Too many mirror arguments");
	if (legs.pos >= legs.len || log.pos >= log.len)
		return table_fail(err, errlen, line, "mirror: too long to write as a spec");
	/* The legs come first in the spec, the log's arguments after them. */
	table_put(o, "mirror(%s%s%s%s)", legbuf, logbuf, handle ? ", handle_errors" : "",
	    keep ? ", keep_log" : "");
	return 0;
}


/* ---- tree -> table ---- */

/*
 * mirror: its text is dm's line without the legs' <dev> <offset> pairs and
 * with a disk log's device as the index of the log's child node.
 */
int table_print_mirror(struct table_out *o, const struct ubt_target *t, uint64_t start,
			     char *err, size_t errlen)
{
	char desc[256], *tok[12], *save = NULL, *w;
	unsigned int n = 0, i, nlog, nm;
	uint64_t child;

	if (t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0)
		return table_fail(err, errlen, 0, "mirror: no table form");
	for (w = strtok_r(desc, " ", &save); w && n < 12; w = strtok_r(NULL, " ", &save))
		tok[n++] = w;
	if (n < 4 || sscanf(tok[1], "%u", &nlog) != 1 || n < 3 + nlog ||
	    sscanf(tok[2 + nlog], "%u", &nm) != 1)
		return table_fail(err, errlen, 0, "mirror: no table form");
	table_put(o, "%llu %llu mirror %s %s", (unsigned long long)start, (unsigned long long)t->len,
	    tok[0], tok[1]);
	for (i = 0; i < nlog; i++) {
		if (i || strcmp(tok[0], "disk")) {
			table_put(o, " %s", tok[2 + i]);
			continue;
		}
		/* dm's disk log is a whole device: a window of a file has no dm form. */
		if (ubt_parse_uint(tok[2], &child) ||
		    table_put_whole(o, t, (unsigned int)UBT_MIN(child, UINT32_MAX), "log", err,
				    errlen))
			return -EINVAL;
	}
	table_put(o, " %u", nm);
	for (i = 0; i < nm; i++)
		if (table_put_folded(o, t, i, err, errlen))
			return -EINVAL;
	for (i = 3 + nlog; i < n; i++)
		table_put(o, " %s", tok[i]);
	table_put(o, "\n");
	return 0;
}

