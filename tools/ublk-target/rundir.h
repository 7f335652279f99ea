/* SPDX-License-Identifier: MIT */
/*
 * The run directory: one file per device the daemon serves, holding what
 * `list`, `delete` and `recover` need (pid, geometry, the spec, the
 * cookie).  It outlives a daemon that dies: `recover` rebuilds the stack
 * from it.  $UBT_RUN_DIR
 * overrides the default /run/ublk-target.
 */
#ifndef UBT_RUNDIR_H
#define UBT_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct run_record {
	uint32_t id;
	pid_t pid;
	unsigned int queues;
	unsigned int depth;
	unsigned int lbs;
	uint64_t size;
	char copy_mode[16];		/* the mode in use: copy, zero-copy, user-copy */
	unsigned int engine;		/* enum ubt_engine: file leaves that name none */
	char recovery[16];		/* in effect: none, reissue or fail-io */
	uint64_t cookie;		/* the device's, checked by a recovery */
	char spec[8192];
};

const char *rundir_path(void);
int rundir_write(const struct run_record *r);
/* The longest record: its keys and a whole spec. */
#define RUNDIR_RECORD_MAX	(sizeof(((struct run_record *)0)->spec) + 512)
/*
 * Read device id's record: 0, -ENOENT (none), or -EUCLEAN when it is
 * damaged (rundir_damage() says how: a record is never half believed).
 */
int rundir_read(uint32_t id, struct run_record *r);
const char *rundir_damage(void);
/* rundir_read(), saying in one line why there is no record to use: 0 or the exit code. */
int rundir_need(uint32_t id, struct run_record *r);
/* A record as its file holds it; the length it needs (snprintf's). */
int rundir_format(const struct run_record *r, char *buf, size_t len);
/* A record's text (len bytes) into r: 0, or -EUCLEAN with why set. */
int rundir_parse(const char *text, size_t len, struct run_record *r, char *why, size_t whylen);
int rundir_remove(uint32_t id);
/* Ids with a record, ascending; returns the count (at most max). */
int rundir_list(uint32_t *ids, int max);
/* Whether pid is alive and is an ublk-target process. */
bool rundir_daemon_alive(pid_t pid);
/* Wait up to ms milliseconds for pid to end; whether it has. */
bool rundir_wait_daemon_gone(pid_t pid, int ms);

/*
 * One hand-over at a time: `recover`, `restart` and `recover --watch` hold
 * this lock while they give a device a new daemon, so a watcher that sees
 * a daemon end during a restart waits, then finds the restart's daemon
 * serving instead of racing it for the device.  0, or 1 once it has said
 * why it could not (cli_error).
 */
int rundir_lock(void);
void rundir_unlock(void);
/* In a daemon just forked under the lock: drop the inherited descriptor. */
void rundir_lock_forget(void);

#endif
