/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control socket ($UBT_RUN_DIR/ID.sock): `status` and
 * `table` requests answered from the live tree.
 */
#ifndef UBT_CONTROL_H
#define UBT_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ubt_tree;

/* Listen on the device's socket; returns the fd or -errno. */
int control_listen(uint32_t id);
/* Whether device id's daemon answers that it holds the device's I/O (suspend). */
bool control_suspended(uint32_t id);

struct run_record;

/* What the daemon's control handler answers from. */
struct control_state {
	struct ubt_tree *tree;		/* the device's, replaced by a resume after a reload */
	struct run_record *rec;		/* rewritten when the tree is replaced */
};

/* The handlers for struct ubt_control: arg is a struct control_state. */
int control_handle(void *arg, const char *cmd, char *out, size_t len);
void control_switched(void *arg, struct ubt_tree *tree);
/* Send cmd to device id's daemon; the reply goes to reply.  0 or -errno. */
int control_request(uint32_t id, const char *cmd, char *reply, size_t len);

/*
 * What a command does to ask a device: read its run record into r, send
 * cmd, and turn a missing device, a silent daemon or an "error: " reply
 * into one line on stderr.  0 with the reply, or the exit code.
 */
int control_ask(uint32_t id, const char *cmd, struct run_record *r, char *reply, size_t len);

#endif
