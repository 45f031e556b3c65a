/* SPDX-License-Identifier: MIT */
/* k_stream.c - brigade's bandwidth kernels in this process: triad, dot and sumsq on f64 arrays
 * placed by brg_pool_array_create, each checked once against the reference. */
#include <math.h>
#include <stdio.h>

#include "bench.h"

struct stream_ctx {
	brg_pool *pool;
	brg_array *a, *b, *c;
	size_t n;
	double s;
	brg_scalar out;
	const struct bench_refs *refs;
	struct bench_rec *rec;
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
static int check_triad(void *p)
{
	struct stream_ctx *x = p;
	const double *a = brg_array_data(x->a);
	for (size_t i = 0; i < x->n; i++) {
		double want = bench_init_b(i) + x->s * bench_init_c(i);
		if (!bench_value_ok(a[i], want)) {
			bench_rec_fail(x->rec, BS_FAILED,
				       "WRONG RESULT: a[%zu] = %.17g, serial loop gives %.17g", i,
				       a[i], want);
			return BENCH_WRONG;
		}
	}
	x->rec->value = ref_sum(a, x->n);
	x->rec->has_value = 1;
	return 0;
}

static int check_scalar(void *p)
{
	struct stream_ctx *x = p;
	double want = bench_refs_value(x->refs, x->rec->kernel, x->n);
	x->rec->value = x->out.f;
	x->rec->has_value = 1;
	if (!bench_value_ok(x->out.f, want)) {
		bench_rec_fail(x->rec, BS_FAILED, "WRONG RESULT: %.17g, serial loop gives %.17g",
			       x->out.f, want);
		return BENCH_WRONG;
	}
	return 0;
}

/* A failed record for each selected stream kernel, when the arrays could not be made. */
static void fail_all(const struct bench_config *cfg, int workers, struct bench_results *res,
		     const char *what, int code)
{
	for (int k = BK_TRIAD; k <= BK_SUMSQ; k++) {
		if (!cfg->kernels[k])
			continue;
		struct bench_rec rec;
		bench_rec_init(&rec, k, BI_BRIGADE, workers, cfg->n);
		bench_rec_fail(&rec, BS_FAILED, "%s: %s (%s)", what, brg_strerror(code),
			       brg_err_name(code));
		bench_report_brigade(res, &rec, code);
	}
}

void bench_run_stream(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		      struct bench_results *res)
{
	if (!cfg->kernels[BK_TRIAD] && !cfg->kernels[BK_DOT] && !cfg->kernels[BK_SUMSQ])
		return;
	int workers = brg_pool_size(pool);
	struct stream_ctx x = {.pool = pool, .n = cfg->n, .s = cfg->scalar, .refs = refs};
	size_t shape[1] = {cfg->n};
	int r;
	if ((r = bench_array_create(pool, &x.a, "a", BRG_F64, 1, shape)) ||
	    (r = bench_array_create(pool, &x.b, "b", BRG_F64, 1, shape)) ||
	    (r = bench_array_create(pool, &x.c, "c", BRG_F64, 1, shape))) {
		fail_all(cfg, workers, res, "brg_pool_array_create", r);
		goto out;
	}
	brg_array *arrays[3] = {x.a, x.b, x.c};
	if ((r = bench_fill(pool, BENCH_FILL_STREAM, arrays, 3, cfg->n, 0, 0))) {
		fail_all(cfg, workers, res, "filling the arrays", r);
		goto out;
	}
	double share = 1;
	for (int i = 0; i < 3; i++) {
		double s = bench_huge_share(arrays[i]);
		share = s < share ? s : share;
	}
	if (share >= 0)
		bench_note(res, "pages: brigade's stream arrays had %.0f%% of their mapping on 2 MiB "
				"pages (the least of the three)%s", share * 100,
			   share < 0.99 ? "; the kernel made no more (old kernel? no free 2 MiB "
					  "blocks? shmem_enabled = deny?)" : "");
	static const struct {
		int kernel;
		bench_op_fn op;
		int (*check)(void *);
	} runs[] = {
		{BK_TRIAD, op_triad, check_triad},
		{BK_DOT, op_dot, check_scalar},
		{BK_SUMSQ, op_sumsq, check_scalar},
	};
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if (!cfg->kernels[runs[i].kernel])
			continue;
		struct bench_rec rec;
		bench_rec_init(&rec, runs[i].kernel, BI_BRIGADE, workers, cfg->n);
		x.rec = &rec;
		r = bench_measure(&rec, runs[i].op, &x, runs[i].check, cfg->repeat, 1);
		bench_report_brigade(res, &rec, r);
	}
out:
	bench_array_destroy(x.a);
	bench_array_destroy(x.b);
	bench_array_destroy(x.c);
}
