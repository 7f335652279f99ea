/* SPDX-License-Identifier: MIT */
/* Relative paths in a spec made absolute (spec_paths.c). */
#ifndef UBT_SPEC_PATHS_H
#define UBT_SPEC_PATHS_H

#include <stddef.h>

/* spec with each relative path made absolute into out: 0, or -1 with err set. */
int spec_absolute_paths(const char *spec, char *out, size_t len, char *err, size_t errlen);

#endif
