/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control socket ($UBT_RUN_DIR/ID.sock): `status` and
 * `table` requests answered from the live tree.
 */
#ifndef UBT_CONTROL_H
#define UBT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct ubt_tree;

/* Listen on the device's socket; returns the fd or -errno. */
int control_listen(uint32_t id);
/* The handler for struct ubt_control: arg is the device's tree. */
int control_handle(void *arg, const char *cmd, char *out, size_t len);
/* Send cmd to device id's daemon; the reply goes to reply.  0 or -errno. */
int control_request(uint32_t id, const char *cmd, char *reply, size_t len);

#endif
