/* SPDX-License-Identifier: MIT */
/* cli.h - what the `brigade` tool's command files share: the command signature, the command
 * functions main() dispatches to, and the helpers for options, errors and JSON. */
#ifndef BRG_CLI_H
#define BRG_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "brigade.h"

/* Exit statuses of every command. */
#define BRG_CLI_OK 0
#define BRG_CLI_FAIL 1
#define BRG_CLI_USAGE 2

#if defined(__GNUC__)
#define BRG_CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BRG_CLI_PRINTF(f, a)
#endif

/*
 * A command gets argv[0] = its own name ("ls") and the arguments after it, with getopt_long
 * reset (optind 0, opterr 0); it returns one of BRG_CLI_*.  Adding a command: write the
 * function in a cmd_<group>.c file, declare it here, add a row to the table in brigade.c and
 * the file to cli_sources in tools/meson.build.
 */

/* cmd_segment.c */
extern int brg_cli_ls(int argc, char **argv);
extern int brg_cli_info(int argc, char **argv);
extern int brg_cli_create(int argc, char **argv);
extern int brg_cli_rm(int argc, char **argv);
extern int brg_cli_gc(int argc, char **argv);

/* cmd_pool.c */
extern int brg_cli_topo(int argc, char **argv);
extern int brg_cli_status(int argc, char **argv);

/* bench/bench.c */
int brg_cli_bench(int argc, char **argv);

/* Option table pieces every command uses.  Long-only options take values from 256 up so
 * getopt_long never mistakes them for characters; the leading ':' of SHORTOPTS makes it
 * return ':' for a missing argument and '?' for the rest. */
#define BRG_CLI_OPT_HELP {"help", no_argument, NULL, 'h'}
#define BRG_CLI_OPT_END {NULL, 0, NULL, 0}
#define BRG_CLI_SHORTOPTS ":h"

/* ---- helpers, in brigade.c ---- */

/* "brigade: <message>\n" on stderr. */
void brg_cli_error(const char *fmt, ...) BRG_CLI_PRINTF(1, 2);
/* "brigade: <what>: <brg_strerror(code)> (<brg_err_name(code)>)\n" on stderr. */
void brg_cli_error_code(const char *what, int code);

/* Prints usage on stdout (for --help); returns BRG_CLI_OK. */
int brg_cli_help(const char *usage);
/* "brigade <cmd>: <message>\n" then usage on stderr; returns BRG_CLI_USAGE. */
int brg_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
	BRG_CLI_PRINTF(3, 4);
/*
 * Turns what getopt_long returned for an option it did not accept ('?' unknown option or
 * unexpected argument, ':' missing argument; the optstring must start with ':') into a message
 * and usage on stderr; returns BRG_CLI_USAGE.
 */
int brg_cli_bad_option(const char *cmd, const char *usage, int c, char **argv);

/* Parses a decimal integer (digits only: no sign, blank or base prefix) into out; 0, or -1 for
 * junk or a value beyond SIZE_MAX. */
int brg_cli_parse_size(const char *text, size_t *out);
/* Parses "1000,1000": 1 to BRG_MAX_NDIM comma-separated brg_cli_parse_size values; returns the
 * number of dimensions, or -1. */
int brg_cli_parse_shape(const char *text, size_t shape[BRG_MAX_NDIM]);
/* Writes "1000x1000" (truncated to fit len, always terminated) into buf. */
void brg_cli_format_shape(char *buf, size_t len, int ndim, const size_t *shape);

/* Writes s as a JSON string literal, quotes included. */
void brg_cli_json_string(FILE *out, const char *s);

#endif
