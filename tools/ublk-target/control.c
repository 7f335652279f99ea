// SPDX-License-Identifier: MIT
/*
 * The control socket.  Replies are text; a failure starts with "error: ".
 *   status               one dmsetup-status-like line per node, children
 *                        indented, each led by "[INDEX]" or "[INDEX LABEL]"
 *   table                the device as a device-mapper table, when it has
 *                        that shape
 *   message NODE ARGS... ARGS to the node's message handler, like
 *                        `dmsetup message`; NODE is an index or a label
 *   progress             "INDEX DONE TOTAL WHAT" per node with background
 *                        work that has an end (a mirror's resync)
 * The device itself answers suspend, reload, resume, release, state and
 * handover (see ubt/device.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "rundir.h"
#include "ubt/spec.h"
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

int control_ask(uint32_t id, const char *cmd, struct run_record *r, char *reply, size_t len)
{
	int ret;

	if (rundir_read(id, r))
		return cli_error("no device %u (see 'ublk-target list')", id);
	ret = control_request(id, cmd, reply, len);
	if (ret)
		return cli_error("the daemon of device %u does not answer: %s", id, strerror(-ret));
	if (!strncmp(reply, "error: ", 7)) {
		reply[strcspn(reply, "\n")] = '\0';
		return cli_error("%s", reply + 7);
	}
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
	n = snprintf(out + *pos, len - *pos, "%*s[%u%s%s] %llu %llu %s%s%s\n", (int)(2 * depth), "",
		     t->id, t->label ? " " : "", t->label ? t->label : "",
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

#define MESSAGE_MAX_ARGS	64

static void progress_node(const struct ubt_target *t, char *out, size_t len, size_t *pos)
{
	unsigned int i;

	if (t->type->progress) {
		uint64_t done = 0, total = 0;
		const char *what = "";
		int n;

		t->type->progress((struct ubt_target *)t, &done, &total, &what);
		n = snprintf(out + *pos, len - *pos, "%u %llu %llu %s\n", t->id,
			     (unsigned long long)done, (unsigned long long)total, what);
		if (n > 0)
			*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
	}
	for (i = 0; i < t->nr_children; i++)
		progress_node(t->children[i], out, len, pos);
}

/* "message NODE ARGS...": the node's reply, or "error: <node's one line>". */
static void message(struct ubt_tree *tree, char *line, char *out, size_t len)
{
	char *argv[MESSAGE_MAX_ARGS], *save = NULL, *tok, reply[4096] = "";
	struct ubt_target *t;
	int argc = 0, ret;

	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (argc == MESSAGE_MAX_ARGS) {
			snprintf(out, len, "error: more than %d words in a message\n", MESSAGE_MAX_ARGS);
			return;
		}
		argv[argc++] = tok;
	}
	if (argc < 2) {
		snprintf(out, len, "error: a message needs a node and at least one word\n");
		return;
	}
	t = ubt_tree_find(tree, argv[0]);
	if (!t) {
		snprintf(out, len, "error: no node '%s' (see 'ublk-target status')\n", argv[0]);
		return;
	}
	if (!t->type->message) {
		snprintf(out, len, "error: node %u (%s) takes no messages\n", t->id, t->type->name);
		return;
	}
	ret = t->type->message(t, argc - 1, argv + 1, reply, sizeof(reply));
	if (ret < 0)
		snprintf(out, len, "error: %s\n", reply[0] ? reply : strerror(-ret));
	else
		snprintf(out, len, "%s%s", reply, reply[0] && reply[strlen(reply) - 1] != '\n' ?
			 "\n" : "");
}

bool control_suspended(uint32_t id)
{
	char reply[128];

	return !control_request(id, "state", reply, sizeof(reply)) &&
	       !strncmp(reply, "suspended=1", 11);
}

void control_switched(void *arg, struct ubt_tree *tree)
{
	struct control_state *st = arg;
	int ret;

	st->tree = tree;
	/* A recovery or restart from now on rebuilds the new stack. */
	ubt_spec_format(tree->spec, st->rec->spec, sizeof(st->rec->spec));
	st->rec->size = ubt_tree_bytes(tree);
	ret = rundir_write(st->rec);
	if (ret)
		fprintf(stderr, "warning: cannot rewrite the run record after a reload: %s\n",
			strerror(-ret));
	fprintf(stderr, "resumed on a new stack (%llu bytes)\n",
		(unsigned long long)st->rec->size);
}

int control_handle(void *arg, const char *cmd, char *out, size_t len)
{
	struct control_state *st = arg;
	struct ubt_tree *tree = st->tree;
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
	if (!strcmp(cmd, "progress")) {
		if (len)
			out[0] = '\0';
		progress_node(tree->root, out, len, &pos);
		return 0;
	}
	if (!strncmp(cmd, "message ", 8)) {
		char line[4096];

		snprintf(line, sizeof(line), "%s", cmd + 8);
		message(tree, line, out, len);
		return 0;
	}
	snprintf(out, len, "error: unknown request '%s'\n", cmd);
	return 0;
}
