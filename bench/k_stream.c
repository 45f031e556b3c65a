/* SPDX-License-Identifier: MIT */
/* k_stream.c - brigade's bandwidth kernels in this process: triad, dot and sumsq on f64 arrays
 * placed by brg_pool_array_create, each checked against the reference. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

struct stream_ctx {
	brg_pool *pool;
	brg_array *a, *b, *c;
	size_t n;
	double s;
	brg_scalar out;
	const struct bench_refs *refs;
};

static int op_triad(void *p)
{
	struct stream_ctx *x = p;
	return brg_vec_triad(x->pool, x->a, x->b, x->s, x->c);
}

static int op_dot(void *p)
{
	struct stream_ctx *x = p;
	return brg_reduce_dot(x->pool, x->b, x->c, &x->out);
}

static int op_sumsq(void *p)
{
	struct stream_ctx *x = p;
	return brg_reduce_sumsq(x->pool, x->b, &x->out);
}

/* Every element, against the formula. */
static int check_triad(void *p, struct bench_rec *rec)
{
	struct stream_ctx *x = p;
	const double *a = brg_array_data(x->a);
	for (size_t i = 0; i < x->n; i++) {
		double want = bench_init_b(i) + x->s * bench_init_c(i);
		if (!bench_value_ok(a[i], want)) {
			bench_rec_fail(rec, BS_FAILED,
				       "WRONG RESULT: a[%zu] = %.17g, serial loop gives %.17g", i,
				       a[i], want);
			return BENCH_WRONG;
		}
	}
	rec->value = ref_sum(a, x->n);
	rec->has_value = 1;
	return 0;
}

static int check_scalar(void *p, struct bench_rec *rec)
{
	struct stream_ctx *x = p;
	double want = bench_refs_value(x->refs, rec->kernel, x->n);
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
	if (!x)
		return;
	bench_array_destroy(x->a);
	bench_array_destroy(x->b);
	bench_array_destroy(x->c);
	free(x);
}

static int stream_open(const struct bench_config *cfg, const struct bench_refs *refs,
		       brg_pool *pool, struct bench_results *res, void **data, const char **what)
{
	struct stream_ctx *x = calloc(1, sizeof *x);
	if (!x) {
		*what = "calloc";
		return -ENOMEM;
	}
	*x = (struct stream_ctx){.pool = pool, .n = cfg->n, .s = cfg->scalar, .refs = refs};
	size_t shape[1] = {cfg->n};
	int r;
	*what = "brg_pool_array_create";
	if ((r = bench_array_create(pool, &x->a, "a", BRG_F64, 1, shape)) ||
	    (r = bench_array_create(pool, &x->b, "b", BRG_F64, 1, shape)) ||
	    (r = bench_array_create(pool, &x->c, "c", BRG_F64, 1, shape)))
		goto fail;
	brg_array *arrays[3] = {x->a, x->b, x->c};
	*what = "filling the arrays";
	if ((r = bench_fill(pool, BENCH_FILL_STREAM, arrays, 3, cfg->n, 0, 0)))
		goto fail;
	bench_note_pages(res, "stream arrays", arrays, 3);
	*data = x;
	return 0;
fail:
	stream_close(x);
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
		.n = x->n,
	};
}

const struct bench_group bench_group_stream = {
	.kernels = {BK_TRIAD, BK_DOT, BK_SUMSQ},
	.nkernels = 3,
	.open = stream_open,
	.job = stream_job,
	.close = stream_close,
};
