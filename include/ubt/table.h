/* SPDX-License-Identifier: MIT */
/*
 * Device-mapper tables: `<start> <len> <target> <args...>` lines in
 * 512-byte sectors, for the linear and striped targets, with file or
 * block-device paths where dm has devices (major:minor is accepted too).
 *
 * A table becomes a spec (several lines: a concat of one node per line);
 * a tree prints back as a table when it has that shape.  Both directions
 * follow dm's rules and canonical form, so a table round-trips.
 */
#ifndef UBT_TABLE_H
#define UBT_TABLE_H

#include <stddef.h>

struct ubt_tree;

/*
 * Translate table text into a spec.  Returns 0, or -EINVAL with one line
 * in err naming the table line and, where dm has one, dm's message.
 */
int ubt_table_to_spec(const char *table, char *spec, size_t speclen, char *err, size_t errlen);

/* Print tree as a table; -EINVAL with a reason when it has no such shape. */
int ubt_tree_to_table(const struct ubt_tree *tree, char *buf, size_t len, char *err,
		      size_t errlen);

#endif
