// SPDX-License-Identifier: MIT
/*
 * stripe: chunks spread round-robin over the children, laid out exactly as
 * device-mapper's striped target lays them out.
 *
 *   stripe(CHILD, CHILD, ..., chunk=SIZE, chunk_sectors)   chunk defaults to 64K
 *
 * With n children and chunk C (sectors), sector s of the node is
 *   chunk = s / C, stripe = chunk % n,
 *   child sector = (chunk / n) * C + s % C    on child `stripe`.
 * Each child counts as its length rounded down to a chunk multiple; the
 * node is n times the smallest.  A power-of-two chunk takes shifts and
 * masks, any other multiple of the block size divides.
 *
 * The pieces of one request that land on one child are contiguous there
 * (consecutive rows), so a request costs at most one child I/O per child.
 * Flush goes to every child; discard and write-zeroes to each child's part
 * of the range, computed as dm-stripe computes it.
 *
 *   dm table: striped <#stripes> <chunk sectors> (<dev> <offset>)...
 *
 * dm-stripe also makes the chunk the queue's chunk_sectors, so the block
 * layer splits every request at chunk boundaries.  Here that is opt-in (the
 * `chunk_sectors` flag): splitting in this node costs nothing, while each
 * piece the block layer splits off is one more round trip through ublk
 * (a 1M read over 64K chunks becomes 16 requests).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "generated/autoconf.h"
#include "ubt/table.h"
#include "ubt/shorthand.h"
#include "ubt/target.h"
#include "ubt/util.h"

#define STRIPE_DEFAULT_CHUNK	(64 * 1024)

struct stripe_ctx {
	uint64_t chunk;		/* sectors */
	int chunk_shift;	/* log2(chunk), or -1 when not a power of two */
	unsigned int n;
	bool kernel_split;	/* the chunk_sectors flag */
	/* Per child: has failed an I/O (status 'D').  Set by any queue thread. */
	uint8_t failed[CONFIG_MAX_FANOUT];
};

/* Node sector -> (stripe, child sector). */
static inline uint64_t stripe_map_sector(const struct stripe_ctx *sc, uint64_t sector,
					 unsigned int *stripe)
{
	uint64_t chunk, off;

	if (sc->chunk_shift >= 0) {
		chunk = sector >> sc->chunk_shift;
		off = sector & (sc->chunk - 1);
	} else {
		chunk = sector / sc->chunk;
		off = sector % sc->chunk;
	}
	*stripe = (unsigned int)(chunk % sc->n);
	return (chunk / sc->n) * sc->chunk + off;
}

/*
 * Where the range starting at `sector` begins on child `target`: dm's
 * stripe_map_range_sector().  On another child the boundary rounds to a
 * chunk: down when that child comes later in the row, up when earlier.
 */
static uint64_t stripe_map_range(const struct stripe_ctx *sc, uint64_t sector, unsigned int target)
{
	unsigned int stripe;
	uint64_t result = stripe_map_sector(sc, sector, &stripe);

	if (stripe == target)
		return result;
	result -= result % sc->chunk;
	if (target < stripe)
		result += sc->chunk;
	return result;
}

static int stripe_ctr(struct ubt_target *t, struct ubt_args *args)
{
	uint64_t chunk = STRIPE_DEFAULT_CHUNK, smallest = UINT64_MAX;
	uint32_t lbs = ubt_target_block_size(t);
	bool kernel_split = ubt_args_flag(args, "chunk_sectors");
	struct stripe_ctx *sc;
	unsigned int i;
	int ret;

	ret = ubt_args_size(t, args, "chunk", &chunk);
	if (ret && ret != -ENOENT)
		return ret;
	if (chunk == 0 || chunk % lbs)
		return ubt_target_error(t, EINVAL, "chunk=%llu must be a non-zero multiple of the "
					"%u-byte block size", (unsigned long long)chunk, lbs);
	ret = ubt_build_children(t, args, "stripe(a.img, b.img, chunk=64K)", true);
	if (ret)
		return ret;
	for (i = 0; i < t->nr_children; i++) {
		const struct ubt_target *c = t->children[i];
		uint32_t clbs = c->limits.logical_block_size;

		if (chunk % clbs)
			return ubt_target_error(t, EINVAL, "chunk=%llu is not a multiple of child %u's "
						"%u-byte block size", (unsigned long long)chunk,
						i + 1, clbs);
		if ((c->len << UBT_SECTOR_SHIFT) < chunk)
			return ubt_target_error(t, EINVAL, "child %u (%llu bytes) is smaller than one "
						"chunk (%llu bytes)", i + 1,
						(unsigned long long)(c->len << UBT_SECTOR_SHIFT),
						(unsigned long long)chunk);
		smallest = UBT_MIN(smallest, c->len);
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return ubt_target_error(t, ENOMEM, "out of memory");
	sc->n = t->nr_children;
	sc->kernel_split = kernel_split;
	sc->chunk = chunk >> UBT_SECTOR_SHIFT;
	sc->chunk_shift = ubt_is_power_of_2(sc->chunk) ? (int)ubt_ilog2(sc->chunk) : -1;
	t->len = (smallest - smallest % sc->chunk) * sc->n;
	t->private = sc;
	return 0;
}

static void stripe_dtr(struct ubt_target *t)
{
	free(t->private);
}

static void stripe_io_budget(struct ubt_target *t)
{
	struct stripe_ctx *sc = t->private;
	uint64_t row = sc->chunk * sc->n << UBT_SECTOR_SHIFT;
	/* Rows one request can touch, plus the partial rows at both ends. */
	uint64_t pieces = ubt_target_max_io_bytes(t) / row + 2;
	/* Disjoint pieces of the parent's data span at most this many of its iovecs. */
	unsigned int per_child = (unsigned int)UBT_MIN(pieces + t->max_iov_in - 1, 1024);

	t->max_fanout = sc->n;
	t->child_max_iov = per_child;
	t->per_io_size = ubt_split_priv_size(sc->n, per_child);
}

static int stripe_map(struct ubt_target *t, struct ubt_io *io)
{
	const struct stripe_ctx *sc = t->private;
	uint64_t sector = io->sector, end = io->sector + io->nr_sectors;
	struct ubt_split s;
	unsigned int i;
	int ret;

	if (io->op == UBT_OP_READ || io->op == UBT_OP_WRITE) {
		uint64_t child = stripe_map_sector(sc, sector, &i);

		/* Within one chunk (the common small request): remap, no split. */
		if (child % sc->chunk + io->nr_sectors <= sc->chunk)
			return ubt_io_remap(io, t->children[i], child);
	}
	ubt_split_init(&s, io, sc->n, t->child_max_iov);
	switch (io->op) {
	case UBT_OP_FLUSH:
		return ubt_split_submit(&s, t, true);
	case UBT_OP_DISCARD:
	case UBT_OP_WRITE_ZEROES:
		for (i = 0; i < sc->n; i++) {
			uint64_t b = stripe_map_range(sc, sector, i);
			uint64_t e = stripe_map_range(sc, end, i);

			if (b < e && (ret = ubt_split_add_range(&s, i, b, (uint32_t)(e - b))))
				return ret;
		}
		return ubt_split_submit(&s, t, false);
	}
	while (sector < end) {
		uint64_t child = stripe_map_sector(sc, sector, &i);
		uint64_t left = sc->chunk - (child % sc->chunk);
		uint32_t n = (uint32_t)UBT_MIN(left, end - sector);

		ret = ubt_split_add(&s, i, child, n);
		if (ubt_unlikely(ret))
			return ret;
		sector += n;
	}
	return ubt_split_submit(&s, t, false);
}

static int stripe_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct stripe_ctx *sc = t->private;
	unsigned int i;

	(void)io;
	/* Like dm-stripe: an unsupported operation is no fault of the child. */
	if (ubt_unlikely(res < 0 && res != -EOPNOTSUPP)) {
		for (i = 0; i < sc->n; i++)
			if (t->children[i] == child->t)
				__atomic_store_n(&sc->failed[i], 1, __ATOMIC_RELAXED);
	}
	return res;
}

static void stripe_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	struct stripe_ctx *sc = t->private;
	uint64_t chunk = sc->chunk << UBT_SECTOR_SHIFT;

	/* What dm-stripe reports: io_min = chunk, io_opt = chunk * stripes. */
	lim->io_min = (uint32_t)chunk;
	lim->io_opt = (uint32_t)UBT_MIN(chunk * sc->n, UINT32_MAX);
	/*
	 * Asked for, dm's chunk_sectors: the block layer then never sends a
	 * request across a chunk.  It takes powers of two only.
	 */
	if (sc->kernel_split && sc->chunk_shift >= 0 && sc->chunk <= UINT32_MAX)
		lim->chunk_sectors = (uint32_t)sc->chunk;
}

/* dm: <#stripes> <device>... 1 <A|D per stripe>; our devices are child nodes. */
static int stripe_status(struct ubt_target *t, char *buf, size_t len)
{
	struct stripe_ctx *sc = t->private;
	struct ubt_str s = UBT_STR(buf, len);
	unsigned int i;

	ubt_str_printf(&s, "%u", sc->n);
	for (i = 0; i < sc->n; i++)
		ubt_str_printf(&s, " %s:%u", t->children[i]->type->name, t->children[i]->id);
	ubt_str_printf(&s, " 1 ");
	for (i = 0; i < sc->n; i++)
		ubt_str_printf(&s, "%c", __atomic_load_n(&sc->failed[i], __ATOMIC_RELAXED) ?
			       'D' : 'A');
	return (int)s.pos;
}

/* dm's striped line: <#stripes> <chunk sectors> (<dev> <offset>)... */
static int stripe_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	struct stripe_ctx *sc = t->private;
	unsigned int i;

	ubt_table_printf(o, "striped %u %llu", sc->n, (unsigned long long)sc->chunk);
	for (i = 0; i < sc->n; i++)
		if (ubt_table_print_dev(o, t->children[i]))
			return -EINVAL;
	return 0;
}

/* dm-stripe.c's constructor checks, in its order, with its words. */
static int stripe_table_parse(struct ubt_table_line *l)
{
	uint64_t n, chunk, offset, len = l->len;
	char msg[96];
	unsigned int i;

	if (l->argc < 2)
		return ubt_table_fail(l, "striped: Not enough arguments");
	if (ubt_table_number(l, l->argv[0], "striped: stripe count", &n))
		return -EINVAL;
	if (!n || n > 256)
		return ubt_table_fail(l, "striped: Invalid stripe count");
	if (ubt_table_number(l, l->argv[1], "striped: chunk size", &chunk))
		return -EINVAL;
	if (!chunk || chunk > (UINT64_MAX >> 10))
		return ubt_table_fail(l, "striped: Invalid chunk_size");
	if (len % n)
		return ubt_table_fail(l, "striped: Target length not divisible by number of stripes");
	if ((len / n) % chunk)
		return ubt_table_fail(l, "striped: Target length not divisible by chunk size");
	if (l->argc != 2 + 2 * n)
		return ubt_table_fail(l, "striped: Not enough destinations specified (%llu stripes "
				      "need %llu device/offset pairs)", (unsigned long long)n,
				      (unsigned long long)n);
	ubt_table_put(l, "stripe(");
	for (i = 0; i < n; i++) {
		if (ubt_table_number(l, l->argv[3 + 2 * i], "striped: offset", &offset))
			return -EINVAL;
		snprintf(msg, sizeof(msg), "striped: offset %s is too large", l->argv[3 + 2 * i]);
		if (ubt_table_put_dev(l, l->argv[2 + 2 * i], l->argv[3 + 2 * i], len / n, msg))
			return -EINVAL;
		ubt_table_put(l, ", ");
	}
	ubt_table_put(l, "chunk=%llu)", (unsigned long long)(chunk << UBT_SECTOR_SHIFT));
	return 0;
}

static const char *const stripe_dm_names[] = { "striped", NULL };

/* create stripe [--chunk SIZE] --file PATH --file PATH ... */
static int stripe_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	if (!ubt_shorthand_count(a, "file"))
		return ubt_shorthand_fail(a, "stripe needs --file PATH for each child");
	ubt_str_printf(s, "stripe(");
	if (ubt_shorthand_put_paths(a, s, "file") ||
	    ubt_shorthand_put_sizes(a, s, (const char *const[]){ "chunk", NULL }))
		return -EINVAL;
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand stripe_shorthand = {
	.synopsis = "[--chunk SIZE] --file PATH --file PATH ...",
	.help = "chunks round-robin over the files, laid out like dm-stripe (chunk default 64K)",
	.opts = (const struct ubt_shorthand_opt[]){
		{ "chunk", "SIZE" }, { "file", "PATH" }, { NULL, NULL },
	},
	.spec = stripe_shorthand_spec,
};

static struct ubt_target_type stripe_target = {
	.name = "stripe",
	.version = { 1, 0, 0 },
	.usage = "stripe(CHILD, CHILD, ..., chunk=SIZE, chunk_sectors)",
	.max_fanout = CONFIG_MAX_FANOUT,
	.shorthand = &stripe_shorthand,
	.ctr = stripe_ctr,
	.dtr = stripe_dtr,
	.io_budget = stripe_io_budget,
	.map = stripe_map,
	.end_io = stripe_end_io,
	.io_hints = stripe_io_hints,
	.status = stripe_status,
	.status_usage = "<#stripes> <children> 1 <A|D per stripe>: D, that child has failed an I/O",
	.dm_names = stripe_dm_names,
	.table_parse = stripe_table_parse,
	.table_print = stripe_table_print,
};
UBT_TARGET_REGISTER(stripe_target)
