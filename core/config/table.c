// SPDX-License-Identifier: MIT
/*
 * Device-mapper tables, both ways: the frame.  Parsing splits the text
 * into lines and checks each line's start and length as dm-table.c does,
 * with its words; the line's arguments go to the type that takes its dm
 * type.  Printing walks the tree: a node whose children lie end to end
 * (UBT_TARGET_END_TO_END) at the root prints a line per child, any other
 * node is one line; each line's words are its type's.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ubt/registry.h"
#include "ubt/table.h"
#include "ubt/util.h"

#define TABLE_MAX_ARGS	(2 + 2 * 256)

/* ---- Helpers for a type's line ------------------------------------------ */

static int vfail(char *err, size_t errlen, unsigned int line, const char *fmt, va_list ap)
{
	size_t n = 0;

	if (line)
		n = (size_t)snprintf(err, errlen, "table line %u: ", line);
	if (n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	return -EINVAL;
}

static int fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, errlen, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ubt_table_fail(struct ubt_table_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(l->err, l->errlen, l->lineno, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int number(const char *s, uint64_t *v, const char *what, unsigned int line, char *err,
		  size_t errlen)
{
	int ret = ubt_parse_uint(s, v);

	if (ret == -ERANGE)
		return fail(err, errlen, line, "%s '%s' is too large", what, s);
	if (ret)
		return fail(err, errlen, line, "%s '%s' is not a number of sectors", what, s);
	return 0;
}

int ubt_table_number(struct ubt_table_line *l, const char *s, const char *what, uint64_t *v)
{
	return number(s, v, what, l->lineno, l->err, l->errlen);
}

int ubt_table_device(struct ubt_table_line *l, const char *dev, char *path, size_t len)
{
	unsigned int maj, min;
	char uevent[128], buf[256];
	FILE *f;

	if (sscanf(dev, "%u:%u%c", &maj, &min, buf) != 2) {
		snprintf(path, len, "%s", dev);
		return 0;
	}
	snprintf(uevent, sizeof(uevent), "/sys/dev/block/%u:%u/uevent", maj, min);
	f = fopen(uevent, "r");
	if (f) {
		while (fgets(buf, sizeof(buf), f)) {
			if (!strncmp(buf, "DEVNAME=", 8)) {
				buf[strcspn(buf, "\n")] = '\0';
				snprintf(path, len, "/dev/%s", buf + 8);
				fclose(f);
				return 0;
			}
		}
		fclose(f);
	}
	return ubt_table_fail(l, "no block device %s", dev);
}

void ubt_table_put(struct ubt_table_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ubt_str_vprintf(l->spec, fmt, ap);
	va_end(ap);
}

int ubt_table_put_word(struct ubt_table_line *l, const char *word, const char *msg)
{
	if (ubt_str_put_word(l->spec, word))
		return ubt_table_fail(l, "%s", msg);
	return 0;
}

static bool has_window(const struct ubt_target_type *t, const void *arg)
{
	(void)arg;
	return t->dm_window != NULL;
}

int ubt_table_put_dev(struct ubt_table_line *l, const char *dev, const char *offset,
		      uint64_t len, const char *msg)
{
	const struct ubt_target_type *window = registry_find(has_window, NULL);
	char path[PATH_MAX];
	uint64_t sector;

	if (ubt_parse_uint(offset, &sector) || sector > (UINT64_MAX >> UBT_SECTOR_SHIFT))
		return ubt_table_fail(l, "%s", msg);
	if (ubt_table_device(l, dev, path, sizeof(path)))
		return -EINVAL;
	if (!ubt_spec_word_ok(path))
		return ubt_table_fail(l, "device path with both ' and \": %s", path);
	if (!window)
		return ubt_table_fail(l, "no target of this build spells a window of a device");
	return window->dm_window(l, path, sector, len);
}

int ubt_table_put_whole_dev(struct ubt_table_line *l, const char *dev, const char *msg)
{
	char path[PATH_MAX];

	if (ubt_table_device(l, dev, path, sizeof(path)))
		return -EINVAL;
	/* A bare word where a node goes: the bare leaf's node of that path. */
	return ubt_table_put_word(l, path, msg);
}

/* ---- Table -> spec -------------------------------------------------------- */

static unsigned int content_lines(const char *p)
{
	unsigned int n = 0;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		size_t k = strspn(p, " \t\r");

		if (k < len && p[k] != '#')
			n++;
		p += len + (e ? 1 : 0);
	}
	return n;
}

static bool takes_dm(const struct ubt_target_type *t)
{
	return t->dm_names && t->table_parse;
}

/* "linear, striped, ..." of what this build's types take. */
static void dm_types(char *buf, size_t len)
{
	struct ubt_str s = UBT_STR(buf, len);
	const struct ubt_target_type *t;
	unsigned int i;

	ubt_load_all_targets();
	buf[0] = '\0';
	for (t = ubt_target_types(); t; t = t->next)
		for (i = 0; takes_dm(t) && t->dm_names[i]; i++)
			ubt_str_printf(&s, "%s%s", s.pos ? ", " : "", t->dm_names[i]);
}

static int parse_line(struct ubt_table_line *l)
{
	const struct ubt_target_type *type = ubt_find_target_dm(l->type);
	char known[512];

	if (!type || !takes_dm(type)) {
		dm_types(known, sizeof(known));
		return ubt_table_fail(l, "unknown target type '%s' (tables take %s)", l->type, known);
	}
	return type->table_parse(l);
}

int ubt_table_to_spec(const char *table, char *spec, size_t speclen, char *err, size_t errlen)
{
	const struct ubt_target_type *joiner = NULL;
	struct ubt_str out = UBT_STR(spec, speclen);
	char *copy, *saveline = NULL, *text;
	char *argv[TABLE_MAX_ARGS];
	unsigned int lineno = 0, nlines = content_lines(table), done = 0;
	uint64_t next = 0;
	int ret = 0;

	if (speclen)
		spec[0] = '\0';
	if (!nlines)
		return fail(err, errlen, 0, "table: no target lines");
	if (nlines > 1) {
		/* Several lines are one node whose children lie end to end. */
		joiner = registry_find_flag(UBT_TARGET_END_TO_END);
		if (!joiner)
			return fail(err, errlen, 0, "table: no target of this build joins lines");
		ubt_str_printf(&out, "%s(", joiner->name);
	}
	copy = strdup(table);
	if (!copy)
		return fail(err, errlen, 0, "out of memory");
	for (text = strtok_r(copy, "\n", &saveline); text; text = strtok_r(NULL, "\n", &saveline)) {
		struct ubt_table_line l = { .spec = &out, .err = err, .errlen = errlen };
		char *savetok = NULL, *tok;
		unsigned int argc = 0;

		l.lineno = ++lineno;
		for (tok = strtok_r(text, " \t\r", &savetok); tok; tok = strtok_r(NULL, " \t\r", &savetok)) {
			if (argc == 0 && tok[0] == '#')
				break;
			if (argc == TABLE_MAX_ARGS) {
				ret = ubt_table_fail(&l, "too many arguments");
				goto out;
			}
			argv[argc++] = tok;
		}
		if (!argc)
			continue;
		if (argc < 3) {
			ret = ubt_table_fail(&l, "want <start> <length> <target> <args...>");
			goto out;
		}
		ret = ubt_table_number(&l, argv[0], "start", &l.start);
		ret = ret ? ret : ubt_table_number(&l, argv[1], "length", &l.len);
		if (ret)
			goto out;
		if (l.start != next) {
			ret = ubt_table_fail(&l, l.start > next ?
				"Gap in table: starts at %llu, the previous line ends at %llu" :
				"overlaps the previous line: starts at %llu, it ends at %llu",
				(unsigned long long)l.start, (unsigned long long)next);
			goto out;
		}
		if (!l.len) {
			ret = ubt_table_fail(&l, "zero-length target");
			goto out;
		}
		if (l.len > (UINT64_MAX >> UBT_SECTOR_SHIFT) - l.start) {
			ret = ubt_table_fail(&l, "length %s is too large", argv[1]);
			goto out;
		}
		next = l.start + l.len;
		if (done++)
			ubt_str_printf(&out, ", ");
		l.type = argv[2];
		l.argv = argv + 3;
		l.argc = argc - 3;
		ret = parse_line(&l);
		if (ret)
			goto out;
	}
	if (joiner)
		ubt_str_printf(&out, ")");
	if (!ubt_str_fits(&out))
		ret = fail(err, errlen, 0, "table: too large");
out:
	free(copy);
	return ret;
}

/* ---- Tree -> table -------------------------------------------------------- */

void ubt_table_printf(struct ubt_table_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ubt_str_vprintf(o->s, fmt, ap);
	va_end(ap);
}

int ubt_table_print_fail(struct ubt_table_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(o->err, o->errlen, 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ubt_table_dm_device(const struct ubt_target *n, const char **path, uint64_t *sector)
{
	int ret;

	if (!n->type->dm_device)
		return -EINVAL;
	ret = n->type->dm_device(n, path, sector);
	if (ret)
		return ret == -EILSEQ ? ret : -EINVAL;
	/* A dm table splits on white space: such a path has no table form. */
	return strpbrk(*path, " \t\n") ? -EILSEQ : 0;
}

int ubt_table_need_dm_device(struct ubt_table_out *o, const struct ubt_target *n,
			     const char **path, uint64_t *sector, const char *fmt, ...)
{
	int ret = ubt_table_dm_device(n, path, sector);
	va_list ap;

	if (ret == -EILSEQ)
		return ubt_table_print_fail(o, "%s: a dm table cannot name a path with white space",
					    *path);
	if (ret) {
		va_start(ap, fmt);
		vfail(o->err, o->errlen, 0, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int ubt_table_print_dev(struct ubt_table_out *o, const struct ubt_target *n)
{
	const char *path;
	uint64_t sector;

	if (ubt_table_need_dm_device(o, n, &path, &sector, "a %s under %s cannot be written as "
				     "one dm table line (dm names devices, windows of files)",
				     n->type->name, n->parent ? n->parent->type->name : "?"))
		return -EINVAL;
	ubt_table_printf(o, " %s %llu", path, (unsigned long long)sector);
	return 0;
}

int ubt_table_print_whole_dev(struct ubt_table_out *o, const struct ubt_target *n,
			      const char *what)
{
	const char *path;
	uint64_t sector, bytes;

	const char *parent = n->parent ? n->parent->type->name : "?";

	if (ubt_table_need_dm_device(o, n, &path, &sector, "%s: its %s cannot be written as a "
				     "dm device (a whole file or device)", parent, what))
		return -EINVAL;
	if (sector || ubt_path_bytes(path, &bytes) || bytes != n->len << UBT_SECTOR_SHIFT)
		return ubt_table_print_fail(o, "%s: its %s cannot be written as a dm device "
					    "(a whole file or device)", parent, what);
	ubt_table_printf(o, " %s", path);
	return 0;
}

static int print_line(struct ubt_str *s, const struct ubt_target *t, uint64_t start, char *err,
		      size_t errlen)
{
	struct ubt_table_out o = { .s = s, .err = err, .errlen = errlen };
	int ret;

	if (!t->type->table_print)
		return fail(err, errlen, 0, "a %s node cannot be written as one dm table line",
			    t->type->name);
	ubt_str_printf(s, "%llu %llu ", (unsigned long long)start, (unsigned long long)t->len);
	ret = t->type->table_print(t, &o);
	if (ret)
		return ret;
	ubt_str_printf(s, "\n");
	return 0;
}

int ubt_tree_to_table(const struct ubt_tree *tree, char *buf, size_t len, char *err,
		      size_t errlen)
{
	struct ubt_str s = UBT_STR(buf, len);
	const struct ubt_target *root = tree->root;
	uint64_t start = 0;
	unsigned int i;
	int ret;

	if (len)
		buf[0] = '\0';
	if (!(root->type->flags & UBT_TARGET_END_TO_END)) {
		ret = print_line(&s, root, 0, err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; (root->type->flags & UBT_TARGET_END_TO_END) && i < root->nr_children; i++) {
		ret = print_line(&s, root->children[i], start, err, errlen);
		if (ret)
			return ret;
		start += root->children[i]->len;
	}
	return ubt_str_fits(&s) ? 0 : fail(err, errlen, 0, "table: too large");
}
