/* SPDX-License-Identifier: MIT */
/*
 * The target SDK: what a target module implements and what the core
 * offers it.  Modelled on device-mapper's struct target_type.
 *
 * A target type owns its whole surface: its spec syntax (the constructor
 * reads its arguments through ubt_args_*), its device-mapper name and
 * table line in both directions, its status line, its messages and their
 * grammar, which of its arguments are paths (read with ubt_args_path),
 * its claims on backing files (ubt_target_claim), and its command-line
 * shorthand.  Core and the CLI reach a type only through the registry:
 * they name none.
 *
 * A type is built into ublk-target or as a module ubt-NAME.so loaded by
 * name; one written outside this tree builds against the installed
 * headers (pkg-config ublk-target) and is loaded the same way.  The data
 * path is in ubt/io.h, the device-mapper table helpers in ubt/table.h.
 */
#ifndef UBT_TARGET_H
#define UBT_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubt/io.h"

/*
 * The layout of the structures below.  A type records the ABI it was
 * built for (UBT_TARGET_REGISTER does it) and the registry refuses a
 * module built for another.
 */
#define UBT_TARGET_ABI		2

struct ubt_tree;
struct ubt_args;
struct ubt_spec_arg;
struct ubt_table_line;
struct ubt_table_out;
struct ubt_shorthand;

/* Limits a device exposes; each node may restrict what its children allow. */
struct ubt_limits {
	uint32_t logical_block_size;	/* bytes */
	uint32_t physical_block_size;	/* bytes */
	uint32_t io_min;		/* bytes, 0: none */
	uint32_t io_opt;		/* bytes, 0: none */
	uint32_t max_io_bytes;
	uint32_t discard_granularity;	/* bytes */
	uint32_t dma_alignment;		/* bytes the memory of a request must be aligned to */
	/*
	 * Requests should not cross multiples of this many sectors (dm-stripe's
	 * chunk).  Counted from the node's own start, so it is not inherited:
	 * only the root's reaches the device.
	 */
	uint32_t chunk_sectors;
	bool read_only;
	bool discard;
	bool write_zeroes;
	bool volatile_cache;		/* flushes matter */
	bool fua;
};

/*
 * The type's map or end_io reads or writes the bytes of an I/O itself
 * (fills a read, checksums, copies between children).  A device with such
 * a node keeps request data in memory the server can address (copy or user
 * copy); without one it may leave the data in the client's pages (zero
 * copy), where iov_base is an offset that must not be dereferenced.
 */
#define UBT_TARGET_NEEDS_DATA	(1U << 0)
/*
 * A bare word where the spec expects a node means a node of this type with
 * the word as its first argument: `a.img` is file(a.img).  One type has it.
 */
#define UBT_TARGET_BARE_LEAF	(1U << 1)
/*
 * The node's children lie end to end in it, in order: `status` places
 * each one after the one before, a device-mapper table of several lines is
 * a node of this type with one child per line, and such a node prints as
 * one line per child.  One type has it.
 */
#define UBT_TARGET_END_TO_END	(1U << 2)

struct ubt_target_type {
	unsigned int abi;		/* UBT_TARGET_ABI: set by UBT_TARGET_REGISTER */
	const char *name;
	unsigned int version[3];
	unsigned int flags;		/* UBT_TARGET_* */
	/* The spec form on one line: "file(PATH, offset=SIZE, size=SIZE, readonly)". */
	const char *usage;
	/*
	 * What `status` prints for the node after its type, one or more
	 * lines of text for `status --help` (optional).
	 */
	const char *status_usage;
	/*
	 * The messages the node takes, one per line, "WORDS  what it does",
	 * for `message --help` and `features` (optional; with .message).
	 */
	const char *message_usage;
	size_t per_io_size;		/* private bytes per I/O, preallocated per tag */
	unsigned int max_fanout;	/* child I/Os one I/O can need (0: a leaf) */

	/* ---- Construction and the data path ---- */
	int (*ctr)(struct ubt_target *t, struct ubt_args *args);
	void (*dtr)(struct ubt_target *t);
	int (*map)(struct ubt_target *t, struct ubt_io *io);
	/* A child I/O of io finished with res; may rewrite res (optional). */
	int (*end_io)(struct ubt_target *t, struct ubt_io *io, struct ubt_io *child, int res);
	void (*io_hints)(struct ubt_target *t, struct ubt_limits *lim);
	/*
	 * Size the node's per-I/O state once its input is known: t->max_iov_in
	 * is the most iovecs an incoming I/O carries; set t->per_io_size,
	 * t->max_fanout and t->child_max_iov (the most a child I/O will
	 * carry).  Optional: the defaults are the type's per_io_size and
	 * max_fanout, and child I/Os as wide as the input.
	 */
	void (*io_budget)(struct ubt_target *t);
	/*
	 * Per-queue resources of the node (optional): called on every queue,
	 * the short-lived ones of ubt_node_io_open() included, before it runs
	 * an I/O, and queue_exit when it ends.  Start no background work here:
	 * that is poke's.
	 */
	int (*queue_init)(struct ubt_target *t, struct ubt_queue *q);
	void (*queue_exit)(struct ubt_target *t, struct ubt_queue *q);
	/*
	 * Start or carry on background work (optional), on a queue that serves
	 * the device: on each such queue once it has started, and on queue 0
	 * after ubt_target_poke() (a message whose change needs I/O).
	 */
	void (*poke)(struct ubt_target *t, struct ubt_queue *q);

	/* ---- What users see ---- */
	/* The node's status line, like dmsetup status (optional). */
	int (*status)(struct ubt_target *t, char *buf, size_t len);
	/*
	 * A message (optional), like dmsetup message: argv are the words after
	 * the node; a reply goes to out.  0, or a negative errno with one line
	 * in out saying why it was refused.
	 */
	int (*message)(struct ubt_target *t, int argc, char **argv, char *out, size_t len);
	/*
	 * Background work that has an end (a mirror's resync): how much of it
	 * is done, in units of what (optional; `status --wait` draws it).
	 */
	void (*progress)(struct ubt_target *t, uint64_t *done, uint64_t *total,
			 const char **what);
	/* The `create TARGET --OPTION...` shorthand (optional; ubt/shorthand.h). */
	const struct ubt_shorthand *shorthand;

	/* ---- Device-mapper tables (ubt/table.h; all optional) ---- */
	/* The dm target types whose table lines table_parse takes: NULL-ended. */
	const char *const *dm_names;
	/* One table line of one of dm_names, as this type's spec node. */
	int (*table_parse)(struct ubt_table_line *l);
	/* The node as one table line: "<dm type> <args>", without start and length. */
	int (*table_print)(const struct ubt_target *t, struct ubt_table_out *o);
	/*
	 * The dm device the node's bytes are, when they are a plain run of one
	 * file or block device (a file, a window of one): its path and the
	 * sector where the node starts in it.  What a table line names for a
	 * child: `<dev> <offset>`.
	 */
	int (*dm_device)(const struct ubt_target *t, const char **path, uint64_t *sector);
	/*
	 * A dm `<dev> <offset>` pair as a spec node of len sectors, written to
	 * the line's spec: what every type's table_parse gets from
	 * ubt_table_put_dev().  One type has it.
	 */
	int (*dm_window)(struct ubt_table_line *l, const char *path, uint64_t sector,
			 uint64_t len);

	struct ubt_target_type *next;	/* registry link, owned by the core */
};

struct ubt_target {
	const struct ubt_target_type *type;
	struct ubt_tree *tree;		/* opaque: use the ubt_target_* accessors */
	struct ubt_target *parent;
	struct ubt_target **children;
	unsigned int nr_children;
	unsigned int id;		/* pre-order index in the tree */
	const char *label;		/* name=LABEL from the spec, or NULL */
	struct ubt_spec_arg *spec_arg;	/* the core's: where its parent's spec writes it */
	uint64_t len;			/* sectors */
	struct ubt_limits limits;	/* what this node can serve */
	void *private;
	/* Per-I/O budget, settled after construction (see io_budget). */
	size_t per_io_size;
	unsigned int max_fanout;
	unsigned int max_iov_in;
	unsigned int child_max_iov;
	/*
	 * Background I/Os (ubt_bg_io) this node may have in flight at once
	 * on one queue; each queue sets aside that many tags for it.
	 */
	unsigned int bg_tags;
	/*
	 * This node reads or writes the bytes of its I/Os in the server's
	 * memory (UBT_TARGET_NEEDS_DATA, or a leaf on Linux AIO, which cannot
	 * reach pages registered in io_uring): the device keeps request data
	 * there (copy or user copy), never zero copy.
	 */
	bool needs_data;
};

/* ---- The device a node is built for ------------------------------------ */

/*
 * The constructor is about to load state from its children that the node
 * keeps writing while it runs (a cache's metadata, a mirror's disk log):
 * call it before the first read.  Refused, error set, when those children
 * are on files a running stack uses, one this stack is built to replace
 * (a reload): the two would write the same state.  0 or a negative errno.
 */
int ubt_target_keeps_state(struct ubt_target *t);

/* The device's logical block size in bytes (create --lbs). */
uint32_t ubt_target_block_size(const struct ubt_target *t);
/* The largest request the device may send, in bytes: what splits are budgeted for. */
uint32_t ubt_target_max_io_bytes(const struct ubt_target *t);
/* The engine a leaf uses where its spec names none (create --engine). */
enum ubt_engine ubt_target_engine(const struct ubt_target *t);
/*
 * Have a queue thread call every node's poke op soon: for a message
 * handler (any thread) whose change needs I/O.  0 (also when no queue
 * runs: the next to start pokes), or a negative errno when the poke could
 * not be sent.
 */
int ubt_target_poke(struct ubt_target *t);

/* ---- Constructor helpers ---------------------------------------------- */

/* Report a constructor error: "node: message".  Returns -err for chaining. */
int ubt_target_error(struct ubt_target *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Arguments of a node.  Each accessor marks what it read; an argument no
 * accessor asked for is an error once the constructor returns.
 */
unsigned int ubt_args_positional(struct ubt_args *a);
/* Whether key= was given (as a word or a node). */
bool ubt_args_has(struct ubt_args *a, const char *key);
/* Whether positional i was read already (a flag word ubt_args_flag took). */
bool ubt_args_taken(struct ubt_args *a, unsigned int i);
/* Positional i as a word (NULL when it is a node). */
const char *ubt_args_word(struct ubt_args *a, unsigned int i);
/*
 * Positional i as a path (NULL when it is a node or absent), made absolute
 * against the directory the spec was given in: the tree's spec then shows
 * it absolute (run records, `list`), and a daemon elsewhere builds it
 * again.  How a type says which of its arguments are paths.
 */
const char *ubt_args_path(struct ubt_target *t, struct ubt_args *a, unsigned int i);
/* Build positional i (a node, or a bare word: a bare-leaf node) as a child. */
int ubt_args_child(struct ubt_target *t, struct ubt_args *a, unsigned int i);
/* Build key=NODE (or key=WORD, a bare-leaf node) as a child; -ENOENT when absent. */
int ubt_args_key_child(struct ubt_target *t, struct ubt_args *a, const char *key);
/* key=VALUE as a string; NULL when absent or a node. */
const char *ubt_args_str(struct ubt_args *a, const char *key);
/* key=SIZE with an optional K/M/G/T suffix; 0 present, -ENOENT absent, -EINVAL bad. */
int ubt_args_size(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out);
/* key=N, a whole number; 0 present, -ENOENT absent, -EINVAL bad. */
int ubt_args_uint(struct ubt_target *t, struct ubt_args *a, const char *key, uint64_t *out);
/* A bare positional word used as a flag ("readonly"). */
bool ubt_args_flag(struct ubt_args *a, const char *word);
/*
 * The whole constructor of a childless node that is only a size (null,
 * zero, error): size=SIZE, required, a multiple of 512; example shows
 * the form in the error messages.
 */
int ubt_args_only_size(struct ubt_target *t, struct ubt_args *a, const char *example);

/*
 * Build every positional argument not taken already (flag words read
 * first) as a child, 1 .. CONFIG_MAX_FANOUT of them; with unique_files,
 * refuse a backing file used under two children.
 */
int ubt_build_children(struct ubt_target *t, struct ubt_args *args, const char *example,
		       bool unique_files);

/* ---- Backing files ----------------------------------------------------- */

/*
 * Claim the file or block device behind fd (path names it in messages)
 * for the device, so that no second device, nor a `bench`, writes it
 * behind this one's back: exclusively, or shared when the leaf only reads
 * it.  Windows of one file within one stack share one claim; a stack built
 * to take a running one's place (reload) shares the running one's.  The
 * claim lasts as long as the tree.  0, or a negative errno with the
 * node's error set ("PATH is in use by another ublk-target device").
 */
int ubt_target_claim(struct ubt_target *t, int fd, const char *path, bool shared);
/* The path of a backing file used under both a and b, or NULL. */
const char *ubt_target_shared_file(const struct ubt_target *a, const struct ubt_target *b);

/*
 * Register a backing fd with the device; returns its fixed-file index.  A
 * file opened once the queues registered theirs (a node built into a
 * running tree) gets UBT_FD_PLAIN + fd instead: the leaf helpers then use
 * the plain descriptor.
 */
int ubt_target_add_fd(struct ubt_target *t, int fd);
#define UBT_FD_PLAIN		(1 << 24)
/*
 * Close a descriptor ubt_target_add_fd() returned index for (the node's
 * destructor does, not close()): the tree forgets it, so that a node
 * destroyed later, whose destructor still reads or writes a child through
 * node I/O, does not register a closed descriptor or one the number was
 * given to since.
 */
void ubt_target_close_fd(struct ubt_target *t, int index);
/*
 * The node will call ubt_leaf_rw_aio(): every queue gets a Linux AIO
 * context, and the node needs its data in our memory (needs_data).
 */
void ubt_target_use_aio(struct ubt_target *t);

/* ---- I/O on a node outside the queues ----------------------------------- */

/*
 * Read or write a node before any queue runs (a constructor loading
 * metadata from a child) or after they all stopped (a destructor's last
 * words): the node's own map and end_io, on a small ring of the calling
 * thread's, with no request of the device's in it.  Any node serves, a
 * stack of them too; background work a node starts meanwhile runs on that
 * ring until the call returns (a node's poke is never called there).
 *
 * ubt_node_io_open() sets up for node t; each ubt_node_io() is one
 * request, waited for: op READ or WRITE (buf, len bytes at byte offset
 * off; both block aligned), or FLUSH (buf NULL, len 0); flags UBT_IO_FUA.
 * Returns 0 or the request's negative errno.
 */
struct ubt_node_io;
int ubt_node_io_open(struct ubt_target *t, struct ubt_node_io **out);
int ubt_node_io(struct ubt_node_io *n, enum ubt_op op, unsigned int flags, uint64_t off,
		void *buf, size_t len);
void ubt_node_io_close(struct ubt_node_io *n);
/* Make what node t holds durable (a FLUSH through it): 0 or a negative errno. */
int ubt_target_sync(struct ubt_target *t);

/* ---- Replacing a child while the device runs --------------------------- */

/*
 * Build spec_text into a node that can take the place of t's child i in
 * the running tree (a mirror's hot replace): at least min_len sectors
 * long, no file that the tree outside that child uses, I/O that fits the
 * per-tag slots sized for the child, and what the device promised the
 * kernel (block size, alignment, discard, flush).  The node takes the
 * next index; nothing of it runs until ubt_target_swap_child() puts it in,
 * in the tree and in the tree's spec (ubt_tree_spec: what a recovery
 * rebuilds, what `list` shows).
 * On failure err says why and nothing stays open.
 */
int ubt_target_build_child(struct ubt_target *t, unsigned int i, const char *spec_text,
			   uint64_t min_len, struct ubt_target **out, char *err, size_t errlen);
/*
 * Put n (from ubt_target_build_child) in place of child i; the old node
 * stays open, unused, until the tree goes, since I/O may still be in
 * flight on it.  The caller keeps queues from choosing the child meanwhile.
 */
void ubt_target_swap_child(struct ubt_target *t, unsigned int i, struct ubt_target *n);
/* Destroy n (from ubt_target_build_child) instead of swapping it in. */
void ubt_target_discard_child(struct ubt_target *t, struct ubt_target *n);

/* ---- Registry --------------------------------------------------------- */

void ubt_register_target(struct ubt_target_type *type);

/* Register a type at load time, whether linked in or loaded as a module. */
#define UBT_TARGET_REGISTER(type)					\
	static void __attribute__((constructor)) ubt_register_##type(void) \
	{								\
		(type).abi = UBT_TARGET_ABI;				\
		ubt_register_target(&(type));				\
	}

#endif
