// SPDX-License-Identifier: MIT
/*
 * The registry of target types, and the modules that bring more.
 *
 * A type linked in registers itself from a constructor before main(); a
 * type built as a module (`m`) does the same when ubt-NAME.so is
 * dlopen()ed from the module directory, the first time a spec names it
 * (or a table names its device-mapper type, or a listing wants them all);
 * a name no ubt-NAME.so brings is looked for in every module, since one
 * module may register several types.
 * Core and the CLI know targets only through what is registered here.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "generated/autoconf.h"
#include "ubt/registry.h"

static struct ubt_target_type *registry;
static const char *module_dir = CONFIG_MODULE_DIR;
static bool all_loaded;

void ubt_register_target(struct ubt_target_type *type)
{
	struct ubt_target_type **p;

	if (type->abi != UBT_TARGET_ABI) {
		/* Its struct layouts are not ours: calling into it would corrupt memory. */
		fprintf(stderr, "ublk-target: target '%s' was built for target ABI %u, this "
			"build has %u: ignored (rebuild it against these headers)\n",
			type->name ? type->name : "?", type->abi, UBT_TARGET_ABI);
		return;
	}
	/* Kept sorted by name, so that every listing reads the same. */
	for (p = &registry; *p; p = &(*p)->next) {
		if (*p == type)
			return;
		if (strcmp((*p)->name, type->name) > 0)
			break;
	}
	type->next = *p;
	*p = type;
}

void ubt_set_module_dir(const char *dir)
{
	module_dir = dir;
	all_loaded = false;
}

const char *ubt_module_dir(void)
{
	return module_dir;
}

const struct ubt_target_type *ubt_find_target_loaded(const char *name)
{
	const struct ubt_target_type *t;

	for (t = registry; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* dlopen ubt-NAME.so; the handle stays open for the life of the process. */
static void load_module(const char *name)
{
	char path[4096];

	if (strchr(name, '/') || !module_dir || !*module_dir)
		return;
	snprintf(path, sizeof(path), "%s/ubt-%s.so", module_dir, name);
	if (access(path, R_OK))
		return;
	if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL))
		fprintf(stderr, "ublk-target: cannot load %s: %s\n", path, dlerror());
}

const struct ubt_target_type *ubt_find_target(const char *name)
{
	const struct ubt_target_type *t = ubt_find_target_loaded(name);

	if (!t) {
		load_module(name);
		t = ubt_find_target_loaded(name);
	}
	if (!t) {
		/* One module may register several types (ubt-raid.so: raid4, raid5, raid6). */
		ubt_load_all_targets();
		t = ubt_find_target_loaded(name);
	}
	return t;
}

int ubt_for_each_module(void (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (!module_dir || !*module_dir || !(d = opendir(module_dir)))
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[256];

		if (len < 8 || strncmp(e->d_name, "ubt-", 4) || strcmp(e->d_name + len - 3, ".so") ||
		    len - 7 >= sizeof(name))
			continue;
		memcpy(name, e->d_name + 4, len - 7);
		name[len - 7] = '\0';
		fn(name, arg);
		n++;
	}
	closedir(d);
	return n;
}

static void load_one(const char *name, void *arg)
{
	(void)arg;
	if (!ubt_find_target_loaded(name))
		load_module(name);
}

void ubt_load_all_targets(void)
{
	if (all_loaded)
		return;
	ubt_for_each_module(load_one, NULL);
	all_loaded = true;
}

const struct ubt_target_type *ubt_target_types(void)
{
	return registry;
}

const struct ubt_target_type *registry_find(bool (*match)(const struct ubt_target_type *t,
							   const void *arg),
					   const void *arg)
{
	const struct ubt_target_type *t;
	unsigned int pass;

	/* What is registered first; the modules only when that has no taker. */
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			ubt_load_all_targets();
		for (t = registry; t; t = t->next)
			if (match(t, arg))
				return t;
	}
	return NULL;
}

static bool has_flag(const struct ubt_target_type *t, const void *flag)
{
	return t->flags & *(const unsigned int *)flag;
}

const struct ubt_target_type *registry_find_flag(unsigned int flag)
{
	return registry_find(has_flag, &flag);
}

static bool takes_dm_name(const struct ubt_target_type *t, const void *dm_name)
{
	unsigned int i;

	for (i = 0; t->dm_names && t->dm_names[i]; i++)
		if (!strcmp(t->dm_names[i], dm_name))
			return true;
	return false;
}

const struct ubt_target_type *ubt_find_target_dm(const char *dm_name)
{
	return registry_find(takes_dm_name, dm_name);
}
