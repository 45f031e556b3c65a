/* SPDX-License-Identifier: MIT */
/* stencil_tmpl.h - the stencils of one pixel type: the interior loops of every
 * instruction-set level, the clamped edge columns and the kernel.  stencil.c includes it once
 * per dtype with T, SUF, DT and SK (SK_U8 or SK_F32) defined. */

#define FN(name) BRG__CAT3(name, _, SUF)

/* One output pixel from its k x k window: the sum in a fixed order (stencil_isa.h), then
 * the division of box blurs and STORE, the conversion to T. */
#if SK == SK_U8
/* Saturate (NaN goes to 0), then round half up. */
#define STORE(v) ((T)((v) > 0.0f ? ((v) < 255.0f ? (v) : 255.0f) + 0.5f : 0.5f))
#else
#define STORE(v) (v)
#endif

/* The interior loops of one instruction-set level (stencil_isa.h). */
struct FN(inner_set) {
	void (*inner3)(T *restrict dst, const T *restrict p0, const T *restrict p1,
		       const T *restrict p2, const float *restrict w, float div, size_t n);
	void (*inner5)(T *restrict dst, const T *restrict p0, const T *restrict p1,
		       const T *restrict p2, const T *restrict p3, const T *restrict p4,
		       const float *restrict w, float div, size_t n);
};

#define ISA avx512
#define ISA_ATTR __attribute__((target("avx512f,avx512bw")))
#include "stencil_isa.h"
#define ISA avx2
#define ISA_ATTR __attribute__((target("avx2")))
#include "stencil_isa.h"
#define ISA base
#define ISA_ATTR
#include "stencil_isa.h"

static const struct FN(inner_set) *const FN(inner)[BRG__ISA_COUNT] = {
	[BRG__ISA_BASE] = &FN(inner_base),
	[BRG__ISA_AVX2] = &FN(inner_avx2),
	[BRG__ISA_AVX512] = &FN(inner_avx512),
};

/* Output column c with its window clamped at the left and right edges, summed as the inner
 * loops sum (stencil_isa.h), so a pixel has the same bits either way. */
static void FN(edge)(T *dst, const T *const *p, const float *w, float div, int k,
		     size_t cols, size_t c)
{
	int h = k / 2;
	float v = 0.0f;
	for (int di = 0; di < k; di++) {
		float row = 0.0f;
		for (int dj = 0; dj < k; dj++) {
			long long cc = (long long)c + dj - h;
			cc = cc < 0 ? 0 : cc >= (long long)cols ? (long long)cols - 1 : cc;
			float term = w[di * k + dj] * (float)p[di][cc];
			row = dj ? row + term : term;
		}
		v = di ? v + row : row;
	}
	if (div != 1.0f)
		v = v / div;
	dst[c] = STORE(v);
}

#undef STORE

static void FN(row)(void *dstv, const void *const *pv, const float *w, float div, int k,
		    size_t cols, int isa)
{
	T *dst = dstv;
	const T *const *p = (const T *const *)pv;
	size_t h = (size_t)(k / 2);
	if (cols <= 2 * h) {
		for (size_t c = 0; c < cols; c++)
			FN(edge)(dst, p, w, div, k, cols, c);
		return;
	}
	for (size_t c = 0; c < h; c++) {
		FN(edge)(dst, p, w, div, k, cols, c);
		FN(edge)(dst, p, w, div, k, cols, cols - 1 - c);
	}
	const struct FN(inner_set) *in = FN(inner)[isa];
	if (k == 3)
		in->inner3(dst + h, p[0], p[1], p[2], w, div, cols - 2 * h);
	else
		in->inner5(dst + h, p[0], p[1], p[2], p[3], p[4], w, div, cols - 2 * h);
}

static int FN(k_stencil)(const brg_task *t)
{
	size_t rows, cols;
	int r = stencil_task_check(t, DT, &rows, &cols);
	if (r)
		return r;
	stencil_rows(t, t->args, rows, cols, (const unsigned char *)brg_array_data(t->arrays[1]),
		     sizeof(T), (unsigned char *)brg_array_data(t->arrays[0]), FN(row));
	return 0;
}

static const brg_kernel FN(kern_stencil) = {"brg.stencil." BRG__STR(SUF), FN(k_stencil),
					    BRG_KERNEL_IDEMPOTENT};

#undef FN
#undef T
#undef SUF
#undef DT
#undef SK
