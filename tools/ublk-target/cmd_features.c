// SPDX-License-Identifier: MIT
/* `features`: what the kernel's ublk driver offers and what this build has. */
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ubt/device.h"
#include "ubt/registry.h"
#include "ubt/shorthand.h"
#include "ubt/ublk_ctrl.h"

static const char features_usage[] =
"usage: ublk-target features [--json]\n"
"\n"
"Print the ublk driver's feature flags (GET_FEATURES, Linux 6.5 and later;\n"
"a bit newer than this build by its number),\n"
"the copy modes it offers ('create --copy-mode') with the one 'auto' picks\n"
"for a stack whose targets leave the data alone, and the targets this build\n"
"provides, built in or as modules (ubt-NAME.so in the module directory,\n"
"$UBT_MODULE_DIR): each one's version, spec form, 'create' shorthand,\n"
"the device-mapper table lines it takes and the messages it answers.\n"
"Works without root or ublk_drv for the target list.\n"
"\n"
"  --json   one JSON object instead\n";

static const char *const flag_names[] = {
	"zero_copy", "comp_in_task", "need_get_data", "user_recovery",
	"user_recovery_reissue", "unprivileged_dev", "cmd_ioctl_encode", "user_copy",
	"zoned", "user_recovery_fail_io", "update_size", "auto_buf_reg", "quiesce",
	"per_io_daemon", "buf_reg_off_daemon", "batch_io", "integrity", "safe_stop_dev",
	"no_auto_part_scan", "shmem_zc",
};

/* The module a type came from, or NULL when it is built in. */
static const char *module_of(const struct ubt_target_type *t)
{
	Dl_info self, it;

	if (!dladdr((const void *)cmd_features, &self) || !dladdr((const void *)t, &it) ||
	    !strcmp(self.dli_fname, it.dli_fname))
		return NULL;
	return it.dli_fname;
}

/* A multi-line text as a JSON string. */
static void json_text(const char *key, const char *text)
{
	printf(text ? ", \"%s\": " : ", \"%s\": null", key);
	if (text)
		cli_json_string(text);
}

static void print_target_json(const struct ubt_target_type *t, bool first)
{
	const char *module = module_of(t);
	unsigned int i;

	printf("%s{\"name\": \"%s\", \"version\": \"%u.%u.%u\"", first ? "" : ", ", t->name,
	       t->version[0], t->version[1], t->version[2]);
	json_text("usage", t->usage);
	json_text("module", module);
	printf(", \"dm_names\": [");
	for (i = 0; t->dm_names && t->table_parse && t->dm_names[i]; i++)
		printf("%s\"%s\"", i ? ", " : "", t->dm_names[i]);
	printf("]");
	json_text("shorthand", t->shorthand ? t->shorthand->synopsis : NULL);
	json_text("messages", t->message ? t->message_usage : NULL);
	json_text("status", t->status_usage);
	printf("}");
}

static void print_target(const struct ubt_target_type *t)
{
	const char *module = module_of(t);
	unsigned int i;

	printf("  %-8s %u.%u.%u  %s%s\n", t->name, t->version[0], t->version[1], t->version[2],
	       module ? "module " : "built in", module ? module : "");
	printf("           %s\n", t->usage ? t->usage : t->name);
	if (t->shorthand)
		printf("           shorthand: create %s %s\n", t->name, t->shorthand->synopsis);
	for (i = 0; t->dm_names && t->table_parse && t->dm_names[i]; i++)
		printf("%s%s", i ? ", " : "           dm table lines: ", t->dm_names[i]);
	if (i)
		printf("\n");
	if (t->message && t->message_usage) {
		printf("           messages:\n");
		cli_print_lines(stdout, "             ", "             ", t->message_usage);
	}
}

static const enum ubt_copy_mode concrete_modes[] = {
	UBT_COPY_COPY, UBT_COPY_ZERO_COPY, UBT_COPY_USER_COPY,
};

static void print_copy_modes(uint64_t features, bool json)
{
	enum ubt_copy_mode auto_mode = ubt_copy_mode_available(UBT_COPY_ZERO_COPY, features) ?
				       UBT_COPY_ZERO_COPY : UBT_COPY_COPY;
	bool first = true;
	unsigned int i;

	printf(json ? ", \"copy_modes\": [" : "copy modes:");
	for (i = 0; i < sizeof(concrete_modes) / sizeof(concrete_modes[0]); i++) {
		if (!ubt_copy_mode_available(concrete_modes[i], features))
			continue;
		printf(json ? "%s\"%s\"" : "%s%s", json ? (first ? "" : ", ") : " ",
		       ubt_copy_mode_name(concrete_modes[i]));
		first = false;
	}
	if (json)
		printf("], \"auto_copy_mode\": \"%s\"", ubt_copy_mode_name(auto_mode));
	else
		printf(" (auto: %s)\n", ubt_copy_mode_name(auto_mode));
}

int cmd_features(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ubt_target_type *t;
	struct ubt_ctrl ctrl;
	bool json = false, have_ctrl, first = true;
	unsigned int i;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			fputs(features_usage, stdout);
			return 0;
		} else {
			return cli_usage_error("features: unknown option '%s'", argv[optind - 1]);
		}
	}
	/* Every target, the modules' too: listing them loads them. */
	ubt_load_all_targets();
	ret = ubt_ctrl_open(&ctrl);
	have_ctrl = ret == 0;
	if (json) {
		if (have_ctrl)
			printf("{\"kernel\": {\"features\": %llu, \"flags\": [",
			       (unsigned long long)ctrl.features);
		else
			printf("{\"kernel\": null");
		for (i = 0; have_ctrl && i < 64; i++) {
			if (!(ctrl.features & (1ULL << i)))
				continue;
			if (i < UBT_ARRAY_SIZE(flag_names))
				printf("%s\"%s\"", first ? "" : ", ", flag_names[i]);
			else
				printf("%s\"bit_%u\"", first ? "" : ", ", i);
			first = false;
		}
		if (have_ctrl) {
			printf("]");
			print_copy_modes(ctrl.features, true);
			printf("}");
		}
		printf(", \"targets\": [");
		for (t = ubt_target_types(), first = true; t; t = t->next, first = false)
			print_target_json(t, first);
		printf("]}\n");
	} else {
		if (have_ctrl) {
			printf("kernel ublk features: 0x%llx\n", (unsigned long long)ctrl.features);
			/* Every bit the driver offers, those newer than this build by number. */
			for (i = 0; i < 64; i++) {
				if (!(ctrl.features & (1ULL << i)))
					continue;
				if (i < UBT_ARRAY_SIZE(flag_names))
					printf("  %s\n", flag_names[i]);
				else
					printf("  bit %u (newer than this build: no name known)\n", i);
			}
			print_copy_modes(ctrl.features, false);
		} else {
			printf("kernel ublk features: unavailable (%s: %s)\n", UBT_CTRL_DEV,
			       strerror(-ret));
		}
		printf("targets:\n");
		for (t = ubt_target_types(); t; t = t->next)
			print_target(t);
	}
	if (have_ctrl)
		ubt_ctrl_close(&ctrl);
	return 0;
}
