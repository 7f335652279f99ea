// SPDX-License-Identifier: MIT
/*
 * `delete`: STOP_DEV makes the daemon's queues drain and exit; the daemon
 * then deletes the device and its run record itself.  When the daemon is
 * gone (killed) or does not finish in time, delete does what is left:
 * DEL_DEV and the record.  Without --force a device in use is refused:
 * the kernel's TRY_STOP_DEV decides where it has it (7.0+, no race with
 * a new opener), elsewhere who holds it is looked for (holders.c).  A
 * suspended device is refused too; --force lets its held requests go first.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "holders.h"
#include "rundir.h"
#include "ubt/ublk_ctrl.h"
#include "ubt/util.h"

#define DAEMON_EXIT_TIMEOUT_MS	10000
/* A probe (udev's after a writer closes the disk) holds it this long at most. */
#define IN_USE_GRACE_MS		1000
/* --force of a disk in use: its users keep its number; how long to see whether they let go. */
#define DEL_DEV_WAIT_FORCED_MS	2000

static const char delete_usage[] =
"usage: ublk-target delete [--force] -n ID | --all\n"
"\n"
"Stop a device: outstanding I/O finishes or fails, /dev/ublkbID goes away,\n"
"the daemon exits and the device id becomes free again.  A device that is\n"
"mounted, open or held by another device (a dm table) is refused, naming\n"
"who uses it (on Linux 7.0+ the kernel itself refuses a disk that is open).\n"
"\n"
"  -n, --id ID   the device to delete\n"
"  -a, --all     every device listed by 'ublk-target list'\n"
"  -f, --force   delete it even in use: its users get I/O errors, and the\n"
"                device's number stays taken until the last of them lets\n"
"                go (a mount: until it is unmounted)\n";

/*
 * Stop device id unless it is in use: 0 once stopped (or if the kernel
 * has no such device: the rest of delete cleans up), else the exit code.
 */
static int stop_unless_used(struct ubt_ctrl *ctrl, uint32_t id)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	bool safe = ctrl->features & UBLK_F_SAFE_STOP_DEV;
	unsigned int ms;
	char who[1024];
	int ret;

	for (ms = 0;; ms += 20) {
		if (safe) {
			ret = ubt_ctrl_try_stop_dev(ctrl, id);
			if (ret != -EBUSY)
				break;
		} else if (!holders_describe(id, who, sizeof(who))) {
			ret = ubt_ctrl_stop_dev(ctrl, id);
			break;
		}
		if (ms >= IN_USE_GRACE_MS) {
			if (!holders_describe(id, who, sizeof(who)))
				snprintf(who, sizeof(who), "open (by a user this tool cannot name)");
			return cli_error("device %u is in use: %s; stop using it first, or "
					 "'ublk-target delete --force -n %u'", id, who, id);
		}
		nanosleep(&pause, NULL);
	}
	if (ret && ret != -ENODEV)
		cli_error("warning: %s of device %u: %s", safe ? "TRY_STOP_DEV" : "STOP_DEV", id,
			  ubt_ctrl_strerror(ret));
	return 0;
}

static int delete_one(struct ubt_ctrl *ctrl, uint32_t id, bool force)
{
	struct ublksrv_ctrl_dev_info info;
	struct run_record r;
	char state[128], who[1024] = "";
	int ret;

	ret = rundir_read(id, &r);
	if (ret == -EUCLEAN && force) {
		/* No pid to trust: the kernel's device goes, its daemon with it (STOP_DEV). */
		memset(&r, 0, sizeof(r));
	} else if (ret) {
		return rundir_need(id, &r);
	}
	/* The kernel's stop waits for every request, held ones too. */
	if (rundir_daemon_alive(r.pid) && control_suspended(id)) {
		if (!force)
			return cli_error("device %u is suspended (its I/O is held): 'ublk-target "
					 "resume -n %u' first, or 'ublk-target delete --force -n %u'",
					 id, id, id);
		control_request(id, "release", state, sizeof(state));
	}
	if (!force) {
		ret = stop_unless_used(ctrl, id);
		if (ret)
			return ret;
	} else {
		/* Named now: once the disk is gone nothing says who held it. */
		if (!holders_describe(id, who, sizeof(who)))
			who[0] = '\0';
		ret = ubt_ctrl_stop_dev(ctrl, id);
		if (ret && ret != -ENODEV)
			cli_error("warning: STOP_DEV of device %u: %s", id, ubt_ctrl_strerror(ret));
	}
	if (rundir_daemon_alive(r.pid) && !rundir_wait_daemon_gone(r.pid, DAEMON_EXIT_TIMEOUT_MS)) {
		cli_error("warning: daemon %d of device %u did not exit; killing it", (int)r.pid, id);
		kill(r.pid, SIGKILL);
		rundir_wait_daemon_gone(r.pid, 2000);
	}
	/*
	 * (Normally the daemon did this.)  A user that still holds the disk
	 * (--force of a mounted device) keeps its id taken, not this command.
	 */
	if (!ubt_ctrl_get_info(ctrl, id, &info)) {
		ret = ubt_ctrl_del_dev_within(ctrl, id, force ? DEL_DEV_WAIT_FORCED_MS :
					      ubt_ctrl_timeout_s() * 1000);
		if (ret == -EBUSY) {
			rundir_remove(id);
			if (force) {
				fprintf(stderr, "ublk-target: device %u is deleted; its number stays "
					"taken until its last user lets go%s%s\n", id,
					who[0] ? ": " : "", who);
				return 0;
			}
			return cli_error("device %u is deleted, but its number is still taken "
					 "after %u s", id, ubt_ctrl_timeout_s());
		}
		if (ret && ret != -ENODEV)
			return cli_error("cannot delete device %u: %s", id, ubt_ctrl_strerror(ret));
	}
	rundir_remove(id);
	return 0;
}

int cmd_delete(int argc, char **argv)
{
	struct ubt_ctrl ctrl;
	uint32_t ids[1024];
	bool all, force;
	int64_t id;
	int i, n, ret, rc = 0;

	ret = cli_parse_device_args("delete", argc, argv, delete_usage, &id, &all, &force);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (cli_need_root("delete"))
		return 1;
	ret = ubt_ctrl_open(&ctrl);
	if (ret == -ENOENT)
		return cli_error("%s not found: load the ublk_drv kernel module (modprobe ublk_drv)",
				 UBT_CTRL_DEV);
	if (ret)
		return cli_error("cannot open %s: %s", UBT_CTRL_DEV, strerror(-ret));
	if (!all) {
		rc = delete_one(&ctrl, (uint32_t)id, force);
	} else {
		n = rundir_list(ids, (int)UBT_ARRAY_SIZE(ids));
		for (i = 0; i < n; i++)
			rc |= delete_one(&ctrl, ids[i], force);
	}
	ubt_ctrl_close(&ctrl);
	return rc;
}
