// SPDX-License-Identifier: MIT
/*
 * `bench`: drive a stack in-process, without the kernel's ublk driver,
 * through the same queue engine the daemon uses.  One thread and one queue
 * per --queues, each keeping --iodepth requests in flight; latencies go
 * into a log-linear histogram (1.6% resolution) for the percentiles.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "generated/autoconf.h"
#include "ubt/inproc.h"
#include "ubt/tree.h"
#include "ubt/ublk_abi.h"
#include "ubt/util.h"

static const char bench_usage[] =
"usage: ublk-target bench --spec EXPR [OPTIONS]\n"
"\n"
"Drive a stack in this process, without the kernel's ublk driver, through the\n"
"same engine the daemon uses, and report IOPS, bandwidth and latency.\n"
"Writes go to the stack's backing files.\n"
"\n"
"  --spec EXPR        the stack, as for 'create --spec'\n"
"  --rw MODE          randread, randwrite, read, write or randrw (50/50);\n"
"                     default randread\n"
"  --bs SIZE          request size (default 4K)\n"
"  --iodepth N        requests in flight per queue, 1..4096 (default 32)\n"
"  --runtime SECONDS  how long to run (default 10)\n"
"  --queues N         queues, one thread each (default 1)\n"
"  --size SIZE        use only the first SIZE bytes of the device\n"
"  --lbs 512|4096     logical block size (default 512)\n"
"  --engine uring|aio how file leaves without an engine= of their own move\n"
"                     data: io_uring (default) or Linux AIO\n"
"  --verify           fill the region with a pattern first, then check every\n"
"                     read against it (writes keep the pattern)\n"
"  --json             one JSON object instead of the table\n";

#define HIST_SUB_BITS	6
#define HIST_BUCKETS	(64 << HIST_SUB_BITS)

enum rw_mode { RW_RANDREAD, RW_RANDWRITE, RW_READ, RW_WRITE, RW_RANDRW };

struct bench_opts {
	const char *spec;
	enum rw_mode rw;
	uint64_t bs, size;
	unsigned int depth, queues, lbs;
	enum ubt_engine engine;
	double runtime;
	bool verify, json;
};

struct bench_queue {
	const struct bench_opts *o;
	struct ubt_tree *tree;
	unsigned int q_id;
	uint64_t region_start, region_bytes;	/* this queue's share for sequential modes */
	uint64_t next_seq;
	uint64_t seed;
	double deadline;
	bool prefill;				/* the verify pass: write everything once */
	bool expired;
	uint64_t issued;
	uint64_t *start_ns;			/* per tag */
	uint64_t hist[HIST_BUCKETS];
	_Atomic uint64_t done, bytes, errors, verify_errors;
	pthread_t thread;
	int ret;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int msb;

	if (v < (1U << HIST_SUB_BITS))
		return (unsigned int)v;
	msb = ubt_ilog2(v);
	return ((msb - HIST_SUB_BITS + 1) << HIST_SUB_BITS) |
	       (unsigned int)((v >> (msb - HIST_SUB_BITS)) & ((1U << HIST_SUB_BITS) - 1));
}

/* The lower edge of a bucket. */
static uint64_t hist_value(unsigned int i)
{
	unsigned int shift = i >> HIST_SUB_BITS, sub = i & ((1U << HIST_SUB_BITS) - 1);

	if (!shift)
		return sub;
	return ((uint64_t)(sub | (1U << HIST_SUB_BITS))) << (shift - 1);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* The pattern of --verify: each sector carries its own number. */
static void stamp(uint8_t *buf, uint64_t sector, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		uint64_t *p = (uint64_t *)(buf + ((size_t)i << 9));
		unsigned int k;

		for (k = 0; k < 64; k++)
			p[k] = (sector + i) * 0x9E3779B97F4A7C15ULL + k;
	}
}

static bool stamp_ok(const uint8_t *buf, uint64_t sector, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		const uint64_t *p = (const uint64_t *)(buf + ((size_t)i << 9));
		unsigned int k;

		for (k = 0; k < 64; k++)
			if (p[k] != (sector + i) * 0x9E3779B97F4A7C15ULL + k)
				return false;
	}
	return true;
}

static bool bench_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *r)
{
	struct bench_queue *bq = arg;
	const struct bench_opts *o = bq->o;
	uint64_t blocks = bq->region_bytes / o->bs, off;
	bool write;

	memset(r, 0, sizeof(*r));
	if (bq->prefill) {
		if (bq->next_seq >= bq->region_bytes)
			return false;
		off = bq->next_seq;
		bq->next_seq += UBT_MIN(o->bs, bq->region_bytes - off);
		r->op = UBT_OP_WRITE;
		r->sector = (bq->region_start + off) >> 9;
		r->nr_sectors = (uint32_t)(UBT_MIN(o->bs, bq->region_bytes - off) >> 9);
		stamp(ubt_queue_buf(q, tag), r->sector, r->nr_sectors);
		bq->start_ns[tag] = now_ns();
		return true;
	}
	/* The clock is read once every 32 requests: cheap enough to leave on. */
	if (!(bq->issued++ & 31) && now_s() >= bq->deadline)
		bq->expired = true;
	if (bq->expired)
		return false;
	switch (o->rw) {
	case RW_READ:
	case RW_WRITE:
		off = bq->next_seq;
		bq->next_seq = (bq->next_seq + o->bs) % (blocks * o->bs);
		write = o->rw == RW_WRITE;
		break;
	default:
		off = (rnd(&bq->seed) % blocks) * o->bs;
		write = o->rw == RW_RANDWRITE || (o->rw == RW_RANDRW && (rnd(&bq->seed) & 1));
		break;
	}
	r->op = write ? UBT_OP_WRITE : UBT_OP_READ;
	r->sector = (bq->region_start + off) >> 9;
	r->nr_sectors = (uint32_t)(o->bs >> 9);
	if (write && o->verify)
		stamp(ubt_queue_buf(q, tag), r->sector, r->nr_sectors);
	bq->start_ns[tag] = now_ns();
	return true;
}

static void bench_done(void *arg, struct ubt_queue *q, unsigned int tag,
		       const struct ubt_request *r, int res)
{
	struct bench_queue *bq = arg;
	uint64_t lat = now_ns() - bq->start_ns[tag];

	if (res != (int)(r->nr_sectors << 9)) {
		atomic_fetch_add_explicit(&bq->errors, 1, memory_order_relaxed);
		return;
	}
	if (bq->o->verify && r->op == UBT_OP_READ &&
	    !stamp_ok(ubt_queue_buf(q, tag), r->sector, r->nr_sectors))
		atomic_fetch_add_explicit(&bq->verify_errors, 1, memory_order_relaxed);
	if (bq->prefill)
		return;
	bq->hist[hist_index(lat)]++;
	atomic_fetch_add_explicit(&bq->done, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&bq->bytes, (uint64_t)r->nr_sectors << 9, memory_order_relaxed);
}

static const struct ubt_inproc_ops bench_ops = { .next = bench_next, .done = bench_done };

static void *bench_thread(void *arg)
{
	struct bench_queue *bq = arg;

	bq->ret = ubt_inproc_run(bq->tree, bq->q_id, bq->o->depth, &bench_ops, bq);
	return NULL;
}

static int run_queues(struct bench_queue *qs, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = pthread_create(&qs[i].thread, NULL, bench_thread, &qs[i]);
		if (ret) {
			while (i--)
				pthread_join(qs[i].thread, NULL);
			return -ret;
		}
	}
	return 0;
}

static uint64_t percentile(const uint64_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p / 100.0), seen = 0;
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen > want)
			return hist_value(i);
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o, bool *help)
{
	static const struct option opts[] = {
		{ "spec", required_argument, NULL, 's' },
		{ "rw", required_argument, NULL, 'r' },
		{ "bs", required_argument, NULL, 'b' },
		{ "iodepth", required_argument, NULL, 'd' },
		{ "runtime", required_argument, NULL, 't' },
		{ "queues", required_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 'S' },
		{ "lbs", required_argument, NULL, 'l' },
		{ "engine", required_argument, NULL, 'e' },
		{ "verify", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const modes[] = { "randread", "randwrite", "read", "write", "randrw" };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t v;
	unsigned int i;
	char *end;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->spec = optarg;
			break;
		case 'r':
			for (i = 0; i < UBT_ARRAY_SIZE(modes) && strcmp(optarg, modes[i]); i++)
				;
			if (i == UBT_ARRAY_SIZE(modes))
				return cli_usage_error("bench: --rw takes randread, randwrite, read, "
						       "write or randrw, not '%s'", optarg);
			o->rw = (enum rw_mode)i;
			break;
		case 'b':
		case 'S':
			if (ubt_parse_size(optarg, &v) || !v || v % 512)
				return cli_usage_error("bench: %s takes a non-zero size in multiples "
						       "of 512, not '%s'", c == 'b' ? "--bs" : "--size",
						       optarg);
			if (c == 'b')
				o->bs = v;
			else
				o->size = v;
			break;
		case 'd':
		case 'q':
			if (ubt_parse_uint(optarg, &v) || !v ||
			    v > (c == 'd' ? UBLK_MAX_QUEUE_DEPTH : (uint64_t)(ncpu > 0 ? ncpu : 1) * 4))
				return cli_usage_error("bench: %s takes a number from 1 to %llu, not '%s'",
						       c == 'd' ? "--iodepth" : "--queues",
						       c == 'd' ? (unsigned long long)UBLK_MAX_QUEUE_DEPTH :
						       (unsigned long long)(ncpu > 0 ? ncpu : 1) * 4,
						       optarg);
			if (c == 'd')
				o->depth = (unsigned int)v;
			else
				o->queues = (unsigned int)v;
			break;
		case 't':
			o->runtime = strtod(optarg, &end);
			if (*end || !(o->runtime > 0) || o->runtime > 86400)
				return cli_usage_error("bench: --runtime takes seconds (0 < s <= 86400), "
						       "not '%s'", optarg);
			break;
		case 'l':
			if (strcmp(optarg, "512") && strcmp(optarg, "4096"))
				return cli_usage_error("bench: --lbs takes 512 or 4096, not '%s'", optarg);
			o->lbs = (unsigned int)atoi(optarg);
			break;
		case 'e':
			if (!strcmp(optarg, "uring"))
				o->engine = UBT_ENGINE_URING;
			else if (!strcmp(optarg, "aio"))
				o->engine = UBT_ENGINE_AIO;
			else
				return cli_usage_error("bench: --engine takes uring or aio, not '%s'",
						       optarg);
			break;
		case 'v':
			o->verify = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			*help = true;
			return 0;
		case ':':
			return cli_usage_error("bench: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("bench: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("bench: unexpected argument '%s'", argv[optind]);
	if (!o->spec)
		return cli_usage_error("bench: --spec EXPR is required");
	if (o->bs > CONFIG_MAX_IO_BYTES)
		return cli_usage_error("bench: --bs is larger than the %d-byte request limit",
				       CONFIG_MAX_IO_BYTES);
	if (o->bs % o->lbs)
		return cli_usage_error("bench: --bs is not a multiple of the %u-byte block size",
				       o->lbs);
	return 0;
}

/* Once a second: where the run is, on stderr. */
static void progress(struct bench_queue *qs, unsigned int n, const struct bench_opts *o,
		     double start, uint64_t *last_done, double *last_t)
{
	double t = now_s();
	uint64_t done = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		done += atomic_load_explicit(&qs[i].done, memory_order_relaxed);
	fprintf(stderr, "%s[%4.0f/%.0fs] %8.0f IOPS%s", isatty(STDERR_FILENO) ? "\r" : "",
		t - start, o->runtime, (double)(done - *last_done) / (t - *last_t),
		isatty(STDERR_FILENO) ? "" : "\n");
	*last_done = done;
	*last_t = t;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {
		.rw = RW_RANDREAD, .bs = 4096, .depth = 32, .queues = 1, .runtime = 10, .lbs = 512,
	};
	struct ubt_tree_opts topts = { .max_io_bytes = CONFIG_MAX_IO_BYTES };
	static const char *const names[] = { "randread", "randwrite", "read", "write", "randrw" };
	uint64_t hist[HIST_BUCKETS] = { 0 }, done = 0, bytes = 0, errors = 0, verrors = 0, last = 0;
	struct bench_queue *qs;
	struct ubt_tree *tree;
	double start, elapsed, last_t;
	bool help = false;
	char err[512];
	unsigned int i, k;
	int ret;

	ret = parse_opts(argc, argv, &o, &help);
	if (ret || help) {
		if (help)
			fputs(bench_usage, stdout);
		return ret;
	}
	topts.logical_block_size = o.lbs;
	topts.engine = o.engine;
	if (ubt_tree_build(o.spec, &topts, &tree, err, sizeof(err)))
		return cli_error("%s", err);
	if (!o.size)
		o.size = ubt_tree_bytes(tree);
	if (o.size > ubt_tree_bytes(tree) || o.size < o.bs * o.queues) {
		ubt_tree_free(tree);
		return cli_error("bench: --size must be between --bs x --queues and the device's "
				 "%llu bytes", (unsigned long long)ubt_tree_bytes(tree));
	}
	qs = calloc(o.queues, sizeof(*qs));
	if (!qs) {
		ubt_tree_free(tree);
		return cli_error("out of memory");
	}
	for (i = 0; i < o.queues; i++) {
		uint64_t share = o.size / o.queues / o.bs * o.bs;

		qs[i].o = &o;
		qs[i].tree = tree;
		qs[i].q_id = i;
		qs[i].seed = 0x2545F4914F6CDD1DULL * (i + 1);
		/* Each queue works on its own slice, so --verify writes never race. */
		qs[i].region_start = share * i;
		qs[i].region_bytes = share;
		qs[i].start_ns = calloc(o.depth, sizeof(uint64_t));
		qs[i].prefill = o.verify;
		if (!qs[i].start_ns) {
			ret = cli_error("out of memory");
			goto out;
		}
	}
	if (o.verify) {
		if (!o.json)
			fprintf(stderr, "writing the verify pattern over %llu bytes\n",
				(unsigned long long)o.size);
		ret = run_queues(qs, o.queues);
		for (i = 0; !ret && i < o.queues; i++)
			pthread_join(qs[i].thread, NULL);
		for (i = 0; i < o.queues; i++) {
			if (qs[i].ret || qs[i].errors) {
				ret = cli_error("bench: writing the verify pattern failed%s%s",
						qs[i].ret ? ": " : "",
						qs[i].ret ? strerror(-qs[i].ret) : "");
				goto out;
			}
			qs[i].prefill = false;
			qs[i].next_seq = 0;
		}
	}
	start = last_t = now_s();
	for (i = 0; i < o.queues; i++)
		qs[i].deadline = start + o.runtime;
	ret = run_queues(qs, o.queues);
	if (ret) {
		ret = cli_error("bench: cannot start threads: %s", strerror(-ret));
		goto out;
	}
	while (now_s() < start + o.runtime) {
		usleep(1000000);
		if (!o.json)
			progress(qs, o.queues, &o, start, &last, &last_t);
	}
	for (i = 0; i < o.queues; i++)
		pthread_join(qs[i].thread, NULL);
	elapsed = now_s() - start;
	if (!o.json && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	for (i = 0; i < o.queues; i++) {
		if (qs[i].ret) {
			ret = cli_error("bench: queue %u failed: %s", i, strerror(-qs[i].ret));
			goto out;
		}
		done += qs[i].done;
		bytes += qs[i].bytes;
		errors += qs[i].errors;
		verrors += qs[i].verify_errors;
		for (k = 0; k < HIST_BUCKETS; k++)
			hist[k] += qs[i].hist[k];
	}
	if (o.json) {
		printf("{\"spec\": ");
		cli_json_string(o.spec);
		printf(", \"rw\": \"%s\", \"bs\": %llu, \"iodepth\": %u, "
		       "\"queues\": %u, \"runtime\": %.3f, \"ios\": %llu, \"iops\": %.0f, "
		       "\"bw_mib_s\": %.1f, \"lat_us\": {\"p50\": %.2f, \"p99\": %.2f, "
		       "\"p99.9\": %.2f}, \"errors\": %llu, \"verify_errors\": %llu}\n",
		       names[o.rw], (unsigned long long)o.bs, o.depth, o.queues, elapsed,
		       (unsigned long long)done, (double)done / elapsed,
		       (double)bytes / elapsed / 1048576.0,
		       (double)percentile(hist, done, 50) / 1000.0,
		       (double)percentile(hist, done, 99) / 1000.0,
		       (double)percentile(hist, done, 99.9) / 1000.0,
		       (unsigned long long)errors, (unsigned long long)verrors);
	} else {
		printf("spec: %s\nrw=%s bs=%llu iodepth=%u queues=%u runtime=%.1fs%s\n", o.spec,
		       names[o.rw], (unsigned long long)o.bs, o.depth, o.queues, elapsed,
		       o.verify ? " verify" : "");
		printf("%12s %10s %10s %10s %10s %8s %8s\n", "IOPS", "MiB/s", "p50(us)", "p99(us)",
		       "p99.9(us)", "errors", "verify");
		printf("%12.0f %10.1f %10.2f %10.2f %10.2f %8llu %8llu\n", (double)done / elapsed,
		       (double)bytes / elapsed / 1048576.0,
		       (double)percentile(hist, done, 50) / 1000.0,
		       (double)percentile(hist, done, 99) / 1000.0,
		       (double)percentile(hist, done, 99.9) / 1000.0,
		       (unsigned long long)errors, (unsigned long long)verrors);
	}
	ret = errors || verrors ? 1 : 0;
out:
	for (i = 0; i < o.queues; i++)
		free(qs[i].start_ns);
	free(qs);
	ubt_tree_free(tree);
	return ret;
}
