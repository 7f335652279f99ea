// SPDX-License-Identifier: MIT
/* `status`: ask a device's daemon for its status lines or its dm table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/util.h"

static const char status_usage[] =
"usage: ublk-target status -n ID [--table]\n"
"\n"
"Print the device's copy mode (see 'create --help'), then its stack, one\n"
"line per node in the style of 'dmsetup status': [INDEX] or [INDEX LABEL]\n"
"(what 'message' takes to name the node), then <start> <length> <target>\n"
"<status>, in 512-byte sectors; children indented under their parent.\n"
"A stripe reports '<#stripes> <children> 1 <A|D per stripe>' (D: that\n"
"child has failed an I/O); delay '<reads> <writes> <flushes>' held now.\n"
"\n"
"  -n, --id ID   the device\n"
"  --table       print the device as a device-mapper table instead, as\n"
"                'create --table' takes it (devices are file paths)\n";

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "table", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_record r;
	char reply[65536];
	bool table = false;
	int64_t id = -1;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_id("status", optarg, &id))
				return EXIT_USAGE;
			break;
		case 't':
			table = true;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return 0;
		case ':':
			return cli_usage_error("status: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("status: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("status: unexpected argument '%s'", argv[optind]);
	if (id < 0)
		return cli_usage_error("status: give -n ID");
	ret = control_ask((uint32_t)id, table ? "table" : "status", &r, reply, sizeof(reply));
	if (ret)
		return ret;
	if (!table)
		printf("/dev/ublkb%u copy-mode %s\n", r.id, r.copy_mode);
	fputs(reply, stdout);
	return 0;
}
