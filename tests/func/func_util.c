// SPDX-License-Identifier: MIT
/*
 * The model-checked workload: requests in flight never overlap, so the
 * model can be updated at completion and every read compared exactly.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "func_util.h"
#include "core/engine/engine.h"
#include "ubt/registry.h"
#include "ubt/shorthand.h"
#include "ubt/table.h"

static char scratch[4096];

/* At exit: the folder goes if the tests removed what they made in it. */
static void remove_scratch_dir(void)
{
	rmdir(scratch);
}

const char *func_scratch_dir(void)
{
	char *dir = scratch;
	const char *base;

	if (dir[0])
		return dir;
	base = getenv("UBT_TEST_DIR");
	if (!base || !*base)
		base = "/var/tmp";
	snprintf(dir, sizeof(scratch), "%s/ubt-func.XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(remove_scratch_dir);
	return dir;
}

char *func_make_file(const char *name, uint64_t size)
{
	char *path;
	int fd;

	if (asprintf(&path, "%s/%s", func_scratch_dir(), name) < 0)
		exit(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(path);
		exit(1);
	}
	close(fd);
	return path;
}

struct ubt_tree *func_build(const char *spec, uint32_t lbs, char *err, size_t errlen)
{
	struct ubt_tree_opts o = { .logical_block_size = lbs, .max_io_bytes = 512 * 1024 };
	struct ubt_tree *tree = NULL;

	if (ubt_tree_build(spec, &o, &tree, err, errlen))
		return NULL;
	return tree;
}

uint64_t func_rand(uint64_t *s)
{
	/* xorshift64*: fast, and the same sequence for the same seed. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

uint8_t *func_random_file(const char *name, uint64_t size, char **path)
{
	uint8_t *data = malloc(size);
	uint64_t seed = 42, i;
	int fd;

	*path = func_make_file(name, size);
	for (i = 0; i < size / 8; i++)
		((uint64_t *)data)[i] = func_rand(&seed);
	fd = open(*path, O_WRONLY);
	if (fd < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		fprintf(stderr, "cannot fill %s\n", *path);
		abort();
	}
	close(fd);
	return data;
}

uint8_t *func_file_content(const char *path, uint64_t size)
{
	uint8_t *buf = malloc(size);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, size, 0) != (ssize_t)size) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	close(fd);
	return buf;
}

int func_message(struct ubt_tree *tree, const char *ref, const char *words, char *err,
		 size_t errlen)
{
	char line[256], *argv[16], *save = NULL, *tok, out[512] = "";
	int argc = 0, ret;

	snprintf(line, sizeof(line), "%s", words);
	for (tok = strtok_r(line, " ", &save); tok && argc < 16; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	ret = ubt_tree_message(tree, ref, NULL, argc, argv, out, sizeof(out));
	snprintf(err, errlen, "%s", out);	/* the refusal, or what the node said */
	return ret;
}

static void *send_later(void *arg)
{
	struct func_later *l = arg;

	usleep(20000);
	l->ret = func_message(l->tree, l->ref, l->words, l->err, sizeof(l->err));
	l->during_io = !l->io_done;
	return NULL;
}

void func_message_later(struct func_later *l)
{
	l->io_done = false;
	l->during_io = false;
	if (pthread_create(&l->th, NULL, send_later, l)) {
		perror("pthread_create");
		exit(1);
	}
}

void func_message_join(struct func_later *l)
{
	l->io_done = true;
	pthread_join(l->th, NULL);
}

struct script {
	struct func_step *steps;
	unsigned int n, next;
	func_fill_fn fill;
	int first_error;
};

static bool sc_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *r)
{
	struct script *sc = arg;
	struct func_step *s;

	if (sc->next >= sc->n)
		return false;
	s = &sc->steps[sc->next++];
	memset(r, 0, sizeof(*r));
	r->op = s->op;
	r->flags = s->flags;
	r->sector = s->off >> 9;
	r->nr_sectors = (uint32_t)(s->len >> 9);
	if (s->op == UBT_OP_WRITE)
		sc->fill(ubt_queue_buf(q, tag), s);
	return true;
}

static void sc_done(void *arg, struct ubt_queue *q, unsigned int tag,
		    const struct ubt_request *r, int res)
{
	struct script *sc = arg;
	struct func_step *s = &sc->steps[sc->next - 1];	/* depth 1: the one sent last */

	s->result = res;
	if (res < 0 && !sc->first_error)
		sc->first_error = res;
	if (r->op == UBT_OP_READ && res >= 0 && s->read_into)
		memcpy(s->read_into, ubt_queue_buf(q, tag), s->len);
}

static const struct ubt_inproc_ops sc_ops = { .next = sc_next, .done = sc_done };

int func_run_steps_on(struct ubt_tree *tree, unsigned int q_id, struct func_step *steps,
		      unsigned int n, func_fill_fn fill)
{
	struct script sc = { .steps = steps, .n = n, .fill = fill };
	int ret = ubt_inproc_run(tree, q_id, 1, &sc_ops, &sc);

	return ret ? ret : sc.first_error;
}

int func_run_steps(struct ubt_tree *tree, struct func_step *steps, unsigned int n,
		   func_fill_fn fill)
{
	return func_run_steps_on(tree, 0, steps, n, fill);
}

const char *func_status(struct ubt_tree *tree, const char *ref)
{
	static char buf[256];
	struct ubt_target *t = ubt_tree_find(tree, ref);

	buf[0] = '\0';
	if (t->type->status)
		t->type->status(t, buf, sizeof(buf));
	return buf;
}

static bool overlaps(const struct workload *w, uint64_t off, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < w->depth; i++) {
		const struct wl_inflight *f = &w->inflight[i];

		if (f->active && off < f->off + f->len && f->off < off + len)
			return true;
	}
	return false;
}

static void wl_error(struct workload *w, const char *fmt, unsigned long long a,
		     unsigned long long b, long long c)
{
	w->errors++;
	if (!w->first_error[0])
		snprintf(w->first_error, sizeof(w->first_error), fmt, a, b, c);
}

static unsigned int pick_op(struct workload *w)
{
	unsigned int r = (unsigned int)(func_rand(&w->seed) % 100);

	if (r < w->pct_read)
		return UBT_OP_READ;
	r -= w->pct_read;
	if (r < w->pct_write)
		return UBT_OP_WRITE;
	r -= w->pct_write;
	if (r < w->pct_flush)
		return UBT_OP_FLUSH;
	r -= w->pct_flush;
	if (r < w->pct_discard)
		return UBT_OP_DISCARD;
	return UBT_OP_WRITE_ZEROES;
}

static bool wl_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *r)
{
	struct workload *w = arg;
	uint64_t off = 0, len = 0;
	unsigned int op, tries;

	if (w->issued >= w->nr_ops)
		return false;
	op = pick_op(w);
	if (op != UBT_OP_FLUSH) {
		uint64_t units = w->bytes / w->align, max_units = w->max_bytes / w->align;

		for (tries = 0; tries < 32; tries++) {
			len = (1 + func_rand(&w->seed) % max_units) * w->align;
			if (len > w->bytes)
				len = w->bytes;
			off = (func_rand(&w->seed) % (units - len / w->align + 1)) * w->align;
			if (w->sequential && tries == 0) {
				off = w->next_off + len > w->bytes ? 0 : w->next_off;
				w->next_off = off + len;
			}
			if (!overlaps(w, w->start + off, len))
				break;
		}
		if (tries == 32)
			op = UBT_OP_FLUSH;	/* everything nearby is busy */
	}
	memset(r, 0, sizeof(*r));
	r->op = (uint8_t)op;
	if (op != UBT_OP_FLUSH) {
		r->sector = (w->start + off) >> 9;
		r->nr_sectors = (uint32_t)(len >> 9);
		w->inflight[tag] = (struct wl_inflight){ w->start + off, len, true };
	}
	if (op == UBT_OP_WRITE) {
		uint64_t *p = ubt_queue_buf(q, tag);
		size_t i;

		for (i = 0; i < len / 8; i++)
			p[i] = func_rand(&w->seed);
		if (func_rand(&w->seed) % 100 < w->pct_fua)
			r->flags |= UBT_IO_FUA;
	}
	w->issued++;
	w->by_op[op]++;
	return true;
}

static void wl_done(void *arg, struct ubt_queue *q, unsigned int tag,
		    const struct ubt_request *r, int res)
{
	struct workload *w = arg;
	uint64_t off = r->sector << 9, len = (uint64_t)r->nr_sectors << 9;
	int want = (r->op == UBT_OP_READ || r->op == UBT_OP_WRITE) ? (int)len : 0;
	uint8_t *buf = ubt_queue_buf(q, tag);

	w->completed++;
	w->inflight[tag].active = false;
	if (res != want) {
		wl_error(w, "op %llu at byte %llu: result %lld", r->op, off, res);
		return;
	}
	switch (r->op) {
	case UBT_OP_WRITE:
		memcpy(w->model + off, buf, len);
		break;
	case UBT_OP_DISCARD:
	case UBT_OP_WRITE_ZEROES:
		memset(w->model + off, 0, len);
		break;
	case UBT_OP_READ:
		w->reads_checked++;
		if (memcmp(w->model + off, buf, len)) {
			uint64_t i = 0;

			while (w->model[off + i] == buf[i])
				i++;
			wl_error(w, "read of %llu bytes at %llu differs from the model at +%lld",
				 len, off, (long long)i);
		}
		break;
	}
}

static const struct ubt_inproc_ops wl_ops = { .next = wl_next, .done = wl_done };

int workload_run(struct ubt_tree *tree, unsigned int q_id, unsigned int depth, struct workload *w)
{
	int ret;

	if (!w->align)
		w->align = 512;
	if (!w->max_bytes)
		w->max_bytes = 128 * 1024;
	if (!w->seed)
		w->seed = 0x9E3779B97F4A7C15ULL;
	w->depth = depth;
	w->inflight = calloc(depth, sizeof(*w->inflight));
	if (!w->inflight)
		return -ENOMEM;
	ret = ubt_inproc_run(tree, q_id, depth, &wl_ops, w);
	free(w->inflight);
	w->inflight = NULL;
	if (ret)
		return ret;
	if (w->completed != w->issued)
		return -EIO;
	return w->errors ? -EIO : 0;
}

struct parallel {
	struct ubt_tree *tree;
	struct workload *w;
	unsigned int q_id, depth;
	pthread_t thread;
	int ret;
};

static void *parallel_main(void *arg)
{
	struct parallel *p = arg;

	p->ret = workload_run(p->tree, p->q_id, p->depth, p->w);
	return NULL;
}

int workload_run_parallel(struct ubt_tree *tree, unsigned int depth, struct workload *w,
			  unsigned int n)
{
	struct parallel p[16];
	unsigned int i;
	int ret = 0;

	if (n > 16)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		p[i] = (struct parallel){ .tree = tree, .w = &w[i], .q_id = i, .depth = depth };
		pthread_create(&p[i].thread, NULL, parallel_main, &p[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(p[i].thread, NULL);
		if (p[i].ret && !ret)
			ret = p[i].ret;
	}
	return ret;
}

struct reader {
	uint8_t *model;
	uint64_t bytes, next;
	int error;
};

static bool rd_next(void *arg, struct ubt_queue *q, unsigned int tag, struct ubt_request *r)
{
	struct reader *rd = arg;
	uint64_t len = rd->bytes - rd->next < 262144 ? rd->bytes - rd->next : 262144;

	(void)q;
	(void)tag;
	if (rd->next >= rd->bytes)
		return false;
	memset(r, 0, sizeof(*r));
	r->op = UBT_OP_READ;
	r->sector = rd->next >> 9;
	r->nr_sectors = (uint32_t)(len >> 9);
	rd->next += len;
	return true;
}

static void rd_done(void *arg, struct ubt_queue *q, unsigned int tag,
		    const struct ubt_request *r, int res)
{
	struct reader *rd = arg;
	uint64_t len = (uint64_t)r->nr_sectors << 9;

	if (res != (int)len) {
		rd->error = res < 0 ? res : -EIO;
		return;
	}
	memcpy(rd->model + (r->sector << 9), ubt_queue_buf(q, tag), len);
}

static const struct ubt_inproc_ops rd_ops = { .next = rd_next, .done = rd_done };

int model_read_device(struct ubt_tree *tree, uint8_t *model, uint64_t bytes)
{
	struct reader rd = { .model = model, .bytes = bytes };
	int ret = ubt_inproc_run(tree, 0, 8, &rd_ops, &rd);

	return ret ? ret : rd.error;
}

/*
 * Modules only from where a test says ($UBT_MODULE_DIR): a module installed
 * on the machine must not stand in for the target under test.
 */
static void __attribute__((constructor)) func_module_dir(void)
{
	const char *dir = getenv("UBT_MODULE_DIR");

	ubt_set_module_dir(dir ? dir : "");
}

int func_table_spec(char *spec, size_t len, char *err, size_t errlen, const char *fmt, ...)
{
	char table[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(table, sizeof(table), fmt, ap);
	va_end(ap);
	err[0] = '\0';
	return ubt_table_to_spec(table, spec, len, err, errlen);
}

int func_table_roundtrip(const char *table, char *err, size_t errlen)
{
	char spec[8192], out[8192], why[512];
	struct ubt_tree *tree;
	int ret;

	if (ubt_table_to_spec(table, spec, sizeof(spec), why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", table, why);
		return -1;
	}
	tree = func_build(spec, 512, why, sizeof(why));
	if (!tree) {
		snprintf(err, errlen, "%s: %s", spec, why);
		return -1;
	}
	ret = ubt_tree_to_table(tree, out, sizeof(out), why, sizeof(why));
	ubt_tree_free(tree);
	if (ret) {
		snprintf(err, errlen, "%s: %s", spec, why);
		return -1;
	}
	if (strcmp(out, table)) {
		snprintf(err, errlen, "in: %s out: %s", table, out);
		return -1;
	}
	return 0;
}

int func_shorthand(const char *target, const char *const *words, char *spec, size_t len,
		   char *err, size_t errlen)
{
	struct ubt_shorthand_given given[64];
	struct ubt_shorthand_args a = { .type = ubt_find_target(target), .given = given,
					.err = err, .errlen = errlen };
	const struct ubt_shorthand_opt *o;

	if (!a.type || !a.type->shorthand) {
		snprintf(err, errlen, "no shorthand for %s", target);
		return -EINVAL;
	}
	for (; *words; words++) {
		for (o = a.type->shorthand->opts; o->name && strcmp(o->name, *words + 2); o++)
			;
		given[a.nr_given].name = *words + 2;
		/* An option the type does not take: its value is the next word, if any. */
		given[a.nr_given].value = (o->name ? o->value != NULL :
					   words[1] && strncmp(words[1], "--", 2)) ? *++words : NULL;
		a.nr_given++;
	}
	return ubt_shorthand_spec(&a, spec, len);
}

struct ubt_tree *func_build_fmt(const char *fmt, const char *path, char *err, size_t errlen)
{
	struct ubt_tree *tree;
	char spec[4096];

	snprintf(spec, sizeof(spec), fmt, path);
	tree = func_build(spec, 512, err, errlen);
	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

double func_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void func_stamp(uint8_t *buf, const struct func_step *s)
{
	uint64_t i, k;

	for (i = 0; i < s->len / 512; i++) {
		uint64_t sector = s->off / 512 + i, x = s->seq * 0x9E3779B97F4A7C15ULL ^ sector;
		uint8_t *p = buf + i * 512;

		memcpy(p, &s->seq, 8);
		memcpy(p + 8, &sector, 8);
		for (k = 16; k < 512; k++)
			p[k] = (uint8_t)((x >> (k % 56)) + k);
	}
}

int64_t func_stamped_seq(const uint8_t *p, uint64_t sector)
{
	struct func_step one = { .len = 512, .off = sector * 512 };
	uint8_t want[512];

	memcpy(&one.seq, p, 8);
	func_stamp(want, &one);
	return memcmp(p, want, 512) ? -1 : (int64_t)one.seq;
}
