// SPDX-License-Identifier: MIT
/*
 * The write-intent log (md's write-intent bitmap, md-bitmap.c's job): a
 * node of its own (log=NODE) with one bit per region of region= bytes of
 * each leg (a power of two, a whole number of rows).  After a stop that
 * was not clean, only the regions whose bit is set are resynced.
 *
 * On the log node, read and written as one unit of round_up(512 + bitmap
 * bytes, the node's block size):
 *   byte 0    le32 magic 0x52574C47, le32 version 1,
 *             le64 regions, le64 region sectors, le64 rows,
 *             le32 legs, le32 level, le32 md algorithm, le32 chunk sectors
 *   byte 512  the bitmap, little-endian bit order: bit r set = region r may
 *             hold parity that disagrees with its data
 * A log whose shape is not this array's is refused: its bits would name
 * other rows.
 *
 * The rules, md's:
 *   - a write counts itself in its regions; a region whose bit is not set
 *     on disk gets it set by the next log write, and the request goes to
 *     the legs only once that write is done (with FUA);
 *   - a region whose writes are done and that the resync need not visit is
 *     idle; its bit is cleared lazily, when more than RAID_BITMAP_IDLE
 *     regions are idle (md clears after a few seconds), and at a clean
 *     stop.  A log write that clears bits first flushes every leg, so no
 *     bit is cleared before its region's data and parity are stable;
 *   - one log write in flight at a time, carrying a copy of the image
 *     taken when it started: an older image never lands after a newer.
 * A log write that fails is reported once; writes go on, unlogged.
 *
 * What the log does not promise (md's write hole): a crash during a
 * write followed by the loss of a leg before the resync has rewritten
 * that region's parity can leave the lost leg's data in that row wrong.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/util.h"
#include "raid.h"

#define BM_MAGIC		0x52574C47u
#define BM_VERSION		1u
#define BM_BITS_AT		512u		/* byte offset of the bitmap */
#define RAID_BITMAP_IDLE	16u		/* idle regions kept set before a clearing write */
#define RAID_DEFAULT_REGION	(4ull << 20)	/* dm-raid's default region_size: 4 MiB */

struct bm_header {
	uint32_t magic, version;
	uint64_t regions, region_sectors, rows;
	uint32_t legs, level, algo, chunk;
} __attribute__((packed));

static uint64_t region_sectors(const struct raid *r)
{
	return r->g.chunk << r->bm.rows_shift;
}

static bool image_test(const struct raid_bitmap *bm, uint64_t reg)
{
	return bm->image[BM_BITS_AT + reg / 8] >> (reg % 8) & 1;
}

static void image_set(struct raid_bitmap *bm, uint64_t reg, bool on)
{
	uint8_t *b = &bm->image[BM_BITS_AT + reg / 8];

	*b = on ? (uint8_t)(*b | 1u << (reg % 8)) : (uint8_t)(*b & ~(1u << (reg % 8)));
}

static void header_fill(const struct raid *r, struct bm_header *h)
{
	h->magic = htole32(BM_MAGIC);
	h->version = htole32(BM_VERSION);
	h->regions = htole64(r->bm.nr_regions);
	h->region_sectors = htole64(region_sectors(r));
	h->rows = htole64(r->rows);
	h->legs = htole32(r->g.disks);
	h->level = htole32(r->g.level);
	h->algo = htole32((uint32_t)r->g.algo);
	h->chunk = htole32((uint32_t)r->g.chunk);
}

int raid_bitmap_build(struct ubt_target *t, struct ubt_args *args, struct raid *r,
		      bool force_sync)
{
	struct raid_bitmap *bm = &r->bm;
	uint64_t region = RAID_DEFAULT_REGION, chunk = r->g.chunk << UBT_SECTOR_SHIFT;
	uint32_t block;
	unsigned int i;
	size_t words;
	int ret;

	ret = ubt_args_size(t, args, "region", &region);
	if (ret && ret != -ENOENT)
		return ret;
	/* dm-raid's rule: a region is at least a chunk (and here a power of two). */
	if (!ret && (!ubt_is_power_of_2(region) || region < chunk))
		return ubt_target_error(t, EINVAL, "region=%llu must be a power of two of at least "
					"the chunk (%llu bytes)", (unsigned long long)region,
					(unsigned long long)chunk);
	if (!ret && ubt_args_has(args, "journal") && !ubt_args_has(args, "log"))
		return ubt_target_error(t, EINVAL, "region= sizes the write-intent log, which a "
					"journal replaces: not with journal=");
	if (!ret)
		r->region_arg = region;
	if (!ubt_args_has(args, "log")) {
		/* Kept for the dm-raid table: there region_size is checked, and without metadata devices not used. */
		if (force_sync && !ubt_args_has(args, "journal"))
			return ubt_target_error(t, EINVAL, "sync needs a log or a journal: without "
						"one every start resyncs every row");
		return 0;
	}
	ret = ubt_args_key_child(t, args, "log");
	if (ret)
		return ret;
	bm->node = t->children[t->nr_children - 1];
	for (i = 0; i < r->g.disks; i++) {
		const char *path = ubt_target_shared_file(bm->node, t->children[i]);

		if (path)
			return ubt_target_error(t, EINVAL, "the log's file %s is leg %u's too", path,
						i);
	}
	bm->rows_shift = (unsigned int)ubt_ilog2(region / chunk);
	bm->nr_regions = (r->rows + (1ull << bm->rows_shift) - 1) >> bm->rows_shift;
	block = bm->node->limits.logical_block_size;
	bm->io_bytes = UBT_ROUND_UP(BM_BITS_AT + UBT_ROUND_UP(bm->nr_regions, 64) / 8,
				    (uint64_t)block);
	if ((bm->node->len << UBT_SECTOR_SHIFT) < bm->io_bytes)
		return ubt_target_error(t, EINVAL, "the log (%llu bytes) is too small: %llu regions "
					"need %zu bytes",
					(unsigned long long)(bm->node->len << UBT_SECTOR_SHIFT),
					(unsigned long long)bm->nr_regions, bm->io_bytes);
	words = (size_t)UBT_ROUND_UP(bm->nr_regions, 64) / 64;
	bm->resync = calloc(words, sizeof(uint64_t));
	bm->writes = calloc(bm->nr_regions, sizeof(uint32_t));
	bm->mark_gen = calloc(bm->nr_regions, sizeof(uint32_t));
	if (!bm->resync || !bm->writes || !bm->mark_gen ||
	    posix_memalign((void **)&bm->image, 4096, bm->io_bytes) ||
	    posix_memalign(&bm->buf, 4096, bm->io_bytes))
		return ubt_target_error(t, ENOMEM, "out of memory for the log");
	memset(bm->image, 0, bm->io_bytes);
	return 0;
}

void raid_bitmap_free(struct raid *r)
{
	struct raid_bitmap *bm = &r->bm;

	free(bm->resync);
	free(bm->writes);
	free(bm->mark_gen);
	free(bm->image);
	free(bm->buf);
}

/* What the log on disk says about the array's shape, when it is not this one's. */
static bool shape_differs(const struct raid *r, const struct bm_header *disk, char *why,
			  size_t len)
{
	struct bm_header want;

	header_fill(r, &want);
	if (!memcmp(&want, disk, sizeof(want)))
		return false;
	snprintf(why, len, "log: it was written for a raid%u of %u legs, chunk %llu, %llu rows, "
		 "region %llu (this array: raid%u, %u legs, chunk %llu, %llu rows, region %llu): "
		 "zero it to start afresh with a full resync", le32toh(disk->level),
		 le32toh(disk->legs), (unsigned long long)le32toh(disk->chunk) << UBT_SECTOR_SHIFT,
		 (unsigned long long)le64toh(disk->rows),
		 (unsigned long long)le64toh(disk->region_sectors) << UBT_SECTOR_SHIFT, r->g.level,
		 r->g.disks, (unsigned long long)r->g.chunk << UBT_SECTOR_SHIFT,
		 (unsigned long long)r->rows, (unsigned long long)region_sectors(r) << UBT_SECTOR_SHIFT);
	return true;
}

int raid_bitmap_load(struct raid *r, bool force_sync)
{
	struct raid_bitmap *bm = &r->bm;
	struct ubt_target *t = r->t;
	struct ubt_node_io *n;
	struct bm_header h;
	bool found;
	char why[384];
	uint64_t reg;
	int ret;

	ret = ubt_target_keeps_state(t);
	if (ret)
		return ret;
	ret = ubt_node_io_open(bm->node, &n);
	if (ret)
		return ubt_target_error(t, -ret, "log: %s", strerror(-ret));
	ret = ubt_node_io(n, UBT_OP_READ, 0, 0, bm->image, bm->io_bytes);
	if (ret) {
		ubt_node_io_close(n);
		return ubt_target_error(t, -ret, "log: cannot read it: %s", strerror(-ret));
	}
	memcpy(&h, bm->image, sizeof(h));
	/* No magic: a log never written (zeroes), a new array. */
	found = le32toh(h.magic) == BM_MAGIC;
	if (found && le32toh(h.version) != BM_VERSION) {
		ubt_node_io_close(n);
		return ubt_target_error(t, EINVAL, "log: version %u, this node reads %u",
					le32toh(h.version), BM_VERSION);
	}
	if (found && shape_differs(r, &h, why, sizeof(why))) {
		ubt_node_io_close(n);
		return ubt_target_error(t, EINVAL, "%s", why);
	}
	/*
	 * A found log is trusted unless told sync (resync all) or nosync
	 * (nothing); a new one means a new array: resync all unless nosync.
	 */
	for (reg = 0; reg < bm->nr_regions; reg++) {
		bool set = r->nosync ? false : force_sync || !found ? true : image_test(bm, reg);

		raid_bit_set(bm->resync, reg, set);
		bm->dirty_at_start += set;
	}
	memset(bm->image, 0, bm->io_bytes);
	header_fill(r, &h);
	memcpy(bm->image, &h, sizeof(h));
	for (reg = 0; reg < bm->nr_regions; reg++)
		image_set(bm, reg, raid_bit_test(bm->resync, reg));
	ret = ubt_node_io(n, UBT_OP_WRITE, UBT_IO_FUA, 0, bm->image, bm->io_bytes);
	ubt_node_io_close(n);
	if (ret)
		return ubt_target_error(t, -ret, "log: cannot write it: %s", strerror(-ret));
	/* What a start after a crash costs: say it. */
	fprintf(stderr, "%s: the log (node %u) records %llu of %llu regions to resync%s\n",
		t->type->name, bm->node->id, (unsigned long long)bm->dirty_at_start,
		(unsigned long long)bm->nr_regions,
		!found && !r->nosync ? " (a new log: every region)" : "");
	return 0;
}

void raid_bitmap_stop(struct raid *r)
{
	struct raid_bitmap *bm = &r->bm;
	struct ubt_node_io *n;
	uint64_t reg;
	int ret;

	if (!bm->node || !__atomic_load_n(&bm->started, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&bm->failed, __ATOMIC_ACQUIRE) || bm->writing)
		return;
	ret = raid_sync_legs(r);
	if (ret) {
		fprintf(stderr, "%s: a leg did not flush (%s): the log keeps its bits, the next "
			"start resyncs those regions\n", r->t->type->name, strerror(-ret));
		return;
	}
	for (reg = 0; reg < bm->nr_regions; reg++)
		image_set(bm, reg, raid_bit_test(bm->resync, reg));
	ret = ubt_node_io_open(bm->node, &n);
	if (!ret) {
		ret = ubt_node_io(n, UBT_OP_WRITE, UBT_IO_FUA, 0, bm->image, bm->io_bytes);
		ubt_node_io_close(n);
	}
	if (ret)
		fprintf(stderr, "%s: the log was not written clean (%s): the next start resyncs "
			"the regions it has set\n", r->t->type->name, strerror(-ret));
}

/* ---- Writes in regions ------------------------------------------------ */

static void request_regions(const struct raid *r, const struct ubt_io *io, uint64_t *g0,
			    uint64_t *g1)
{
	uint64_t per_row = r->g.chunk * r->g.data;

	*g0 = (io->sector / per_row) >> r->bm.rows_shift;
	*g1 = ((io->sector + io->nr_sectors - 1) / per_row) >> r->bm.rows_shift;
}

bool raid_bitmap_write_begin(struct raid *r, struct ubt_io *io, int (*resume)(struct ubt_io *))
{
	struct raid_bitmap *bm = &r->bm;
	struct raid_io *p = io->priv;
	uint64_t g0, g1, reg;
	uint32_t need = 0;

	__atomic_store_n(&bm->started, true, __ATOMIC_RELAXED);
	request_regions(r, io, &g0, &g1);
	pthread_mutex_lock(&r->lock);
	for (reg = g0; reg <= g1; reg++) {
		if (!image_test(bm, reg)) {
			image_set(bm, reg, true);
			bm->mark_gen[reg] = bm->gen + 1;
			bm->dirty = true;
		} else if (!bm->writes[reg] && !raid_bit_test(bm->resync, reg)) {
			bm->idle--;	/* set and idle until now */
		}
		bm->writes[reg]++;
		if (bm->mark_gen[reg] > bm->done)
			need = UBT_MAX(need, bm->mark_gen[reg]);
	}
	if (!need || __atomic_load_n(&bm->failed, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&r->lock);
		return false;
	}
	/* Counted; it goes on once the log write carrying its bits is done. */
	ubt_io_wait(io, &p->wait, resume);
	if (bm->writing && need == bm->gen) {
		p->wait.next = bm->cur;
		bm->cur = &p->wait;
	} else {
		p->wait.next = bm->next;
		bm->next = &p->wait;
	}
	pthread_mutex_unlock(&r->lock);
	raid_bitmap_kick(r, io->q);
	return true;
}

/* Under r->lock: clear every idle region's bit in the image. */
static void clear_idle(struct raid_bitmap *bm)
{
	uint64_t reg;

	for (reg = 0; reg < bm->nr_regions; reg++)
		if (image_test(bm, reg) && !bm->writes[reg] && !raid_bit_test(bm->resync, reg)) {
			image_set(bm, reg, false);
			bm->mark_gen[reg] = 0;
		}
	bm->idle = 0;
	bm->dirty = true;
	bm->cleaned = true;
}

void raid_bitmap_write_end(struct raid *r, struct ubt_queue *q, const struct ubt_io *io)
{
	struct raid_bitmap *bm = &r->bm;
	uint64_t g0, g1, reg;
	bool write = false;

	request_regions(r, io, &g0, &g1);
	pthread_mutex_lock(&r->lock);
	for (reg = g0; reg <= g1; reg++)
		if (!--bm->writes[reg] && !raid_bit_test(bm->resync, reg))
			bm->idle++;
	if (bm->idle > RAID_BITMAP_IDLE) {
		clear_idle(bm);
		write = true;
	}
	pthread_mutex_unlock(&r->lock);
	if (write)
		raid_bitmap_kick(r, q);
}

/* ---- The resync and the log ---------------------------------------------- */

void raid_bitmap_synced_below(struct raid *r, uint64_t row)
{
	struct raid_bitmap *bm = &r->bm;

	while (bm->pass_region < bm->nr_regions &&
	       UBT_MIN((bm->pass_region + 1) << bm->rows_shift, r->rows) <= row) {
		uint64_t reg = bm->pass_region++;

		if (!raid_bit_test(bm->resync, reg))
			continue;
		raid_bit_set(bm->resync, reg, false);
		/* Its bit stays set until cleared with the other idle ones. */
		if (!bm->writes[reg] && image_test(bm, reg))
			bm->idle++;
	}
}

void raid_bitmap_resync_all(struct raid *r)
{
	struct raid_bitmap *bm = &r->bm;
	uint64_t reg;

	for (reg = 0; reg < bm->nr_regions; reg++) {
		if (raid_bit_test(bm->resync, reg))
			continue;
		if (!bm->writes[reg] && image_test(bm, reg))
			bm->idle--;
		raid_bit_set(bm->resync, reg, true);
	}
	bm->pass_region = 0;
}

uint64_t raid_bitmap_next_row(const struct raid *r, uint64_t row)
{
	const struct raid_bitmap *bm = &r->bm;
	uint64_t reg;

	for (reg = row >> bm->rows_shift; reg < bm->nr_regions; reg++)
		if (raid_bit_test(bm->resync, reg))
			return UBT_MAX(row, reg << bm->rows_shift);
	return r->rows;
}

/* ---- Writing the log ----------------------------------------------------- */

static void log_bg_io_init(struct ubt_io *io)
{
	struct raid_io *p = io->priv;

	p->head = NULL;
	p->log = true;
	p->journal = false;
}

/* The write in flight is over: its waiters go on, and the next starts. */
static void log_write_done(struct raid *r, struct ubt_queue *q, int res)
{
	struct raid_bitmap *bm = &r->bm;
	struct ubt_io_wait *w;
	bool again;

	if (res < 0 && !__atomic_exchange_n(&bm->failed, 1, __ATOMIC_ACQ_REL))
		fprintf(stderr, "%s: the write-intent log failed (%s): writes go on unlogged\n",
			r->t->type->name, strerror(-res));
	pthread_mutex_lock(&r->lock);
	bm->done = bm->gen;
	bm->writing = false;
	w = bm->cur;
	bm->cur = NULL;
	if (__atomic_load_n(&bm->failed, __ATOMIC_ACQUIRE)) {
		/* Nothing will record the next marks: let their writes go too. */
		struct ubt_io_wait **tail = &w;

		while (*tail)
			tail = &(*tail)->next;
		*tail = bm->next;
		bm->next = NULL;
		bm->dirty = false;
	}
	again = bm->dirty;
	pthread_mutex_unlock(&r->lock);
	ubt_io_wake_all(q, w);
	if (again)
		raid_bitmap_kick(r, q);
}

static void image_written(struct ubt_io *io, int res)
{
	log_write_done(io->t->private, io->q, res);
}

static int write_image(struct ubt_io *io)
{
	struct raid *r = io->t->private;

	io->sector = 0;
	io->nr_sectors = (uint32_t)(r->bm.io_bytes >> UBT_SECTOR_SHIFT);
	io->flags = UBT_IO_FUA;
	r->bm.iov = (struct iovec){ r->bm.buf, r->bm.io_bytes };
	io->iov = &r->bm.iov;
	io->iovcnt = 1;
	return ubt_io_remap(io, r->bm.node, 0);
}

static void legs_flushed(struct ubt_io *io, int res)
{
	struct raid *r = io->t->private;
	struct ubt_queue *q = io->q;
	/* io's tag is free again: the write may reuse it. */
	struct ubt_io *w = ubt_bg_io(q, r->t, image_written);

	(void)res;	/* a leg whose flush failed is marked failed (raid_bitmap_end_io) */
	if (!w) {
		log_write_done(r, q, -EBUSY);
		return;
	}
	log_bg_io_init(w);
	w->op = UBT_OP_WRITE;
	ubt_bg_submit(w, write_image);
}

void raid_bitmap_kick(struct raid *r, struct ubt_queue *q)
{
	struct raid_bitmap *bm = &r->bm;
	bool flush_first;
	struct ubt_io *io;

	if (!bm->node)
		return;
	__atomic_store_n(&bm->started, true, __ATOMIC_RELAXED);
	pthread_mutex_lock(&r->lock);
	if (bm->writing || !bm->dirty) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	bm->writing = true;
	bm->dirty = false;
	flush_first = bm->cleaned;
	bm->cleaned = false;
	bm->gen++;
	bm->cur = bm->next;
	bm->next = NULL;
	memcpy(bm->buf, bm->image, bm->io_bytes);
	pthread_mutex_unlock(&r->lock);

	io = ubt_bg_io(q, r->t, flush_first ? legs_flushed : image_written);
	if (!io) {
		/* Cannot happen (a tag is kept for it): fail the log rather than hang. */
		log_write_done(r, q, -EBUSY);
		return;
	}
	log_bg_io_init(io);
	io->op = flush_first ? UBT_OP_FLUSH : UBT_OP_WRITE;
	ubt_bg_submit(io, flush_first ? raid_flush_legs : write_image);
}

int raid_bitmap_end_io(struct raid *r, struct ubt_io *io, struct ubt_io *child, int res)
{
	int leg;

	(void)io;
	if (res < 0 && child->op == UBT_OP_FLUSH && res != -EOPNOTSUPP) {
		leg = raid_leg_of(r, child->t);
		if (leg >= 0)
			raid_fail_leg(r, (unsigned int)leg);
		return 0;
	}
	return res;
}
