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
 * cache is used and a notice says so.  Reads and writes of a file the
 * ring cannot serve without blocking go to its worker threads at once
 * (ring_punts()).
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ubt/table.h"
#include "ubt/shorthand.h"
#include "ubt/target.h"
#include "ubt/util.h"

struct file_ctx {
	char *path;
	int fd;
	int fd_index;		/* fixed-file index */
	uint64_t start;		/* sectors */
	bool read_only;
	bool direct;
	bool is_bdev;
	bool can_punch;
	bool no_direct_notice;	/* O_DIRECT was refused: tell the user */
	bool punted;		/* io_uring serves it from its workers only */
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
 * Whether io_uring hands every read and write of this file to its worker
 * threads: it does for a file that cannot say "would block" (no
 * FMODE_NOWAIT), and preadv2(RWF_NOWAIT) fails with EOPNOTSUPP for exactly
 * those.  Such requests go to the workers at once (ubt_leaf_rw_wq): handed
 * over after a failed try instead, they wait for the worker that runs, one
 * at a time, and a 4K read waits behind a cache's 64K copies.  A file the
 * ring can try inline stays inline, where a read of cached pages costs no
 * thread hop (tmpfs on current kernels).  Asked once per file, of the
 * kernel that serves it, rather than keyed on the file system.
 */
static bool ring_punts(const struct file_ctx *f)
{
	size_t len = f->direct ? UBT_MAX(f->dio_align, f->dio_mem_align) : UBT_SECTOR_SIZE;
	struct iovec iov;
	void *buf;
	bool punts;

	if (f->is_bdev || posix_memalign(&buf, UBT_MAX(len, sizeof(void *)), len))
		return false;
	iov.iov_base = buf;
	iov.iov_len = len;
	punts = preadv2(f->fd, &iov, 1, (off_t)(f->start << UBT_SECTOR_SHIFT), RWF_NOWAIT) < 0 &&
		errno == EOPNOTSUPP;
	free(buf);
	return punts;
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
	int ret;

	if (fstat(f->fd, &st))
		return ubt_target_error(t, errno, "cannot stat %s: %s", f->path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ubt_target_error(t, EISDIR, "%s is a directory", f->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return ubt_target_error(t, EINVAL, "%s is not a regular file or a block device",
					f->path);
	f->is_bdev = S_ISBLK(st.st_mode);
	ret = ubt_fd_bytes(f->fd, bytes);
	if (ret)
		return ubt_target_error(t, -ret, "cannot get the size of %s: %s", f->path,
					strerror(-ret));
	return 0;
}

static int parse_engine(struct ubt_target *t, struct ubt_args *args, enum ubt_engine *e)
{
	const char *s = ubt_args_str(args, "engine");

	*e = ubt_target_engine(t);
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

	path = ubt_args_path(t, args, 0);
	if (!path)
		return ubt_target_error(t, EINVAL, "a path is required, e.g. file(a.img)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return ubt_target_error(t, ENOMEM, "out of memory");
	f->fd = -1;
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
	/*
	 * Two devices (or a device and `bench`) must not write one file behind
	 * each other's back: exclusive when writable, shared when read-only.
	 */
	ret = ubt_target_claim(t, f->fd, f->path, f->read_only);
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
	}
	if (f->direct)
		dio_alignment(f);
	else
		f->dio_align = UBT_SECTOR_SIZE;
	f->punted = ring_punts(f);
	ret = ubt_target_add_fd(t, f->fd);
	if (ret < 0)
		goto out_close;
	f->fd_index = ret;
	if (f->engine == UBT_ENGINE_AIO)
		ubt_target_use_aio(t);
	t->private = f;
	if (f->no_direct_notice)
		fprintf(stderr, "file: %s: the file system refuses O_DIRECT; using buffered I/O\n",
			f->path);
	return 0;
out_close:
	close(f->fd);
out_free:
	free(f->path);
	free(f);
	return ret;
}

static void file_dtr(struct ubt_target *t)
{
	struct file_ctx *f = t->private;

	ubt_target_close_fd(t, f->fd_index);
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
		if (f->punted)
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

static int file_status(struct ubt_target *t, char *buf, size_t len)
{
	struct file_ctx *f = t->private;

	return snprintf(buf, len, "%s %s%s", f->direct ? "direct" : "buffered",
			f->read_only ? "ro" : "rw", f->engine == UBT_ENGINE_AIO ? " aio" : "");
}

/* A file, or a window of one, is what dm's linear line names: <dev> <offset>. */
static int file_dm_device(const struct ubt_target *t, const char **path, uint64_t *sector)
{
	const struct file_ctx *f = t->private;

	*path = f->path;
	*sector = f->start;
	return 0;
}

static int file_table_print(const struct ubt_target *t, struct ubt_table_out *o)
{
	const char *path;
	uint64_t sector;

	if (ubt_table_need_dm_device(o, t, &path, &sector, "%s: no dm form", t->type->name))
		return -EINVAL;
	ubt_table_printf(o, "linear %s %llu", path, (unsigned long long)sector);
	return 0;
}

/* create file --file PATH [--offset SIZE] [--size SIZE] [--readonly] [--buffered] */
static int file_shorthand_spec(const struct ubt_shorthand_args *a, struct ubt_str *s)
{
	if (ubt_shorthand_count(a, "file") != 1)
		return ubt_shorthand_fail(a, "file needs exactly one --file PATH");
	ubt_str_printf(s, "file(");
	if (ubt_shorthand_put_path(a, s, ubt_shorthand_value(a, "file", 0)) ||
	    ubt_shorthand_put_sizes(a, s, (const char *const[]){ "offset", "size", NULL }))
		return -EINVAL;
	if (ubt_shorthand_count(a, "readonly"))
		ubt_str_printf(s, ", readonly");
	if (ubt_shorthand_count(a, "buffered"))
		ubt_str_printf(s, ", buffered");
	ubt_str_printf(s, ")");
	return 0;
}

static const struct ubt_shorthand file_shorthand = {
	.synopsis = "--file PATH [--offset SIZE] [--size SIZE] [--readonly] [--buffered]",
	.help = "a regular file or a block device",
	.opts = (const struct ubt_shorthand_opt[]){
		{ "file", "PATH" }, { "offset", "SIZE" }, { "size", "SIZE" },
		{ "readonly", NULL }, { "buffered", NULL }, { NULL, NULL },
	},
	.spec = file_shorthand_spec,
};

static struct ubt_target_type file_target = {
	.name = "file",
	.version = { 1, 0, 0 },
	/* A bare path where a node goes is a file. */
	.flags = UBT_TARGET_BARE_LEAF,
	.usage = "file(PATH, offset=SIZE, size=SIZE, readonly, buffered, engine=uring|aio)",
	.per_io_size = sizeof(struct ubt_leaf_io),
	.shorthand = &file_shorthand,
	.ctr = file_ctr,
	.dtr = file_dtr,
	.map = file_map,
	.io_hints = file_io_hints,
	.status = file_status,
	.status_usage = "direct|buffered ro|rw [aio]: how the file is read and written",
	.dm_device = file_dm_device,
	.table_print = file_table_print,
};
UBT_TARGET_REGISTER(file_target)
