// SPDX-License-Identifier: MIT
/*
 * The serving daemon: forked once the stack is built (so every argument
 * error is reported before anything exists), it creates or recovers the
 * device and reports back over a pipe; the command prints /dev/ublkbN
 * only once the device is live.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "daemon.h"
#include "rundir.h"
#include "ubt/device.h"
#include "ubt/tree.h"

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

/* ---- stderr to syslog ---------------------------------------------------- */

static pthread_t log_thread;
static int log_fd = -1;
static uint32_t log_id;

/* Each line written to stderr, to syslog with the device id. */
static void *log_lines(void *arg)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;

	(void)arg;
	while ((r = read(log_fd, buf + n, sizeof(buf) - 1 - n)) > 0 || (r < 0 && errno == EINTR)) {
		char *line = buf, *nl;

		if (r < 0)
			continue;
		n += (size_t)r;
		buf[n] = '\0';
		while ((nl = memchr(line, '\n', n - (size_t)(line - buf)))) {
			*nl = '\0';
			if (*line)
				/* "Input/output error", "... failed": what went wrong, whatever the case. */
				syslog(strcasestr(line, "Error") || strcasestr(line, "Failed") ? LOG_ERR :
				       LOG_WARNING, "device %u: %s", log_id, line);
			line = nl + 1;
		}
		n -= (size_t)(line - buf);
		memmove(buf, line, n);
		if (n == sizeof(buf) - 1) {	/* a line longer than the buffer: as it is */
			buf[n] = '\0';
			syslog(LOG_WARNING, "device %u: %s", log_id, buf);
			n = 0;
		}
	}
	close(log_fd);
	return NULL;
}

/* Detach from the terminal: stdin and stdout to /dev/null, stderr to syslog. */
static void detach_stdio(uint32_t id)
{
	int fd = open("/dev/null", O_RDWR), pfd[2];

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	if (pipe2(pfd, O_CLOEXEC))
		return;
	openlog("ublk-target", LOG_PID, LOG_DAEMON);
	log_fd = pfd[0];
	log_id = id;
	if (pthread_create(&log_thread, NULL, log_lines, NULL)) {
		close(pfd[0]);
		close(pfd[1]);
		log_fd = -1;
		return;
	}
	dup2(pfd[1], STDERR_FILENO);
	close(pfd[1]);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* The last lines reach syslog before the daemon ends. */
static void detach_end(void)
{
	int fd;

	if (log_fd < 0)
		return;
	fflush(stderr);
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);	/* the pipe's last write end closes */
		close(fd);
	}
	pthread_join(log_thread, NULL);
	closelog();
}

/* ---- The daemon ---------------------------------------------------------- */

uint64_t daemon_new_cookie(void)
{
	uint64_t c = 0;

	while (getrandom(&c, sizeof(c), 0) < 0 && errno == EINTR)
		;
	/* Never 0 (a device made without one), and a plain decimal in the record. */
	return (c >> 1) | 1;
}

static void fill_record(struct run_record *rec, struct ubt_device *dev, struct ubt_tree *tree,
			const struct daemon_job *job)
{
	const struct create_opts *o = job->o;

	memset(rec, 0, sizeof(*rec));
	rec->id = ubt_device_id(dev);
	rec->pid = getpid();
	rec->queues = o->nr_queues;
	rec->depth = o->depth;
	rec->lbs = ubt_tree_limits(tree)->logical_block_size;
	rec->size = ubt_tree_bytes(tree);
	rec->engine = o->engine;
	rec->cookie = job->cookie;
	snprintf(rec->copy_mode, sizeof(rec->copy_mode), "%s",
		 ubt_copy_mode_name(ubt_device_copy_mode(dev)));
	snprintf(rec->recovery, sizeof(rec->recovery), "%s",
		 ubt_recovery_name(ubt_device_recovery(dev)));
	/* As built: every path absolute, so that a recovery elsewhere rebuilds it. */
	ubt_tree_spec(tree, rec->spec, sizeof(rec->spec));
}

/*
 * Start (or recover) the device and serve it.  status_fd gets "OK <id>\n"
 * or "ERR <message>\n" once start-up is decided (-1 in the foreground).
 */
static int run_daemon(struct ubt_tree *tree, const struct daemon_job *job, int status_fd)
{
	const struct create_opts *o = job->o;
	struct ubt_device_opts dopts = {
		.dev_id = o->dev_id,
		.nr_queues = o->nr_queues,
		.depth = o->depth,
		.copy_mode = o->copy_mode,
		.scheduler = o->scheduler,
		.recovery = o->recovery,
		.cookie = job->cookie,
	};
	struct run_record rec;
	struct control_state st = { .tree = tree, .rec = &rec };
	struct ubt_control ctl = {
		.handle = control_handle,
		.switched = control_switched,
		.arg = &st,
	};
	struct ubt_device *dev;
	char err[512], msg[600];
	int ret;

	block_stop_signals();
	ret = job->recover ? ubt_device_recover(tree, &dopts, &dev, err, sizeof(err)) :
			     ubt_device_start(tree, &dopts, &dev, err, sizeof(err));
	if (ret) {
		snprintf(msg, sizeof(msg), "ERR %s\n", err);
		report(status_fd, msg);
		if (status_fd < 0)
			cli_error("%s", err);
		/* (The tree is not torn down: a node must not mark state clean for a device that never served.) */
		return 1;
	}
	fill_record(&rec, dev, tree, job);
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
		detach_stdio(rec.id);
	} else {
		printf("/dev/ublkb%u\n", rec.id);
		fflush(stdout);
	}
	if (job->recover)
		fprintf(stderr, "recovered by daemon %d\n", (int)rec.pid);
	ret = ubt_device_serve(dev, &ctl);
	if (ctl.fd >= 0)
		close(ctl.fd);
	if (ret == UBT_DEVICE_HANDED_OVER) {
		/* The record stays for the daemon that recovers the device; it rewrites it. */
		fprintf(stderr, "handed over: the next daemon recovers the device\n");
		ret = 0;
	} else {
		if (ret)
			fprintf(stderr, "stopped after a queue failed: %s\n", strerror(-ret));
		rundir_remove(rec.id);
	}
	ubt_tree_free(st.tree);
	detach_end();
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

int daemon_launch(struct ubt_tree *tree, const struct daemon_job *job)
{
	int pfd[2];
	pid_t pid;

	if (job->o->foreground)
		return run_daemon(tree, job, -1);
	if (pipe2(pfd, O_CLOEXEC)) {
		ubt_tree_free(tree);
		return cli_error("pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		ubt_tree_free(tree);
		return cli_error("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		rundir_lock_forget();
		setsid();
		if (chdir("/")) {
			/* paths were resolved at construction; the cwd no longer matters */
		}
		_exit(run_daemon(tree, job, pfd[1]));
	}
	close(pfd[1]);
	ubt_tree_free(tree);
	return await_daemon(pid, pfd[0]);
}
