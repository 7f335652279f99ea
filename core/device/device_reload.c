// SPDX-License-Identifier: MIT
/*
 * Changing a live device's stack, the way device-mapper changes a table:
 *
 *   suspend   every queue stops starting requests and background work,
 *             lets what is in flight finish and reports; requests that
 *             arrive meanwhile are held, unstarted (frontend_ublk.c)
 *   reload    a new stack is built beside the running one, which keeps
 *             serving; a leaf on a file the running stack uses shares its
 *             claim.  A stack that cannot serve this device is refused,
 *             and the running one is untouched
 *   resume    (suspending first if need be) each queue moves to the new
 *             stack on its own thread, then starts what it held; the old
 *             stack is freed and the kernel's size follows the new one
 *             (UPDATE_SIZE: after the switch when it grows, before when it
 *             shrinks, so no request ever lies past the end)
 *
 * All of it runs on the device's main thread, between control requests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device_priv.h"
#include "frontend_ublk.h"
#include "../engine/engine.h"
#include "ubt/util.h"

void device_queue_suspended(struct ubt_ublk_queue *uq, bool yes, int err)
{
	struct ubt_device *dev = uq->dev;

	pthread_mutex_lock(&dev->lock);
	if (yes)
		dev->nr_suspended++;
	else
		dev->nr_suspended--;
	if (err && !dev->switch_err)
		dev->switch_err = err;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
}

/* Whether every queue still running is suspended (or, for !suspended, none is); under lock. */
static bool queues_are(const struct ubt_device *dev, bool suspended)
{
	return suspended ? dev->nr_suspended + dev->nr_exited >= dev->nr_started :
			   dev->nr_suspended == 0;
}

/* Wait up to ms milliseconds for queues_are(dev, suspended); whether it came. */
static bool wait_queues(struct ubt_device *dev, bool suspended, unsigned int ms)
{
	struct timespec until;
	bool done;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&dev->lock);
	while (!queues_are(dev, suspended) &&
	       pthread_cond_timedwait(&dev->cond, &dev->lock, &until) != ETIMEDOUT)
		;
	done = queues_are(dev, suspended);
	pthread_mutex_unlock(&dev->lock);
	return done;
}

static void set_suspend(struct ubt_device *dev, int on)
{
	__atomic_store_n(&dev->suspend, on, __ATOMIC_RELEASE);
	device_nudge_queues(dev);
}

/* 0 once every queue holds its requests, or -ETIMEDOUT (then it runs again). */
static int suspend(struct ubt_device *dev, char *err, size_t errlen)
{
	unsigned int ms = ubt_ctrl_timeout_s() * 1000;

	if (dev->suspended)
		return 0;
	set_suspend(dev, 1);
	if (!wait_queues(dev, true, ms)) {
		set_suspend(dev, 0);
		wait_queues(dev, false, ms);
		snprintf(err, errlen, "the requests in flight on device %u did not finish within "
			 "%u s; it was not suspended", dev->info.dev_id, ubt_ctrl_timeout_s());
		return -ETIMEDOUT;
	}
	dev->suspended = true;
	return 0;
}

static int update_size(struct ubt_device *dev, uint64_t bytes, char *err, size_t errlen)
{
	int ret = ubt_ctrl_update_size(&dev->ctrl, dev->info.dev_id, bytes >> UBT_SECTOR_SHIFT);

	if (ret)
		snprintf(err, errlen, "UPDATE_SIZE of device %u to %llu bytes failed: %s",
			 dev->info.dev_id, (unsigned long long)bytes, ubt_ctrl_strerror(ret));
	return ret;
}

/*
 * Let the queues go again, moving them to next first when it is set.
 * 0, or a negative errno with err set: a failed shrink leaves the device
 * suspended with next still loaded; a failed switch stops the device.
 */
static int resume(struct ubt_device *dev, struct ubt_tree *next, const struct ubt_control *ctl,
		  char *err, size_t errlen)
{
	uint64_t old_bytes = ubt_tree_bytes(dev->tree), new_bytes;
	unsigned int ms = ubt_ctrl_timeout_s() * 1000;
	struct ubt_tree *old = dev->tree;
	int ret;

	if (!next && !dev->suspended)
		return 0;
	ret = suspend(dev, err, errlen);
	if (ret)
		return ret;
	new_bytes = next ? ubt_tree_bytes(next) : old_bytes;
	if (new_bytes < old_bytes) {
		ret = update_size(dev, new_bytes, err, errlen);
		if (ret)
			return ret;
	}
	dev->switch_err = 0;
	__atomic_store_n(&dev->switch_to, next, __ATOMIC_RELEASE);
	set_suspend(dev, 0);
	if (!wait_queues(dev, false, ms)) {
		/* A queue stuck in the switch may use either tree: both stay until it ends. */
		pthread_mutex_lock(&dev->lock);
		if (!dev->switch_err)
			dev->switch_err = -ETIMEDOUT;
		pthread_mutex_unlock(&dev->lock);
	}
	dev->suspended = false;
	dev->switch_to = NULL;
	if (next) {
		dev->next_tree = NULL;
		if (dev->switch_err) {
			/* Some queues may be on either tree: both live until the threads end. */
			dev->stale_tree = next;
			snprintf(err, errlen, "device %u could not switch to the new stack (%s); it "
				 "stops", dev->info.dev_id, strerror(-dev->switch_err));
			ubt_ctrl_stop_dev(&dev->ctrl, dev->info.dev_id);
			return dev->switch_err;
		}
		claims_adopt(next);
		dev->tree = next;
		ubt_tree_free(old);
		if (ctl && ctl->switched)
			ctl->switched(ctl->arg, next);
		if (new_bytes > old_bytes && update_size(dev, new_bytes, err, errlen)) {
			snprintf(err, errlen, "device %u runs the new stack, but the kernel refused its "
				 "size (UPDATE_SIZE to %llu bytes): it stays %llu bytes",
				 dev->info.dev_id, (unsigned long long)new_bytes,
				 (unsigned long long)old_bytes);
			tree_poke(dev->tree);
			return -EIO;
		}
	}
	/* Background work (a cache's writeback, a mirror's resync) goes on. */
	tree_poke(dev->tree);
	return 0;
}

void device_release(struct ubt_device *dev)
{
	char err[256];

	resume(dev, NULL, NULL, err, sizeof(err));
}

/* Why the device cannot take tree as it is, or NULL. */
static const char *unfit(const struct ubt_device *dev, const struct ubt_tree *tree,
			 bool shrink_ok, char *buf, size_t len)
{
	uint64_t now = ubt_tree_bytes(dev->tree), bytes = ubt_tree_bytes(tree);

	if (tree->nr_fds + 1 > UBT_RING_FILES) {
		snprintf(buf, len, "it uses %u files; a device's queues hold at most %u",
			 tree->nr_fds, UBT_RING_FILES - 1);
		return buf;
	}
	if (bytes != now && !(dev->ctrl.features & UBLK_F_UPDATE_SIZE)) {
		snprintf(buf, len, "it is %llu bytes and the device %llu: this kernel cannot change "
			 "a device's size while it runs (UPDATE_SIZE, Linux 6.16)",
			 (unsigned long long)bytes, (unsigned long long)now);
		return buf;
	}
	if (bytes < now && !shrink_ok) {
		snprintf(buf, len, "it is %llu bytes, smaller than the device's %llu, and the device "
			 "is in use: shrinking would cut off data", (unsigned long long)bytes,
			 (unsigned long long)now);
		return buf;
	}
	return NULL;
}

/* "reload SHRINK DIR SPEC": a new stack, kept for the next resume. */
static void reload(struct ubt_device *dev, const char *args, char *out, size_t len)
{
	char err[512], buf[256], dir[4096];
	struct ubt_tree *tree;
	const char *why, *spec;
	bool shrink_ok;

	if (!strncmp(args, "shrink-ok ", 10)) {
		shrink_ok = true;
	} else if (!strncmp(args, "no-shrink ", 10)) {
		shrink_ok = false;
	} else {
		snprintf(out, len, "error: reload wants shrink-ok or no-shrink, the folder, then a "
			 "spec\n");
		return;
	}
	/* The folder the spec's relative paths are taken from: the user's, not ours. */
	spec = ubt_take_field(args + 10, dir, sizeof(dir));
	if (!spec || dir[0] != '/') {
		snprintf(out, len, "error: reload wants the absolute folder its paths are relative "
			 "to\n");
		return;
	}
	/* A new load replaces one not yet resumed, as in dm: its files are free for this one. */
	ubt_tree_free(dev->next_tree);
	dev->next_tree = NULL;
	if (ubt_tree_build_next(dev->tree, spec, dir, &tree, err, sizeof(err))) {
		snprintf(out, len, "error: %s\n", err);
		return;
	}
	why = unfit(dev, tree, shrink_ok, buf, sizeof(buf));
	if (why) {
		snprintf(out, len, "error: the new stack cannot serve device %u: %s\n",
			 dev->info.dev_id, why);
		ubt_tree_free(tree);
		return;
	}
	dev->next_tree = tree;
	snprintf(out, len, "loaded: %llu bytes (the device is %llu)\n",
		 (unsigned long long)ubt_tree_bytes(tree),
		 (unsigned long long)ubt_tree_bytes(dev->tree));
}

bool device_reload_request(struct ubt_device *dev, const struct ubt_control *ctl,
			   const char *cmd, char *out, size_t len)
{
	char err[512];
	uint64_t was;
	int ret;

	if (!strcmp(cmd, "state")) {
		snprintf(out, len, "suspended=%d loaded=%d\n", dev->suspended, dev->next_tree != NULL);
	} else if (!strcmp(cmd, "suspend")) {
		if (suspend(dev, err, sizeof(err)))
			snprintf(out, len, "error: %s\n", err);
		else
			snprintf(out, len, "suspended\n");
	} else if (!strcmp(cmd, "resume") || !strcmp(cmd, "release")) {
		was = ubt_tree_bytes(dev->tree);
		ret = resume(dev, !strcmp(cmd, "resume") ? dev->next_tree : NULL, ctl, err,
			     sizeof(err));
		if (ret)
			snprintf(out, len, "error: %s\n", err);
		else if (ubt_tree_bytes(dev->tree) != was)
			snprintf(out, len, "resumed: %llu bytes (was %llu)\n",
				 (unsigned long long)ubt_tree_bytes(dev->tree),
				 (unsigned long long)was);
		else
			snprintf(out, len, "resumed\n");
	} else if (!strncmp(cmd, "reload ", 7)) {
		reload(dev, cmd + 7, out, len);
	} else {
		return false;
	}
	return true;
}
