/* SPDX-License-Identifier: MIT */
/* stencil_isa.h - the interior loops of the stencils of one pixel type for one instruction
 * set.  stencil_tmpl.h includes it once per level with ISA (name suffix) and ISA_ATTR (a
 * target attribute, or nothing) defined, on top of its own T, SUF and STORE.
 *
 * A window's sum is fixed: each row's products summed left to right, then the rows summed top
 * to bottom (edge() in stencil_tmpl.h sums the same way).  No operation is fused (the file
 * is compiled with fp-contract=off) and the vector width changes how many pixels one
 * instruction computes, never the arithmetic, so every level gives the same bits
 * (tests/kernels/test_stencil.c runs each on the same rows).  Fusing the taps where the
 * level has FMA measured 1-2% faster at 2 workers here and would make the baseline either
 * differ in the last bit or call an emulated fmaf at 20-50 ns a pixel. */

#define IFN(name) FN(BRG__CAT3(name, _, ISA))

/* dst[j] for j in [0, n) from the window whose top-left pixel is p0[j]; the rows are
 * separate restrict pointers so the column loop vectorizes.  div == 1 (a correlation) skips
 * the division: x / 1 is x, so the bits are the same either way. */
ISA_ATTR static void IFN(inner3)(T *restrict dst, const T *restrict p0, const T *restrict p1,
				 const T *restrict p2, const float *restrict w, float div,
				 size_t n)
{
	const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
		    w7 = w[7], w8 = w[8];
#define ROW3(p, a, b, c) (a * (float)p[j] + b * (float)p[j + 1] + c * (float)p[j + 2])
#define WIN3 (ROW3(p0, w0, w1, w2) + ROW3(p1, w3, w4, w5) + ROW3(p2, w6, w7, w8))
	/* two loops, not a test of div inside one: GCC vectorizes only the former */
	if (div == 1.0f) {
		for (size_t j = 0; j < n; j++)
			dst[j] = STORE(WIN3);
	} else {
		for (size_t j = 0; j < n; j++)
			dst[j] = STORE(WIN3 / div);
	}
#undef WIN3
#undef ROW3
}

ISA_ATTR static void IFN(inner5)(T *restrict dst, const T *restrict p0, const T *restrict p1,
				 const T *restrict p2, const T *restrict p3, const T *restrict p4,
				 const float *restrict w, float div, size_t n)
{
	float wk[25];
	for (int t = 0; t < 25; t++)
		wk[t] = w[t];
#define ROW5(p, o)                                                                             \
	(wk[o] * (float)p[j] + wk[(o) + 1] * (float)p[j + 1] + wk[(o) + 2] * (float)p[j + 2] +  \
	 wk[(o) + 3] * (float)p[j + 3] + wk[(o) + 4] * (float)p[j + 4])
#define WIN5 (ROW5(p0, 0) + ROW5(p1, 5) + ROW5(p2, 10) + ROW5(p3, 15) + ROW5(p4, 20))
	if (div == 1.0f) {
		for (size_t j = 0; j < n; j++)
			dst[j] = STORE(WIN5);
	} else {
		for (size_t j = 0; j < n; j++)
			dst[j] = STORE(WIN5 / div);
	}
#undef WIN5
#undef ROW5
}

static const struct FN(inner_set) IFN(inner) = {IFN(inner3), IFN(inner5)};

#undef IFN
#undef ISA
#undef ISA_ATTR
