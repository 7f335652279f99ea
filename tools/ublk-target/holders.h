/* SPDX-License-Identifier: MIT */
/* Who uses a device: for `delete` to name them when it refuses. */
#ifndef UBT_HOLDERS_H
#define UBT_HOLDERS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Describe what uses /dev/ublkbID ("mounted on /mnt; open by fio (pid
 * 42); held by dm-0") in buf; returns how many users were found.
 */
unsigned int holders_describe(uint32_t id, char *buf, size_t len);

#endif
