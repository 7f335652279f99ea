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
#include "ubt/ublk_abi.h"
#include "ubt/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char create_usage[] =
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
"Targets (shorthands for common specs):\n"
"  null --size SIZE                       completes every request at once\n"
"  file --file PATH [--offset SIZE] [--size SIZE] [--readonly] [--buffered]\n"
"                                         a regular file or a block device\n"
"  linear --file PATH [--offset SIZE] [--size SIZE]\n"
"                                         a window of a file: linear(file(PATH), ...)\n"
"  concat --file PATH --file PATH ...     files end to end\n"
"  stripe [--chunk SIZE] --file PATH --file PATH ...\n"
"                                         chunks round-robin over the files, laid\n"
"                                         out like dm-stripe (chunk default 64K)\n"
"\n"
"  --engine uring|aio  how the stack's files read and write where the spec\n"
"                      does not say (file(PATH, engine=...)): through the\n"
"                      daemon's io_uring (default) or Linux AIO; a device\n"
"                      with a file on AIO is never zero copy\n"
"\n"
"  --spec EXPR         any stack, e.g.\n"
"                      --spec 'stripe(linear(a.img, size=1G), concat(b.img, c.img), chunk=128K)';\n"
"                      a bare path means file(PATH); the targets are null,\n"
"                      file, linear, concat, stripe, mirror(LEG, LEG, ...,\n"
"                      region=SIZE, log=core|PATH, ...), cache(origin=NODE,\n"
"                      cache=NODE, meta=NODE, block=SIZE, mode=...) and, to inject\n"
"                      faults, zero(size=), error(size=), flakey(CHILD,\n"
"                      up=S, down=S, FEATURE...), delay(CHILD, read=MS,\n"
"                      write=MS, flush=MS) and volatile(CHILD, cache=SIZE)\n"
"                      (a write cache that 'message ... crash' loses)\n"
"                      ('ublk-target features' lists their arguments);\n"
"                      name=LABEL on any node names it\n"
"                      for 'status' and 'message'\n"
"  --table FILE|-      a device-mapper table (linear, striped, zero, error,\n"
"                      flakey, delay, mirror and cache lines, in 512-byte\n"
"                      sectors, paths or major:minor for devices), from\n"
"                      FILE or standard input; laid out and checked as dm\n"
"                      would\n"
"\n"
"Sizes take K, M, G or T suffixes (powers of 1024).\n";

enum {
	OPT_LBS = 0x100,
	OPT_COPY_MODE,
	OPT_SCHEDULER,
	OPT_FOREGROUND,
	OPT_SPEC,
	OPT_SIZE,
	OPT_FILE,
	OPT_OFFSET,
	OPT_READONLY,
	OPT_BUFFERED,
	OPT_CHUNK,
	OPT_TABLE,
	OPT_ENGINE,
	OPT_RECOVERY,
};

static const struct option long_opts[] = {
	{ "id", required_argument, NULL, 'n' },
	{ "queues", required_argument, NULL, 'q' },
	{ "depth", required_argument, NULL, 'd' },
	{ "lbs", required_argument, NULL, OPT_LBS },
	{ "copy-mode", required_argument, NULL, OPT_COPY_MODE },
	{ "io-scheduler", required_argument, NULL, OPT_SCHEDULER },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "readonly", no_argument, NULL, OPT_READONLY },
	{ "buffered", no_argument, NULL, OPT_BUFFERED },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "recovery", required_argument, NULL, OPT_RECOVERY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_SHORTHAND_FILES	CONFIG_MAX_FANOUT

struct shorthand {
	const char *spec;
	const char *size;
	const char *files[MAX_SHORTHAND_FILES];
	const char *offset;
	const char *chunk;
	bool readonly;
	bool buffered;
	unsigned int nr_files;
};

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

static int check_size(const char *opt, const char *s, char *err, size_t errlen)
{
	uint64_t v;
	int ret = ubt_parse_size(s, &v);

	if (ret == -ERANGE)
		return fail(err, errlen, "%s: '%s' is too large", opt, s);
	if (ret)
		return fail(err, errlen, "%s: '%s' is not a size (a number with an optional "
			    "K, M, G or T suffix)", opt, s);
	return 0;
}

/* Append to the spec with quoting where a path needs it. */
static int spec_put(struct create_opts *o, size_t *pos, const char *s, bool quote,
		    char *err, size_t errlen)
{
	const char *q = strchr(s, '\'') ? "\"" : "'";
	int n;

	if (quote && strchr(s, '\'') && strchr(s, '"'))
		return fail(err, errlen, "a path with both ' and \" cannot be used: '%s'", s);
	n = snprintf(o->spec + *pos, sizeof(o->spec) - *pos, "%s%s%s",
		     quote ? q : "", s, quote ? q : "");
	if (n < 0 || (size_t)n >= sizeof(o->spec) - *pos)
		return fail(err, errlen, "the stack description is too long");
	*pos += (size_t)n;
	return 0;
}

/* ", key=VALUE" when value is set. */
static int spec_key(struct create_opts *o, size_t *pos, const char *key, const char *value,
		    char *err, size_t errlen)
{
	int ret;

	if (!value)
		return 0;
	ret = spec_put(o, pos, ", ", false, err, errlen);
	ret = ret ? ret : spec_put(o, pos, key, false, err, errlen);
	ret = ret ? ret : spec_put(o, pos, "=", false, err, errlen);
	return ret ? ret : spec_put(o, pos, value, false, err, errlen);
}

/* A path, made absolute: the run record keeps the spec. */
static int spec_path(struct create_opts *o, size_t *pos, const char *path, char *err,
		     size_t errlen)
{
	char *abs = realpath(path, NULL);
	int ret = spec_put(o, pos, abs ? abs : path, true, err, errlen);

	free(abs);
	return ret;
}

/* "name(f1, f2, ..." for the targets whose children are the --file list. */
static int spec_children(struct create_opts *o, size_t *pos, const char *name,
			 const struct shorthand *sh, char *err, size_t errlen)
{
	unsigned int i;
	int ret = spec_put(o, pos, name, false, err, errlen);

	ret = ret ? ret : spec_put(o, pos, "(", false, err, errlen);
	for (i = 0; !ret && i < sh->nr_files; i++) {
		if (i)
			ret = spec_put(o, pos, ", ", false, err, errlen);
		ret = ret ? ret : spec_path(o, pos, sh->files[i], err, errlen);
	}
	return ret;
}

static int build_shorthand(const char *target, const struct shorthand *sh,
			   struct create_opts *o, char *err, size_t errlen)
{
	size_t pos = 0;
	int ret;

	if (sh->chunk && strcmp(target, "stripe"))
		return fail(err, errlen, "--chunk goes with stripe only");
	if (!strcmp(target, "null")) {
		if (!sh->size)
			return fail(err, errlen, "null needs --size, e.g. 'create null --size 1G'");
		if (sh->nr_files || sh->offset || sh->readonly || sh->buffered)
			return fail(err, errlen, "null takes only --size");
		ret = spec_put(o, &pos, "null(size=", false, err, errlen);
		ret = ret ? ret : spec_put(o, &pos, sh->size, false, err, errlen);
		return ret ? ret : spec_put(o, &pos, ")", false, err, errlen);
	}
	if (!strcmp(target, "file") || !strcmp(target, "linear")) {
		bool linear = target[0] == 'l';

		if (sh->nr_files != 1)
			return fail(err, errlen, "%s needs exactly one --file PATH", target);
		ret = spec_put(o, &pos, linear ? "linear(file(" : "file(", false, err, errlen);
		ret = ret ? ret : spec_path(o, &pos, sh->files[0], err, errlen);
		if (!ret && linear)
			ret = spec_put(o, &pos, ")", false, err, errlen);
		ret = ret ? ret : spec_key(o, &pos, "offset", sh->offset, err, errlen);
		ret = ret ? ret : spec_key(o, &pos, "size", sh->size, err, errlen);
		if (!ret && sh->readonly)
			ret = spec_put(o, &pos, ", readonly", false, err, errlen);
		if (!ret && sh->buffered)
			ret = spec_put(o, &pos, ", buffered", false, err, errlen);
		if (linear && (sh->readonly || sh->buffered))
			return fail(err, errlen, "--readonly and --buffered go with file; "
				    "use --spec 'linear(file(PATH, readonly), ...)'");
		return ret ? ret : spec_put(o, &pos, ")", false, err, errlen);
	}
	if (!strcmp(target, "concat") || !strcmp(target, "stripe")) {
		if (!sh->nr_files)
			return fail(err, errlen, "%s needs --file PATH for each child", target);
		if (sh->size || sh->offset || sh->readonly || sh->buffered)
			return fail(err, errlen, "%s takes only --file%s", target,
				    target[0] == 's' ? " and --chunk" : "");
		ret = spec_children(o, &pos, target, sh, err, errlen);
		ret = ret ? ret : spec_key(o, &pos, "chunk", sh->chunk, err, errlen);
		return ret ? ret : spec_put(o, &pos, ")", false, err, errlen);
	}
	return fail(err, errlen, "unknown target '%s' (shorthands: null, file, linear, concat, "
		    "stripe; any stack: --spec)", target);
}

int create_opts_parse(int argc, char **argv, unsigned int max_queues,
		      struct create_opts *o, char *err, size_t errlen)
{
	struct shorthand sh = { 0 };
	const char *target = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->dev_id = -1;
	o->nr_queues = 1;
	o->depth = CONFIG_DEFAULT_QUEUE_DEPTH;
	o->lbs = 512;
	o->copy_mode = UBT_COPY_AUTO;
	o->recovery = UBT_RECOVERY_AUTO;
	o->scheduler = "none";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:n:q:d:h", long_opts, NULL)) != -1) {
		unsigned int v = 0;

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
			sh.spec = optarg;
			break;
		case OPT_TABLE:
			o->table = optarg;
			break;
		case OPT_SIZE:
			if (check_size("--size", optarg, err, errlen))
				return -EINVAL;
			sh.size = optarg;
			break;
		case OPT_OFFSET:
			if (check_size("--offset", optarg, err, errlen))
				return -EINVAL;
			sh.offset = optarg;
			break;
		case OPT_FILE:
			if (sh.nr_files == MAX_SHORTHAND_FILES)
				return fail(err, errlen, "more than %d --file options",
					    MAX_SHORTHAND_FILES);
			sh.files[sh.nr_files++] = optarg;
			break;
		case OPT_CHUNK:
			if (check_size("--chunk", optarg, err, errlen))
				return -EINVAL;
			sh.chunk = optarg;
			break;
		case OPT_ENGINE:
			if (!strcmp(optarg, "uring"))
				o->engine = UBT_ENGINE_URING;
			else if (!strcmp(optarg, "aio"))
				o->engine = UBT_ENGINE_AIO;
			else
				return fail(err, errlen, "--engine takes uring or aio, not '%s'", optarg);
			break;
		case OPT_READONLY:
			sh.readonly = true;
			break;
		case OPT_BUFFERED:
			sh.buffered = true;
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
		if (sh.spec || target || sh.size || sh.nr_files || sh.offset || sh.readonly ||
		    sh.buffered || sh.chunk)
			return fail(err, errlen, "--table describes the whole stack: give no "
				    "--spec, target or target options with it");
		return 0;
	}
	if (sh.spec) {
		if (target || sh.size || sh.nr_files || sh.offset || sh.readonly || sh.buffered ||
		    sh.chunk)
			return fail(err, errlen, "--spec describes the whole stack: give no "
				    "target or target options with it");
		if ((size_t)snprintf(o->spec, sizeof(o->spec), "%s", sh.spec) >= sizeof(o->spec))
			return fail(err, errlen, "--spec is too long");
		return 0;
	}
	if (!target)
		return fail(err, errlen, "no target given (try 'ublk-target create --help')");
	return build_shorthand(target, &sh, o, err, errlen);
}
