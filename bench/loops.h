/* SPDX-License-Identifier: MIT */
/* loops.h - the data every implementation of the bench computes on, as formulas of the index,
 * and the plain C reference loops (loops_tmpl.h compiled once in data.c with a ref_ prefix).
 *
 * The values are small multiples of powers of two, so every product and every partial sum
 * the kernels form is exact in binary floating point: results do not depend on summation
 * order, vector width, FMA contraction or the number of workers, and a checked result either
 * matches the reference or is wrong. */
#ifndef BRG_BENCH_LOOPS_H
#define BRG_BENCH_LOOPS_H

#include <stddef.h>
#include <stdint.h>

/* triad, dot, sumsq operands; the triad output a starts at 0. */
static inline double bench_init_b(size_t i)
{
	return 1.0 + 0.5 * (double)(i % 7);
}
static inline double bench_init_c(size_t i)
{
	return 2.0 - 0.25 * (double)(i % 5);
}
#define BENCH_TRIAD_SCALAR 3.0

/* stencil3 input image, rows x cols f32, and the 3x3 weights (not symmetric, so a flipped or
 * transposed stencil gives another result). */
static inline float bench_init_pixel(size_t r, size_t c)
{
	return (float)((r * 7 + c * 3) % 256);
}
static const float bench_stencil_w[9] = {
	1.0f / 64, 2.0f / 64, 3.0f / 64, 4.0f / 64, 5.0f / 64,
	6.0f / 64, 7.0f / 64, 8.0f / 64, 9.0f / 64,
};

/* dgemm operands, row-major n x n. */
static inline double bench_init_ga(size_t i, size_t k)
{
	return 0.125 * (double)((int)((3 * i + k) % 7) - 3);
}
static inline double bench_init_gb(size_t k, size_t j)
{
	return 0.25 * (double)((int)((k + 2 * j) % 5) - 2);
}

/* One output row of the 3x3 correlation; up, mid, dn are the input rows r-1, r, r+1 with the
 * image's edge rows repeated (BRG_BORDER_CLAMP), columns clamped the same way. */
static inline void bench_stencil_row(float *restrict o, const float *restrict up,
				     const float *restrict mid, const float *restrict dn,
				     size_t cols, const float *restrict w)
{
	const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
		    w7 = w[7], w8 = w[8];
	for (size_t c = 0; c<cols; c += cols> 1 ? cols - 1 : 1) {
		size_t l = c ? c - 1 : 0, r = c + 1 < cols ? c + 1 : c;
		o[c] = w0 * up[l] + w1 * up[c] + w2 * up[r] + w3 * mid[l] + w4 * mid[c] +
		       w5 * mid[r] + w6 * dn[l] + w7 * dn[c] + w8 * dn[r];
	}
	for (size_t c = 1; c + 1 < cols; c++)
		o[c] = w0 * up[c - 1] + w1 * up[c] + w2 * up[c + 1] + w3 * mid[c - 1] +
		       w4 * mid[c] + w5 * mid[c + 1] + w6 * dn[c - 1] + w7 * dn[c] + w8 * dn[c + 1];
}

/* The imbalance kernels: index i costs BENCH_IMB_COST * i steps of a 64-bit mix, each step
 * waiting on the last, so the work grows linearly with the index.  A step is a shift, an xor
 * and a multiply: an affine step (a multiply and an add) would let a compiler fold several
 * steps into one (clang does), and this one neither compiler can shorten, so a step costs the
 * same few cycles whichever built it.  The value, 1 plus the
 * state's top 20 bits, is never 0 and a sum of a few thousand of them is exact, so an index
 * skipped or done twice changes the sum. */
#define BENCH_IMB_COST 4
static inline double bench_imb_index(size_t i)
{
	uint64_t x = 0x9e3779b97f4a7c15u ^ (uint64_t)i;
	for (size_t k = 0; k < BENCH_IMB_COST * i; k++)
		x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9u;
	return (double)(1 + (x >> 44));
}
/* Steps of the mix over indices [0, n): the rate's numerator. */
static inline double bench_imb_steps(size_t n)
{
	return n ? (double)BENCH_IMB_COST * (double)n * (double)(n - 1) / 2 : 0;
}

/* The reference flavour of loops_tmpl.h (data.c). */
void ref_init_stream(double *restrict a, double *restrict b, double *restrict c, size_t lo,
		     size_t hi);
void ref_triad(double *restrict a, const double *restrict b, double s, const double *restrict c,
	       size_t n);
double ref_dot(const double *restrict x, const double *restrict y, size_t n);
double ref_sumsq(const double *restrict x, size_t n);
double ref_sum(const double *restrict x, size_t n);
void ref_init_image(float *restrict img, size_t rows, size_t cols, size_t lo, size_t hi);
void ref_stencil3(float *restrict out, const float *restrict in, size_t rows, size_t cols,
		  const float *restrict w);
double ref_sum_f32(const float *restrict x, size_t n);
void ref_init_gemm(double *restrict a, double *restrict b, double *restrict c, size_t n, size_t lo,
		   size_t hi);

#endif
