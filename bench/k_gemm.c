/* SPDX-License-Identifier: MIT */
/* k_gemm.c - brigade's dgemm in this process: C = A B on n x n f64 matrices, rows of C split
 * over the participants; checked on whole rows and on the sum of C. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

struct gemm_ctx {
	brg_pool *pool;
	brg_array *a, *b, *c;
	size_t n;
	const struct bench_refs *refs;
};

static int op_gemm(void *p)
{
	struct gemm_ctx *x = p;
	return brg_blas_gemm(x->pool, BRG_NOTRANS, BRG_NOTRANS, 1.0, x->a, x->b, 0.0, x->c);
}

/* Three whole rows (first, middle, last: they fall to different participants) by the plain
 * i-k-j loop, then the sum of all of C against the O(n^2) formula. */
static int check_gemm(void *p, struct bench_rec *rec)
{
	struct gemm_ctx *x = p;
	size_t n = x->n;
	const double *a = brg_array_data(x->a), *b = brg_array_data(x->b),
		     *c = brg_array_data(x->c);
	double *want = malloc(n * sizeof *want);
	if (!want)
		return -ENOMEM;
	size_t rows[3] = {0, n / 2, n - 1};
	int r = 0;
	for (int t = 0; t < 3 && !r; t++) {
		size_t i = rows[t];
		for (size_t j = 0; j < n; j++)
			want[j] = 0;
		for (size_t k = 0; k < n; k++) {
			double aik = a[i * n + k];
			const double *bk = b + k * n;
			for (size_t j = 0; j < n; j++)
				want[j] += aik * bk[j];
		}
		for (size_t j = 0; j < n; j++) {
			if (!bench_value_ok(c[i * n + j], want[j])) {
				bench_rec_fail(
					rec, BS_FAILED,
					"WRONG RESULT: C[%zu][%zu] = %.17g, serial loop: %.17g",
					i, j, c[i * n + j], want[j]);
				r = BENCH_WRONG;
				break;
			}
		}
	}
	free(want);
	if (r)
		return r;
	rec->value = ref_sum(c, n * n);
	rec->has_value = 1;
	if (!bench_value_ok(rec->value, x->refs->gemm_sum)) {
		bench_rec_fail(rec, BS_FAILED, "WRONG RESULT: sum of C = %.17g, expected %.17g",
			       rec->value, x->refs->gemm_sum);
		return BENCH_WRONG;
	}
	return 0;
}

static void gemm_close(void *p)
{
	struct gemm_ctx *x = p;
	if (!x)
		return;
	bench_array_destroy(x->a);
	bench_array_destroy(x->b);
	bench_array_destroy(x->c);
	free(x);
}

static int gemm_open(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		     struct bench_results *res, void **data, const char **what)
{
	struct gemm_ctx *x = calloc(1, sizeof *x);
	if (!x) {
		*what = "calloc";
		return -ENOMEM;
	}
	size_t n = cfg->gemm_n;
	*x = (struct gemm_ctx){.pool = pool, .n = n, .refs = refs};
	size_t shape[2] = {n, n};
	int r;
	*what = "brg_pool_array_create";
	if ((r = bench_array_create(pool, &x->a, "A", BRG_F64, 2, shape)) ||
	    (r = bench_array_create(pool, &x->b, "B", BRG_F64, 2, shape)) ||
	    (r = bench_array_create(pool, &x->c, "C", BRG_F64, 2, shape)))
		goto fail;
	brg_array *arrays[3] = {x->a, x->b, x->c};
	*what = "filling the matrices";
	if ((r = bench_fill(pool, BENCH_FILL_GEMM, arrays, 3, n * n, n, n)))
		goto fail;
	bench_note_pages(res, "matrices", arrays, 3);
	*data = x;
	return 0;
fail:
	gemm_close(x);
	return r;
}

static void gemm_job(void *p, int kernel, struct bench_job *job)
{
	struct gemm_ctx *x = p;
	(void)kernel;
	*job = (struct bench_job){
		.op = op_gemm,
		.ctx = x,
		.check = check_gemm,
		.batch = 1,
		.per = 1,
		.n = x->n,
	};
}

const struct bench_group bench_group_gemm = {
	.kernels = {BK_DGEMM},
	.nkernels = 1,
	.open = gemm_open,
	.job = gemm_job,
	.close = gemm_close,
};
