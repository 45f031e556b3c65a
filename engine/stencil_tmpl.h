/* SPDX-License-Identifier: MIT */
/* stencil_tmpl.h - the pixel-type half of the stencils: loading a row into the float ring
 * with its clamped border, and storing a finished row.  stencil.c includes it once per
 * dtype with T, SUF, DT and SK (SK_U8 or SK_F32) defined. */

#define FN(name) BRG__CAT3(name, _, SUF)

/* One output pixel from its k x k window: taps in a fixed order (row by row, left to
 * right), then the division of box blurs and the conversion to T. */
#if SK == SK_U8
/* Saturate (NaN goes to 0), then round half up. */
#define STORE(v) ((T)((v) > 0.0f ? ((v) < 255.0f ? (v) : 255.0f) + 0.5f : 0.5f))
#else
#define STORE(v) (v)
#endif

/* Interior columns of an output row straight from the k source rows (no copy, no border
 * test): dst[j] is the window whose top-left pixel is p0[j].  The rows are separate
 * restrict pointers so the column loop vectorizes.  div == 1 (a correlation) skips the
 * division: x / 1 is x, so the bits are the same either way. */
BRG__CLONES static void FN(inner3)(T *restrict dst, const T *restrict p0,
				   const T *restrict p1, const T *restrict p2,
				   const float *restrict w, float div, size_t n)
{
	const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
		    w7 = w[7], w8 = w[8];
#define TAPS3(j)                                                                           \
	(w0 * (float)p0[j] + w1 * (float)p0[(j) + 1] + w2 * (float)p0[(j) + 2] +            \
	 w3 * (float)p1[j] + w4 * (float)p1[(j) + 1] + w5 * (float)p1[(j) + 2] +            \
	 w6 * (float)p2[j] + w7 * (float)p2[(j) + 1] + w8 * (float)p2[(j) + 2])
	if (div == 1.0f) {
		for (size_t j = 0; j < n; j++) {
			float v = TAPS3(j);
			dst[j] = STORE(v);
		}
	} else {
		for (size_t j = 0; j < n; j++) {
			float v = TAPS3(j) / div;
			dst[j] = STORE(v);
		}
	}
#undef TAPS3
}

BRG__CLONES static void FN(inner5)(T *restrict dst, const T *restrict p0,
				   const T *restrict p1, const T *restrict p2,
				   const T *restrict p3, const T *restrict p4,
				   const float *restrict w, float div, size_t n)
{
	float wk[25];
	for (int t = 0; t < 25; t++)
		wk[t] = w[t];
#define ROW5(p, o)                                                                          \
	(wk[o] * (float)p[j] + wk[(o) + 1] * (float)p[j + 1] + wk[(o) + 2] * (float)p[j + 2] + \
	 wk[(o) + 3] * (float)p[j + 3] + wk[(o) + 4] * (float)p[j + 4])
	if (div == 1.0f) {
		for (size_t j = 0; j < n; j++) {
			float v = ROW5(p0, 0) + ROW5(p1, 5) + ROW5(p2, 10) + ROW5(p3, 15) +
				  ROW5(p4, 20);
			dst[j] = STORE(v);
		}
	} else {
		for (size_t j = 0; j < n; j++) {
			float v = (ROW5(p0, 0) + ROW5(p1, 5) + ROW5(p2, 10) + ROW5(p3, 15) +
				   ROW5(p4, 20)) /
				  div;
			dst[j] = STORE(v);
		}
	}
#undef ROW5
}

/* Output column c with its window clamped at the left and right edges; the taps are
 * summed in the same order as the inner loops, so a pixel has the same bits either way. */
static void FN(edge)(T *dst, const T *const *p, const float *w, float div, int k,
		     size_t cols, size_t c)
{
	int h = k / 2;
	float v = 0.0f;
	int first = 1;
	for (int di = 0; di < k; di++)
		for (int dj = 0; dj < k; dj++) {
			long long cc = (long long)c + dj - h;
			cc = cc < 0 ? 0 : cc >= (long long)cols ? (long long)cols - 1 : cc;
			float term = w[di * k + dj] * (float)p[di][cc];
			v = first ? term : v + term;
			first = 0;
		}
	if (div != 1.0f)
		v = v / div;
	dst[c] = STORE(v);
}

#undef STORE

static void FN(row)(void *dstv, const void *const *pv, const float *w, float div, int k,
		    size_t cols)
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
	if (k == 3)
		FN(inner3)(dst + h, p[0], p[1], p[2], w, div, cols - 2 * h);
	else
		FN(inner5)(dst + h, p[0], p[1], p[2], p[3], p[4], w, div, cols - 2 * h);
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
