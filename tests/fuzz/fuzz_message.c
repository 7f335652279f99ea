// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for `message`: words sent to any node of stacks that
 * hold every built-in target with messages (raid, mirror with a disk log,
 * cache, flakey, delay, volatile).  No crash, no leak; a refusal is one
 * line saying why.  The stacks keep what messages did to them (failed
 * legs, a crashed node), and are built again every few thousand inputs.
 * The first byte of an input picks the stack and the node, the rest are
 * the words.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ubt/registry.h"
#include "ubt/tree.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * One stack with every target that takes messages, each under or over
 * another, then each of them alone (so a build without one of them still
 * fuzzes the rest: a stack naming a target not built is left out).
 */
static const char *const specs[] = {
	"cache(origin=raid5(flakey(null(size=8M), up=1, down=1, name=f), "
	"delay(null(size=8M), read=1, name=d), volatile(null(size=8M), name=v), chunk=64K, "
	"nosync, name=r), cache=mirror(null(size=2M), null(size=2M), region=512K, "
	"log=zero(size=64K), name=m), meta=zero(size=64K), block=32K, name=c)",
	"raid6(null(size=4M), null(size=4M), null(size=4M), null(size=4M), null(size=4M), "
	"chunk=16K, name=r)",
	"mirror(null(size=4M), flakey(null(size=4M), up=1, down=1, name=f), null(size=4M), "
	"region=64K, log=zero(size=64K), handle_errors, name=m)",
	"cache(origin=null(size=16M), cache=null(size=1M), meta=zero(size=64K), block=32K, "
	"mode=writethrough, name=c)",
	"flakey(null(size=4M), up=1, down=1, name=f)",
	"delay(null(size=4M), read=1, name=d)",
	"volatile(null(size=4M), name=v)",
};
static const char *const refs[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
	"c", "r", "f", "d", "v", "m", "x",
};
#define REBUILD_EVERY	4096

static struct ubt_tree *trees[sizeof(specs) / sizeof(specs[0])];
static unsigned int nr_trees, runs;

static void build_all(void)
{
	struct ubt_tree_opts o = { .logical_block_size = 512, .max_io_bytes = 512 * 1024 };
	char err[512];
	unsigned int i;

	for (i = 0; i < nr_trees; i++)
		ubt_tree_free(trees[i]);
	nr_trees = 0;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (!ubt_tree_build(specs[i], &o, &trees[nr_trees], err, sizeof(err)))
			nr_trees++;
		else if (!strstr(err, "unknown target"))
			fprintf(stderr, "fuzz_message: %s: %s\n", specs[i], err), abort();
	}
	if (!nr_trees)
		fprintf(stderr, "fuzz_message: no target that takes messages is built\n"), abort();
}

/* The built-in targets only: no module from the machine. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ubt_set_module_dir("");
	build_all();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[1024], *argv[64], *save = NULL, *tok, out[4096];
	int argc = 0, ret;

	if (size < 2 || size > sizeof(line))
		return 0;
	if (++runs % REBUILD_EVERY == 0)
		build_all();
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	for (tok = strtok_r(line, UBT_MESSAGE_SPACE, &save); tok && argc < 64;
	     tok = strtok_r(NULL, UBT_MESSAGE_SPACE, &save))
		argv[argc++] = tok;
	if (!argc)
		return 0;
	out[0] = '\0';
	ret = ubt_tree_message(trees[(data[0] >> 5) % nr_trees],
			       refs[(data[0] & 0x1f) % (sizeof(refs) / sizeof(refs[0]))], "/nonexistent",
			       argc, argv, out, sizeof(out));
	if (ret < 0 && (!out[0] || strchr(out, '\n')))
		abort();
	return 0;
}
