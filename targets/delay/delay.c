// SPDX-License-Identifier: MIT
/*
 * delay: requests to a child held for a while first, like device-mapper's
 * delay target, per class: reads, writes (with discards and write-zeroes)
 * and flushes.
 *
 *   delay(CHILD, read=MS, write=MS, flush=MS, write_to=NODE, flush_to=NODE)
 *   dm table: <dev> <offset> <delay> [<wdev> <woff> <wdelay> [<fdev> <foff> <fdelay>]]
 *
 * As in dm's three triples, each class inherits what is not given from
 * the one before it: write= defaults to read= (0), flush= to write=;
 * writes go to write_to (default CHILD), flushes to flush_to (default
 * write_to).  A delay of 0 passes requests straight through.
 *
 * A held request costs no thread: it is a TIMEOUT on its queue's ring, and
 * since one class has one delay, requests leave in the order they came.
 * Status (dm's): the reads, writes and flushes held right now.
 * Message: `read MS`, `write MS`, `flush MS` (pairs may be combined) set
 * new delays for requests arriving from then on.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/table.h"
#include "ubt/target.h"
#include "ubt/util.h"

enum delay_class { DELAY_READ, DELAY_WRITE, DELAY_FLUSH, DELAY_CLASSES };

static const char *const class_name[DELAY_CLASSES] = { "read", "write", "flush" };

struct delay_ctx {
	uint32_t ms[DELAY_CLASSES];	/* atomic: a message may change them */
	uint32_t held[DELAY_CLASSES];	/* atomic: requests waiting now */
	unsigned int child[DELAY_CLASSES];
};

struct delay_io {
	struct ubt_io_timer tm;
	enum delay_class cls;
};

static int delay_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct delay_ctx *dc;
	uint64_t ms[DELAY_CLASSES] = { 0 };
	unsigned int c;
	int ret;

	if (ubt_args_positional(args) != 1)
		return ubt_target_error(t, EINVAL, "takes exactly one child, e.g. "
					"delay(a.img, read=100, write=200)");
	for (c = 0; c < DELAY_CLASSES; c++) {
		ret = ubt_args_uint(t, args, class_name[c], &ms[c]);
		if (ret == -ENOENT)
			ms[c] = c ? ms[c - 1] : 0;
		else if (ret)
			return ret;
		if (ms[c] > UINT_MAX)
			return ubt_target_error(t, EINVAL, "%s=%llu is too large", class_name[c],
						(unsigned long long)ms[c]);
	}
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return ubt_target_error(t, ENOMEM, "out of memory");
	t->private = dc;
	for (c = 0; c < DELAY_CLASSES; c++)
		dc->ms[c] = (uint32_t)ms[c];
	ret = ubt_args_child(t, args, 0);
	if (!ret)
		ret = ubt_args_key_child(t, args, "write_to");
	if (ret && ret != -ENOENT)
		goto fail;
	dc->child[DELAY_WRITE] = ret ? 0 : t->nr_children - 1;
	ret = ubt_args_key_child(t, args, "flush_to");
	if (ret && ret != -ENOENT)
		goto fail;
	dc->child[DELAY_FLUSH] = ret ? dc->child[DELAY_WRITE] : t->nr_children - 1;
	/* The node is as long as the shortest of its children. */
	t->len = t->children[0]->len;
	for (c = 1; c < t->nr_children; c++)
		t->len = UBT_MIN(t->len, t->children[c]->len);
	return 0;
fail:
	free(dc);
	t->private = NULL;
	return ret;
}

static void delay_dtr(struct ubt_target *t)
{
	free(t->private);
}

/* Pass io on to the child of its class. */
static int delay_pass(struct ubt_io *io)
{
	struct delay_ctx *dc = io->t->private;
	struct delay_io *d = io->priv;

	return ubt_io_remap(io, io->t->children[dc->child[d->cls]],
			    io->op == UBT_OP_FLUSH ? 0 : io->sector);
}

static int delay_release(struct ubt_io *io)
{
	struct delay_ctx *dc = io->t->private;
	struct delay_io *d = io->priv;

	__atomic_fetch_sub(&dc->held[d->cls], 1, __ATOMIC_RELAXED);
	return delay_pass(io);
}

static int delay_map(struct ubt_target *t, struct ubt_io *io)
{
	struct delay_ctx *dc = t->private;
	struct delay_io *d = io->priv;
	uint32_t ms;

	d->cls = io->op == UBT_OP_READ ? DELAY_READ :
		 io->op == UBT_OP_FLUSH ? DELAY_FLUSH : DELAY_WRITE;
	ms = __atomic_load_n(&dc->ms[d->cls], __ATOMIC_RELAXED);
	if (!ms)
		return delay_pass(io);
	__atomic_fetch_add(&dc->held[d->cls], 1, __ATOMIC_RELAXED);
	ubt_io_after(io, &d->tm, (uint64_t)ms * 1000000u, delay_release);
	return 0;
}

/* The reads, writes and flushes held right now (dm's status). */
static int delay_status(struct ubt_target *t, char *buf, size_t len)
{
	struct delay_ctx *dc = t->private;

	return snprintf(buf, len, "%u %u %u",
			__atomic_load_n(&dc->held[DELAY_READ], __ATOMIC_RELAXED),
			__atomic_load_n(&dc->held[DELAY_WRITE], __ATOMIC_RELAXED),
			__atomic_load_n(&dc->held[DELAY_FLUSH], __ATOMIC_RELAXED));
}

/*
 * The triples dm would print, 1 to 3: a class that goes where the one
 * before it goes, with its delay, is left out, as dm leaves it out.
 */
static int delay_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	struct delay_ctx *dc = t->private;
	uint32_t ms[DELAY_CLASSES];
	unsigned int c, n = 1;

	for (c = 0; c < DELAY_CLASSES; c++)
		ms[c] = __atomic_load_n(&dc->ms[c], __ATOMIC_RELAXED);
	if (ms[DELAY_FLUSH] != ms[DELAY_WRITE] || dc->child[DELAY_FLUSH] != dc->child[DELAY_WRITE])
		n = 3;
	else if (ms[DELAY_WRITE] != ms[DELAY_READ] || dc->child[DELAY_WRITE])
		n = 2;
	ubt_table_printf(o, "delay");
	for (c = 0; c < n; c++) {
		if (ubt_table_print_dev(o, t->children[dc->child[c]]))
			return -EINVAL;
		ubt_table_printf(o, " %u", ms[c]);
	}
	return 0;
}

/* dm's line: <dev> <offset> <delay> [<wdev> <woff> <wdelay> [<fdev> <foff> <fdelay>]] */
static int delay_table_parse(struct ubt_table_line *l)
{
	char **argv = l->argv;
	unsigned int i, n = l->argc / 3;
	uint64_t ms;

	if (l->argc != 3 && l->argc != 6 && l->argc != 9)
		return ubt_table_fail(l, "delay: Requires exactly 3, 6 or 9 arguments");
	ubt_table_put(l, "delay(");
	if (ubt_table_put_dev(l, argv[0], argv[1], l->len, "delay: Invalid device sector"))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (ubt_parse_uint(argv[3 * i + 2], &ms) || ms > UINT32_MAX)
			return ubt_table_fail(l, "delay: Invalid delay");
		ubt_table_put(l, ", %s=%llu", class_name[i], (unsigned long long)ms);
	}
	for (i = 1; i < n; i++) {
		/* A triple naming the device of the one before it shares that child. */
		if (!strcmp(argv[3 * i], argv[3 * (i - 1)]) &&
		    !strcmp(argv[3 * i + 1], argv[3 * (i - 1) + 1]))
			continue;
		ubt_table_put(l, ", %s_to=", class_name[i]);
		if (ubt_table_put_dev(l, argv[3 * i], argv[3 * i + 1], l->len,
				      "delay: Invalid device sector"))
			return -EINVAL;
	}
	ubt_table_put(l, ")");
	return 0;
}

static const char *const delay_dm_names[] = { "delay", NULL };

static int delay_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct delay_ctx *dc = t->private;
	uint32_t ms[DELAY_CLASSES];
	unsigned int c;
	int i;

	if (argc < 2 || argc % 2) {
		snprintf(out, len, "delay: want CLASS MS [CLASS MS...] with CLASS read, write or flush");
		return -EINVAL;
	}
	for (c = 0; c < DELAY_CLASSES; c++)
		ms[c] = __atomic_load_n(&dc->ms[c], __ATOMIC_RELAXED);
	for (i = 0; i < argc; i += 2) {
		uint64_t v;

		for (c = 0; c < DELAY_CLASSES; c++)
			if (!strcmp(argv[i], class_name[c]))
				break;
		if (c == DELAY_CLASSES) {
			snprintf(out, len, "delay: unknown class '%s' (want read, write or flush)",
				 argv[i]);
			return -EINVAL;
		}
		if (ubt_parse_uint(argv[i + 1], &v) || v > UINT_MAX) {
			snprintf(out, len, "delay: %s %s is not a whole number of milliseconds",
				 argv[i], argv[i + 1]);
			return -EINVAL;
		}
		ms[c] = (uint32_t)v;
	}
	for (c = 0; c < DELAY_CLASSES; c++)
		__atomic_store_n(&dc->ms[c], ms[c], __ATOMIC_RELAXED);
	if (len)
		out[0] = '\0';
	return 0;
}

static struct ubt_target_type delay_target = {
	.name = "delay",
	.version = { 1, 0, 0 },
	.usage = "delay(CHILD, read=MS, write=MS, flush=MS, write_to=NODE, flush_to=NODE)",
	.per_io_size = sizeof(struct delay_io),
	.max_fanout = 1,
	.ctr = delay_ctr,
	.dtr = delay_dtr,
	.map = delay_map,
	.status = delay_status,
	.status_usage = "<reads> <writes> <flushes> held now",
	.message = delay_message,
	.message_usage = "read MS | write MS | flush MS [...]\n"
			 "                       new delays for requests from now on\n",
	.dm_names = delay_dm_names,
	.table_parse = delay_table_parse,
	.table_print = delay_table_print,
};
UBT_TARGET_REGISTER(delay_target)
