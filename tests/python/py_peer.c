/* SPDX-License-Identifier: MIT */
/* py_peer.c - the C side of test_python.py: makes, checks, opens and describes segments. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brigade.h"

/* py_peer make NAME: an f64 (100, 7) array holding i * 0.5 + 1, closed before exit. */
static int cmd_make(const char *name)
{
	size_t shape[2] = {100, 7};
	brg_array *a;
	int r = brg_array_create(&a, name, BRG_F64, 2, shape, NULL);
	if (r) {
		fprintf(stderr, "py_peer make %s: %s (%s)\n", name, brg_strerror(r), brg_err_name(r));
		return 1;
	}
	double *d = brg_array_data(a);
	for (size_t i = 0; i < brg_array_count(a); i++)
		d[i] = (double)i * 0.5 + 1;
	brg_array_close(a);
	return 0;
}

/* py_peer check NAME: the Python-made i32 (13, 5, 3) arange; element 0 becomes -7. */
static int cmd_check(const char *name)
{
	brg_array *a;
	int r = brg_array_open(&a, name, BRG_OPEN_WRITE);
	if (r) {
		fprintf(stderr, "py_peer check %s: %s (%s)\n", name, brg_strerror(r), brg_err_name(r));
		return 1;
	}
	int bad = 0;
	const size_t *shape = brg_array_shape(a);
	if (brg_array_dtype(a) != BRG_I32 || brg_array_ndim(a) != 3 || shape[0] != 13 ||
	    shape[1] != 5 || shape[2] != 3 || brg_array_count(a) != 195) {
		fprintf(stderr, "py_peer check %s: dtype %s ndim %d, want i32 (13, 5, 3)\n", name,
			brg_dtype_name(brg_array_dtype(a)), brg_array_ndim(a));
		bad = 1;
	} else {
		int32_t *d = brg_array_data(a);
		for (size_t i = 0; i < 195; i++) {
			if (d[i] != (int32_t)i) {
				fprintf(stderr, "py_peer check %s: element %zu is %" PRId32 ", want %zu\n",
					name, i, d[i], i);
				bad = 1;
				break;
			}
		}
		if (!bad)
			d[0] = -7;
	}
	brg_array_close(a);
	return bad;
}

/* py_peer create NAME DTYPE D0 [D1...]: a zero-filled array made by the C library. */
static int cmd_create(const char *name, const char *dtype_text, int ndim, char **dims)
{
	size_t shape[BRG_MAX_NDIM];
	int dtype = brg_dtype_parse(dtype_text);
	if (dtype < 0 || ndim < 1 || ndim > BRG_MAX_NDIM) {
		fprintf(stderr, "py_peer create: bad dtype %s or ndim %d\n", dtype_text, ndim);
		return 2;
	}
	for (int i = 0; i < ndim; i++)
		shape[i] = (size_t)strtoull(dims[i], NULL, 10);
	brg_array *a;
	int r = brg_array_create(&a, name, (brg_dtype)dtype, ndim, shape, NULL);
	if (r) {
		fprintf(stderr, "py_peer create %s: %s (%s)\n", name, brg_strerror(r), brg_err_name(r));
		return 1;
	}
	brg_array_close(a);
	return 0;
}

/* py_peer code NAME [any]: prints brg_err_name of brg_array_open ("OK" when it opens),
 * with BRG_OPEN_ANY_OWNER when a third argument is given; always exits 0. */
static int cmd_code(const char *name, unsigned flags)
{
	brg_array *a;
	int r = brg_array_open(&a, name, flags);
	brg_array_close(a);
	printf("%s\n", brg_err_name(r));
	return 0;
}

/* py_peer info NAME: brg_segment_stat's fields as "key value" lines for the Python side. */
static int cmd_info(const char *name)
{
	brg_segment_info in = {.size = sizeof in};
	int r = brg_segment_stat(name, 0, &in);
	if (r) {
		printf("error %s\n", brg_err_name(r));
		return 1;
	}
	printf("kind %d\ndtype_code %d\ndtype_name %s\nndim %d\nshape", in.kind, (int)in.dtype,
	       brg_dtype_name(in.dtype), in.ndim);
	for (int i = 0; i < in.ndim; i++)
		printf(" %zu", in.shape[i]);
	printf("\nnbytes %zu\nfile_bytes %zu\nflags %u\nmode %o\ncreator_uid %" PRIu32
	       "\ncreator_pid %" PRId32 "\ncreator_alive %d\ncreated_ns %" PRIu64
	       "\ngeneration %" PRIu64 "\n",
	       in.nbytes, in.file_bytes, in.flags, in.mode, in.creator_uid, in.creator_pid,
	       in.creator_alive, in.created_ns, in.generation);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "make"))
		return cmd_make(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "create"))
		return cmd_create(argv[2], argv[3], argc - 4, argv + 4);
	if (argc >= 3 && !strcmp(argv[1], "code"))
		return cmd_code(argv[2], argc >= 4 ? BRG_OPEN_ANY_OWNER : 0);
	if (argc >= 3 && !strcmp(argv[1], "info"))
		return cmd_info(argv[2]);
	fprintf(stderr, "usage: py_peer make|check|code|info NAME\n"
			"       py_peer code NAME any\n"
			"       py_peer create NAME DTYPE D0 [D1...]\n");
	return 2;
}
