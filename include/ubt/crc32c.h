/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli, the iSCSI / ext4 / btrfs checksum): reflected
 * polynomial 0x82F63B78, initial value and final xor ~0.
 */
#ifndef UBT_CRC32C_H
#define UBT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of len bytes at p, continuing from crc (0 to start). */
uint32_t ubt_crc32c(uint32_t crc, const void *p, size_t len);

#endif
