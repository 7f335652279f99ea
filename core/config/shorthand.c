// SPDX-License-Identifier: MIT
/*
 * Command-line shorthands: what a frontend collected for a type, checked
 * against the options the type takes, and the helpers its spec builder
 * reads them with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ubt/shorthand.h"
#include "ubt/util.h"

unsigned int ubt_shorthand_count(const struct ubt_shorthand_args *a, const char *name)
{
	unsigned int i, n = 0;

	for (i = 0; i < a->nr_given; i++)
		n += !strcmp(a->given[i].name, name);
	return n;
}

const char *ubt_shorthand_value(const struct ubt_shorthand_args *a, const char *name,
				unsigned int i)
{
	unsigned int k;

	for (k = 0; k < a->nr_given; k++)
		if (!strcmp(a->given[k].name, name) && i-- == 0)
			return a->given[k].value;
	return NULL;
}

int ubt_shorthand_fail(const struct ubt_shorthand_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, a->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ubt_shorthand_size(const struct ubt_shorthand_args *a, const char *name, const char **value)
{
	unsigned int n = ubt_shorthand_count(a, name);
	uint64_t v;
	int ret;

	/* Given twice, the last one counts, as for any option. */
	*value = n ? ubt_shorthand_value(a, name, n - 1) : NULL;
	if (!*value)
		return 0;
	ret = ubt_parse_size(*value, &v);
	if (ret == -ERANGE)
		return ubt_shorthand_fail(a, "--%s: '%s' is too large", name, *value);
	if (ret)
		return ubt_shorthand_fail(a, "--%s: '%s' is not a size (a number with an optional "
					  "K, M, G or T suffix)", name, *value);
	return 0;
}

int ubt_shorthand_put_sizes(const struct ubt_shorthand_args *a, struct ubt_str *s,
			    const char *const *names)
{
	const char *v;

	for (; *names; names++) {
		if (ubt_shorthand_size(a, *names, &v))
			return -EINVAL;
		if (v)
			ubt_str_printf(s, ", %s=%s", *names, v);
	}
	return 0;
}

int ubt_shorthand_put_path(const struct ubt_shorthand_args *a, struct ubt_str *s,
			   const char *path)
{
	if (ubt_str_put_word(s, path))
		return ubt_shorthand_fail(a, "a path with both ' and \" cannot be used: '%s'", path);
	return 0;
}

int ubt_shorthand_put_paths(const struct ubt_shorthand_args *a, struct ubt_str *s,
			    const char *name)
{
	unsigned int i, n = ubt_shorthand_count(a, name);

	for (i = 0; i < n; i++) {
		ubt_str_printf(s, "%s", i ? ", " : "");
		if (ubt_shorthand_put_path(a, s, ubt_shorthand_value(a, name, i)))
			return -EINVAL;
	}
	return 0;
}

static const struct ubt_shorthand_opt *takes(const struct ubt_shorthand *sh, const char *name)
{
	const struct ubt_shorthand_opt *o;

	for (o = sh->opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* "--size", "--file and --chunk", "--file, --offset and --size". */
static void list_opts(const struct ubt_shorthand *sh, struct ubt_str *s)
{
	const struct ubt_shorthand_opt *o;

	for (o = sh->opts; o->name; o++)
		ubt_str_printf(s, "%s--%s", o == sh->opts ? "" : o[1].name ? ", " : " and ",
			       o->name);
}

int ubt_shorthand_spec(struct ubt_shorthand_args *a, char *spec, size_t len)
{
	const struct ubt_shorthand *sh = a->type->shorthand;
	struct ubt_str s = UBT_STR(spec, len);
	char opts[256];
	struct ubt_str os = UBT_STR(opts, sizeof(opts));
	unsigned int i;
	int ret;

	if (len)
		spec[0] = '\0';
	list_opts(sh, &os);
	for (i = 0; i < a->nr_given; i++) {
		const struct ubt_shorthand_opt *o = takes(sh, a->given[i].name);

		if (!o)
			return ubt_shorthand_fail(a, "%s takes only %s", a->type->name, opts);
		if (!o->value != !a->given[i].value)
			return ubt_shorthand_fail(a, o->value ? "--%s needs a value" :
						  "--%s takes no value", o->name);
	}
	ret = sh->spec(a, &s);
	if (ret)
		return ret;
	if (!ubt_str_fits(&s))
		return ubt_shorthand_fail(a, "the stack description is too long");
	return 0;
}
