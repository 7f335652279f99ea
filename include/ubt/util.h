/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the core, the targets and the tools. */
#ifndef UBT_UTIL_H
#define UBT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

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

/*
 * Text built piece by piece into a fixed buffer: past its end only pos
 * grows, so a caller checks once, at the end, that it fitted (pos < len).
 */
struct ubt_str {
	char *buf;
	size_t len, pos;
};

#define UBT_STR(b, l)		((struct ubt_str){ .buf = (b), .len = (l) })

void ubt_str_printf(struct ubt_str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ubt_str_vprintf(struct ubt_str *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Whether everything written fitted (with its terminating NUL). */
static inline bool ubt_str_fits(const struct ubt_str *s)
{
	return s->pos < s->len;
}
/* A character a spec word may hold unquoted (ubt/spec.h's grammar). */
static inline bool ubt_spec_word_char(char c)
{
	return c && !strchr("(),= \t\n'\"", c);
}
/*
 * A word of the spec grammar (ubt/spec.h) as it must be written: as it
 * is when it is a plain word, else quoted ('...', or "..." when it holds
 * a '). -EINVAL, writing nothing, for a word that holds both quotes.
 */
int ubt_str_put_word(struct ubt_str *s, const char *word);
/* Whether a word can be written in a spec at all (not both kinds of quote). */
bool ubt_spec_word_ok(const char *word);

/*
 * A field of a one-line request that may hold any byte but a newline (a
 * folder's path): "<length> <bytes> ".  ubt_take_field() copies it to out
 * and returns what follows it, or NULL when s does not start with one or
 * out is too small.
 */
void ubt_str_put_field(struct ubt_str *s, const char *field);
const char *ubt_take_field(const char *s, char *out, size_t outlen);

/*
 * The size in bytes of what fd is open on: a regular file's length, a
 * block device's capacity.  0, or -ENOTBLK for anything else, or -errno.
 */
int ubt_fd_bytes(int fd, uint64_t *bytes);
/* The same for a path (opened read-only for the moment). */
int ubt_path_bytes(const char *path, uint64_t *bytes);

static inline bool ubt_is_power_of_2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline unsigned int ubt_ilog2(uint64_t x)
{
	return 63 - __builtin_clzll(x);
}

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t ubt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Call attempt(arg) until it returns anything but -EBUSY, pausing between
 * calls (1 ms, doubling to 50 ms), for at most limit_ms of real time.
 * Returns its last answer (-EBUSY when the time ran out).
 */
int ubt_retry_while_busy(int (*attempt)(void *arg), void *arg, unsigned int limit_ms);

/*
 * Pacing background copies to `rate` bytes per second: a transfer of
 * `bytes` takes the next slot of the schedule *next_ns (a CLOCK_MONOTONIC
 * time, 0 at first), so that all of them together keep to the rate.
 * Returns how long to wait, in ns, before it starts.  The caller
 * serialises the calls on one schedule.
 */
static inline uint64_t ubt_pace(uint64_t *next_ns, uint64_t bytes, uint64_t rate)
{
	uint64_t now = ubt_now_ns(), start = UBT_MAX(*next_ns, now);

	*next_ns = start + bytes * 1000000000ull / rate;
	return start - now;
}

#endif
