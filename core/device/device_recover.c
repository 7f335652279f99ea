// SPDX-License-Identifier: MIT
/*
 * Recovery: a new daemon takes over a device whose daemon died (or handed
 * it over), without the device going away:
 *   GET_DEV_INFO (the cookie, the flags it was created with)
 *   -> START_USER_RECOVERY (-EBUSY while the old /dev/ublkcN is open)
 *   -> GET_PARAMS (the size must be the tree's)
 *   -> open /dev/ublkcN -> queue threads (each FETCHes every tag)
 *   -> END_USER_RECOVERY (the device is live; requeued I/O goes out)
 * The kernel's rules: the flags are the original ones (they decide the
 * copy mode), the parameters stay as they are (SET_PARAMS is refused), and
 * END_USER_RECOVERY names the process that opened /dev/ublkcN.  A failure
 * before the end leaves the device waiting for another recovery.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device_priv.h"
#include "frontend_ublk.h"
#include "../engine/engine.h"
#include "ubt/util.h"

static const char *const recovery_names[] = {
	[UBT_RECOVERY_AUTO] = "auto",
	[UBT_RECOVERY_NONE] = "none",
	[UBT_RECOVERY_REISSUE] = "reissue",
	[UBT_RECOVERY_FAIL_IO] = "fail-io",
};

const char *ubt_recovery_name(enum ubt_recovery r)
{
	return (unsigned int)r < UBT_ARRAY_SIZE(recovery_names) ? recovery_names[r] : "?";
}

int ubt_recovery_parse(const char *name, enum ubt_recovery *r)
{
	unsigned int i;

	for (i = 0; i < UBT_ARRAY_SIZE(recovery_names); i++) {
		if (!strcmp(name, recovery_names[i])) {
			*r = (enum ubt_recovery)i;
			return 0;
		}
	}
	return -EINVAL;
}

static enum ubt_recovery recovery_of(uint64_t flags)
{
	if (!(flags & UBLK_F_USER_RECOVERY))
		return UBT_RECOVERY_NONE;
	if (flags & UBLK_F_USER_RECOVERY_REISSUE)
		return UBT_RECOVERY_REISSUE;
	if (flags & UBLK_F_USER_RECOVERY_FAIL_IO)
		return UBT_RECOVERY_FAIL_IO;
	return UBT_RECOVERY_NONE;	/* plain recovery: we never create it */
}

static enum ubt_copy_mode mode_of(uint64_t flags)
{
	if (flags & UBLK_F_AUTO_BUF_REG)
		return UBT_COPY_ZERO_COPY;
	if (flags & UBLK_F_USER_COPY)
		return UBT_COPY_USER_COPY;
	return UBT_COPY_COPY;
}

static int try_start_recovery(void *arg)
{
	struct ubt_device *dev = arg;

	return ubt_ctrl_start_recovery(&dev->ctrl, dev->info.dev_id);
}

/* START_USER_RECOVERY, retried while the old daemon's /dev/ublkcN is still open. */
static int start_recovery(struct ubt_device *dev, char *err, size_t errlen)
{
	int ret = ubt_retry_while_busy(try_start_recovery, dev, ubt_ctrl_timeout_s() * 1000);

	if (ret == -EBUSY)
		snprintf(err, errlen, "device %u: START_USER_RECOVERY still busy after %u s (is "
			 "/dev/ublkc%u held open by another process?)", dev->info.dev_id,
			 ubt_ctrl_timeout_s(), dev->info.dev_id);
	else if (ret)
		snprintf(err, errlen, "device %u: START_USER_RECOVERY failed: %s", dev->info.dev_id,
			 ubt_ctrl_strerror(ret));
	return ret;
}

/* What must hold before anything changes: the device is ours and waits for us. */
static int check_device(struct ubt_device *dev, const struct ubt_tree *tree,
			const struct ubt_device_opts *o, char *err, size_t errlen)
{
	struct ublksrv_ctrl_dev_info *info = &dev->info;
	int ret = ubt_ctrl_get_info(&dev->ctrl, (uint32_t)o->dev_id, info);

	if (ret == -ENODEV || ret == -ENOENT) {
		snprintf(err, errlen, "device %d does not exist in the kernel (it was deleted, or "
			 "was created without recovery and went away with its daemon)", o->dev_id);
		return -ENODEV;
	}
	if (ret) {
		snprintf(err, errlen, "device %d: GET_DEV_INFO failed: %s", o->dev_id,
			 ubt_ctrl_strerror(ret));
		return ret;
	}
	if (info->ublksrv_flags != o->cookie) {
		snprintf(err, errlen, "device %d is not the one its run record describes (cookie "
			 "%016llx, the record's %016llx)", o->dev_id,
			 (unsigned long long)info->ublksrv_flags, (unsigned long long)o->cookie);
		return -ESTALE;
	}
	dev->recovery = recovery_of(info->flags);
	if (dev->recovery == UBT_RECOVERY_NONE) {
		snprintf(err, errlen, "device %d was created with --recovery none: it cannot be "
			 "recovered", o->dev_id);
		return -EOPNOTSUPP;
	}
	if (info->state == UBLK_S_DEV_DEAD) {
		snprintf(err, errlen, "device %d is not started: nothing to recover", o->dev_id);
		return -EINVAL;
	}
	dev->mode = mode_of(info->flags);
	ret = ubt_copy_mode_resolve(dev->mode, dev->ctrl.features, tree, &dev->mode, err, errlen);
	if (ret)
		return ret;
	return 0;
}

/* The parameters stay the kernel's: the tree must be the size the device has. */
static int check_size(struct ubt_device *dev, const struct ubt_tree *tree, char *err,
		      size_t errlen)
{
	struct ublk_params p;
	int ret = ubt_ctrl_get_params(&dev->ctrl, dev->info.dev_id, &p);

	if (ret) {
		snprintf(err, errlen, "device %u: GET_PARAMS failed: %s", dev->info.dev_id,
			 ubt_ctrl_strerror(ret));
		return ret;
	}
	if (p.basic.dev_sectors != tree->root->len) {
		snprintf(err, errlen, "device %u has %llu sectors, the stack %llu: the spec no longer "
			 "describes it", dev->info.dev_id, (unsigned long long)p.basic.dev_sectors,
			 (unsigned long long)tree->root->len);
		return -EINVAL;
	}
	return 0;
}

/* Queue threads that fetched but will not serve: they leave as in a handover. */
static void abandon(struct ubt_device *dev)
{
	device_hand_over(dev);
	device_teardown(dev);
}

int ubt_device_recover(struct ubt_tree *tree, const struct ubt_device_opts *o,
		       struct ubt_device **out, char *err, size_t errlen)
{
	struct ubt_device *dev;
	int ret;

	dev = device_alloc(tree, 1, err, errlen);
	if (!dev)
		return -ENOMEM;
	ret = device_open_ctrl(dev, err, errlen);
	if (!ret)
		ret = check_device(dev, tree, o, err, errlen);
	if (ret) {
		device_teardown(dev);
		return ret;
	}
	/* The device's own queue count (the array was sized before it was known). */
	free(dev->queues);
	dev->queues = calloc(dev->info.nr_hw_queues, sizeof(*dev->queues));
	if (!dev->queues) {
		snprintf(err, errlen, "out of memory");
		device_teardown(dev);
		return -ENOMEM;
	}
	ret = start_recovery(dev, err, errlen);
	if (!ret)
		ret = check_size(dev, tree, err, errlen);
	if (ret) {
		device_teardown(dev);
		return ret;
	}
	ret = device_open_cdev(dev->info.dev_id);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open /dev/ublkc%u: %s", dev->info.dev_id,
			 strerror(-ret));
		device_teardown(dev);
		return ret;
	}
	dev->cdev_fd = ret;
	ret = device_start_queues(dev, dev->info.nr_hw_queues, dev->info.queue_depth, err,
				  errlen);
	if (!ret) {
		ret = ubt_ctrl_end_recovery(&dev->ctrl, dev->info.dev_id, getpid());
		if (ret)
			snprintf(err, errlen, "device %u: END_USER_RECOVERY failed: %s",
				 dev->info.dev_id, ubt_ctrl_strerror(ret));
	}
	if (ret) {
		abandon(dev);
		return ret;
	}
	/* Serving again: from now on a stop or delete ends the device as usual. */
	dev->added = true;
	*out = dev;
	return 0;
}
