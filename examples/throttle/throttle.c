// SPDX-License-Identifier: MIT
/*
 * throttle: a child held to a rate, in requests and in bytes a second --
 * a tenant's share of a disk, a slow device to test against, a resync kept
 * from starving the foreground.  A target built outside the ublk-target
 * tree, against its installed SDK, and loaded as a module by name.
 *
 *   throttle(CHILD, iops=N, bps=SIZE, burst=MS)
 *
 *   iops=   requests a second (0, the default: no limit)
 *   bps=    bytes a second, with a K/M/G suffix (0: no limit)
 *   burst=  how much idle time a quiet spell saves up, in milliseconds, so
 *           that a burst after it passes at once (default 100)
 *
 * Each request reserves the next slot of a virtual clock shared by every
 * queue: it starts at the later of now and where the clock stands, and
 * moves the clock on by what the request costs (1/iops seconds, or its
 * bytes at bps, whichever is longer).  A request whose slot is in the
 * future waits on its queue's ring for it (ubt_io_after: no thread, no
 * sleep), so requests leave in the order they came and the rate holds
 * over any number of queues.  Flushes are not held: they carry no data
 * and a writer waiting on one would stall on requests already paid for.
 *
 * Status: <iops limit> <bps limit> <held now> <passed> <held in all>
 * Messages: `iops N`, `bps SIZE`, `burst MS`: new limits from now on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ubt/target.h>
#include <ubt/util.h>

#define NS		1000000000ull
#define DEFAULT_BURST	100	/* ms */

struct throttle {
	/* The limits: a message may change them while requests run. */
	uint64_t iops, bps, burst_ns;
	uint64_t clock;			/* ns: where the next request's slot starts */
	uint64_t held, passed, held_total;
};

struct throttle_io {
	struct ubt_io_timer tm;		/* the wait for its slot */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* What a request costs of the clock, in ns: the longer of its two limits. */
static uint64_t cost(const struct throttle *th, const struct ubt_io *io)
{
	uint64_t iops = __atomic_load_n(&th->iops, __ATOMIC_RELAXED);
	uint64_t bps = __atomic_load_n(&th->bps, __ATOMIC_RELAXED);
	uint64_t by_count = iops ? NS / iops : 0, by_bytes = 0;

	if (bps && (io->op == UBT_OP_READ || io->op == UBT_OP_WRITE))
		by_bytes = ubt_io_bytes(io) * NS / bps;
	return UBT_MAX(by_count, by_bytes);
}

/* Reserve the request's slot: how long from now until it may start. */
static uint64_t reserve(struct throttle *th, uint64_t now, uint64_t c)
{
	uint64_t burst = __atomic_load_n(&th->burst_ns, __ATOMIC_RELAXED);
	uint64_t old = __atomic_load_n(&th->clock, __ATOMIC_RELAXED), start;

	do {
		/* A clock left behind by a quiet spell keeps at most burst of credit. */
		start = UBT_MAX(old, now > burst ? now - burst : 0);
	} while (!__atomic_compare_exchange_n(&th->clock, &old, start + c, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return start > now ? start - now : 0;
}

static int pass(struct ubt_io *io)
{
	struct throttle *th = io->t->private;

	__atomic_fetch_add(&th->passed, 1, __ATOMIC_RELAXED);
	return ubt_io_remap(io, io->t->children[0], io->op == UBT_OP_FLUSH ? 0 : io->sector);
}

/* The slot has come. */
static int release(struct ubt_io *io)
{
	struct throttle *th = io->t->private;

	__atomic_fetch_sub(&th->held, 1, __ATOMIC_RELAXED);
	return pass(io);
}

static int throttle_map(struct ubt_target *t, struct ubt_io *io)
{
	struct throttle *th = t->private;
	struct throttle_io *tio = io->priv;
	uint64_t c, wait;

	if (io->op == UBT_OP_FLUSH)
		return pass(io);
	c = cost(th, io);
	if (!c)
		return pass(io);
	wait = reserve(th, now_ns(), c);
	if (!wait)
		return pass(io);
	__atomic_fetch_add(&th->held, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&th->held_total, 1, __ATOMIC_RELAXED);
	ubt_io_after(io, &tio->tm, wait, release);
	return 0;
}

/* A limit's value from a message word: iops and burst are numbers, bps a size. */
static int parse_limit(const char *key, const char *word, uint64_t *v)
{
	return strcmp(key, "bps") ? ubt_parse_uint(word, v) : ubt_parse_size(word, v);
}

static int throttle_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct throttle *th;
	uint64_t iops = 0, bps = 0, burst = DEFAULT_BURST;
	int ret;

	if (ubt_args_positional(args) != 1)
		return ubt_target_error(t, EINVAL, "takes exactly one child, e.g. "
					"throttle(a.img, iops=1000, bps=50M)");
	ret = ubt_args_uint(t, args, "iops", &iops);
	if (ret && ret != -ENOENT)
		return ret;
	ret = ubt_args_size(t, args, "bps", &bps);
	if (ret && ret != -ENOENT)
		return ret;
	ret = ubt_args_uint(t, args, "burst", &burst);
	if (ret && ret != -ENOENT)
		return ret;
	if (iops > NS || burst > 3600 * 1000)
		return ubt_target_error(t, EINVAL, "%s is out of range", iops > NS ?
					"iops" : "burst");
	ret = ubt_args_child(t, args, 0);
	if (ret)
		return ret;
	th = calloc(1, sizeof(*th));
	if (!th)
		return ubt_target_error(t, ENOMEM, "out of memory");
	th->iops = iops;
	th->bps = bps;
	th->burst_ns = burst * 1000000;
	th->clock = 0;
	t->private = th;
	t->len = t->children[0]->len;
	return 0;
}

static void throttle_dtr(struct ubt_target *t)
{
	free(t->private);
}

static int throttle_status(struct ubt_target *t, char *buf, size_t len)
{
	struct throttle *th = t->private;

	return snprintf(buf, len, "%llu %llu %llu %llu %llu",
			(unsigned long long)__atomic_load_n(&th->iops, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&th->bps, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&th->held, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&th->passed, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&th->held_total, __ATOMIC_RELAXED));
}

static int throttle_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct throttle *th = t->private;
	uint64_t v;

	if (argc != 2 || (strcmp(argv[0], "iops") && strcmp(argv[0], "bps") &&
			  strcmp(argv[0], "burst"))) {
		snprintf(out, len, "throttle: want iops N, bps SIZE or burst MS");
		return -EINVAL;
	}
	if (parse_limit(argv[0], argv[1], &v) ||
	    (!strcmp(argv[0], "iops") && v > NS) || (!strcmp(argv[0], "burst") && v > 3600 * 1000)) {
		snprintf(out, len, "throttle: %s %s is not a limit it takes", argv[0], argv[1]);
		return -EINVAL;
	}
	if (!strcmp(argv[0], "iops"))
		__atomic_store_n(&th->iops, v, __ATOMIC_RELAXED);
	else if (!strcmp(argv[0], "bps"))
		__atomic_store_n(&th->bps, v, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&th->burst_ns, v * 1000000, __ATOMIC_RELAXED);
	return 0;
}

static struct ubt_target_type throttle_target = {
	.name = "throttle",
	.version = { 1, 0, 0 },
	.usage = "throttle(CHILD, iops=N, bps=SIZE, burst=MS)",
	.status_usage = "<iops limit> <bps limit> <held now> <passed> <held in all>",
	.message_usage =
		"iops N | bps SIZE | burst MS\n"
		"                       a new limit for requests from now on (0: none)\n",
	.per_io_size = sizeof(struct throttle_io),
	.max_fanout = 1,
	.ctr = throttle_ctr,
	.dtr = throttle_dtr,
	.map = throttle_map,
	.status = throttle_status,
	.message = throttle_message,
};
UBT_TARGET_REGISTER(throttle_target)
