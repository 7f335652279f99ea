// SPDX-License-Identifier: MIT
/*
 * flakey: a child that works for `up` seconds, then misbehaves for `down`
 * seconds, over and over, like device-mapper's flakey target (the 6.12
 * rules).  The clock starts when the node is built.
 *
 *   flakey(CHILD, up=SECONDS, down=SECONDS, FEATURE...)
 *   dm table: <dev> <offset> <up> <down> [<#feature args> <feature args>...]
 *
 * While down, with no feature given, reads and writes fail with EIO.
 * Features (the dm words; those with parameters take them after '=' and
 * separated by ':' in a spec):
 *   error_reads          reads fail
 *   drop_writes          writes (and flushes, discards) succeed unwritten
 *   error_writes         writes (and flushes, discards) fail
 *   corrupt_bio_byte=N:r|w:V:F
 *                        byte N (1-based) of each read (r, after the child
 *                        served it) or write (w, in a copy of the block
 *                        that holds it) becomes V, for requests whose op
 *                        and flags, numbered like the kernel's bi_opf
 *                        (REQ_FUA = 1 << 17), include every bit of F
 *   random_read_corrupt=P, random_write_corrupt=P
 *                        with probability P / 10^9 one random byte of the
 *                        request becomes a random value
 *
 * Corruption touches the data, so a node with a corrupt feature keeps the
 * device's data in our memory.  A write is never corrupted in place: the
 * request's data may be going to other children too (a mirror), so the
 * block holding the byte is copied into the node's per-I/O area and the
 * child gets the request's pieces around it.
 *
 * Messages: `up` / `down` hold the node in that state, `cycle [UP DOWN]`
 * restarts the timed cycle (with new intervals), `features [FEATURE ...]`
 * replaces the feature set (dm's words, parameters as separate words).
 * A configuration is never changed in place: a message publishes a new
 * one, and the old ones stay allocated until the node goes, so a queue
 * thread that loaded one keeps a valid copy without taking a lock.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ubt/table.h"
#include "ubt/target.h"
#include "ubt/util.h"

#define PROBABILITY_BASE	1000000000u
#define FLAKEY_REQ_FUA		(1u << 17)	/* the kernel's REQ_FUA bit of bi_opf */
#define FLAKEY_MAX_FEATURE_ARGS	11
#define FLAKEY_BOUNCE_ALIGN	4096

enum flakey_force { FLAKEY_TIMED, FLAKEY_UP, FLAKEY_DOWN };

struct flakey_conf {
	unsigned int up, down;		/* seconds */
	enum flakey_force force;
	uint64_t start_ns;		/* CLOCK_MONOTONIC of the cycle's start */
	bool error_reads, drop_writes, error_writes;
	unsigned int corrupt_byte;	/* 1-based; 0: none */
	bool corrupt_write;		/* else reads */
	unsigned int corrupt_value;
	unsigned int corrupt_flags;
	unsigned int random_read, random_write;	/* per PROBABILITY_BASE */
	struct flakey_conf *older;	/* freed with the node */
};

struct flakey_ctx {
	struct flakey_conf *conf;	/* the current one: atomic load / store */
	uint32_t lbs;			/* bounce block: the device's logical block */
};

/* Per I/O: the state end_io needs, then (with write corruption) the bounce. */
struct flakey_io {
	const struct flakey_conf *conf;
	bool down;
	struct iovec *iov;		/* child iovecs: the request's around the bounce */
	unsigned char *bounce;
};

/* A per-thread generator: each queue thread draws on its own. */
static uint64_t flakey_random(void)
{
	static __thread uint64_t s;

	if (!s)
		s = ubt_now_ns() | 1;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static bool flakey_is_down(const struct flakey_conf *c)
{
	uint64_t elapsed;

	if (c->force != FLAKEY_TIMED)
		return c->force == FLAKEY_DOWN;
	elapsed = (ubt_now_ns() - c->start_ns) / 1000000000u;
	return elapsed % ((uint64_t)c->up + c->down) >= c->up;
}

static bool flakey_corrupts(const struct flakey_conf *c)
{
	return c->corrupt_byte || c->random_read || c->random_write;
}

static int flakey_number(const char *s, unsigned long long max, unsigned int *out)
{
	uint64_t v;

	if (ubt_parse_uint(s, &v) || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/*
 * dm-flakey's parse_features() on words: fills c's features or writes
 * dm's message to err.
 */
static int parse_features(struct flakey_conf *c, unsigned int argc, char **argv, char *err,
			  size_t errlen)
{
	unsigned int i = 0;

	c->error_reads = c->drop_writes = c->error_writes = false;
	c->corrupt_byte = c->random_read = c->random_write = 0;
	if (argc > FLAKEY_MAX_FEATURE_ARGS) {
		snprintf(err, errlen, "Invalid number of feature args");
		return -EINVAL;
	}
	while (i < argc) {
		const char *f = argv[i++];

		if (!strcasecmp(f, "error_reads")) {
			if (c->error_reads)
				goto dup;
			c->error_reads = true;
		} else if (!strcasecmp(f, "drop_writes")) {
			if (c->drop_writes)
				goto dup;
			if (c->error_writes) {
				snprintf(err, errlen, "Feature drop_writes conflicts with feature error_writes");
				return -EINVAL;
			}
			c->drop_writes = true;
		} else if (!strcasecmp(f, "error_writes")) {
			if (c->error_writes)
				goto dup;
			if (c->drop_writes) {
				snprintf(err, errlen, "Feature error_writes conflicts with feature drop_writes");
				return -EINVAL;
			}
			c->error_writes = true;
		} else if (!strcasecmp(f, "corrupt_bio_byte")) {
			if (argc - i < 4) {
				snprintf(err, errlen, "Feature corrupt_bio_byte requires parameters");
				return -EINVAL;
			}
			if (flakey_number(argv[i], UINT_MAX, &c->corrupt_byte) || !c->corrupt_byte) {
				snprintf(err, errlen, "Invalid corrupt bio byte");
				return -EINVAL;
			}
			if (!strcasecmp(argv[i + 1], "w")) {
				c->corrupt_write = true;
			} else if (!strcasecmp(argv[i + 1], "r")) {
				c->corrupt_write = false;
			} else {
				snprintf(err, errlen, "Invalid corrupt bio direction (r or w)");
				return -EINVAL;
			}
			if (flakey_number(argv[i + 2], 255, &c->corrupt_value)) {
				snprintf(err, errlen, "Invalid corrupt value to write into bio byte (0-255)");
				return -EINVAL;
			}
			if (flakey_number(argv[i + 3], UINT_MAX, &c->corrupt_flags)) {
				snprintf(err, errlen, "Invalid corrupt bio flags mask");
				return -EINVAL;
			}
			i += 4;
		} else if (!strcasecmp(f, "random_read_corrupt") ||
			   !strcasecmp(f, "random_write_corrupt")) {
			bool rd = !strcasecmp(f, "random_read_corrupt");

			if (i == argc) {
				snprintf(err, errlen, "Feature %s requires a parameter", f);
				return -EINVAL;
			}
			if (flakey_number(argv[i++], PROBABILITY_BASE, rd ? &c->random_read : &c->random_write)) {
				snprintf(err, errlen, "Invalid random corrupt argument");
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "Unrecognised flakey feature requested");
			return -EINVAL;
		}
	}
	if (c->drop_writes && ((c->corrupt_byte && c->corrupt_write) || c->random_write)) {
		snprintf(err, errlen, "drop_writes is incompatible with random_write_corrupt or "
			 "corrupt_bio_byte with the WRITE flag set");
		return -EINVAL;
	}
	if (c->error_writes && ((c->corrupt_byte && c->corrupt_write) || c->random_write)) {
		snprintf(err, errlen, "error_writes is incompatible with random_write_corrupt or "
			 "corrupt_bio_byte with the WRITE flag set");
		return -EINVAL;
	}
	/* No feature at all: the node fails everything while down. */
	if (!c->corrupt_byte && !c->error_reads && !c->drop_writes && !c->error_writes &&
	    !c->random_read && !c->random_write)
		c->error_reads = c->error_writes = true;
	return 0;
dup:
	snprintf(err, errlen, "Feature %s duplicated", argv[i - 1]);
	return -EINVAL;
}

/*
 * How the features' words group: a spec writes a feature with parameters
 * as one key=P1:P2... argument, a dm line as the name and the parameters.
 */
static const struct {
	const char *name;
	unsigned int params;
} feature_words[] = {
	{ "error_reads", 0 }, { "drop_writes", 0 }, { "error_writes", 0 },
	{ "corrupt_bio_byte", 4 }, { "random_read_corrupt", 1 }, { "random_write_corrupt", 1 },
};

/* The feature word w names (any case), or -1. */
static int feature_of(const char *w)
{
	unsigned int i;

	for (i = 0; i < UBT_ARRAY_SIZE(feature_words); i++)
		if (!strcasecmp(w, feature_words[i].name))
			return (int)i;
	return -1;
}

/* Spec feature words ("corrupt_bio_byte=32:r:1:0") to dm's argument words. */
static int spec_features(struct ubt_target *t, struct ubt_args *args, char **argv,
			 unsigned int *argc, char *store, size_t storelen)
{
	unsigned int i, n = 0, k;
	size_t used = 0;

	for (i = 1; i < ubt_args_positional(args); i++) {
		const char *w = ubt_args_word(args, i);

		if (!w)
			return ubt_target_error(t, EINVAL, "takes one child: argument %u is a node, not a feature", i + 1);
		if (n == FLAKEY_MAX_FEATURE_ARGS)
			return ubt_target_error(t, EINVAL, "Invalid number of feature args");
		argv[n++] = (char *)w;
	}
	for (k = 0; k < UBT_ARRAY_SIZE(feature_words); k++) {
		const char *v = feature_words[k].params ? ubt_args_str(args, feature_words[k].name) :
			NULL;
		char *p, *tok, *save = NULL;
		size_t l;

		if (!v)
			continue;
		l = strlen(v) + 1;
		if (used + l > storelen)
			return ubt_target_error(t, EINVAL, "%s=%s is too long", feature_words[k].name, v);
		p = memcpy(store + used, v, l);
		used += l;
		if (n == FLAKEY_MAX_FEATURE_ARGS)
			return ubt_target_error(t, EINVAL, "Invalid number of feature args");
		argv[n++] = (char *)feature_words[k].name;
		for (tok = strtok_r(p, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			if (n == FLAKEY_MAX_FEATURE_ARGS)
				return ubt_target_error(t, EINVAL, "Invalid number of feature args");
			argv[n++] = tok;
		}
	}
	*argc = n;
	return 0;
}

static int flakey_ctr(struct ubt_target *t, struct ubt_args *args)
{
	char *argv[FLAKEY_MAX_FEATURE_ARGS], store[256], err[160];
	struct flakey_conf proto = { 0 }, *c;
	struct flakey_ctx *fc;
	unsigned int argc = 0;
	uint64_t up, down;
	int ret;

	if (ubt_args_positional(args) < 1)
		return ubt_target_error(t, EINVAL, "takes one child first, e.g. "
					"flakey(a.img, up=5, down=1, drop_writes)");
	ret = ubt_args_uint(t, args, "up", &up);
	if (ret == -ENOENT)
		return ubt_target_error(t, EINVAL, "up=SECONDS is required");
	if (ret)
		return ret;
	ret = ubt_args_uint(t, args, "down", &down);
	if (ret == -ENOENT)
		return ubt_target_error(t, EINVAL, "down=SECONDS is required");
	if (ret)
		return ret;
	if (up > UINT_MAX || down > UINT_MAX || up + down > UINT_MAX)
		return ubt_target_error(t, EINVAL, "Interval overflow");
	if (!up && !down)
		return ubt_target_error(t, EINVAL, "Total (up + down) interval is zero");
	ret = spec_features(t, args, argv, &argc, store, sizeof(store));
	if (ret)
		return ret;
	proto.up = (unsigned int)up;
	proto.down = (unsigned int)down;
	if (parse_features(&proto, argc, argv, err, sizeof(err)))
		return ubt_target_error(t, EINVAL, "%s", err);
	ret = ubt_args_child(t, args, 0);
	if (ret)
		return ret;
	fc = calloc(1, sizeof(*fc));
	c = malloc(sizeof(*c));
	if (!fc || !c) {
		free(fc);
		free(c);
		return ubt_target_error(t, ENOMEM, "out of memory");
	}
	*c = proto;
	c->start_ns = ubt_now_ns();
	fc->conf = c;
	fc->lbs = ubt_target_block_size(t);
	t->private = fc;
	t->needs_data = flakey_corrupts(c);
	t->len = t->children[0]->len;
	return 0;
}

static void flakey_dtr(struct ubt_target *t)
{
	struct flakey_ctx *fc = t->private;
	struct flakey_conf *c, *next;

	if (!fc)
		return;
	for (c = fc->conf; c; c = next) {
		next = c->older;
		free(c);
	}
	free(fc);
}

/*
 * A node built with corruption may corrupt writes: room for the child's
 * iovecs (the request's, split around one block) and one bounce block.
 */
static void flakey_io_budget(struct ubt_target *t)
{
	struct flakey_ctx *fc = t->private;

	t->max_fanout = 1;
	t->per_io_size = sizeof(struct flakey_io);
	if (t->needs_data) {
		t->child_max_iov = t->max_iov_in + 2;
		t->per_io_size += t->child_max_iov * sizeof(struct iovec) + fc->lbs +
				  FLAKEY_BOUNCE_ALIGN;
	}
}

static void corrupt_in_place(struct ubt_io *io, uint64_t byte, unsigned char value)
{
	ubt_iov_copy(io->iov, io->iovcnt, byte, &value, 1, true);
}

/*
 * Send io to the child with byte `byte` set to value, leaving the
 * request's data alone: the block around the byte goes from the bounce.
 */
static int write_corrupted(struct ubt_target *t, struct ubt_io *io, struct flakey_io *f,
			   uint64_t byte, unsigned char value)
{
	struct flakey_ctx *fc = t->private;
	struct ubt_iov_iter it;
	struct ubt_io *c;
	uint64_t blk = byte / fc->lbs * fc->lbs;
	unsigned int cnt = 0;
	int ret;

	f->iov = (struct iovec *)(f + 1);
	f->bounce = (unsigned char *)UBT_ROUND_UP((uintptr_t)(f->iov + t->child_max_iov),
						  FLAKEY_BOUNCE_ALIGN);
	ubt_iov_copy(io->iov, io->iovcnt, blk, f->bounce, fc->lbs, false);
	f->bounce[byte - blk] = value;
	ubt_iov_iter_init(&it, io->iov, io->iovcnt);
	ret = ubt_iov_iter_take(&it, f->iov, &cnt, t->child_max_iov, blk);
	if (ret)
		return ret;
	f->iov[cnt].iov_base = f->bounce;
	f->iov[cnt++].iov_len = fc->lbs;
	ubt_iov_iter_skip(&it, fc->lbs);
	ret = ubt_iov_iter_take(&it, f->iov, &cnt, t->child_max_iov,
				ubt_io_bytes(io) - blk - fc->lbs);
	if (ret)
		return ret;
	c = ubt_io_child(io, t->children[0]);
	if (!c)
		return -ENOMEM;
	c->sector = io->sector;
	c->nr_sectors = io->nr_sectors;
	c->iov = f->iov;
	c->iovcnt = cnt;
	ubt_io_submit(c);
	return 0;
}

static bool flags_match(const struct ubt_io *io, const struct flakey_conf *c)
{
	unsigned int opf = io->op | (io->flags & UBT_IO_FUA ? FLAKEY_REQ_FUA : 0);

	return (opf & c->corrupt_flags) == c->corrupt_flags;
}

static bool chance(unsigned int p)
{
	return p && flakey_random() % PROBABILITY_BASE < p;
}

static int flakey_map(struct ubt_target *t, struct ubt_io *io)
{
	struct flakey_ctx *fc = t->private;
	struct flakey_io *f = io->priv;
	const struct flakey_conf *c = __atomic_load_n(&fc->conf, __ATOMIC_ACQUIRE);

	f->conf = c;
	f->down = flakey_is_down(c);
	if (f->down && io->op == UBT_OP_READ) {
		if (c->error_reads)
			return -EIO;
	} else if (f->down) {
		/* Every other op writes, as bio_data_dir() counts them. */
		if (c->drop_writes)
			return 0;
		if (c->error_writes)
			return -EIO;
		if (io->op == UBT_OP_WRITE && t->needs_data) {
			uint64_t bytes = ubt_io_bytes(io);

			if (c->corrupt_byte && c->corrupt_write && c->corrupt_byte <= bytes &&
			    flags_match(io, c))
				return write_corrupted(t, io, f, c->corrupt_byte - 1,
						       (unsigned char)c->corrupt_value);
			if (chance(c->random_write))
				return write_corrupted(t, io, f, flakey_random() % bytes,
						       (unsigned char)flakey_random());
		}
	}
	return ubt_io_remap(io, t->children[0], io->sector);
}

static int flakey_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct flakey_io *f = io->priv;
	const struct flakey_conf *c = f->conf;
	uint64_t bytes = ubt_io_bytes(io);

	(void)child;
	if (res < 0 || !f->down || io->op != UBT_OP_READ || !t->needs_data)
		return res;
	if (c->corrupt_byte && !c->corrupt_write && c->corrupt_byte <= bytes && flags_match(io, c))
		corrupt_in_place(io, c->corrupt_byte - 1, (unsigned char)c->corrupt_value);
	if (chance(c->random_read))
		corrupt_in_place(io, flakey_random() % bytes, (unsigned char)flakey_random());
	return res;
}

/* dm's line: flakey <dev> <offset> <up> <down> [<#feature args> <feature args>...] */
static int flakey_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	struct flakey_ctx *fc = t->private;
	const struct flakey_conf *c = __atomic_load_n(&fc->conf, __ATOMIC_ACQUIRE);

	ubt_table_printf(o, "flakey");
	if (ubt_table_print_dev(o, t->children[0]))
		return -EINVAL;
	ubt_table_printf(o, " %u %u %u", c->up, c->down,
			 c->error_reads + c->drop_writes + c->error_writes +
			 (c->corrupt_byte ? 5 : 0) + (c->random_read ? 2 : 0) +
			 (c->random_write ? 2 : 0));
	if (c->error_reads)
		ubt_table_printf(o, " error_reads");
	if (c->drop_writes)
		ubt_table_printf(o, " drop_writes");
	else if (c->error_writes)
		ubt_table_printf(o, " error_writes");
	if (c->corrupt_byte)
		ubt_table_printf(o, " corrupt_bio_byte %u %c %u %u", c->corrupt_byte,
				 c->corrupt_write ? 'w' : 'r', c->corrupt_value, c->corrupt_flags);
	if (c->random_read)
		ubt_table_printf(o, " random_read_corrupt %u", c->random_read);
	if (c->random_write)
		ubt_table_printf(o, " random_write_corrupt %u", c->random_write);
	return 0;
}

/*
 * A dm line's arguments, checked as dm-flakey.c checks them (the features
 * by parse_features(), the same words as the node's), as a spec node.
 */
static int flakey_table_parse(struct ubt_table_line *l)
{
	static const char bad[] = "flakey: Unrecognised flakey feature requested";
	struct flakey_conf proto = { 0 };
	char **argv = l->argv, err[160];
	unsigned int argc = l->argc, i, k;
	uint64_t up, down, nf = 0;
	int f = 0;

	if (argc < 4)
		return ubt_table_fail(l, "flakey: Invalid argument count");
	if (ubt_parse_uint(argv[2], &up) || up > UINT32_MAX)
		return ubt_table_fail(l, "flakey: Invalid up interval");
	if (ubt_parse_uint(argv[3], &down) || down > UINT32_MAX)
		return ubt_table_fail(l, "flakey: Invalid down interval");
	if (argc > 4 && (ubt_parse_uint(argv[4], &nf) || nf > FLAKEY_MAX_FEATURE_ARGS ||
			 nf > argc - 5))
		return ubt_table_fail(l, "flakey: Invalid number of feature args");
	if (argc > 5 + nf)
		return ubt_table_fail(l, "flakey: too many arguments (%u after the %llu feature args)",
				      argc - 5 - (unsigned int)nf, (unsigned long long)nf);
	ubt_table_put(l, "flakey(");
	if (ubt_table_put_dev(l, argv[0], argv[1], l->len, "flakey: Invalid device sector"))
		return -EINVAL;
	if (parse_features(&proto, (unsigned int)nf, argv + 5, err, sizeof(err)))
		return ubt_table_fail(l, "flakey: %s", err);
	ubt_table_put(l, ", up=%llu, down=%llu", (unsigned long long)up, (unsigned long long)down);
	/* Each feature in the spec's form: a word, or name=P1:P2... (checked above). */
	for (i = 5; i < 5 + nf; i += 1 + feature_words[f].params) {
		f = feature_of(argv[i]);
		if (f < 0)
			return ubt_table_fail(l, "%s", bad);
		ubt_table_put(l, ", %s", feature_words[f].name);
		for (k = 1; k <= feature_words[f].params; k++) {
			ubt_table_put(l, k == 1 ? "=" : ":");
			if (strchr(argv[i + k], ':') || ubt_table_put_word(l, argv[i + k], bad))
				return ubt_table_fail(l, "%s", bad);
		}
	}
	ubt_table_put(l, ")");
	return 0;
}

static const char *const flakey_dm_names[] = { "flakey", NULL };

static int flakey_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct flakey_ctx *fc = t->private;
	struct flakey_conf *old = fc->conf, *c;
	char err[160];

	if (argc < 1) {
		snprintf(out, len, "flakey: want up, down, cycle [UP DOWN] or features [FEATURE...]");
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		snprintf(out, len, "flakey: out of memory");
		return -ENOMEM;
	}
	*c = *old;
	c->older = old;
	if (!strcmp(argv[0], "up") && argc == 1) {
		c->force = FLAKEY_UP;
	} else if (!strcmp(argv[0], "down") && argc == 1) {
		c->force = FLAKEY_DOWN;
	} else if (!strcmp(argv[0], "cycle") && (argc == 1 || argc == 3)) {
		if (argc == 3 && (flakey_number(argv[1], UINT_MAX, &c->up) ||
				  flakey_number(argv[2], UINT_MAX, &c->down) ||
				  (uint64_t)c->up + c->down > UINT_MAX || !(c->up + c->down))) {
			snprintf(out, len, "flakey: cycle UP DOWN wants two whole numbers of seconds, "
				 "not both 0");
			goto refuse;
		}
		c->force = FLAKEY_TIMED;
		c->start_ns = ubt_now_ns();
	} else if (!strcmp(argv[0], "features")) {
		if (parse_features(c, (unsigned int)argc - 1, argv + 1, err, sizeof(err))) {
			snprintf(out, len, "flakey: %s", err);
			goto refuse;
		}
		if (flakey_corrupts(c) && !t->needs_data) {
			snprintf(out, len, "flakey: corruption needs the data in memory; build the node "
				 "with a corrupt feature to change it later");
			goto refuse;
		}
	} else {
		snprintf(out, len, "flakey: unknown message '%s' (want up, down, cycle [UP DOWN] or "
			 "features [FEATURE...])", argv[0]);
		goto refuse;
	}
	__atomic_store_n(&fc->conf, c, __ATOMIC_RELEASE);
	if (len)
		out[0] = '\0';
	return 0;
refuse:
	free(c);
	return -EINVAL;
}

static struct ubt_target_type flakey_target = {
	.name = "flakey",
	.version = { 1, 0, 0 },
	.usage = "flakey(CHILD, up=SECONDS, down=SECONDS, [error_reads], [drop_writes|error_writes], "
		 "[corrupt_bio_byte=N:r|w:VALUE:FLAGS], [random_read_corrupt=P], "
		 "[random_write_corrupt=P])",
	.max_fanout = 1,
	.ctr = flakey_ctr,
	.dtr = flakey_dtr,
	.io_budget = flakey_io_budget,
	.map = flakey_map,
	.end_io = flakey_end_io,
	.message = flakey_message,
	.message_usage =
		"up | down              hold the node up or down\n"
		"cycle [UP DOWN]        back to the timed cycle (new intervals)\n"
		"features [FEATURE...]  replace the features, dm words, e.g.\n"
		"                       'features corrupt_bio_byte 1 r 0 0'\n",
	.dm_names = flakey_dm_names,
	.table_parse = flakey_table_parse,
	.table_print = flakey_table_print,
};
UBT_TARGET_REGISTER(flakey_target)
