/* SPDX-License-Identifier: MIT */
/* stencil.c - 2-D stencils (k x k correlation, box blur) over images of u8 or f32, as pool
 * jobs over the rows. */
/* No contraction: every fused multiply-add is an fmaf (stencil_isa.h).  No trapping math:
 * the u8 STORE compares floats, and GCC if-converts (so vectorizes) that loop only when a
 * compare may not trap; brigade never reads the floating-point exception flags, and no value
 * changes. */
#pragma GCC optimize("fp-contract=off", "no-trapping-math")

#include <errno.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

#define SK_U8 0
#define SK_F32 1
#define KMAX 5

struct stencil_args {
	int32_t k;
	float div; /* the weighted sum is divided by this: 1 for conv, the window for box */
	float w[KMAX * KMAX];
};

/* One output row from the k source rows of its window (clamped row numbers). */
typedef void (*row_fn)(void *dst, const void *const *p, const float *w, float div, int k,
		       size_t cols);

/* Worker side: two 2-D arrays of dtype dt and one shape, out writable, rows in range. */
static int stencil_task_check(const brg_task *t, brg_dtype dt, size_t *rows, size_t *cols)
{
	if (brg__ktask_arrays(t, 2, 1, dt))
		return BRG_EPOOLSTATE;
	const brg_array *o = t->arrays[0], *in = t->arrays[1];
	if (in->meta.lay.ndim != 2 || brg__kcheck_same_shape(o, in) ||
	    t->end > in->meta.lay.shape[0])
		return BRG_EPOOLSTATE;
	const struct stencil_args *a = t->args;
	if (a->k != 3 && a->k != 5)
		return BRG_EPOOLSTATE;
	*rows = in->meta.lay.shape[0];
	*cols = in->meta.lay.shape[1];
	return 0;
}

/* Rows [t->begin, t->end) of out, each from the k source rows of its window: rows above
 * the top or below the bottom repeat the edge row (clamp), columns likewise inside row. */
static void stencil_rows(const brg_task *t, const struct stencil_args *a, size_t rows,
			 size_t cols, const unsigned char *in, size_t esize, unsigned char *out,
			 row_fn row)
{
	int k = a->k, h = k / 2;
	const void *p[KMAX];
	for (size_t i = t->begin; i < t->end; i++) {
		for (int di = 0; di < k; di++) {
			long long u = (long long)i + di - h;
			u = u < 0 ? 0 : u >= (long long)rows ? (long long)rows - 1 : u;
			p[di] = in + (size_t)u * cols * esize;
		}
		row(out + i * cols * esize, p, a->w, a->div, k, cols);
	}
}

#define T uint8_t
#define SUF u8
#define DT BRG_U8
#define SK SK_U8
#include "stencil_tmpl.h"
#define T float
#define SUF f32
#define DT BRG_F32
#define SK SK_F32
#include "stencil_tmpl.h"

int brg__stencil_row(brg_dtype dt, int isa, void *dst, const void *const *src, int k,
		     const float *w, float div, size_t cols)
{
	if (!dst || !src || !w || (k != 3 && k != 5) || isa < 0 || isa >= BRG__ISA_COUNT)
		return -EINVAL;
	if (dt != BRG_U8 && dt != BRG_F32)
		return BRG_EDTYPE;
	if (isa > brg__isa_level())
		return -ENOTSUP;
	(dt == BRG_U8 ? rows_u8 : rows_f32)[isa](dst, src, w, div, k, cols);
	return 0;
}

size_t brg__stencil_kernels(const brg_kernel **out, size_t max)
{
	static const brg_kernel *const list[] = {&kern_stencil_u8, &kern_stencil_f32};
	size_t at = 0;
	brg__klist_append(out, max, &at, list, sizeof list / sizeof list[0]);
	return at;
}

static int stencil_call(brg_pool *pool, brg_array *out, const brg_array *in,
			const struct stencil_args *a, int border)
{
	brg_dtype dt = in->meta.lay.dtype;
	if (dt != BRG_U8 && dt != BRG_F32)
		return BRG_EDTYPE;
	int r;
	if (in->meta.lay.ndim != 2)
		return BRG_ESHAPE;
	if ((r = brg__kcheck_same_shape(out, in)) || (r = brg__kcheck_output(out)))
		return r;
	if (brg__kcheck_alias(out, in))
		return BRG_EALIAS;
	if ((a->k != 3 && a->k != 5) || border != BRG_BORDER_CLAMP)
		return BRG_EBADARG;
	size_t rows = in->meta.lay.shape[0], cols = in->meta.lay.shape[1];
	if (rows == 0 || cols == 0)
		return 0;
	brg_array *arrays[] = {out, (brg_array *)in};
	const brg_kernel *k = dt == BRG_U8 ? &kern_stencil_u8 : &kern_stencil_f32;
	return brg__krun(pool, k, rows, a, sizeof *a, arrays, 2);
}

int brg_stencil_conv(brg_pool *pool, brg_array *out, const brg_array *in, int k,
		     const float *weights, brg_border border)
{
	if (!pool || !out || !in || !weights)
		return -EINVAL;
	struct stencil_args a;
	memset(&a, 0, sizeof a);
	a.k = k;
	a.div = 1.0f;
	if (k == 3 || k == 5)
		memcpy(a.w, weights, (size_t)(k * k) * sizeof(float));
	return stencil_call(pool, out, in, &a, border);
}

int brg_stencil_box(brg_pool *pool, brg_array *out, const brg_array *in, int r,
		    brg_border border)
{
	if (!pool || !out || !in)
		return -EINVAL;
	struct stencil_args a;
	memset(&a, 0, sizeof a);
	/* Weights of one and a division at the end: a u8 window sum is exact in float, so the
	 * mean is correctly rounded before it is rounded to an integer. */
	a.k = r == 1 || r == 2 ? 2 * r + 1 : 0;
	a.div = (float)(a.k * a.k);
	for (int i = 0; i < a.k * a.k; i++)
		a.w[i] = 1.0f;
	return stencil_call(pool, out, in, &a, border);
}
