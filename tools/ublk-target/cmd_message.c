// SPDX-License-Identifier: MIT
/* `message`: send a command to one node of a running device, like `dmsetup message`. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/target.h"
#include "ubt/util.h"

static const char message_usage[] =
"usage: ublk-target message -n ID NODE WORD...\n"
"\n"
"Send WORD... to one node of a running device, the way 'dmsetup message'\n"
"talks to a device-mapper target.  NODE is the node's index as 'status'\n"
"prints it ([INDEX] at the start of its line) or the label given to it\n"
"with name=LABEL in the spec.  What a node answers is printed; a node that\n"
"refuses says why on one line and the command exits 1.\n"
"\n"
"  -n, --id ID   the device\n"
"\n"
"The messages each target takes:\n";


int cmd_message(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_record r;
	char cmd[8192], reply[65536];
	struct ubt_str cs = UBT_STR(cmd, sizeof(cmd));
	int64_t id = -1;
	int c, i, ret;

	optind = 0;
	opterr = 0;
	/* '+': stop at NODE, so that the words may start with '-'. */
	while ((c = getopt_long(argc, argv, "+:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_id("message", optarg, &id))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(message_usage, stdout);
			cli_print_targets_text(stdout, offsetof(struct ubt_target_type, message_usage));
			return 0;
		case ':':
			return cli_usage_error("message: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("message: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (id < 0)
		return cli_usage_error("message: give -n ID");
	if (argc - optind < 2)
		return cli_usage_error("message: give a NODE and at least one word, e.g. "
				       "'message -n %lld 2 down'", (long long)id);
	/* The words may name files (a mirror's new leg): relative to this folder. */
	ubt_str_printf(&cs, "message ");
	if (cli_put_cwd("message", &cs))
		return 1;
	for (i = optind; i < argc; i++) {
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n"))
			return cli_usage_error("message: '%s': words cannot be empty or hold white space",
					       argv[i]);
		ubt_str_printf(&cs, "%s%s", i > optind ? " " : "", argv[i]);
	}
	if (!ubt_str_fits(&cs))
		return cli_usage_error("message: the message is too long");
	ret = control_ask((uint32_t)id, cmd, &r, reply, sizeof(reply));
	if (ret)
		return ret;
	fputs(reply, stdout);
	return 0;
}
