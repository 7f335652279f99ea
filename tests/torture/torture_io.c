// SPDX-License-Identifier: MIT
/*
 * The torture run's writer and checker: random 4 KiB writes, reads and
 * flushes on a block device, every block's content known to a model, so
 * that every read, and every block after a crash, is checked against what
 * the rules promise.
 *
 *   torture_io DEV STATE init SEED      write every block once, flush
 *   torture_io DEV STATE run SECONDS    I/O until SECONDS pass or SIGTERM
 *   torture_io DEV STATE verify RULE    read every block back: RULE acked
 *                                       (every acknowledged write is there)
 *                                       or flushed (those a flush covered)
 *
 * Every 512-byte sector of a write says which block and which write (its
 * generation) it is, and holds bytes that follow from both; a block's
 * generations only grow.  The model keeps, per block, the last generation
 * sent, the last acknowledged, and the last a completed flush covered: a
 * read must give the acknowledged one (or, after a write that failed, the
 * one sent), and after a crash each sector must hold a generation between
 * the rule's floor and the last sent (a torn write mixes them sector by
 * sector).  I/O errors are counted, not fatal: a fault or a crash the run
 * makes may cause them; they widen what the block may hold.  The model is
 * kept in STATE between the commands.  Exit: 0, 1 for a mismatch, 2 for a
 * usage or setup error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#define BLOCK		4096u
#define SECTOR		512u
#define WORKERS		4u
#define MAGIC		0x5542542d544f5254ull	/* "UBT-TORT" */
#define FLUSH_EVERY_MS	150

struct model {
	uint64_t magic, seed, blocks;
	uint64_t writes, reads, flushes, errors;	/* totals over every run */
	uint32_t *sent, *acked, *floor;
};

static struct model m;
static int fd = -1;
static volatile sig_atomic_t stop;
static uint64_t deadline_ns;
static pthread_mutex_t flush_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t mismatches;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* Sector s of block b at generation g, as written. */
static void fill_sector(uint8_t *p, uint64_t b, uint32_t g, unsigned int s)
{
	uint64_t h[4] = { MAGIC, b, g, s }, x = mix(m.seed ^ mix(b * 8 + s) ^ ((uint64_t)g << 40));
	unsigned int i;

	memcpy(p, h, sizeof(h));
	for (i = sizeof(h); i < SECTOR; i += 8) {
		x = mix(x + i);
		memcpy(p + i, &x, 8);
	}
}

/* The generation sector s of block b holds, or -1 when it is no write's. */
static int64_t sector_gen(const uint8_t *p, uint64_t b, unsigned int s)
{
	uint8_t want[SECTOR];
	uint64_t h[4];

	memcpy(h, p, sizeof(h));
	if (h[0] != MAGIC || h[1] != b || h[3] != s || h[2] > UINT32_MAX)
		return -1;
	fill_sector(want, b, (uint32_t)h[2], s);
	return memcmp(p, want, SECTOR) ? -1 : (int64_t)h[2];
}

/*
 * Whether every sector of the block in buf holds a generation in [lo, hi];
 * the oldest of them in *oldest.
 */
static bool block_ok(const uint8_t *buf, uint64_t b, uint32_t lo, uint32_t hi, char *why,
		     size_t len, uint32_t *oldest)
{
	unsigned int s;

	*oldest = hi;
	for (s = 0; s < BLOCK / SECTOR; s++) {
		int64_t g = sector_gen(buf + s * SECTOR, b, s);

		if (g >= 0 && g < *oldest)
			*oldest = (uint32_t)g;

		if (g < lo || g > hi) {
			snprintf(why, len, "block %" PRIu64 " sector %u holds %s %" PRId64
				 ", want a generation in %u..%u", b, s,
				 g < 0 ? "no write's data" : "generation", g, lo, hi);
			return false;
		}
	}
	return true;
}

static int save(const char *path)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return -1;
	ok = fwrite(&m, 8, 7, f) == 7 && fwrite(m.sent, 4, m.blocks, f) == m.blocks &&
	     fwrite(m.acked, 4, m.blocks, f) == m.blocks &&
	     fwrite(m.floor, 4, m.blocks, f) == m.blocks;
	return fclose(f) || !ok ? -1 : 0;
}

static int alloc_model(uint64_t blocks)
{
	m.blocks = blocks;
	m.sent = calloc(blocks, 4);
	m.acked = calloc(blocks, 4);
	m.floor = calloc(blocks, 4);
	return m.sent && m.acked && m.floor ? 0 : -1;
}

static int load(const char *path)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -1;
	ok = fread(&m, 8, 7, f) == 7 && m.magic == MAGIC && m.blocks && m.blocks < (1u << 24) &&
	     !alloc_model(m.blocks) && fread(m.sent, 4, m.blocks, f) == m.blocks &&
	     fread(m.acked, 4, m.blocks, f) == m.blocks &&
	     fread(m.floor, 4, m.blocks, f) == m.blocks;
	fclose(f);
	return ok ? 0 : -1;
}

static int write_block(uint8_t *buf, uint64_t b)
{
	uint32_t g = ++m.sent[b];
	unsigned int s;
	ssize_t n;

	for (s = 0; s < BLOCK / SECTOR; s++)
		fill_sector(buf + s * SECTOR, b, g, s);
	n = pwrite(fd, buf, BLOCK, (off_t)(b * BLOCK));
	__atomic_fetch_add(&m.writes, 1, __ATOMIC_RELAXED);
	if (n != BLOCK) {
		__atomic_fetch_add(&m.errors, 1, __ATOMIC_RELAXED);
		return -1;
	}
	__atomic_store_n(&m.acked[b], g, __ATOMIC_RELEASE);
	return 0;
}

/* A flush: what was acknowledged before it began is safe once it is done. */
static void flush_all(uint32_t *snap)
{
	uint64_t b;

	pthread_mutex_lock(&flush_lock);
	for (b = 0; b < m.blocks; b++)
		snap[b] = __atomic_load_n(&m.acked[b], __ATOMIC_ACQUIRE);
	__atomic_fetch_add(&m.flushes, 1, __ATOMIC_RELAXED);
	if (fdatasync(fd)) {
		__atomic_fetch_add(&m.errors, 1, __ATOMIC_RELAXED);
	} else {
		for (b = 0; b < m.blocks; b++)
			if (snap[b] > m.floor[b])
				m.floor[b] = snap[b];
	}
	pthread_mutex_unlock(&flush_lock);
}

static void *worker(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t x = mix(m.seed ^ id ^ now_ns()), per = (m.blocks + WORKERS - 1 - id) / WORKERS;
	uint8_t *buf;
	char why[256];
	uint32_t oldest;

	if (posix_memalign((void **)&buf, BLOCK, BLOCK) || !per)
		return NULL;
	while (!stop && now_ns() < deadline_ns) {
		uint64_t b = (x = mix(x)) % per * WORKERS + id;

		if (x >> 60 < 11) {
			write_block(buf, b);
			continue;
		}
		/* This thread alone writes b: nothing of it is in flight. */
		__atomic_fetch_add(&m.reads, 1, __ATOMIC_RELAXED);
		if (pread(fd, buf, BLOCK, (off_t)(b * BLOCK)) != BLOCK) {
			__atomic_fetch_add(&m.errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (!block_ok(buf, b, m.acked[b], m.sent[b], why, sizeof(why), &oldest)) {
			fprintf(stderr, "torture_io: read back wrong: %s\n", why);
			__atomic_fetch_add(&mismatches, 1, __ATOMIC_RELAXED);
		}
	}
	free(buf);
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* The bytes of the device (or, to try it out, of a file). */
static uint64_t dev_bytes(void)
{
	uint64_t bytes = 0;
	struct stat st;

	if (ioctl(fd, BLKGETSIZE64, &bytes) && !fstat(fd, &st))
		bytes = (uint64_t)st.st_size;
	return bytes;
}

static int open_dev(const char *dev)
{
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "torture_io: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	if (dev_bytes() < BLOCK) {
		fprintf(stderr, "torture_io: %s: smaller than a block\n", dev);
		return -1;
	}
	return 0;
}

static int cmd_run(unsigned int seconds)
{
	pthread_t th[WORKERS];
	uint32_t *snap = calloc(m.blocks, 4);
	struct timespec pause = { 0, FLUSH_EVERY_MS * 1000000L };
	unsigned int i;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	deadline_ns = now_ns() + (uint64_t)seconds * 1000000000ull;
	for (i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	while (!stop && now_ns() < deadline_ns) {
		nanosleep(&pause, NULL);
		flush_all(snap);
	}
	stop = 1;
	for (i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	free(snap);
	return 0;
}

#define VERIFY_CHUNK	256u	/* blocks read at once */

/* Every block in its rule's range; then the model knows each block exactly. */
static int cmd_verify(bool acked)
{
	uint8_t *buf;
	uint64_t b, bad = 0, unreadable = 0, first = UINT64_MAX, n = 0;
	char why[256];

	if (posix_memalign((void **)&buf, BLOCK, (size_t)VERIFY_CHUNK * BLOCK))
		return 2;
	for (b = 0; b < m.blocks; b++) {
		uint32_t lo = acked ? m.acked[b] : m.floor[b], oldest;
		const uint8_t *p;

		/* Read a chunk at a time; a chunk that fails, block by block. */
		if (b >= first + n || first == UINT64_MAX) {
			first = b;
			n = m.blocks - b < VERIFY_CHUNK ? m.blocks - b : VERIFY_CHUNK;
			if (pread(fd, buf, n * BLOCK, (off_t)(b * BLOCK)) != (ssize_t)(n * BLOCK))
				n = 0;
		}
		if (n) {
			p = buf + (b - first) * BLOCK;
		} else {
			first = UINT64_MAX;
			if (pread(fd, buf, BLOCK, (off_t)(b * BLOCK)) != BLOCK) {
				unreadable++;
				continue;
			}
			p = buf;
		}
		if (!block_ok(p, b, lo, m.sent[b], why, sizeof(why), &oldest)) {
			if (bad++ < 10)
				fprintf(stderr, "torture_io: after the event: %s\n", why);
			continue;
		}
		/*
		 * What it holds is what it holds from now on: a read may see
		 * any of its sectors' generations until the next write.
		 */
		m.acked[b] = m.floor[b] = oldest;
	}
	free(buf);
	printf("verified %" PRIu64 " blocks (rule %s): %" PRIu64 " wrong, %" PRIu64
	       " unreadable\n", m.blocks, acked ? "acked" : "flushed", bad, unreadable);
	mismatches += bad + unreadable;
	return 0;
}

int main(int argc, char **argv)
{
	const char *usage = "usage: torture_io DEV STATE init SEED | run SECONDS | verify acked|flushed";
	uint8_t *buf;
	uint64_t b;
	int ret = 0;

	if (argc != 5) {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	if (open_dev(argv[1]))
		return 2;
	if (!strcmp(argv[3], "init")) {
		uint64_t bytes = dev_bytes();

		memset(&m, 0, sizeof(m));
		m.magic = MAGIC;
		m.seed = strtoull(argv[4], NULL, 0);
		if (alloc_model(bytes / BLOCK) || posix_memalign((void **)&buf, BLOCK, BLOCK))
			return 2;
		for (b = 0; b < m.blocks; b++)
			if (write_block(buf, b)) {
				fprintf(stderr, "torture_io: init: cannot write block %" PRIu64 "\n", b);
				return 2;
			}
		if (fdatasync(fd))
			return 2;
		memcpy(m.floor, m.acked, m.blocks * 4);
		free(buf);
	} else if (load(argv[2])) {
		fprintf(stderr, "torture_io: %s: no model to go on from\n", argv[2]);
		return 2;
	} else if (!strcmp(argv[3], "run")) {
		ret = cmd_run((unsigned int)strtoul(argv[4], NULL, 10));
	} else if (!strcmp(argv[3], "verify") &&
		   (!strcmp(argv[4], "acked") || !strcmp(argv[4], "flushed"))) {
		ret = cmd_verify(!strcmp(argv[4], "acked"));
	} else {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	close(fd);
	if (save(argv[2])) {
		fprintf(stderr, "torture_io: cannot save %s\n", argv[2]);
		return 2;
	}
	printf("writes %" PRIu64 " reads %" PRIu64 " flushes %" PRIu64 " errors %" PRIu64
	       " mismatches %" PRIu64 "\n", m.writes, m.reads, m.flushes, m.errors, mismatches);
	return ret ? ret : mismatches ? 1 : 0;
}
