// SPDX-License-Identifier: MIT
/*
 * Parsing of `create`: device options anywhere on the line, then either
 * --spec EXPR or a target name with its shorthand options, which are
 * turned into the equivalent spec so both forms take one path.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "create_opts.h"
#include "generated/autoconf.h"
#include "ubt/registry.h"
#include "ubt/shorthand.h"
#include "ubt/ublk_abi.h"
#include "ubt/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* What no target decides: the device's options, the engine, the forms of a stack. */
static const char usage_head[] =
"usage: ublk-target create [DEVICE OPTIONS] TARGET [TARGET OPTIONS]\n"
"       ublk-target create [DEVICE OPTIONS] --spec EXPR\n"
"       ublk-target create [DEVICE OPTIONS] --table FILE|-\n"
"\n"
"Create a ublk block device served by a stack of targets, print its path\n"
"(/dev/ublkbN) once it is live and leave a daemon serving it.\n"
"\n"
"Device options:\n"
"  -n, --id ID         device id (default: the kernel picks the lowest free)\n"
"  -q, --queues N      hardware queues, one pinned thread each (default 1,\n"
"                      at most the CPU count)\n"
"  -d, --depth N       tags per queue, 1..4096 (default " STR(CONFIG_DEFAULT_QUEUE_DEPTH) ")\n"
"      --lbs 512|4096  logical block size in bytes (default 512)\n"
"      --copy-mode MODE\n"
"                      how request data moves between the client and the\n"
"                      daemon (default auto):\n"
"                        copy       the kernel copies it to and from a buffer\n"
"                                   per tag (every kernel)\n"
"                        zero-copy  the kernel lends the client's pages to the\n"
"                                   daemon's io_uring and the backing files read\n"
"                                   and write them directly (Linux 6.16+)\n"
"                        user-copy  the daemon copies it itself through\n"
"                                   /dev/ublkcN (Linux 6.5+)\n"
"                        auto       zero-copy where the kernel has it and no\n"
"                                   target of the stack works on the data\n"
"                                   itself, copy otherwise\n"
"      --io-scheduler NAME\n"
"                      the block layer's I/O scheduler for the device\n"
"                      (default none: requests go straight to the daemon,\n"
"                      as for the kernel's loop device); 'kernel' keeps the\n"
"                      kernel's default (mq-deadline on most kernels)\n"
"      --recovery reissue|fail-io|none\n"
"                      what happens when the daemon dies (kill -9, a crash):\n"
"                        reissue  the device and its mounts stay, I/O waits\n"
"                                 until 'ublk-target recover' (or 'restart')\n"
"                                 and what the daemon held is sent again\n"
"                                 (default where the kernel offers it)\n"
"                        fail-io  the device stays, I/O fails at once until\n"
"                                 it is recovered (Linux 6.13+)\n"
"                        none     the device goes away and its I/O fails\n"
"      --foreground    serve from this process instead of a daemon\n"
"\n"
"      --engine uring|aio\n"
"                      how the stack's files read and write where the spec\n"
"                      does not say (engine= on a leaf): through the\n"
"                      daemon's io_uring (default) or Linux AIO; a device\n"
"                      with a file on AIO is never zero copy\n"
"\n"
"Targets with a shorthand (TARGET [TARGET OPTIONS]):\n"
"%s"
"\n"
"  --spec EXPR         any stack: a node is TARGET(ARG, ..., KEY=VALUE, ...),\n"
"                      its children nodes in its arguments, nested to any\n"
"                      depth; a bare path where a node goes means a file;\n"
"                      name=LABEL on any node names it for 'status' and\n"
"                      'message'.  The targets and their arguments\n"
"                      ('ublk-target features' lists them with their\n"
"                      messages):\n";

static const char usage_tail[] =
"  --table FILE|-      a device-mapper table, in 512-byte sectors, paths or\n"
"                      major:minor for devices, from FILE or standard\n"
"                      input; laid out and checked as dm would.  The dm\n"
"                      targets it takes:\n"
"%s"
"\n"
"Sizes take K, M, G or T suffixes (powers of 1024).\n";

enum {
	OPT_LBS = 0x100,
	OPT_COPY_MODE,
	OPT_SCHEDULER,
	OPT_FOREGROUND,
	OPT_SPEC,
	OPT_TABLE,
	OPT_ENGINE,
	OPT_RECOVERY,
	OPT_TARGET = 0x200,	/* + the index of a shorthand option in the table */
};

static const struct option device_opts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ "queues", required_argument, NULL, 'q' },
	{ "depth", required_argument, NULL, 'd' },
	{ "lbs", required_argument, NULL, OPT_LBS },
	{ "copy-mode", required_argument, NULL, OPT_COPY_MODE },
	{ "io-scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "recovery", required_argument, NULL, OPT_RECOVERY },
	{ "help", no_argument, NULL, 'h' },
};

#define MAX_TARGET_OPTS		64
#define MAX_GIVEN		(2 * CONFIG_MAX_FANOUT + 16)

/*
 * The options of every registered type's shorthand, each once: any may
 * stand anywhere on the line, before or after the target's name, so they
 * are all known before it is.
 */
static unsigned int target_opts(struct option *opts, unsigned int max)
{
	const struct ubt_target_type *t;
	const struct ubt_shorthand_opt *so;
	unsigned int n = 0, i;

	ubt_load_all_targets();
	for (t = ubt_target_types(); t; t = t->next) {
		for (so = t->shorthand ? t->shorthand->opts : NULL; so && so->name; so++) {
			for (i = 0; i < n && strcmp(opts[i].name, so->name); i++)
				;
			if (i < n || n == max)
				continue;
			opts[n] = (struct option){ so->name, so->value ? required_argument :
						   no_argument, NULL, OPT_TARGET + (int)n };
			n++;
		}
	}
	return n;
}

/* "concat, file, null" of the types with a shorthand. */
static void shorthand_names(char *buf, size_t len)
{
	struct ubt_str s = UBT_STR(buf, len);
	const struct ubt_target_type *t;

	buf[0] = '\0';
	for (t = ubt_target_types(); t; t = t->next)
		if (t->shorthand)
			ubt_str_printf(&s, "%s%s", s.pos ? ", " : "", t->name);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_count(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		       unsigned int *out, char *err, size_t errlen)
{
	uint64_t v;

	if (ubt_parse_uint(s, &v) || v < lo || v > hi)
		return fail(err, errlen, "%s takes a number from %llu to %llu, not '%s'", opt,
			    (unsigned long long)lo, (unsigned long long)hi, s);
	*out = (unsigned int)v;
	return 0;
}

/* TARGET [TARGET OPTIONS]: the spec its type's shorthand says they mean. */
static int shorthand(const char *target, const struct ubt_shorthand_given *given,
		     unsigned int nr_given, struct create_opts *o, char *err, size_t errlen)
{
	struct ubt_shorthand_args a = {
		.type = ubt_find_target(target), .given = given, .nr_given = nr_given,
		.err = err, .errlen = errlen,
	};
	char names[512];

	shorthand_names(names, sizeof(names));
	if (!a.type)
		return fail(err, errlen, "unknown target '%s' (shorthands: %s; any stack: --spec)",
			    target, names);
	if (!a.type->shorthand)
		return fail(err, errlen, "%s has no shorthand: give the stack with --spec, e.g. "
			    "--spec '%s' (shorthands: %s)", target, a.type->usage, names);
	return ubt_shorthand_spec(&a, o->spec, sizeof(o->spec));
}

int create_opts_parse(int argc, char **argv, unsigned int max_queues,
		      struct create_opts *o, char *err, size_t errlen)
{
	struct option opts[UBT_ARRAY_SIZE(device_opts) + MAX_TARGET_OPTS + 1];
	struct ubt_shorthand_given given[MAX_GIVEN];
	unsigned int nr_given = 0, nr_target;
	const char *target = NULL, *spec = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->dev_id = -1;
	o->nr_queues = 1;
	o->depth = CONFIG_DEFAULT_QUEUE_DEPTH;
	o->lbs = 512;
	o->copy_mode = UBT_COPY_AUTO;
	o->recovery = UBT_RECOVERY_AUTO;
	o->scheduler = "none";
	memcpy(opts, device_opts, sizeof(device_opts));
	nr_target = target_opts(opts + UBT_ARRAY_SIZE(device_opts), MAX_TARGET_OPTS);
	memset(&opts[UBT_ARRAY_SIZE(device_opts) + nr_target], 0, sizeof(opts[0]));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:n:q:d:h", opts, NULL)) != -1) {
		unsigned int v = 0;

		if (c >= OPT_TARGET) {
			if (nr_given == MAX_GIVEN)
				return fail(err, errlen, "more than %d target options", MAX_GIVEN);
			given[nr_given].name = opts[UBT_ARRAY_SIZE(device_opts) + c - OPT_TARGET].name;
			given[nr_given++].value = optarg;
			continue;
		}
		switch (c) {
		case 1:
			if (target)
				return fail(err, errlen, "unexpected argument '%s'", optarg);
			target = optarg;
			break;
		case 'n':
			if (parse_count("-n", optarg, 0, 0x7fffffff, &v, err, errlen))
				return -EINVAL;
			o->dev_id = (int)v;
			break;
		case 'q':
			if (parse_count("-q", optarg, 1, max_queues, &o->nr_queues, err, errlen))
				return -EINVAL;
			break;
		case 'd':
			if (parse_count("-d", optarg, 1, UBLK_MAX_QUEUE_DEPTH, &o->depth, err,
					errlen))
				return -EINVAL;
			break;
		case OPT_LBS:
			if (strcmp(optarg, "512") && strcmp(optarg, "4096"))
				return fail(err, errlen, "--lbs takes 512 or 4096, not '%s'", optarg);
			o->lbs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case OPT_RECOVERY:
			if (ubt_recovery_parse(optarg, &o->recovery) ||
			    o->recovery == UBT_RECOVERY_AUTO)
				return fail(err, errlen, "--recovery takes reissue, fail-io or none, "
					    "not '%s'", optarg);
			break;
		case OPT_COPY_MODE:
			if (ubt_copy_mode_parse(optarg, &o->copy_mode))
				return fail(err, errlen, "--copy-mode takes auto, copy, zero-copy or "
					    "user-copy, not '%s'", optarg);
			break;
		case OPT_SCHEDULER:
			if (!*optarg || strchr(optarg, '/') || strchr(optarg, ' '))
				return fail(err, errlen, "--io-scheduler takes a scheduler name "
					    "(none, mq-deadline, bfq, kyber) or 'kernel', not '%s'",
					    optarg);
			o->scheduler = strcmp(optarg, "kernel") ? optarg : NULL;
			break;
		case OPT_FOREGROUND:
			o->foreground = true;
			break;
		case OPT_SPEC:
			spec = optarg;
			break;
		case OPT_TABLE:
			o->table = optarg;
			break;
		case OPT_ENGINE:
			if (!strcmp(optarg, "uring"))
				o->engine = UBT_ENGINE_URING;
			else if (!strcmp(optarg, "aio"))
				o->engine = UBT_ENGINE_AIO;
			else
				return fail(err, errlen, "--engine takes uring or aio, not '%s'", optarg);
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default:
			return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->table) {
		if (spec || target || nr_given)
			return fail(err, errlen, "--table describes the whole stack: give no "
				    "--spec, target or target options with it");
		return 0;
	}
	if (spec) {
		if (target || nr_given)
			return fail(err, errlen, "--spec describes the whole stack: give no "
				    "target or target options with it");
		if ((size_t)snprintf(o->spec, sizeof(o->spec), "%s", spec) >= sizeof(o->spec))
			return fail(err, errlen, "--spec is too long");
		return 0;
	}
	if (!target)
		return fail(err, errlen, "no target given (try 'ublk-target create --help')");
	return shorthand(target, given, nr_given, o, err, errlen);
}

void create_usage(FILE *f)
{
	char shorthands[4096], dm[1024];
	struct ubt_str sh = UBT_STR(shorthands, sizeof(shorthands));
	struct ubt_str d = UBT_STR(dm, sizeof(dm));
	const struct ubt_target_type *t;
	unsigned int i;

	ubt_load_all_targets();
	shorthands[0] = dm[0] = '\0';
	for (t = ubt_target_types(); t; t = t->next) {
		if (t->shorthand)
			ubt_str_printf(&sh, "  %s %s\n%*s%s\n", t->name, t->shorthand->synopsis,
				       41, "", t->shorthand->help);
		for (i = 0; t->dm_names && t->table_parse && t->dm_names[i]; i++)
			ubt_str_printf(&d, "%s%s", d.pos ? ", " : "                      ",
				       t->dm_names[i]);
	}
	ubt_str_printf(&d, "\n");
	fprintf(f, usage_head, shorthands);
	for (t = ubt_target_types(); t; t = t->next)
		fprintf(f, "                        %s\n", t->usage ? t->usage : t->name);
	fprintf(f, usage_tail, dm);
}
