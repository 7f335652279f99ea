/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the core, the targets and the tools. */
#ifndef UBT_UTIL_H
#define UBT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UBT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define UBT_MIN(a, b)		((a) < (b) ? (a) : (b))
#define UBT_MAX(a, b)		((a) > (b) ? (a) : (b))
#define UBT_ROUND_UP(x, a)	((((x) + (a) - 1) / (a)) * (a))
#define ubt_likely(x)		__builtin_expect(!!(x), 1)
#define ubt_unlikely(x)		__builtin_expect(!!(x), 0)

/*
 * Parse "4096", "64K", "1M", "2G", "1T" (powers of 1024; an optional
 * trailing B or iB is accepted: "64KiB").  Returns 0, or -EINVAL for
 * anything else, -ERANGE on overflow.
 */
int ubt_parse_size(const char *s, uint64_t *out);
/* Parse a plain unsigned decimal number; same errors. */
int ubt_parse_uint(const char *s, uint64_t *out);
/* Format bytes as the largest exact unit: 1073741824 -> "1G", 1000 -> "1000". */
void ubt_format_size(uint64_t bytes, char *buf, size_t len);

static inline bool ubt_is_power_of_2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline unsigned int ubt_ilog2(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

#endif
