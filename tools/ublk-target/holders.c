// SPDX-License-Identifier: MIT
/*
 * Who uses /dev/ublkbN: the mounts of it (mountinfo, by device number),
 * the devices stacked on it (sysfs holders, e.g. a dm table), and the
 * processes with it open (their fd links).  `delete` without --force
 * names them when it refuses.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "holders.h"

static void add(char *buf, size_t len, const char *what)
{
	size_t n = strlen(buf);

	if (n + 3 < len)
		snprintf(buf + n, len - n, "%s%s", n ? "; " : "", what);
}

static unsigned int mounts(dev_t dev, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	unsigned int n = 0, ma, mi;
	char line[4096], point[2048], what[2100];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
		if (sscanf(line, "%*u %*u %u:%u %*s %2047s", &ma, &mi, point) != 3 ||
		    makedev(ma, mi) != dev)
			continue;
		snprintf(what, sizeof(what), "mounted on %s", point);
		add(buf, len, what);
		n++;
	}
	fclose(f);
	return n;
}

static unsigned int stacked(uint32_t id, char *buf, size_t len)
{
	char path[64], what[300];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/block/ublkb%u/holders", id);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(what, sizeof(what), "held by %s", e->d_name);
		add(buf, len, what);
		n++;
	}
	closedir(d);
	return n;
}

static unsigned int openers(const char *devpath, char *buf, size_t len)
{
	DIR *proc = opendir("/proc"), *fds;
	char path[600], link[300], comm[64], what[400];
	struct dirent *p, *f;
	unsigned int n = 0;
	ssize_t r;

	if (!proc)
		return 0;
	while ((p = readdir(proc))) {
		FILE *cf;

		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			r = readlink(path, link, sizeof(link) - 1);
			if (r <= 0)
				continue;
			link[r] = '\0';
			if (strcmp(link, devpath))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
			comm[0] = '\0';
			cf = fopen(path, "r");
			if (cf) {
				if (!fgets(comm, sizeof(comm), cf))
					comm[0] = '\0';
				fclose(cf);
			}
			comm[strcspn(comm, "\n")] = '\0';
			snprintf(what, sizeof(what), "open by %s (pid %s)", comm, p->d_name);
			add(buf, len, what);
			n++;
			break;	/* one line per process */
		}
		closedir(fds);
	}
	closedir(proc);
	return n;
}

unsigned int holders_describe(uint32_t id, char *buf, size_t len)
{
	char devpath[64];
	struct stat st;
	unsigned int n = 0;

	buf[0] = '\0';
	snprintf(devpath, sizeof(devpath), "/dev/ublkb%u", id);
	if (!stat(devpath, &st) && S_ISBLK(st.st_mode))
		n += mounts(st.st_rdev, buf, len);
	n += stacked(id, buf, len);
	n += openers(devpath, buf, len);
	return n;
}
