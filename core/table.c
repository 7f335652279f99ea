// SPDX-License-Identifier: MIT
/*
 * Device-mapper tables, both ways.  Parsing checks what dm-table.c,
 * dm-linear.c, dm-stripe.c, dm-flakey.c and dm-delay.c check, with their
 * messages; printing walks a tree of concat / stripe / linear / file nodes
 * (and flakey, delay) and folds linear windows into the (path, offset)
 * pairs a table line carries.  The mirror's and the cache's lines, each
 * large enough, have their own files (table_mirror.c, table_cache.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table_lines.h"
#include "ubt/spec.h"
#include "ubt/table.h"
#include "ubt/tree.h"
#include "ubt/util.h"

#define TABLE_MAX_ARGS	(2 + 2 * 256)

void table_put(struct table_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

int table_fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (line)
		n = (size_t)snprintf(err, errlen, "table line %u: ", line);
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int table_number(const char *s, uint64_t *v, const char *what, unsigned int line, char *err,
		  size_t errlen)
{
	int ret = ubt_parse_uint(s, v);

	if (ret == -ERANGE)
		return table_fail(err, errlen, line, "%s '%s' is too large", what, s);
	if (ret)
		return table_fail(err, errlen, line, "%s '%s' is not a number of sectors", what, s);
	return 0;
}

/* dm names devices by path or major:minor; a spec needs a path. */
int table_device_path(const char *dev, char *path, size_t len, unsigned int line, char *err,
		       size_t errlen)
{
	unsigned int maj, min;
	char uevent[128], buf[256];
	FILE *f;

	if (sscanf(dev, "%u:%u%c", &maj, &min, buf) != 2) {
		if (strchr(dev, '\'') && strchr(dev, '"'))
			return table_fail(err, errlen, line, "device path with both ' and \": %s", dev);
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
	return table_fail(err, errlen, line, "no block device %s", dev);
}

void table_put_path(struct table_out *o, const char *path)
{
	const char *q = strchr(path, '\'') ? "\"" : "'";

	table_put(o, "%s%s%s", q, path, q);
}

void table_put_window(struct table_out *o, const char *path, uint64_t offset, uint64_t len)
{
	table_put(o, "linear(file(");
	table_put_path(o, path);
	table_put(o, "), offset=%llu, size=%llu)", (unsigned long long)(offset << UBT_SECTOR_SHIFT),
		  (unsigned long long)(len << UBT_SECTOR_SHIFT));
}

static int line_linear(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		       unsigned int line, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t offset;
	int ret;

	if (argc != 2)
		return table_fail(err, errlen, line, "linear: Invalid argument count (want <dev> <offset>)");
	ret = table_number(argv[1], &offset, "linear: offset", line, err, errlen);
	ret = ret ? ret : table_device_path(argv[0], path, sizeof(path), line, err, errlen);
	if (ret)
		return ret;
	if (offset > (UINT64_MAX >> UBT_SECTOR_SHIFT))
		return table_fail(err, errlen, line, "linear: offset %s is too large", argv[1]);
	table_put_window(o, path, offset, len);
	return 0;
}

static int line_striped(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
			unsigned int line, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t n, chunk, offset;
	unsigned int i;
	int ret;

	if (argc < 2)
		return table_fail(err, errlen, line, "striped: Not enough arguments");
	ret = table_number(argv[0], &n, "striped: stripe count", line, err, errlen);
	if (ret)
		return ret;
	if (!n || n > 256)
		return table_fail(err, errlen, line, "striped: Invalid stripe count");
	ret = table_number(argv[1], &chunk, "striped: chunk size", line, err, errlen);
	if (ret)
		return ret;
	if (!chunk || chunk > (UINT64_MAX >> 10))
		return table_fail(err, errlen, line, "striped: Invalid chunk_size");
	if (len % n)
		return table_fail(err, errlen, line, "striped: Target length not divisible by number of stripes");
	if ((len / n) % chunk)
		return table_fail(err, errlen, line, "striped: Target length not divisible by chunk size");
	if (argc != 2 + 2 * n)
		return table_fail(err, errlen, line, "striped: Not enough destinations specified "
			    "(%llu stripes need %llu device/offset pairs)", (unsigned long long)n,
			    (unsigned long long)n);
	table_put(o, "stripe(");
	for (i = 0; i < n; i++) {
		ret = table_number(argv[3 + 2 * i], &offset, "striped: offset", line, err, errlen);
		ret = ret ? ret : table_device_path(argv[2 + 2 * i], path, sizeof(path), line, err, errlen);
		if (ret)
			return ret;
		if (offset > (UINT64_MAX >> UBT_SECTOR_SHIFT))
			return table_fail(err, errlen, line, "striped: offset %s is too large",
				    argv[3 + 2 * i]);
		table_put_window(o, path, offset, len / n);
		table_put(o, ", ");
	}
	table_put(o, "chunk=%llu)", (unsigned long long)(chunk << UBT_SECTOR_SHIFT));
	return 0;
}

static int line_sized(struct table_out *o, const char *name, char **argv, unsigned int argc,
		      unsigned int max_args, uint64_t len, unsigned int line, char *err, size_t errlen)
{
	(void)argv;
	/* error (1.7) may name a device only to inherit its limits. */
	if (argc && argc != max_args)
		return table_fail(err, errlen, line, max_args ? "%s: Invalid argument count" :
			    "%s: No arguments required", name);
	table_put(o, "%s(size=%llu)", name, (unsigned long long)(len << UBT_SECTOR_SHIFT));
	return 0;
}

/* A <dev> <offset> pair of a line as a window of len sectors; msg names a bad offset. */
int table_window(struct table_out *o, const char *dev, const char *off, uint64_t len,
		 const char *msg, unsigned int line, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t offset;

	if (ubt_parse_uint(off, &offset) || offset > (UINT64_MAX >> UBT_SECTOR_SHIFT))
		return table_fail(err, errlen, line, "%s", msg);
	if (table_device_path(dev, path, sizeof(path), line, err, errlen))
		return -EINVAL;
	table_put_window(o, path, offset, len);
	return 0;
}

/* A dm word as a spec word: refuse what the spec grammar would split. */
int table_spec_word(struct table_out *o, const char *w, const char *msg, unsigned int line,
		    char *err, size_t errlen)
{
	if (strpbrk(w, "(),='\"") || !*w)
		return table_fail(err, errlen, line, "%s", msg);
	table_put(o, "%s", w);
	return 0;
}

static int line_flakey(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		       unsigned int line, char *err, size_t errlen)
{
	static const char bad[] = "flakey: Unrecognised flakey feature requested";
	uint64_t up, down, nf;
	unsigned int i;

	if (argc < 4)
		return table_fail(err, errlen, line, "flakey: Invalid argument count");
	if (ubt_parse_uint(argv[2], &up) || up > UINT32_MAX)
		return table_fail(err, errlen, line, "flakey: Invalid up interval");
	if (ubt_parse_uint(argv[3], &down) || down > UINT32_MAX)
		return table_fail(err, errlen, line, "flakey: Invalid down interval");
	nf = 0;
	if (argc > 4 && (ubt_parse_uint(argv[4], &nf) || nf > 11 || nf > argc - 5))
		return table_fail(err, errlen, line, "flakey: Invalid number of feature args");
	if (argc > 5 + nf)
		return table_fail(err, errlen, line, "flakey: too many arguments (%u after the %llu "
			    "feature args)", argc - 5 - (unsigned int)nf, (unsigned long long)nf);
	table_put(o, "flakey(");
	if (table_window(o, argv[0], argv[1], len, "flakey: Invalid device sector", line, err, errlen))
		return -EINVAL;
	table_put(o, ", up=%llu, down=%llu", (unsigned long long)up, (unsigned long long)down);
	for (i = 5; i < 5 + nf; i++) {
		unsigned int params = 0, k;

		if (!strcasecmp(argv[i], "corrupt_bio_byte"))
			params = 4;
		else if (!strcasecmp(argv[i], "random_read_corrupt") ||
			 !strcasecmp(argv[i], "random_write_corrupt"))
			params = 1;
		if (i + params >= 5 + nf + (params ? 0 : 1))
			return table_fail(err, errlen, line, params == 4 ?
				    "flakey: Feature corrupt_bio_byte requires parameters" :
				    "flakey: Feature %s requires a parameter", argv[i]);
		table_put(o, ", ");
		if (table_spec_word(o, argv[i], bad, line, err, errlen))
			return -EINVAL;
		for (k = 1; k <= params; k++) {
			table_put(o, k == 1 ? "=" : ":");
			if (table_spec_word(o, argv[i + k], bad, line, err, errlen))
				return -EINVAL;
		}
		i += params;
	}
	table_put(o, ")");
	return 0;
}

static int line_delay(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		      unsigned int line, char *err, size_t errlen)
{
	static const char *const cls[] = { "read", "write", "flush" };
	uint64_t ms;
	unsigned int i, n = argc / 3;

	if (argc != 3 && argc != 6 && argc != 9)
		return table_fail(err, errlen, line, "delay: Requires exactly 3, 6 or 9 arguments");
	table_put(o, "delay(");
	if (table_window(o, argv[0], argv[1], len, "delay: Invalid device sector", line, err, errlen))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (ubt_parse_uint(argv[3 * i + 2], &ms) || ms > UINT32_MAX)
			return table_fail(err, errlen, line, "delay: Invalid delay");
		table_put(o, ", %s=%llu", cls[i], (unsigned long long)ms);
	}
	for (i = 1; i < n; i++) {
		/* A triple naming the device of the one before it shares that child. */
		unsigned int prev = i - 1;

		if (!strcmp(argv[3 * i], argv[3 * prev]) && !strcmp(argv[3 * i + 1], argv[3 * prev + 1]))
			continue;
		table_put(o, ", %s_to=", cls[i]);
		if (table_window(o, argv[3 * i], argv[3 * i + 1], len, "delay: Invalid device sector", line,
			   err, errlen))
			return -EINVAL;
	}
	table_put(o, ")");
	return 0;
}

int ubt_table_to_spec(const char *table, char *spec, size_t speclen, char *err, size_t errlen)
{
	struct table_out o = { .buf = spec, .len = speclen };
	char *copy = strdup(table), *saveline = NULL, *text;
	char *argv[TABLE_MAX_ARGS];
	unsigned int lineno = 0, nlines = 0;
	uint64_t next = 0;
	int ret = 0;

	if (!copy)
		return table_fail(err, errlen, 0, "out of memory");
	if (speclen)
		spec[0] = '\0';
	/* Count the lines with content first: several make a concat. */
	{
		const char *p = table;

		while (*p) {
			const char *e = strchr(p, '\n');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			size_t k = strspn(p, " \t\r");

			if (k < l && p[k] != '#')
				nlines++;
			p += l + (e ? 1 : 0);
		}
	}
	if (!nlines) {
		free(copy);
		return table_fail(err, errlen, 0, "table: no target lines");
	}
	if (nlines > 1)
		table_put(&o, "concat(");
	for (text = strtok_r(copy, "\n", &saveline); text; text = strtok_r(NULL, "\n", &saveline)) {
		char *savetok = NULL, *tok;
		unsigned int argc = 0, first;
		uint64_t start, len;

		lineno++;
		for (tok = strtok_r(text, " \t\r", &savetok); tok; tok = strtok_r(NULL, " \t\r", &savetok)) {
			if (argc == 0 && tok[0] == '#')
				break;
			if (argc == TABLE_MAX_ARGS) {
				ret = table_fail(err, errlen, lineno, "too many arguments");
				goto out;
			}
			argv[argc++] = tok;
		}
		if (!argc)
			continue;
		if (argc < 3) {
			ret = table_fail(err, errlen, lineno, "want <start> <length> <target> <args...>");
			goto out;
		}
		ret = table_number(argv[0], &start, "start", lineno, err, errlen);
		ret = ret ? ret : table_number(argv[1], &len, "length", lineno, err, errlen);
		if (ret)
			goto out;
		if (start != next) {
			ret = table_fail(err, errlen, lineno, start > next ?
				   "Gap in table: starts at %llu, the previous line ends at %llu" :
				   "overlaps the previous line: starts at %llu, it ends at %llu",
				   (unsigned long long)start, (unsigned long long)next);
			goto out;
		}
		if (!len) {
			ret = table_fail(err, errlen, lineno, "zero-length target");
			goto out;
		}
		if (len > (UINT64_MAX >> UBT_SECTOR_SHIFT) - start) {
			ret = table_fail(err, errlen, lineno, "length %s is too large", argv[1]);
			goto out;
		}
		next = start + len;
		first = o.pos == 0 || (nlines > 1 && o.pos == strlen("concat("));
		if (!first)
			table_put(&o, ", ");
		if (!strcmp(argv[2], "linear"))
			ret = line_linear(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "striped"))
			ret = line_striped(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "zero"))
			ret = line_sized(&o, "zero", argv + 3, argc - 3, 0, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "error"))
			ret = line_sized(&o, "error", argv + 3, argc - 3, 2, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "flakey"))
			ret = line_flakey(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "delay"))
			ret = line_delay(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "mirror"))
			ret = table_line_mirror(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else if (!strcmp(argv[2], "cache"))
			ret = table_line_cache(&o, argv + 3, argc - 3, len, lineno, err, errlen);
		else
			ret = table_fail(err, errlen, lineno, "unknown target type '%s' (tables take linear, "
				   "striped, zero, error, flakey, delay, mirror and cache)", argv[2]);
		if (ret)
			goto out;
	}
	if (nlines > 1)
		table_put(&o, ")");
	if (o.pos >= o.len)
		ret = table_fail(err, errlen, 0, "table: too large");
out:
	free(copy);
	return ret;
}

/* ---- tree -> table -------------------------------------------------------- */

static bool is(const struct ubt_target *t, const char *name)
{
	return !strcmp(t->type->name, name);
}

/*
 * Fold a chain of linear windows over a file into (path, offset): the
 * pair a dm line names.  Fails for anything else.
 */
int table_fold(const struct ubt_target *t, char *path, size_t plen, uint64_t *offset)
{
	char desc[PATH_MAX + 32], *sp;
	uint64_t off = 0;

	*offset = 0;
	while (is(t, "linear")) {
		if (t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0 ||
		    ubt_parse_uint(desc, &off))
			return -EINVAL;
		*offset += off;
		t = t->children[0];
	}
	if (!is(t, "file") ||
	    t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0)
		return -EINVAL;
	sp = strrchr(desc, ' ');
	if (!sp || ubt_parse_uint(sp + 1, &off))
		return -EINVAL;
	*sp = '\0';
	if (strpbrk(desc, " \t\n"))
		return -EINVAL;		/* dm tables cannot carry white space in a path */
	if (strlen(desc) >= plen)
		return -EINVAL;
	memcpy(path, desc, strlen(desc) + 1);
	*offset += off;
	return 0;
}

/* " <dev> <offset>" of a child that folds to a window of a file. */
int table_put_folded(struct table_out *o, const struct ubt_target *parent, unsigned int i,
		     char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t off;

	if (i >= parent->nr_children || table_fold(parent->children[i], path, sizeof(path), &off))
		return table_fail(err, errlen, 0, "a %s under %s cannot be written as one dm table line "
			    "(dm names devices, linear windows of files)",
			    i < parent->nr_children ? parent->children[i]->type->name : "?",
			    parent->type->name);
	table_put(o, " %s %llu", path, (unsigned long long)off);
	return 0;
}

int table_device_bytes(const char *path, uint64_t *bytes)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (S_ISBLK(st.st_mode))
		ret = ioctl(fd, BLKGETSIZE64, bytes) ? -errno : 0;
	else if (S_ISREG(st.st_mode))
		*bytes = (uint64_t)st.st_size;
	else
		ret = -ENOTBLK;
	close(fd);
	return ret;
}

int table_put_whole(struct table_out *o, const struct ubt_target *parent, unsigned int i,
		    const char *what, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t off, bytes;

	if (i >= parent->nr_children || table_fold(parent->children[i], path, sizeof(path), &off) ||
	    off || table_device_bytes(path, &bytes) ||
	    bytes != parent->children[i]->len << UBT_SECTOR_SHIFT)
		return table_fail(err, errlen, 0, "%s: its %s cannot be written as a dm device "
				  "(a whole file or device)", parent->type->name, what);
	table_put(o, " %s", path);
	return 0;
}

/*
 * flakey: <dev> <offset> then the node's own table text.  delay: its text
 * is "<ms> [<child> <ms> [<child> <ms>]]"; each child becomes its device.
 */
static int print_child_line(struct table_out *o, const struct ubt_target *t, uint64_t start,
			    char *err, size_t errlen)
{
	char desc[512], *save = NULL, *tok;
	unsigned int k = 0;

	if (t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0)
		return table_fail(err, errlen, 0, "%s: no table form", t->type->name);
	table_put(o, "%llu %llu %s", (unsigned long long)start, (unsigned long long)t->len, t->type->name);
	if (table_put_folded(o, t, 0, err, errlen))
		return -EINVAL;
	if (is(t, "flakey")) {
		table_put(o, " %s\n", desc);
		return 0;
	}
	/* Tokens: <ms> then (<child> <ms>) pairs; child 0 leads the first. */
	for (tok = strtok_r(desc, " ", &save); tok; tok = strtok_r(NULL, " ", &save), k++) {
		uint64_t child;

		if (k % 2) {
			if (ubt_parse_uint(tok, &child) || table_put_folded(o, t, (unsigned int)child, err,
								       errlen))
				return table_fail(err, errlen, 0, "delay: child %s has no table form", tok);
			continue;
		}
		table_put(o, " %s", tok);
	}
	table_put(o, "\n");
	return 0;
}

static int print_line(struct table_out *o, const struct ubt_target *t, uint64_t start, char *err,
		      size_t errlen)
{
	char path[PATH_MAX], desc[64];
	uint64_t off, n, chunk;
	unsigned int i;

	if (is(t, "stripe")) {
		if (t->type->status((struct ubt_target *)t, UBT_STATUS_TABLE, desc, sizeof(desc)) < 0 ||
		    sscanf(desc, "%llu %llu", (unsigned long long *)&n, (unsigned long long *)&chunk) != 2)
			return table_fail(err, errlen, 0, "stripe: no table form");
		table_put(o, "%llu %llu striped %llu %llu", (unsigned long long)start,
		    (unsigned long long)t->len, (unsigned long long)n, (unsigned long long)chunk);
		for (i = 0; i < t->nr_children; i++) {
			if (table_fold(t->children[i], path, sizeof(path), &off))
				return table_fail(err, errlen, 0, "a %s under stripe cannot be written as one dm "
					    "table (dm stripes over devices, linear windows of files)",
					    t->children[i]->type->name);
			table_put(o, " %s %llu", path, (unsigned long long)off);
		}
		table_put(o, "\n");
		return 0;
	}
	if (is(t, "zero") || is(t, "error")) {
		/* dm prints a target without arguments with a trailing space. */
		table_put(o, "%llu %llu %s \n", (unsigned long long)start, (unsigned long long)t->len,
		    t->type->name);
		return 0;
	}
	if (is(t, "flakey") || is(t, "delay"))
		return print_child_line(o, t, start, err, errlen);
	if (is(t, "mirror"))
		return table_print_mirror(o, t, start, err, errlen);
	if (is(t, "cache"))
		return table_print_cache(o, t, start, err, errlen);
	if (table_fold(t, path, sizeof(path), &off))
		return table_fail(err, errlen, 0, "a %s node cannot be written as one dm table line",
			    t->type->name);
	table_put(o, "%llu %llu linear %s %llu\n", (unsigned long long)start, (unsigned long long)t->len,
	    path, (unsigned long long)off);
	return 0;
}

int ubt_tree_to_table(const struct ubt_tree *tree, char *buf, size_t len, char *err,
		      size_t errlen)
{
	struct table_out o = { .buf = buf, .len = len };
	const struct ubt_target *root = tree->root;
	uint64_t start = 0;
	unsigned int i;
	int ret;

	if (len)
		buf[0] = '\0';
	if (!is(root, "concat"))
		return print_line(&o, root, 0, err, errlen);
	for (i = 0; i < root->nr_children; i++) {
		ret = print_line(&o, root->children[i], start, err, errlen);
		if (ret)
			return ret;
		start += root->children[i]->len;
	}
	return o.pos < o.len ? 0 : table_fail(err, errlen, 0, "table: too large");
}
