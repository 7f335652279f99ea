// SPDX-License-Identifier: MIT
/*
 * Functional tests of raid4/5/6 through the in-process frontend, checked
 * twice: every read against the model of what was written, and the leg
 * files themselves -- each data chunk where md's layout puts it, holding
 * the model's bytes, and every row's P (and Q) agreeing with its data.
 * Legs fail by message and from below (flakey); reads stay right, writes
 * go on, and the failed legs' contents can be rebuilt from the others to
 * the model.  A resync under I/O leaves every row's parity right.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ubt/table.h"
#include "ut.h"
#include "func_util.h"
#include "targets/raid/raid.h"

#define LEG_BYTES	(4ULL << 20)

static char err[512];

static struct ubt_tree *build(const char *spec)
{
	return func_build_fmt("%s", spec, err, sizeof(err));
}

static void remove_files(char **p, unsigned int n)
{
	while (n--) {
		unlink(p[n]);
		free(p[n]);
	}
}

struct array {
	unsigned int level, disks;
	const char *layout;
	uint64_t chunk;			/* bytes */
	char *path[8];
};

static void make_legs(struct array *a, const char *tag)
{
	unsigned int i;
	char name[64];

	for (i = 0; i < a->disks; i++) {
		snprintf(name, sizeof(name), "r-%s%u.img", tag, i);
		a->path[i] = func_make_file(name, LEG_BYTES);
	}
}

/* Legs of unrelated bytes, different on each leg: parity that agrees with nothing. */
static void make_junk_legs(struct array *a, const char *tag)
{
	uint64_t seed = 1000, *buf = malloc(LEG_BYTES), i;
	unsigned int leg;
	FILE *f;

	make_legs(a, tag);
	for (leg = 0; leg < a->disks; leg++) {
		seed += leg;
		for (i = 0; i < LEG_BYTES / 8; i++)
			buf[i] = func_rand(&seed);
		f = fopen(a->path[leg], "r+");
		CU_ASSERT_FATAL(f && fwrite(buf, 1, LEG_BYTES, f) == LEG_BYTES);
		fclose(f);
	}
	free(buf);
}

static const char *spec_of(const struct array *a, const char *extra)
{
	static char spec[2048];
	struct ubt_str s = UBT_STR(spec, sizeof(spec));
	unsigned int i;

	ubt_str_printf(&s, "raid%u(", a->level);
	for (i = 0; i < a->disks; i++)
		ubt_str_printf(&s, "%s, ", a->path[i]);
	ubt_str_printf(&s, "chunk=%llu, layout=%s%s)", (unsigned long long)a->chunk, a->layout,
		       extra);
	return spec;
}

/*
 * The legs against the model: each row's parity agrees with its data, and
 * each data chunk holds the model's bytes.  Legs in `lost` are not read:
 * they are rebuilt from the others first.  Returns the rows that failed.
 */
static unsigned int check_legs(const struct array *a, const uint8_t *model, uint32_t lost)
{
	const struct raid_layout_name *l = raid_layout_find(a->level, a->layout);
	struct raid_geom g = { .level = a->level, .algo = l->algo, .disks = a->disks,
			       .data = a->disks - (a->level == 6 ? 2 : 1), .chunk = a->chunk >> 9 };
	uint64_t rows = LEG_BYTES / a->chunk, r;
	uint8_t *leg[8];
	void *bufs[8], *scratch[2], *zero;
	unsigned int i, k, bad = 0;

	raid_parity_init();
	zero = aligned_alloc(4096, a->chunk);
	memset(zero, 0, a->chunk);
	scratch[0] = aligned_alloc(4096, a->chunk);
	scratch[1] = aligned_alloc(4096, a->chunk);
	for (i = 0; i < a->disks; i++) {
		leg[i] = func_file_content(a->path[i], LEG_BYTES);
		bufs[i] = aligned_alloc(4096, a->chunk);
	}
	for (r = 0; r < rows; r++) {
		struct raid_row row;
		size_t where;
		bool ok = true;

		raid_row_map(&g, r, &row);
		for (i = 0; i < a->disks; i++)
			memcpy(bufs[i], leg[i] + r * a->chunk, a->chunk);
		if (lost)
			raid_parity_rebuild(&g, &row, bufs, a->chunk, lost, scratch, zero);
		else if (!raid_parity_ok(&g, &row, bufs, a->chunk, scratch, zero, &where))
			ok = false;
		for (k = 0; k < g.data; k++)
			if (memcmp(bufs[row.disk[k]], model + (r * g.data + k) * a->chunk, a->chunk))
				ok = false;
		if (!ok && bad++ < 3)
			fprintf(stderr, "\n  row %llu: parity or data differs\n", (unsigned long long)r);
	}
	for (i = 0; i < a->disks; i++) {
		free(leg[i]);
		free(bufs[i]);
	}
	free(scratch[0]);
	free(scratch[1]);
	free(zero);
	return bad;
}

static uint64_t array_bytes(const struct array *a)
{
	return (LEG_BYTES / a->chunk) * a->chunk * (a->disks - (a->level == 6 ? 2 : 1));
}

static int run(struct ubt_tree *tree, struct workload *w, unsigned int depth)
{
	int ret = workload_run(tree, 0, depth, w);

	if (ret || w->errors)
		fprintf(stderr, "\n  workload: %d, %u errors: %s\n", ret, w->errors, w->first_error);
	return ret;
}

/* Let the resync finish: a run with no requests ends when the background work does. */
static void settle(struct ubt_tree *tree, uint64_t bytes)
{
	struct workload w = { .nr_ops = 0, .bytes = bytes };

	w.model = calloc(1, bytes);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 4, &w), 0);
	free(w.model);
}

/* Every layout family: writes of every size land where md puts them, parity right. */
static void test_layouts_place_data_like_md(void)
{
	static const struct { unsigned int level, disks; const char *layout; uint64_t chunk; }
	cases[] = {
		{ 4, 4, "parity-first", 16384 },
		{ 4, 3, "parity-last", 65536 },
		{ 5, 4, "left-symmetric", 16384 },
		{ 5, 5, "right-asymmetric", 131072 },
		{ 5, 3, "left-asymmetric", 8192 },
		{ 6, 4, "left-symmetric", 16384 },
		{ 6, 5, "ddf-zero-restart", 131072 },
		{ 6, 6, "left-asymmetric", 8192 },
		{ 6, 5, "right-symmetric-6", 32768 },
	};
	unsigned int c;

	for (c = 0; c < UBT_ARRAY_SIZE(cases); c++) {
		struct array a = { cases[c].level, cases[c].disks, cases[c].layout,
				   cases[c].chunk, { 0 } };
		struct workload w = { .nr_ops = 1500, .pct_read = 45, .pct_write = 45,
				      .pct_flush = 10, .pct_fua = 10, .seed = 11 + c,
				      .max_bytes = 3 * (uint32_t)cases[c].chunk };
		struct ubt_tree *tree;

		make_legs(&a, "l");
		tree = build(spec_of(&a, ", nosync"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		w.bytes = array_bytes(&a);
		w.model = calloc(1, w.bytes);
		CU_ASSERT_EQUAL(run(tree, &w, 32), 0);
		CU_ASSERT_EQUAL(w.errors, 0);
		CU_ASSERT(w.by_op[UBT_OP_WRITE] > 500 && w.reads_checked > 500);
		ubt_tree_free(tree);
		CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
		free(w.model);
		remove_files(a.path, a.disks);
	}
}

/*
 * A nosync array over fresh legs, a first round of the workload, then the
 * legs in `fail` (a space-separated list) failed by message: the tree, and
 * the failed legs as bits in *lost.
 */
static struct ubt_tree *run_then_fail(struct array *a, const char *tag, struct workload *w,
				      const char *fail, uint32_t *lost)
{
	char words[32], list[32], *tok, *save = NULL;
	struct ubt_tree *tree;

	make_legs(a, tag);
	tree = build(spec_of(a, ", nosync"));
	if (!tree)
		return NULL;
	w->bytes = array_bytes(a);
	w->model = calloc(1, w->bytes);
	CU_ASSERT_EQUAL(run(tree, w, 16), 0);
	*lost = 0;
	snprintf(list, sizeof(list), "%s", fail);
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		snprintf(words, sizeof(words), "fail %s", tok);
		CU_ASSERT_EQUAL(func_message(tree, "0", words, err, sizeof(err)), 0);
		*lost |= 1u << atoi(tok);
	}
	return tree;
}

/* A leg failed by message: reads rebuilt, writes go on, the lost leg rebuilds to the model. */
static void test_degraded_service(void)
{
	static const struct { unsigned int level, disks; const char *layout; const char *fail; }
	cases[] = {
		{ 5, 4, "left-symmetric", "1" },
		{ 4, 4, "parity-first", "0" },		/* the parity leg */
		{ 6, 5, "ddf-N-continue", "1 3" },
		{ 6, 6, "left-symmetric", "0 5" },
	};
	unsigned int c;

	for (c = 0; c < UBT_ARRAY_SIZE(cases); c++) {
		struct array a = { cases[c].level, cases[c].disks, cases[c].layout, 16384, { 0 } };
		struct workload w = { .nr_ops = 1000, .pct_read = 40, .pct_write = 50,
				      .pct_flush = 10, .seed = 31 + c, .max_bytes = 65536 };
		char status[256], health[16];
		struct ubt_tree *tree;
		uint32_t lost;
		unsigned int i;

		tree = run_then_fail(&a, "d", &w, cases[c].fail, &lost);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		/* dm-raid's health characters: D for each failed leg. */
		snprintf(status, sizeof(status), "%s", func_status(tree, "0"));
		for (i = 0; i < a.disks; i++)
			health[i] = lost & (1u << i) ? 'D' : 'A';
		health[a.disks] = '\0';
		if (!strstr(status, health))
			fprintf(stderr, "\n  status '%s', wanted %s\n", status, health);
		CU_ASSERT_PTR_NOT_NULL(strstr(status, health));
		CU_ASSERT_PTR_NOT_NULL(strstr(status, " idle 0 0 -"));
		w.nr_ops = 1500;
		w.issued = w.completed = 0;
		w.seed = 77 + c;
		CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
		CU_ASSERT_EQUAL(w.errors, 0);
		ubt_tree_free(tree);
		CU_ASSERT_EQUAL(check_legs(&a, w.model, lost), 0);
		free(w.model);
		remove_files(a.path, a.disks);
	}
}

/*
 * Small sequential writes at depth: the writes that wait for one window
 * are taken in by the first of them and written as one (stripe.c's
 * hand-over).  Healthy and with legs lost (the merged head then rebuilds
 * or writes around them); data and parity right, and merging did happen.
 */
static void test_sequential_writes_merge(void)
{
	static const struct { unsigned int level, disks; const char *layout; const char *fail; }
	cases[] = {
		{ 5, 4, "left-symmetric", NULL },
		{ 6, 5, "left-symmetric", NULL },
		{ 5, 4, "left-symmetric", "2" },
		{ 6, 6, "ddf-zero-restart", "1 4" },
	};
	unsigned int c;

	for (c = 0; c < UBT_ARRAY_SIZE(cases); c++) {
		struct array a = { cases[c].level, cases[c].disks, cases[c].layout, 16384, { 0 } };
		struct workload w = { .nr_ops = 600, .pct_read = 30, .pct_write = 70,
				      .seed = 51 + c, .max_bytes = 4096 };
		struct ubt_tree *tree;
		struct raid *r;
		uint32_t lost = 0;

		tree = run_then_fail(&a, "m", &w, cases[c].fail ? cases[c].fail : "", &lost);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		r = ubt_tree_find(tree, "0")->private;
		r->merged = 0;
		w.nr_ops = 3000;
		w.pct_read = 5;
		w.pct_write = 90;
		w.pct_flush = 5;
		w.pct_fua = 10;
		w.sequential = true;
		w.issued = w.completed = 0;
		CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
		CU_ASSERT_EQUAL(w.errors, 0);
		if (r->merged < 100)
			fprintf(stderr, "\n  case %u: %llu writes merged\n", c,
				(unsigned long long)r->merged);
		CU_ASSERT(r->merged >= 100);
		ubt_tree_free(tree);
		CU_ASSERT_EQUAL(check_legs(&a, w.model, lost), 0);
		free(w.model);
		remove_files(a.path, a.disks);
	}
}

/*
 * A leg whose I/O fails from below (flakey held down): marked D on its
 * first error, no error reaches the client, and the lost leg rebuilds.
 */
static void test_leg_errors_from_below(void)
{
	struct array a = { 5, 4, "left-symmetric", 32768, { 0 } };
	struct workload w = { .nr_ops = 800, .pct_read = 50, .pct_write = 45, .pct_flush = 5,
			      .seed = 5, .max_bytes = 98304 };
	struct ubt_tree *tree;
	char spec[2048];

	make_legs(&a, "e");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, flakey(%s, up=3600, down=1, name=fl), %s, "
		 "chunk=32K, nosync)", a.path[0], a.path[1], a.path[2], a.path[3]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid5_ls 4 AAAA 8192/8192 idle 0 0 -");
	CU_ASSERT_EQUAL(func_message(tree, "fl", "down", err, sizeof(err)), 0);
	w.issued = w.completed = 0;
	w.nr_ops = 1500;
	w.seed = 6;
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid5_ls 4 AADA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 1u << 2), 0);
	free(w.model);
	remove_files(a.path, a.disks);
}

/* Three legs of five lost in a raid6 (or two in a raid5): I/O fails, nothing hangs. */
static void test_too_many_failures_fail_io(void)
{
	struct array a = { 6, 5, "left-symmetric", 16384, { 0 } };
	struct workload w = { .nr_ops = 200, .pct_read = 50, .pct_write = 50, .seed = 9,
			      .max_bytes = 16384 };
	struct ubt_tree *tree;

	make_legs(&a, "x");
	tree = build(spec_of(&a, ", nosync"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 0", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 2", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 4", err, sizeof(err)), 0);
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	workload_run(tree, 0, 8, &w);	/* not 0: requests failed, as they must */
	CU_ASSERT_EQUAL(w.completed, 200);
	CU_ASSERT(w.errors > 100);	/* writes all fail; reads of a lost leg's chunks too */
	CU_ASSERT_PTR_NOT_NULL(strstr(w.first_error, "result -5"));
	ubt_tree_free(tree);
	free(w.model);
	remove_files(a.path, a.disks);
}

/*
 * Legs full of unrelated bytes, no nosync: the resync makes every row's
 * parity agree while a workload reads and writes (rows it has not reached
 * take reconstruct-writes); then the parity is right everywhere and the
 * data is the model.
 */
static void test_resync_under_io(void)
{
	struct array a = { 6, 5, "left-symmetric", 65536, { 0 } };
	struct workload w = { .nr_ops = 1500, .pct_read = 40, .pct_write = 55, .pct_flush = 5,
			      .seed = 21, .max_bytes = 200704 };
	struct ubt_tree *tree;

	make_junk_legs(&a, "s");
	tree = build(spec_of(&a, ""));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid6_left-symmetric 5 aaaaa 0/8192 resync 0 0 -");
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	CU_ASSERT_EQUAL(model_read_device(tree, w.model, w.bytes), 0);
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	settle(tree, w.bytes);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid6_left-symmetric 5 AAAAA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
	free(w.model);
	remove_files(a.path, a.disks);
}

static void fill_seq(uint8_t *buf, const struct func_step *s)
{
	uint64_t i;

	for (i = 0; i < s->len; i++)
		buf[i] = (uint8_t)(s->seq * 131 + i * 7 + s->fill);
}

/*
 * Rows the resync has not reached hold parity that means nothing: a write
 * there must compute parity afresh (reconstruct-write), not fold a change
 * into it, though on six legs folding would read less.  With the resync
 * frozen, small writes to chunks of leg 0, then
 * leg 0 failed: reading them back rebuilds each from the others and the
 * parity those writes made.
 */
static void test_unsynced_rows_take_rcw(void)
{
	struct array a = { 5, 6, "left-symmetric", 16384, { 0 } };
	const struct raid_layout_name *l = raid_layout_find(5, "left-symmetric");
	struct raid_geom g = { .level = 5, .algo = l->algo, .disks = 6, .data = 5, .chunk = 32 };
	struct func_step steps[24];
	uint8_t back[12][4096];
	struct ubt_tree *tree;
	unsigned int i, n = 0;
	uint64_t chunk, row;

	make_junk_legs(&a, "u");
	tree = build(spec_of(&a, ""));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(func_message(tree, "0", "frozen", err, sizeof(err)), 0);
	/* 4K at the middle of twelve chunks that leg 0 holds, in different rows. */
	for (chunk = 0; n < 12; chunk += 5)
		if (raid_chunk_disk(&g, chunk, &row) == 0)
			steps[n++] = (struct func_step){ .op = UBT_OP_WRITE, .off = chunk * 16384 + 8192,
							 .len = 4096, .seq = n, .fill = 3 };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, n, fill_seq), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 0", err, sizeof(err)), 0);
	for (i = 0; i < 12; i++)
		steps[i] = (struct func_step){ .op = UBT_OP_READ, .off = steps[i].off, .len = 4096,
					       .read_into = back[i], .seq = steps[i].seq, .fill = 3 };
	CU_ASSERT_EQUAL(func_run_steps(tree, steps, 12, fill_seq), 0);
	for (i = 0; i < 12; i++) {
		uint8_t want[4096];

		fill_seq(want, &steps[i]);
		CU_ASSERT(!memcmp(back[i], want, 4096));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(func_status(tree, "0"), " Daaaaa 0/8192 frozen "));
	ubt_tree_free(tree);
	remove_files(a.path, a.disks);
}

/* Run the workload while another thread sends `words` 20 ms in. */
static void run_with_message(struct ubt_tree *tree, struct workload *w, const char *words)
{
	struct func_later m = { .tree = tree, .ref = "0", .words = words };

	func_message_later(&m);
	CU_ASSERT_EQUAL(run(tree, w, 16), 0);
	func_message_join(&m);
	if (m.ret)
		fprintf(stderr, "\n  %s: %s\n", words, m.err);
	CU_ASSERT_EQUAL(m.ret, 0);
	CU_ASSERT(m.during_io);
	CU_ASSERT_EQUAL(w->errors, 0);
}

/*
 * Rebuilding while model-checked I/O runs: a failed leg replaced by a new
 * file (raid5), taken back in place (raid5), two failed legs recovered at
 * once (raid6).  No error, reads right throughout; then every leg, the new
 * file in its place, holds the model and parity that agrees.
 */
static void test_rebuild_under_io(void)
{
	static const struct { unsigned int level, disks; const char *fail, *words; } cases[] = {
		{ 5, 4, "2", "replace 2 NEW" },
		{ 5, 4, "1", "replace 1" },
		{ 6, 5, "0 3", "recover" },
	};
	unsigned int c;

	for (c = 0; c < UBT_ARRAY_SIZE(cases); c++) {
		struct array a = { cases[c].level, cases[c].disks, "left-symmetric", 32768, { 0 } };
		struct workload w = { .nr_ops = 3000, .pct_read = 45, .pct_write = 50,
				      .pct_flush = 5, .seed = 51 + c, .max_bytes = 98304 };
		char words[600], *fresh = NULL, want[128];
		struct ubt_tree *tree;
		uint32_t lost;

		tree = run_then_fail(&a, "b", &w, cases[c].fail, &lost);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		/* Writes while the leg is out: the rebuild must bring them back. */
		w.issued = w.completed = 0;
		w.seed += 100;
		CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
		snprintf(words, sizeof(words), "%s", cases[c].words);
		if (strstr(words, "NEW")) {
			fresh = func_make_file("r-bnew.img", LEG_BYTES);
			snprintf(words, sizeof(words), "replace 2 %s", fresh);
		}
		w.issued = w.completed = 0;
		w.seed += 100;
		w.nr_ops = 4000;
		run_with_message(tree, &w, words);
		settle(tree, w.bytes);
		snprintf(want, sizeof(want), "%s %u %s %u/%u idle 0 0 -",
			 a.level == 6 ? "raid6_left-symmetric" : "raid5_ls", a.disks,
			 a.disks == 4 ? "AAAA" : "AAAAA", 8192, 8192);
		CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), want);
		ubt_tree_free(tree);
		if (fresh) {
			unlink(a.path[2]);
			free(a.path[2]);
			a.path[2] = fresh;
		}
		CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
		free(w.model);
		remove_files(a.path, a.disks);
	}
}

/* Flip bytes of parity chunks behind the node's back: sectors touched, distinct. */
static unsigned int corrupt_parity(const struct array *a, unsigned int rows)
{
	const struct raid_layout_name *l = raid_layout_find(a->level, a->layout);
	struct raid_geom g = { .level = a->level, .algo = l->algo, .disks = a->disks,
			       .data = a->disks - (a->level == 6 ? 2 : 1), .chunk = a->chunk >> 9 };
	unsigned int r, n = 0;

	for (r = 1; r < rows * 5; r += 5) {
		struct raid_row row;
		uint8_t b;
		FILE *f;
		long off;

		raid_row_map(&g, r, &row);
		/* P of row r, sector 3 of the chunk; for raid6 also Q's sector 3: one sector. */
		f = fopen(a->path[row.pd], "r+");
		off = (long)(r * a->chunk + 3 * 512 + 17);
		fseek(f, off, SEEK_SET);
		b = (uint8_t)fgetc(f);
		fseek(f, off, SEEK_SET);
		fputc(b ^ 0x5a, f);
		fclose(f);
		n++;
	}
	return n;
}

/* check counts the sectors whose parity disagrees; repair makes them agree. */
static void test_check_and_repair(void)
{
	struct array a = { 6, 5, "ddf-zero-restart", 65536, { 0 } };
	struct workload w = { .nr_ops = 1500, .pct_read = 40, .pct_write = 60, .seed = 71,
			      .max_bytes = 131072 };
	struct ubt_tree *tree;
	unsigned int bad;
	char want[128];

	make_legs(&a, "k");
	tree = build(spec_of(&a, ", nosync"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "check", err, sizeof(err)), 0);
	settle(tree, w.bytes);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid6_zr 5 AAAAA 8192/8192 idle 0 0 -");
	bad = corrupt_parity(&a, 9);
	CU_ASSERT_EQUAL(func_message(tree, "0", "check", err, sizeof(err)), 0);
	settle(tree, w.bytes);
	/* md's unit: 8 sectors per 4 KiB page that disagrees. */
	snprintf(want, sizeof(want), "raid6_zr 5 AAAAA 8192/8192 idle %u 0 -", bad * 8);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), want);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), bad);	/* check writes nothing */
	CU_ASSERT_EQUAL(func_message(tree, "0", "repair", err, sizeof(err)), 0);
	settle(tree, w.bytes);
	/* dm-raid shows no count after a repair; a check after it finds none. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid6_zr 5 AAAAA 8192/8192 idle 0 0 -");
	CU_ASSERT_EQUAL(func_message(tree, "0", "check", err, sizeof(err)), 0);
	settle(tree, w.bytes);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid6_zr 5 AAAAA 8192/8192 idle 0 0 -");
	/* Refusals: a check needs every leg; nothing to recover while none failed. */
	CU_ASSERT_EQUAL(func_message(tree, "0", "recover", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6: no leg has failed: nothing to recover");
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 1", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "check", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6: check needs every leg (leg 1 has failed)");
	CU_ASSERT_EQUAL(func_message(tree, "0", "replace 0", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6: leg 0 has not failed");
	CU_ASSERT_EQUAL(func_message(tree, "0", "replace 7", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6: no leg 7 (legs are 0 to 4, or their name= labels)");
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 2", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "fail 3", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "0", "replace 3", err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6: leg 3 cannot be rebuilt: 3 legs lost, the parity covers 2");
	ubt_tree_free(tree);
	free(w.model);
	remove_files(a.path, a.disks);
}

/* Two queues on two threads, writing rows they share at the boundary. */
static void test_two_queues(void)
{
	struct array a = { 5, 4, "left-symmetric", 16384, { 0 } };
	struct workload w[2] = {
		{ .nr_ops = 1500, .pct_read = 40, .pct_write = 60, .seed = 3, .max_bytes = 40960 },
		{ .nr_ops = 1500, .pct_read = 40, .pct_write = 60, .seed = 4, .max_bytes = 40960 },
	};
	struct ubt_tree *tree;
	uint8_t *model;
	uint64_t bytes;

	make_legs(&a, "q");
	tree = build(spec_of(&a, ", nosync"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	bytes = array_bytes(&a);
	model = calloc(1, bytes);
	/* Halves that split a row: both queues' heads meet on it. */
	w[0].model = w[1].model = model;
	w[0].bytes = bytes / 2 + 8192;
	w[1].start = w[0].bytes;
	w[1].bytes = bytes - w[0].bytes;
	CU_ASSERT_EQUAL(workload_run_parallel(tree, 16, w, 2), 0);
	CU_ASSERT_EQUAL(w[0].errors + w[1].errors, 0);
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, model, 0), 0);
	free(model);
	remove_files(a.path, a.disks);
}

static void expect_refused(const char *spec, const char *want)
{
	struct ubt_tree *tree = func_build(spec, 512, err, sizeof(err));

	CU_ASSERT_PTR_NULL(tree);
	if (tree)
		ubt_tree_free(tree);
	if (!strstr(err, want))
		fprintf(stderr, "\n  %s: '%s', wanted '%s'\n", spec, err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_construction_errors(void)
{
	struct array a = { 6, 4, "left-symmetric", 65536, { 0 } };
	char spec[2048];

	make_legs(&a, "c");
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s)", a.path[0], a.path[1], a.path[2]);
	expect_refused(spec, "3 legs: a raid6 has 4 to");
	snprintf(spec, sizeof(spec), "raid5(%s, %s)", a.path[0], a.path[1]);
	expect_refused(spec, "2 legs: a raid5 has 3 to");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, chunk=24K)", a.path[0], a.path[1], a.path[2]);
	expect_refused(spec, "chunk=24576 must be a power of two of at least 4K");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, chunk=2K)", a.path[0], a.path[1], a.path[2]);
	expect_refused(spec, "chunk=2048 must be a power of two");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, layout=ddf-zero-restart)", a.path[0],
		 a.path[1], a.path[2]);
	expect_refused(spec, "layout=ddf-zero-restart is not a raid5 layout (left-symmetric, ");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, chunk=8M)", a.path[0], a.path[1], a.path[2]);
	expect_refused(spec, "is smaller than one chunk");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s)", a.path[0], a.path[0], a.path[2]);
	expect_refused(spec, a.path[0]);
	remove_files(a.path, a.disks);
}

/* create raidN --file ... [--chunk] [--layout] [--nosync] [--log [--region]] */
static void test_shorthand(void)
{
	char spec[1024];

	CU_ASSERT_EQUAL(func_shorthand("raid6", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--chunk", "128K", "--file", "/x/c", "--file", "/x/d", "--layout",
			"ddf-N-restart", "--nosync", NULL }, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "raid6(/x/a, /x/b, /x/c, /x/d, chunk=128K, layout=ddf-N-restart, "
			       "nosync)");
	CU_ASSERT_EQUAL(func_shorthand("raid5", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", NULL }, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "raid5(/x/a, /x/b, /x/c)");
	CU_ASSERT_EQUAL(func_shorthand("raid6", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "raid6 needs --file PATH for each leg, at least 4");
	CU_ASSERT_EQUAL(func_shorthand("raid5", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", "--layout", "ddf-N-restart", NULL }, spec,
			sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "--layout ddf-N-restart is not a raid5 layout (see 'ublk-target "
			       "features')");
	CU_ASSERT_EQUAL(func_shorthand("raid5", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", "--log", "/x/log", "--region", "1M", NULL }, spec,
			sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "raid5(/x/a, /x/b, /x/c, log=/x/log, region=1M)");
	CU_ASSERT_EQUAL(func_shorthand("raid5", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", "--region", "1M", NULL }, spec, sizeof(spec), err,
			sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "--region sizes the log: give --log PATH too");
	CU_ASSERT_EQUAL(func_shorthand("raid6", (const char *const[]){ "--file", "/x/a", "--file",
			"/x/b", "--file", "/x/c", "--file", "/x/d", "--journal", "/x/j", NULL }, spec,
			sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "raid6(/x/a, /x/b, /x/c, /x/d, journal=/x/j)");
}

/* dm-raid's table, both ways, and its refusals in its words. */
static void test_dm_raid_table(void)
{
	struct array a = { 5, 4, "left-symmetric", 65536, { 0 } };
	char table[2048], spec[2048];
	struct ubt_tree *tree;

	make_legs(&a, "t");
	/* 4 MiB legs, 3 data legs: 24576 sectors. */
	snprintf(table, sizeof(table), "0 24576 raid raid5_ls 2 128 sync 4 - %s - %s - %s - %s\n",
		 a.path[0], a.path[1], a.path[2], a.path[3]);
	CU_ASSERT_EQUAL(func_table_roundtrip(table, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "\n  %s\n", err);
	snprintf(table, sizeof(table), "0 24576 raid raid4 1 64 4 - %s - %s - %s - %s\n",
		 a.path[0], a.path[1], a.path[2], a.path[3]);
	CU_ASSERT_EQUAL(func_table_roundtrip(table, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s", table), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "raid4("));
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "chunk=32768, layout=parity-first, nosync)"));
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"), "raid4 4 AAAA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	snprintf(table, sizeof(table), "0 16384 raid raid6_zr 1 64 4 - %s - %s - %s - %s\n",
		 a.path[0], a.path[1], a.path[2], a.path[3]);
	CU_ASSERT_EQUAL(func_table_roundtrip(table, err, sizeof(err)), 0);
	/* rebuild, max_recovery_rate and region_size: to the node's keys, and back in dm-raid's order. */
	snprintf(table, sizeof(table), "0 24576 raid raid5_ls 7 128 rebuild 2 max_recovery_rate "
		 "2048 region_size 1024 4 - %s - %s - %s - %s\n", a.path[0], a.path[1], a.path[2],
		 a.path[3]);
	CU_ASSERT_EQUAL(func_table_roundtrip(table, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s", table), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "layout=left-symmetric, rebuild=2, resync_rate=2097152, "
					    "region=524288)"));
	snprintf(table, sizeof(table), "0 16384 raid raid6_zr 5 64 rebuild 3 rebuild 0 4 - %s - %s - "
		 "%s - %s\n", a.path[0], a.path[1], a.path[2], a.path[3]);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s", table), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "layout=ddf-zero-restart, rebuild=0+3)"));
	/* region_size 0: dm-raid's default, 4 MiB. */
	snprintf(table, sizeof(table), "0 24576 raid raid5_ls 3 64 region_size 0 4 - %s - %s - %s "
		 "- %s\n", a.path[0], a.path[1], a.path[2], a.path[3]);
	CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s", table), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(spec, "nosync, region=4194304)"));

#define REFUSED(want, fmt, ...)								\
	do {										\
		snprintf(table, sizeof(table), fmt, __VA_ARGS__);			\
		CU_ASSERT_EQUAL(func_table_spec(spec, sizeof(spec), err, sizeof(err), "%s",	\
						table), -EINVAL);			\
		if (!strstr(err, want))							\
			fprintf(stderr, "\n  %s: '%s'\n", table, err);			\
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));				\
	} while (0)

	REFUSED("raid: Invalid flags combination", "0 16384 raid raid6_zr 2 64 nosync 4 - %s - %s "
		"- %s - %s", a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: Unrecognised raid_type", "0 16384 raid raid5 1 64 4 - %s - %s - %s - %s",
		a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: Chunk size must be a power of 2", "0 24576 raid raid5_ls 1 96 4 - %s - %s "
		"- %s - %s", a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: Chunk size value is too small", "0 24576 raid raid5_ls 1 4 4 - %s - %s - %s "
		"- %s", a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: sync and nosync are mutually exclusive", "0 24576 raid raid5_ls 3 64 sync "
		"nosync 4 - %s - %s - %s - %s", a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: Target length not divisible by number of data devices", "0 24577 raid "
		"raid5_ls 1 64 4 - %s - %s - %s - %s", a.path[0], a.path[1], a.path[2], a.path[3]);
	REFUSED("raid: Insufficient number of devices", "0 24576 raid raid6_zr 1 64 2 - %s - %s",
		a.path[0], a.path[1]);
	REFUSED("raid: Unable to parse RAID parameter", "0 24576 raid raid5_ls 3 64 bogus 1 4 - %s "
		"- %s - %s - %s", a.path[0], a.path[1], a.path[2], a.path[3]);
#define P4 a.path[0], a.path[1], a.path[2], a.path[3]
	REFUSED("raid: Invalid rebuild index given", "0 24576 raid raid5_ls 3 64 rebuild 4 4 - %s "
		"- %s - %s - %s", P4);
	REFUSED("raid: rebuild for this index already given", "0 24576 raid raid5_ls 5 64 rebuild 1 "
		"rebuild 1 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Bad numerical argument given in raid params", "0 24576 raid raid5_ls 3 64 "
		"rebuild x 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: sync/nosync and rebuild are mutually exclusive", "0 24576 raid raid5_ls 4 64 "
		"rebuild 1 nosync 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Drive designated for rebuild not specified", "0 24576 raid raid5_ls 3 64 "
		"rebuild 1 4 - %s - - - %s - %s", a.path[0], a.path[2], a.path[3]);
	REFUSED("raid: Only one region_size argument pair allowed", "0 24576 raid raid5_ls 5 64 "
		"region_size 128 region_size 128 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Supplied region size is too large", "0 24576 raid raid5_ls 3 64 region_size "
		"32768 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Supplied region size is too small", "0 25165824 raid raid5_ls 3 64 "
		"region_size 8 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Region size is not a power of 2", "0 24576 raid raid5_ls 3 64 region_size "
		"192 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Region size is smaller than the chunk size", "0 24576 raid raid5_ls 3 64 "
		"region_size 32 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: max_recovery_rate out of range", "0 24576 raid raid5_ls 3 64 "
		"max_recovery_rate -1 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: Only one max_recovery_rate argument pair allowed", "0 24576 raid raid5_ls 5 "
		"64 max_recovery_rate 10 max_recovery_rate 10 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: 'min_recovery_rate' is not supported here", "0 24576 raid raid5_ls 3 64 "
		"min_recovery_rate 10 4 - %s - %s - %s - %s", P4);
	REFUSED("raid: 'journal_dev' is not supported here", "0 24576 raid raid5_ls 3 64 "
		"journal_dev x 4 - %s - %s - %s - %s", P4);
	REFUSED("this node keeps no md superblock", "0 24576 raid raid5_ls 1 64 4 %s %s - %s - %s "
		"- %s", a.path[0], a.path[1], a.path[2], a.path[3], a.path[0]);
	REFUSED("raid: Cannot understand number of raid parameters", "0 24576 raid raid5_ls 9 64 4 "
		"- %s", a.path[0]);
	remove_files(a.path, a.disks);
}

/*
 * rebuild=: a leg whose content is wrong (zeroed here, a new disk) is
 * rebuilt from the others at start while the workload runs, and reads of
 * it meanwhile are rebuilt too; resync_rate= holds a pass to its rate.
 */
static void test_rebuild_at_start_and_rate(void)
{
	struct array a = { 6, 5, "left-symmetric", 16384, { 0 } };
	struct workload w = { .nr_ops = 800, .pct_read = 40, .pct_write = 55, .pct_flush = 5,
			      .seed = 91, .max_bytes = 65536 };
	struct ubt_tree *tree;
	uint32_t lost;
	char extra[64];
	struct timespec t0, t1;
	double secs;
	FILE *f;

	tree = run_then_fail(&a, "b", &w, "", &lost);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	ubt_tree_free(tree);
	/* Legs 1 and 3 lose everything behind the array's back. */
	CU_ASSERT_EQUAL(truncate(a.path[1], 0), 0);
	CU_ASSERT_EQUAL(truncate(a.path[1], (off_t)LEG_BYTES), 0);
	f = fopen(a.path[3], "r+");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fseek(f, 12345, SEEK_SET), 0);
	CU_ASSERT_EQUAL(fwrite("junk", 1, 4, f), 4);
	fclose(f);
	/* 4 MiB legs at 8 MiB/s: the recovery takes half a second at least. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tree = build(spec_of(&a, ", rebuild=1+3, resync_rate=8M"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"),
			       "raid6_left-symmetric 5 AaAaA 0/8192 recover 0 0 -");
	w.issued = w.completed = 0;
	w.seed = 92;
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	settle(tree, w.bytes);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs < 0.5)
		fprintf(stderr, "\n  recovery at 8M/s of 4 MiB legs took %.2f s\n", secs);
	CU_ASSERT(secs >= 0.5);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"),
			       "raid6_left-symmetric 5 AAAAA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
	/* Refusals, in one line each. */
	expect_refused(spec_of(&a, ", rebuild=1, nosync"),
		       "rebuild= takes the other legs as in sync and rebuilds the named ones: not "
		       "with nosync");
	expect_refused(spec_of(&a, ", rebuild=5"), "rebuild=5: there is no leg 5 (legs 0 to 4)");
	expect_refused(spec_of(&a, ", rebuild=2+2"), "rebuild=2+2: leg 2 given twice");
	expect_refused(spec_of(&a, ", rebuild=0+1+2"), "rebuild=0+1+2: 3 legs to rebuild, the "
		       "parity covers 2");
	expect_refused(spec_of(&a, ", rebuild=1+"), "rebuild=1+: leg numbers joined by '+'");
	snprintf(extra, sizeof(extra), ", rebuild=1, log=%s", a.path[4]);
	expect_refused(spec_of(&a, extra), "rebuild= is not with log= here");
	free(w.model);
	remove_files(a.path, a.disks);
}

struct slow_write {
	struct ubt_tree *tree;
	struct func_step step;
	int ret;
	pthread_t th;
};

static void *slow_write_run(void *arg)
{
	struct slow_write *sw = arg;
	sw->ret = func_run_steps_on(sw->tree, 0, &sw->step, 1, fill_seq);
	return NULL;
}

/*
 * The recovery's mark trails the rows its heads finished: a head held on
 * a row's window (a write there whose leg write is slow) keeps the mark
 * at that row while the others rebuild every row after it.  A small write
 * to such a row, whose Q is on the leg being rebuilt and P on a working
 * one, must not read-modify-write: it has not read Q (the leg counts as
 * unreadable above the mark) and the recovery will not come back to the
 * row.  raid6 of 5, left-symmetric: row 2 has P on leg 2, Q on 3, data on
 * 4, 0, 1; row 4 has P on leg 0, Q on 1, data on 2, 3, 4.
 */
static void test_write_behind_recovery_mark(void)
{
	struct array a = { 6, 5, "left-symmetric", 16384, { 0 } };
	struct slow_write sw = { 0 };
	struct func_step fast;
	struct ubt_tree *tree;
	uint8_t *model;
	char spec[2048];

	make_legs(&a, "m");
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s, %s, delay(%s, name=dl), chunk=16K, "
		 "layout=left-symmetric, rebuild=1)", a.path[0], a.path[1], a.path[2],
		 a.path[3], a.path[4]);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	model = calloc(1, array_bytes(&a));
	CU_ASSERT_EQUAL(func_message(tree, "0", "frozen", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "dl", "write 1500", err, sizeof(err)), 0);
	/* Row 2, data on leg 4: its window held 1.5 s. */
	sw.tree = tree;
	sw.step = (struct func_step){ .op = UBT_OP_WRITE, .off = (2 * 3 + 0) * 16384 + 4096,
				      .len = 4096, .seq = 1, .fill = 5 };
	CU_ASSERT_EQUAL_FATAL(pthread_create(&sw.th, NULL, slow_write_run, &sw), 0);
	usleep(300000);
	/* The recovery: its head for row 2 waits, the others rebuild the rows after it. */
	CU_ASSERT_EQUAL(func_message(tree, "0", "idle", err, sizeof(err)), 0);
	usleep(400000);
	/* Row 2 held: the mark is there, 64 of 8192 sectors. */
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"),
			       "raid6_left-symmetric 5 AaAAA 64/8192 recover 0 0 -");
	/*
	 * Row 4, rebuilt: the last 4K of its data on leg 2 and the first of
	 * that on leg 3, so that folding the change into P (leg 0) reads less
	 * than reading the rest of the data; Q is on leg 1.
	 */
	fast = (struct func_step){ .op = UBT_OP_WRITE, .off = (4 * 3 + 0) * 16384 + 12288,
				   .len = 8192, .seq = 2, .fill = 5 };
	CU_ASSERT_EQUAL(func_run_steps_on(tree, 1, &fast, 1, fill_seq), 0);
	pthread_join(sw.th, NULL);
	CU_ASSERT_EQUAL(sw.ret, 0);
	settle(tree, array_bytes(&a));
	CU_ASSERT_STRING_EQUAL(func_status(tree, "0"),
			       "raid6_left-symmetric 5 AAAAA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	fill_seq(model + sw.step.off, &sw.step);
	fill_seq(model + fast.off, &fast);
	CU_ASSERT_EQUAL(check_legs(&a, model, 0), 0);
	free(model);
	remove_files(a.path, a.disks);
}

/* ---- The write-intent log ------------------------------------------------ */

#define LOG_CHUNK	16384
#define LOG_REGION	65536		/* 4 rows */
#define LOG_REGIONS	(LEG_BYTES / LOG_REGION)

/*
 * The raid5 of these tests with key=state (key "log" or "journal", or NULL
 * for neither), each leg and the state behind `wrap` when given.
 */
static struct ubt_tree *build_raid5(const struct array *a, const char *key, const char *state,
				    const char *wrap, const char *extra)
{
	char spec[4096];
	struct ubt_str s = UBT_STR(spec, sizeof(spec));
	struct ubt_tree *tree;
	bool journal = key && !strcmp(key, "journal");
	unsigned int i;

	ubt_str_printf(&s, "raid5(");
	for (i = 0; i < a->disks; i++)
		ubt_str_printf(&s, wrap ? "%s(%s, name=v%u), " : "%.0s%s, ", wrap ? wrap : "",
			       a->path[i], i);
	/* A journal's entries are whole windows: room for many behind volatile. */
	if (key && wrap)
		ubt_str_printf(&s, "%s=%s(%s%s, name=vl), ", key, wrap, state,
			       journal ? ", cache=64M" : "");
	else if (key)
		ubt_str_printf(&s, "%s=%s, ", key, state);
	if (key && !journal)
		ubt_str_printf(&s, "region=%u, ", LOG_REGION);
	ubt_str_printf(&s, "chunk=%u%s, name=r)", LOG_CHUNK, extra);
	tree = build(spec);
	if (!tree)
		fprintf(stderr, "\n  %s: %s\n", spec, err);
	return tree;
}

/* The log file's bits: how many are set, and the set in `bits` when not NULL. */
static unsigned int log_bits(const char *log, uint8_t *bits)
{
	uint8_t *img = func_file_content(log, 4096);
	unsigned int i, n = 0;

	for (i = 0; i < LOG_REGIONS; i++) {
		bool on = img[512 + i / 8] >> (i % 8) & 1;

		n += on;
		if (bits)
			bits[i] = on;
	}
	free(img);
	return n;
}

/*
 * Rows whose parity disagrees with their data, read from the leg files;
 * those outside a region the log has set are counted in *unlogged.
 */
static unsigned int rows_out_of_sync(const struct array *a, const uint8_t *bits,
				     unsigned int *unlogged)
{
	const struct raid_layout_name *l = raid_layout_find(5, a->layout);
	struct raid_geom g = { .level = 5, .algo = l->algo, .disks = a->disks,
			       .data = a->disks - 1, .chunk = a->chunk >> 9 };
	uint64_t rows = LEG_BYTES / a->chunk, r;
	uint8_t *leg[8];
	void *bufs[8], *scratch[2], *zero;
	unsigned int i, bad = 0;
	size_t where;

	raid_parity_init();
	zero = aligned_alloc(4096, a->chunk);
	memset(zero, 0, a->chunk);
	scratch[0] = aligned_alloc(4096, a->chunk);
	scratch[1] = aligned_alloc(4096, a->chunk);
	for (i = 0; i < a->disks; i++)
		leg[i] = func_file_content(a->path[i], LEG_BYTES);
	for (r = 0; r < rows; r++) {
		struct raid_row row;

		raid_row_map(&g, r, &row);
		for (i = 0; i < a->disks; i++)
			bufs[i] = leg[i] + r * a->chunk;
		if (raid_parity_ok(&g, &row, bufs, a->chunk, scratch, zero, &where))
			continue;
		bad++;
		if (!bits[r * a->chunk / LOG_REGION])
			(*unlogged)++;
	}
	for (i = 0; i < a->disks; i++)
		free(leg[i]);
	free(scratch[0]);
	free(scratch[1]);
	free(zero);
	return bad;
}

struct written {
	uint64_t seq, sector, nr;
};

/*
 * Writes (small ones: read-modify-writes and reconstruct-writes), reads
 * (checked) and flushes one at a time over legs and log (or journal) each
 * behind volatile, then a crash of all of them at once, round after round.
 *   log:     what the legs hold afterwards has rows whose parity disagrees
 *            with the data -- the writes in flight at the crash -- and
 *            every one of them lies in a region the log has set; up again
 *            with the log, the resync visits those regions and a check
 *            then finds no parity wrong.
 *   journal: up again with the journal, its entries written to the legs
 *            again, no row anywhere disagrees.
 * Then every sector holds what the last flush covered or a write that came
 * after it -- with lose_leg, read with a random leg failed right after the
 * start, every lost chunk rebuilt from the others.
 */
/*
 * Under the sanitizers a third of the rounds: that pass looks for memory
 * errors, and the full count runs in the plain build.
 */
#ifdef __SANITIZE_ADDRESS__
#define CRASH_ROUNDS(n)	((n) / 3)
#else
#define CRASH_ROUNDS(n)	(n)
#endif

struct crash_opts {
	const char *words;	/* the crash message, %llu: a seed */
	unsigned int rounds;
	uint64_t seed;
	bool journal;		/* journal= rather than log= */
	bool lose_leg;		/* a leg fails right after the start that follows a crash */
	bool want_hole;		/* the log without a journal: some round must read wrong */
};

static void crash_rounds(const struct crash_opts *o)
{
	struct array a = { 5, 4, "left-symmetric", LOG_CHUNK, { 0 } };
	const uint64_t bytes = array_bytes(&a), sectors = bytes / 512;
	uint64_t *flushed = calloc(sectors, sizeof(*flushed)), *latest, seed = o->seed;
	struct written *since = malloc(4096 * sizeof(*since));
	struct func_step *st = calloc(400, sizeof(*st));
	uint8_t *buf = malloc(bytes), *rd = malloc(64 * 1024), bits[LOG_REGIONS];
	unsigned int round, i, n, nsince, bad = 0, torn = 0, out_of_sync = 0, unlogged = 0;
	unsigned int most_set = 0, wrong = 0;
	uint64_t seq = 1, s;
	struct ubt_tree *tree;
	char *state, words[64], ref[16];

	latest = calloc(sectors, sizeof(*latest));
	make_legs(&a, o->journal ? "j" : "k");
	state = func_make_file(o->journal ? "r-j-state.img" : "r-k-state.img",
			       o->journal ? 4 << 20 : 1 << 20);
	/* Seq 0 is the start: the whole array written as "write 0", parity made as it went. */
	tree = build_raid5(&a, o->journal ? "journal" : "log", state, NULL, ", nosync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (s = 0; s < bytes; s += 65536) {
		struct func_step all = { .op = UBT_OP_WRITE, .off = s, .len = 65536, .seq = 0 };

		CU_ASSERT_EQUAL(func_run_steps(tree, &all, 1, func_stamp), 0);
	}
	ubt_tree_free(tree);
	if (!o->journal)
		CU_ASSERT_EQUAL(log_bits(state, NULL), 0);	/* a clean stop clears every bit */
	for (round = 0; round < CRASH_ROUNDS(o->rounds) && !bad; round++) {
		tree = build_raid5(&a, o->journal ? "journal" : "log", state, "volatile", "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		n = 1 + (unsigned int)(func_rand(&seed) % 200);
		nsince = 0;
		for (i = 0; i < n; i++) {
			uint64_t pick = func_rand(&seed) % 100, len, off;

			len = (1 + func_rand(&seed) % 8) * 4096;
			off = func_rand(&seed) % ((bytes - len) / 4096) * 4096;
			st[i] = (struct func_step){ .off = off, .len = len };
			if (pick < 30) {
				st[i].op = UBT_OP_READ;
			} else if (pick < 94) {
				st[i].op = UBT_OP_WRITE;
				st[i].seq = seq++;
				st[i].flags = pick < 36 ? UBT_IO_FUA : 0;
			} else {
				st[i].op = UBT_OP_FLUSH;
				st[i].off = st[i].len = 0;
			}
		}
		for (i = 0; i < n; i++) {
			if (st[i].op == UBT_OP_READ)
				st[i].read_into = rd;
			CU_ASSERT_EQUAL(func_run_steps(tree, &st[i], 1, func_stamp), 0);
			if (st[i].op == UBT_OP_WRITE) {
				for (s = st[i].off / 512; s < (st[i].off + st[i].len) / 512; s++)
					latest[s] = st[i].seq;
				/* FUA makes the write safe on the legs it reached, not the row's parity. */
				if (nsince < 4096)
					since[nsince++] = (struct written){ st[i].seq, st[i].off / 512,
									   st[i].len / 512 };
			} else if (st[i].op == UBT_OP_FLUSH) {
				memcpy(flushed, latest, sectors * sizeof(*flushed));
				nsince = 0;
			} else {
				for (s = 0; s < st[i].len / 512; s++)
					if (func_stamped_seq(rd + s * 512, st[i].off / 512 + s) !=
					    (int64_t)latest[st[i].off / 512 + s])
						bad++;
			}
		}
		if (bad)
			fprintf(stderr, "\n  round %u: a read did not see the latest write\n", round);
		/* Every leg and the log (journal) lose power at once, each its own way. */
		for (i = 0; i <= a.disks; i++) {
			if (strchr(o->words, '%'))
				snprintf(words, sizeof(words), o->words,
					 (unsigned long long)func_rand(&seed));
			else
				snprintf(words, sizeof(words), "%s", o->words);
			if (i < a.disks)
				snprintf(ref, sizeof(ref), "v%u", i);
			else
				snprintf(ref, sizeof(ref), "vl");
			CU_ASSERT_EQUAL(func_message(tree, ref, words, err, sizeof(err)), 0);
		}
		func_run_steps(tree, NULL, 0, func_stamp);	/* the crash is written */
		ubt_tree_free(tree);
		if (o->journal) {
			unsigned int none = 0;

			/* The rows the crash tore; after the replay (at construction), none. */
			memset(bits, 1, sizeof(bits));
			torn += rows_out_of_sync(&a, bits, &none);
			tree = build_raid5(&a, "journal", state, NULL, "");
			CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
			ubt_tree_free(tree);
			out_of_sync += rows_out_of_sync(&a, bits, &none);
		} else {
			/* Every row left out of sync lies in a region the log has set. */
			most_set = UBT_MAX(most_set, log_bits(state, bits));
			out_of_sync += rows_out_of_sync(&a, bits, &unlogged);
		}
		/* Up again over what survived. */
		tree = build_raid5(&a, o->journal ? "journal" : "log", state, NULL, "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		if (o->lose_leg) {
			snprintf(words, sizeof(words), "fail %u", (unsigned int)(func_rand(&seed) % 4));
			CU_ASSERT_EQUAL(func_message(tree, "r", words, err, sizeof(err)), 0);
		} else {
			settle(tree, bytes);
			CU_ASSERT_EQUAL(func_message(tree, "r", "check", err, sizeof(err)), 0);
			settle(tree, bytes);
			if (!strstr(func_status(tree, "r"), " idle 0 0 -")) {
				fprintf(stderr, "\n  round %u: after the resync: %s\n", round,
					func_status(tree, "r"));
				bad++;
			}
		}
		CU_ASSERT_EQUAL(model_read_device(tree, buf, bytes), 0);
		for (s = 0; s < sectors; s++) {
			int64_t got = func_stamped_seq(buf + s * 512, s);
			bool ok = got >= 0 && (uint64_t)got == flushed[s];

			for (i = 0; i < nsince && !ok; i++)
				ok = got >= 0 && (uint64_t)got == since[i].seq && since[i].sector <= s &&
				     s < since[i].sector + since[i].nr && (uint64_t)got > flushed[s];
			if (!ok && (wrong++, bad++ < 5) && !o->want_hole)
				fprintf(stderr, "\n  round %u: sector %llu holds write %lld; flushed %llu\n",
					round, (unsigned long long)s, (long long)got,
					(unsigned long long)flushed[s]);
			if (got >= 0)
				flushed[s] = latest[s] = (uint64_t)got;
		}
		ubt_tree_free(tree);
		if (!o->journal && !o->lose_leg)
			CU_ASSERT_EQUAL(log_bits(state, NULL), 0);
	}
	if (o->journal)
		fprintf(stderr, "\n  %u rounds: %u rows torn by the crashes, %u out of sync after "
			"the replay; %u sectors read wrong%s\n", round, torn, out_of_sync, wrong,
			o->lose_leg ? " with a leg lost" : "");
	else
		fprintf(stderr, "\n  %u rounds: %u rows left out of sync by the crashes, %u outside "
			"the log's regions; at most %u of %llu regions set; %u sectors read wrong%s\n",
			round, out_of_sync, unlogged, most_set, (unsigned long long)LOG_REGIONS, wrong,
			o->lose_leg ? " with a leg lost" : "");
	if (o->want_hole) {
		/* What the log does not promise, shown: a leg lost before the resync. */
		CU_ASSERT(wrong > 0);
	} else {
		CU_ASSERT_EQUAL(bad, 0);
	}
	CU_ASSERT_EQUAL(unlogged, 0);
	if (o->journal) {
		CU_ASSERT(torn > 0);		/* the crashes did tear rows */
		CU_ASSERT_EQUAL(out_of_sync, 0);
	} else {
		CU_ASSERT(out_of_sync > 0);
		CU_ASSERT(most_set <= 16 + 2);	/* the log stayed small */
	}
	free(flushed);
	free(latest);
	free(since);
	free(st);
	free(buf);
	free(rd);
	unlink(state);
	free(state);
	remove_files(a.path, a.disks);
}

/*
 * The journal's life: a new one resyncs everything once and records that
 * the resync ended, so the next start (clean) resyncs nothing and replays
 * nothing; a raid6 journals its writes (P and Q) and reads back after two
 * legs fail; the refusals; no dm table.
 */
static void test_journal_life(void)
{
	struct array a = { 6, 5, "left-symmetric", LOG_CHUNK, { 0 } };
	struct workload w = { .nr_ops = 400, .pct_read = 30, .pct_write = 65, .pct_flush = 5,
			      .seed = 8, .max_bytes = 131072 };
	struct ubt_tree *tree;
	char *jr, spec[4096], table[4096];
	struct ubt_str s = UBT_STR(spec, sizeof(spec));
	unsigned int i;

	make_junk_legs(&a, "n");
	jr = func_make_file("r-n-journal.img", 4 << 20);
	ubt_str_printf(&s, "raid6(");
	for (i = 0; i < a.disks; i++)
		ubt_str_printf(&s, "%s, ", a.path[i]);
	ubt_str_printf(&s, "journal=%s, chunk=16K, name=r)", jr);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid6_left-symmetric 5 aaaaa 0/8192 resync 0 0 -");
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	CU_ASSERT_EQUAL(model_read_device(tree, w.model, w.bytes), 0);
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	settle(tree, w.bytes);
	CU_ASSERT_NOT_EQUAL(ubt_tree_to_table(tree, table, sizeof(table), err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "journal (journal=) has no dm-raid form"));
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
	/* Clean, resynced: nothing to do; two legs lost, it reads the model. */
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid6_left-symmetric 5 AAAAA 8192/8192 idle 0 0 -");
	CU_ASSERT_EQUAL(func_message(tree, "r", "fail 1", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(func_message(tree, "r", "fail 3", err, sizeof(err)), 0);
	w.seed = 9;
	CU_ASSERT_EQUAL(run(tree, &w, 16), 0);
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 1u << 1 | 1u << 3), 0);
	/* sync: everything again. */
	s = UBT_STR(spec, sizeof(spec));
	ubt_str_printf(&s, "raid6(%s, %s, %s, %s, %s, journal=%s, chunk=16K, sync, name=r)",
		       a.path[0], a.path[1], a.path[2], a.path[3], a.path[4], jr);
	tree = build(spec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid6_left-symmetric 5 aaaaa 0/8192 resync 0 0 -");
	ubt_tree_free(tree);
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s, %s, %s, journal=%s, chunk=32K)", a.path[0],
		 a.path[1], a.path[2], a.path[3], a.path[4], jr);
	expect_refused(spec, "journal: it was written for a raid6 of 5 legs, chunk 16384");
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s, %s, %s, journal=%s, log=%s)", a.path[0],
		 a.path[1], a.path[2], a.path[3], a.path[4], jr, jr);
	expect_refused(spec, "journal= and log= together");
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s, %s, journal=%s)", a.path[0], a.path[1],
		 a.path[2], a.path[3], a.path[3]);
	expect_refused(spec, "is leg 3's too");
	truncate(jr, 512 << 10);
	snprintf(spec, sizeof(spec), "raid6(%s, %s, %s, %s, %s, journal=%s)", a.path[0], a.path[1],
		 a.path[2], a.path[3], a.path[4], jr);
	expect_refused(spec, "the journal (524288 bytes) is too small");
	free(w.model);
	unlink(jr);
	free(jr);
	remove_files(a.path, a.disks);
}

/*
 * A journal started afresh over a node that held an earlier one (its
 * superblock zeroed, as the refusals advise) never replays the earlier
 * one's entries: only what the new one wrote comes back after a crash.
 */
static void test_journal_ignores_an_earlier_journal(void)
{
	struct array a = { 5, 4, "left-symmetric", LOG_CHUNK, { 0 } };
	const uint64_t bytes = array_bytes(&a);
	struct func_step st[40];
	struct ubt_tree *tree;
	uint8_t *buf = malloc(bytes), zero[4096] = { 0 };
	uint64_t seed = 77, s, i;
	unsigned int bad = 0;
	char *jr;
	FILE *f;

	make_legs(&a, "e");
	jr = func_make_file("r-e-journal.img", 16 << 20);
	/* An earlier journal: 40 writes, then a crash: its entries stay in the slots. */
	tree = build_raid5(&a, "journal", jr, "volatile", ", nosync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 40; i++)
		st[i] = (struct func_step){ .op = UBT_OP_WRITE, .seq = 1 + i,
					    .off = func_rand(&seed) % ((bytes - 32768) / 4096) * 4096,
					    .len = (1 + func_rand(&seed) % 8) * 4096 };
	CU_ASSERT_EQUAL(func_run_steps(tree, st, 40, func_stamp), 0);
	for (i = 0; i < a.disks; i++) {
		char ref[16];

		snprintf(ref, sizeof(ref), "v%llu", (unsigned long long)i);
		CU_ASSERT_EQUAL(func_message(tree, ref, "crash", err, sizeof(err)), 0);
	}
	func_run_steps(tree, NULL, 0, func_stamp);
	ubt_tree_free(tree);
	/* Its superblock zeroed; the array stamped afresh without a journal. */
	f = fopen(jr, "r+");
	CU_ASSERT_FATAL(f && fwrite(zero, 1, sizeof(zero), f) == sizeof(zero));
	fclose(f);
	tree = build_raid5(&a, NULL, NULL, NULL, ", nosync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (s = 0; s < bytes; s += 65536) {
		struct func_step all = { .op = UBT_OP_WRITE, .off = s, .len = 65536, .seq = 0 };

		CU_ASSERT_EQUAL(func_run_steps(tree, &all, 1, func_stamp), 0);
	}
	ubt_tree_free(tree);
	/* A new journal: one write, then a crash of the legs. */
	tree = build_raid5(&a, "journal", jr, "volatile", ", nosync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	st[0] = (struct func_step){ .op = UBT_OP_WRITE, .seq = 1000, .off = 8192, .len = 8192 };
	CU_ASSERT_EQUAL(func_run_steps(tree, st, 1, func_stamp), 0);
	for (i = 0; i < a.disks; i++) {
		char ref[16];

		snprintf(ref, sizeof(ref), "v%llu", (unsigned long long)i);
		CU_ASSERT_EQUAL(func_message(tree, ref, "crash", err, sizeof(err)), 0);
	}
	func_run_steps(tree, NULL, 0, func_stamp);
	ubt_tree_free(tree);
	/* Up again: the new write is back, nothing of the earlier journal is. */
	tree = build_raid5(&a, "journal", jr, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(model_read_device(tree, buf, bytes), 0);
	ubt_tree_free(tree);
	for (s = 0; s < bytes / 512; s++) {
		int64_t want = s >= 16 && s < 32 ? 1000 : 0, got = func_stamped_seq(buf + s * 512, s);

		if (got != want && bad++ < 3)
			fprintf(stderr, "\n  sector %llu holds write %lld, not %lld\n",
				(unsigned long long)s, (long long)got, (long long)want);
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(buf);
	unlink(jr);
	free(jr);
	remove_files(a.path, a.disks);
}

static void test_log_crash_random(void)
{
	crash_rounds(&(struct crash_opts){ "crash random %llu", 60, 11, false, false, false });
}

static void test_log_crash_torn(void)
{
	crash_rounds(&(struct crash_opts){ "crash torn %llu", 60, 12, false, false, false });
}

/* The log alone does not close the write hole: a leg lost after a crash reads wrong. */
static void test_log_leaves_the_write_hole(void)
{
	crash_rounds(&(struct crash_opts){ "crash torn %llu", 100, 13, false, true, true });
}

static void test_journal_crash_torn(void)
{
	crash_rounds(&(struct crash_opts){ "crash torn %llu", 60, 14, true, false, false });
}

/* The journal closes it: crashes, then a leg lost at once, and every sector reads right. */
static void test_journal_closes_the_write_hole(void)
{
	crash_rounds(&(struct crash_opts){ "crash random %llu", 60, 15, true, true, false });
	crash_rounds(&(struct crash_opts){ "crash torn %llu", 60, 16, true, true, false });
}

/*
 * The log's life: a new log resyncs everything once; a clean stop leaves
 * no bit set, so the next start resyncs nothing; `sync` resyncs all the
 * same; a log of another shape is refused; writes then a stop without
 * the clean write (the bits as a crash leaves them) resync only those
 * regions, and the dm table has no form for it.
 */
static void test_log_life(void)
{
	struct array a = { 5, 4, "left-symmetric", LOG_CHUNK, { 0 } };
	struct workload w = { .nr_ops = 300, .pct_read = 30, .pct_write = 70, .seed = 5,
			      .max_bytes = 65536 };
	struct ubt_tree *tree;
	char *log, spec[2048];

	make_junk_legs(&a, "l");
	log = func_make_file("r-l-log.img", 1 << 20);
	tree = build_raid5(&a, "log", log, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid5_ls 4 aaaa 0/8192 resync 0 0 -");
	w.bytes = array_bytes(&a);
	w.model = calloc(1, w.bytes);
	CU_ASSERT_EQUAL(model_read_device(tree, w.model, w.bytes), 0);
	CU_ASSERT_EQUAL(run(tree, &w, 8), 0);
	settle(tree, w.bytes);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid5_ls 4 AAAA 8192/8192 idle 0 0 -");
	CU_ASSERT_NOT_EQUAL(ubt_tree_to_table(tree, spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "write-intent log (log=) has no dm-raid form"));
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(check_legs(&a, w.model, 0), 0);
	CU_ASSERT_EQUAL(log_bits(log, NULL), 0);
	/* Clean: nothing to resync. */
	tree = build_raid5(&a, "log", log, NULL, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid5_ls 4 AAAA 8192/8192 idle 0 0 -");
	ubt_tree_free(tree);
	/* sync: everything. */
	tree = build_raid5(&a, "log", log, NULL, ", sync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid5_ls 4 aaaa 0/8192 resync 0 0 -");
	settle(tree, w.bytes);
	ubt_tree_free(tree);
	/* Another shape: refused, the log untouched. */
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, %s, log=%s, chunk=32K, region=64K)",
		 a.path[0], a.path[1], a.path[2], a.path[3], log);
	expect_refused(spec, "log: it was written for a raid5 of 4 legs, chunk 16384");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, %s, log=%s, chunk=16K, region=8K)",
		 a.path[0], a.path[1], a.path[2], a.path[3], log);
	expect_refused(spec, "region=8192 must be a power of two of at least the chunk");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, %s, journal=%s, region=64K)", a.path[0],
		 a.path[1], a.path[2], a.path[3], log);
	expect_refused(spec, "region= sizes the write-intent log, which a journal replaces");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, %s, log=%s, sync, nosync)", a.path[0],
		 a.path[1], a.path[2], a.path[3], log);
	expect_refused(spec, "sync and nosync contradict each other");
	snprintf(spec, sizeof(spec), "raid5(%s, %s, %s, %s, log=%s)", a.path[0], a.path[1],
		 a.path[2], a.path[3], a.path[1]);
	expect_refused(spec, "is leg 1's too");
	/* Writes into two regions, then a stop that cannot write the log clean (a leg gone). */
	{
		struct func_step steps[2] = {
			{ .op = UBT_OP_WRITE, .off = 0, .len = 4096, .seq = 1 },
			{ .op = UBT_OP_WRITE, .off = 3 * 16384 * 40 + 8192, .len = 4096, .seq = 2 },
		};
		uint8_t bits[LOG_REGIONS];

		tree = build_raid5(&a, "log", log, "volatile", "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		CU_ASSERT_EQUAL(func_run_steps(tree, steps, 2, func_stamp), 0);
		CU_ASSERT_EQUAL(func_message(tree, "v2", "crash", err, sizeof(err)), 0);
		func_run_steps(tree, NULL, 0, func_stamp);
		ubt_tree_free(tree);
		CU_ASSERT_EQUAL(log_bits(log, bits), 2);
		CU_ASSERT(bits[0] && bits[40 / 4]);
		tree = build_raid5(&a, "log", log, NULL, "");
		CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
		/* The resync passes over every other region: done at once. */
		settle(tree, w.bytes);
		CU_ASSERT_STRING_EQUAL(func_status(tree, "r"), "raid5_ls 4 AAAA 8192/8192 idle 0 0 -");
		ubt_tree_free(tree);
	}
	free(w.model);
	unlink(log);
	free(log);
	remove_files(a.path, a.disks);
}

UT_MAIN("raid_inproc", UT(test_layouts_place_data_like_md), UT(test_degraded_service),
	UT(test_leg_errors_from_below), UT(test_too_many_failures_fail_io),
	UT(test_resync_under_io), UT(test_unsynced_rows_take_rcw), UT(test_rebuild_under_io),
	UT(test_check_and_repair), UT(test_two_queues), UT(test_sequential_writes_merge), UT(test_rebuild_at_start_and_rate), UT(test_write_behind_recovery_mark), UT(test_construction_errors), UT(test_shorthand),
	UT(test_dm_raid_table), UT(test_log_life), UT(test_journal_life),
	UT(test_journal_ignores_an_earlier_journal), UT(test_log_crash_random),
	UT(test_log_crash_torn), UT(test_log_leaves_the_write_hole), UT(test_journal_crash_torn),
	UT(test_journal_closes_the_write_hole))
