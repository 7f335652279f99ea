// SPDX-License-Identifier: MIT
/*
 * The control socket.  Replies are text; a failure starts with "error: ".
 *   status  one dmsetup-status-like line per node, children indented
 *   table   the device as a device-mapper table, when it has that shape
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "rundir.h"
#include "ubt/table.h"
#include "ubt/tree.h"

/* A stream socket and the address of device id's control socket; fd or -errno. */
static int control_socket(uint32_t id, struct sockaddr_un *sa)
{
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%u.sock", rundir_path(), id) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int control_listen(uint32_t id)
{
	struct sockaddr_un sa;
	int fd = control_socket(id, &sa), ret;

	if (fd < 0)
		return fd;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int control_request(uint32_t id, const char *cmd, char *reply, size_t len)
{
	struct sockaddr_un sa;
	int fd = control_socket(id, &sa), ret;
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while (n < len - 1 && (r = read(fd, reply + n, len - 1 - n)) > 0)
		n += (size_t)r;
	reply[n] = '\0';
	close(fd);
	return 0;
}

static void status_node(const struct ubt_target *t, uint64_t start, unsigned int depth,
			char *out, size_t len, size_t *pos)
{
	char info[1024] = "";
	uint64_t child_start = 0;
	unsigned int i;
	int n;

	if (t->type->status &&
	    t->type->status((struct ubt_target *)t, UBT_STATUS_INFO, info, sizeof(info)) < 0)
		snprintf(info, sizeof(info), "?");
	n = snprintf(out + *pos, len - *pos, "%*s%llu %llu %s%s%s\n", (int)(2 * depth), "",
		     (unsigned long long)start, (unsigned long long)t->len, t->type->name,
		     info[0] ? " " : "", info);
	if (n > 0)
		*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
	for (i = 0; i < t->nr_children; i++) {
		/* Only concat places its children one after another. */
		status_node(t->children[i], child_start, depth + 1, out, len, pos);
		if (!strcmp(t->type->name, "concat"))
			child_start += t->children[i]->len;
	}
}

int control_handle(void *arg, const char *cmd, char *out, size_t len)
{
	struct ubt_tree *tree = arg;
	char err[512];
	size_t pos = 0;

	if (!strcmp(cmd, "status")) {
		status_node(tree->root, 0, 0, out, len, &pos);
		return 0;
	}
	if (!strcmp(cmd, "table")) {
		if (ubt_tree_to_table(tree, out, len, err, sizeof(err)))
			snprintf(out, len, "error: %s\n", err);
		return 0;
	}
	snprintf(out, len, "error: unknown request '%s'\n", cmd);
	return 0;
}
