// SPDX-License-Identifier: MIT
/*
 * `list`: the devices this host serves, from the run records, with the
 * state the kernel reports for each (when the control device is there).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/target.h"
#include "ubt/ublk_ctrl.h"
#include "ubt/util.h"

static const char list_usage[] =
"usage: ublk-target list [--json]\n"
"\n"
"List the devices served from this host: id, state, size, queues, depth,\n"
"copy mode (copy, zero-copy or user-copy; see 'create --help') and the spec\n"
"they were created with.  State is the kernel's (live, quiesced,\n"
"fail-io, dead), 'gone' when the kernel no longer has the device,\n"
"'suspended' while its daemon holds its I/O ('ublk-target suspend'),\n"
"'orphaned' when its daemon died and the kernel keeps it for\n"
"'ublk-target recover' (I/O waits, or fails with --recovery fail-io), and\n"
"'no-daemon' when the device exists but its daemon has died otherwise.\n"
"\n"
"  --json   one JSON array of objects instead of the table\n";

static const char *device_state(struct ubt_ctrl *ctrl, bool have_ctrl, const struct run_record *r)
{
	struct ublksrv_ctrl_dev_info info;
	bool alive = rundir_daemon_alive(r->pid);

	if (!have_ctrl)
		return alive ? "running" : "no-daemon";
	if (ubt_ctrl_get_info(ctrl, r->id, &info))
		return "gone";
	if (!alive)
		return info.state == UBLK_S_DEV_QUIESCED || info.state == UBLK_S_DEV_FAIL_IO ?
		       "orphaned" : "no-daemon";
	/* The kernel cannot tell a device whose daemon holds its I/O: ask the daemon. */
	if (info.state == UBLK_S_DEV_LIVE && control_suspended(r->id))
		return "suspended";
	return ubt_dev_state_name(info.state);
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ubt_ctrl ctrl;
	bool json = false, have_ctrl;
	uint32_t ids[1024];
	int c, i, n;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return 0;
		default:
			return cli_usage_error("list: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("list: unexpected argument '%s'", argv[optind]);
	have_ctrl = ubt_ctrl_open(&ctrl) == 0;
	n = rundir_list(ids, (int)UBT_ARRAY_SIZE(ids));
	if (json)
		putchar('[');
	else
		printf("%-4s %-10s %10s %6s %6s %-9s  %s\n", "ID", "STATE", "SIZE", "QUEUES",
		       "DEPTH", "MODE", "SPEC");
	for (i = 0; i < n; i++) {
		struct run_record r;
		const char *state;
		char size[32];
		int ret = rundir_read(ids[i], &r);

		if (ret) {
			if (ret == -EUCLEAN)
				cli_error("warning: the run record of device %u is damaged (%s)",
					  ids[i], rundir_damage());
			continue;
		}
		state = device_state(&ctrl, have_ctrl, &r);
		if (json) {
			printf("%s\n  {\"id\": %u, \"device\": \"/dev/ublkb%u\", \"state\": \"%s\", "
			       "\"size\": %llu, \"queues\": %u, \"depth\": %u, "
			       "\"logical_block_size\": %u, \"pid\": %d, \"copy_mode\": \"%s\", "
			       "\"engine\": \"%s\", \"recovery\": \"%s\", \"spec\": ",
			       i ? "," : "", r.id, r.id, state, (unsigned long long)r.size,
			       r.queues, r.depth, r.lbs, (int)r.pid, r.copy_mode,
			       r.engine == UBT_ENGINE_AIO ? "aio" : "uring",
			       r.recovery[0] ? r.recovery : "none");
			cli_json_string(r.spec);
			putchar('}');
		} else {
			ubt_format_size(r.size, size, sizeof(size));
			printf("%-4u %-10s %10s %6u %6u %-9s  %s\n", r.id, state, size, r.queues,
			       r.depth, r.copy_mode, r.spec);
		}
	}
	if (json)
		printf("%s]\n", n ? "\n" : "");
	if (have_ctrl)
		ubt_ctrl_close(&ctrl);
	return 0;
}
