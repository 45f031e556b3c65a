/* SPDX-License-Identifier: MIT */
/* k_stencil.c - brigade's stencil3 in this process: a 3x3 correlation of an f32 image with
 * clamped borders, checked pixel by pixel against the reference row loop. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

struct stencil_ctx {
	brg_pool *pool;
	brg_array *in, *out;
	size_t rows, cols;
};

static int op_stencil(void *p)
{
	struct stencil_ctx *x = p;
	return brg_stencil_conv(x->pool, x->out, x->in, 3, bench_stencil_w, BRG_BORDER_CLAMP);
}

static int check_stencil(void *p, struct bench_rec *rec)
{
	struct stencil_ctx *x = p;
	const float *in = brg_array_data(x->in), *out = brg_array_data(x->out);
	size_t rows = x->rows, cols = x->cols;
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
	if (!x)
		return;
	bench_array_destroy(x->in);
	bench_array_destroy(x->out);
	free(x);
}

static int stencil_open(const struct bench_config *cfg, const struct bench_refs *refs,
			brg_pool *pool, struct bench_results *res, void **data, const char **what)
{
	(void)refs;
	struct stencil_ctx *x = calloc(1, sizeof *x);
	if (!x) {
		*what = "calloc";
		return -ENOMEM;
	}
	*x = (struct stencil_ctx){.pool = pool, .rows = cfg->rows, .cols = cfg->cols};
	size_t shape[2] = {cfg->rows, cfg->cols};
	int r;
	*what = "brg_pool_array_create";
	if ((r = bench_array_create(pool, &x->in, "img", BRG_F32, 2, shape)) ||
	    (r = bench_array_create(pool, &x->out, "conv", BRG_F32, 2, shape)))
		goto fail;
	*what = "filling the image";
	if ((r = bench_fill(pool, BENCH_FILL_IMAGE, &x->in, 1, cfg->rows * cfg->cols, cfg->rows,
			    cfg->cols)))
		goto fail;
	brg_array *arrays[2] = {x->in, x->out};
	bench_note_pages(res, "images", arrays, 2);
	*data = x;
	return 0;
fail:
	stencil_close(x);
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
		.n = x->rows * x->cols,
	};
}

const struct bench_group bench_group_stencil = {
	.kernels = {BK_STENCIL3},
	.nkernels = 1,
	.open = stencil_open,
	.job = stencil_job,
	.close = stencil_close,
};
