/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the functional tests: scratch files, building trees, and a
 * model-checked random workload driven through the in-process frontend.
 */
#ifndef UBT_FUNC_UTIL_H
#define UBT_FUNC_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ubt/inproc.h"
#include "ubt/table.h"
#include "ubt/tree.h"
#include "ubt/util.h"

/* A scratch folder on a real file system (not tmpfs): $UBT_TEST_DIR or /var/tmp. */
const char *func_scratch_dir(void);
/* Create a file of size bytes (sparse) in the scratch folder; returns its path. */
char *func_make_file(const char *name, uint64_t size);
struct ubt_tree *func_build(const char *spec, uint32_t lbs, char *err, size_t errlen);
/* func_build(printf(fmt, path)), saying on stderr why it failed. */
struct ubt_tree *func_build_fmt(const char *fmt, const char *path, char *err, size_t errlen);
/* CLOCK_MONOTONIC in seconds. */
double func_now_s(void);

struct workload {
	uint8_t *model;			/* what the device must read back */
	uint64_t start, bytes;		/* the region this workload touches */
	unsigned int nr_ops;		/* how many requests to issue */
	unsigned int pct_read, pct_write, pct_flush, pct_discard, pct_zeroes; /* sum 100 */
	unsigned int pct_fua;		/* of the writes */
	uint32_t max_bytes;		/* largest request */
	uint32_t align;			/* request alignment and granularity */
	bool sequential;		/* each request starts where the last one ended */
	uint64_t seed;
	/* Filled in by the run. */
	unsigned int issued, completed, reads_checked, errors;
	unsigned int by_op[8];
	char first_error[256];
	/* Internal. */
	unsigned int depth;
	uint64_t next_off;
	struct wl_inflight {
		uint64_t off, len;
		bool active;
	} *inflight;
};

/* Run the workload on one queue; 0 when every request succeeded and every read matched. */
int workload_run(struct ubt_tree *tree, unsigned int q_id, unsigned int depth, struct workload *w);
/*
 * Run n workloads at once, one thread and queue (q_id = index) each; they
 * must touch disjoint regions.  0 when every one of them returned 0.
 */
int workload_run_parallel(struct ubt_tree *tree, unsigned int depth, struct workload *w,
			  unsigned int n);
/* Fill a model with the device's current content by reading it through the tree. */
int model_read_device(struct ubt_tree *tree, uint8_t *model, uint64_t bytes);

uint64_t func_rand(uint64_t *seed);

/* A scratch file of size random bytes (seed 42); returns its content, path in *path. */
uint8_t *func_random_file(const char *name, uint64_t size, char **path);
/* The first size bytes of a file, read past every layer. */
uint8_t *func_file_content(const char *path, uint64_t size);
/*
 * Send node ref (index or label) a message as `ublk-target message` would;
 * the node's answer to a refused one lands in err.
 */
int func_message(struct ubt_tree *tree, const char *ref, const char *words, char *err,
		 size_t errlen);
/*
 * A message sent from another thread while the caller runs I/O:
 * func_message_later() starts the thread, which waits 20 ms and sends
 * `words` to node `ref`; func_message_join() marks the caller's I/O done
 * and waits for it.  Then ret and err are the message's, and during_io
 * says whether it was sent before the I/O ended.
 */
struct func_later {
	struct ubt_tree *tree;
	const char *ref, *words;
	int ret;
	char err[512];
	volatile bool io_done;
	bool during_io;
	pthread_t th;
};

void func_message_later(struct func_later *l);
void func_message_join(struct func_later *l);

/*
 * A scripted run: requests one at a time, in order, on queue 0.  A write's
 * data comes from fill(buf, step); a read lands in read_into (when set);
 * each step's result is kept.
 */
struct func_step {
	uint8_t op, flags;
	uint64_t off, len;		/* bytes */
	uint8_t fill;			/* for fill() */
	uint64_t seq;			/* for fill() */
	uint8_t *read_into;
	int result;
};

typedef void (*func_fill_fn)(uint8_t *buf, const struct func_step *s);

/* 0, or the first error a step got (or the run's own). */
int func_run_steps(struct ubt_tree *tree, struct func_step *steps, unsigned int n,
		   func_fill_fn fill);
/* The same on queue q_id (another thread may run queue 0 meanwhile). */
int func_run_steps_on(struct ubt_tree *tree, unsigned int q_id, struct func_step *steps,
		      unsigned int n, func_fill_fn fill);

/*
 * Sector stamps, a fill for crash tests: every 512-byte sector a write puts
 * down says which write it was (s->seq) and where, then bytes from both.
 * func_stamped_seq() reads one back: the write's seq, or -1 when the
 * sector is no write's whole sector.
 */
void func_stamp(uint8_t *buf, const struct func_step *s);
int64_t func_stamped_seq(const uint8_t *p, uint64_t sector);

/* Node ref's status line, in a buffer the next call reuses. */
const char *func_status(struct ubt_tree *tree, const char *ref);

/* A table (printf-style text) as a spec: 0, or -EINVAL with err set. */
int func_table_spec(char *spec, size_t len, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * table -> spec -> tree -> table: 0 when the table comes back as it was,
 * else -1 with what happened in err.
 */
int func_table_roundtrip(const char *table, char *err, size_t errlen);
/*
 * The spec `create TARGET WORDS...` means (words: "--file", "a", ...,
 * NULL): 0, or -EINVAL with the refusal in err.
 */
int func_shorthand(const char *target, const char *const *words, char *spec, size_t len,
		   char *err, size_t errlen);

#endif
