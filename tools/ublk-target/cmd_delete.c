// SPDX-License-Identifier: MIT
/*
 * `delete`: STOP_DEV makes the daemon's queues drain and exit; the daemon
 * then deletes the device and its run record itself.  When the daemon is
 * gone (killed) or does not finish in time, delete does what is left:
 * DEL_DEV and the record.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rundir.h"
#include "ubt/ublk_ctrl.h"
#include "ubt/util.h"

#define DAEMON_EXIT_TIMEOUT_MS	10000

static const char delete_usage[] =
"usage: ublk-target delete -n ID | --all\n"
"\n"
"Stop a device: outstanding I/O finishes or fails, /dev/ublkbID goes away,\n"
"the daemon exits and the device id becomes free again.\n"
"\n"
"  -n, --id ID   the device to delete\n"
"  -a, --all     every device listed by 'ublk-target list'\n";

static bool wait_gone(pid_t pid, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (; ms > 0; ms -= 20) {
		if (!rundir_daemon_alive(pid))
			return true;
		nanosleep(&ts, NULL);
	}
	return !rundir_daemon_alive(pid);
}

static int delete_one(struct ubt_ctrl *ctrl, uint32_t id)
{
	struct ublksrv_ctrl_dev_info info;
	struct run_record r;
	int ret;

	if (rundir_read(id, &r))
		return cli_error("no device %u (see 'ublk-target list')", id);
	ret = ubt_ctrl_stop_dev(ctrl, id);
	if (ret && ret != -ENODEV)
		cli_error("warning: STOP_DEV of device %u: %s", id, ubt_ctrl_strerror(ret));
	if (rundir_daemon_alive(r.pid) && !wait_gone(r.pid, DAEMON_EXIT_TIMEOUT_MS)) {
		cli_error("warning: daemon %d of device %u did not exit; killing it", (int)r.pid, id);
		kill(r.pid, SIGKILL);
		wait_gone(r.pid, 2000);
	}
	if (!ubt_ctrl_get_info(ctrl, id, &info)) {
		ret = ubt_ctrl_del_dev(ctrl, id);
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
	bool all;
	int64_t id;
	int i, n, ret, rc = 0;

	ret = cli_parse_device_args("delete", argc, argv, delete_usage, &id, &all, NULL);
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
		rc = delete_one(&ctrl, (uint32_t)id);
	} else {
		n = rundir_list(ids, (int)UBT_ARRAY_SIZE(ids));
		for (i = 0; i < n; i++)
			rc |= delete_one(&ctrl, ids[i]);
	}
	ubt_ctrl_close(&ctrl);
	return rc;
}
