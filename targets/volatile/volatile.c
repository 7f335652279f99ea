// SPDX-License-Identifier: MIT
/*
 * volatile: a child behind a disk's write cache, for crash tests.  Writes
 * since the last flush are not yet safe: `message ... crash` makes the
 * child hold what a disk that lost power might hold, and the node fails
 * every request from then on, until the device is made again.
 *
 *   volatile(CHILD, cache=SIZE)       cache: bytes of unflushed writes
 *                                     held (default 16M)
 *
 * Writes reach the child at once, so reads need no overlay; the node keeps
 * an undo log instead.  Each write (write-zeroes, discard) first reads what
 * it overwrites (the before image) and keeps its data (the after image);
 * writes go one at a time, in the order they arrive, so the log is in the
 * order the child saw them.  A FLUSH makes every write completed before it
 * safe; a FUA write is safe itself.  When the log is full, the oldest
 * writes become safe, as a disk writes its cache back on its own; a write
 * larger than the whole log is written through and is safe at once.
 *
 * A crash rewrites the child: every logged write's before image, newest
 * first, which gives the child as it was before the first of them; then,
 * oldest first, the writes that survive: the safe ones and those the mode
 * picks.
 *   crash [all]          no unsafe write survives (the default)
 *   crash prefix SEED    the unsafe writes up to a random one survive
 *   crash random SEED    each unsafe write survives or not, at random
 *   crash torn SEED      like random, and each surviving write keeps only
 *                        a random part of its 512-byte sectors
 * The rewrite is background I/O on queue 0 (a poke starts it); status says
 * `crashing` until it is done, then `crashed`.
 *
 * Status: <unsafe writes> <bytes they cover> <flushes> up|crashing|crashed
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/target.h"
#include "ubt/util.h"

#define VOLATILE_DEFAULT_CACHE	(16u << 20)
#define VOLATILE_MAX_RECORDS	4096

enum vol_state { VOL_UP, VOL_CRASHING, VOL_CRASHED };

/* One logged write: where, and its before and after images in the arena. */
struct vol_rec {
	uint64_t sector;
	uint32_t nr_sectors;
	uint8_t op;			/* UBT_OP_WRITE, _WRITE_ZEROES or _DISCARD */
	bool safe;			/* flushed, FUA, or written back */
	bool failed;			/* the child refused it: nothing to replay */
	bool survives;			/* crash: chosen to be replayed */
	uint64_t seed;			/* crash torn: which sectors survive */
	size_t off;			/* before image; the after image follows (WRITE) */
	size_t bytes;			/* arena bytes taken */
};

struct vol_ctx {
	pthread_mutex_t lock;
	/* The log: records head .. head+count-1 (mod VOLATILE_MAX_RECORDS). */
	struct vol_rec recs[VOLATILE_MAX_RECORDS];
	unsigned int head, count;
	uint64_t dropped;		/* records taken off the head so far */
	bool logging;			/* the newest record's write is in flight */
	/* The arena: a ring of bytes, taken at arena_tail, given back at the head's off. */
	uint8_t *arena;
	size_t arena_bytes, arena_tail, arena_used;
	/* One write at a time; the others wait here in order. */
	bool writing;
	struct ubt_io_wait *waiters, **waiters_tail;
	uint64_t flushes;
	uint32_t state;			/* enum vol_state, atomic */
	/* The crash rewrite: step k of 2 * count + 1 (restore, replay, flush). */
	unsigned int step, sector_step;
	bool crash_running;
	struct iovec crash_iov;
	struct ubt_queue *crash_q;
};

struct vol_io {
	struct ubt_io_wait wait;
	struct iovec iov;		/* the before image being read */
	uint64_t flush_upto;		/* flush: records before this one were complete when it came */
	bool before_read;		/* write: the before image is in */
	bool logged;			/* write: it has a record (not written through) */
};

static struct vol_rec *rec_at(struct vol_ctx *v, unsigned int i)
{
	return &v->recs[(v->head + i) % VOLATILE_MAX_RECORDS];
}

static int vol_ctr(struct ubt_target *t, struct ubt_args *args)
{
	uint64_t cache = VOLATILE_DEFAULT_CACHE;
	struct vol_ctx *v;
	int ret;

	if (ubt_args_positional(args) != 1)
		return ubt_target_error(t, EINVAL, "takes exactly one child, e.g. "
					"volatile(a.img, cache=16M)");
	ret = ubt_args_size(t, args, "cache", &cache);
	if (ret && ret != -ENOENT)
		return ret;
	if (cache < 4096 || cache > (1ULL << 32))
		return ubt_target_error(t, EINVAL, "cache=%llu: want 4K to 4G",
					(unsigned long long)cache);
	ret = ubt_args_child(t, args, 0);
	if (ret)
		return ret;
	v = calloc(1, sizeof(*v));
	if (!v)
		return ubt_target_error(t, ENOMEM, "out of memory");
	/* Before and after images of up to `cache` bytes of writes. */
	v->arena_bytes = 2 * cache;
	/* Page-aligned: images are read and written with O_DIRECT below. */
	if (posix_memalign((void **)&v->arena, 4096, v->arena_bytes)) {
		free(v);
		return ubt_target_error(t, ENOMEM, "out of memory for a %llu-byte cache",
					(unsigned long long)cache);
	}
	pthread_mutex_init(&v->lock, NULL);
	v->waiters_tail = &v->waiters;
	t->len = t->children[0]->len;
	t->private = v;
	t->needs_data = true;	/* it copies what is written */
	t->bg_tags = 1;		/* the crash rewrite */
	return 0;
}

static void vol_dtr(struct ubt_target *t)
{
	struct vol_ctx *v = t->private;

	pthread_mutex_destroy(&v->lock);
	free(v->arena);
	free(v);
}

/* Under lock: take the head record off the log (it is safe, or left to be). */
static void drop_head(struct vol_ctx *v)
{
	struct vol_rec *r = rec_at(v, 0);

	v->arena_used -= r->bytes;
	if (!v->arena_used)
		v->arena_tail = 0;
	v->head = (v->head + 1) % VOLATILE_MAX_RECORDS;
	v->count--;
	v->dropped++;
}

/* Under lock: drop safe records from the head. */
static void drop_safe(struct vol_ctx *v)
{
	while (v->count && rec_at(v, 0)->safe)
		drop_head(v);
}

/*
 * Under lock: room for `bytes` contiguous arena bytes at the tail,
 * dropping records from the head (the disk wrote them back) as needed.
 * Every record in the log is complete: writes go one at a time.
 */
static bool arena_take(struct vol_ctx *v, size_t bytes, size_t *off)
{
	for (;;) {
		size_t head_off = v->count ? rec_at(v, 0)->off : v->arena_tail;

		if (v->count < VOLATILE_MAX_RECORDS) {
			if (!v->arena_used) {
				*off = v->arena_tail = 0;
				return bytes <= v->arena_bytes;
			}
			/* In use: head .. tail, or (wrapped, or full) head .. end and 0 .. tail. */
			if (v->arena_tail > head_off) {
				/* Free: tail .. end, and 0 .. head. */
				if (v->arena_bytes - v->arena_tail >= bytes) {
					*off = v->arena_tail;
					return true;
				}
				if (head_off >= bytes) {
					/* Wrap: the end's bytes count as used by the newest record. */
					*off = 0;
					return true;
				}
			} else if (head_off - v->arena_tail >= bytes) {
				*off = v->arena_tail;
				return true;
			}
		}
		if (!v->count)
			return false;
		drop_head(v);
	}
}

/* The next waiting write, taken off the list under lock; NULL if none. */
static struct ubt_io_wait *next_writer(struct vol_ctx *v)
{
	struct ubt_io_wait *w = v->waiters;

	if (w) {
		v->waiters = w->next;
		if (!v->waiters)
			v->waiters_tail = &v->waiters;
		w->next = NULL;
	} else {
		v->writing = false;
	}
	return w;
}

static void vol_poke(struct ubt_target *t, struct ubt_queue *q);

/* A write finished (res): record it, and let the next one go. */
static void write_done(struct ubt_io *io, bool logged, int res)
{
	struct vol_ctx *v = io->t->private;
	struct ubt_io_wait *w;
	bool crash;

	pthread_mutex_lock(&v->lock);
	if (logged) {
		/* Writes go one at a time: its record is the newest. */
		struct vol_rec *r = rec_at(v, v->count - 1);

		r->failed = res < 0;
		r->safe = res >= 0 && (io->flags & UBT_IO_FUA);
		v->logging = false;
	}
	w = next_writer(v);
	crash = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VOL_CRASHING;
	pthread_mutex_unlock(&v->lock);
	if (w)
		ubt_io_wake(io->q, w);
	else if (crash)
		vol_poke(io->t, io->q);	/* the rewrite waited for this write */
}

/*
 * The newest record goes again, its write not sent (its before image was
 * never read); the next writer goes on.
 */
static void unlog_newest(struct ubt_io *io, int res)
{
	struct vol_ctx *v = io->t->private;
	struct vol_rec *r;

	pthread_mutex_lock(&v->lock);
	r = rec_at(v, --v->count);
	v->arena_used -= r->bytes;
	v->arena_tail = v->count ? r->off : 0;
	v->logging = false;
	pthread_mutex_unlock(&v->lock);
	write_done(io, false, res);
}

static int write_start(struct ubt_io *io)
{
	struct ubt_target *t = io->t;
	struct vol_ctx *v = t->private;
	struct vol_io *vio = io->priv;
	size_t before = ubt_io_bytes(io), bytes, off;
	struct vol_rec *r;
	struct ubt_io *c;

	if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VOL_UP) {
		write_done(io, false, -EIO);
		return -EIO;
	}
	bytes = before + (io->op == UBT_OP_WRITE ? before : 0);
	pthread_mutex_lock(&v->lock);
	if (!arena_take(v, bytes, &off)) {
		/* Larger than the whole log: written through, safe at once. */
		while (v->count)
			drop_head(v);
		pthread_mutex_unlock(&v->lock);
		vio->logged = false;
		vio->before_read = true;
		return ubt_io_remap(io, t->children[0], io->sector);
	}
	r = rec_at(v, v->count++);
	memset(r, 0, sizeof(*r));
	r->sector = io->sector;
	r->nr_sectors = io->nr_sectors;
	r->op = io->op;
	r->off = off;
	/* A wrap leaves the end of the arena unused until this record goes. */
	r->bytes = bytes + (off < v->arena_tail ? v->arena_bytes - v->arena_tail : 0);
	v->arena_used += r->bytes;
	v->arena_tail = off + bytes;
	v->logging = true;
	pthread_mutex_unlock(&v->lock);
	if (io->op == UBT_OP_WRITE)
		ubt_iov_copy(io->iov, io->iovcnt, 0, v->arena + off + before, before, false);
	vio->logged = true;
	vio->before_read = false;
	vio->iov.iov_base = v->arena + off;
	vio->iov.iov_len = before;
	c = ubt_io_child(io, t->children[0]);
	if (!c) {
		unlog_newest(io, -ENOMEM);
		return -ENOMEM;
	}
	c->op = UBT_OP_READ;
	c->flags = 0;
	c->sector = io->sector;
	c->nr_sectors = io->nr_sectors;
	c->iov = &vio->iov;
	c->iovcnt = 1;
	ubt_io_submit(c);
	return 0;
}

static int vol_map(struct ubt_target *t, struct ubt_io *io)
{
	struct vol_ctx *v = t->private;
	struct vol_io *vio = io->priv;

	if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VOL_UP)
		return -EIO;	/* a crashed disk answers nothing */
	switch (io->op) {
	case UBT_OP_READ:
		return ubt_io_remap(io, t->children[0], io->sector);
	case UBT_OP_FLUSH:
		pthread_mutex_lock(&v->lock);
		vio->flush_upto = v->dropped + v->count - v->logging;
		pthread_mutex_unlock(&v->lock);
		return ubt_io_remap(io, t->children[0], 0);
	default:
		break;
	}
	pthread_mutex_lock(&v->lock);
	if (v->writing) {
		ubt_io_wait(io, &vio->wait, write_start);
		vio->wait.next = NULL;
		*v->waiters_tail = &vio->wait;
		v->waiters_tail = &vio->wait.next;
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	v->writing = true;
	pthread_mutex_unlock(&v->lock);
	return write_start(io);
}

/* Under lock: every write completed before the flush came is safe now. */
static void flush_done(struct vol_ctx *v, uint64_t upto)
{
	unsigned int i;

	for (i = 0; i < v->count && v->dropped + i < upto; i++)
		rec_at(v, i)->safe = true;
	v->flushes++;
	drop_safe(v);
}

static int vol_end_io(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res)
{
	struct vol_ctx *v = t->private;
	struct vol_io *vio = io->priv;

	if (ubt_io_is_bg(io) || io->op == UBT_OP_READ)
		return res;
	if (io->op == UBT_OP_FLUSH) {
		if (res >= 0) {
			pthread_mutex_lock(&v->lock);
			/*
			 * Done after a crash came: the log is the rewrite's
			 * now (it walks it unlocked), and nothing is safe.
			 */
			if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VOL_UP)
				flush_done(v, vio->flush_upto);
			else
				res = -EIO;
			pthread_mutex_unlock(&v->lock);
		}
		return res;
	}
	if (vio->before_read) {
		/* The write itself finished (or one written through). */
		write_done(io, vio->logged, res);
		return res;
	}
	if (res < 0) {
		/* The before image could not be read: the write is not sent. */
		unlog_newest(io, res);
		return res;
	}
	vio->before_read = true;
	child = ubt_io_child(io, t->children[0]);
	if (!child) {
		write_done(io, true, -ENOMEM);
		return -ENOMEM;
	}
	child->sector = io->sector;
	child->nr_sectors = io->nr_sectors;
	child->iov = io->iov;
	child->iovcnt = io->iovcnt;
	ubt_io_submit(child);
	return 0;
}

/* ---- Crash ------------------------------------------------------------- */

static void crash_step(struct ubt_target *t, struct ubt_queue *q);

static int crash_io(struct ubt_io *io)
{
	return ubt_io_remap(io, io->t->children[0], io->op == UBT_OP_FLUSH ? 0 : io->sector);
}

static void crash_step_done(struct ubt_io *io, int res)
{
	struct vol_ctx *v = io->t->private;

	(void)res;	/* a crashed disk keeps what it managed to write */
	crash_step(io->t, v->crash_q);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The rewrite is over; the node answers nothing from now on. */
static void crash_finish(struct vol_ctx *v)
{
	pthread_mutex_lock(&v->lock);
	while (v->count)
		drop_head(v);
	v->crash_running = false;
	__atomic_store_n(&v->state, VOL_CRASHED, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
}

/*
 * The next I/O of the rewrite, one at a time on the poked queue's thread:
 * steps 0 .. count-1 restore before images newest first, count ..
 * 2*count-1 replay the survivors oldest first (a torn one sector by
 * sector), step 2*count flushes the child.
 */
static void crash_step(struct ubt_target *t, struct ubt_queue *q)
{
	struct vol_ctx *v = t->private;
	struct vol_rec *r;
	uint8_t op = UBT_OP_WRITE;
	uint64_t sector = 0;
	uint32_t nr = 0, s;
	struct ubt_io *io;
	size_t data = 0;

	for (;;) {
		if (v->step < v->count) {
			r = rec_at(v, v->count - 1 - v->step++);
			sector = r->sector;
			nr = r->nr_sectors;
			data = r->off;
			break;
		}
		if (v->step == 2 * v->count) {
			v->step++;
			op = UBT_OP_FLUSH;
			break;
		}
		if (v->step > 2 * v->count) {
			crash_finish(v);
			return;
		}
		r = rec_at(v, v->step - v->count);
		if (!r->survives || r->failed || v->sector_step == r->nr_sectors) {
			v->sector_step = 0;
			v->step++;
			continue;
		}
		op = r->op;
		data = r->off + ((size_t)r->nr_sectors << UBT_SECTOR_SHIFT);
		if (!r->seed) {
			v->step++;
			sector = r->sector;
			nr = r->nr_sectors;
			break;
		}
		/* Torn: each sector kept or not, by the record's own seed. */
		s = v->sector_step++;
		if (splitmix(&r->seed) & 1) {
			sector = r->sector + s;
			nr = 1;
			data += (size_t)s << UBT_SECTOR_SHIFT;
			break;
		}
	}
	io = ubt_bg_io(q, t, crash_step_done);
	if (!io) {
		crash_finish(v);	/* cannot happen: the node's one tag is free */
		return;
	}
	io->op = op;
	io->flags = 0;
	io->sector = sector;
	io->nr_sectors = nr;
	io->iov = NULL;
	io->iovcnt = 0;
	if (op == UBT_OP_WRITE) {
		v->crash_iov.iov_base = v->arena + data;
		v->crash_iov.iov_len = (size_t)nr << UBT_SECTOR_SHIFT;
		io->iov = &v->crash_iov;
		io->iovcnt = 1;
	}
	ubt_bg_submit(io, crash_io);
}

/* On queue 0: start the rewrite once the write in flight (if any) is done. */
static void vol_poke(struct ubt_target *t, struct ubt_queue *q)
{
	struct vol_ctx *v = t->private;
	bool go;

	pthread_mutex_lock(&v->lock);
	go = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VOL_CRASHING && !v->writing &&
	     !v->crash_running;
	if (go) {
		v->crash_running = true;
		v->crash_q = q;
		v->step = v->sector_step = 0;
	}
	pthread_mutex_unlock(&v->lock);
	if (go)
		crash_step(t, q);
}

/* A disk with a write cache: the kernel must send flushes (and may send FUA). */
static void vol_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	(void)t;
	lim->volatile_cache = true;
	lim->fua = true;
}

static int parse_crash(struct vol_ctx *v, int argc, char **argv, char *out, size_t len)
{
	enum { ALL, PREFIX, RANDOM, TORN } mode = ALL;
	unsigned int i, unsafe = 0, kept = 0, cut;
	uint64_t seed = 0;

	if (argc > 1) {
		if (!strcmp(argv[1], "all"))
			mode = ALL;
		else if (!strcmp(argv[1], "prefix"))
			mode = PREFIX;
		else if (!strcmp(argv[1], "random"))
			mode = RANDOM;
		else if (!strcmp(argv[1], "torn"))
			mode = TORN;
		else
			goto usage;
	}
	if ((mode == ALL && argc > 2) || (mode != ALL && argc != 3) ||
	    (mode != ALL && ubt_parse_uint(argv[2], &seed)))
		goto usage;
	for (i = 0; i < v->count; i++)
		unsafe += !rec_at(v, i)->safe;
	cut = mode == PREFIX && unsafe ? (unsigned int)(splitmix(&seed) % (unsafe + 1)) : 0;
	for (i = 0; i < v->count; i++) {
		struct vol_rec *r = rec_at(v, i);

		r->seed = 0;
		if (r->safe) {
			r->survives = true;
			continue;
		}
		r->survives = mode == PREFIX ? cut && cut-- :
			      mode == RANDOM || mode == TORN ? splitmix(&seed) & 1 : false;
		if (r->survives && mode == TORN)
			r->seed = splitmix(&seed) | 1;
		kept += r->survives;
	}
	snprintf(out, len, "volatile: %u of %u unsafe writes survive the crash", kept, unsafe);
	return 0;
usage:
	snprintf(out, len, "volatile: want crash [all], or crash prefix|random|torn SEED");
	return -EINVAL;
}

static int vol_message(struct ubt_target *t, int argc, char **argv, char *out, size_t len)
{
	struct vol_ctx *v = t->private;
	int ret;

	if (argc < 1 || strcmp(argv[0], "crash")) {
		snprintf(out, len, "volatile: want crash [all], or crash prefix|random|torn SEED");
		return -EINVAL;
	}
	pthread_mutex_lock(&v->lock);
	if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VOL_UP) {
		pthread_mutex_unlock(&v->lock);
		snprintf(out, len, "volatile: crashed already");
		return -EINVAL;
	}
	ret = parse_crash(v, argc, argv, out, len);
	if (!ret)
		__atomic_store_n(&v->state, VOL_CRASHING, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
	if (!ret && ubt_target_poke(t))
		snprintf(out, len, "volatile: no queue thread could be woken: the crash is "
			 "written when the device next starts");
	return ret;
}

static int vol_status(struct ubt_target *t, char *buf, size_t len)
{
	static const char *const state[] = { "up", "crashing", "crashed" };
	struct vol_ctx *v = t->private;
	unsigned int i, unsafe = 0;
	uint64_t bytes = 0;
	int n;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->count; i++) {
		if (!rec_at(v, i)->safe) {
			unsafe++;
			bytes += (uint64_t)rec_at(v, i)->nr_sectors << UBT_SECTOR_SHIFT;
		}
	}
	n = snprintf(buf, len, "%u %llu %llu %s", unsafe, (unsigned long long)bytes,
		     (unsigned long long)v->flushes,
		     state[__atomic_load_n(&v->state, __ATOMIC_ACQUIRE)]);
	pthread_mutex_unlock(&v->lock);
	return n;
}

static struct ubt_target_type volatile_target = {
	.name = "volatile",
	.version = { 1, 0, 0 },
	.flags = UBT_TARGET_NEEDS_DATA,
	.usage = "volatile(CHILD, cache=SIZE)",
	.per_io_size = sizeof(struct vol_io),
	/* The write is sent from the before-image read's end_io, which still holds its slot. */
	.max_fanout = 2,
	.ctr = vol_ctr,
	.dtr = vol_dtr,
	.map = vol_map,
	.end_io = vol_end_io,
	.io_hints = vol_io_hints,
	.status = vol_status,
	.status_usage = "<unsafe writes> <bytes they cover> <flushes> up|crashing|crashed",
	.message = vol_message,
	.message_usage =
		"crash [all]            lose every write not yet flushed (the child\n"
		"                       is rewritten as the last flush left it)\n"
		"crash prefix|random|torn SEED\n"
		"                       some unflushed writes survive: the first k,\n"
		"                       any of them, or parts of them\n",
	/* On each queue that starts, and after a message: a crash asked for is written. */
	.poke = vol_poke,
};
UBT_TARGET_REGISTER(volatile_target)
