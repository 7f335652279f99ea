/* SPDX-License-Identifier: MIT */
/*
 * What the table code shares between core/table.c (the frame: lines,
 * starts and lengths, concat, the simple targets) and the files that
 * translate one larger target's line each way (table_mirror.c,
 * table_cache.c).  Text is built in a struct table_out; an error is one
 * line in err, prefixed with "table line N: " when line is not 0.
 */
#ifndef UBT_CORE_TABLE_LINES_H
#define UBT_CORE_TABLE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubt/target.h"

struct table_out {
	char *buf;
	size_t len, pos;
};

/* Append printf-style text; past the end only pos grows (checked at the end). */
void table_put(struct table_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fill err; returns -EINVAL. */
int table_fail(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A number of sectors, refused as "<what> '<s>' is not a number of sectors". */
int table_number(const char *s, uint64_t *v, const char *what, unsigned int line, char *err,
		 size_t errlen);
/* dm names devices by path or major:minor; a spec needs a path. */
int table_device_path(const char *dev, char *path, size_t len, unsigned int line, char *err,
		      size_t errlen);
/* The bytes of a file or block device, or -errno. */
int table_device_bytes(const char *path, uint64_t *bytes);
/* A quoted path in a spec: '...', or "..." when it holds a '. */
void table_put_path(struct table_out *o, const char *path);
/* linear(file(PATH), offset=, size=) of len sectors. */
void table_put_window(struct table_out *o, const char *path, uint64_t offset, uint64_t len);
/* A <dev> <offset> pair of a line as a window of len sectors; msg names a bad offset. */
int table_window(struct table_out *o, const char *dev, const char *off, uint64_t len,
		 const char *msg, unsigned int line, char *err, size_t errlen);
/* A dm word as a spec word: refuse (msg) what the spec grammar would split. */
int table_spec_word(struct table_out *o, const char *w, const char *msg, unsigned int line,
		    char *err, size_t errlen);

/* Fold a chain of linear windows over a file into the (path, offset) a line names. */
int table_fold(const struct ubt_target *t, char *path, size_t plen, uint64_t *offset);
/* " <dev> <offset>" of child i of parent, which must fold. */
int table_put_folded(struct table_out *o, const struct ubt_target *parent, unsigned int i,
		     char *err, size_t errlen);
/*
 * " <dev>" of child i of parent, which must be a whole file or device
 * (dm's metadata and log devices), refused as "<parent>: its <what> ...".
 */
int table_put_whole(struct table_out *o, const struct ubt_target *parent, unsigned int i,
		    const char *what, char *err, size_t errlen);

/* One target's line (argv: the words after the target name) as a spec. */
int table_line_mirror(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		      unsigned int line, char *err, size_t errlen);
int table_line_cache(struct table_out *o, char **argv, unsigned int argc, uint64_t len,
		     unsigned int line, char *err, size_t errlen);
/* One node as a line starting at sector start. */
int table_print_mirror(struct table_out *o, const struct ubt_target *t, uint64_t start,
		       char *err, size_t errlen);
int table_print_cache(struct table_out *o, const struct ubt_target *t, uint64_t start,
		      char *err, size_t errlen);

#endif
