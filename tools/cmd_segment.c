/* SPDX-License-Identifier: MIT */
/* cmd_segment.c - the commands that work on segments in /dev/shm: ls, info, create, rm, gc. */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dtypes.h"

/* Long-only options get values past any character so getopt_long never mistakes them. */
enum {
	OPT_JSON = 256,
	OPT_ALL,
	OPT_ANY_OWNER,
	OPT_DTYPE,
	OPT_SHAPE,
	OPT_FILL,
	OPT_PERSISTENT,
	OPT_TEMPORARY,
	OPT_SMALL_PAGES,
	OPT_MODE,
	OPT_DRY_RUN,
};


static const char *kind_name(int kind)
{
	static const char *const names[] = {"array", "pool", "lock", "event", "barrier", "stream"};
	return kind >= 0 && kind <= BRG_KIND_STREAM ? names[kind] : "?";
}

static void print_json(FILE *out, const brg_segment_info *in)
{
	fputs("{\"name\": ", out);
	brg_cli_json_string(out, in->name);
	fprintf(out, ", \"kind\": \"%s\", \"dtype\": ", kind_name(in->kind));
	brg_cli_json_string(out, brg_dtype_name(in->dtype));
	fputs(", \"shape\": [", out);
	for (int i = 0; i < in->ndim; i++)
		fprintf(out, "%s%zu", i ? ", " : "", in->shape[i]);
	fprintf(out,
		"], \"nbytes\": %zu, \"file_bytes\": %zu, \"mode\": \"%04o\", \"creator_pid\": %" PRId32
		", \"creator_uid\": %" PRIu32 ", \"alive\": %s, \"persistent\": %s, \"shared\": %s"
		", \"created_ns\": %" PRIu64 ", \"generation\": %" PRIu64 "}",
		in->nbytes, in->file_bytes, in->mode, in->creator_pid, in->creator_uid,
		in->creator_alive ? "true" : "false",
		(in->flags & BRG_CREATE_PERSISTENT) ? "true" : "false",
		(in->flags & BRG_CREATE_SHARED) ? "true" : "false", in->created_ns, in->generation);
}

/* A JSON array, one object per line so that line tools still work on it. */
static void print_json_list(FILE *out, const brg_segment_info *v, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n " : "\n ", out);
		print_json(out, &v[i]);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

/* Segments gathered by brg_segment_foreach, for commands that print after a full pass. */
struct seglist {
	brg_segment_info *v;
	size_t n, cap;
};

static int seglist_add(struct seglist *l, const brg_segment_info *info)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 16;
		brg_segment_info *nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = *info;
	return 0;
}

static int collect(const brg_segment_info *info, void *userdata)
{
	return seglist_add(userdata, info);
}

/* ---- ls ---- */

static const char ls_usage[] =
	"usage: brigade ls [--json] [--all]\n"
	"\n"
	"Lists the brigade segments (arrays and pool control blocks) in /dev/shm, by name.\n"
	"Files that are not valid brigade segments are left out.\n"
	"\n"
	"  --json   one JSON array of objects instead of a table\n"
	"  --all    include other users' segments (default: only the caller's)\n"
	"  -h, --help\n";

static void print_table(const brg_segment_info *v, size_t n)
{
	char shape[BRG_MAX_NDIM * 21 + 1], num[32];
	int wname = 4, wshape = 5, wbytes = 5, wpid = 3;
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(v[i].name);
		wname = len > wname ? len : wname;
		brg_cli_format_shape(shape, sizeof shape, v[i].ndim, v[i].shape);
		len = (int)strlen(shape);
		wshape = len > wshape ? len : wshape;
		len = snprintf(num, sizeof num, "%zu", v[i].nbytes);
		wbytes = len > wbytes ? len : wbytes;
		len = snprintf(num, sizeof num, "%" PRId32, v[i].creator_pid);
		wpid = len > wpid ? len : wpid;
	}
	printf("%-*s  %-5s  %-5s  %-*s  %*s  %*s  %-5s  %s\n", wname, "NAME", "KIND", "DTYPE", wshape,
	       "SHAPE", wbytes, "BYTES", wpid, "PID", "ALIVE", "PERSISTENT");
	for (size_t i = 0; i < n; i++) {
		brg_cli_format_shape(shape, sizeof shape, v[i].ndim, v[i].shape);
		printf("%-*s  %-5s  %-5s  %-*s  %*zu  %*" PRId32 "  %-5s  %s\n", wname, v[i].name,
		       kind_name(v[i].kind), brg_dtype_name(v[i].dtype), wshape, shape, wbytes,
		       v[i].nbytes, wpid, v[i].creator_pid, v[i].creator_alive ? "yes" : "no",
		       (v[i].flags & BRG_CREATE_PERSISTENT) ? "yes" : "no");
	}
}

int brg_cli_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"all", no_argument, NULL, OPT_ALL},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	int json = 0, c;
	unsigned flags = 0;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_ALL:
			flags |= BRG_OPEN_ANY_OWNER;
			break;
		case 'h':
			return brg_cli_help(ls_usage);
		default:
			return brg_cli_bad_option("ls", ls_usage, c, argv);
		}
	}
	if (optind < argc)
		return brg_cli_usage_error("ls", ls_usage, "unexpected argument '%s'", argv[optind]);

	struct seglist l = {0};
	int r = brg_segment_foreach(flags, collect, &l);
	if (r < 0) {
		brg_cli_error_code("/dev/shm", r);
		free(l.v);
		return BRG_CLI_FAIL;
	}
	if (json)
		print_json_list(stdout, l.v, l.n);
	else
		print_table(l.v, l.n);
	free(l.v);
	return BRG_CLI_OK;
}

/* ---- info ---- */

static const char info_usage[] =
	"usage: brigade info NAME [--json] [--any-owner]\n"
	"\n"
	"Validates one segment and describes it, one 'key: value' per line.\n"
	"\n"
	"  --json       the object `brigade ls --json` prints for it\n"
	"  --any-owner  accept a segment of another user, or one writable by others\n"
	"  -h, --help\n";

static void print_info(const brg_segment_info *in)
{
	char shape[BRG_MAX_NDIM * 21 + 1], when[64] = "?";
	brg_cli_format_shape(shape, sizeof shape, in->ndim, in->shape);
	time_t sec = (time_t)(in->created_ns / 1000000000u);
	struct tm tm;
	if (gmtime_r(&sec, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("name:        %s\n", in->name);
	printf("kind:        %s\n", kind_name(in->kind));
	printf("dtype:       %s\n", brg_dtype_name(in->dtype));
	printf("shape:       %s\n", shape);
	printf("ndim:        %d\n", in->ndim);
	printf("nbytes:      %zu\n", in->nbytes);
	printf("file_bytes:  %zu\n", in->file_bytes);
	printf("mode:        %04o\n", in->mode);
	printf("persistent:  %s\n", (in->flags & BRG_CREATE_PERSISTENT) ? "yes" : "no");
	printf("shared:      %s\n", (in->flags & BRG_CREATE_SHARED) ? "yes" : "no");
	printf("creator_pid: %" PRId32 "\n", in->creator_pid);
	printf("creator_uid: %" PRIu32 "\n", in->creator_uid);
	printf("alive:       %s\n", in->creator_alive ? "yes" : "no");
	printf("created:     %s (%" PRIu64 " ns)\n", when, in->created_ns);
	printf("generation:  %" PRIu64 "\n", in->generation);
}

int brg_cli_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"any-owner", no_argument, NULL, OPT_ANY_OWNER},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	int json = 0, c;
	unsigned flags = 0;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_ANY_OWNER:
			flags |= BRG_OPEN_ANY_OWNER;
			break;
		case 'h':
			return brg_cli_help(info_usage);
		default:
			return brg_cli_bad_option("info", info_usage, c, argv);
		}
	}
	if (argc - optind != 1)
		return brg_cli_usage_error("info", info_usage, "expected one NAME");
	const char *name = argv[optind];
	brg_segment_info in = {.size = sizeof in};
	int r = brg_segment_stat(name, flags, &in);
	if (r < 0) {
		brg_cli_error_code(name, r);
		return BRG_CLI_FAIL;
	}
	if (json) {
		print_json(stdout, &in);
		fputc('\n', stdout);
	} else {
		print_info(&in);
	}
	return BRG_CLI_OK;
}

/* ---- create ---- */

static const char create_usage[] =
	"usage: brigade create NAME --dtype DTYPE --shape N[,N...] [--fill X] [--temporary]\n"
	"                      [--mode MODE] [--small-pages]\n"
	"\n"
	"Creates a named array in /dev/shm (an NPY file numpy.load can map), zero-filled, and\n"
	"persistent: made on purpose from the command line, 'brigade gc' keeps it although\n"
	"this process exits (remove it with 'brigade rm').  Its generation is 1, or 2 after\n"
	"--fill, which writes it once it exists.\n"
	"\n"
	"  --dtype DTYPE  f32 f64 i8 i16 i32 i64 u8 u16 u32 u64 (or numpy names: float64...)\n"
	"  --shape SHAPE  1 to 8 comma-separated extents, C order: 1000,1000\n"
	"  --fill X       set every element to X (a number in the dtype's range)\n"
	"  --temporary    not persistent: the next 'brigade gc' removes it\n"
	"  --persistent   the default (accepted for scripts that say it)\n"
	"  --mode MODE    octal permission bits, at least 0600; allows group/other access\n"
	"  --small-pages  keep 4 KiB pages (default: 2 MiB pages where the kernel makes them)\n"
	"  -h, --help\n";

/* Signed integers: decimal, range-checked against [lo, hi]; 0 or -1. */
static int parse_signed(const char *text, long long lo, long long hi, long long *out)
{
	char *end;
	if (!*text || (*text != '-' && *text != '+' && (*text < '0' || *text > '9')))
		return -1;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Unsigned integers: as parse_signed, but strtoull would wrap "-1" round, so no sign. */
static int parse_unsigned(const char *text, unsigned long long hi, unsigned long long *out)
{
	char *end;
	if (!*text || (*text != '+' && (*text < '0' || *text > '9')))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Floats: anything strtod takes whole ("1e3", "-inf", "nan"), except a finite value the
 * dtype cannot hold; values too small for it round to zero as numpy would. */
static int parse_float(const char *text, double max, double *out)
{
	char *end;
	if (!*text || *text == ' ' || (*text >= '\t' && *text <= '\r'))
		return -1;
	errno = 0;
	double v = strtod(text, &end);
	if (*end || (errno == ERANGE && fabs(v) > 1.0) || (isfinite(v) && fabs(v) > max))
		return -1;
	*out = v;
	return 0;
}

/* Converts text to one element of dtype, in memory order, into elem; 0, or -1 when text is
 * not a number of that dtype's kind or lies outside its range.  One case per dtype of the
 * library's list, its range from its kind and size. */
static int parse_element(brg_dtype dtype, const char *text, unsigned char elem[8])
{
	switch (dtype) {
#define ELEMENT(DT, SUF, T, KIND, SIZE, NAME, DESCR, NUMPY)                                    \
	case DT: {                                                                             \
		T x;                                                                           \
		if (KIND == BRG__FLOAT) {                                                      \
			double d;                                                              \
			if (parse_float(text, SIZE == 4 ? FLT_MAX : DBL_MAX, &d))              \
				return -1;                                                     \
			x = (T)d;                                                              \
		} else if (KIND == BRG__SIGNED) {                                              \
			long long hi = (long long)(UINT64_MAX >> (65 - 8 * SIZE)), v;          \
			if (parse_signed(text, -hi - 1, hi, &v))                               \
				return -1;                                                     \
			x = (T)v;                                                              \
		} else {                                                                       \
			unsigned long long v;                                                  \
			if (parse_unsigned(text, UINT64_MAX >> (64 - 8 * SIZE), &v))            \
				return -1;                                                     \
			x = (T)v;                                                              \
		}                                                                              \
		memcpy(elem, &x, sizeof x);                                                    \
		return 0;                                                                      \
	}
		BRG__DTYPES(ELEMENT)
#undef ELEMENT
	}
	return -1;
}

/* Only the element's width matters once it is encoded: one loop per width, not per dtype. */
#define FILL_AS(T)                                                                         \
	do {                                                                               \
		T x_;                                                                      \
		memcpy(&x_, elem, sizeof x_);                                              \
		T *restrict p_ = data;                                                     \
		for (size_t i_ = 0; i_ < count; i_++)                                      \
			p_[i_] = x_;                                                       \
	} while (0)

static void fill(void *data, size_t count, size_t size, const unsigned char elem[8])
{
	switch (size) {
	case 1:
		FILL_AS(uint8_t);
		break;
	case 2:
		FILL_AS(uint16_t);
		break;
	case 4:
		FILL_AS(uint32_t);
		break;
	case 8:
		FILL_AS(uint64_t);
		break;
	}
}

#undef FILL_AS

/* Octal permission bits the owner can read and write: 0600 to 0777; 0 or -1. */
static int parse_mode(const char *text, unsigned *mode)
{
	unsigned v = 0;
	size_t len = strlen(text);
	if (len == 0 || len > 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '7')
			return -1;
		v = v * 8 + (unsigned)(text[i] - '0');
	}
	if (v > 0777 || (v & 0600) != 0600)
		return -1;
	*mode = v;
	return 0;
}

int brg_cli_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dtype", required_argument, NULL, OPT_DTYPE},
		{"shape", required_argument, NULL, OPT_SHAPE},
		{"fill", required_argument, NULL, OPT_FILL},
		{"persistent", no_argument, NULL, OPT_PERSISTENT},
		{"temporary", no_argument, NULL, OPT_TEMPORARY},
		{"small-pages", no_argument, NULL, OPT_SMALL_PAGES},
		{"mode", required_argument, NULL, OPT_MODE},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	const char *dtype_text = NULL, *shape_text = NULL, *fill_text = NULL;
	brg_array_opts opts = {.size = sizeof opts};
	int temporary = 0;
	int c;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DTYPE:
			dtype_text = optarg;
			break;
		case OPT_SHAPE:
			shape_text = optarg;
			break;
		case OPT_FILL:
			fill_text = optarg;
			break;
		case OPT_PERSISTENT:
			temporary = 0;
			break;
		case OPT_TEMPORARY:
			temporary = 1;
			break;
		case OPT_SMALL_PAGES:
			opts.flags |= BRG_CREATE_SMALL_PAGES;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &opts.mode))
				return brg_cli_usage_error("create", create_usage,
							   "bad mode '%s': octal, 0600 to 0777",
							   optarg);
			/* Asking for a mode is asking for others to open it. */
			opts.flags |= BRG_CREATE_SHARED;
			break;
		case 'h':
			return brg_cli_help(create_usage);
		default:
			return brg_cli_bad_option("create", create_usage, c, argv);
		}
	}
	if (argc - optind != 1)
		return brg_cli_usage_error("create", create_usage, "expected one NAME");
	const char *name = argv[optind];
	if (!dtype_text || !shape_text)
		return brg_cli_usage_error("create", create_usage, "--dtype and --shape are required");
	int dtype = brg_dtype_parse(dtype_text);
	if (dtype < 0)
		return brg_cli_usage_error("create", create_usage, "unknown dtype '%s'", dtype_text);
	size_t shape[BRG_MAX_NDIM];
	int ndim = brg_cli_parse_shape(shape_text, shape);
	if (ndim < 0)
		return brg_cli_usage_error("create", create_usage,
					   "bad shape '%s': 1 to %d comma-separated integers",
					   shape_text, BRG_MAX_NDIM);
	unsigned char elem[8] = {0};
	if (fill_text && parse_element((brg_dtype)dtype, fill_text, elem))
		return brg_cli_usage_error("create", create_usage, "bad --fill '%s' for dtype %s",
					   fill_text, brg_dtype_name((brg_dtype)dtype));

	if (!temporary)
		opts.flags |= BRG_CREATE_PERSISTENT;
	brg_array *a;
	int r = brg_array_create(&a, name, (brg_dtype)dtype, ndim, shape, &opts);
	if (r < 0) {
		brg_cli_error_code(name, r);
		return BRG_CLI_FAIL;
	}
	/* The array is already visible (zero-filled) to anyone who opens it by name; bumping the
	 * generation tells such readers that the contents changed. */
	if (fill_text) {
		fill(brg_array_data(a), brg_array_count(a), brg_dtype_size((brg_dtype)dtype), elem);
		brg_array_generation_bump(a);
	}
	brg_array_close(a);
	return BRG_CLI_OK;
}

/* ---- rm ---- */

static const char rm_usage[] =
	"usage: brigade rm NAME...\n"
	"\n"
	"Removes each named brigade segment; a file in /dev/shm that is not one is never\n"
	"removed.  Goes on past failures; exits 1 if any name could not be removed.\n"
	"\n"
	"  -h, --help\n";

int brg_cli_rm(int argc, char **argv)
{
	static const struct option longopts[] = {BRG_CLI_OPT_HELP, BRG_CLI_OPT_END};
	int c;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == 'h')
			return brg_cli_help(rm_usage);
		return brg_cli_bad_option("rm", rm_usage, c, argv);
	}
	if (optind == argc)
		return brg_cli_usage_error("rm", rm_usage, "expected at least one NAME");
	int status = BRG_CLI_OK;
	for (int i = optind; i < argc; i++) {
		int r = brg_segment_unlink(argv[i]);
		if (r < 0) {
			brg_cli_error_code(argv[i], r);
			status = BRG_CLI_FAIL;
		}
	}
	return status;
}

/* ---- gc ---- */

static const char gc_usage[] =
	"usage: brigade gc [--dry-run] [--json]\n"
	"\n"
	"Removes the caller's brigade segments (arrays and pools) whose creating process has\n"
	"exited, unless they were created persistent.  Prints 'removed NAME' for each.\n"
	"\n"
	"  --dry-run  remove nothing; print 'would remove NAME' instead\n"
	"  --json     print the removed segments as `brigade ls --json` does\n"
	"  -h, --help\n";

struct gc_state {
	int dry_run, json, failed;
	struct seglist removed;
};

static int gc_one(const brg_segment_info *info, void *userdata)
{
	struct gc_state *st = userdata;
	if (info->creator_alive || (info->flags & BRG_CREATE_PERSISTENT))
		return 0;
	if (!st->dry_run) {
		/* The name may have been removed and made again since the listing; check it is still
		 * the same dead segment.  (A window remains until the library can unlink
		 * conditionally.) */
		brg_segment_info now = {.size = sizeof now};
		if (brg_segment_stat(info->name, 0, &now) < 0 || now.creator_pid != info->creator_pid ||
		    now.created_ns != info->created_ns)
			return 0;
		int r = brg_segment_unlink(info->name);
		if (r == -ENOENT)
			return 0; /* someone else collected it */
		if (r < 0) {
			brg_cli_error_code(info->name, r);
			st->failed = 1;
			return 0;
		}
	}
	if (st->json)
		return seglist_add(&st->removed, info);
	printf("%s %s\n", st->dry_run ? "would remove" : "removed", info->name);
	return 0;
}

int brg_cli_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"json", no_argument, NULL, OPT_JSON},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	struct gc_state st = {0};
	int c;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DRY_RUN:
			st.dry_run = 1;
			break;
		case OPT_JSON:
			st.json = 1;
			break;
		case 'h':
			return brg_cli_help(gc_usage);
		default:
			return brg_cli_bad_option("gc", gc_usage, c, argv);
		}
	}
	if (optind < argc)
		return brg_cli_usage_error("gc", gc_usage, "unexpected argument '%s'", argv[optind]);
	int r = brg_segment_foreach(0, gc_one, &st);
	if (r < 0) {
		brg_cli_error_code("/dev/shm", r);
		st.failed = 1;
	}
	if (st.json)
		print_json_list(stdout, st.removed.v, st.removed.n);
	free(st.removed.v);
	return st.failed ? BRG_CLI_FAIL : BRG_CLI_OK;
}
