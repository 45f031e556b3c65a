/* SPDX-License-Identifier: MIT */
/* k_stencil.c - brigade's stencil3 in this process: a 3x3 correlation of an f32 image with
 * clamped borders, checked pixel by pixel against the reference row loop. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

enum { IN, OUT };

struct stencil_ctx {
	brg_pool *pool;
	struct bench_arrays arr; /* rows x cols: arr.shape */
};

static int op_stencil(void *p)
{
	struct stencil_ctx *x = p;
	return brg_stencil_conv(x->pool, x->arr.v[OUT], x->arr.v[IN], 3, bench_stencil_w, BRG_BORDER_CLAMP);
}

static int check_stencil(void *p, struct bench_rec *rec)
{
	struct stencil_ctx *x = p;
	const float *in = brg_array_data(x->arr.v[IN]), *out = brg_array_data(x->arr.v[OUT]);
	size_t rows = x->arr.shape[0], cols = x->arr.shape[1];
	float *want = malloc(cols * sizeof *want);
	if (!want)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; i < rows && !r; i++) {
		bench_stencil_row(want, in + (i ? i - 1 : 0) * cols, in + i * cols,
				  in + (i + 1 < rows ? i + 1 : i) * cols, cols, bench_stencil_w);
		for (size_t c = 0; c < cols; c++) {
			if (!bench_value_ok(out[i * cols + c], want[c])) {
				bench_rec_fail(
					rec, BS_FAILED,
					"WRONG RESULT: out[%zu][%zu] = %.9g, serial loop: %.9g",
					i, c, (double)out[i * cols + c], (double)want[c]);
				r = BENCH_WRONG;
				break;
			}
		}
	}
	free(want);
	if (!r) {
		rec->value = ref_sum_f32(out, rows * cols);
		rec->has_value = 1;
	}
	return r;
}

static void stencil_close(void *p)
{
	struct stencil_ctx *x = p;
	bench_arrays_drop(&x->arr);
	free(x);
}

static int stencil_open(const struct bench_config *cfg, const struct bench_refs *refs,
			brg_pool *pool, struct bench_results *res, void **data, const char **what)
{
	(void)refs;
	struct stencil_ctx *x = malloc(sizeof *x);
	if (!x) {
		*what = "malloc";
		return -ENOMEM;
	}
	*x = (struct stencil_ctx){
		.pool = pool,
		.arr = {.n = 2,
			.names = {"img", "conv"},
			.dtype = BRG_F32,
			.ndim = 2,
			.shape = {cfg->rows, cfg->cols},
			.fill = BENCH_FILL_IMAGE,
			.nfill = 1, /* the output is first touched by the pool, not written */
			.what = "images"},
	};
	int r = bench_arrays_make(pool, &x->arr, res, what);
	if (r)
		free(x);
	else
		*data = x;
	return r;
}

static void stencil_job(void *p, int kernel, struct bench_job *job)
{
	struct stencil_ctx *x = p;
	(void)kernel;
	*job = (struct bench_job){
		.op = op_stencil,
		.ctx = x,
		.check = check_stencil,
		.batch = 1,
		.per = 1,
		.n = x->arr.shape[0] * x->arr.shape[1],
	};
}

const struct bench_group bench_group_stencil = {
	.kernels = {BK_STENCIL3},
	.nkernels = 1,
	.open = stencil_open,
	.job = stencil_job,
	.close = stencil_close,
};
