// SPDX-License-Identifier: MIT
/*
 * Device lifecycle on the control path:
 *   ADD_DEV -> open /dev/ublkcN -> GET_QUEUE_AFFINITY -> queue threads
 *   (each FETCHes every tag) -> SET_PARAMS -> START_DEV
 * then serve until the queues see STOP_DEV, and DEL_DEV.  Every failure
 * unwinds what was done so far, down to DEL_DEV.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "device_priv.h"
#include "frontend_ublk.h"
#include "generated/autoconf.h"
#include "ubt/device.h"
#include "../engine/engine.h"
#include "ubt/util.h"

/* How long the daemon waits for its device's number to come free after DEL_DEV_ASYNC. */
#define DEL_DEV_WAIT_MS	5000

static void queue_ready(struct ubt_ublk_queue *uq, int ret)
{
	struct ubt_device *dev = uq->dev;

	pthread_mutex_lock(&dev->lock);
	if (ret && !dev->setup_err)
		dev->setup_err = ret;
	dev->nr_ready++;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
}

static void queue_exited(struct ubt_ublk_queue *uq)
{
	struct ubt_device *dev = uq->dev;
	uint64_t one = 1;

	/* A suspend waiting for this queue stops waiting. */
	pthread_mutex_lock(&dev->lock);
	dev->nr_exited++;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);

	if (write(dev->exit_efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow with fewer than 2^64 queues */
	}
}

static uint32_t shift_of(uint32_t bytes)
{
	return ubt_is_power_of_2(bytes) ? ubt_ilog2(bytes) : 0;
}

uint64_t device_copy_mode_flags(enum ubt_copy_mode mode)
{
	switch (mode) {
	case UBT_COPY_ZERO_COPY:
		/* SUPPORT_ZERO_COPY is what lets us register by hand in the fallback. */
		return UBLK_F_AUTO_BUF_REG | UBLK_F_SUPPORT_ZERO_COPY;
	case UBT_COPY_USER_COPY:
		return UBLK_F_USER_COPY;
	default:
		return 0;
	}
}

static void fill_params(const struct ubt_tree *tree, enum ubt_copy_mode mode,
			struct ublk_params *p)
{
	const struct ubt_limits *lim = &tree->limits;

	memset(p, 0, sizeof(*p));
	p->types = UBLK_PARAM_TYPE_BASIC;
	p->basic.logical_bs_shift = (uint8_t)ubt_ilog2(lim->logical_block_size);
	p->basic.physical_bs_shift = (uint8_t)ubt_ilog2(lim->physical_block_size);
	p->basic.io_min_shift = (uint8_t)shift_of(lim->io_min ? lim->io_min : lim->logical_block_size);
	p->basic.io_opt_shift = (uint8_t)shift_of(lim->io_opt ? lim->io_opt : lim->logical_block_size);
	p->basic.max_sectors = UBT_MIN(lim->max_io_bytes,
				       ubt_tree_io_bytes(tree, mode != UBT_COPY_ZERO_COPY)) >>
			       UBT_SECTOR_SHIFT;
	p->basic.chunk_sectors = lim->chunk_sectors;
	p->basic.dev_sectors = tree->root->len;
	if (lim->read_only)
		p->basic.attrs |= UBLK_ATTR_READ_ONLY;
	if (lim->volatile_cache) {
		p->basic.attrs |= UBLK_ATTR_VOLATILE_CACHE;
		if (lim->fua)
			p->basic.attrs |= UBLK_ATTR_FUA;
	}
	if (!lim->read_only && (lim->discard || lim->write_zeroes)) {
		p->types |= UBLK_PARAM_TYPE_DISCARD;
		p->discard.discard_granularity = lim->discard_granularity ?
			lim->discard_granularity : lim->logical_block_size;
		p->discard.max_discard_sectors = lim->discard ? 1U << 22 : 0;
		p->discard.max_write_zeroes_sectors = lim->write_zeroes ? 1U << 22 : 0;
		p->discard.max_discard_segments = 1;
	}
	/*
	 * Under zero copy the client's pages go to the leaves as they are, so
	 * they must meet the leaves' O_DIRECT memory alignment (zero copy
	 * implies 6.16, which takes this parameter).  In the copy modes our
	 * page-aligned buffers meet it and the client may use any alignment.
	 */
	if (mode == UBT_COPY_ZERO_COPY && lim->dma_alignment > 4) {
		p->types |= UBLK_PARAM_TYPE_DMA_ALIGN;
		p->dma.alignment = UBT_MIN(lim->dma_alignment, 4096U) - 1;
	}
}

int device_open_cdev(uint32_t id)
{
	char path[64];
	int i, fd = -1;

	snprintf(path, sizeof(path), "/dev/ublkc%u", id);
	/* Without udev, devtmpfs creates the node; with udev it may lag. */
	for (i = 0; i < 300; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(10000);
	}
	return fd < 0 ? -errno : fd;
}

void device_teardown(struct ubt_device *dev)
{
	unsigned int i;

	if (__atomic_load_n(&dev->handover, __ATOMIC_ACQUIRE)) {
		/*
		 * The device lives on, for the next daemon; the queue threads
		 * stay parked with their rings until the process ends.
		 */
		dev->added = false;
		dev->nr_started = 0;
		dev->queues = NULL;
	}
	if (dev->added && dev->nr_started)
		ubt_ctrl_stop_dev(&dev->ctrl, dev->info.dev_id);
	for (i = 0; i < dev->nr_started; i++)
		pthread_join(dev->queues[i].thread, NULL);
	dev->nr_started = 0;
	if (dev->cdev_fd >= 0)
		close(dev->cdev_fd);
	dev->cdev_fd = -1;
	/*
	 * The id comes free once the disk's last user lets go: at once unless
	 * a user holds it (a forced delete of a mounted disk), and then the
	 * daemon does not wait for that (DEL_DEV would, for ever).
	 */
	if (dev->added &&
	    ubt_ctrl_del_dev_within(&dev->ctrl, dev->info.dev_id, DEL_DEV_WAIT_MS) == -EBUSY)
		fprintf(stderr, "device %u is deleted; its number stays taken until the last user "
			"of its disk lets go\n", dev->info.dev_id);
	dev->added = false;
	ubt_ctrl_close(&dev->ctrl);
	if (dev->exit_efd >= 0)
		close(dev->exit_efd);
	/* The threads are gone: a stack loaded or half switched to is nobody's. */
	ubt_tree_free(dev->next_tree);
	ubt_tree_free(dev->stale_tree);
	free(dev->queues);
	pthread_mutex_destroy(&dev->lock);
	pthread_cond_destroy(&dev->cond);
	free(dev);
}

/*
 * The block layer's I/O scheduler, through sysfs once the disk exists.
 * Both guest kernels start a ublk disk with mq-deadline; a server that
 * completes in order and has its own queueing gains nothing from it.
 */
static int set_scheduler(uint32_t id, const char *name, char *err, size_t errlen)
{
	char path[96];
	ssize_t n;
	int fd, i, e;

	snprintf(path, sizeof(path), "/sys/block/ublkb%u/queue/scheduler", id);
	/* The disk's sysfs folder appears with START_DEV; give udev-less hosts a moment. */
	for (i = 0; (fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 && errno == ENOENT && i < 100; i++)
		usleep(10000);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot set the I/O scheduler of /dev/ublkb%u: %s: %s", id,
			 path, strerror(e));
		return -e;
	}
	n = write(fd, name, strlen(name));
	e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot set the I/O scheduler of /dev/ublkb%u to '%s': %s "
			 "(see %s for the ones this kernel has)", id, name, strerror(e), path);
		return -e;
	}
	return 0;
}

static const char *add_dev_error(int ret, int dev_id, char *buf, size_t len)
{
	if (ret == -EEXIST && dev_id >= 0)
		snprintf(buf, len, "device %d already exists (see 'ublk-target list')", dev_id);
	else
		snprintf(buf, len, "ADD_DEV failed: %s", ubt_ctrl_strerror(ret));
	return buf;
}

int device_start_queues(struct ubt_device *dev, unsigned int nr, unsigned int depth,
			char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++) {
		struct ubt_ublk_queue *uq = &dev->queues[i];

		uq->tree = dev->tree;
		uq->dev = dev;
		uq->q_id = i;
		uq->depth = depth;
		uq->cdev_fd = dev->cdev_fd;
		uq->dev_flags = dev->info.flags;
		uq->mode = dev->mode;
		uq->force_reg_fallback = getenv("UBT_TEST_BUF_REG_FALLBACK") != NULL;
		uq->handover = &dev->handover;
		uq->suspend = &dev->suspend;
		uq->next_tree = &dev->switch_to;
		uq->ready = queue_ready;
		uq->exited = queue_exited;
		uq->suspended = device_queue_suspended;
		ret = ubt_ctrl_get_affinity(&dev->ctrl, dev->info.dev_id, (uint16_t)i, &uq->cpus);
		if (ret)
			CPU_ZERO(&uq->cpus);	/* not pinned: the scheduler decides */
		ret = pthread_create(&uq->thread, NULL, ubt_ublk_queue_thread, uq);
		if (ret) {
			snprintf(err, errlen, "cannot start queue thread %u: %s", i, strerror(ret));
			return -ret;
		}
		dev->nr_started++;
	}
	/* What a stack built later to serve this device must fit (reload, hot replace). */
	dev->tree->zero_copy = dev->mode == UBT_COPY_ZERO_COPY;
	pthread_mutex_lock(&dev->lock);
	while (dev->nr_ready < nr)
		pthread_cond_wait(&dev->cond, &dev->lock);
	ret = dev->setup_err;
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		snprintf(err, errlen, "queue setup failed: %s", strerror(-ret));
	return ret;
}

struct ubt_device *device_alloc(struct ubt_tree *tree, unsigned int nr_queues, char *err,
				size_t errlen)
{
	struct ubt_device *dev = calloc(1, sizeof(*dev));

	if (!dev) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dev->tree = tree;
	dev->cdev_fd = -1;
	dev->ctrl.fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	dev->exit_efd = eventfd(0, EFD_CLOEXEC);
	dev->queues = calloc(nr_queues, sizeof(*dev->queues));
	if (dev->exit_efd < 0 || !dev->queues) {
		snprintf(err, errlen, "out of memory");
		device_teardown(dev);
		return NULL;
	}
	return dev;
}

/*
 * Kernels from about 6.19 read the partition table from a work item after
 * START_DEV has returned, so the scan's reads could land after create
 * printed the device, beside the user's first I/O, and partitions could
 * appear late.  Where the driver lets us turn that scan off, we run it here
 * instead, before create returns: partitions are there when the device
 * is, as on kernels that scanned inside START_DEV.
 */
static void scan_partitions(uint32_t id)
{
	char path[32];
	int fd, e;

	snprintf(path, sizeof(path), "/dev/ublkb%u", id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKRRPART) < 0) {
		e = errno;
		fprintf(stderr, "%s: partition table not read (%s); 'blockdev --rereadpt %s' "
			"reads it\n", path, strerror(e), path);
	}
	if (fd >= 0)
		close(fd);
}

int device_open_ctrl(struct ubt_device *dev, char *err, size_t errlen)
{
	int ret = ubt_ctrl_open(&dev->ctrl);

	if (ret == -ENOENT)
		snprintf(err, errlen, "%s not found: load the ublk_drv kernel module "
			 "(modprobe ublk_drv)", UBT_CTRL_DEV);
	else if (ret)
		snprintf(err, errlen, "cannot open %s: %s", UBT_CTRL_DEV, strerror(-ret));
	return ret;
}

uint64_t device_recovery_flags(enum ubt_recovery r)
{
	switch (r) {
	case UBT_RECOVERY_REISSUE:
		return UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE;
	case UBT_RECOVERY_FAIL_IO:
		return UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_FAIL_IO;
	default:
		return 0;
	}
}

/* The recovery a device gets: auto settled, the rest checked against GET_FEATURES. */
static int recovery_resolve(enum ubt_recovery want, uint64_t features, enum ubt_recovery *out,
			    char *err, size_t errlen)
{
	uint64_t need = device_recovery_flags(want == UBT_RECOVERY_AUTO ? UBT_RECOVERY_REISSUE : want);

	if ((features & need) == need) {
		*out = want == UBT_RECOVERY_AUTO ? UBT_RECOVERY_REISSUE : want;
		return 0;
	}
	if (want == UBT_RECOVERY_AUTO) {
		*out = UBT_RECOVERY_NONE;
		return 0;
	}
	snprintf(err, errlen, "--recovery %s: this kernel's ublk driver does not offer it (%s)",
		 ubt_recovery_name(want), want == UBT_RECOVERY_FAIL_IO ?
		 "fail-io needs Linux 6.13 or later" : "its GET_FEATURES lacks user recovery");
	return -EOPNOTSUPP;
}

int ubt_device_start(struct ubt_tree *tree, const struct ubt_device_opts *o,
		     struct ubt_device **out, char *err, size_t errlen)
{
	struct ubt_device *dev;
	struct ublk_params params;
	uint64_t want;
	int ret;

	dev = device_alloc(tree, o->nr_queues, err, errlen);
	if (!dev)
		return -ENOMEM;
	ret = device_open_ctrl(dev, err, errlen);
	if (ret)
		goto out_teardown;
	ret = recovery_resolve(o->recovery, dev->ctrl.features, &dev->recovery, err, errlen);
	if (ret)
		goto out_teardown;

	dev->info.nr_hw_queues = (uint16_t)o->nr_queues;
	dev->info.queue_depth = (uint16_t)o->depth;
	dev->info.dev_id = (uint32_t)o->dev_id;
	dev->info.ublksrv_pid = getpid();
	ret = ubt_copy_mode_resolve(o->copy_mode, dev->ctrl.features, tree, &dev->mode, err,
				    errlen);
	if (ret)
		goto out_teardown;
	/* Without tag buffers a larger request costs no memory. */
	dev->info.max_io_buf_bytes = ubt_tree_io_bytes(tree, dev->mode != UBT_COPY_ZERO_COPY);
	/*
	 * UPDATE_SIZE is not checked by the driver; asked for all the same (a
	 * reload).  QUIESCE serves a restart, and needs a recovery mode.
	 */
	dev->info.flags = (dev->ctrl.features & (UBLK_F_CMD_IOCTL_ENCODE | UBLK_F_UPDATE_SIZE)) |
			  device_copy_mode_flags(dev->mode) | device_recovery_flags(dev->recovery);
	if (dev->recovery != UBT_RECOVERY_NONE)
		dev->info.flags |= dev->ctrl.features & UBLK_F_QUIESCE;
	dev->info.flags |= dev->ctrl.features & UBLK_F_NO_AUTO_PART_SCAN;
	dev->info.ublksrv_flags = o->cookie;
	ret = ubt_ctrl_add_dev(&dev->ctrl, &dev->info);
	if (ret) {
		add_dev_error(ret, o->dev_id, err, errlen);
		goto out_teardown;
	}
	dev->added = true;
	/* ADD_DEV drops the flags it does not know: trust only what it returned. */
	want = device_copy_mode_flags(dev->mode);
	if ((dev->info.flags & want) != want) {
		snprintf(err, errlen, "the ublk driver refused --copy-mode %s (flags 0x%llx)",
			 ubt_copy_mode_name(dev->mode), (unsigned long long)dev->info.flags);
		ret = -EOPNOTSUPP;
		goto out_teardown;
	}
	want = device_recovery_flags(dev->recovery);
	if ((dev->info.flags & want) != want) {
		snprintf(err, errlen, "the ublk driver refused --recovery %s (flags 0x%llx)",
			 ubt_recovery_name(dev->recovery), (unsigned long long)dev->info.flags);
		ret = -EOPNOTSUPP;
		goto out_teardown;
	}

	ret = device_open_cdev(dev->info.dev_id);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open /dev/ublkc%u: %s", dev->info.dev_id,
			 strerror(-ret));
		goto out_teardown;
	}
	dev->cdev_fd = ret;

	ret = device_start_queues(dev, o->nr_queues, o->depth, err, errlen);
	if (ret)
		goto out_teardown;

	fill_params(tree, dev->mode, &params);
	ret = ubt_ctrl_set_params(&dev->ctrl, dev->info.dev_id, &params);
	if (ret) {
		snprintf(err, errlen, "SET_PARAMS failed: %s", ubt_ctrl_strerror(ret));
		goto out_teardown;
	}
	ret = ubt_ctrl_start_dev(&dev->ctrl, dev->info.dev_id, getpid());
	if (ret) {
		snprintf(err, errlen, "START_DEV failed: %s", ubt_ctrl_strerror(ret));
		goto out_teardown;
	}
	if (o->scheduler) {
		ret = set_scheduler(dev->info.dev_id, o->scheduler, err, errlen);
		if (ret)
			goto out_teardown;
	}
	if (dev->info.flags & UBLK_F_NO_AUTO_PART_SCAN)
		scan_partitions(dev->info.dev_id);
	*out = dev;
	return 0;
out_teardown:
	device_teardown(dev);
	return ret;
}

uint32_t ubt_device_id(const struct ubt_device *dev)
{
	return dev->info.dev_id;
}

enum ubt_copy_mode ubt_device_copy_mode(const struct ubt_device *dev)
{
	return dev->mode;
}

enum ubt_recovery ubt_device_recovery(const struct ubt_device *dev)
{
	return dev->recovery;
}

void device_nudge_queues(struct ubt_device *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_started; i++)
		if (dev->queues[i].q_ready)
			ubt_ring_nudge(dev->queues[i].q.ring.ring_fd);
}

void device_hand_over(struct ubt_device *dev)
{
	__atomic_store_n(&dev->handover, 1, __ATOMIC_RELEASE);
	device_nudge_queues(dev);
}

/*
 * "handover": the queues commit what they started and end, leaving the
 * device to the kernel, which requeues the requests they left for the
 * next daemon.  Only with reissue: under fail-io or plain recovery those
 * requests would fail.
 */
static void handover(struct ubt_device *dev, char *out, size_t len)
{
	if (dev->recovery != UBT_RECOVERY_REISSUE) {
		snprintf(out, len, "error: device %u was created with --recovery %s; a handover "
			 "without I/O errors needs reissue\n", dev->info.dev_id,
			 ubt_recovery_name(dev->recovery));
		return;
	}
	device_hand_over(dev);
	/*
	 * Where the device has it (6.16+), the kernel also stops handing this
	 * daemon requests -- they wait in the kernel for the next one -- and
	 * cancels the fetches waiting on the queues.  The queues end the same
	 * way with or without it, and the device is the next daemon's once
	 * this process has closed /dev/ublkcN.
	 */
	if (dev->info.flags & UBLK_F_QUIESCE) {
		int ret = ubt_ctrl_quiesce_dev(&dev->ctrl, dev->info.dev_id,
					       ubt_ctrl_timeout_s() * 1000 / 2);

		if (ret)
			fprintf(stderr, "QUIESCE_DEV failed (%s): handing over without it\n",
				ubt_ctrl_strerror(ret));
	}
	snprintf(out, len, "handing over\n");
}

/* One control request: a command line in, the handler's text out. */
static void control_request(struct ubt_device *dev, const struct ubt_control *ctl)
{
	struct timeval tv = { .tv_sec = 1 };
	char cmd[16384], out[65536];
	size_t n = 0, off = 0;
	ssize_t r;
	int fd;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* A silent client must not hold the device's main thread. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < sizeof(cmd) - 1 && (r = read(fd, cmd + n, sizeof(cmd) - 1 - n)) > 0) {
		n += (size_t)r;
		if (memchr(cmd, '\n', n))
			break;
	}
	cmd[n] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	out[0] = '\0';
	if (!strcmp(cmd, "handover"))
		handover(dev, out, sizeof(out));
	else if (!device_reload_request(dev, ctl, cmd, out, sizeof(out)))
		ctl->handle(ctl->arg, cmd, out, sizeof(out));
	n = strlen(out);
	while (off < n && (r = write(fd, out + off, n - off)) > 0)
		off += (size_t)r;
	close(fd);
}

int ubt_device_serve(struct ubt_device *dev, const struct ubt_control *ctl)
{
	unsigned int exited = 0, i, nfds;
	struct pollfd pfd[3];
	bool stopping = false;
	sigset_t sigs;
	int sfd, ret = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	pfd[0].fd = dev->exit_efd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = ctl ? ctl->fd : -1;
	pfd[2].events = POLLIN;
	nfds = pfd[2].fd >= 0 ? 3 : 2;
	while (exited < dev->nr_started) {
		if (poll(pfd, nfds, -1) < 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) > 0) {
				/* Held requests first: the kernel's stop waits for every one. */
				device_release(dev);
				ubt_ctrl_stop_dev(&dev->ctrl, dev->info.dev_id);
			}
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t n;

			if (read(dev->exit_efd, &n, sizeof(n)) == sizeof(n))
				exited += (unsigned int)n;
			/* One queue ended (stop, or a failure): end them all. */
			if (!stopping && !__atomic_load_n(&dev->handover, __ATOMIC_ACQUIRE)) {
				stopping = true;
				ubt_ctrl_stop_dev(&dev->ctrl, dev->info.dev_id);
			}
		}
		if (nfds == 3 && (pfd[2].revents & POLLIN))
			control_request(dev, ctl);
	}
	for (i = 0; i < dev->nr_started; i++)
		if (dev->queues[i].result && !ret)
			ret = dev->queues[i].result;
	if (!ret && __atomic_load_n(&dev->handover, __ATOMIC_ACQUIRE))
		ret = UBT_DEVICE_HANDED_OVER;
	if (sfd >= 0)
		close(sfd);
	device_teardown(dev);
	return ret;
}
