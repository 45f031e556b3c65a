/* SPDX-License-Identifier: MIT */
/* k_gemm.c - brigade's dgemm in this process: C = A B on n x n f64 matrices, rows of C split
 * over the participants; checked on whole rows and on the sum of C. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

enum { A, B, C }; /* C = A B */

struct gemm_ctx {
	brg_pool *pool;
	struct bench_arrays arr; /* n x n each: arr.shape[0] */
	const struct bench_refs *refs;
};

static int op_gemm(void *p)
{
	struct gemm_ctx *x = p;
	return brg_blas_gemm(x->pool, x->arr.v[C], 1.0, BRG_NOTRANS, x->arr.v[A], BRG_NOTRANS,
			     x->arr.v[B], 0.0);
}

/* Three whole rows (first, middle, last: they fall to different participants) by the plain
 * i-k-j loop, then the sum of all of C against the O(n^2) formula. */
static int check_gemm(void *p, struct bench_rec *rec)
{
	struct gemm_ctx *x = p;
	size_t n = x->arr.shape[0];
	const double *a = brg_array_data(x->arr.v[A]), *b = brg_array_data(x->arr.v[B]),
		     *c = brg_array_data(x->arr.v[C]);
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
	bench_arrays_drop(&x->arr);
	free(x);
}

static int gemm_open(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		     struct bench_results *res, void **data, const char **what)
{
	struct gemm_ctx *x = malloc(sizeof *x);
	if (!x) {
		*what = "malloc";
		return -ENOMEM;
	}
	size_t n = cfg->gemm_n;
	*x = (struct gemm_ctx){
		.pool = pool,
		.arr = {.n = 3,
			.names = {"A", "B", "C"},
			.dtype = BRG_F64,
			.ndim = 2,
			.shape = {n, n},
			.fill = BENCH_FILL_GEMM,
			.nfill = 3,
			.what = "matrices"},
		.refs = refs,
	};
	int r = bench_arrays_make(pool, &x->arr, res, what);
	if (r)
		free(x);
	else
		*data = x;
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
		.n = x->arr.shape[0],
	};
}

const struct bench_group bench_group_gemm = {
	.kernels = {BK_DGEMM},
	.nkernels = 1,
	.open = gemm_open,
	.job = gemm_job,
	.close = gemm_close,
};
