// SPDX-License-Identifier: MIT
/*
 * Parser and printer for the spec expression (grammar in ubt/spec.h).
 * A recursive-descent parser over the string; errors name the column.
 * Nesting is bounded so that hostile input cannot exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/spec.h"
#include "ubt/util.h"

#define SPEC_MAX_DEPTH	64
#define SPEC_MAX_ARGS	256

struct parser {
	const char *text;
	const char *p;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "spec: %s at column %u", what,
		 (unsigned int)(at - ps->text) + 1);
}

static unsigned int column(struct parser *ps, const char *at)
{
	return (unsigned int)(at - ps->text) + 1;
}

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n')
		ps->p++;
}

/* A WORD: a bare run or a quoted string.  Returns a new string or NULL. */
static char *parse_word(struct parser *ps)
{
	const char *start = ps->p;
	char *w;

	if (*ps->p == '\'' || *ps->p == '"') {
		char q = *ps->p++;
		const char *end = strchr(ps->p, q);

		if (!end) {
			fail(ps, start, "unterminated quote");
			return NULL;
		}
		w = strndup(ps->p, (size_t)(end - ps->p));
		ps->p = end + 1;
	} else {
		while (ubt_spec_word_char(*ps->p))
			ps->p++;
		if (ps->p == start) {
			if (*ps->p)
				fail(ps, start, "unexpected '%c'", *ps->p);
			else
				fail(ps, start, "unexpected end");
			return NULL;
		}
		w = strndup(start, (size_t)(ps->p - start));
	}
	if (!w)
		fail(ps, start, "out of memory");
	return w;
}

static struct ubt_spec_node *parse_expr(struct parser *ps, int depth);

static int add_arg(struct parser *ps, struct ubt_spec_node *n, struct ubt_spec_arg *a,
		   const char *at)
{
	struct ubt_spec_arg *args;

	if (n->nr_args >= SPEC_MAX_ARGS) {
		fail(ps, at, "too many arguments");
		return -E2BIG;
	}
	args = realloc(n->args, (n->nr_args + 1) * sizeof(*args));
	if (!args) {
		fail(ps, at, "out of memory");
		return -ENOMEM;
	}
	n->args = args;
	n->args[n->nr_args++] = *a;
	return 0;
}

void ubt_spec_arg_free(struct ubt_spec_arg *a)
{
	free(a->key);
	free(a->word);
	ubt_spec_free(a->node);
}

/* One argument: key=expr or expr. */
static int parse_arg(struct parser *ps, struct ubt_spec_node *n, int depth)
{
	struct ubt_spec_arg a = { 0 };
	const char *start;
	struct ubt_spec_node *v;

	skip_space(ps);
	start = ps->p;
	a.column = column(ps, start);
	v = parse_expr(ps, depth + 1);
	if (!v)
		return -EINVAL;
	skip_space(ps);
	if (*ps->p == '=') {
		if (!v->bare) {
			fail(ps, ps->p, "a key cannot be a node");
			ubt_spec_free(v);
			return -EINVAL;
		}
		a.key = v->name;
		v->name = NULL;
		ubt_spec_free(v);
		ps->p++;
		skip_space(ps);
		v = parse_expr(ps, depth + 1);
		if (!v) {
			ubt_spec_arg_free(&a);
			return -EINVAL;
		}
	}
	if (v->bare) {
		a.word = v->name;
		v->name = NULL;
		ubt_spec_free(v);
	} else {
		a.node = v;
	}
	if (add_arg(ps, n, &a, start)) {
		ubt_spec_arg_free(&a);
		return -EINVAL;
	}
	return 0;
}

static struct ubt_spec_node *parse_expr(struct parser *ps, int depth)
{
	struct ubt_spec_node *n;
	const char *start;

	skip_space(ps);
	start = ps->p;
	if (depth > SPEC_MAX_DEPTH) {
		fail(ps, start, "nesting deeper than %d", SPEC_MAX_DEPTH);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		fail(ps, start, "out of memory");
		return NULL;
	}
	n->column = column(ps, start);
	n->name = parse_word(ps);
	if (!n->name)
		goto out_free;
	skip_space(ps);
	if (*ps->p != '(') {
		n->bare = true;
		return n;
	}
	ps->p++;
	skip_space(ps);
	if (*ps->p == ')') {
		ps->p++;
		return n;
	}
	for (;;) {
		if (parse_arg(ps, n, depth))
			goto out_free;
		skip_space(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == ')') {
			ps->p++;
			return n;
		}
		if (*ps->p)
			fail(ps, ps->p, "expected ',' or ')' but found '%c'", *ps->p);
		else
			fail(ps, ps->p, "missing ')' for %s( opened at column %u",
			     n->name, n->column);
		goto out_free;
	}
out_free:
	ubt_spec_free(n);
	return NULL;
}

struct ubt_spec_node *ubt_spec_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = { .text = text, .p = text, .err = err, .errlen = errlen };
	struct ubt_spec_node *n;

	if (errlen)
		err[0] = '\0';
	n = parse_expr(&ps, 0);
	if (!n)
		return NULL;
	skip_space(&ps);
	if (*ps.p) {
		fail(&ps, ps.p, "unexpected '%c' after the expression", *ps.p);
		ubt_spec_free(n);
		return NULL;
	}
	return n;
}

void ubt_spec_free(struct ubt_spec_node *n)
{
	unsigned int i;

	if (!n)
		return;
	for (i = 0; i < n->nr_args; i++)
		ubt_spec_arg_free(&n->args[i]);
	free(n->args);
	free(n->name);
	free(n);
}

static void format_node(const struct ubt_spec_node *n, struct ubt_str *s)
{
	unsigned int i;

	/* A parsed word cannot hold both quotes, so every word can be written. */
	ubt_str_put_word(s, n->name);
	if (n->bare)
		return;
	ubt_str_printf(s, "(");
	for (i = 0; i < n->nr_args; i++) {
		const struct ubt_spec_arg *a = &n->args[i];

		if (i)
			ubt_str_printf(s, ", ");
		if (a->key) {
			ubt_str_put_word(s, a->key);
			ubt_str_printf(s, "=");
		}
		if (a->node)
			format_node(a->node, s);
		else
			ubt_str_put_word(s, a->word);
	}
	ubt_str_printf(s, ")");
}

int ubt_spec_format(const struct ubt_spec_node *n, char *buf, size_t len)
{
	struct ubt_str s = UBT_STR(buf, len);

	if (len)
		buf[0] = '\0';
	format_node(n, &s);
	return (int)s.pos;
}
