// SPDX-License-Identifier: MIT
/*
 * The write journal (journal=NODE; md's raid5-cache in write-through mode,
 * dm-raid's journal_dev): every stripe head of a request writes what it is
 * about to write to the legs -- the new data and the new P and Q of its
 * window -- to the journal first, as one entry with FUA, and only then to
 * the legs.  After a crash every entry that is whole and not yet recorded
 * as flushed is written to the legs again, oldest first, before the array
 * serves.  So no row is ever left with parity that disagrees with its
 * data, and a leg lost after the crash is rebuilt right: the write hole
 * is closed.  (An entry cut short by the crash has not reached any leg.)
 *
 * On the journal node:
 *   byte 0      the superblock (4 KiB): le32 magic 0x524A4E4C, version 1,
 *               the array's shape (rows, legs, level, md algorithm, chunk
 *               sectors), the slot size and count, flags (1: the first
 *               resync is over), le64 checkpoint, le64 journal id (random,
 *               drawn when the journal is new), le32 CRC-32C
 *   byte 4096   nr_slots slots of slot_bytes: a 4 KiB entry header (magic
 *               0x524A454E, CRC-32C of the header and payload, le64 journal
 *               id -- entries of an earlier journal on the same node are
 *               never replayed -- le64 seq,
 *               le64 row, le32 window, le32 legs written, le32 payload
 *               bytes, each leg's window-relative [lo, hi) sectors), then
 *               the payload: each written leg's sectors, in leg order.
 * Entry s goes to slot s % nr_slots, and may only once entry s - nr_slots
 * is at or below the checkpoint.  A checkpoint flushes every leg, then
 * records in the superblock (FUA) the highest entry up to which every
 * entry's leg writes were done before that flush; a replay takes only the
 * whole entries above it, in order, so an entry is never replayed over a
 * later write that no entry holds any more.  Checkpoints run when half
 * the slots wait for one, or a head waits for a slot.
 *
 * Resync: a new journal means a new array, resynced once (unless nosync);
 * once that pass is over the superblock says so, and later starts need no
 * resync at all, crash or not.  Recovery and check/repair writes are not
 * journaled.  A journal write that fails fails its request (the legs were
 * not touched); the next checkpoint or start sees the journal as it is.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ubt/crc32c.h"
#include "ubt/util.h"
#include "raid.h"

#define JR_MAGIC		0x524A4E4Cu
#define JR_ENTRY_MAGIC		0x524A454Eu
#define JR_VERSION		1u
#define JR_SB_BYTES		4096u
#define JR_HDR_BYTES		4096u
#define JR_MIN_SLOTS		4u
#define JR_FLAG_RESYNCED	1u

struct jr_sb {
	uint32_t magic, version;
	uint64_t rows;
	uint32_t legs, level, algo, chunk;
	uint64_t slot_bytes;
	uint32_t nr_slots, flags;
	uint64_t checkpoint;
	uint64_t id;
	uint32_t crc;
} __attribute__((packed));

struct jr_entry {
	uint32_t magic, crc;
	uint64_t id, seq, row;
	uint32_t win, legs, payload;
	uint32_t lo[RAID_MAX_LEGS], hi[RAID_MAX_LEGS];
} __attribute__((packed));

int raid_journal_build(struct ubt_target *t, struct ubt_args *args, struct raid *r)
{
	struct raid_journal *jr = &r->jr;
	uint64_t room;
	unsigned int i;
	int ret;

	if (!ubt_args_has(args, "journal"))
		return 0;
	if (r->bm.node)
		return ubt_target_error(t, EINVAL, "journal= and log= together: the journal "
					"makes every row consistent after a crash, give one");
	ret = ubt_args_key_child(t, args, "journal");
	if (ret)
		return ret;
	jr->node = t->children[t->nr_children - 1];
	for (i = 0; i < r->g.disks; i++) {
		const char *path = ubt_target_shared_file(jr->node, t->children[i]);

		if (path)
			return ubt_target_error(t, EINVAL, "the journal's file %s is leg %u's too",
						path, i);
	}
	jr->slot_bytes = JR_HDR_BYTES + (uint64_t)r->g.disks * (r->win << UBT_SECTOR_SHIFT);
	room = jr->node->len << UBT_SECTOR_SHIFT;
	jr->nr_slots = room > JR_SB_BYTES ? (uint32_t)UBT_MIN((room - JR_SB_BYTES) / jr->slot_bytes,
							      1u << 20) : 0;
	if (jr->nr_slots < JR_MIN_SLOTS)
		return ubt_target_error(t, EINVAL, "the journal (%llu bytes) is too small: it needs "
					"%u slots of %llu bytes (a window of every leg) and 4 KiB; "
					"%u slots, one per stripe head, let every head write at once",
					(unsigned long long)room, JR_MIN_SLOTS,
					(unsigned long long)jr->slot_bytes, RAID_HEADS);
	jr->slot_seq = calloc(jr->nr_slots, sizeof(*jr->slot_seq));
	jr->slot_done = calloc(jr->nr_slots, 1);
	if (!jr->slot_seq || !jr->slot_done || posix_memalign((void **)&jr->sb, 4096, JR_SB_BYTES) ||
	    posix_memalign(&jr->sb_buf, 4096, JR_SB_BYTES))
		return ubt_target_error(t, ENOMEM, "out of memory for the journal");
	return 0;
}

void raid_journal_free(struct raid *r)
{
	struct raid_journal *jr = &r->jr;

	free(jr->slot_seq);
	free(jr->slot_done);
	free(jr->sb);
	free(jr->sb_buf);
}

/* The superblock as it must be now: the checkpoint given, the flags as they are. */
static void sb_fill(const struct raid *r, uint64_t checkpoint)
{
	const struct raid_journal *jr = &r->jr;
	struct jr_sb sb = {
		.magic = htole32(JR_MAGIC),
		.version = htole32(JR_VERSION),
		.rows = htole64(r->rows),
		.legs = htole32(r->g.disks),
		.level = htole32(r->g.level),
		.algo = htole32((uint32_t)r->g.algo),
		.chunk = htole32((uint32_t)r->g.chunk),
		.slot_bytes = htole64(jr->slot_bytes),
		.nr_slots = htole32(jr->nr_slots),
		.flags = htole32(jr->resynced ? JR_FLAG_RESYNCED : 0),
		.checkpoint = htole64(checkpoint),
		.id = htole64(jr->id),
	};

	sb.crc = htole32(ubt_crc32c(0, &sb, sizeof(sb)));
	memset(jr->sb, 0, JR_SB_BYTES);
	memcpy(jr->sb, &sb, sizeof(sb));
}

static bool entry_valid(const struct jr_entry *e, const uint8_t *slot, uint64_t slot_bytes,
			uint64_t checkpoint, uint64_t id)
{
	struct jr_entry h = *e;
	uint32_t crc;

	if (le32toh(h.magic) != JR_ENTRY_MAGIC || le64toh(h.id) != id ||
	    le64toh(h.seq) <= checkpoint ||
	    le32toh(h.payload) > slot_bytes - JR_HDR_BYTES)
		return false;
	crc = le32toh(h.crc);
	h.crc = 0;
	return crc == ubt_crc32c(ubt_crc32c(0, &h, sizeof(h)), slot + JR_HDR_BYTES,
				 le32toh(h.payload));
}

struct jr_found {
	uint64_t seq;
	uint32_t slot;
};

static int found_cmp(const void *a, const void *b)
{
	const struct jr_found *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Write entry e (in slot, payload after the header) to the legs. */
static int replay_entry(struct raid *r, struct ubt_node_io **legs, const uint8_t *slot)
{
	const struct jr_entry *e = (const struct jr_entry *)slot;
	uint32_t mask = le32toh(e->legs);
	uint64_t row = le64toh(e->row), win = le32toh(e->win), off = JR_HDR_BYTES;
	unsigned int leg;
	int ret;

	if (row >= r->rows || win >= r->nr_wins || mask >> r->g.disks)
		return -EINVAL;
	for (leg = 0; leg < r->g.disks; leg++) {
		uint32_t lo = le32toh(e->lo[leg]), hi = le32toh(e->hi[leg]);
		size_t len = (size_t)(hi - lo) << UBT_SECTOR_SHIFT;

		if (!(mask & (1u << leg)))
			continue;
		if (lo >= hi || hi > r->win || off + len > JR_HDR_BYTES + le32toh(e->payload))
			return -EINVAL;
		ret = ubt_node_io(legs[leg], UBT_OP_WRITE, 0,
				  (row * r->g.chunk + win * r->win + lo) << UBT_SECTOR_SHIFT,
				  (void *)(slot + off), len);
		if (ret)
			return ret;
		off += len;
	}
	return 0;
}

/* Replay what the journal holds above its checkpoint; the highest entry in *last. */
static int replay(struct raid *r, struct ubt_node_io *n, const struct jr_sb *sb, uint64_t *last)
{
	uint64_t slot_bytes = le64toh(sb->slot_bytes), checkpoint = le64toh(sb->checkpoint);
	uint32_t nr = le32toh(sb->nr_slots), i, nf = 0;
	struct ubt_node_io *legs[RAID_MAX_LEGS] = { 0 };
	struct jr_found *found = NULL;
	uint8_t *slot = NULL;
	unsigned int leg;
	int ret = 0;

	*last = checkpoint;
	if (slot_bytes < JR_HDR_BYTES || slot_bytes % 4096 || slot_bytes > (64ull << 20) ||
	    JR_SB_BYTES + nr * slot_bytes > (r->jr.node->len << UBT_SECTOR_SHIFT))
		return ubt_target_error(r->t, EINVAL, "journal: its superblock's slots (%u of %llu "
					"bytes) do not fit it", nr, (unsigned long long)slot_bytes);
	found = calloc(nr ? nr : 1, sizeof(*found));
	if (!found || posix_memalign((void **)&slot, 4096, slot_bytes)) {
		ret = ubt_target_error(r->t, ENOMEM, "out of memory for the journal");
		goto out;
	}
	for (i = 0; i < nr; i++) {
		ret = ubt_node_io(n, UBT_OP_READ, 0, JR_SB_BYTES + i * slot_bytes, slot, slot_bytes);
		if (ret) {
			ret = ubt_target_error(r->t, -ret, "journal: cannot read slot %u: %s", i,
					       strerror(-ret));
			goto out;
		}
		if (entry_valid((const struct jr_entry *)slot, slot, slot_bytes, checkpoint,
				le64toh(sb->id)))
			found[nf++] = (struct jr_found){
				le64toh(((const struct jr_entry *)slot)->seq), i };
	}
	qsort(found, nf, sizeof(*found), found_cmp);
	for (leg = 0; leg < r->g.disks && nf; leg++) {
		ret = ubt_node_io_open(raid_leg_node(r, leg), &legs[leg]);
		if (ret) {
			ret = ubt_target_error(r->t, -ret, "journal: leg %u: %s", leg, strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < nf; i++) {
		ret = ubt_node_io(n, UBT_OP_READ, 0, JR_SB_BYTES + found[i].slot * slot_bytes, slot,
				  slot_bytes);
		if (!ret)
			ret = replay_entry(r, legs, slot);
		if (ret) {
			ret = ubt_target_error(r->t, -ret, "journal: replaying entry %llu: %s",
					       (unsigned long long)found[i].seq, strerror(-ret));
			goto out;
		}
		*last = found[i].seq;
	}
	r->jr.replayed = nf;
	for (leg = 0; leg < r->g.disks && nf; leg++) {
		ret = ubt_node_io(legs[leg], UBT_OP_FLUSH, 0, 0, NULL, 0);
		if (ret) {
			ret = ubt_target_error(r->t, -ret, "journal: leg %u did not flush: %s", leg,
					       strerror(-ret));
			goto out;
		}
	}
out:
	for (leg = 0; leg < r->g.disks; leg++)
		if (legs[leg])
			ubt_node_io_close(legs[leg]);
	free(found);
	free(slot);
	return ret;
}

int raid_journal_load(struct raid *r, bool *resync)
{
	struct raid_journal *jr = &r->jr;
	struct ubt_target *t = r->t;
	struct ubt_node_io *n;
	struct jr_sb sb, want;
	uint64_t last = 0;
	uint32_t crc;
	bool found;
	int ret;

	ret = ubt_target_keeps_state(t);
	if (ret)
		return ret;
	ret = ubt_node_io_open(jr->node, &n);
	if (ret)
		return ubt_target_error(t, -ret, "journal: %s", strerror(-ret));
	ret = ubt_node_io(n, UBT_OP_READ, 0, 0, jr->sb, JR_SB_BYTES);
	if (ret) {
		ubt_node_io_close(n);
		return ubt_target_error(t, -ret, "journal: cannot read it: %s", strerror(-ret));
	}
	memcpy(&sb, jr->sb, sizeof(sb));
	found = le32toh(sb.magic) == JR_MAGIC;
	if (found) {
		crc = le32toh(sb.crc);
		sb.crc = 0;
		if (crc != ubt_crc32c(0, &sb, sizeof(sb)) || le32toh(sb.version) != JR_VERSION) {
			ubt_node_io_close(n);
			return ubt_target_error(t, EINVAL, "journal: its superblock is damaged "
						"(checksum or version): zero it to start afresh "
						"with a full resync");
		}
		sb_fill(r, 0);
		memcpy(&want, jr->sb, sizeof(want));
		if (sb.rows != want.rows || sb.legs != want.legs || sb.level != want.level ||
		    sb.algo != want.algo || sb.chunk != want.chunk) {
			ubt_node_io_close(n);
			return ubt_target_error(t, EINVAL, "journal: it was written for a raid%u of %u "
						"legs, chunk %llu, %llu rows (this array: raid%u, %u "
						"legs, chunk %llu, %llu rows): zero it to start afresh",
						le32toh(sb.level), le32toh(sb.legs),
						(unsigned long long)le32toh(sb.chunk) << UBT_SECTOR_SHIFT,
						(unsigned long long)le64toh(sb.rows), r->g.level,
						r->g.disks,
						(unsigned long long)r->g.chunk << UBT_SECTOR_SHIFT,
						(unsigned long long)r->rows);
		}
		ret = replay(r, n, &sb, &last);
		if (ret) {
			ubt_node_io_close(n);
			return ret;
		}
	}
	/* A new journal gets an id of its own: what an earlier one left in the slots is not its. */
	if (found) {
		jr->id = le64toh(sb.id);
	} else if (getrandom(&jr->id, sizeof(jr->id), 0) != sizeof(jr->id)) {
		ubt_node_io_close(n);
		return ubt_target_error(t, errno, "journal: no random id: %s", strerror(errno));
	}
	/* nosync says the legs agree; a found journal knows whether the first resync ended. */
	jr->resynced = r->nosync || (found && (le32toh(sb.flags) & JR_FLAG_RESYNCED));
	*resync = !jr->resynced;
	/* Entries up to `last` are on the legs: the slots start empty. */
	jr->checkpoint = jr->done_upto = last;
	jr->next_seq = last + 1;
	sb_fill(r, last);
	ret = ubt_node_io(n, UBT_OP_WRITE, UBT_IO_FUA, 0, jr->sb, JR_SB_BYTES);
	ubt_node_io_close(n);
	if (ret)
		return ubt_target_error(t, -ret, "journal: cannot write it: %s", strerror(-ret));
	if (found)
		fprintf(stderr, "%s: the journal (node %u, %u slots) wrote %llu entries to the legs "
			"again%s\n", t->type->name, jr->node->id, jr->nr_slots,
			(unsigned long long)jr->replayed,
			*resync ? "; the first resync had not ended: it starts over" : "");
	else
		fprintf(stderr, "%s: the journal (node %u, %u slots) is new%s\n", t->type->name,
			jr->node->id, jr->nr_slots, *resync ? ": every row is resynced once" : "");
	return 0;
}

void raid_journal_stop(struct raid *r)
{
	struct raid_journal *jr = &r->jr;
	struct ubt_node_io *n;
	int ret;

	if (!jr->node || !__atomic_load_n(&jr->started, __ATOMIC_RELAXED) ||
	    jr->checkpointing || jr->done_upto + 1 != jr->next_seq)
		return;		/* entries not done stay to be replayed */
	ret = raid_sync_legs(r);
	if (!ret)
		ret = ubt_node_io_open(jr->node, &n);
	if (!ret) {
		sb_fill(r, jr->done_upto);
		ret = ubt_node_io(n, UBT_OP_WRITE, UBT_IO_FUA, 0, jr->sb, JR_SB_BYTES);
		ubt_node_io_close(n);
	}
	if (ret)
		fprintf(stderr, "%s: the journal was not brought up to date (%s): the next start "
			"writes its entries to the legs again\n", r->t->type->name, strerror(-ret));
}

void raid_journal_resynced(struct raid *r)
{
	r->jr.resynced = true;
}

/* ---- Entries -------------------------------------------------------------- */

static int journal_resume(struct ubt_io *bg)
{
	return raid_journal_write(bg, ((struct raid_io *)bg->priv)->head);
}

int raid_journal_write(struct ubt_io *bg, struct raid_head *h)
{
	struct raid *r = h->r;
	struct raid_journal *jr = &r->jr;
	struct jr_entry e = { 0 };
	struct ubt_io *c;
	uint64_t seq, off = JR_HDR_BYTES;
	uint32_t slot;
	unsigned int leg;

	__atomic_store_n(&jr->started, true, __ATOMIC_RELAXED);
	if (__atomic_load_n(&jr->failed, __ATOMIC_ACQUIRE)) {
		h->phase = -1;		/* no journal, no write: the legs stay as they were */
		return 0;
	}
	pthread_mutex_lock(&r->lock);
	seq = jr->next_seq;
	slot = (uint32_t)(seq % jr->nr_slots);
	if (jr->slot_seq[slot] > jr->checkpoint) {
		/* The slot's entry is not flushed and recorded yet: wait for a checkpoint. */
		struct raid_io *bp = bg->priv;

		ubt_io_wait(bg, &bp->wait, journal_resume);
		bp->wait.next = jr->waiters;
		jr->waiters = &bp->wait;
		pthread_mutex_unlock(&r->lock);
		raid_journal_kick(r, bg->q);
		return 0;
	}
	jr->next_seq++;
	jr->slot_seq[slot] = seq;
	jr->slot_done[slot] = 0;
	pthread_mutex_unlock(&r->lock);

	h->jseq = seq;
	e.magic = htole32(JR_ENTRY_MAGIC);
	e.id = htole64(jr->id);
	e.seq = htole64(seq);
	e.row = htole64(h->row);
	e.win = htole32(h->win);
	e.legs = htole32(h->wmask);
	for (leg = 0; leg < r->g.disks; leg++) {
		size_t len;

		if (!(h->wmask & (1u << leg)))
			continue;
		len = (size_t)(h->whi[leg] - h->wlo[leg]) << UBT_SECTOR_SHIFT;
		e.lo[leg] = htole32(h->wlo[leg]);
		e.hi[leg] = htole32(h->whi[leg]);
		memcpy((char *)h->jbuf + off, raid_head_data(h, leg, h->wlo[leg]), len);
		off += len;
	}
	e.payload = htole32((uint32_t)(off - JR_HDR_BYTES));
	e.crc = htole32(ubt_crc32c(ubt_crc32c(0, &e, sizeof(e)), (char *)h->jbuf + JR_HDR_BYTES,
				   off - JR_HDR_BYTES));
	memset(h->jbuf, 0, JR_HDR_BYTES);
	memcpy(h->jbuf, &e, sizeof(e));

	c = ubt_io_child(bg, jr->node);
	if (ubt_unlikely(!c))
		return -ENOMEM;
	h->phase = 3;
	h->outstanding = 1;
	c->op = UBT_OP_WRITE;
	c->flags = UBT_IO_FUA;
	c->sector = (JR_SB_BYTES + (uint64_t)slot * jr->slot_bytes) >> UBT_SECTOR_SHIFT;
	c->nr_sectors = (uint32_t)(off >> UBT_SECTOR_SHIFT);
	h->jiov = (struct iovec){ h->jbuf, off };
	c->iov = &h->jiov;
	c->iovcnt = 1;
	ubt_io_submit(c);
	return 0;
}

void raid_journal_entry_done(struct raid *r, struct ubt_queue *q, struct raid_head *h)
{
	struct raid_journal *jr = &r->jr;
	uint64_t s;

	if (h->jfailed && !__atomic_exchange_n(&jr->failed, 1, __ATOMIC_ACQ_REL))
		fprintf(stderr, "%s: a journal write failed: writes fail from now on (the legs "
			"hold what the journal had)\n", r->t->type->name);
	pthread_mutex_lock(&r->lock);
	jr->slot_done[h->jseq % jr->nr_slots] = 1;
	for (s = jr->done_upto + 1; s < jr->next_seq; s++) {
		uint32_t slot = (uint32_t)(s % jr->nr_slots);

		if (jr->slot_seq[slot] != s || !jr->slot_done[slot])
			break;
		jr->done_upto = s;
	}
	pthread_mutex_unlock(&r->lock);
	h->jseq = 0;
	h->jfailed = false;
	raid_journal_kick(r, q);
}

/* ---- Checkpoints ---------------------------------------------------------- */

static void bg_init(struct ubt_io *io)
{
	struct raid_io *p = io->priv;

	p->head = NULL;
	p->log = false;
	p->journal = true;
}

/*
 * The checkpoint is over: recorded (advanced), or not -- a leg did not
 * flush (it is failed now; the next one goes without it), or the
 * superblock write failed (res).
 */
static void checkpoint_done(struct raid *r, struct ubt_queue *q, bool advanced, int res)
{
	struct raid_journal *jr = &r->jr;
	struct ubt_io_wait *w;

	if (res < 0 && !__atomic_exchange_n(&jr->failed, 1, __ATOMIC_ACQ_REL))
		fprintf(stderr, "%s: the journal's superblock could not be written (%s): writes "
			"fail from now on\n", r->t->type->name, strerror(-res));
	pthread_mutex_lock(&r->lock);
	if (advanced && res >= 0)
		jr->checkpoint = jr->cp_target;
	jr->checkpointing = false;
	w = jr->waiters;
	jr->waiters = NULL;
	pthread_mutex_unlock(&r->lock);
	ubt_io_wake_all(q, w);
	raid_journal_kick(r, q);
}

static void sb_written(struct ubt_io *io, int res)
{
	checkpoint_done(io->t->private, io->q, true, res);
}

static int write_sb(struct ubt_io *io)
{
	struct raid *r = io->t->private;

	io->sector = 0;
	io->nr_sectors = JR_SB_BYTES >> UBT_SECTOR_SHIFT;
	io->flags = UBT_IO_FUA;
	r->jr.sb_iov = (struct iovec){ r->jr.sb_buf, JR_SB_BYTES };
	io->iov = &r->jr.sb_iov;
	io->iovcnt = 1;
	return ubt_io_remap(io, r->jr.node, 0);
}

static void legs_flushed(struct ubt_io *io, int res)
{
	struct raid *r = io->t->private;
	struct ubt_queue *q = io->q;
	struct ubt_io *w;

	if (res < 0) {
		checkpoint_done(r, q, false, 0);
		return;
	}
	w = ubt_bg_io(q, r->t, sb_written);
	if (!w) {
		checkpoint_done(r, q, false, -EBUSY);
		return;
	}
	bg_init(w);
	w->op = UBT_OP_WRITE;
	ubt_bg_submit(w, write_sb);
}

void raid_journal_kick(struct raid *r, struct ubt_queue *q)
{
	struct raid_journal *jr = &r->jr;
	struct ubt_io *io;

	if (!jr->node)
		return;
	pthread_mutex_lock(&r->lock);
	/*
	 * A stopping (or suspending) queue still drains its requests: a head
	 * waiting for a slot gets its checkpoint all the same.
	 */
	if (jr->checkpointing || jr->done_upto <= jr->checkpoint ||
	    (!jr->waiters && (ubt_queue_stopping(q) ||
			      jr->done_upto - jr->checkpoint < jr->nr_slots / 2))) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	jr->checkpointing = true;
	jr->cp_target = jr->done_upto;
	sb_fill(r, jr->cp_target);
	memcpy(jr->sb_buf, jr->sb, JR_SB_BYTES);
	pthread_mutex_unlock(&r->lock);
	io = ubt_bg_io(q, r->t, legs_flushed);
	if (!io) {
		checkpoint_done(r, q, false, -EBUSY);
		return;
	}
	bg_init(io);
	io->op = UBT_OP_FLUSH;
	ubt_bg_submit(io, raid_flush_legs);
}

int raid_journal_end_io(struct raid *r, struct ubt_io *io, struct ubt_io *child, int res)
{
	int leg;

	(void)io;
	if (res < 0 && child->op == UBT_OP_FLUSH) {
		leg = raid_leg_of(r, child->t);
		if (leg >= 0 && res != -EOPNOTSUPP) {
			raid_fail_leg(r, (unsigned int)leg);
			return res;	/* no checkpoint over a leg that did not flush */
		}
		return 0;
	}
	return res;
}
