// SPDX-License-Identifier: MIT
/*
 * Relative paths in a spec, made absolute: the run record keeps the spec,
 * and the daemon that builds it (a reload) or rebuilds it (a recovery)
 * runs elsewhere.  Which words are paths only each target knows, so a
 * word counts as one when it names an existing file from here and looks
 * like a path (it has a '/' or a '.'): "a.img" and "disks/b" do,
 * "readonly", "64K" and "writeback" do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_paths.h"
#include "ubt/spec.h"

static int absolute(char **word)
{
	struct stat st;
	char *abs;

	if (!*word || **word == '/' || !strpbrk(*word, "/.") || stat(*word, &st))
		return 0;
	abs = realpath(*word, NULL);
	if (!abs)
		return -1;
	free(*word);
	*word = abs;
	return 0;
}

static int absolute_node(struct ubt_spec_node *n)
{
	unsigned int i;

	if (n->bare)
		return absolute(&n->name);
	for (i = 0; i < n->nr_args; i++) {
		struct ubt_spec_arg *a = &n->args[i];

		if (a->node ? absolute_node(a->node) : absolute(&a->word))
			return -1;
	}
	return 0;
}

int spec_absolute_paths(const char *spec, char *out, size_t len, char *err, size_t errlen)
{
	struct ubt_spec_node *n = ubt_spec_parse(spec, err, errlen);
	int ret;

	if (!n)
		return -1;
	if (absolute_node(n)) {
		snprintf(err, errlen, "out of memory");
		ubt_spec_free(n);
		return -1;
	}
	ret = ubt_spec_format(n, out, len);
	ubt_spec_free(n);
	if (ret < 0 || (size_t)ret >= len) {
		snprintf(err, errlen, "the stack description is too long");
		return -1;
	}
	return 0;
}
