// SPDX-License-Identifier: MIT
/*
 * Functional tests of the file target through the in-process frontend:
 * real files, a real io_uring, no kernel ublk.  Every read is compared
 * with a model, and the backing file itself is read back at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ut.h"
#include "core/config/config.h"
#include "func_util.h"

#define DEV_BYTES	(64ULL << 20)

static char err[512];

static struct ubt_tree *build(const char *fmt, const char *path, uint32_t lbs)
{
	char spec[4200];
	struct ubt_tree *tree;

	snprintf(spec, sizeof(spec), fmt, path);
	tree = func_build(spec, lbs, err, sizeof(err));
	if (!tree)
		fprintf(stderr, "\n  build '%s': %s\n", spec, err);
	return tree;
}

/* Compare bytes [file_off, +len) of path with model. */
static bool file_matches(const char *path, uint64_t file_off, const uint8_t *model, uint64_t len)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_RDONLY);
	bool same;

	same = buf && fd >= 0 && pread(fd, buf, len, (off_t)file_off) == (ssize_t)len &&
	       !memcmp(buf, model, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

static void report(const struct workload *w)
{
	if (w->errors)
		fprintf(stderr, "\n  %u errors, first: %s\n", w->errors, w->first_error);
}

/* Random reads, writes, flushes, FUA, discards and zeroes on file(path ...) built from fmt. */
static void run_mix_path(char *path, const char *fmt, uint32_t lbs, unsigned int pct_discard)
{
	struct ubt_tree *tree = build(fmt, path, lbs);
	struct workload w = {
		.bytes = DEV_BYTES, .nr_ops = 3000, .pct_read = 40,
		.pct_write = 50 - pct_discard, .pct_flush = 5, .pct_discard = pct_discard / 2,
		.pct_zeroes = 5 + pct_discard - pct_discard / 2, .pct_fua = 10,
		.max_bytes = 256 * 1024, .align = lbs,
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_bytes(tree), DEV_BYTES);
	w.model = calloc(1, DEV_BYTES);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 32, &w), 0);
	report(&w);
	CU_ASSERT_EQUAL(w.completed, 3000);
	CU_ASSERT(w.reads_checked > 1000);
	CU_ASSERT(w.by_op[UBT_OP_FLUSH] > 0);
	CU_ASSERT(w.by_op[UBT_OP_WRITE_ZEROES] > 0);
	/* What the device says must also be what the file holds. */
	CU_ASSERT_TRUE(file_matches(path, 0, w.model, DEV_BYTES));
	ubt_tree_free(tree);
	free(w.model);
	unlink(path);
	free(path);
}

static void run_mix_spec(const char *name, const char *fmt, uint32_t lbs, unsigned int pct_discard)
{
	run_mix_path(func_make_file(name, DEV_BYTES), fmt, lbs, pct_discard);
}

static void run_mix(const char *name, uint32_t lbs, unsigned int pct_discard, bool buffered)
{
	run_mix_spec(name, buffered ? "file('%s', buffered)" : "file('%s')", lbs, pct_discard);
}

static void test_random_io_matches_model(void)
{
	run_mix("rand.img", 512, 0, false);
}

static void test_discard_and_zeroes_read_back_zero(void)
{
	run_mix("discard.img", 512, 20, false);
}

static void test_4k_logical_blocks(void)
{
	run_mix("lbs4k.img", 4096, 10, false);
}

static void test_buffered_mode(void)
{
	run_mix("buffered.img", 512, 10, true);
}

/*
 * A file on tmpfs: where the kernel's tmpfs cannot say "would block"
 * (6.18 and older), io_uring serves it from its worker threads only, and
 * the leaf hands its reads and writes over at once (ubt_leaf_rw_wq), many
 * in flight on several workers.  The data must come out the same.
 */
static void test_file_in_memory_matches_model(void)
{
	char *path;
	struct statfs sfs;
	int fd;

	if (statfs("/dev/shm", &sfs) || (unsigned long)sfs.f_type != TMPFS_MAGIC) {
		fprintf(stderr, "\n  not run: /dev/shm is not a tmpfs here\n");
		return;
	}
	if (asprintf(&path, "/dev/shm/ubt-file-inproc.%d", (int)getpid()) < 0)
		exit(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0 && !ftruncate(fd, (off_t)DEV_BYTES));
	close(fd);
	run_mix_path(path, "file('%s')", 512, 10);
}

static void run_two_queues(const char *name, const char *fmt, uint64_t seed);

/*
 * engine=aio: reads and writes through io_submit, completions through the
 * eventfd the ring watches; flush, discard and zeroes stay on the ring.
 */
static void test_aio_engine_matches_model(void)
{
	run_mix_spec("aio.img", "file('%s', engine=aio)", 512, 10);
	run_mix_spec("aio4k.img", "file('%s', engine=aio)", 4096, 0);
	run_mix_spec("aiobuf.img", "file('%s', buffered, engine=aio)", 512, 10);
}

static void test_aio_engine_two_queues(void)
{
	run_two_queues("aio2q.img", "file('%s', engine=aio)", 2000);
}

static void test_engine_choice(void)
{
	char *path = func_make_file("badengine.img", 1 << 20);
	struct ubt_tree *tree;

	/* io_uring leaves leave the data alone: the device may be zero copy. */
	tree = build("file('%s')", path, 512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_FALSE(tree->want_aio);
	CU_ASSERT_PTR_NULL(tree->data_node);
	ubt_tree_free(tree);
	/* An AIO leaf needs the data in our memory: never zero copy. */
	tree = build("file('%s', engine=aio)", path, 512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_TRUE(tree->want_aio);
	CU_ASSERT_PTR_EQUAL(tree->data_node, tree->root);
	ubt_tree_free(tree);

	CU_ASSERT_PTR_NULL(build("file('%s', engine=libaio)", path, 512));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "file: engine=libaio: the engines are uring and aio"));
	unlink(path);
	free(path);
}

static void test_offset_and_size_map_into_the_file(void)
{
	char *path = func_make_file("window.img", 16 << 20);
	struct ubt_tree *tree = build("file('%s', offset=1M, size=8M)", path, 512);
	struct workload w = {
		.bytes = 8 << 20, .nr_ops = 800, .pct_read = 30, .pct_write = 70,
	};
	uint8_t *zeros = calloc(1, 8 << 20);

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(ubt_tree_bytes(tree), 8 << 20);
	w.model = calloc(1, 8 << 20);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 16, &w), 0);
	report(&w);
	CU_ASSERT_TRUE(file_matches(path, 1 << 20, w.model, 8 << 20));
	/* Nothing outside the window was touched. */
	CU_ASSERT_TRUE(file_matches(path, 0, zeros, 1 << 20));
	CU_ASSERT_TRUE(file_matches(path, 9 << 20, zeros, 7 << 20));
	ubt_tree_free(tree);
	free(w.model);
	free(zeros);
	unlink(path);
	free(path);
}

static void test_readonly_refuses_writes(void)
{
	char *path = func_make_file("ro.img", 1 << 20);
	struct ubt_tree *tree = build("file('%s', readonly)", path, 512);
	struct workload w = { .bytes = 1 << 20, .nr_ops = 50, .pct_write = 100 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_TRUE(tree->limits.read_only);
	w.model = calloc(1, 1 << 20);
	CU_ASSERT_EQUAL(workload_run(tree, 0, 4, &w), -EIO);
	CU_ASSERT_EQUAL(w.errors, 50);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.first_error, "result -30"));	/* -EROFS */
	ubt_tree_free(tree);
	free(w.model);
	unlink(path);
	free(path);
}

/* Two queues on two threads, each on its own half; then everything read back. */
static void run_two_queues(const char *name, const char *fmt, uint64_t seed)
{
	char *path = func_make_file(name, DEV_BYTES);
	struct ubt_tree *tree = build(fmt, path, 512);
	uint8_t *model = calloc(1, DEV_BYTES), *check = calloc(1, DEV_BYTES);
	struct workload w[2];
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	for (i = 0; i < 2; i++)
		w[i] = (struct workload){
			.model = model, .start = (uint64_t)i * DEV_BYTES / 2, .bytes = DEV_BYTES / 2,
			.nr_ops = 1500, .pct_read = 40, .pct_write = 55, .pct_flush = 5,
			.seed = seed + (uint64_t)i,
		};
	CU_ASSERT_EQUAL(workload_run_parallel(tree, 16, w, 2), 0);
	for (i = 0; i < 2; i++) {
		report(&w[i]);
		CU_ASSERT_EQUAL(w[i].completed, 1500);
	}
	/* Both halves, read back through a third pass, equal the shared model. */
	CU_ASSERT_EQUAL(model_read_device(tree, check, DEV_BYTES), 0);
	CU_ASSERT_EQUAL(memcmp(check, model, DEV_BYTES), 0);
	CU_ASSERT_TRUE(file_matches(path, 0, model, DEV_BYTES));
	ubt_tree_free(tree);
	free(model);
	free(check);
	unlink(path);
	free(path);
}

static void test_two_queues_in_parallel(void)
{
	run_two_queues("twoq.img", "file('%s')", 1000);
}

/*
 * A stack built to succeed a running one (reload): a second stack over a
 * file the first one holds is refused, unless built as its successor; the
 * successor sees what the first wrote and keeps the claim once the first
 * is gone; a successor that cannot serve the device is refused.
 */
static void test_successor_shares_the_files(void)
{
	char *path = func_make_file("next.img", 4 << 20), spec[4200];
	struct workload w = { .bytes = 4 << 20, .nr_ops = 300, .pct_read = 40,
				 .pct_write = 60, .seed = 77 };
	struct ubt_tree *live = build("file('%s')", path, 512), *next = NULL;
	struct ubt_tree_opts o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	w.model = calloc(1, 4 << 20);
	CU_ASSERT_EQUAL(workload_run(live, 0, 8, &w), 0);
	snprintf(spec, sizeof(spec), "linear(file('%s'), size=2M)", path);
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is in use by another ublk-target device"));
	snprintf(spec, sizeof(spec), "file('%s', readonly)", path);
	CU_ASSERT_EQUAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot serve this device: it is read-only"));
	snprintf(spec, sizeof(spec), "linear(file('%s'), size=2M)", path);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ubt_tree_bytes(next), 2 << 20);
	o = live->opts;
	CU_ASSERT_EQUAL(memcmp(&o, &next->opts, sizeof(o)), 0);
	ubt_tree_free(live);
	/* The claim went over with the successor: a third stack is still refused. */
	CU_ASSERT_PTR_NULL(func_build(spec, 512, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is in use by another ublk-target device"));
	/* The successor reads what the first one wrote. */
	w.bytes = 2 << 20;
	w.nr_ops = 200;
	w.seed = 78;
	CU_ASSERT_EQUAL(workload_run(next, 0, 8, &w), 0);
	CU_ASSERT_EQUAL(w.errors, 0);
	ubt_tree_free(next);
	free(w.model);
	unlink(path);
	free(path);
}

/* Can a description of its own take path's lock of this kind now? */
static bool lockable(const char *path, int kind)
{
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && !flock(fd, kind | LOCK_NB);

	close(fd);
	return ok;
}

/*
 * A successor that writes a file the running stack only reads makes the
 * running description's shared lock exclusive.  Refused (another reader),
 * the shared lock is back at once; built but never serving, the lock goes
 * back to shared when the successor goes; serving, it stays exclusive.
 */
static void test_successor_lock_upgrades(void)
{
	char *path = func_make_file("upgrade.img", 4 << 20), spec[4200];
	struct ubt_tree *live = build("file('%s', readonly)", path, 512), *next = NULL;
	int reader = open(path, O_RDONLY);

	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	CU_ASSERT_FATAL(reader >= 0 && !flock(reader, LOCK_SH | LOCK_NB));
	snprintf(spec, sizeof(spec), "concat(file('%s', readonly, size=1M), file('%s', offset=1M))",
		 path, path);
	CU_ASSERT_EQUAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is in use by another ublk-target device"));
	CU_ASSERT_PTR_NULL(strstr(err, "that writes it"));
	close(reader);
	CU_ASSERT(!lockable(path, LOCK_EX));	/* the running stack still holds it */
	CU_ASSERT(lockable(path, LOCK_SH));
	/* Nobody else now: the successor builds, exclusive; gone unused, back to shared. */
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), 0);
	CU_ASSERT(!lockable(path, LOCK_SH));
	ubt_tree_free(next);
	CU_ASSERT(lockable(path, LOCK_SH));
	CU_ASSERT(!lockable(path, LOCK_EX));
	/* Taken into service, it keeps its exclusive lock when the first stack goes. */
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build_next(live, spec, NULL, &next, err, sizeof(err)), 0);
	claims_adopt(next);
	ubt_tree_free(live);
	CU_ASSERT(!lockable(path, LOCK_SH));
	ubt_tree_free(next);
	CU_ASSERT(lockable(path, LOCK_EX));
	unlink(path);
	free(path);
}

/*
 * A file-only tree's slot is one ubt_io and the leaf's state: the AIO
 * engine keeps its iocbs itself, so a leaf's per-I/O area holds none
 * (with one, the slot was 192 bytes).
 */
static void test_slot_holds_no_iocb(void)
{
	char *path = func_make_file("slot.img", 1 << 20);
	struct ubt_tree *tree = func_build_fmt("file(%s, engine=aio)", path, err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(sizeof(struct ubt_leaf_io), 24);
	CU_ASSERT_EQUAL(tree->slot_size, 128);
	CU_ASSERT_EQUAL(tree->slots_per_tag, 1);
	ubt_tree_free(tree);
	unlink(path);
	free(path);
}

static void test_file_shorthand(void)
{
	char spec[256];

	CU_ASSERT_EQUAL(func_shorthand("file", (const char *const[]){ "--file", "a b.img", "--offset",
			"1M", "--size", "2G", "--readonly", "--buffered", NULL }, spec, sizeof(spec),
			err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "file('a b.img', offset=1M, size=2G, readonly, buffered)");
	CU_ASSERT_EQUAL(func_shorthand("file", (const char *const[]){ "--file", "it's.img", NULL },
			spec, sizeof(spec), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(spec, "file(\"it's.img\")");
	CU_ASSERT_EQUAL(func_shorthand("file", (const char *const[]){ "--file", "a", "--file", "b",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "file needs exactly one --file PATH");
	CU_ASSERT_EQUAL(func_shorthand("file", (const char *const[]){ "--file", "a", "--chunk", "64K",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "file takes only --file, --offset, --size, --readonly and "
			       "--buffered");
	CU_ASSERT_EQUAL(func_shorthand("file", (const char *const[]){ "--file", "a", "--offset", "x",
			NULL }, spec, sizeof(spec), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--offset: 'x' is not a size"));
}

/*
 * The path is the file's own argument (ubt_args_path): the tree's spec has
 * it absolute, as the folder it was given in makes it, links kept.
 */
static void test_path_made_absolute(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 1 << 20 };
	char *path = func_make_file("abs.img", 1 << 20), dir[4096], spec[8192], want[8192];
	struct ubt_tree *tree;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	o.base_dir = dir;
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("stripe(./abs.img, file(abs.img, offset=512K), chunk=4K)",
					     &o, &tree, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("concat(./abs.img, linear(abs.img, offset=512K))", &o,
					     &tree, err, sizeof(err)), 0);
	ubt_tree_spec(tree, spec, sizeof(spec));
	snprintf(want, sizeof(want), "concat(%s, linear(%s, offset=512K))", path, path);
	CU_ASSERT_STRING_EQUAL(spec, want);
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL_FATAL(ubt_tree_build("abs.img", &o, &tree, err, sizeof(err)), 0);
	ubt_tree_spec(tree, spec, sizeof(spec));
	CU_ASSERT_STRING_EQUAL(spec, path);
	ubt_tree_free(tree);
	unlink(path);
	free(path);
}

UT_MAIN("file_inproc", UT(test_random_io_matches_model), UT(test_discard_and_zeroes_read_back_zero),
	UT(test_4k_logical_blocks), UT(test_buffered_mode), UT(test_file_in_memory_matches_model),
	UT(test_offset_and_size_map_into_the_file),
	UT(test_readonly_refuses_writes), UT(test_two_queues_in_parallel),
	UT(test_aio_engine_matches_model), UT(test_aio_engine_two_queues), UT(test_engine_choice),
	UT(test_successor_shares_the_files), UT(test_successor_lock_upgrades),
	UT(test_file_shorthand), UT(test_path_made_absolute),
	UT(test_slot_holds_no_iocb))
