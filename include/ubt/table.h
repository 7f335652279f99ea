/* SPDX-License-Identifier: MIT */
/*
 * Device-mapper tables: `<start> <len> <target> <args...>` lines in
 * 512-byte sectors, with file or block-device paths where dm has devices
 * (major:minor is accepted too).  A table becomes a spec, and a tree
 * prints back as a table when it has that shape; both follow dm's rules
 * and canonical form, so a table round-trips and a layout built here can
 * be activated with dmsetup, or the other way round.
 *
 * The frame is the core's: splitting the text into lines, their starts,
 * lengths and gaps, several lines as one node with its children end to
 * end (UBT_TARGET_END_TO_END), each node printed as a line at its start.
 * Each line's arguments are the target type's that takes its dm type
 * (dm_names, table_parse, table_print), with the helpers below.
 */
#ifndef UBT_TABLE_H
#define UBT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ubt/target.h"
#include "ubt/util.h"

struct ubt_tree;

/* ---- For frontends ------------------------------------------------------ */

/*
 * Translate table text into a spec.  Returns 0, or -EINVAL with one line
 * in err naming the table line and, where dm has one, dm's message.
 */
int ubt_table_to_spec(const char *table, char *spec, size_t speclen, char *err, size_t errlen);
/* Print tree as a table; -EINVAL with a reason when it has no such shape. */
int ubt_tree_to_table(const struct ubt_tree *tree, char *buf, size_t len, char *err,
		      size_t errlen);

/* ---- For a type's table_parse: one line in, its spec node out ------------ */

struct ubt_table_line {
	unsigned int lineno;		/* 1-based, for messages */
	uint64_t start, len;		/* sectors */
	const char *type;		/* the dm target type */
	unsigned int argc;
	char **argv;			/* the words after the type */
	struct ubt_str *spec;		/* the node's spec text goes here */
	char *err;
	size_t errlen;
};

/* Refuse the line: "table line N: " and the message (dm's, where dm has one).  -EINVAL. */
int ubt_table_fail(struct ubt_table_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A whole number of sectors, refused as "<what> '<s>' is not a number of sectors". */
int ubt_table_number(struct ubt_table_line *l, const char *s, const char *what, uint64_t *v);
/*
 * A dm device (a path, or major:minor of a block device) as a path; a
 * missing major:minor is refused.
 */
int ubt_table_device(struct ubt_table_line *l, const char *dev, char *path, size_t len);
/* Append spec text. */
void ubt_table_put(struct ubt_table_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A path, or a dm word, as one word of the spec (quoted as needed); bad: msg. */
int ubt_table_put_word(struct ubt_table_line *l, const char *word, const char *msg);
/*
 * A dm `<dev> <offset>` pair as a node of len sectors: a window of the
 * device at that offset (the type with dm_window spells it).  A bad offset
 * is refused with msg, dm's words for it.
 */
int ubt_table_put_dev(struct ubt_table_line *l, const char *dev, const char *offset,
		      uint64_t len, const char *msg);
/* The same for a whole device: the bare-leaf node of its path. */
int ubt_table_put_whole_dev(struct ubt_table_line *l, const char *dev, const char *msg);

/* ---- For a type's table_print: a node out as one line's words ------------- */

struct ubt_table_out {
	struct ubt_str *s;
	char *err;
	size_t errlen;
};

void ubt_table_printf(struct ubt_table_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Refuse to print: the reason in err.  -EINVAL. */
int ubt_table_print_fail(struct ubt_table_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * " <dev> <offset>" for node n, which must be a plain run of one file or
 * block device (dm_device).  Refused when it is not, or when its path
 * cannot be written in a table (white space).
 */
int ubt_table_print_dev(struct ubt_table_out *o, const struct ubt_target *n);
/*
 * " <dev>" for node n, which must be the whole of a file or block device
 * (what: how the line calls it, in the refusal).
 */
int ubt_table_print_whole_dev(struct ubt_table_out *o, const struct ubt_target *n,
			      const char *what);
/*
 * Where node n lies as a dm device: its path and start sector.  -EINVAL if
 * it does not; -EILSEQ, path set, if the path has white space, which a dm
 * table cannot hold (a dm_device op over a child passes that on).
 */
int ubt_table_dm_device(const struct ubt_target *n, const char **path, uint64_t *sector);
/*
 * ubt_table_dm_device(), or refuse the line: a path with white space
 * named as such, any other node with the reason fmt gives.
 */
int ubt_table_need_dm_device(struct ubt_table_out *o, const struct ubt_target *n,
			     const char **path, uint64_t *sector, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
