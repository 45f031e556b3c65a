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
	struct bench_rec *rec;
};

static int op_gemm(void *p)
{
	struct gemm_ctx *x = p;
	return brg_blas_gemm(x->pool, BRG_NOTRANS, BRG_NOTRANS, 1.0, x->a, x->b, 0.0, x->c);
}

/* Three whole rows (first, middle, last: they fall to different participants) by the plain
 * i-k-j loop, then the sum of all of C against the O(n^2) formula. */
static int check_gemm(void *p)
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
					x->rec, BS_FAILED,
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
	x->rec->value = ref_sum(c, n * n);
	x->rec->has_value = 1;
	if (!bench_value_ok(x->rec->value, x->refs->gemm_sum)) {
		bench_rec_fail(x->rec, BS_FAILED, "WRONG RESULT: sum of C = %.17g, expected %.17g",
			       x->rec->value, x->refs->gemm_sum);
		return BENCH_WRONG;
	}
	return 0;
}

void bench_run_gemm(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		    struct bench_results *res)
{
	if (!cfg->kernels[BK_DGEMM])
		return;
	size_t n = cfg->gemm_n;
	struct gemm_ctx x = {.pool = pool, .n = n, .refs = refs};
	struct bench_rec rec;
	bench_rec_init(&rec, BK_DGEMM, BI_BRIGADE, brg_pool_size(pool), n);
	x.rec = &rec;
	size_t shape[2] = {n, n};
	int r;
	if ((r = bench_array_create(pool, &x.a, "A", BRG_F64, 2, shape)) ||
	    (r = bench_array_create(pool, &x.b, "B", BRG_F64, 2, shape)) ||
	    (r = bench_array_create(pool, &x.c, "C", BRG_F64, 2, shape))) {
		bench_report_brigade(res, &rec, r);
		goto out;
	}
	brg_array *arrays[3] = {x.a, x.b, x.c};
	if ((r = bench_fill(pool, BENCH_FILL_GEMM, arrays, 3, n * n, n, n))) {
		bench_report_brigade(res, &rec, r);
		goto out;
	}
	r = bench_measure(&rec, op_gemm, &x, check_gemm, cfg->repeat_gemm, 1);
	bench_report_brigade(res, &rec, r);
out:
	bench_array_destroy(x.a);
	bench_array_destroy(x.b);
	bench_array_destroy(x.c);
}
