// SPDX-License-Identifier: MIT
/*
 * `recover`: a device whose daemon died stays in the kernel (created with
 * --recovery reissue or fail-io), its I/O waiting or failing.  Its run
 * record still holds the spec: the stack is built again from it, and a new
 * daemon takes the device over (core/device/device_recover.c checks the cookie,
 * the size and the flags against the device).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "create_opts.h"
#include "daemon.h"
#include "generated/autoconf.h"
#include "rundir.h"
#include "service_notify.h"
#include "ubt/device.h"
#include "ubt/tree.h"
#include "ubt/ublk_ctrl.h"
#include "ubt/util.h"

static const char recover_usage[] =
"usage: ublk-target recover -n ID | --all\n"
"       ublk-target recover --watch -n ID\n"
"\n"
"Give a device whose daemon died (kill -9, a crash) a new daemon, without\n"
"the device going away: mounts stay, and I/O that waited (--recovery\n"
"reissue) goes on.  The stack is built again from the spec the device was\n"
"created with (its run record in $UBT_RUN_DIR) and checked against the\n"
"device: the same device (a cookie kept with it), the same size.  Prints\n"
"/dev/ublkbID once it serves again.  'ublk-target list' shows such a\n"
"device as 'orphaned'.\n"
"\n"
"  -n, --id ID   the device to recover\n"
"  -a, --all     every orphaned device\n"
"  --watch       stay in the foreground and recover the device each time its\n"
"                daemon dies, at once: the new daemon is forked from this\n"
"                process, so no program has to start after the crash.  Ends\n"
"                (exit 0) when the device is deleted; a recovery that fails\n"
"                ends it with an error.  A 'restart' meanwhile is not\n"
"                disturbed: the watcher goes on with the restart's daemon.\n"
"                Under a service manager ($NOTIFY_SOCKET: systemd's\n"
"                Type=notify) it reports ready once the device serves, and\n"
"                each new daemon in its status.\n";

struct orphan_wait {
	struct ubt_ctrl ctrl;
	uint32_t id;
	struct ublksrv_ctrl_dev_info info;
};

static int still_live(void *arg)
{
	struct orphan_wait *w = arg;
	int ret = ubt_ctrl_get_info(&w->ctrl, w->id, &w->info);

	return ret ? ret : w->info.state == UBLK_S_DEV_LIVE ? -EBUSY : 0;
}

/*
 * Wait until the kernel holds the device for a recovery: only once the
 * dead daemon's rings are gone is /dev/ublkcN released, and with it the
 * files (and their locks) the rings held.  A device the kernel does not
 * have is left to the recovery to report.
 */
static int wait_orphaned(uint32_t id)
{
	struct orphan_wait w = { .id = id };
	int ret;

	ret = ubt_ctrl_open(&w.ctrl);
	if (ret)
		return cli_error("cannot open %s: %s", UBT_CTRL_DEV, strerror(-ret));
	ret = ubt_retry_while_busy(still_live, &w, ubt_ctrl_timeout_s() * 1000);
	ubt_ctrl_close(&w.ctrl);
	if (ret == -EBUSY)
		return cli_error("device %u is still live %u s after its daemon ended (is /dev/ublkc%u "
				 "held open by another process?)", id, ubt_ctrl_timeout_s(), id);
	return 0;
}

int recover_device(uint32_t id, bool handed_over)
{
	struct ubt_tree_opts topts = {
		.max_io_bytes = UBT_MAX(CONFIG_MAX_IO_BYTES, CONFIG_ZERO_COPY_MAX_IO_BYTES),
		.tag_buf_bytes = CONFIG_MAX_IO_BYTES,
	};
	struct daemon_job job = { 0 };
	static struct create_opts o;
	static struct run_record r;
	struct ubt_tree *tree;
	char err[512];

	if (rundir_need(id, &r))
		return 1;
	/* (A daemon that handed over may still be ending: the kernel's state says when it is done.) */
	if (!handed_over && rundir_daemon_alive(r.pid))
		return cli_error("device %u is served by daemon %d: nothing to recover (to replace "
				 "the daemon: 'ublk-target restart -n %u')", id, (int)r.pid, id);
	if (!strcmp(r.recovery, "none") || !r.cookie)
		return cli_error("device %u was created with --recovery none: it cannot be "
				 "recovered; 'ublk-target delete -n %u' removes it", id, id);
	if (wait_orphaned(id))
		return 1;
	memset(&o, 0, sizeof(o));
	o.dev_id = (int)id;
	o.nr_queues = r.queues;
	o.depth = r.depth;
	o.lbs = r.lbs;
	o.engine = (enum ubt_engine)r.engine;
	if (ubt_recovery_parse(r.recovery, &o.recovery))
		o.recovery = UBT_RECOVERY_AUTO;
	snprintf(o.spec, sizeof(o.spec), "%s", r.spec);
	topts.logical_block_size = o.lbs;
	topts.engine = o.engine;
	if (ubt_tree_build(o.spec, &topts, &tree, err, sizeof(err)))
		return cli_error("device %u: %s", id, err);
	job.o = &o;
	job.recover = true;
	job.cookie = r.cookie;
	return daemon_launch(tree, &job);
}

/* A device whose daemon is gone and which the kernel keeps for a recovery. */
static bool orphaned(struct ubt_ctrl *ctrl, uint32_t id)
{
	struct ublksrv_ctrl_dev_info info;
	struct run_record r;

	if (rundir_read(id, &r) || rundir_daemon_alive(r.pid) || ubt_ctrl_get_info(ctrl, id, &info))
		return false;
	return info.state == UBLK_S_DEV_QUIESCED || info.state == UBLK_S_DEV_FAIL_IO;
}

/* Recover device id under the hand-over lock (rundir.h). */
static int recover_locked(uint32_t id)
{
	int ret;

	if (rundir_lock())
		return 1;
	ret = recover_device(id, false);
	rundir_unlock();
	return ret;
}

/* Whether the kernel still has device id in a state a daemon can take over. */
static bool recoverable(uint32_t id)
{
	struct ublksrv_ctrl_dev_info info;
	struct ubt_ctrl ctrl;
	bool ok;

	if (ubt_ctrl_open(&ctrl))
		return true;	/* let the recovery say what is wrong */
	ok = !ubt_ctrl_get_info(&ctrl, id, &info) && info.state != UBLK_S_DEV_DEAD;
	ubt_ctrl_close(&ctrl);
	return ok;
}

/*
 * --watch: wait on the daemon's pidfd, and the moment it has ended,
 * recover.  The daemons this process forks are its children: reaped as
 * they end.  A deleted device (no run record, or stopped in the kernel)
 * ends the watch.
 */
static int watch_device(uint32_t id)
{
	unsigned int recoveries = 0;
	struct run_record r;
	pid_t told = 0;
	int ret;

	if (rundir_read(id, &r))
		return cli_error("no device %u (see 'ublk-target list')", id);
	if (!strcmp(r.recovery, "none") || !r.cookie)
		return cli_error("device %u was created with --recovery none: it cannot be "
				 "recovered, so there is nothing to watch", id);
	fprintf(stderr, "watching device %u (daemon %d)\n", id, (int)r.pid);
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (rundir_read(id, &r))
			break;
		if (rundir_daemon_alive(r.pid)) {
			/* A service manager hears once the device serves, and of each new daemon. */
			if (r.pid != told)
				service_notify("READY=1\nSTATUS=device %u served by daemon %d "
					       "(recoveries by this watcher: %u)\n",
					       id, (int)r.pid, recoveries);
			told = r.pid;
			rundir_wait_daemon_gone(r.pid, 1000);
			continue;
		}
		/* Under the lock, look again: a restart may have given it a daemon. */
		if (rundir_lock())
			return 1;
		ret = 0;
		if (!rundir_read(id, &r) && !rundir_daemon_alive(r.pid)) {
			if (!recoverable(id)) {
				rundir_unlock();
				break;
			}
			ret = recover_device(id, false);
			recoveries += !ret;
			fflush(stdout);	/* its /dev/ublkbID line, now, even into a pipe */
		}
		rundir_unlock();
		if (ret && !rundir_read(id, &r) && recoverable(id))
			return cli_error("device %u: the recovery failed; no longer watching", id);
	}
	fprintf(stderr, "device %u is deleted: no longer watching\n", id);
	return 0;
}

/* Take --watch out of argv (the other options are every device command's). */
static bool take_watch(int *argc, char **argv)
{
	bool watch = false;
	int i, j;

	for (i = j = 0; i < *argc; i++) {
		if (i && !strcmp(argv[i], "--watch"))
			watch = true;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return watch;
}

int cmd_recover(int argc, char **argv)
{
	struct ubt_ctrl ctrl;
	uint32_t ids[1024];
	bool all;
	int64_t id;
	bool watch = take_watch(&argc, argv);
	int i, n, ret, rc = 0;

	/* --watch takes one device: with it, --all is not an option. */
	all = false;
	ret = cli_parse_device_args(watch ? "recover --watch" : "recover", argc, argv, recover_usage,
				    &id, watch ? NULL : &all, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (cli_need_root("recover"))
		return 1;
	if (watch)
		return watch_device((uint32_t)id);
	if (!all)
		return recover_locked((uint32_t)id);
	ret = ubt_ctrl_open(&ctrl);
	if (ret)
		return cli_error("cannot open %s: %s", UBT_CTRL_DEV, strerror(-ret));
	n = rundir_list(ids, (int)UBT_ARRAY_SIZE(ids));
	for (i = 0; i < n; i++)
		if (orphaned(&ctrl, ids[i]))
			rc |= recover_locked(ids[i]);
	ubt_ctrl_close(&ctrl);
	return rc;
}
