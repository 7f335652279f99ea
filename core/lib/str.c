// SPDX-License-Identifier: MIT
/*
 * Building text into fixed buffers, and writing words of the spec grammar:
 * the one quoter every writer of spec text uses (the spec printer, the
 * table translation, the command-line shorthands).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ubt/util.h"

void ubt_str_vprintf(struct ubt_str *s, const char *fmt, va_list ap)
{
	int n = vsnprintf(s->pos < s->len ? s->buf + s->pos : NULL,
			  s->pos < s->len ? s->len - s->pos : 0, fmt, ap);

	if (n > 0)
		s->pos += (size_t)n;
}

void ubt_str_printf(struct ubt_str *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ubt_str_vprintf(s, fmt, ap);
	va_end(ap);
}

bool ubt_spec_word_ok(const char *word)
{
	return !strchr(word, '\'') || !strchr(word, '"');
}

int ubt_str_put_word(struct ubt_str *s, const char *w)
{
	const char *c;
	bool plain = *w != '\0';

	for (c = w; *c && plain; c++)
		plain = ubt_spec_word_char(*c);
	if (plain) {
		ubt_str_printf(s, "%s", w);
		return 0;
	}
	if (!ubt_spec_word_ok(w))
		return -EINVAL;
	ubt_str_printf(s, strchr(w, '\'') ? "\"%s\"" : "'%s'", w);
	return 0;
}

void ubt_str_put_field(struct ubt_str *s, const char *field)
{
	ubt_str_printf(s, "%zu %s ", strlen(field), field);
}

const char *ubt_take_field(const char *s, char *out, size_t outlen)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9' && n < outlen)
		n = n * 10 + (uint64_t)(*s++ - '0');
	if (*s != ' ' || n >= outlen || strnlen(s + 1, n) < n || s[1 + n] != ' ')
		return NULL;
	memcpy(out, s + 1, n);
	out[n] = '\0';
	return s + 2 + n;
}
