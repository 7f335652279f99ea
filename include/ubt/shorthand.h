/* SPDX-License-Identifier: MIT */
/*
 * Command-line shorthands: `ublk-target create stripe --chunk 64K --file a
 * --file b` is the spec the stripe type says it means.  A type with a
 * shorthand lists its options; the command line takes them, anywhere on
 * it, and the type turns what was given into a spec.
 */
#ifndef UBT_SHORTHAND_H
#define UBT_SHORTHAND_H

#include <stdbool.h>
#include <stddef.h>

#include "ubt/util.h"

struct ubt_target_type;

/* An option of a shorthand: --NAME VALUE, or --NAME alone. */
struct ubt_shorthand_opt {
	const char *name;		/* without "--" */
	const char *value;		/* the value's name in usage ("PATH", "SIZE"); NULL: a flag */
};

/* What the command line gave, in order (filled by the frontend). */
struct ubt_shorthand_given {
	const char *name;
	const char *value;		/* NULL for a flag */
};

struct ubt_shorthand_args {
	const struct ubt_target_type *type;
	const struct ubt_shorthand_given *given;
	unsigned int nr_given;
	char *err;
	size_t errlen;
};

struct ubt_shorthand {
	/* The options after the type's name, as usage shows them. */
	const char *synopsis;
	/* One line: what such a device is. */
	const char *help;
	/* The options it takes, ended by one with a NULL name. */
	const struct ubt_shorthand_opt *opts;
	/* Write the spec the options mean to s: 0, or ubt_shorthand_fail()'s. */
	int (*spec)(const struct ubt_shorthand_args *a, struct ubt_str *s);
};

/* How many times --name was given, and the i-th value. */
unsigned int ubt_shorthand_count(const struct ubt_shorthand_args *a, const char *name);
const char *ubt_shorthand_value(const struct ubt_shorthand_args *a, const char *name,
				unsigned int i);
/* --name=SIZE, checked: 0 with the text in *value (NULL when absent), or a refusal. */
int ubt_shorthand_size(const struct ubt_shorthand_args *a, const char *name, const char **value);
/*
 * ", NAME=SIZE" for each of names (NULL-ended) that was given, checked as
 * ubt_shorthand_size() checks it: 0, or a refusal.
 */
int ubt_shorthand_put_sizes(const struct ubt_shorthand_args *a, struct ubt_str *s,
			    const char *const *names);
/* Refuse the line: one message.  -EINVAL. */
int ubt_shorthand_fail(const struct ubt_shorthand_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A path as a spec word; a path that cannot be written is refused. */
int ubt_shorthand_put_path(const struct ubt_shorthand_args *a, struct ubt_str *s,
			   const char *path);
/* Every --name's value as a path, ", "-separated (each a bare leaf node). */
int ubt_shorthand_put_paths(const struct ubt_shorthand_args *a, struct ubt_str *s,
			    const char *name);

/*
 * For frontends: the spec type's shorthand means for what was given (a
 * filled in, but for err).  Options the type does not take are refused
 * ("null takes only --size").  0, or -EINVAL with one line in err.
 */
int ubt_shorthand_spec(struct ubt_shorthand_args *a, char *spec, size_t len);

#endif
