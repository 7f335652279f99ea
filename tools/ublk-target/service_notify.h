/* SPDX-License-Identifier: MIT */
/*
 * Telling a service manager how a long-running command is doing, as
 * systemd's Type=notify expects: "READY=1" once it serves, "STATUS=..."
 * lines for `systemctl status`.  Sent only where the manager asked for
 * them ($NOTIFY_SOCKET); a no-op everywhere else.
 */
#ifndef UBT_SERVICE_NOTIFY_H
#define UBT_SERVICE_NOTIFY_H

/* Send the newline-separated assignments fmt makes; 0 or a negative errno. */
int service_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
