// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the spec parser.  Whatever the input, parsing must
 * not crash or leak, and anything that parses must print to a canonical
 * form that parses back to the same form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256], once[65536], twice[65536];
	struct ubt_spec_node *n, *m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = ubt_spec_parse(text, err, sizeof(err));
	if (n) {
		if (ubt_spec_format(n, once, sizeof(once)) < (int)sizeof(once)) {
			m = ubt_spec_parse(once, err, sizeof(err));
			/* Words with both quote kinds have no printed form; all else round-trips. */
			if (m) {
				ubt_spec_format(m, twice, sizeof(twice));
				if (strcmp(once, twice))
					abort();
				ubt_spec_free(m);
			} else if (!strchr(text, '\'') || !strchr(text, '"')) {
				abort();
			}
		}
		ubt_spec_free(n);
	}
	free(text);
	return 0;
}
