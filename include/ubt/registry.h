/* SPDX-License-Identifier: MIT */
/*
 * The registry of target types, as frontends see it: lookups, listings
 * and the module directory.  Types register themselves (ubt/target.h).
 */
#ifndef UBT_REGISTRY_H
#define UBT_REGISTRY_H

#include "ubt/target.h"

/* The type called name, loading ubt-NAME.so from the module directory if need be. */
const struct ubt_target_type *ubt_find_target(const char *name);
/* Only what is registered already: no module is loaded. */
const struct ubt_target_type *ubt_find_target_loaded(const char *name);
/* The type that takes device-mapper table lines of type dm_name (modules loaded if need be). */
const struct ubt_target_type *ubt_find_target_dm(const char *dm_name);
/* Every registered type, sorted by name, linked through ->next. */
const struct ubt_target_type *ubt_target_types(void);
/* Load every module of the module directory not loaded yet (for a full listing). */
void ubt_load_all_targets(void);
/* Call fn for every ubt-NAME.so in the module directory; how many there were. */
int ubt_for_each_module(void (*fn)(const char *name, void *arg), void *arg);
/* Where `m` targets are looked for ($UBT_MODULE_DIR); set before the first lookup. */
void ubt_set_module_dir(const char *dir);
const char *ubt_module_dir(void);

#endif
