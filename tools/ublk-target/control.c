// SPDX-License-Identifier: MIT
/*
 * The control socket.  Replies are text; a failure starts with "error: ".
 *   status               one dmsetup-status-like line per node, children
 *                        indented, each led by "[INDEX]" or "[INDEX LABEL]"
 *   table                the device as a device-mapper table, when it has
 *                        that shape
 *   message DIR NODE ARGS...
 *                        ARGS to the node's message handler, like
 *                        `dmsetup message`; NODE is an index or a label, DIR
 *                        the sender's folder, which relative paths in ARGS
 *                        are taken from (a field, ubt_take_field)
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
#include "ubt/table.h"
#include "ubt/tree.h"
#include "ubt/util.h"

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

	if (rundir_need(id, r))
		return 1;
	ret = control_request(id, cmd, reply, len);
	if (ret)
		return cli_error("the daemon of device %u does not answer: %s", id, strerror(-ret));
	if (!strncmp(reply, "error: ", 7)) {
		reply[strcspn(reply, "\n")] = '\0';
		return cli_error("%s", reply + 7);
	}
	return 0;
}

#define MESSAGE_MAX_ARGS	64

/* "message DIR NODE WORDS...": the node's reply, or "error: <its one line>". */
static void message(struct ubt_tree *tree, const char *req, char *out, size_t len)
{
	char *argv[MESSAGE_MAX_ARGS], *save = NULL, *tok, line[4096], dir[4096], reply[4096];
	const char *rest = ubt_take_field(req, dir, sizeof(dir));
	int argc = 0, ret;

	if (!rest || dir[0] != '/') {
		snprintf(out, len, "error: a message wants the absolute folder its paths are "
			 "relative to\n");
		return;
	}
	snprintf(line, sizeof(line), "%s", rest);
	for (tok = strtok_r(line, UBT_MESSAGE_SPACE, &save); tok;
	     tok = strtok_r(NULL, UBT_MESSAGE_SPACE, &save)) {
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
	ret = ubt_tree_message(tree, argv[0], dir, argc - 1, argv + 1, reply, sizeof(reply));
	if (ret < 0)
		snprintf(out, len, "error: %s\n", reply);
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

/*
 * A message may have changed the stack (a mirror's leg replaced): the run
 * record follows, so that `list` shows what serves the device and a
 * recovery rebuilds it.
 */
static void record_stack(struct control_state *st)
{
	char spec[sizeof(st->rec->spec)];
	int ret;

	if ((size_t)ubt_tree_spec(st->tree, spec, sizeof(spec)) >= sizeof(spec) ||
	    !strcmp(spec, st->rec->spec))
		return;
	memcpy(st->rec->spec, spec, sizeof(spec));
	ret = rundir_write(st->rec);
	if (ret)
		fprintf(stderr, "warning: cannot rewrite the run record after a change of the "
			"stack: %s\n", strerror(-ret));
}

void control_switched(void *arg, struct ubt_tree *tree)
{
	struct control_state *st = arg;
	int ret;

	st->tree = tree;
	/* A recovery or restart from now on rebuilds the new stack. */
	ubt_tree_spec(tree, st->rec->spec, sizeof(st->rec->spec));
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

	if (!strcmp(cmd, "status")) {
		ubt_tree_status(tree, out, len);
		return 0;
	}
	if (!strcmp(cmd, "table")) {
		if (ubt_tree_to_table(tree, out, len, err, sizeof(err)))
			snprintf(out, len, "error: %s\n", err);
		return 0;
	}
	if (!strcmp(cmd, "progress")) {
		ubt_tree_progress(tree, out, len);
		return 0;
	}
	if (!strncmp(cmd, "message ", 8)) {
		message(tree, cmd + 8, out, len);
		record_stack(st);
		return 0;
	}
	snprintf(out, len, "error: unknown request '%s'\n", cmd);
	return 0;
}
