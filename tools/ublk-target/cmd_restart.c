// SPDX-License-Identifier: MIT
/*
 * `restart`: hand a live device to a fresh daemon (this binary, as it is
 * on disk now) without an I/O error.  The old daemon is asked to hand over
 * (core/device/device.c): its queues finish and commit what they started, leave
 * the requests that arrive meanwhile unstarted and end, without stopping
 * the device (on 6.16+ the kernel's QUIESCE_DEV also holds new requests
 * back); its nodes end as at a clean stop (a cache marks its metadata
 * clean).  Once it has exited, the kernel requeues what it left, and the
 * device is recovered as after a crash (cmd_recover.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/ublk_ctrl.h"

static const char restart_usage[] =
"usage: ublk-target restart -n ID\n"
"\n"
"Replace the daemon of a live device with a new one running the\n"
"ublk-target binary now on disk (an upgrade), without an I/O error: the\n"
"old daemon finishes the requests it started and exits, leaving the\n"
"device and its mounts in place; requests that arrive meanwhile wait and\n"
"go to the new daemon (on Linux 6.16+ the kernel holds them back itself:\n"
"QUIESCE_DEV).  Needs a device created with --recovery reissue\n"
"(the default where the kernel offers it).  Prints /dev/ublkbID once the\n"
"new daemon serves it.\n"
"\n"
"  -n, --id ID   the device\n";

/* Ask the daemon to hand the device over, wait for it to end, recover. */
static int hand_over(const struct run_record *r)
{
	char reply[512];
	int ret;

	ret = control_request(r->id, "handover", reply, sizeof(reply));
	if (ret)
		return cli_error("the daemon of device %u does not answer: %s", r->id, strerror(-ret));
	if (!strncmp(reply, "error: ", 7)) {
		reply[strcspn(reply, "\n")] = '\0';
		return cli_error("%s", reply + 7);
	}
	if (!rundir_wait_daemon_gone(r->pid, (int)ubt_ctrl_timeout_s() * 1000))
		return cli_error("daemon %d of device %u did not finish its requests within %u s; "
				 "it still serves them and will exit when they are done: then "
				 "'ublk-target recover -n %u'", (int)r->pid, r->id,
				 ubt_ctrl_timeout_s(), r->id);
	return recover_device(r->id, true);
}

int cmd_restart(int argc, char **argv)
{
	struct run_record r;
	int64_t id;
	int ret;

	ret = cli_parse_device_args("restart", argc, argv, restart_usage, &id, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (cli_need_root("restart"))
		return 1;
	if (rundir_need((uint32_t)id, &r))
		return 1;
	if (!rundir_daemon_alive(r.pid))
		return cli_error("device %u has no daemon: 'ublk-target recover -n %u' gives it one",
				 r.id, r.id);
	if (strcmp(r.recovery, "reissue"))
		return cli_error("device %u was created with --recovery %s: a restart without I/O "
				 "errors needs reissue", r.id, r.recovery[0] ? r.recovery : "none");
	/* Held from the hand-over to the new daemon: a watcher must not recover in between. */
	if (rundir_lock())
		return 1;
	ret = hand_over(&r);
	rundir_unlock();
	return ret;
}
