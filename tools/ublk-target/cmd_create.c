// SPDX-License-Identifier: MIT
/*
 * `create`: build the stack here, so that every argument error is reported
 * before anything exists; then fork a daemon that adds and starts the
 * device and reports back over a pipe.  The parent prints /dev/ublkbN only
 * once the device is live.
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
#include "generated/autoconf.h"
#include "rundir.h"
#include "ubt/device.h"
#include "ubt/table.h"
#include "ubt/tree.h"
#include "ubt/util.h"
#include "ubt/ublk_ctrl.h"

static void block_stop_signals(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void report(int fd, const char *msg)
{
	size_t len = strlen(msg);

	if (fd >= 0 && write(fd, msg, len) != (ssize_t)len) {
		/* the parent is gone: nobody to tell */
	}
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Start the device and serve it.  status_fd gets "OK <id>\n" or
 * "ERR <message>\n" once start-up is decided (-1 in the foreground).
 */
static int run_daemon(struct ubt_tree *tree, const struct create_opts *o, int status_fd)
{
	struct ubt_device_opts dopts = {
		.dev_id = o->dev_id,
		.nr_queues = o->nr_queues,
		.depth = o->depth,
		.copy_mode = o->copy_mode,
		.scheduler = o->scheduler,
	};
	struct run_record rec = { 0 };
	struct ubt_control ctl = { .handle = control_handle, .arg = tree };
	struct ubt_device *dev;
	char err[512], msg[600];
	int ret;

	block_stop_signals();
	ret = ubt_device_start(tree, &dopts, &dev, err, sizeof(err));
	if (ret) {
		snprintf(msg, sizeof(msg), "ERR %s\n", err);
		report(status_fd, msg);
		if (status_fd < 0)
			cli_error("%s", err);
		return 1;
	}
	rec.id = ubt_device_id(dev);
	rec.pid = getpid();
	rec.queues = o->nr_queues;
	rec.depth = o->depth;
	rec.lbs = tree->limits.logical_block_size;
	rec.size = ubt_tree_bytes(tree);
	rec.engine = o->engine;
	snprintf(rec.copy_mode, sizeof(rec.copy_mode), "%s",
		 ubt_copy_mode_name(ubt_device_copy_mode(dev)));
	snprintf(rec.spec, sizeof(rec.spec), "%s", o->spec);
	ret = rundir_write(&rec);
	if (ret)
		fprintf(stderr, "ublk-target: warning: cannot write the run record in %s: %s\n",
			rundir_path(), strerror(-ret));
	/* Listening before "OK": `status` right after `create` must find it. */
	ctl.fd = control_listen(rec.id);
	if (ctl.fd < 0)
		fprintf(stderr, "ublk-target: warning: no control socket for device %u: %s\n",
			rec.id, strerror(-ctl.fd));
	snprintf(msg, sizeof(msg), "OK %u\n", rec.id);
	if (status_fd >= 0) {
		report(status_fd, msg);
		close(status_fd);
		detach_stdio();
	} else {
		printf("/dev/ublkb%u\n", rec.id);
		fflush(stdout);
	}
	ret = ubt_device_serve(dev, &ctl);
	if (ctl.fd >= 0)
		close(ctl.fd);
	rundir_remove(rec.id);
	ubt_tree_free(tree);
	return ret ? 1 : 0;
}

/* Read the daemon's verdict; print the device path or the error. */
static int await_daemon(pid_t pid, int fd)
{
	char buf[700];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	close(fd);
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "OK ", 3)) {
		printf("/dev/ublkb%s\n", buf + 3);
		return 0;
	}
	waitpid(pid, NULL, 0);
	if (!strncmp(buf, "ERR ", 4))
		return cli_error("%s", buf + 4);
	return cli_error("the daemon died while starting the device");
}

/* --table FILE|-: read it and turn it into the spec. */
static int table_spec(struct create_opts *o)
{
	char text[65536], err[512];
	FILE *f = strcmp(o->table, "-") ? fopen(o->table, "r") : stdin;
	size_t n;

	if (!f)
		return cli_error("cannot read table %s: %s", o->table, strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	if (f != stdin)
		fclose(f);
	if (n == sizeof(text) - 1)
		return cli_error("table %s is larger than %zu bytes", o->table, sizeof(text) - 1);
	text[n] = '\0';
	if (ubt_table_to_spec(text, o->spec, sizeof(o->spec), err, sizeof(err)))
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
	struct create_opts o;
	struct ubt_tree *tree;
	char err[512];
	int pfd[2];
	pid_t pid;

	if (create_opts_parse(argc, argv, ncpu > 0 ? (unsigned int)ncpu : 1, &o, err,
			      sizeof(err)))
		return cli_usage_error("%s", err);
	if (o.help) {
		fputs(create_usage, stdout);
		return 0;
	}
	if (cli_need_root("create"))
		return 1;
	if (o.table && table_spec(&o))
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
	if (o.foreground)
		return run_daemon(tree, &o, -1);

	if (pipe2(pfd, O_CLOEXEC)) {
		ubt_tree_free(tree);
		return cli_error("pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ubt_tree_free(tree);
		return cli_error("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		if (chdir("/")) {
			/* paths were resolved at construction; the cwd no longer matters */
		}
		_exit(run_daemon(tree, &o, pfd[1]));
	}
	close(pfd[1]);
	ubt_tree_free(tree);
	return await_daemon(pid, pfd[0]);
}
