// SPDX-License-Identifier: MIT
/* `message`: send a command to one node of a running device, like `dmsetup message`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
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
"Messages:\n"
"  flakey   up | down             hold the node up or down\n"
"           cycle [UP DOWN]       back to the timed cycle (new intervals)\n"
"           features [FEATURE...] replace the features, dm words, e.g.\n"
"                                 'features corrupt_bio_byte 1 r 0 0'\n"
"  delay    read MS | write MS | flush MS [...]\n"
"                                 new delays for requests from now on\n"
"  mirror   fail LEG              mark a leg failed: reads avoid it\n"
"           replace LEG           take a failed leg back (fixed or swapped):\n"
"                                 every region is copied to it\n"
"           replace LEG PATH|SPEC put a new file (or node) in the leg's place\n"
"                                 while I/O runs, then copy every region to it\n"
"           check | repair        compare the legs region by region, count\n"
"                                 the sectors that differ (repair: rewrite\n"
"                                 them from the default leg)\n"
"           LEG is a leg's position (0 first) or its node's label\n"
"  cache    migration_threshold SECTORS\n"
"                                 copying in flight at once\n"
"           cleaner               write every dirty block back, promote nothing\n"
"           clear_stats           zero the hit, miss and migration counters\n"
"  volatile crash [all]           lose every write not yet flushed (the child\n"
"                                 is rewritten as the last flush left it)\n"
"           crash prefix|random|torn SEED\n"
"                                 some unflushed writes survive: the first k,\n"
"                                 any of them, or parts of them\n"
"\n"
"  -n, --id ID   the device\n";

int cmd_message(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_record r;
	char cmd[4096], reply[65536];
	size_t pos;
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
	pos = (size_t)snprintf(cmd, sizeof(cmd), "message");
	for (i = optind; i < argc; i++) {
		if (!argv[i][0] || strpbrk(argv[i], " \t\r\n"))
			return cli_usage_error("message: '%s': words cannot be empty or hold white space",
					       argv[i]);
		pos += (size_t)snprintf(cmd + UBT_MIN(pos, sizeof(cmd)),
					sizeof(cmd) - UBT_MIN(pos, sizeof(cmd)), " %s", argv[i]);
	}
	if (pos >= sizeof(cmd))
		return cli_usage_error("message: the message is too long");
	ret = control_ask((uint32_t)id, cmd, &r, reply, sizeof(reply));
	if (ret)
		return ret;
	fputs(reply, stdout);
	return 0;
}
