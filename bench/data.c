/* SPDX-License-Identifier: MIT */
/* data.c - the bench's data: brigade arrays created, filled and removed, and the reference
 * results every implementation's output is checked against. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* The reference flavour of the shared loops: plain serial C. */
#define BENCH_LOOP(name) ref_##name
#define BENCH_LOOP_LINKAGE
#define BENCH_PAR_FOR
#define BENCH_PAR_FOR_SUM8
#include "loops_tmpl.h"
#undef BENCH_LOOP
#undef BENCH_LOOP_LINKAGE
#undef BENCH_PAR_FOR
#undef BENCH_PAR_FOR_SUM8

/* The share of the array's mapping in this process that the kernel maps with 2 MiB pages
 * (0 to 1), or -1 when /proc/self/smaps cannot tell. */
static double huge_share(const brg_array *a)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	uintptr_t at = (uintptr_t)brg_array_data(a);
	char line[512];
	int in = 0;
	long size = -1, pmd = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (line[strspn(line, "0123456789abcdef")] == '-' &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			in = at >= lo && at < hi;
		else if (in && strncmp(line, "Size:", 5) == 0)
			size = strtol(line + 5, NULL, 10);
		else if (in && strncmp(line, "ShmemPmdMapped:", 15) == 0)
			pmd = strtol(line + 15, NULL, 10);
	}
	fclose(f);
	return size > 0 && pmd >= 0 ? (double)pmd / (double)size : -1;
}

struct fill_args {
	int what;
	size_t cols; /* image columns, or the matrix order */
	size_t rows;
};

/* Runs in every participant over its static range, so the values are written by the process
 * that first touched those pages. */
static int fill_kernel(const brg_task *t)
{
	const struct fill_args *a = t->args;
	switch (a->what) {
	case BENCH_FILL_STREAM:
		ref_init_stream(brg_array_data(t->arrays[0]), brg_array_data(t->arrays[1]),
				brg_array_data(t->arrays[2]), t->begin, t->end);
		return 0;
	case BENCH_FILL_IMAGE:
		ref_init_image(brg_array_data(t->arrays[0]), a->rows, a->cols, t->begin, t->end);
		return 0;
	case BENCH_FILL_GEMM:
		ref_init_gemm(brg_array_data(t->arrays[0]), brg_array_data(t->arrays[1]),
			      brg_array_data(t->arrays[2]), a->cols, t->begin, t->end);
		return 0;
	}
	return -EINVAL;
}

static const brg_kernel fill = {"brg_bench_fill", fill_kernel, BRG_KERNEL_IDEMPOTENT};

/* Writes the formulas of loops.h with a static job over the elements (image: pixels, gemm:
 * matrix entries). */
static int fill_arrays(brg_pool *pool, const struct bench_arrays *s)
{
	size_t rows = s->shape[0], cols = s->ndim == 2 ? s->shape[1] : 1;
	struct fill_args args = {s->fill, cols, rows};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &fill,
		.n = rows * cols,
		.sched = {BRG_SCHED_STATIC, 0},
		.args = &args,
		.args_size = sizeof args,
		.arrays = (brg_array **)s->v,
		.narrays = s->nfill,
	};
	return brg_pool_run(pool, &d, NULL);
}

/* A note with the least share of 2 MiB pages among the set (the same note each round is
 * printed once; a round that differs adds its own). */
static void note_pages(struct bench_results *res, const struct bench_arrays *s)
{
	double share = 1;
	for (int i = 0; i < s->n; i++) {
		double h = huge_share(s->v[i]);
		share = h < share ? h : share;
	}
	if (share >= 0)
		bench_note(res,
			   "pages: brigade's %s had %.0f%% of their mapping on 2 MiB pages (the "
			   "least of the %d)%s",
			   s->what, share * 100, s->n,
			   share < 0.99 ? "; the kernel made no more (old kernel? no free 2 MiB "
					  "blocks? shmem_enabled = deny?)"
					: "");
}

int bench_arrays_make(brg_pool *pool, struct bench_arrays *s, struct bench_results *res,
		      const char **step)
{
	static unsigned counter;
	int r = 0;
	*step = "brg_pool_array_create";
	for (int i = 0; i < s->n && !r; i++) {
		char name[BRG_NAME_MAX + 1];
		snprintf(name, sizeof name, "%s%u-%s", bench_segment_prefix(), counter++,
			 s->names[i]);
		r = brg_pool_array_create(pool, &s->v[i], name, s->dtype, s->ndim, s->shape, NULL);
	}
	if (!r && s->fill != BENCH_FILL_NONE) {
		*step = "filling the arrays";
		r = fill_arrays(pool, s);
	}
	if (r) {
		bench_arrays_drop(s);
		return r;
	}
	if (s->fill != BENCH_FILL_NONE)
		note_pages(res, s);
	return 0;
}

void bench_arrays_drop(struct bench_arrays *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->v[i])
			continue;
		brg_segment_unlink(brg_array_name(s->v[i]));
		brg_array_close(s->v[i]);
		s->v[i] = NULL;
	}
}

void bench_refs_compute(const struct bench_config *cfg, struct bench_refs *refs)
{
	memset(refs, 0, sizeof *refs);
	double s = cfg->scalar;
	/* Sums straight from the formulas, which repeat every 35 elements: whole periods, then
	 * the rest.  No array is needed, and every partial sum is exact (see loops.h), so this
	 * is the sum of a loop in any order. */
	size_t sizes[3] = {cfg->n, cfg->pickle_n, cfg->shm_n};
	for (int k = 0; k < 3; k++) {
		size_t n = sizes[k];
		double t[2] = {0, 0}, d[2] = {0, 0}, q[2] = {0, 0};
		for (size_t i = 0; i < 35; i++) {
			double b = bench_init_b(i), c = bench_init_c(i);
			int part = i < n % 35; /* the rest of a period */
			for (int j = 0; j <= part; j++) {
				t[j] += b + s * c;
				d[j] += b * c;
				q[j] += b * b;
			}
		}
		double periods = (double)(n / 35);
		refs->stream[k].n = n;
		refs->stream[k].triad_sum = periods * t[0] + t[1];
		refs->stream[k].dot = periods * d[0] + d[1];
		refs->stream[k].sumsq = periods * q[0] + q[1];
	}

	refs->stencil_sum = NAN;
	if (cfg->kernels[BK_STENCIL3]) {
		/* Row by row from the formula: three input rows and one output row at a time. */
		size_t rows = cfg->rows, cols = cfg->cols;
		float *buf = malloc(4 * cols * sizeof *buf);
		if (buf) {
			float *row[3] = {buf, buf + cols, buf + 2 * cols}, *o = buf + 3 * cols;
			double sum = 0;
			for (size_t r = 0; r < rows; r++) {
				size_t src[3] = {r ? r - 1 : 0, r, r + 1 < rows ? r + 1 : r};
				for (int k = 0; k < 3; k++)
					for (size_t c = 0; c < cols; c++)
						row[k][c] = bench_init_pixel(src[k], c);
				bench_stencil_row(o, row[0], row[1], row[2], cols, bench_stencil_w);
				for (size_t c = 0; c < cols; c++)
					sum += o[c];
			}
			refs->stencil_sum = sum;
			free(buf);
		}
	}

	/* sum_ij (AB)_ij = sum_k (sum_i A_ik) (sum_j B_kj): O(n^2) instead of a product. */
	size_t n = cfg->gemm_n;
	double g = 0;
	for (size_t k = 0; k < n; k++) {
		double ca = 0, rb = 0;
		for (size_t i = 0; i < n; i++) {
			ca += bench_init_ga(i, k);
			rb += bench_init_gb(k, i);
		}
		g += ca * rb;
	}
	refs->gemm_sum = g;

	/* The imbalance loops' outputs, in index order: one serial run's arithmetic, done once. */
	refs->imb_n = cfg->imb_n;
	refs->imb_sum = NAN;
	int imb = 0;
	for (int k = BK_IMB_DYNAMIC; k <= BK_IMB_STATIC; k++)
		imb |= cfg->kernels[k];
	if (imb) {
		double sum = 0;
		for (size_t i = 0; i < cfg->imb_n; i++)
			sum += bench_imb_index(i);
		refs->imb_sum = sum;
	}
}

double bench_refs_value(const struct bench_refs *refs, int kernel, size_t n)
{
	int k = 0;
	while (k < 3 && refs->stream[k].n != n)
		k++;
	if (k == 3 && kernel <= BK_SUMSQ)
		return NAN; /* no such size */
	switch (kernel) {
	case BK_TRIAD:
		return refs->stream[k].triad_sum;
	case BK_DOT:
		return refs->stream[k].dot;
	case BK_SUMSQ:
		return refs->stream[k].sumsq;
	case BK_STENCIL3:
		return refs->stencil_sum;
	case BK_DGEMM:
		return refs->gemm_sum;
	case BK_IMB_DYNAMIC:
	case BK_IMB_GUIDED:
	case BK_IMB_AUTO:
	case BK_IMB_STATIC:
		return n == refs->imb_n ? refs->imb_sum : NAN;
	}
	return NAN;
}

int bench_value_ok(double got, double want)
{
	/* The data make every result exact; the margin only forgives a last-bit difference
	 * should an implementation ever round an intermediate. */
	return fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want));
}
