/* SPDX-License-Identifier: MIT */
/* Shared by the ublk-target subcommands. */
#ifndef UBT_CLI_H
#define UBT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UBT_VERSION "0.1.0"

/* Exit codes: 0 success, 1 failure, 2 usage error. */
#define EXIT_USAGE 2

/* Print "ublk-target: <msg>" to stderr; returns exit code 1 / EXIT_USAGE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parse the ID of `-n ID`; 0, or EXIT_USAGE after saying what was wrong. */
int cli_parse_id(const char *cmd, const char *arg, int64_t *id);
/*
 * The arguments of a command on one device (-n ID) or, when all is not
 * NULL, every device (--all); --force when force is not NULL; --help
 * prints usage.  0 when parsed; -1 after --help (exit 0); else the exit
 * code after saying what was wrong.
 */
int cli_parse_device_args(const char *cmd, int argc, char **argv, const char *help, int64_t *id,
			  bool *all, bool *force);
/* Print s as a JSON string, quoted and escaped. */
void cli_json_string(const char *s);
/*
 * For --help: every target's text at byte offset `field` of its type (a
 * const char *: message_usage, status_usage), led by the target's name,
 * its lines indented under it.  Targets without one are left out.
 */
void cli_print_targets_text(FILE *f, size_t field);
/* Each line of text: the first led by `first`, the others by `lead`. */
void cli_print_lines(FILE *f, const char *first, const char *lead, const char *text);
/*
 * The current folder as a field of s (ubt_str_put_field), for the daemon to
 * take what relative paths sent to it mean.  0, or 1 with the error printed
 * as cmd's.
 */
struct ubt_str;
int cli_put_cwd(const char *cmd, struct ubt_str *s);
/* Root is needed for every command that talks to the kernel. */
int cli_need_root(const char *cmd);

/* A device-mapper table from FILE (or stdin for "-") as a spec: 0, or the exit code. */
int cli_table_spec(const char *table, char *spec, size_t len);

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_message(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_suspend(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_reload(int argc, char **argv);
/*
 * Rebuild device id's stack from its run record and give it a new daemon:
 * the exit code.  handed_over: its daemon was asked to hand over (restart).
 */
int recover_device(uint32_t id, bool handed_over);

#endif
