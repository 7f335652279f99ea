// SPDX-License-Identifier: MIT
/*
 * Run records are written to a temporary name and renamed, so a reader
 * sees either no record or a whole one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rundir.h"
#include "ubt/util.h"

const char *rundir_path(void)
{
	const char *d = getenv("UBT_RUN_DIR");

	return d && *d ? d : "/run/ublk-target";
}

static void record_path(uint32_t id, char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s/%u.dev%s", rundir_path(), id, suffix);
}

int rundir_write(const struct run_record *r)
{
	char tmp[4096], path[4096];
	FILE *f;

	if (mkdir(rundir_path(), 0755) && errno != EEXIST)
		return -errno;
	record_path(r->id, tmp, sizeof(tmp), ".tmp");
	record_path(r->id, path, sizeof(path), "");
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "id=%u\npid=%d\nqueues=%u\ndepth=%u\nlbs=%u\nsize=%llu\ncopy_mode=%s\n"
		"engine=%u\nrecovery=%s\ncookie=%llu\nspec=%s\n", r->id, (int)r->pid, r->queues,
		r->depth, r->lbs, (unsigned long long)r->size, r->copy_mode, r->engine,
		r->recovery, (unsigned long long)r->cookie, r->spec);
	if (fclose(f)) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}

int rundir_read(uint32_t id, struct run_record *r)
{
	char path[4096], line[8300];
	FILE *f;

	memset(r, 0, sizeof(*r));
	record_path(id, path, sizeof(path), "");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');
		uint64_t n = 0;

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(line, "spec")) {
			snprintf(r->spec, sizeof(r->spec), "%s", v);
			continue;
		}
		if (!strcmp(line, "copy_mode")) {
			snprintf(r->copy_mode, sizeof(r->copy_mode), "%s", v);
			continue;
		}
		if (!strcmp(line, "recovery")) {
			snprintf(r->recovery, sizeof(r->recovery), "%s", v);
			continue;
		}
		ubt_parse_uint(v, &n);
		if (!strcmp(line, "id"))
			r->id = (uint32_t)n;
		else if (!strcmp(line, "pid"))
			r->pid = (pid_t)n;
		else if (!strcmp(line, "queues"))
			r->queues = (unsigned int)n;
		else if (!strcmp(line, "depth"))
			r->depth = (unsigned int)n;
		else if (!strcmp(line, "lbs"))
			r->lbs = (unsigned int)n;
		else if (!strcmp(line, "size"))
			r->size = n;
		else if (!strcmp(line, "engine"))
			r->engine = (unsigned int)n;
		else if (!strcmp(line, "cookie"))
			r->cookie = n;
	}
	fclose(f);
	return 0;
}

int rundir_remove(uint32_t id)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%u.sock", rundir_path(), id);
	unlink(path);
	record_path(id, path, sizeof(path), "");
	if (unlink(path) && errno != ENOENT)
		return -errno;
	rmdir(rundir_path());	/* only succeeds once the last device is gone */
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int rundir_list(uint32_t *ids, int max)
{
	DIR *d = opendir(rundir_path());
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);

		if (end != e->d_name && !strcmp(end, ".dev"))
			ids[n++] = (uint32_t)id;
	}
	closedir(d);
	qsort(ids, (size_t)n, sizeof(*ids), cmp_u32);
	return n;
}

bool rundir_daemon_alive(pid_t pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	/* A zombie no longer serves anything. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		char state = 0;

		if (fscanf(f, "%*d %*s %c", &state) == 1 && state == 'Z')
			comm[0] = '\0';
		fclose(f);
	}
	return !strncmp(comm, "ublk-target", 11);
}

/*
 * A pidfd wakes the waiter the moment the daemon has exited (a restart's
 * pause includes this wait); polling is the fallback before Linux 5.3.
 */
bool rundir_wait_daemon_gone(pid_t pid, int ms)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && errno == ESRCH)
		return true;
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
			;
		close(fd);
		return r > 0 || !rundir_daemon_alive(pid);
	}
	for (; ms > 0; ms -= 2) {
		if (!rundir_daemon_alive(pid))
			return true;
		nanosleep(&ts, NULL);
	}
	return !rundir_daemon_alive(pid);
}

/*
 * The lock is a flock on the run directory itself, so there is no file to
 * leave behind.  A daemon forked while it is held gets a copy of the
 * descriptor, which would keep the lock for the daemon's whole life: the
 * daemon closes its copy at once (rundir_lock_forget).
 */
static int lock_fd = -1;

int rundir_lock(void)
{
	int fd;

	fd = open(rundir_path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)	/* no directory: no device has a record, nothing to guard */
		return 0;
	while (fd >= 0 && flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int err = errno;

			close(fd);
			errno = err;
			fd = -1;
		}
	}
	if (fd < 0)
		return cli_error("cannot lock %s: %s", rundir_path(), strerror(errno));
	lock_fd = fd;
	return 0;
}

void rundir_unlock(void)
{
	if (lock_fd < 0)
		return;
	flock(lock_fd, LOCK_UN);
	close(lock_fd);
	lock_fd = -1;
}

void rundir_lock_forget(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}
