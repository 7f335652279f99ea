// SPDX-License-Identifier: MIT
/* `status`: ask a device's daemon for its status lines or its dm table. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/target.h"
#include "ubt/util.h"

static const char status_usage[] =
"usage: ublk-target status -n ID [--table] [--wait [clean]]\n"
"\n"
"Print the device's copy mode (see 'create --help'), then its stack, one\n"
"line per node in the style of 'dmsetup status': [INDEX] or [INDEX LABEL]\n"
"(what 'message' takes to name the node), then <start> <length> <target>\n"
"<status>, in 512-byte sectors; children indented under their parent.\n"
"What each target's <status> says is listed below.\n"
"\n"
"  -n, --id ID   the device\n"
"  --table       print the device as a device-mapper table instead, as\n"
"                'create --table' takes it (devices are file paths)\n"
"  --wait        first wait until the device's background work is done (a\n"
"                mirror's resync or scrub, a cache's dirty blocks written\n"
"                back), drawing a progress\n"
"                bar on a terminal or a line every 5 s otherwise\n"
"  --wait clean  the same for caches only: until no block is dirty\n"
"\n"
"What the targets report:\n";

/* Sum the daemon's "INDEX DONE TOTAL WHAT" lines; how many there were. */
static unsigned int sum_progress(char *reply, uint64_t *done, uint64_t *total, char *what,
				 size_t wlen, const char *only)
{
	char *save = NULL, *line;
	unsigned int n = 0;

	*done = *total = 0;
	for (line = strtok_r(reply, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long d, t;
		unsigned int idx;
		int off = 0;

		if (sscanf(line, "%u %llu %llu %n", &idx, &d, &t, &off) < 3)
			continue;
		if (only && !strstr(line + off, only))
			continue;	/* `--wait clean`: a cache's writeback only */
		*done += d;
		*total += t;
		snprintf(what, wlen, "%s", line + off);
		n++;
	}
	return n;
}

/* Until every node's background work (or only what says `only`) is done: a bar, or a line every 5 s. */
static int wait_done(uint32_t id, const char *only)
{
	bool tty = isatty(STDERR_FILENO);
	time_t last = 0;
	struct run_record r;
	char reply[16384], what[64] = "";
	uint64_t done, total;
	int ret;

	for (;;) {
		ret = control_ask(id, "progress", &r, reply, sizeof(reply));
		if (ret)
			return ret;
		if (!sum_progress(reply, &done, &total, what, sizeof(what), only) || done >= total)
			break;
		if (tty) {
			unsigned int w = (unsigned int)(done * 40 / total);

			fprintf(stderr, "\r[%.*s%*s] %3u%% %llu/%llu %s", (int)w,
				"########################################", (int)(40 - w), "",
				(unsigned int)(done * 100 / total), (unsigned long long)done,
				(unsigned long long)total, what);
		} else if (time(NULL) - last >= 5) {
			fprintf(stderr, "%llu/%llu %s\n", (unsigned long long)done,
				(unsigned long long)total, what);
			last = time(NULL);
		}
		usleep(200000);
	}
	if (tty && last == 0)
		fprintf(stderr, "\r\033[K");
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "table", no_argument, NULL, 't' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_record r;
	char reply[65536];
	bool table = false, wait = false;
	const char *only = NULL;
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
		case 'w':
			wait = true;
			break;
		case 'h':
			fputs(status_usage, stdout);
			cli_print_targets_text(stdout, offsetof(struct ubt_target_type, status_usage));
			return 0;
		case ':':
			return cli_usage_error("status: option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("status: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (wait && optind < argc && !strcmp(argv[optind], "clean"))
		only = argv[optind++];
	if (optind < argc)
		return cli_usage_error("status: unexpected argument '%s'", argv[optind]);
	if (id < 0)
		return cli_usage_error("status: give -n ID");
	if (wait) {
		ret = wait_done((uint32_t)id, only);
		if (ret)
			return ret;
	}
	ret = control_ask((uint32_t)id, table ? "table" : "status", &r, reply, sizeof(reply));
	if (ret)
		return ret;
	if (!table)
		printf("/dev/ublkb%u copy-mode %s\n", r.id, r.copy_mode);
	fputs(reply, stdout);
	return 0;
}
