// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the device-mapper table parser, the frame and every
 * built-in target's line: no crash, no leak, and every table it accepts
 * becomes a spec that the spec parser accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/registry.h"
#include "ubt/spec.h"
#include "ubt/table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The built-in targets only: no module from the machine. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ubt_set_module_dir("");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), spec[65536], err[512];
	struct ubt_spec_node *n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!ubt_table_to_spec(text, spec, sizeof(spec), err, sizeof(err))) {
		n = ubt_spec_parse(spec, err, sizeof(err));
		if (!n)
			abort();
		ubt_spec_free(n);
	}
	free(text);
	return 0;
}
