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
	struct bench_rec *rec;
};

static int op_stencil(void *p)
{
	struct stencil_ctx *x = p;
	return brg_stencil_conv(x->pool, x->out, x->in, 3, bench_stencil_w, BRG_BORDER_CLAMP);
}

static int check_stencil(void *p)
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
					x->rec, BS_FAILED,
					"WRONG RESULT: out[%zu][%zu] = %.9g, serial loop: %.9g",
					i, c, (double)out[i * cols + c], (double)want[c]);
				r = BENCH_WRONG;
				break;
			}
		}
	}
	free(want);
	if (!r) {
		x->rec->value = ref_sum_f32(out, rows * cols);
		x->rec->has_value = 1;
	}
	return r;
}

void bench_run_stencil(const struct bench_config *cfg, const struct bench_refs *refs,
		       brg_pool *pool, struct bench_results *res)
{
	(void)refs;
	if (!cfg->kernels[BK_STENCIL3])
		return;
	struct stencil_ctx x = {.pool = pool, .rows = cfg->rows, .cols = cfg->cols};
	struct bench_rec rec;
	bench_rec_init(&rec, BK_STENCIL3, BI_BRIGADE, brg_pool_size(pool), cfg->rows * cfg->cols);
	x.rec = &rec;
	size_t shape[2] = {cfg->rows, cfg->cols};
	int r;
	if ((r = bench_array_create(pool, &x.in, "img", BRG_F32, 2, shape)) ||
	    (r = bench_array_create(pool, &x.out, "conv", BRG_F32, 2, shape)) ||
	    (r = bench_fill(pool, BENCH_FILL_IMAGE, &x.in, 1, cfg->rows * cfg->cols, cfg->rows,
			    cfg->cols))) {
		bench_report_brigade(res, &rec, r);
		goto out;
	}
	r = bench_measure(&rec, op_stencil, &x, check_stencil, cfg->repeat, 1);
	bench_report_brigade(res, &rec, r);
out:
	bench_array_destroy(x.in);
	bench_array_destroy(x.out);
}
