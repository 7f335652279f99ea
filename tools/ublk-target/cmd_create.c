// SPDX-License-Identifier: MIT
/*
 * `create`: build the stack here, so that every argument error is reported
 * before anything exists; then a daemon adds and starts the device
 * (daemon.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "create_opts.h"
#include "daemon.h"
#include "generated/autoconf.h"
#include "rundir.h"
#include "ubt/device.h"
#include "ubt/table.h"
#include "ubt/tree.h"
#include "ubt/util.h"
#include "ubt/ublk_ctrl.h"

int cli_table_spec(const char *table, char *spec, size_t len)
{
	char text[65536], err[512];
	FILE *f = strcmp(table, "-") ? fopen(table, "r") : stdin;
	size_t n;

	if (!f)
		return cli_error("cannot read table %s: %s", table, strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	if (f != stdin)
		fclose(f);
	if (n == sizeof(text) - 1)
		return cli_error("table %s is larger than %zu bytes", table, sizeof(text) - 1);
	text[n] = '\0';
	if (ubt_table_to_spec(text, spec, len, err, sizeof(err)))
		return cli_error("%s", err);
	return 0;
}

int cmd_create(int argc, char **argv)
{
	struct ubt_tree_opts topts = {
		.max_io_bytes = UBT_MAX(CONFIG_MAX_IO_BYTES, CONFIG_ZERO_COPY_MAX_IO_BYTES),
		.tag_buf_bytes = CONFIG_MAX_IO_BYTES,
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct daemon_job job = { 0 };
	struct create_opts o;
	struct ubt_tree *tree;
	char err[512];

	if (create_opts_parse(argc, argv, ncpu > 0 ? (unsigned int)ncpu : 1, &o, err,
			      sizeof(err)))
		return cli_usage_error("%s", err);
	if (o.help) {
		create_usage(stdout);
		return 0;
	}
	if (cli_need_root("create"))
		return 1;
	if (o.table && cli_table_spec(o.table, o.spec, sizeof(o.spec)))
		return 1;
	topts.logical_block_size = o.lbs;
	topts.engine = o.engine;
	if (ubt_tree_build(o.spec, &topts, &tree, err, sizeof(err)))
		return cli_error("%s", err);
	if (access(UBT_CTRL_DEV, F_OK)) {
		ubt_tree_free(tree);
		return cli_error("%s not found: load the ublk_drv kernel module (modprobe ublk_drv)",
				 UBT_CTRL_DEV);
	}
	job.o = &o;
	job.cookie = daemon_new_cookie();
	return daemon_launch(tree, &job);
}
