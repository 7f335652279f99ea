// SPDX-License-Identifier: MIT
/*
 * Building a tree of targets from a spec: the registry, argument access for
 * constructors, stacking of limits and sizing of the per-tag slab.
 *
 * Construction is depth first: a node's constructor builds its children
 * through ubt_args_child(), so errors surface from the innermost node and
 * everything built so far is destroyed again on the way out.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "generated/autoconf.h"
#include "ubt/spec.h"
#include "ubt/tree.h"
#include "ubt/util.h"

struct ubt_args {
	struct ubt_spec_node *node;
};

/* ---- Registry ---------------------------------------------------------- */

static struct ubt_target_type *registry;
static const char *module_dir = CONFIG_MODULE_DIR;

void ubt_register_target(struct ubt_target_type *type)
{
	const struct ubt_target_type *t;

	for (t = registry; t; t = t->next)
		if (t == type)
			return;
	type->next = registry;
	registry = type;
}

void ubt_set_module_dir(const char *dir)
{
	module_dir = dir;
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

/*
 * A type built as a module (`m`) registers itself from its constructor
 * when dlopen()ed; the handle stays open for the life of the process.
 */
static void load_module(const char *name)
{
	char path[4096];

	if (strchr(name, '/') || !module_dir || !*module_dir)
		return;
	snprintf(path, sizeof(path), "%s/ubt-%s.so", module_dir, name);
	if (access(path, R_OK))
		return;
	dlopen(path, RTLD_NOW | RTLD_GLOBAL);
}

const struct ubt_target_type *ubt_find_target(const char *name)
{
	const struct ubt_target_type *t = ubt_find_target_loaded(name);

	if (!t) {
		load_module(name);
		t = ubt_find_target_loaded(name);
	}
	return t;
}

const struct ubt_target_type *ubt_target_types(void)
{
	return registry;
}

/* ---- Arguments --------------------------------------------------------- */

int ubt_target_error(struct ubt_target *t, int err, const char *fmt, ...)
{
	struct ubt_tree *tree = t->tree;
	size_t n;
	va_list ap;

	if (!tree->err || tree->err[0])
		return -err;	/* keep the first (innermost) message */
	n = (size_t)snprintf(tree->err, tree->errlen, "%s: ", t->type->name);
	if (n < tree->errlen) {
		va_start(ap, fmt);
		vsnprintf(tree->err + n, tree->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -err;
}

static struct ubt_spec_arg *positional(struct ubt_args *a, unsigned int i)
{
	unsigned int k, seen = 0;

	for (k = 0; k < a->node->nr_args; k++) {
		if (a->node->args[k].key)
			continue;
		if (seen++ == i)
			return &a->node->args[k];
	}
	return NULL;
}

static struct ubt_spec_arg *keyed(struct ubt_args *a, const char *key)
{
	unsigned int k;

	for (k = 0; k < a->node->nr_args; k++)
		if (a->node->args[k].key && !strcmp(a->node->args[k].key, key))
			return &a->node->args[k];
	return NULL;
}

unsigned int ubt_args_positional(struct ubt_args *a)
{
	unsigned int k, n = 0;

	for (k = 0; k < a->node->nr_args; k++)
		n += !a->node->args[k].key;
	return n;
}

bool ubt_args_has(struct ubt_args *a, const char *key)
{
	return keyed(a, key) != NULL;
}

bool ubt_args_taken(struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	return arg && arg->used;
}

const char *ubt_args_word(struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	if (!arg || arg->node)
		return NULL;
	arg->used = true;
	return arg->word;
}

const char *ubt_args_str(struct ubt_args *a, const char *key)
{
	struct ubt_spec_arg *arg = keyed(a, key);

	if (!arg || arg->node)
		return NULL;
	arg->used = true;
	return arg->word;
}

bool ubt_args_flag(struct ubt_args *a, const char *word)
{
	unsigned int k;

	for (k = 0; k < a->node->nr_args; k++) {
		struct ubt_spec_arg *arg = &a->node->args[k];

		if (!arg->key && arg->word && !strcmp(arg->word, word)) {
			arg->used = true;
			return true;
		}
	}
	return false;
}

/* key=WORD through a value parser: -ENOENT absent, else what parse() says, in the node's words. */
static int keyed_value(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out,
		       int (*parse)(const char *, uint64_t *), const char *what, const char *hint)
{
	struct ubt_spec_arg *arg = keyed(a, key);
	int ret;

	if (!arg)
		return -ENOENT;
	arg->used = true;
	if (arg->node)
		return ubt_target_error(t, EINVAL, "%s= takes %s, not a node", key, what);
	ret = parse(arg->word, out);
	if (ret == -ERANGE)
		return ubt_target_error(t, ERANGE, "%s=%s is too large", key, arg->word);
	if (ret)
		return ubt_target_error(t, EINVAL, "%s=%s is not %s%s", key, arg->word, what, hint);
	return 0;
}

int ubt_args_size(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out)
{
	return keyed_value(t, a, key, out, ubt_parse_size, "a size",
			   " (a number with an optional K, M, G or T suffix)");
}

int ubt_args_uint(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out)
{
	return keyed_value(t, a, key, out, ubt_parse_uint, "a whole number", "");
}

static int build_node(struct ubt_tree *tree, struct ubt_target *parent,
		      struct ubt_spec_node *node, const char *bare_path,
		      struct ubt_target **out);

static int add_child(struct ubt_target *t, struct ubt_spec_arg *arg)
{
	struct ubt_target **children, *child;
	int ret;

	arg->used = true;
	children = realloc(t->children, (t->nr_children + 1) * sizeof(*children));
	if (!children)
		return ubt_target_error(t, ENOMEM, "out of memory");
	t->children = children;
	ret = build_node(t->tree, t, arg->node, arg->word, &child);
	if (ret)
		return ret;
	t->children[t->nr_children++] = child;
	return 0;
}

int ubt_args_child(struct ubt_target *t, struct ubt_args *a, unsigned int i)
{
	struct ubt_spec_arg *arg = positional(a, i);

	if (!arg)
		return -ENOENT;
	return add_child(t, arg);
}

int ubt_args_key_child(struct ubt_target *t, struct ubt_args *a, const char *key)
{
	struct ubt_spec_arg *arg = keyed(a, key);

	if (!arg)
		return -ENOENT;
	return add_child(t, arg);
}

int ubt_target_add_fd(struct ubt_target *t, int fd)
{
	struct ubt_tree *tree = t->tree;
	int *fds;

	/* Not in tree->fds: queue threads read it (Linux AIO), so it never moves now. */
	if (__atomic_load_n(&tree->fds_registered, __ATOMIC_RELAXED))
		return UBT_FD_PLAIN + fd;
	fds = realloc(tree->fds, (tree->nr_fds + 1) * sizeof(*fds));
	if (!fds)
		return ubt_target_error(t, ENOMEM, "out of memory");
	tree->fds = fds;
	tree->fds[tree->nr_fds++] = fd;
	return (int)tree->nr_fds;	/* index 0 is the frontend's */
}

int ubt_target_direct(const struct ubt_target *t, int *fd, uint64_t *offset)
{
	return t->type->direct ? t->type->direct(t, fd, offset) : -EOPNOTSUPP;
}

int ubt_target_sync(const struct ubt_target *t)
{
	uint64_t offset;
	unsigned int i;
	int fd, ret;

	ret = ubt_target_direct(t, &fd, &offset);
	if (!ret)
		return fdatasync(fd) ? -errno : 0;
	if (ret != -EOPNOTSUPP)
		return ret;
	/* Not one file (a window of a stripe, a stripe): each child's. */
	for (i = 0; i < t->nr_children; i++) {
		ret = ubt_target_sync(t->children[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void ubt_target_use_aio(struct ubt_target *t)
{
	t->tree->want_aio = true;
	t->needs_data = true;
}

/* ---- Construction ------------------------------------------------------ */

static void destroy_node(struct ubt_target *t)
{
	unsigned int i;

	if (!t)
		return;
	if (t->type->dtr)
		t->type->dtr(t);
	for (i = 0; i < t->nr_children; i++)
		destroy_node(t->children[i]);
	free(t->children);
	free(t);
}

static void default_limits(struct ubt_tree *tree, struct ubt_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->logical_block_size = tree->opts.logical_block_size;
	lim->physical_block_size = tree->opts.logical_block_size;
	lim->max_io_bytes = tree->opts.max_io_bytes;
	lim->discard = true;
	lim->write_zeroes = true;
	lim->fua = true;
}

/* A parent can do no more than all of its children allow. */
static void stack_limits(struct ubt_limits *top, const struct ubt_limits *b)
{
	top->logical_block_size = UBT_MAX(top->logical_block_size, b->logical_block_size);
	top->physical_block_size = UBT_MAX(top->physical_block_size, b->physical_block_size);
	top->io_min = UBT_MAX(top->io_min, b->io_min);
	top->io_opt = UBT_MAX(top->io_opt, b->io_opt);
	top->max_io_bytes = UBT_MIN(top->max_io_bytes, b->max_io_bytes);
	top->discard_granularity = UBT_MAX(top->discard_granularity, b->discard_granularity);
	top->dma_alignment = UBT_MAX(top->dma_alignment, b->dma_alignment);
	top->read_only |= b->read_only;
	top->discard &= b->discard;
	top->write_zeroes &= b->write_zeroes;
	top->volatile_cache |= b->volatile_cache;
	top->fua &= b->fua;
}

/*
 * name=LABEL on any node: how `message` and `status` let a user name it
 * besides its index.  A label is a word that is not a number, unique in
 * the tree (checked once the tree is built).
 */
static int node_label(struct ubt_target *t, struct ubt_spec_node *node)
{
	unsigned int i;

	for (i = 0; i < node->nr_args; i++) {
		struct ubt_spec_arg *a = &node->args[i];
		const char *p;

		if (!a->key || strcmp(a->key, "name"))
			continue;
		a->used = true;
		if (!a->word || !a->word[0])
			return ubt_target_error(t, EINVAL, "name= takes a label, not a node");
		for (p = a->word; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
				return ubt_target_error(t, EINVAL, "name=%s: a label is letters, digits, "
							"'_', '.' and '-'", a->word);
		if (strspn(a->word, "0123456789") == strlen(a->word))
			return ubt_target_error(t, EINVAL, "name=%s: a label cannot be a number "
						"(numbers are node indexes)", a->word);
		t->label = a->word;
	}
	return 0;
}

static struct ubt_target *find_node(struct ubt_target *t, const char *ref, uint64_t index,
				    bool by_index, const struct ubt_target *skip)
{
	struct ubt_target *hit;
	unsigned int i;

	if (t != skip && (by_index ? t->id == index : t->label && !strcmp(t->label, ref)))
		return t;
	for (i = 0; i < t->nr_children; i++) {
		hit = find_node(t->children[i], ref, index, by_index, skip);
		if (hit)
			return hit;
	}
	return NULL;
}

struct ubt_target *ubt_tree_find(struct ubt_tree *tree, const char *ref)
{
	uint64_t index = 0;
	bool by_index = !ubt_parse_uint(ref, &index);

	return find_node(tree->root, ref, index, by_index, NULL);
}

/* The first node whose label another node also has, or NULL. */
static const struct ubt_target *duplicate_label(struct ubt_tree *tree, const struct ubt_target *t)
{
	const struct ubt_target *dup;
	unsigned int i;

	if (t->label && find_node(tree->root, t->label, 0, false, t))
		return t;
	for (i = 0; i < t->nr_children; i++) {
		dup = duplicate_label(tree, t->children[i]);
		if (dup)
			return dup;
	}
	return NULL;
}

static int build_node(struct ubt_tree *tree, struct ubt_target *parent,
		      struct ubt_spec_node *node, const char *bare_path,
		      struct ubt_target **out)
{
	struct ubt_spec_node bare = { 0 };
	struct ubt_spec_arg bare_arg = { 0 };
	struct ubt_args args;
	struct ubt_target *t;
	unsigned int i;
	int ret;

	if (!node) {
		/* A bare word where a node is expected means file(word). */
		bare_arg.word = (char *)bare_path;
		bare.name = (char *)"file";
		bare.args = &bare_arg;
		bare.nr_args = 1;
		node = &bare;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(tree->err, tree->errlen, "out of memory");
		return -ENOMEM;
	}
	t->tree = tree;
	t->parent = parent;
	t->id = tree->nr_nodes++;
	t->claim_fd = -1;
	t->type = ubt_find_target(node->name);
	if (!t->type) {
		snprintf(tree->err, tree->errlen,
			 "unknown target '%s' (see 'ublk-target features' for the built ones)",
			 node->name);
		free(t);
		return -EINVAL;
	}
	default_limits(tree, &t->limits);
	t->needs_data = t->type->flags & UBT_TARGET_NEEDS_DATA;
	args.node = node;
	for (i = 0; i < node->nr_args; i++)
		node->args[i].used = false;
	ret = node_label(t, node);
	if (ret) {
		free(t);
		return ret;
	}
	ret = t->type->ctr(t, &args);
	if (ret) {
		if (!tree->err[0])
			ubt_target_error(t, -ret, "%s", strerror(-ret));
		/* The constructor cleaned up after itself; children are ours. */
		for (i = 0; i < t->nr_children; i++)
			destroy_node(t->children[i]);
		free(t->children);
		free(t);
		return ret;
	}
	for (i = 0; i < node->nr_args; i++) {
		struct ubt_spec_arg *a = &node->args[i];

		if (a->used)
			continue;
		if (a->key)
			ret = ubt_target_error(t, EINVAL, "unknown argument '%s='", a->key);
		else
			ret = ubt_target_error(t, EINVAL, "unexpected argument '%s'",
					       a->word ? a->word : a->node->name);
		goto out_destroy;
	}
	if (t->len == 0) {
		ret = ubt_target_error(t, EINVAL, "size is zero");
		goto out_destroy;
	}
	for (i = 0; i < t->nr_children; i++)
		stack_limits(&t->limits, &t->children[i]->limits);
	t->limits.chunk_sectors = 0;	/* a child's boundaries are not ours */
	if (t->type->io_hints)
		t->type->io_hints(t, &t->limits);
	*out = t;
	return 0;
out_destroy:
	destroy_node(t);
	return ret;
}

/* Settle each node's per-I/O budget, top down: a child's input is its parent's output. */
static void budget(struct ubt_target *t, unsigned int max_iov_in)
{
	unsigned int i;

	t->max_iov_in = max_iov_in;
	t->per_io_size = t->type->per_io_size;
	t->max_fanout = t->type->max_fanout;
	t->child_max_iov = max_iov_in;
	if (t->type->io_budget)
		t->type->io_budget(t);
	for (i = 0; i < t->nr_children; i++)
		budget(t->children[i], t->child_max_iov);
}

/* What a subtree needs of each tag: ubt_io slots, private bytes, background tags. */
struct subtree_needs {
	size_t max_priv;
	unsigned int bg_tags;
	const struct ubt_target *data_node;	/* the first that needs the data, pre-order */
	bool per_queue_state;
};

/* How many ubt_io slots one request can need below (and including) t; the rest in n. */
static unsigned int subtree_slots(const struct ubt_target *t, struct subtree_needs *n)
{
	unsigned int i, worst = 0;

	if (t->needs_data && !n->data_node)
		n->data_node = t;
	n->max_priv = UBT_MAX(n->max_priv, t->per_io_size);
	n->bg_tags += t->bg_tags;
	n->per_queue_state |= t->type->queue_init || t->type->queue_exit;
	for (i = 0; i < t->nr_children; i++)
		worst = UBT_MAX(worst, subtree_slots(t->children[i], n));
	return 1 + t->max_fanout * worst;
}

static int build_tree(const char *spec_text, const struct ubt_tree_opts *opts,
		      const struct ubt_tree *live, struct ubt_tree **out, char *err, size_t errlen)
{
	struct subtree_needs needs = { 0 };
	struct ubt_tree *tree;
	uint64_t bytes;
	const struct ubt_target *dup;
	int ret;

	tree = calloc(1, sizeof(*tree));
	if (!tree) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tree->poke_fd = -1;
	tree->opts = *opts;
	tree->live = live;
	tree->err = err;
	tree->errlen = errlen;
	err[0] = '\0';
	tree->spec = ubt_spec_parse(spec_text, err, errlen);
	if (!tree->spec) {
		ret = -EINVAL;
		goto out_free;
	}
	ret = build_node(tree, NULL, tree->spec->bare ? NULL : tree->spec,
			 tree->spec->name, &tree->root);
	if (ret)
		goto out_free;
	dup = duplicate_label(tree, tree->root);
	if (dup) {
		snprintf(err, errlen, "name=%s is given to two nodes", dup->label);
		ret = -EINVAL;
		goto out_free;
	}
	tree->limits = tree->root->limits;
	bytes = ubt_tree_bytes(tree);
	if (bytes % tree->limits.logical_block_size) {
		snprintf(err, errlen, "%s: size %llu is not a multiple of the %u-byte block size",
			 tree->root->type->name, (unsigned long long)bytes,
			 tree->limits.logical_block_size);
		ret = -EINVAL;
		goto out_free;
	}
	budget(tree->root, 1);	/* a request arrives as one buffer */
	tree->slots_per_tag = subtree_slots(tree->root, &needs);
	tree->data_node = needs.data_node;
	tree->bg_tags = needs.bg_tags;
	tree->slot_size = UBT_ROUND_UP(sizeof(struct ubt_io) + needs.max_priv, 64);
	tree->err = NULL;
	tree->live = NULL;
	/*
	 * Constructors may have used large arrays for a while (a cache loading
	 * a million mappings): give what they freed back, so the daemon keeps
	 * only what the nodes hold.
	 */
	malloc_trim(0);
	*out = tree;
	return 0;
out_free:
	ubt_tree_free(tree);
	return ret;
}

int ubt_tree_build(const char *spec_text, const struct ubt_tree_opts *opts,
		   struct ubt_tree **out, char *err, size_t errlen)
{
	return build_tree(spec_text, opts, NULL, out, err, errlen);
}

/* ---- Replacing a node of a running tree -------------------------------- */

/*
 * A label of t's subtree (rooted at top) that another node of it, or of
 * the tree outside `old`, has too; NULL if none.  The labels of the node
 * being replaced may be reused.
 */
static const char *label_taken(struct ubt_target *root, const struct ubt_target *old,
			       struct ubt_target *top, const struct ubt_target *t)
{
	const struct ubt_target *found, *up;
	const char *dup;
	unsigned int i;

	if (t->label) {
		if (find_node(top, t->label, 0, false, t))
			return t->label;
		found = find_node(root, t->label, 0, false, NULL);
		for (up = found; up && up != old;)
			up = up->parent;
		if (found && !up)
			return t->label;
	}
	for (i = 0; i < t->nr_children; i++) {
		dup = label_taken(root, old, top, t->children[i]);
		if (dup)
			return dup;
	}
	return NULL;
}

/* A leaf under t, outside old, backed by the file (dev, ino), or NULL. */
static const struct ubt_target *leaf_on_file(const struct ubt_target *t,
					     const struct ubt_target *old, uint64_t dev,
					     uint64_t ino)
{
	const struct ubt_target *hit;
	unsigned int i;

	if (t == old)
		return NULL;
	if (!t->nr_children)
		return t->backing_dev == dev && t->backing_ino == ino ? t : NULL;
	for (i = 0; i < t->nr_children; i++) {
		hit = leaf_on_file(t->children[i], old, dev, ino);
		if (hit)
			return hit;
	}
	return NULL;
}

/* A file-backed leaf of n whose file the tree outside old uses too, or NULL. */
static const struct ubt_target *shared_file(const struct ubt_target *root,
					    const struct ubt_target *old,
					    const struct ubt_target *n)
{
	const struct ubt_target *hit;
	unsigned int i;

	if (!n->nr_children)
		return (n->backing_dev || n->backing_ino) &&
			       leaf_on_file(root, old, n->backing_dev, n->backing_ino) ?
			       n : NULL;
	for (i = 0; i < n->nr_children; i++) {
		hit = shared_file(root, old, n->children[i]);
		if (hit)
			return hit;
	}
	return NULL;
}

/* Why the device's promises to the kernel do not hold for n, or NULL. */
static const char *limits_fall_short(const struct ubt_limits *dev, const struct ubt_limits *n)
{
	if (n->logical_block_size > dev->logical_block_size)
		return "its block size is larger than the device's";
	if (n->dma_alignment > dev->dma_alignment)
		return "it needs memory aligned more strictly than the device asks of its clients";
	if (n->max_io_bytes < dev->max_io_bytes)
		return "it takes smaller requests than the device does";
	if (n->read_only && !dev->read_only)
		return "it is read-only";
	if ((dev->discard && !n->discard) || (dev->write_zeroes && !n->write_zeroes))
		return "it lacks discard or write-zeroes, which the device offers";
	if (n->volatile_cache && !dev->volatile_cache)
		return "it has a write cache and the device told the kernel it has none";
	return NULL;
}

int ubt_tree_build_replacement(struct ubt_tree *tree, const struct ubt_target *old,
			       const char *spec_text, uint64_t min_len, struct ubt_target **out,
			       char *err, size_t errlen)
{
	struct subtree_needs need = { 0 }, had = { 0 };
	unsigned int slots, old_slots, nr_nodes = tree->nr_nodes;
	struct ubt_spec_node *spec, **specs;
	bool want_aio = tree->want_aio;
	struct ubt_target *t = NULL;
	const char *why;
	int ret;

	tree->err = err;
	tree->errlen = errlen;
	err[0] = '\0';
	spec = ubt_spec_parse(spec_text, err, errlen);
	if (!spec) {
		ret = -EINVAL;
		goto out;
	}
	specs = realloc(tree->late_specs, (tree->nr_late_specs + 1) * sizeof(*specs));
	if (!specs) {
		ubt_spec_free(spec);
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	tree->late_specs = specs;
	ret = build_node(tree, old->parent, spec->bare ? NULL : spec, spec->name, &t);
	if (ret) {
		ubt_spec_free(spec);
		goto out_undo;
	}
	tree->late_specs[tree->nr_late_specs++] = spec;
	budget(t, old->max_iov_in);
	slots = subtree_slots(t, &need);
	old_slots = subtree_slots(old, &had);
	ret = -EINVAL;
	why = label_taken(tree->root, old, t, t);
	if (why)
		snprintf(err, errlen, "name=%s is given to another node", why);
	else if (t->len < min_len)
		snprintf(err, errlen, "%s is %llu bytes, smaller than the %llu it must hold",
			 t->type->name, (unsigned long long)(t->len << UBT_SECTOR_SHIFT),
			 (unsigned long long)(min_len << UBT_SECTOR_SHIFT));
	else if (shared_file(tree->root, old, t))
		snprintf(err, errlen, "%s's file is in use by another node of this device",
			 t->type->name);
	else if (slots > old_slots || need.max_priv > tree->slot_size - sizeof(struct ubt_io) ||
		 need.bg_tags > had.bg_tags)
		snprintf(err, errlen, "%s needs more per-request state than the node it replaces "
			 "(%s), sized when the device started", t->type->name, old->type->name);
	else if (need.per_queue_state)
		snprintf(err, errlen, "%s keeps per-queue state, which only a starting device sets up",
			 t->type->name);
	else if ((need.data_node && !tree->data_node) || (tree->want_aio && !want_aio))
		snprintf(err, errlen, "%s needs the request data in the server's memory (the aio "
			 "engine, or a node that reads the data), which this device does not keep",
			 t->type->name);
	else if ((why = limits_fall_short(&tree->limits, &t->limits)))
		snprintf(err, errlen, "%s cannot take the place of %s: %s", t->type->name,
			 old->type->name, why);
	else
		ret = 0;
	if (!ret) {
		*out = t;
		goto out;
	}
	destroy_node(t);
out_undo:
	tree->want_aio = want_aio;
	tree->nr_nodes = nr_nodes;	/* a refused node leaves no gap in the indexes */
out:
	tree->err = NULL;
	return ret;
}

int ubt_tree_retire(struct ubt_tree *tree, struct ubt_target *t)
{
	struct ubt_target **r = realloc(tree->retired, (tree->nr_retired + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	tree->retired = r;
	tree->retired[tree->nr_retired++] = t;
	return 0;
}

void ubt_tree_free(struct ubt_tree *tree)
{
	unsigned int i;

	if (!tree)
		return;
	destroy_node(tree->root);
	for (i = 0; i < tree->nr_retired; i++)
		destroy_node(tree->retired[i]);
	free(tree->retired);
	ubt_spec_free(tree->spec);
	for (i = 0; i < tree->nr_late_specs; i++)
		ubt_spec_free(tree->late_specs[i]);
	free(tree->late_specs);
	free(tree->fds);
	free(tree);
}

/* ---- A whole new tree for a running device (reload) -------------------- */

int ubt_tree_shared_claim(const struct ubt_target *t)
{
	const struct ubt_target *leaf;

	if (!t->tree->live)
		return -1;
	leaf = leaf_on_file(t->tree->live->root, NULL, t->backing_dev, t->backing_ino);
	if (!leaf || leaf->claim_fd < 0)
		return -1;
	return fcntl(leaf->claim_fd, F_DUPFD_CLOEXEC, 0);
}

/* A node of n's subtree that keeps state in a file live uses too, or NULL. */
static const struct ubt_target *state_over_live(const struct ubt_target *live,
						const struct ubt_target *n)
{
	const struct ubt_target *hit;
	unsigned int i;

	if (n->keeps_state && shared_file(live, NULL, n))
		return n;
	for (i = 0; i < n->nr_children; i++) {
		hit = state_over_live(live, n->children[i]);
		if (hit)
			return hit;
	}
	return NULL;
}

int ubt_tree_build_next(const struct ubt_tree *live, const char *spec_text,
			struct ubt_tree **out, char *err, size_t errlen)
{
	const struct ubt_target *n;
	struct ubt_tree *tree;
	const char *why;
	int ret;

	ret = build_tree(spec_text, &live->opts, live, &tree, err, errlen);
	if (ret)
		return ret;
	n = state_over_live(live->root, tree->root);
	why = limits_fall_short(&live->limits, &tree->limits);
	if (n)
		snprintf(err, errlen, "%s (node %u) would load the state that the running %s "
			 "keeps writing in the same files; stop the device to change it",
			 n->type->name, n->id, n->type->name);
	else if (why)
		snprintf(err, errlen, "the new stack cannot serve this device: %s", why);
	if (n || why) {
		ubt_tree_free(tree);
		return -EINVAL;
	}
	*out = tree;
	return 0;
}
