/* SPDX-License-Identifier: MIT */
/* brigade.c - the `brigade` tool: main(), the command table and the helpers commands share. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct brg_cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* One row per command, in the order `brigade --help` lists them. */
static const struct brg_cli_command commands[] = {
	{"ls", brg_cli_ls, "list brigade segments in /dev/shm"},
	{"info", brg_cli_info, "describe one segment"},
	{"create", brg_cli_create, "create a named array, optionally filled with a value"},
	{"rm", brg_cli_rm, "remove segments by name (never a non-brigade file)"},
	{"gc", brg_cli_gc, "remove segments whose creator died, unless persistent"},
	{"topo", brg_cli_topo, "show the topology and where a pool's participants would run"},
	{"status", brg_cli_status, "show a running pool's participants, or a stream's state"},
	{"bench", brg_cli_bench, "time kernels and the pool against serial, OpenMP, OpenBLAS, numpy"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fputs("usage: brigade <command> [options] [args]\n"
	      "       brigade --help | --version\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'brigade <command> --help' describes a command.\n"
	      "Exit status: 0 success, 1 failure, 2 usage error.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return BRG_CLI_USAGE;
	}
	const char *name = argv[1];
	int r;
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		r = BRG_CLI_OK;
	} else if (!strcmp(name, "--version")) {
		printf("%s\n", brg_version());
		r = BRG_CLI_OK;
	} else {
		const struct brg_cli_command *cmd = NULL;
		for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
			if (!strcmp(name, commands[i].name))
				cmd = &commands[i];
		if (!cmd) {
			brg_cli_error("unknown %s '%s'", name[0] == '-' ? "option" : "command", name);
			usage(stderr);
			return BRG_CLI_USAGE;
		}
		/* getopt_long keeps state between calls; 0 makes glibc start afresh. */
		optind = 0;
		opterr = 0;
		r = cmd->fn(argc - 1, argv + 1);
	}
	/* Data that never reached stdout (a full disk, a closed pipe) is a failure. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		brg_cli_error("write error on standard output: %s", strerror(errno));
		return BRG_CLI_FAIL;
	}
	return r;
}

/* ---- helpers declared in cli.h ---- */

void brg_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("brigade: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void brg_cli_error_code(const char *what, int code)
{
	brg_cli_error("%s: %s (%s)", what, brg_strerror(code), brg_err_name(code));
}

int brg_cli_help(const char *text)
{
	fputs(text, stdout);
	return BRG_CLI_OK;
}

int brg_cli_usage_error(const char *cmd, const char *text, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "brigade %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fputs(text, stderr);
	return BRG_CLI_USAGE;
}

int brg_cli_bad_option(const char *cmd, const char *text, int c, char **argv)
{
	/* A long option is named by the argument getopt_long just stepped over, a short one
	 * only by optopt (it may sit inside a cluster such as -xy). */
	const char *last = optind > 0 ? argv[optind - 1] : "";
	char shortopt[3] = {'-', (char)optopt, 0};
	int is_long = !strncmp(last, "--", 2);
	const char *opt = is_long || !optopt ? last : shortopt;
	if (c == ':')
		return brg_cli_usage_error(cmd, text, "option '%s' needs an argument", opt);
	if (is_long && optopt)
		return brg_cli_usage_error(cmd, text, "option '%s' takes no argument", opt);
	return brg_cli_usage_error(cmd, text, "unknown option '%s'", opt);
}

int brg_cli_parse_size(const char *text, size_t *out)
{
	if (!text || !*text)
		return -1;
	size_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (__builtin_mul_overflow(v, (size_t)10, &v) ||
		    __builtin_add_overflow(v, (size_t)(*p - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

int brg_cli_parse_shape(const char *text, size_t shape[BRG_MAX_NDIM])
{
	char field[32];
	int ndim = 0;
	const char *p = text;
	for (;;) {
		size_t len = strcspn(p, ",");
		/* 20 digits hold SIZE_MAX; anything longer is junk or overflow either way. */
		if (ndim == BRG_MAX_NDIM || len == 0 || len >= sizeof field)
			return -1;
		memcpy(field, p, len);
		field[len] = 0;
		if (brg_cli_parse_size(field, &shape[ndim]))
			return -1;
		ndim++;
		if (!p[len])
			return ndim;
		p += len + 1;
	}
}

void brg_cli_format_shape(char *buf, size_t len, int ndim, const size_t *shape)
{
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < ndim && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%zu", i ? "x" : "", shape[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void brg_cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* Bytes >= 0x80 pass through: JSON text is UTF-8, and names are ASCII. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}
