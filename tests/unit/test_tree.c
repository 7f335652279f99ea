// SPDX-License-Identifier: MIT
/*
 * Unit tests for core/config/build.c (with args.c and the registry): construction from a spec, argument checking,
 * limit stacking, slab sizing, and cleanup when a constructor fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/config/build.c"
#include "ut.h"

static int dtr_calls;

/* mock_leaf(size=SIZE, ro, nodiscard, lbs=N) */
static int leaf_ctr(struct ubt_target *t, struct ubt_args *a)
{
	uint64_t size = 1 << 20, lbs = 0;
	int ret = ubt_args_size(t, a, "size", &size);

	if (ret && ret != -ENOENT)
		return ret;
	ret = ubt_args_size(t, a, "lbs", &lbs);
	if (ret && ret != -ENOENT)
		return ret;
	if (ubt_args_flag(a, "fail"))
		return ubt_target_error(t, EIO, "asked to fail");
	t->len = size >> 9;
	t->limits.read_only = ubt_args_flag(a, "ro");
	t->limits.discard = !ubt_args_flag(a, "nodiscard");
	t->limits.volatile_cache = true;
	if (lbs)
		t->limits.logical_block_size = (uint32_t)lbs;
	return 0;
}

static void count_dtr(struct ubt_target *t)
{
	(void)t;
	dtr_calls++;
}

static int no_map(struct ubt_target *t, struct ubt_io *io)
{
	(void)t;
	(void)io;
	return 0;
}

static struct ubt_target_type mock_leaf = {
	.name = "mock_leaf", .per_io_size = 24, .ctr = leaf_ctr, .dtr = count_dtr, .map = no_map,
};

/* mock_fan(CHILD, CHILD, ...): as long as its children together. */
static int fan_ctr(struct ubt_target *t, struct ubt_args *a)
{
	unsigned int i, n = ubt_args_positional(a);
	int ret;

	for (i = 0; i < n; i++) {
		ret = ubt_args_child(t, a, i);
		if (ret)
			return ret;
		t->len += t->children[i]->len;
	}
	return 0;
}

static struct ubt_target_type mock_fan = {
	.name = "mock_fan", .per_io_size = 100, .max_fanout = 2, .ctr = fan_ctr,
	.dtr = count_dtr, .map = no_map,
};

static struct ubt_tree_opts opts = { .logical_block_size = 512, .max_io_bytes = 1 << 19 };
static char err[512];

static struct ubt_tree *build(const char *spec)
{
	struct ubt_tree *tree = NULL;

	err[0] = '\0';
	if (ubt_tree_build(spec, &opts, &tree, err, sizeof(err)))
		return NULL;
	return tree;
}

static void expect_error(const char *spec, const char *msg)
{
	struct ubt_tree *tree = build(spec);

	CU_ASSERT_PTR_NULL(tree);
	ubt_tree_free(tree);
	if (!strstr(err, msg))
		fprintf(stderr, "\n  '%s' -> '%s', wanted '%s'\n", spec, err, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, msg));
}

static void test_registry(void)
{
	CU_ASSERT_PTR_EQUAL(ubt_find_target("mock_leaf"), &mock_leaf);
	CU_ASSERT_PTR_EQUAL(ubt_find_target("mock_fan"), &mock_fan);
	CU_ASSERT_PTR_NULL(ubt_find_target("no_such_target"));
	CU_ASSERT_PTR_NULL(ubt_find_target("../escape"));
}

static void test_builds_nested_tree(void)
{
	struct ubt_tree *tree = build("mock_fan(mock_fan(mock_leaf(size=1M), mock_leaf(size=2M)), "
				      "mock_leaf(size=4M))");

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_EQUAL(tree->nr_nodes, 5);
	CU_ASSERT_EQUAL(tree->root->len, (7 << 20) >> 9);
	CU_ASSERT_EQUAL(ubt_tree_bytes(tree), 7 << 20);
	CU_ASSERT_EQUAL(tree->root->nr_children, 2);
	CU_ASSERT_PTR_EQUAL(tree->root->children[0]->parent, tree->root);
	/* Slots: leaf 1, inner fan 1 + 2*1 = 3, root 1 + 2*3 = 7. */
	CU_ASSERT_EQUAL(tree->slots_per_tag, 7);
	CU_ASSERT(tree->slot_size >= sizeof(struct ubt_io) + 100);
	CU_ASSERT_EQUAL(tree->slot_size % 64, 0);
	dtr_calls = 0;
	ubt_tree_free(tree);
	CU_ASSERT_EQUAL(dtr_calls, 5);
}

static void test_limits_stack(void)
{
	struct ubt_tree *tree = build("mock_fan(mock_leaf(ro), mock_leaf(nodiscard, lbs=4096))");

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_TRUE(tree->limits.read_only);
	CU_ASSERT_FALSE(tree->limits.discard);
	CU_ASSERT_TRUE(tree->limits.write_zeroes);
	CU_ASSERT_TRUE(tree->limits.volatile_cache);
	CU_ASSERT_EQUAL(tree->limits.logical_block_size, 4096);
	CU_ASSERT_EQUAL(tree->limits.max_io_bytes, 1 << 19);
	ubt_tree_free(tree);
	tree = build("mock_fan(mock_leaf(), mock_leaf())");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	CU_ASSERT_FALSE(tree->limits.read_only);
	CU_ASSERT_TRUE(tree->limits.discard);
	ubt_tree_free(tree);
}

static void test_argument_errors(void)
{
	expect_error("mock_leaf(size=1M, bogus=2)", "mock_leaf: unknown argument 'bogus='");
	expect_error("mock_leaf(size=1M, extra)", "mock_leaf: unexpected argument 'extra'");
	expect_error("mock_leaf(size=1Q)", "mock_leaf: size=1Q is not a size");
	expect_error("mock_leaf(size=mock_leaf())", "mock_leaf: size= takes a size, not a node");
	expect_error("mock_leaf(size=0)", "mock_leaf: size is zero");
	expect_error("no_such(x)", "unknown target 'no_such'");
	expect_error("mock_fan(mock_leaf(), nope())", "unknown target 'nope'");
	expect_error("mock_fan(", "spec: ");
	/* A bare word is file(word): not registered in this test. */
	expect_error("a.img", "'a.img': no target takes a bare word");
}

static void test_failed_child_destroys_siblings(void)
{
	dtr_calls = 0;
	expect_error("mock_fan(mock_leaf(), mock_fan(mock_leaf(), mock_leaf(fail)))",
		     "mock_leaf: asked to fail");
	/* Two leaves were built and must be destroyed again. */
	CU_ASSERT_EQUAL(dtr_calls, 2);
}

static void test_size_must_fit_block_size(void)
{
	struct ubt_tree_opts o4k = { .logical_block_size = 4096, .max_io_bytes = 1 << 19 };
	struct ubt_tree *tree = NULL;

	CU_ASSERT_NOT_EQUAL(ubt_tree_build("mock_leaf(size=6K)", &o4k, &tree, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "size 6144 is not a multiple of the 4096-byte block size"));
	CU_ASSERT_EQUAL(ubt_tree_build("mock_leaf(size=8K)", &o4k, &tree, err, sizeof(err)), 0);
	ubt_tree_free(tree);
}

static void test_add_fd_indexes(void)
{
	struct ubt_tree tree = { 0 };
	struct ubt_target t = { .tree = &tree, .type = &mock_leaf };

	CU_ASSERT_EQUAL(ubt_target_add_fd(&t, 10), 1);
	CU_ASSERT_EQUAL(ubt_target_add_fd(&t, 11), 2);
	CU_ASSERT_EQUAL(tree.nr_fds, 2);
	CU_ASSERT_EQUAL(tree.fds[1], 11);
	free(tree.fds);
}

/* A closed descriptor leaves an empty slot, never a number to register again. */
static void test_close_fd_forgets(void)
{
	struct ubt_tree tree = { 0 };
	struct ubt_target t = { .tree = &tree, .type = &mock_leaf };
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);

	CU_ASSERT_FATAL(a >= 0 && b >= 0);
	CU_ASSERT_EQUAL(ubt_target_add_fd(&t, a), 1);
	CU_ASSERT_EQUAL(ubt_target_add_fd(&t, b), 2);
	ubt_target_close_fd(&t, 1);
	CU_ASSERT_EQUAL(tree.fds[0], -1);
	CU_ASSERT_EQUAL(tree.fds[1], b);
	CU_ASSERT_EQUAL(fcntl(a, F_GETFD), -1);
	ubt_target_close_fd(&t, 1);	/* twice: nothing, not a close of -1 */
	ubt_target_close_fd(&t, 2);
	CU_ASSERT_EQUAL(fcntl(b, F_GETFD), -1);
	free(tree.fds);
}

/*
 * Replacements built before any is swapped in each keep room for the node
 * they push out; one built and not wanted is discarded with nothing left.
 */
static void test_replace_children(void)
{
	struct ubt_tree *tree = build("mock_fan(mock_leaf(size=1M), mock_leaf(size=1M))");
	struct ubt_target *n0 = NULL, *n1 = NULL, *n2 = NULL, *root;
	char spec[256];
	int calls;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tree);
	root = tree->root;
	CU_ASSERT_EQUAL(ubt_target_build_child(root, 0, "mock_leaf(size=2M)", root->children[0]->len,
					       &n0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ubt_target_build_child(root, 1, "mock_leaf(size=3M)", root->children[1]->len,
					       &n1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ubt_target_build_child(root, 1, "mock_leaf(size=4M)", root->children[1]->len,
					       &n2, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n2);
	ubt_target_swap_child(root, 0, n0);
	ubt_target_swap_child(root, 1, n1);
	calls = dtr_calls;
	ubt_target_discard_child(root, n2);
	CU_ASSERT_EQUAL(dtr_calls, calls + 1);
	CU_ASSERT_EQUAL(tree->nr_retired, 2);
	CU_ASSERT_EQUAL(tree->nr_unswapped, 0);
	CU_ASSERT_EQUAL(tree->nr_late_args, 2);
	CU_ASSERT_PTR_EQUAL(root->children[0], n0);
	CU_ASSERT_PTR_EQUAL(root->children[1], n1);
	CU_ASSERT(ubt_tree_spec(tree, spec, sizeof(spec)) > 0);
	CU_ASSERT_STRING_EQUAL(spec, "mock_fan(mock_leaf(size=2M), mock_leaf(size=3M))");
	/* A refused one (too small) leaves nothing either. */
	calls = dtr_calls;
	CU_ASSERT_NOT_EQUAL(ubt_target_build_child(root, 0, "mock_leaf(size=1M)", 4096, &n2, err,
						   sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "smaller than"));
	CU_ASSERT_EQUAL(dtr_calls, calls + 1);
	CU_ASSERT_EQUAL(tree->nr_late_args, 2);
	CU_ASSERT_EQUAL(tree->nr_unswapped, 0);
	ubt_tree_free(tree);
}

/* The one check a replacement and a reload make: limits, the data, AIO. */
static void test_misfit(void)
{
	struct ubt_tree *dev = build("mock_leaf(size=1M)"), *ro = build("mock_leaf(size=1M, ro)");

	CU_ASSERT_PTR_NOT_NULL_FATAL(dev);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
	CU_ASSERT_PTR_NULL(tree_misfit(dev, &dev->limits, NULL, false, 0, 1));
	CU_ASSERT_STRING_EQUAL(tree_misfit(dev, &ro->limits, NULL, false, 0, 1), "it is read-only");
	/* A node that reads the data fits a copy-mode device, not a zero-copy one. */
	CU_ASSERT_PTR_NULL(tree_misfit(dev, &dev->limits, dev->root, false, 0, 1));
	dev->zero_copy = true;
	CU_ASSERT_PTR_NOT_NULL(strstr(tree_misfit(dev, &dev->limits, dev->root, false, 0, 1),
				      "which a zero-copy device does not keep"));
	dev->zero_copy = false;
	CU_ASSERT_PTR_NOT_NULL(strstr(tree_misfit(dev, &dev->limits, NULL, true, 0, 1),
				      "only a device that started with it has"));
	/*
	 * AIO sized for 4 tags and 2 background tags of 3 slots: 18 iocbs.
	 * What counts is the whole slab, background tags included.
	 */
	dev->aio_depth = 4;
	dev->aio_iocbs = 18;
	CU_ASSERT_PTR_NULL(tree_misfit(dev, &dev->limits, NULL, true, 2, 3));
	CU_ASSERT_PTR_NULL(tree_misfit(dev, &dev->limits, NULL, true, 0, 4));
	CU_ASSERT_PTR_NOT_NULL(strstr(tree_misfit(dev, &dev->limits, NULL, true, 3, 3),
				      "more slots per queue"));
	CU_ASSERT_PTR_NOT_NULL(strstr(tree_misfit(dev, &dev->limits, NULL, true, 0, 5),
				      "more slots per queue"));
	ubt_tree_free(dev);
	ubt_tree_free(ro);
}

int main(void)
{
	static const struct ut_case cases[] = {
		UT(test_registry), UT(test_builds_nested_tree), UT(test_limits_stack),
		UT(test_argument_errors), UT(test_failed_child_destroys_siblings),
		UT(test_size_must_fit_block_size), UT(test_add_fd_indexes),
		UT(test_close_fd_forgets), UT(test_replace_children), UT(test_misfit),
	};

	mock_leaf.abi = mock_fan.abi = UBT_TARGET_ABI;
	ubt_register_target(&mock_leaf);
	ubt_register_target(&mock_fan);
	ubt_set_module_dir("");
	return ut_run("tree", cases, sizeof(cases) / sizeof(cases[0]));
}
