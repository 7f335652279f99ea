// SPDX-License-Identifier: MIT
/*
 * Claims on backing files: the one record of which file each leaf of a
 * tree uses, and the lock that keeps a second device off it.
 *
 * A claim is an flock on an open file description of the file, exclusive
 * for a writer and shared for a reader, held by a descriptor the claim
 * keeps until the tree is freed.  The lock is the description's, so it
 * also lasts while an io_uring still holds the leaf's descriptor after
 * the process ends.  Windows of one file in one tree share one claim; a
 * tree built to take a running one's place (reload) shares the running
 * tree's description, so the file is never unclaimed in between.
 *
 * Linux turns a shared flock into an exclusive one by dropping it first,
 * so a refused upgrade takes the shared lock back, and an upgrade made
 * for something that does not come to serve (a refused replacement, a
 * reload never resumed) is undone when it goes.
 *
 * Each leaf's use of a claim is recorded with the node, which answers
 * every "same file twice?" question with one walk: under two children of
 * a stripe, a mirror's log and a leg, a replacement and the rest of the
 * tree, a reloaded node that keeps state and the running stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

struct ubt_claim {
	uint64_t dev, ino;		/* a block device: (rdev, 0) */
	int fd;				/* holds the lock */
	bool shared;
	bool from_live;			/* the running tree's description (reload) */
	bool upgraded;			/* exclusive for a later use than the first */
	char *path;
};

bool tree_node_under(const struct ubt_target *t, const struct ubt_target *top)
{
	for (; t; t = t->parent)
		if (t == top)
			return true;
	return false;
}

static struct ubt_claim *find_claim(const struct ubt_tree *tree, uint64_t dev, uint64_t ino)
{
	unsigned int i;

	for (i = 0; i < tree->nr_claims; i++)
		if (tree->claims[i]->dev == dev && tree->claims[i]->ino == ino)
			return tree->claims[i];
	return NULL;
}

static void release(struct ubt_claim *c)
{
	/* A reload that never came to serve: the running tree only reads it. */
	if (c->from_live && c->upgraded)
		flock(c->fd, LOCK_SH | LOCK_NB);
	close(c->fd);
	free(c->path);
	free(c);
}

static int add_use(struct ubt_tree *tree, const struct ubt_target *t, struct ubt_claim *c,
		   bool shared)
{
	struct ubt_claim_use *u = realloc(tree->uses, (tree->nr_uses + 1) * sizeof(*u));

	if (!u)
		return -ENOMEM;
	tree->uses = u;
	tree->uses[tree->nr_uses++] = (struct ubt_claim_use){ .t = t, .c = c, .shared = shared };
	return 0;
}

/* Make c's lock exclusive; on refusal it keeps its shared lock. */
static int upgrade(struct ubt_claim *c)
{
	int ret;

	if (!flock(c->fd, LOCK_EX | LOCK_NB)) {
		c->shared = false;
		c->upgraded = true;
		return 0;
	}
	ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
	flock(c->fd, LOCK_SH | LOCK_NB);
	return ret;
}

/* Take the lock on c->fd, waiting a moment for a device deleted just now. */
static int lock(struct ubt_claim *c, bool shared)
{
	int i;

	/*
	 * A device deleted a moment ago may still hold it: io_uring drops its
	 * file references after the process is gone.  Give that 2 seconds.
	 */
	for (i = 0; i < 100; i++) {
		if (!flock(c->fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			return -errno;
		usleep(20000);
	}
	return -EBUSY;
}

static int in_use(struct ubt_target *t, const char *path, bool shared, int err)
{
	if (err == -EBUSY)
		return ubt_target_error(t, EBUSY, "%s is in use by another ublk-target device%s",
					path, shared ? " that writes it" : "");
	return ubt_target_error(t, -err, "cannot lock %s: %s", path, strerror(-err));
}

int ubt_target_claim(struct ubt_target *t, int fd, const char *path, bool shared)
{
	struct ubt_tree *tree = t->tree;
	struct ubt_claim *c, *live;
	struct stat st;
	struct ubt_claim **claims;
	int ret;

	if (fstat(fd, &st))
		return ubt_target_error(t, errno, "cannot stat %s: %s", path, strerror(errno));
	c = find_claim(tree, S_ISBLK(st.st_mode) ? (uint64_t)st.st_rdev : (uint64_t)st.st_dev,
		       S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_ino);
	if (c) {
		/* Another window of a file this tree has: one claim, made exclusive if need be. */
		if (c->shared && !shared && (ret = upgrade(c)))
			return in_use(t, path, false, ret);
		return add_use(tree, t, c, shared) ? ubt_target_error(t, ENOMEM, "out of memory") : 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		return ubt_target_error(t, ENOMEM, "out of memory");
	}
	c->dev = S_ISBLK(st.st_mode) ? (uint64_t)st.st_rdev : (uint64_t)st.st_dev;
	c->ino = S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_ino;
	live = tree->live ? find_claim(tree->live, c->dev, c->ino) : NULL;
	c->shared = live ? live->shared : shared;
	/* The running stack's description, or this leaf's own. */
	c->fd = fcntl(live ? live->fd : fd, F_DUPFD_CLOEXEC, 0);
	c->from_live = live != NULL;
	if (c->fd < 0) {
		ret = ubt_target_error(t, errno, "%s: %s", path, strerror(errno));
		free(c->path);
		free(c);
		return ret;
	}
	ret = !live ? lock(c, shared) : c->shared && !shared ? upgrade(c) : 0;
	claims = ret ? NULL : realloc(tree->claims, (tree->nr_claims + 1) * sizeof(*claims));
	if (ret || !claims || add_use(tree, t, c, shared)) {
		ret = ret ? in_use(t, path, shared && !live, ret) :
			    ubt_target_error(t, ENOMEM, "out of memory");
		if (claims)
			tree->claims = claims;
		release(c);
		return ret;
	}
	tree->claims = claims;
	tree->claims[tree->nr_claims++] = c;
	return 0;
}

/*
 * Back to a shared lock when only readers are left (a writer refused its
 * place); never below what the running tree took on a description it
 * shares with us.
 */
static void relax(struct ubt_tree *tree, struct ubt_claim *c)
{
	unsigned int i;

	if (c->shared || (c->from_live && !c->upgraded))
		return;
	for (i = 0; i < tree->nr_uses; i++)
		if (tree->uses[i].c == c && !tree->uses[i].shared)
			return;
	if (!flock(c->fd, LOCK_SH | LOCK_NB)) {
		c->shared = true;
		c->upgraded = false;
	}
}

void claims_adopt(struct ubt_tree *tree)
{
	unsigned int i;

	/* The descriptions are this tree's own now, the locks what it needs. */
	for (i = 0; i < tree->nr_claims; i++)
		tree->claims[i]->from_live = tree->claims[i]->upgraded = false;
}

void claims_drop(struct ubt_tree *tree, const struct ubt_target *t)
{
	unsigned int i, j, k;

	for (i = 0; i < tree->nr_uses;) {
		struct ubt_claim *c = tree->uses[i].c;

		if (tree->uses[i].t != t) {
			i++;
			continue;
		}
		tree->uses[i] = tree->uses[--tree->nr_uses];
		for (j = 0; j < tree->nr_uses && tree->uses[j].c != c; j++)
			;
		if (j < tree->nr_uses) {
			relax(tree, c);
			continue;
		}
		/* Nobody uses it any more: a node that failed leaves nothing locked. */
		for (k = 0; k < tree->nr_claims && tree->claims[k] != c; k++)
			;
		tree->claims[k] = tree->claims[--tree->nr_claims];
		release(c);
	}
}

void claims_retire(struct ubt_tree *tree, const struct ubt_target *t)
{
	unsigned int i;

	for (i = 0; i < tree->nr_uses; i++)
		if (tree->uses[i].t && tree_node_under(tree->uses[i].t, t))
			tree->uses[i].t = NULL;
}

void claims_free(struct ubt_tree *tree)
{
	unsigned int i;

	for (i = 0; i < tree->nr_claims; i++)
		release(tree->claims[i]);
	free(tree->claims);
	free(tree->uses);
	tree->claims = NULL;
	tree->uses = NULL;
	tree->nr_claims = tree->nr_uses = 0;
}

const char *ubt_target_shared_file(const struct ubt_target *a, const struct ubt_target *b)
{
	const struct ubt_tree *tree = a->tree;
	unsigned int i, j;

	for (i = 0; i < tree->nr_uses; i++) {
		if (!tree_node_under(tree->uses[i].t, a))
			continue;
		for (j = 0; j < tree->nr_uses; j++)
			if (tree->uses[j].c == tree->uses[i].c && tree_node_under(tree->uses[j].t, b))
				return tree->uses[i].c->path;
	}
	return NULL;
}

const char *claims_shared_outside(const struct ubt_tree *tree, const struct ubt_target *in,
				  const struct ubt_target *except)
{
	unsigned int i, j;

	for (i = 0; i < tree->nr_uses; i++) {
		if (!tree_node_under(tree->uses[i].t, in))
			continue;
		for (j = 0; j < tree->nr_uses; j++) {
			const struct ubt_target *o = tree->uses[j].t;

			/* A retired node's use (NULL) is nobody's: its file may come back. */
			if (o && tree->uses[j].c == tree->uses[i].c && !tree_node_under(o, in) &&
			    !(except && tree_node_under(o, except)))
				return tree->uses[i].c->path;
		}
	}
	return NULL;
}

bool claims_from_live(const struct ubt_tree *tree, const struct ubt_target *t)
{
	unsigned int i;

	for (i = 0; i < tree->nr_uses; i++)
		if (tree->uses[i].c->from_live && tree_node_under(tree->uses[i].t, t))
			return true;
	return false;
}
