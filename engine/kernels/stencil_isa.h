/* SPDX-License-Identifier: MIT */
/* stencil_isa.h - one output row of the stencils of one pixel type for one instruction set.
 * stencil_tmpl.h includes it once per level with ISA (name suffix), ISA_ATTR (a target
 * attribute, or nothing) and ISA_FMA (1 where the level has fused multiply-add) defined, on
 * top of its own T, SUF and STORE.
 *
 * A window's taps are summed in row-major order, w0*x0 + w1*x1 + ... + w8*x8, one chain (the
 * edge columns too, so a pixel's bits do not depend on whether it touches the border).  With
 * ISA_FMA each product after the first is fused into the sum: one rounding a tap, as many as
 * a compiler that contracts the expression leaves (GCC fuses the first product into the
 * second instead, so its bits differ), and the AVX2 and AVX-512 levels give the same bits.
 * The x86-64 baseline has no FMA and rounds each product first; fmaf there would be a call
 * into libm (tens of times the AVX2 loop's time a pixel), so a machine that runs the
 * baseline may differ from one that does not in the last bit of a pixel.  Any level gives
 * the same bits at any worker count.  tests/kernels/test_stencil.c runs every level against
 * that arithmetic. */

#define IFN(name) FN(BRG__CAT3(name, _, ISA))
#if ISA_FMA
#define TAP(v, wt, x) ((v) = fmaf((wt), (float)(x), (v)))
#else
#define TAP(v, wt, x) ((v) = (v) + (wt) * (float)(x))
#endif
/* The column loop of an interior row around WIN, which sets v for column j: two loops, not
 * a test of div inside one, which GCC does not vectorize. */
#define COLUMNS(WIN)                                                                           \
	do {                                                                                   \
		if (div == 1.0f) {                                                             \
			for (size_t j = 0; j < n; j++) {                                       \
				WIN;                                                           \
				dst[j] = STORE(v);                                             \
			}                                                                      \
		} else {                                                                       \
			for (size_t j = 0; j < n; j++) {                                       \
				WIN;                                                           \
				dst[j] = STORE(v / div);                                       \
			}                                                                      \
		}                                                                              \
	} while (0)

/* dst[j] for j in [0, n) from the window whose top-left pixel is p0[j]; the rows are
 * separate restrict pointers so the column loop vectorizes.  div == 1 (a correlation) skips
 * the division: x / 1 is x, so the bits are the same either way. */
ISA_ATTR static void IFN(inner3)(T *restrict dst, const T *restrict p0, const T *restrict p1,
				 const T *restrict p2, const float *restrict w, float div,
				 size_t n)
{
	const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
		    w7 = w[7], w8 = w[8];
#define WIN3                                                                                   \
	float v = w0 * (float)p0[j];                                                           \
	TAP(v, w1, p0[j + 1]);                                                                 \
	TAP(v, w2, p0[j + 2]);                                                                 \
	TAP(v, w3, p1[j]);                                                                     \
	TAP(v, w4, p1[j + 1]);                                                                 \
	TAP(v, w5, p1[j + 2]);                                                                 \
	TAP(v, w6, p2[j]);                                                                     \
	TAP(v, w7, p2[j + 1]);                                                                 \
	TAP(v, w8, p2[j + 2])
	COLUMNS(WIN3);
#undef WIN3
}

ISA_ATTR static void IFN(inner5)(T *restrict dst, const T *restrict p0, const T *restrict p1,
				 const T *restrict p2, const T *restrict p3, const T *restrict p4,
				 const float *restrict w, float div, size_t n)
{
	float wk[25];
	for (int t = 0; t < 25; t++)
		wk[t] = w[t];
#define ROW5(p, o)                                                                             \
	TAP(v, wk[o], p[j]);                                                                   \
	TAP(v, wk[(o) + 1], p[j + 1]);                                                         \
	TAP(v, wk[(o) + 2], p[j + 2]);                                                         \
	TAP(v, wk[(o) + 3], p[j + 3]);                                                         \
	TAP(v, wk[(o) + 4], p[j + 4])
#define WIN5                                                                                   \
	float v = wk[0] * (float)p0[j];                                                        \
	TAP(v, wk[1], p0[j + 1]);                                                              \
	TAP(v, wk[2], p0[j + 2]);                                                              \
	TAP(v, wk[3], p0[j + 3]);                                                              \
	TAP(v, wk[4], p0[j + 4]);                                                              \
	ROW5(p1, 5);                                                                           \
	ROW5(p2, 10);                                                                          \
	ROW5(p3, 15);                                                                          \
	ROW5(p4, 20)
	COLUMNS(WIN5);
#undef WIN5
#undef ROW5
}

/* Output column c with its window clamped at the left and right edges. */
ISA_ATTR static void IFN(edge)(T *dst, const T *const *p, const float *w, float div, int k,
			       size_t cols, size_t c)
{
	int h = k / 2;
	float v = 0.0f;
	for (int di = 0; di < k; di++)
		for (int dj = 0; dj < k; dj++) {
			long long cc = (long long)c + dj - h;
			cc = cc < 0 ? 0 : cc >= (long long)cols ? (long long)cols - 1 : cc;
			if (di + dj == 0)
				v = w[0] * (float)p[0][cc];
			else
				TAP(v, w[di * k + dj], p[di][cc]);
		}
	if (div != 1.0f)
		v = v / div;
	dst[c] = STORE(v);
}

ISA_ATTR static void IFN(row)(void *dstv, const void *const *pv, const float *w, float div,
			      int k, size_t cols)
{
	T *dst = dstv;
	const T *const *p = (const T *const *)pv;
	size_t h = (size_t)(k / 2);
	if (cols <= 2 * h) {
		for (size_t c = 0; c < cols; c++)
			IFN(edge)(dst, p, w, div, k, cols, c);
		return;
	}
	for (size_t c = 0; c < h; c++) {
		IFN(edge)(dst, p, w, div, k, cols, c);
		IFN(edge)(dst, p, w, div, k, cols, cols - 1 - c);
	}
	if (k == 3)
		IFN(inner3)(dst + h, p[0], p[1], p[2], w, div, cols - 2 * h);
	else
		IFN(inner5)(dst + h, p[0], p[1], p[2], p[3], p[4], w, div, cols - 2 * h);
}

#undef COLUMNS
#undef TAP
#undef IFN
#undef ISA
#undef ISA_ATTR
#undef ISA_FMA
