// SPDX-License-Identifier: MIT
/*
 * What a constructor reads of its node's spec: positional and key=
 * arguments, sizes and numbers, flags, paths, and children built from
 * them.  Each accessor marks what it read; build.c refuses what nobody
 * read once the constructor returns, so a misspelt argument is an error,
 * not silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "generated/autoconf.h"
#include "ubt/util.h"

int ubt_target_error(struct ubt_target *t, int err, const char *fmt, ...)
{
	struct ubt_tree *tree = t->tree;
	size_t n;
	va_list ap;

	if (!tree->err || tree->err[0])
		return -err;	/* keep the first (innermost) message */
	n = (size_t)snprintf(tree->err, tree->errlen, "%s: ", t->type->name);
	if (n < tree->errlen) {
		va_start(ap, fmt);
		vsnprintf(tree->err + n, tree->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -err;
}

static struct ubt_spec_arg *positional(struct ubt_args *a, unsigned int i)
{
	unsigned int k, seen = 0;

	for (k = 0; k < a->node->nr_args; k++) {
		if (a->node->args[k].key)
			continue;
		if (seen++ == i)
			return &a->node->args[k];
	}
	return NULL;
}

static struct ubt_spec_arg *keyed(struct ubt_args *a, const char *key)
{
	unsigned int k;

	for (k = 0; k < a->node->nr_args; k++)
		if (a->node->args[k].key && !strcmp(a->node->args[k].key, key))
			return &a->node->args[k];
	return NULL;
}

unsigned int ubt_args_positional(struct ubt_args *a)
{
	unsigned int k, n = 0;

	for (k = 0; k < a->node->nr_args; k++)
		n += !a->node->args[k].key;
	return n;
}

bool ubt_args_has(struct ubt_args *a, const char *key)
{
	return keyed(a, key) != NULL;
}

bool ubt_args_taken(struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	return arg && arg->used;
}

const char *ubt_args_word(struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	if (!arg || arg->node)
		return NULL;
	arg->used = true;
	return arg->word;
}

/*
 * A relative path joined to the folder the spec was given in, without
 * resolving links: a stable name (/dev/disk/by-id/...) stays that name.
 */
static char *absolute(const char *base, const char *path)
{
	char cwd[4096], *abs;

	if (path[0] == '/')
		return strdup(path);
	if (!base || !base[0]) {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		base = cwd;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (asprintf(&abs, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return abs;
}

const char *ubt_args_path(struct ubt_target *t, struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);
	char **word, *abs;

	if (!arg || arg->node)
		return NULL;
	arg->used = true;
	/* A bare word is the spec's own argument: make that one absolute. */
	word = i == 0 && a->bare ? a->bare : &arg->word;
	if ((*word)[0] == '/' || !(*word)[0])
		return *word;
	abs = absolute(t->tree->opts.base_dir, *word);
	if (!abs) {
		ubt_target_error(t, ENOMEM, "out of memory");
		return NULL;
	}
	if (!ubt_spec_word_ok(abs)) {
		ubt_target_error(t, EINVAL, "%s: a path cannot hold both ' and \"", abs);
		free(abs);
		return NULL;
	}
	free(*word);
	*word = abs;
	arg->word = abs;
	return abs;
}

const char *ubt_args_str(struct ubt_args *a, const char *key)
{
	struct ubt_spec_arg *arg = keyed(a, key);

	if (!arg || arg->node)
		return NULL;
	arg->used = true;
	return arg->word;
}

bool ubt_args_flag(struct ubt_args *a, const char *word)
{
	unsigned int k;

	for (k = 0; k < a->node->nr_args; k++) {
		struct ubt_spec_arg *arg = &a->node->args[k];

		if (!arg->key && arg->word && !strcmp(arg->word, word)) {
			arg->used = true;
			return true;
		}
	}
	return false;
}

/* key=WORD through a value parser: -ENOENT absent, else what parse() says, in the node's words. */
static int keyed_value(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out,
		       int (*parse)(const char *, uint64_t *), const char *what, const char *hint)
{
	struct ubt_spec_arg *arg = keyed(a, key);
	int ret;

	if (!arg)
		return -ENOENT;
	arg->used = true;
	if (arg->node)
		return ubt_target_error(t, EINVAL, "%s= takes %s, not a node", key, what);
	ret = parse(arg->word, out);
	if (ret == -ERANGE)
		return ubt_target_error(t, ERANGE, "%s=%s is too large", key, arg->word);
	if (ret)
		return ubt_target_error(t, EINVAL, "%s=%s is not %s%s", key, arg->word, what, hint);
	return 0;
}

int ubt_args_size(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out)
{
	return keyed_value(t, a, key, out, ubt_parse_size, "a size",
			   " (a number with an optional K, M, G or T suffix)");
}

int ubt_args_uint(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out)
{
	return keyed_value(t, a, key, out, ubt_parse_uint, "a whole number", "");
}

int ubt_args_only_size(struct ubt_target *t, struct ubt_args *a, const char *example)
{
	uint64_t bytes;
	int ret;

	if (ubt_args_positional(a))
		return ubt_target_error(t, EINVAL, "takes no positional arguments, e.g. %s", example);
	ret = ubt_args_size(t, a, "size", &bytes);
	if (ret == -ENOENT)
		return ubt_target_error(t, EINVAL, "size= is required, e.g. %s", example);
	if (ret)
		return ret;
	if (bytes % UBT_SECTOR_SIZE)
		return ubt_target_error(t, EINVAL, "size=%llu is not a multiple of 512",
					(unsigned long long)bytes);
	t->len = bytes >> UBT_SECTOR_SHIFT;
	return 0;
}

/* ---- Children ------------------------------------------------------------ */

static int add_child(struct ubt_target *t, struct ubt_spec_arg *arg)
{
	struct ubt_target **children, *child;
	int ret;

	arg->used = true;
	children = realloc(t->children, (t->nr_children + 1) * sizeof(*children));
	if (!children)
		return ubt_target_error(t, ENOMEM, "out of memory");
	t->children = children;
	ret = tree_build_node(t->tree, t, arg->node, arg->node ? NULL : &arg->word, &child);
	if (ret)
		return ret;
	child->spec_arg = arg;
	t->children[t->nr_children++] = child;
	return 0;
}

int ubt_args_child(struct ubt_target *t, struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	if (!arg)
		return -ENOENT;
	return add_child(t, arg);
}

int ubt_args_key_child(struct ubt_target *t, struct ubt_args *a, const char *key)
{
	struct ubt_spec_arg *arg = keyed(a, key);

	if (!arg)
		return -ENOENT;
	return add_child(t, arg);
}

int ubt_build_children(struct ubt_target *t, struct ubt_args *args, const char *example,
		       bool unique_files)
{
	unsigned int i, j, all = ubt_args_positional(args), n = 0;
	const char *path;
	int ret;

	for (i = 0; i < all; i++)
		n += !ubt_args_taken(args, i);
	if (n == 0)
		return ubt_target_error(t, EINVAL, "needs at least one child, e.g. %s", example);
	if (n > CONFIG_MAX_FANOUT)
		return ubt_target_error(t, EINVAL, "%u children is more than %d (CONFIG_MAX_FANOUT)",
					n, CONFIG_MAX_FANOUT);
	for (i = 0; i < all; i++) {
		if (ubt_args_taken(args, i))
			continue;
		ret = ubt_args_child(t, args, i);
		if (ret)
			return ret;
	}
	for (i = 0; unique_files && i < t->nr_children; i++) {
		for (j = i + 1; j < t->nr_children; j++) {
			path = ubt_target_shared_file(t->children[i], t->children[j]);
			if (path)
				return ubt_target_error(t, EINVAL, "the same file is used by two "
							"children (%s)", path);
		}
	}
	return 0;
}
