/* SPDX-License-Identifier: MIT */
/* k_stream.c - brigade's bandwidth kernels in this process: triad, dot and sumsq on f64 arrays
 * placed by brg_pool_array_create, each checked against the reference. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

enum { A, B, C }; /* a = b + s c */

struct stream_ctx {
	brg_pool *pool;
	struct bench_arrays arr; /* n elements each: arr.shape[0] */
	double s;
	brg_scalar out;
	const struct bench_refs *refs;
};

static int op_triad(void *p)
{
	struct stream_ctx *x = p;
	return brg_vec_triad(x->pool, x->arr.v[A], x->arr.v[B], x->s, x->arr.v[C]);
}

static int op_dot(void *p)
{
	struct stream_ctx *x = p;
	return brg_reduce_dot(x->pool, &x->out, x->arr.v[B], x->arr.v[C]);
}

static int op_sumsq(void *p)
{
	struct stream_ctx *x = p;
	return brg_reduce_sumsq(x->pool, &x->out, x->arr.v[B]);
}

/* Every element, against the formula. */
static int check_triad(void *p, struct bench_rec *rec)
{
	struct stream_ctx *x = p;
	const double *a = brg_array_data(x->arr.v[A]);
	size_t n = x->arr.shape[0];
	for (size_t i = 0; i < n; i++) {
		double want = bench_init_b(i) + x->s * bench_init_c(i);
		if (!bench_value_ok(a[i], want)) {
			bench_rec_fail(rec, BS_FAILED,
				       "WRONG RESULT: a[%zu] = %.17g, serial loop gives %.17g", i,
				       a[i], want);
			return BENCH_WRONG;
		}
	}
	rec->value = ref_sum(a, n);
	rec->has_value = 1;
	return 0;
}

static int check_scalar(void *p, struct bench_rec *rec)
{
	struct stream_ctx *x = p;
	double want = bench_refs_value(x->refs, rec->kernel, x->arr.shape[0]);
	rec->value = x->out.f;
	rec->has_value = 1;
	if (!bench_value_ok(x->out.f, want)) {
		bench_rec_fail(rec, BS_FAILED, "WRONG RESULT: %.17g, serial loop gives %.17g",
			       x->out.f, want);
		return BENCH_WRONG;
	}
	return 0;
}

static void stream_close(void *p)
{
	struct stream_ctx *x = p;
	bench_arrays_drop(&x->arr);
	free(x);
}

static int stream_open(const struct bench_config *cfg, const struct bench_refs *refs,
		       brg_pool *pool, struct bench_results *res, void **data, const char **what)
{
	struct stream_ctx *x = malloc(sizeof *x);
	if (!x) {
		*what = "malloc";
		return -ENOMEM;
	}
	*x = (struct stream_ctx){
		.pool = pool,
		.arr = {.n = 3,
			.names = {"a", "b", "c"},
			.dtype = BRG_F64,
			.ndim = 1,
			.shape = {cfg->n},
			.fill = BENCH_FILL_STREAM,
			.nfill = 3,
			.what = "stream arrays"},
		.s = cfg->scalar,
		.refs = refs,
	};
	int r = bench_arrays_make(pool, &x->arr, res, what);
	if (r)
		free(x);
	else
		*data = x;
	return r;
}

static void stream_job(void *p, int kernel, struct bench_job *job)
{
	struct stream_ctx *x = p;
	*job = (struct bench_job){
		.op = kernel == BK_TRIAD ? op_triad : kernel == BK_DOT ? op_dot : op_sumsq,
		.ctx = x,
		.check = kernel == BK_TRIAD ? check_triad : check_scalar,
		.batch = 1,
		.per = 1,
		.n = x->arr.shape[0],
	};
}

const struct bench_group bench_group_stream = {
	.kernels = {BK_TRIAD, BK_DOT, BK_SUMSQ},
	.nkernels = 3,
	.open = stream_open,
	.job = stream_job,
	.close = stream_close,
};
