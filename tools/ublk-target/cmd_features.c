// SPDX-License-Identifier: MIT
/* `features`: what the kernel's ublk driver offers and what this build has. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ubt/device.h"
#include "ubt/tree.h"
#include "ubt/ublk_ctrl.h"

static const char features_usage[] =
"usage: ublk-target features [--json]\n"
"\n"
"Print the ublk driver's feature flags (GET_FEATURES, Linux 6.5 and later),\n"
"the copy modes it offers ('create --copy-mode') with the one 'auto' picks\n"
"for a stack whose targets leave the data alone, and the targets this build\n"
"provides.  Works without root or ublk_drv for the target list.\n";

static const char *const flag_names[] = {
	"zero_copy", "comp_in_task", "need_get_data", "user_recovery",
	"user_recovery_reissue", "unprivileged_dev", "cmd_ioctl_encode", "user_copy",
	"zoned", "user_recovery_fail_io", "update_size", "auto_buf_reg", "quiesce",
	"per_io_daemon", "buf_reg_off_daemon", "batch_io", "integrity", "safe_stop_dev",
	"no_auto_part_scan", "shmem_zc",
};

/* Call fn for every ubt-NAME.so in the module directory not linked in already. */
static void each_module(void (*fn)(const char *name, bool first))
{
	const char *dir = ubt_module_dir();
	struct dirent *e;
	bool first = true;
	DIR *d;

	if (!dir || !*dir || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char name[256];

		if (n < 8 || strncmp(e->d_name, "ubt-", 4) || strcmp(e->d_name + n - 3, ".so") ||
		    n - 7 >= sizeof(name))
			continue;
		memcpy(name, e->d_name + 4, n - 7);
		name[n - 7] = '\0';
		if (ubt_find_target_loaded(name))
			continue;
		fn(name, first);
		first = false;
	}
	closedir(d);
}

static void print_module(const char *name, bool first)
{
	(void)first;
	printf("  %-8s (module in %s, loaded on first use)\n", name, ubt_module_dir());
}

static void print_module_json(const char *name, bool first)
{
	printf("%s\"%s\"", first ? "" : ", ", name);
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
	ret = ubt_ctrl_open(&ctrl);
	have_ctrl = ret == 0;
	if (json) {
		printf("{\"kernel\": ");
		if (have_ctrl)
			printf("{\"features\": %llu, \"flags\": [",
			       (unsigned long long)ctrl.features);
		else
			printf("null");
		for (i = 0; have_ctrl && i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
			if (!(ctrl.features & (1ULL << i)))
				continue;
			printf("%s\"%s\"", first ? "" : ", ", flag_names[i]);
			first = false;
		}
		if (have_ctrl) {
			printf("]");
			print_copy_modes(ctrl.features, true);
			printf("}");
		}
		printf(", \"targets\": [");
		for (t = ubt_target_types(), first = true; t; t = t->next, first = false)
			printf("%s{\"name\": \"%s\", \"version\": \"%u.%u.%u\", \"usage\": \"%s\"}",
			       first ? "" : ", ", t->name, t->version[0], t->version[1],
			       t->version[2], t->usage ? t->usage : "");
		printf("], \"modules\": [");
		each_module(print_module_json);
		printf("]}\n");
	} else {
		if (have_ctrl) {
			printf("kernel ublk features: 0x%llx\n", (unsigned long long)ctrl.features);
			for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
				if (ctrl.features & (1ULL << i))
					printf("  %s\n", flag_names[i]);
			print_copy_modes(ctrl.features, false);
		} else {
			printf("kernel ublk features: unavailable (%s: %s)\n", UBT_CTRL_DEV,
			       strerror(-ret));
		}
		printf("targets:\n");
		for (t = ubt_target_types(); t; t = t->next)
			printf("  %-8s %u.%u.%u  %s\n", t->name, t->version[0], t->version[1],
			       t->version[2], t->usage ? t->usage : "");
		each_module(print_module);
	}
	if (have_ctrl)
		ubt_ctrl_close(&ctrl);
	return 0;
}
