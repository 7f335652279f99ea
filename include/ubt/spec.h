/* SPDX-License-Identifier: MIT */
/*
 * The spec expression: one tree of nodes for any stack.
 *
 *   expr  := WORD [ '(' [ arg { ',' arg } ] ')' ]
 *   arg   := WORD '=' expr | expr
 *   WORD  := a run of characters other than ( ) , = and white space,
 *            or a '...' / "..." quoted string
 *
 * A WORD with no parentheses is a plain value; where a node is expected it
 * means a node of the bare-leaf type (UBT_TARGET_BARE_LEAF: file) with
 * WORD as its first argument.  Example:
 *   stripe(linear(a.img, offset=1M, size=512M), b.img, chunk=128K)
 */
#ifndef UBT_SPEC_H
#define UBT_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct ubt_spec_node;

struct ubt_spec_arg {
	char *key;			/* NULL for a positional argument */
	char *word;			/* a plain value, or NULL ... */
	struct ubt_spec_node *node;	/* ... when the value is a node */
	unsigned int column;		/* 1-based, for messages */
	bool used;
};

struct ubt_spec_node {
	char *name;
	struct ubt_spec_arg *args;
	unsigned int nr_args;
	unsigned int column;
	bool bare;			/* a WORD alone: a bare-leaf node of it */
};

/*
 * Parse text into a node tree.  On error returns NULL and writes
 * "spec: <what> at column N" into err.
 */
struct ubt_spec_node *ubt_spec_parse(const char *text, char *err, size_t errlen);
void ubt_spec_free(struct ubt_spec_node *n);
/* Free what an argument holds (its key, word or node), not the argument itself. */
void ubt_spec_arg_free(struct ubt_spec_arg *a);

/* Print a node tree back in canonical form; returns the length like snprintf. */
int ubt_spec_format(const struct ubt_spec_node *n, char *buf, size_t len);

#endif
