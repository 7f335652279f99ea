// SPDX-License-Identifier: MIT
/* ublk-target: the command line.  One file per subcommand. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ubt/registry.h"
#include "ubt/util.h"

static const char usage[] =
"usage: ublk-target COMMAND [OPTIONS]\n"
"\n"
"Serve /dev/ublkbN block devices through the kernel's ublk driver, each\n"
"backed by a stack of targets (file, null, ...).\n"
"\n"
"Commands:\n"
"  create     create a device and print its path, e.g.\n"
"             ublk-target create file --file disk.img\n"
"  list       list the devices this host serves (--json)\n"
"  delete     stop and remove a device (-n ID, or --all)\n"
"  recover    give a device whose daemon died a new one (-n ID, or --all);\n"
"             with --watch -n ID, each time it dies\n"
"  restart    hand a live device to a new daemon (an upgrade) without an\n"
"             I/O error\n"
"  suspend    finish a device's requests in flight and hold new ones\n"
"  reload     build a new stack for a live device beside the running one\n"
"  resume     switch to the reloaded stack (growing the device) and let\n"
"             held requests go\n"
"  status     a device's stack, dmsetup-style, or its dm table (--table)\n"
"  message    send a command to one node of a running device\n"
"  features   show what the kernel's ublk driver and this build support\n"
"  bench      drive a stack in this process, without ublk, and measure it\n"
"\n"
"Options:\n"
"  -h, --help     this help; 'ublk-target COMMAND --help' for a command\n"
"  -V, --version  print the version\n"
"\n"
"Environment:\n"
"  UBT_RUN_DIR     run-state folder (default /run/ublk-target)\n"
"  UBT_MODULE_DIR  where target modules (ubt-NAME.so) are looked for\n"
"  UBT_CTRL_TIMEOUT_S\n"
"                  how long one command to the ublk driver may take before\n"
"                  it fails (default 30)\n";

static int vreport(const char *fmt, va_list ap)
{
	fputs("ublk-target: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return 1;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return 1;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_parse_id(const char *cmd, const char *arg, int64_t *id)
{
	uint64_t v;

	if (ubt_parse_uint(arg, &v) || v > 0x7fffffff)
		return cli_usage_error("%s: -n takes a device id, not '%s'", cmd, arg);
	*id = (int64_t)v;
	return 0;
}

int cli_parse_device_args(const char *cmd, int argc, char **argv, const char *help, int64_t *id,
			  bool *all, bool *force)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*id = -1;
	if (all)
		*all = false;
	if (force)
		*force = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:afh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_id(cmd, optarg, id))
				return EXIT_USAGE;
			break;
		case 'a':
			if (!all)
				return cli_usage_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
			*all = true;
			break;
		case 'f':
			if (!force)
				return cli_usage_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
			*force = true;
			break;
		case 'h':
			fputs(help, stdout);
			return -1;
		case ':':
			return cli_usage_error("%s: option '%s' needs a value", cmd, argv[optind - 1]);
		default:
			return cli_usage_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
	if (all && (*id < 0) == !*all)
		return cli_usage_error("%s: give either -n ID or --all", cmd);
	if (!all && *id < 0)
		return cli_usage_error("%s: give -n ID", cmd);
	return 0;
}

void cli_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void cli_print_lines(FILE *f, const char *first, const char *lead, const char *text)
{
	const char *nl;

	for (; text && *text; text = nl ? nl + 1 : text + strlen(text), first = lead) {
		nl = strchr(text, '\n');
		fprintf(f, "%s%.*s\n", first, (int)(nl ? (size_t)(nl - text) : strlen(text)), text);
	}
}

void cli_print_targets_text(FILE *f, size_t field)
{
	const struct ubt_target_type *t;
	char first[64];

	ubt_load_all_targets();
	for (t = ubt_target_types(); t; t = t->next) {
		snprintf(first, sizeof(first), "  %-9s", t->name);
		cli_print_lines(f, first, "           ",
				*(const char *const *)((const char *)t + field));
	}
}

int cli_put_cwd(const char *cmd, struct ubt_str *s)
{
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		return cli_error("%s: cannot tell the current folder: %s", cmd, strerror(errno));
	/* A request is one line. */
	if (strchr(cwd, '\n'))
		return cli_error("%s: the current folder's name holds a newline", cmd);
	ubt_str_put_field(s, cwd);
	return 0;
}

int cli_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	return cli_error("%s needs root: the ublk control device is root-only", cmd);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "create", cmd_create },
		{ "list", cmd_list },
		{ "delete", cmd_delete },
		{ "features", cmd_features },
		{ "status", cmd_status },
		{ "message", cmd_message },
		{ "bench", cmd_bench },
		{ "recover", cmd_recover },
		{ "restart", cmd_restart },
		{ "suspend", cmd_suspend },
		{ "reload", cmd_reload },
		{ "resume", cmd_resume },
	};
	const char *moddir = getenv("UBT_MODULE_DIR");
	size_t i;

	if (moddir && *moddir)
		ubt_set_module_dir(moddir);
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ublk-target %s\n", UBT_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return cli_usage_error("unknown command '%s' (try 'ublk-target --help')", argv[1]);
}
