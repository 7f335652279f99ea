// SPDX-License-Identifier: MIT
/*
 * `suspend`, `reload`, `resume`: change a live device's stack the way
 * dmsetup suspend / load / resume change a table.  The daemon does the
 * work (core/device/device_reload.c); these commands say what to do and report.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "holders.h"
#include "rundir.h"
#include "ubt/spec.h"
#include "ubt/util.h"

static const char suspend_usage[] =
"usage: ublk-target suspend -n ID\n"
"\n"
"Let the requests in flight on device ID finish, then hold every new one\n"
"until 'ublk-target resume': applications on it wait, they see no error.\n"
"Background work (a cache's writeback, a mirror's resync) pauses too.  A\n"
"device whose requests do not finish within $UBT_CTRL_TIMEOUT_S seconds\n"
"(default 30) is left running and the command fails.\n"
"\n"
"  -n, --id ID   the device\n";

static const char resume_usage[] =
"usage: ublk-target resume -n ID\n"
"\n"
"Switch device ID to the stack loaded by 'ublk-target reload', if one is\n"
"loaded (suspending the device for the switch if it is not suspended),\n"
"and let the held requests go.  When the new stack is larger or smaller\n"
"the kernel's size of /dev/ublkbID follows it (Linux 6.16+), and the new\n"
"size is printed.  Without a loaded stack it only ends a suspend.\n"
"\n"
"  -n, --id ID   the device\n";

static const char reload_usage[] =
"usage: ublk-target reload -n ID --spec EXPR\n"
"       ublk-target reload -n ID --table FILE|-\n"
"\n"
"Build a new stack for device ID beside the one it runs, which keeps\n"
"serving; 'ublk-target resume' switches to it.  The files both stacks use\n"
"stay open.  The new stack is refused, with the old one untouched, when it\n"
"cannot serve the device: a larger block size, smaller requests, read-only,\n"
"without the discard or flush the device offers, a node that needs the data\n"
"in memory on a zero-copy device, a cache or disk-logged mirror over the\n"
"running one's files (its state is in use), a size change on a kernel\n"
"before 6.16 (no UPDATE_SIZE), or a smaller size while the device is open\n"
"or mounted.  A second reload replaces the first.\n"
"\n"
"Growing a volume: reload a longer concat or a wider linear window,\n"
"resume, then grow the file system (resize2fs /dev/ublkbID).\n"
"\n"
"  -n, --id ID         the device\n"
"  --spec EXPR         the new stack, as for 'create --spec'\n"
"  --table FILE|-      the new stack as a device-mapper table\n";

/* suspend and resume: -n ID, one request, its reply when it says more than done. */
static int simple(const char *name, const char *usage, int argc, char **argv)
{
	struct run_record r;
	char reply[512];
	int64_t id;
	int ret;

	ret = cli_parse_device_args(name, argc, argv, usage, &id, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (cli_need_root(name))
		return 1;
	ret = control_ask((uint32_t)id, name, &r, reply, sizeof(reply));
	if (ret)
		return ret;
	if (strchr(reply, ':'))
		fputs(reply, stdout);
	return 0;
}

int cmd_suspend(int argc, char **argv)
{
	return simple("suspend", suspend_usage, argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return simple("resume", resume_usage, argc, argv);
}


int cmd_reload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "spec", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = NULL, *table = NULL;
	char conv[8192], cmd[16384], reply[1024], who[1024], err[512];
	struct ubt_str cs = UBT_STR(cmd, sizeof(cmd));
	struct ubt_spec_node *n;
	struct run_record r;
	int64_t id = -1;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_id("reload", optarg, &id))
				return EXIT_USAGE;
			break;
		case 's':
			spec = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'h':
			fputs(reload_usage, stdout);
			return 0;
		case ':':
			return cli_usage_error("reload: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("reload: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("reload: unexpected argument '%s'", argv[optind]);
	if (id < 0)
		return cli_usage_error("reload: give -n ID");
	if (!spec == !table)
		return cli_usage_error("reload: give the new stack as --spec EXPR or --table FILE");
	if (cli_need_root("reload"))
		return 1;
	if (table) {
		if (cli_table_spec(table, conv, sizeof(conv)))
			return 1;
	} else {
		/* One line, as the control socket takes it: the spec in canonical form. */
		n = ubt_spec_parse(spec, err, sizeof(err));
		if (!n)
			return cli_error("%s", err);
		ret = ubt_spec_format(n, conv, sizeof(conv));
		ubt_spec_free(n);
		if (ret < 0 || (size_t)ret >= sizeof(conv))
			return cli_error("reload: the stack description is too long");
	}
	if (strchr(conv, '\n'))
		return cli_error("reload: a newline in a path");
	/* Shrinking under a user cuts off what it may use: only an unused device shrinks. */
	ubt_str_printf(&cs, "reload %s ",
		       holders_describe((uint32_t)id, who, sizeof(who)) ? "no-shrink" : "shrink-ok");
	/* The daemon builds the stack: its relative paths are relative to this folder. */
	if (cli_put_cwd("reload", &cs))
		return 1;
	ubt_str_printf(&cs, "%s", conv);
	if (!ubt_str_fits(&cs))
		return cli_error("reload: the stack description is too long");
	ret = control_ask((uint32_t)id, cmd, &r, reply, sizeof(reply));
	if (ret)
		return ret;
	fputs(reply, stdout);
	return 0;
}
