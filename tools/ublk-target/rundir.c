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
#include <stdint.h>
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
#include "ubt/io.h"
#include "ubt/ublk_abi.h"
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

int rundir_format(const struct run_record *r, char *buf, size_t len)
{
	return snprintf(buf, len, "id=%u\npid=%d\nqueues=%u\ndepth=%u\nlbs=%u\nsize=%llu\n"
			"copy_mode=%s\nengine=%u\nrecovery=%s\ncookie=%llu\nspec=%s\n", r->id,
			(int)r->pid, r->queues, r->depth, r->lbs, (unsigned long long)r->size,
			r->copy_mode, r->engine, r->recovery, (unsigned long long)r->cookie, r->spec);
}

int rundir_write(const struct run_record *r)
{
	char tmp[4096], path[4096], text[RUNDIR_RECORD_MAX];
	FILE *f;

	if (mkdir(rundir_path(), 0755) && errno != EEXIST)
		return -errno;
	record_path(r->id, tmp, sizeof(tmp), ".tmp");
	record_path(r->id, path, sizeof(path), "");
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	rundir_format(r, text, sizeof(text));
	fputs(text, f);
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

/* A record's keys; the last three are optional (records from before they existed). */
static const char *const record_keys[] = {
	"id", "pid", "queues", "depth", "lbs", "size", "copy_mode", "spec",
	"engine", "recovery", "cookie",
};
#define REQUIRED_KEYS	8

static int damaged(char *why, size_t len, const char *fmt, const char *key)
{
	snprintf(why, len, fmt, key);
	return -EUCLEAN;
}

static bool one_of(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(v, *words))
			return true;
	return false;
}

int rundir_parse(const char *text, size_t len, struct run_record *r, char *why, size_t whylen)
{
	static const char *const modes[] = { "copy", "zero-copy", "user-copy", NULL };
	static const char *const recoveries[] = { "none", "reissue", "fail-io", NULL };
	unsigned int seen = 0, k;
	const char *p = text, *end = text + len;

	memset(r, 0, sizeof(*r));
	snprintf(r->recovery, sizeof(r->recovery), "none");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		char key[16], v[sizeof(r->spec)];
		uint64_t n = 0;
		size_t vlen;

		/* The writer ends every line: one without its end was cut short. */
		if (!nl)
			return damaged(why, whylen, "its last line is cut short%s", "");
		eq = memchr(p, '=', (size_t)(nl - p));
		if (!eq || (size_t)(eq - p) >= sizeof(key))
			return damaged(why, whylen, "a line is not KEY=VALUE%s", "");
		memcpy(key, p, (size_t)(eq - p));
		key[eq - p] = '\0';
		vlen = (size_t)(nl - eq - 1);
		p = nl + 1;
		for (k = 0; k < UBT_ARRAY_SIZE(record_keys) && strcmp(key, record_keys[k]); k++)
			;
		if (k == UBT_ARRAY_SIZE(record_keys))
			continue;	/* a later version's: not ours to judge */
		if (seen & 1u << k)
			return damaged(why, whylen, "%s= is given twice", key);
		seen |= 1u << k;
		if (vlen >= sizeof(v) || memchr(eq + 1, '\0', vlen))
			return damaged(why, whylen, "%s= is too long or holds a NUL", key);
		memcpy(v, eq + 1, vlen);
		v[vlen] = '\0';
		if (!strcmp(key, "spec")) {
			if (!vlen)
				return damaged(why, whylen, "spec= is empty%s", "");
			memcpy(r->spec, v, vlen + 1);
			continue;
		}
		if (!strcmp(key, "copy_mode") || !strcmp(key, "recovery")) {
			if (!one_of(v, key[0] == 'c' ? modes : recoveries))
				return damaged(why, whylen, "%s= is none of the known words", key);
			/* (One of the known words: it fits.) */
			memcpy(key[0] == 'c' ? r->copy_mode : r->recovery, v, vlen + 1);
			continue;
		}
		if (ubt_parse_uint(v, &n))
			return damaged(why, whylen, "%s= is not a number", key);
		if (!strcmp(key, "id") && n <= UINT32_MAX)
			r->id = (uint32_t)n;
		else if (!strcmp(key, "pid") && n && n <= INT32_MAX)
			r->pid = (pid_t)n;
		else if (!strcmp(key, "queues") && n && n <= UBLK_MAX_NR_QUEUES)
			r->queues = (unsigned int)n;
		else if (!strcmp(key, "depth") && n && n <= UBLK_MAX_QUEUE_DEPTH)
			r->depth = (unsigned int)n;
		else if (!strcmp(key, "lbs") && n >= 512 && n <= 4096 && !(n & (n - 1)))
			r->lbs = (unsigned int)n;
		else if (!strcmp(key, "size") && n)
			r->size = n;
		else if (!strcmp(key, "engine") && n <= UBT_ENGINE_URING_WQ)
			r->engine = (unsigned int)n;
		else if (!strcmp(key, "cookie"))
			r->cookie = n;
		else
			return damaged(why, whylen, "%s= is out of range", key);
	}
	for (k = 0; k < REQUIRED_KEYS; k++)
		if (!(seen & 1u << k))
			return damaged(why, whylen, "%s= is missing", record_keys[k]);
	if (r->size % r->lbs)
		return damaged(why, whylen, "size= is not a whole number of blocks%s", "");
	return 0;
}

/* The reason the last rundir_read() found a record damaged. */
static char last_damage[128];

const char *rundir_damage(void)
{
	return last_damage;
}

int rundir_read(uint32_t id, struct run_record *r)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	memset(r, 0, sizeof(*r));
	record_path(id, path, sizeof(path), "");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	/* Bounded: a record is a few lines and one spec. */
	text = malloc(RUNDIR_RECORD_MAX + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(text, 1, RUNDIR_RECORD_MAX + 1, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret && len > RUNDIR_RECORD_MAX)
		ret = damaged(last_damage, sizeof(last_damage), "it is longer than a record can be%s",
			      "");
	if (!ret)
		ret = rundir_parse(text, len, r, last_damage, sizeof(last_damage));
	if (!ret && r->id != id)
		ret = damaged(last_damage, sizeof(last_damage), "it names another device%s", "");
	free(text);
	return ret;
}

int rundir_need(uint32_t id, struct run_record *r)
{
	int ret = rundir_read(id, r);

	if (ret == -EUCLEAN)
		return cli_error("the run record %s/%u.dev is damaged (%s): 'ublk-target delete "
				 "--force -n %u' removes it and the device", rundir_path(), id,
				 rundir_damage(), id);
	if (ret)
		return cli_error("no device %u (see 'ublk-target list')", id);
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
