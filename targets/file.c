// SPDX-License-Identifier: MIT
/*
 * file: a leaf over a regular file or a block device.
 *
 *   file(PATH, offset=SIZE, size=SIZE, readonly, buffered, engine=uring|aio)
 *
 * Reads and writes go through the queue's io_uring, or with engine=aio
 * through Linux AIO (io_submit), which some storage stacks serve better;
 * an aio leaf needs the data in the server's memory, so its device is
 * never zero copy.
 * I/O is O_DIRECT unless `buffered` is given or the file system refuses
 * O_DIRECT (tmpfs on older kernels, for one), in which case the page
 * cache is used and a notice says so.  Reads and writes of a file on
 * tmpfs or ramfs go to io_uring's worker threads at once (fs_in_memory()).
 * Flush is fdatasync; FUA writes use RWF_DSYNC; discard punches a hole;
 * write-zeroes punches a hole in a file (it reads back as zeroes) and
 * zeroes the range of a block device.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ubt/target.h"
#include "ubt/tree.h"
#include "ubt/util.h"

struct file_ctx {
	char *path;
	int fd;
	int fd_index;		/* fixed-file index */
	int claim_fd;		/* a running stack's claim, shared (reload), or -1 */
	uint64_t start;		/* sectors */
	bool read_only;
	bool direct;
	bool is_bdev;
	bool can_punch;
	bool no_direct_notice;	/* O_DIRECT was refused: tell the user */
	bool in_memory;		/* tmpfs or ramfs: io_uring serves it from its workers only */
	enum ubt_engine engine;
	uint32_t dio_align;	/* bytes: file offsets and lengths of O_DIRECT I/O */
	uint32_t dio_mem_align;	/* bytes: memory of O_DIRECT I/O */
};

/* The file system's magic number (statfs f_type), 0 if it cannot be had. */
static unsigned long fs_type(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) ? 0 : (unsigned long)sfs.f_type;
}

/* File systems known to punch holes that read back as zeroes. */
static bool fs_can_punch(unsigned long type)
{
	static const unsigned long magic[] = {
		0xEF53,		/* ext2/3/4 */
		0x58465342,	/* xfs */
		0x9123683E,	/* btrfs */
		TMPFS_MAGIC,
		0xF2F52010,	/* f2fs */
	};
	size_t i;

	for (i = 0; i < UBT_ARRAY_SIZE(magic); i++)
		if (type == magic[i])
			return true;
	return false;
}

/*
 * File systems in memory (tmpfs, ramfs): io_uring cannot read or write
 * them without blocking, so it hands every such request to a worker
 * thread.  Handed over after a failed try, requests wait for the worker
 * that runs, one at a time; handed over at once (ubt_leaf_rw_wq), each
 * may have a worker of its own, and a 4K read does not wait behind a
 * cache's 64K copies (the first seconds of a cache on tmpfs: hundreds of
 * requests a second instead of thousands, one CPU idle).
 */
static bool fs_in_memory(unsigned long type)
{
	return type == TMPFS_MAGIC || type == RAMFS_MAGIC;
}

/*
 * O_DIRECT's alignment rules for this file: of file offsets and lengths,
 * and of memory.  Under zero copy the client's pages go straight to the
 * file, so the memory rule becomes the device's DMA alignment.
 */
static void dio_alignment(struct file_ctx *f)
{
	int ssz = 0;

	f->dio_align = UBT_SECTOR_SIZE;
	f->dio_mem_align = UBT_SECTOR_SIZE;
	if (f->is_bdev && !ioctl(f->fd, BLKSSZGET, &ssz) && ssz > 0) {
		f->dio_align = (uint32_t)ssz;
		f->dio_mem_align = (uint32_t)ssz;
	}
#ifdef STATX_DIOALIGN
	{
		struct statx stx;

		if (!statx(f->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
		    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
			f->dio_align = stx.stx_dio_offset_align;
			f->dio_mem_align = stx.stx_dio_mem_align;
		}
	}
#endif
}

static int file_open(struct ubt_target *t, struct file_ctx *f, bool force_buffered)
{
	int flags = (f->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	f->direct = !force_buffered;
	f->fd = open(f->path, flags | (f->direct ? O_DIRECT : 0));
	if (f->fd < 0 && errno == EINVAL && f->direct) {
		/* Said once the node is built, so a failure stays one line. */
		f->direct = false;
		f->no_direct_notice = true;
		f->fd = open(f->path, flags);
	}
	if (f->fd < 0) {
		int err = errno;

		if (err == EISDIR)
			return ubt_target_error(t, err, "%s is a directory", f->path);
		if ((err == EROFS || err == EACCES || err == EPERM) && !f->read_only)
			return ubt_target_error(t, err, "cannot open %s for writing: %s "
						"(add readonly to serve it read-only)",
						f->path, strerror(err));
		return ubt_target_error(t, err, "cannot open %s: %s", f->path, strerror(err));
	}
	return 0;
}

static int file_size(struct ubt_target *t, struct file_ctx *f, uint64_t *bytes)
{
	struct stat st;

	if (fstat(f->fd, &st))
		return ubt_target_error(t, errno, "cannot stat %s: %s", f->path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ubt_target_error(t, EISDIR, "%s is a directory", f->path);
	t->backing_dev = S_ISBLK(st.st_mode) ? (uint64_t)st.st_rdev : (uint64_t)st.st_dev;
	t->backing_ino = S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_ino;
	if (S_ISBLK(st.st_mode)) {
		f->is_bdev = true;
		if (ioctl(f->fd, BLKGETSIZE64, bytes))
			return ubt_target_error(t, errno, "cannot get the size of %s: %s",
						f->path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return ubt_target_error(t, EINVAL, "%s is not a regular file or a block device",
					f->path);
	*bytes = (uint64_t)st.st_size;
	return 0;
}

/* Whether this tree already opened the file behind fd (a second window of it). */
static bool tree_has_file(struct ubt_target *t, int fd)
{
	struct stat a, b;
	unsigned int i;

	if (fstat(fd, &a))
		return false;
	for (i = 0; i < t->tree->nr_fds; i++)
		if (!fstat(t->tree->fds[i], &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	return false;
}

/*
 * Claim the file so that two devices (or a device and `bench`) cannot
 * write one file behind each other's back: exclusive when writable,
 * shared when read-only.  The lock lives as long as the daemon's copy of
 * the descriptor.  Windows of one file within one stack share the claim.
 */
static int file_claim(struct ubt_target *t, struct file_ctx *f)
{
	int i;

	if (tree_has_file(t, f->fd))
		return 0;
	/* A stack built to replace a running one shares the running one's claim. */
	f->claim_fd = ubt_tree_shared_claim(t);
	if (f->claim_fd >= 0)
		return f->read_only || !flock(f->claim_fd, LOCK_EX | LOCK_NB) ? 0 :
			ubt_target_error(t, EBUSY, "%s is in use by another ublk-target device",
					 f->path);
	/*
	 * A device deleted a moment ago may still hold it: io_uring drops its
	 * file references after the process is gone.  Give that 2 seconds.
	 */
	for (i = 0; i < 100; i++) {
		if (!flock(f->fd, (f->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			break;
		usleep(20000);
	}
	if (errno == EWOULDBLOCK)
		return ubt_target_error(t, EBUSY, "%s is in use by another ublk-target device%s",
					f->path, f->read_only ? " that writes it" : "");
	return ubt_target_error(t, errno, "cannot lock %s: %s", f->path, strerror(errno));
}

static int parse_engine(struct ubt_target *t, struct ubt_args *args, enum ubt_engine *e)
{
	const char *s = ubt_args_str(args, "engine");

	*e = t->tree->opts.engine;
	if (!s)
		return 0;
	if (!strcmp(s, "uring"))
		*e = UBT_ENGINE_URING;
	else if (!strcmp(s, "aio"))
		*e = UBT_ENGINE_AIO;
	else
		return ubt_target_error(t, EINVAL, "engine=%s: the engines are uring and aio", s);
	return 0;
}

static int file_ctr(struct ubt_target *t, struct ubt_args *args)
{
	struct file_ctx *f;
	uint64_t avail, offset = 0, size = 0;
	bool have_size;
	const char *path;
	int ret;

	path = ubt_args_word(args, 0);
	if (!path)
		return ubt_target_error(t, EINVAL, "a path is required, e.g. file(a.img)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return ubt_target_error(t, ENOMEM, "out of memory");
	f->fd = -1;
	f->claim_fd = -1;
	f->path = strdup(path);
	if (!f->path) {
		ret = ubt_target_error(t, ENOMEM, "out of memory");
		goto out_free;
	}
	f->read_only = ubt_args_flag(args, "readonly");
	ret = parse_engine(t, args, &f->engine);
	if (ret)
		goto out_free;
	ret = ubt_args_size(t, args, "offset", &offset);
	if (ret && ret != -ENOENT)
		goto out_free;
	ret = ubt_args_size(t, args, "size", &size);
	if (ret && ret != -ENOENT)
		goto out_free;
	have_size = ret == 0;
	if (offset % UBT_SECTOR_SIZE || size % UBT_SECTOR_SIZE) {
		ret = ubt_target_error(t, EINVAL, "%s=%llu is not a multiple of 512",
				       offset % UBT_SECTOR_SIZE ? "offset" : "size",
				       (unsigned long long)(offset % UBT_SECTOR_SIZE ? offset : size));
		goto out_free;
	}
	ret = file_open(t, f, ubt_args_flag(args, "buffered"));
	if (ret)
		goto out_free;
	ret = file_size(t, f, &avail);
	if (ret)
		goto out_close;
	ret = file_claim(t, f);
	if (ret)
		goto out_close;
	if (avail == 0) {
		ret = ubt_target_error(t, EINVAL, "%s is empty (size 0)", f->path);
		goto out_close;
	}
	if (offset >= avail) {
		ret = ubt_target_error(t, EINVAL, "offset=%llu is past the end of %s (%llu bytes)",
				       (unsigned long long)offset, f->path,
				       (unsigned long long)avail);
		goto out_close;
	}
	if (have_size && size == 0) {
		ret = ubt_target_error(t, EINVAL, "size is zero");
		goto out_close;
	}
	if (!have_size)
		size = (avail - offset) & ~(uint64_t)(UBT_SECTOR_SIZE - 1);
	if (size == 0 || offset + size > avail || offset + size < offset) {
		ret = ubt_target_error(t, EINVAL, "offset=%llu size=%llu goes past the end of %s "
				       "(%llu bytes)", (unsigned long long)offset,
				       (unsigned long long)size, f->path,
				       (unsigned long long)avail);
		goto out_close;
	}
	f->start = offset >> UBT_SECTOR_SHIFT;
	t->len = size >> UBT_SECTOR_SHIFT;
	if (f->is_bdev) {
		f->can_punch = true;
	} else {
		unsigned long type = fs_type(f->fd);

		f->can_punch = fs_can_punch(type);
		f->in_memory = fs_in_memory(type);
	}
	if (f->direct)
		dio_alignment(f);
	else
		f->dio_align = UBT_SECTOR_SIZE;
	ret = ubt_target_add_fd(t, f->fd);
	if (ret < 0)
		goto out_close;
	f->fd_index = ret;
	t->claim_fd = f->claim_fd >= 0 ? f->claim_fd : f->fd;
	if (f->engine == UBT_ENGINE_AIO)
		ubt_target_use_aio(t);
	t->private = f;
	if (f->no_direct_notice)
		fprintf(stderr, "file: %s: the file system refuses O_DIRECT; using buffered I/O\n",
			f->path);
	return 0;
out_close:
	close(f->fd);
	if (f->claim_fd >= 0)
		close(f->claim_fd);
out_free:
	free(f->path);
	free(f);
	return ret;
}

static void file_dtr(struct ubt_target *t)
{
	struct file_ctx *f = t->private;

	close(f->fd);
	if (f->claim_fd >= 0)
		close(f->claim_fd);
	free(f->path);
	free(f);
}

static int file_map(struct ubt_target *t, struct ubt_io *io)
{
	struct file_ctx *f = t->private;
	uint64_t pos = (f->start + io->sector) << UBT_SECTOR_SHIFT;
	int mode;

	if (io->op != UBT_OP_READ && f->read_only)
		return -EROFS;
	switch (io->op) {
	case UBT_OP_READ:
	case UBT_OP_WRITE:
		if (f->engine == UBT_ENGINE_AIO)
			return ubt_leaf_rw_aio(io, f->fd_index, pos);
		if (f->in_memory)
			return ubt_leaf_rw_wq(io, f->fd_index, pos);
		return ubt_leaf_rw(io, f->fd_index, pos);
	case UBT_OP_FLUSH:
		return ubt_leaf_fsync(io, f->fd_index, true);
	case UBT_OP_DISCARD:
	case UBT_OP_WRITE_ZEROES:
		if (!f->can_punch)
			return -EOPNOTSUPP;
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (io->op == UBT_OP_WRITE_ZEROES && f->is_bdev)
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		return ubt_leaf_fallocate(io, f->fd_index, mode, pos, ubt_io_bytes(io));
	}
	return -EOPNOTSUPP;
}

static void file_io_hints(struct ubt_target *t, struct ubt_limits *lim)
{
	struct file_ctx *f = t->private;

	lim->read_only = f->read_only;
	lim->volatile_cache = true;
	lim->fua = true;
	lim->discard = f->can_punch;
	lim->write_zeroes = f->can_punch;
	lim->dma_alignment = UBT_MAX(lim->dma_alignment, f->dio_mem_align);
	if (f->dio_align > lim->logical_block_size)
		lim->logical_block_size = f->dio_align;
	if (lim->physical_block_size < lim->logical_block_size)
		lim->physical_block_size = lim->logical_block_size;
}

static int file_status(struct ubt_target *t, enum ubt_status_kind k, char *buf, size_t len)
{
	struct file_ctx *f = t->private;

	if (k == UBT_STATUS_TABLE)
		return snprintf(buf, len, "%s %llu", f->path, (unsigned long long)f->start);
	return snprintf(buf, len, "%s %s%s", f->direct ? "direct" : "buffered",
			f->read_only ? "ro" : "rw", f->engine == UBT_ENGINE_AIO ? " aio" : "");
}

static int file_direct(const struct ubt_target *t, int *fd, uint64_t *offset)
{
	const struct file_ctx *f = t->private;

	*fd = f->fd;
	*offset = f->start << UBT_SECTOR_SHIFT;
	return 0;
}

static struct ubt_target_type file_target = {
	.name = "file",
	.version = { 1, 0, 0 },
	.usage = "file(PATH, offset=SIZE, size=SIZE, readonly, buffered, engine=uring|aio)",
	.per_io_size = sizeof(struct ubt_leaf_io),
	.ctr = file_ctr,
	.dtr = file_dtr,
	.map = file_map,
	.io_hints = file_io_hints,
	.status = file_status,
	.direct = file_direct,
};
UBT_TARGET_REGISTER(file_target)
