// SPDX-License-Identifier: MIT
/*
 * mirror: every leg holds the same data (RAID1), with device-mapper's
 * dm-mirror semantics: a log of regions that may differ, writes to every
 * leg, reads from one, out-of-sync regions copied from the default leg in
 * the background, failed legs marked and worked around.
 *
 *   mirror(LEG, LEG, ..., region=SIZE, log=core|NODE, sync|nosync,
 *          handle_errors, keep_log, read=default|roundrobin|leastpending,
 *          resync_rate=SIZE)
 *
 *   region=       the unit of the log and of copies; a power of two, at
 *                 least the block size (default 2M, lvm's)
 *   log=core      the log is in memory: every start copies every region
 *                 again, unless nosync
 *   log=NODE      a disk log in dm-mirror's format, in a node of its own (a
 *                 PATH is a file; any node serves, a mirror of two files
 *                 too): a start copies only the regions it records as out
 *                 of sync; the kernel's dm-mirror reads it too when it is
 *                 a whole file or device
 *   keep_log      (with handle_errors) writes fail once the log has failed
 *   sync          copy every region at start; nosync: declare them in sync
 *   handle_errors when the default leg fails, another takes its place
 *   read=         default: the default leg while it works (dm);
 *                 roundrobin / leastpending: spread reads over the legs
 *                 that work, in in-sync regions
 *   resync_rate=  bytes per second the background copies may use (default:
 *                 no limit)
 *
 * Status (dm's): <#legs> <leg>... <in-sync>/<regions> 1 <health per leg>
 * then 1 core, or 3 disk <log> A|D; health is A (alive), or the worst
 * error the leg had: F (flush), D (write), S (copy), R (read).
 * Messages: `fail LEG` marks a leg failed (D); `replace LEG` takes a failed
 * leg back (its device was fixed or swapped): its errors are forgotten and
 * every region is copied again; `replace LEG PATH` (or a spec expression)
 * puts a new node in the leg's place while I/O runs, then copies every
 * region to it.  LEG is the leg's position (0 first) or
 * its node's name= label.  `check` compares every leg with the default one,
 * region by region, and counts the 512-byte sectors that differ; `repair`
 * does the same and rewrites them from the default leg.  The last one's
 * progress and count follow dm's fields in the status:
 * `check|repair <regions done>/<regions> <sectors that differed>`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/table.h"
#include "ubt/util.h"
#include "mirror.h"

#define MIRROR_DEFAULT_REGION	(2u * 1024 * 1024)
#define MIRROR_EXAMPLE		"mirror(a.img, b.img, region=2M)"

int mirror_leg_of(const struct mirror *m, const struct ubt_target *child)
{
	unsigned int i;

	for (i = 0; i < m->nr_legs; i++)
		if (mirror_leg_node(m, i) == child)
			return (int)i;
	return -1;	/* a node replaced since the I/O was sent */
}

/* dm's fail_mirror(). */
void mirror_fail_leg(struct mirror *m, unsigned int leg, enum mirror_error type)
{
	struct mirror_leg *l = &m->legs[leg];
	unsigned int i;

	__atomic_fetch_or(&l->error_type, 1u << type, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&l->error_count, 1, __ATOMIC_ACQ_REL))
		return;		/* failed already */
	if (!m->handle_errors || leg != mirror_default(m))
		return;
	for (i = 0; i < m->nr_legs; i++) {
		if (mirror_leg_ok(m, i)) {
			__atomic_store_n(&m->default_leg, i, __ATOMIC_RELEASE);
			return;
		}
	}
}

static int parse_read_policy(struct ubt_target *t, struct ubt_args *args,
			     enum mirror_read_policy *out)
{
	const char *s = ubt_args_str(args, "read");

	*out = MIRROR_READ_DEFAULT;
	if (!s || !strcmp(s, "default"))
		return 0;
	if (!strcmp(s, "roundrobin"))
		*out = MIRROR_READ_ROUNDROBIN;
	else if (!strcmp(s, "leastpending"))
		*out = MIRROR_READ_LEASTPENDING;
	else
		return ubt_target_error(t, EINVAL, "read=%s: want default, roundrobin or "
					"leastpending", s);
	return 0;
}

static int parse_options(struct ubt_target *t, struct ubt_args *args, struct mirror *m,
			 uint64_t *region_bytes)
{
	uint32_t lbs = ubt_target_block_size(t);
	bool sync = ubt_args_flag(args, "sync"), nosync = ubt_args_flag(args, "nosync");
	int ret;

	*region_bytes = MIRROR_DEFAULT_REGION;
	ret = ubt_args_size(t, args, "region", region_bytes);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ubt_is_power_of_2(*region_bytes) || *region_bytes < lbs)
		return ubt_target_error(t, EINVAL, "region=%llu must be a power of two of at least "
					"the %u-byte block size", (unsigned long long)*region_bytes,
					lbs);
	if (sync && nosync)
		return ubt_target_error(t, EINVAL, "sync and nosync contradict each other");
	m->sync_mode = sync ? MIRROR_SYNC_FORCE : nosync ? MIRROR_SYNC_NONE : MIRROR_SYNC_DEFAULT;
	m->handle_errors = ubt_args_flag(args, "handle_errors");
	m->keep_log = ubt_args_flag(args, "keep_log");
	if (m->keep_log && !m->handle_errors)
		return ubt_target_error(t, EINVAL, "keep_log needs handle_errors (dm's rule)");
	ret = ubt_args_size(t, args, "resync_rate", &m->resync_rate);
	if (ret && ret != -ENOENT)
		return ret;
	return parse_read_policy(t, args, &m->read_policy);
}

/*
 * log=core, or log=NODE (a PATH: a file): a disk log in dm's format in a
 * node of its own, the child after the legs.
 */
static int build_log(struct ubt_target *t, struct ubt_args *args, struct mirror *m)
{
	const char *log = ubt_args_str(args, "log"), *path;
	unsigned int i;
	int ret;

	if (!ubt_args_has(args, "log") || (log && !strcmp(log, "core")))
		return 0;
	ret = ubt_args_key_child(t, args, "log");
	if (ret)
		return ret;
	m->log_node = t->children[t->nr_children - 1];
	for (i = 0; i < m->nr_legs; i++) {
		path = ubt_target_shared_file(m->log_node, m->legs[i].t);
		if (path)
			return ubt_target_error(t, EINVAL, "the log's file %s is leg %u's too", path, i);
	}
	return 0;
}

static int alloc_state(struct ubt_target *t, struct mirror *m)
{
	uint32_t block = m->log_node ? m->log_node->limits.logical_block_size :
				       ubt_target_block_size(t);
	size_t io_bytes = mirror_log_io_bytes(m->nr_regions, block);
	unsigned int i;

	if (m->log_node && (m->log_node->len << UBT_SECTOR_SHIFT) < io_bytes)
		return ubt_target_error(t, EINVAL, "the log (%llu bytes) is too small: %llu regions "
					"need %zu bytes",
					(unsigned long long)(m->log_node->len << UBT_SECTOR_SHIFT),
					(unsigned long long)m->nr_regions, io_bytes);
	if (mirror_log_init(&m->log, m->nr_regions, m->log_node != NULL, block))
		return ubt_target_error(t, ENOMEM, "out of memory for %llu regions",
					(unsigned long long)m->nr_regions);
	m->writes = calloc(m->nr_regions, sizeof(*m->writes));
	if (!m->writes)
		return ubt_target_error(t, ENOMEM, "out of memory for %llu regions",
					(unsigned long long)m->nr_regions);
	if (m->log_node) {
		m->mark_gen = calloc(m->nr_regions, sizeof(*m->mark_gen));
		if (!m->mark_gen || posix_memalign(&m->log_buf, 4096, m->log.io_bytes))
			return ubt_target_error(t, ENOMEM, "out of memory for the log");
	}
	/* The copy buffers: every byte a resync moves goes through them. */
	for (i = 0; i < MIRROR_JOBS; i++) {
		m->jobs[i].m = m;
		if (posix_memalign(&m->jobs[i].buf, 4096, (size_t)MIRROR_COPY_BYTES * m->nr_legs))
			return ubt_target_error(t, ENOMEM, "out of memory for copy buffers");
	}
	return 0;
}

static void mirror_dtr(struct ubt_target *t)
{
	struct mirror *m = t->private;
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < MIRROR_JOBS; i++)
		free(m->jobs[i].buf);
	free(m->writes);
	free(m->mark_gen);
	free(m->log_buf);
	mirror_log_exit(&m->log);
	pthread_mutex_destroy(&m->lock);
	free(m);
	t->private = NULL;
}

static int mirror_build(struct ubt_target *t, struct ubt_args *args, struct mirror *m)
{
	uint64_t region_bytes, smallest = UINT64_MAX;
	unsigned int i;
	int ret;

	ret = parse_options(t, args, m, &region_bytes);
	if (ret)
		return ret;
	ret = ubt_build_children(t, args, MIRROR_EXAMPLE, true);
	if (ret)
		return ret;
	if (t->nr_children < 2 || t->nr_children > MIRROR_MAX_LEGS)
		return ubt_target_error(t, EINVAL, "%u legs: a mirror has 2 to %u, e.g. %s",
					t->nr_children, MIRROR_MAX_LEGS, MIRROR_EXAMPLE);
	m->nr_legs = t->nr_children;
	for (i = 0; i < m->nr_legs; i++) {
		m->legs[i].t = t->children[i];
		smallest = UBT_MIN(smallest, t->children[i]->len);
	}
	ret = build_log(t, args, m);
	if (ret)
		return ret;
	/* The smallest leg sets the size, in whole blocks. */
	t->len = smallest - smallest % (ubt_target_block_size(t) >> UBT_SECTOR_SHIFT);
	if ((region_bytes >> UBT_SECTOR_SHIFT) > t->len)
		return ubt_target_error(t, EINVAL, "region=%llu is larger than the mirror (%llu "
					"bytes)", (unsigned long long)region_bytes,
					(unsigned long long)(t->len << UBT_SECTOR_SHIFT));
	m->region_sectors = region_bytes >> UBT_SECTOR_SHIFT;
	m->region_shift = ubt_ilog2(m->region_sectors);
	m->nr_regions = (t->len + m->region_sectors - 1) >> m->region_shift;
	ret = alloc_state(t, m);
	if (ret)
		return ret;
	if (m->log_node) {
		ret = ubt_target_keeps_state(t);
		if (!ret)
			ret = mirror_log_load(m);
		if (ret)
			return ret;
		/* What a restart after a crash costs: say it. */
		if (m->sync_mode == MIRROR_SYNC_DEFAULT)
			fprintf(stderr, "mirror: the log (node %u) records %llu of %llu regions out "
				"of sync%s\n", m->log_node->id, (unsigned long long)m->dirty_at_start,
				(unsigned long long)m->nr_regions,
				m->dirty_at_start ? ": copying them from the default leg" : "");
	} else {
		mirror_log_resume(&m->log, m->sync_mode);
	}
	mirror_start_pass(m);
	/* A tag per copy, and one for the log's writes. */
	t->bg_tags = MIRROR_JOBS + (m->log_node ? 1 : 0);
	return 0;
}

static int mirror_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct mirror *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return ubt_target_error(t, ENOMEM, "out of memory");
	pthread_mutex_init(&m->lock, NULL);
	t->private = m;
	m->t = t;
	ret = mirror_build(t, args, m);
	if (ret)
		mirror_dtr(t);	/* the children are the core's to destroy */
	return ret;
}

static void mirror_io_budget(struct ubt_target *t)
{
	struct mirror *m = t->private;

	/* A write goes to every leg; a read tries each leg at most once. */
	t->max_fanout = m->nr_legs;
	t->child_max_iov = t->max_iov_in;
	t->per_io_size = sizeof(struct mirror_io) +
			 (size_t)m->nr_legs * t->max_iov_in * sizeof(struct iovec);
}

/*
 * A queue starting, or a message's poke: write the log if it changed,
 * start the copies there is work for.
 */
static void mirror_poke(struct ubt_target *t, struct ubt_queue *q)
{
	struct mirror *m = t->private;

	if (m->log_node)
		mirror_log_write(m, q);
	mirror_kick(m, q);
}

/* The resync while regions are out of sync, else a scrub under way. */
static void mirror_progress(struct ubt_target *t, uint64_t *done, uint64_t *total,
			    const char **what)
{
	struct mirror *m = t->private;

	*done = mirror_log_count(m->log.sync, m->nr_regions);
	*total = m->nr_regions;
	*what = "regions in sync";
	if (*done < *total)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->scrub_ran && m->scrubbed < m->nr_regions) {
		*done = m->scrubbed;
		*what = "regions checked";
	}
	pthread_mutex_unlock(&m->lock);
}

static char health(const struct mirror_leg *l)
{
	uint32_t type = __atomic_load_n(&l->error_type, __ATOMIC_RELAXED);

	if (!__atomic_load_n(&l->error_count, __ATOMIC_RELAXED))
		return 'A';
	if (type & (1u << MIRROR_ERR_FLUSH))
		return 'F';
	if (type & (1u << MIRROR_ERR_WRITE))
		return 'D';
	if (type & (1u << MIRROR_ERR_SYNC))
		return 'S';
	if (type & (1u << MIRROR_ERR_READ))
		return 'R';
	return 'U';
}

#define EMIT(...)							\
	do {								\
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (k_ < 0)						\
			return -EINVAL;					\
		n += (size_t)k_;					\
	} while (0)

/* dm's: <#legs> <leg>... <in-sync>/<regions> 1 <health per leg> <log>, then a scrub's. */
static int mirror_status(struct ubt_target *t, char *buf, size_t len)
{
	struct mirror *m = t->private;
	size_t n = 0;
	unsigned int i;

	EMIT("%u", m->nr_legs);
	for (i = 0; i < m->nr_legs; i++)
		EMIT(" %s:%u", mirror_leg_node(m, i)->type->name, mirror_leg_node(m, i)->id);
	EMIT(" %llu/%llu 1 ", (unsigned long long)mirror_log_count(m->log.sync, m->nr_regions),
	     (unsigned long long)m->nr_regions);
	for (i = 0; i < m->nr_legs; i++)
		EMIT("%c", health(&m->legs[i]));
	if (m->log_node)
		EMIT(" 3 disk %s:%u %c", m->log_node->type->name, m->log_node->id,
		     __atomic_load_n(&m->log_failed, __ATOMIC_RELAXED) ? 'D' : 'A');
	else
		EMIT(" 1 core");
	/* After dm's fields, once asked for: the last scrub, as far as it got. */
	pthread_mutex_lock(&m->lock);
	if (m->scrub_ran)
		EMIT(" %s %llu/%llu %llu", m->scrub_fix ? "repair" : "check",
		     (unsigned long long)m->scrubbed, (unsigned long long)m->nr_regions,
		     (unsigned long long)m->mismatches);
	pthread_mutex_unlock(&m->lock);
	return (int)n;
}
#undef EMIT

/*
 * dm's line: mirror <log type> <#log args> [<log dev>] <region> [sync|nosync]
 * <#legs> (<dev> <offset>)... [<#features> handle_errors [keep_log]]; a
 * disk log's device is a whole file or device, as dm's is.
 */
static int mirror_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	struct mirror *m = t->private;
	const char *mode = m->sync_mode == MIRROR_SYNC_FORCE ? " sync" :
			   m->sync_mode == MIRROR_SYNC_NONE ? " nosync" : "";
	unsigned int i;

	if (m->log_node) {
		ubt_table_printf(o, "mirror disk %u", *mode ? 3 : 2);
		if (ubt_table_print_whole_dev(o, m->log_node, "log"))
			return -EINVAL;
	} else {
		ubt_table_printf(o, "mirror core %u", *mode ? 2 : 1);
	}
	ubt_table_printf(o, " %llu%s %u", (unsigned long long)m->region_sectors, mode, m->nr_legs);
	for (i = 0; i < m->nr_legs; i++)
		if (ubt_table_print_dev(o, mirror_leg_node(m, i)))
			return -EINVAL;
	if (m->handle_errors)
		ubt_table_printf(o, m->keep_log ? " 2 handle_errors keep_log" : " 1 handle_errors");
	return 0;
}

/* LEG: a position (0 first) or a leg node's label. */
static int find_leg(const struct mirror *m, const char *s)
{
	uint64_t v;
	unsigned int i;

	if (!ubt_parse_uint(s, &v))
		return v < m->nr_legs ? (int)v : -1;
	for (i = 0; i < m->nr_legs; i++)
		if (m->legs[i].t->label && !strcmp(m->legs[i].t->label, s))
			return (int)i;
	return -1;
}

/* Another leg without errors than leg, or -1. */
static int other_working_leg(const struct mirror *m, unsigned int leg)
{
	unsigned int i;

	for (i = 0; i < m->nr_legs; i++)
		if (i != leg && mirror_leg_ok(m, i))
			return (int)i;
	return -1;
}

/*
 * `replace LEG SPEC`: a new node (a file's PATH, or any spec expression)
 * takes the leg's place while I/O runs.  The leg stops serving reads
 * first; I/O already sent to the old node finishes there (its results
 * count for nothing: every region is out of sync once the new node is
 * in, copies under way are voided), and the old node stays open until the
 * device goes, since such I/O may still be in flight.
 */
static int replace_with_node(struct ubt_target *t, unsigned int leg, int argc, char **argv,
			     char *out, size_t len)
{
	struct mirror *m = t->private;
	struct ubt_target *old = m->legs[leg].t, *n;
	char spec[1024], err[512];
	size_t pos = 0;
	int i, other = other_working_leg(m, leg);

	for (i = 2; i < argc && pos < sizeof(spec); i++)
		pos += (size_t)snprintf(spec + pos, sizeof(spec) - pos, "%s%s", i > 2 ? " " : "",
					argv[i]);
	if (other < 0) {
		snprintf(out, len, "mirror: no working leg but %u to copy the data from", leg);
		return -EINVAL;
	}
	if (leg == mirror_default(m) && mirror_leg_ok(m, leg) &&
	    mirror_log_count(m->log.sync, m->nr_regions) < m->nr_regions) {
		snprintf(out, len, "mirror: leg %u is the default leg and holds the only copy of "
			 "regions still out of sync; wait for the resync (status --wait)", leg);
		return -EBUSY;
	}
	if (ubt_target_build_child(t, leg, spec, t->len, &n, err, sizeof(err))) {
		snprintf(out, len, "mirror: replace %u: %s", leg, err);
		return -EINVAL;
	}
	/* No read chooses the leg from here on; the default moves off it. */
	mirror_fail_leg(m, leg, MIRROR_ERR_WRITE);
	if (leg == mirror_default(m))
		__atomic_store_n(&m->default_leg, (unsigned int)other, __ATOMIC_RELEASE);
	pthread_mutex_lock(&m->lock);
	m->legs_gen++;
	ubt_target_swap_child(t, leg, n);
	__atomic_store_n(&m->legs[leg].t, n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	fprintf(stderr, "mirror: leg %u is now %s:%u (was %s:%u); every region is copied to it\n",
		leg, n->type->name, n->id, old->type->name, old->id);
	return 0;
}

static int mirror_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct mirror *m = t->private;
	int leg, ret;

	if (argc == 1 && (!strcmp(argv[0], "check") || !strcmp(argv[0], "repair"))) {
		mirror_start_scrub(m, !strcmp(argv[0], "repair"));
		if (ubt_target_poke(t))
			snprintf(out, len, "mirror: no queue thread could be woken: the scrub starts "
				 "when the device next starts");
		return 0;
	}
	if (argc < 2 || (strcmp(argv[0], "fail") && strcmp(argv[0], "replace")) ||
	    (argc > 2 && strcmp(argv[0], "replace"))) {
		snprintf(out, len, "mirror: want fail LEG, replace LEG [PATH|SPEC], check or repair");
		return -EINVAL;
	}
	leg = find_leg(m, argv[1]);
	if (leg < 0) {
		snprintf(out, len, "mirror: no leg %s (legs are 0 to %u, or their name= labels)",
			 argv[1], m->nr_legs - 1);
		return -EINVAL;
	}
	if (!strcmp(argv[0], "fail")) {
		mirror_fail_leg(m, (unsigned int)leg, MIRROR_ERR_WRITE);
		return 0;
	}
	if (argc > 2) {
		ret = replace_with_node(t, (unsigned int)leg, argc, argv, out, len);
		if (ret)
			return ret;
	} else if (mirror_leg_ok(m, (unsigned int)leg)) {
		snprintf(out, len, "mirror: leg %d has not failed", leg);
		return -EINVAL;
	}
	/*
	 * Nothing is known of what the leg holds now: every region is copied
	 * to it again, from the default leg, once a queue thread is poked.
	 */
	mirror_mark_out_of_sync(m, 0, m->nr_regions - 1);
	__atomic_store_n(&m->legs[leg].error_type, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&m->legs[leg].error_count, 0, __ATOMIC_RELEASE);
	mirror_start_pass(m);
	if (ubt_target_poke(t))
		snprintf(out, len, "mirror: no queue thread could be woken: the copy starts when "
			 "the device next starts");
	return 0;
}

/*
 * mirror <log type> <#log args> <log args> <#mirrors> (<dev> <offset>)...
 *        [<#features> handle_errors [keep_log]]
 * log args: core <region> [sync|nosync]; disk <log dev> <region> [sync|nosync].
 * dm-raid1.c's and dm-log.c's checks, in their order, with their words.
 */
static int mirror_log_args(struct ubt_table_line *l, uint64_t nlog)
{
	static const char bad_log[] = "mirror: Error creating mirror dirty log";
	char **argv = l->argv;
	bool disk = !strcmp(argv[0], "disk");
	uint64_t region;
	unsigned int a = 2 + (disk ? 1 : 0);

	if (strcmp(argv[0], "core") && !disk)
		return ubt_table_fail(l, "%s: unknown log type '%s' (core or disk)", bad_log, argv[0]);
	if (nlog < (disk ? 2 : 1) || nlog > (disk ? 3 : 2))
		return ubt_table_fail(l, "%s: wrong number of arguments to %sdirty region log",
				      bad_log, disk ? "disk " : "");
	if (ubt_parse_uint(argv[a], &region) || region > UINT32_MAX || region < 2 ||
	    region > l->len || !ubt_is_power_of_2(region))
		return ubt_table_fail(l, "%s: invalid region size %s", bad_log, argv[a]);
	if (nlog == (disk ? 3u : 2u) && strcmp(argv[a + 1], "sync") && strcmp(argv[a + 1], "nosync"))
		return ubt_table_fail(l, "%s: unrecognised sync argument to dirty region log: %s",
				      bad_log, argv[a + 1]);
	ubt_table_put(l, ", region=%llu", (unsigned long long)(region << UBT_SECTOR_SHIFT));
	if (disk) {
		ubt_table_put(l, ", log=");
		if (ubt_table_put_whole_dev(l, argv[2], "device path with both ' and \""))
			return -EINVAL;
	}
	if (nlog == (disk ? 3u : 2u))
		ubt_table_put(l, ", %s", argv[a + 1]);
	return 0;
}

static int mirror_table_parse(struct ubt_table_line *l)
{
	char **argv = l->argv, logbuf[4200];
	struct ubt_str logs = UBT_STR(logbuf, sizeof(logbuf));
	struct ubt_table_line log = *l;
	unsigned int argc = l->argc, used;
	uint64_t nlog, nm, nf = 0, i;
	bool handle = false, keep = false;

	if (argc < 2)
		return ubt_table_fail(l, "mirror: Insufficient mirror log arguments");
	if (ubt_parse_uint(argv[1], &nlog) || nlog > UINT32_MAX)
		return ubt_table_fail(l, "mirror: Invalid mirror log argument count");
	if (argc < 2 + nlog)
		return ubt_table_fail(l, "mirror: Insufficient mirror log arguments");
	/* dm makes the log first; its words go after the legs in the spec. */
	log.spec = &logs;
	if (mirror_log_args(&log, nlog))
		return -EINVAL;
	if (!ubt_str_fits(&logs))
		return ubt_table_fail(l, "mirror: too long to write as a spec");
	used = 2 + (unsigned int)nlog;
	if (used >= argc || ubt_parse_uint(argv[used], &nm) || nm < 2 || nm > 9)
		return ubt_table_fail(l, "mirror: Invalid number of mirrors");
	used++;
	if (argc - used < nm * 2)
		return ubt_table_fail(l, "mirror: Too few mirror arguments");
	/* The legs come first in the spec, the log's arguments after them. */
	ubt_table_put(l, "mirror(");
	for (i = 0; i < nm; i++, used += 2) {
		if (i)
			ubt_table_put(l, ", ");
		if (ubt_table_put_dev(l, argv[used], argv[used + 1], l->len, "mirror: Invalid offset"))
			return -EINVAL;
	}
	if (used < argc) {
		if (ubt_parse_uint(argv[used], &nf) || nf > UINT32_MAX)
			return ubt_table_fail(l, "mirror: Invalid number of features");
		used++;
		if (nf > argc - used)
			return ubt_table_fail(l, "mirror: Not enough arguments to support feature count");
		for (i = 0; i < nf; i++, used++) {
			if (!strcmp(argv[used], "handle_errors"))
				handle = true;
			else if (!strcmp(argv[used], "keep_log"))
				keep = true;
			else
				return ubt_table_fail(l, "mirror: Unrecognised feature requested");
		}
		if (keep && !handle)
			return ubt_table_fail(l, "mirror: keep_log feature requires the handle_errors "
					      "feature");
	}
	if (used < argc)
		return ubt_table_fail(l, "mirror: Too many mirror arguments");
	ubt_table_put(l, "%s%s%s)", logbuf, handle ? ", handle_errors" : "",
		      keep ? ", keep_log" : "");
	return 0;
}

static const char *const mirror_dm_names[] = { "mirror", NULL };




static struct ubt_target_type mirror_target = {
	.name = "mirror",
	.version = { 1, 0, 0 },
	.usage = "mirror(LEG, LEG, ..., region=SIZE, log=core|NODE, sync|nosync, handle_errors, "
		 "keep_log, read=default|roundrobin|leastpending, resync_rate=SIZE)",
	.ctr = mirror_ctr,
	.dtr = mirror_dtr,
	.map = mirror_map,
	.end_io = mirror_end_io,
	.status = mirror_status,
	.status_usage =
		"<#legs> <legs> <in-sync>/<regions> 1 <health per leg> <log>, as dm-mirror's:\n"
		"health A alive, or the leg's worst error: F flush, D write, S copy, R read;\n"
		"log '1 core' or '3 disk <log> A|D'; then, once a scrub was asked for,\n"
		"'check|repair <regions done>/<regions> <sectors that differed>'",
	.message = mirror_message,
	.message_usage =
		"fail LEG               mark a leg failed: reads avoid it\n"
		"replace LEG            take a failed leg back (fixed or swapped):\n"
		"                       every region is copied to it\n"
		"replace LEG PATH|SPEC  put a new file (or node) in the leg's place\n"
		"                       while I/O runs, then copy every region to it\n"
		"check | repair         compare the legs region by region, count\n"
		"                       the sectors that differ (repair: rewrite\n"
		"                       them from the default leg)\n"
		"                       LEG is a leg's position (0 first) or its label\n",
	.io_budget = mirror_io_budget,
	.poke = mirror_poke,
	.progress = mirror_progress,
	.dm_names = mirror_dm_names,
	.table_parse = mirror_table_parse,
	.table_print = mirror_table_print,
};
UBT_TARGET_REGISTER(mirror_target)
