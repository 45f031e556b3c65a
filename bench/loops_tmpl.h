/* SPDX-License-Identifier: MIT */
/* loops_tmpl.h - the plain C loops of the serial and OpenMP peers, written once.  The includer
 * defines BENCH_LOOP(name) (the function's name), BENCH_LOOP_LINKAGE (static or nothing) and
 * the pragmas BENCH_PAR_FOR and BENCH_PAR_FOR_SUM8 (empty for the serial flavour), so serial
 * and OpenMP run the same loops and first-touch their data with the same static schedule.
 * No include guard: it is included once per flavour. */

/* a = 0, b, c from the formulas, over elements [lo, hi). */
BENCH_LOOP_LINKAGE void BENCH_LOOP(init_stream)(double *restrict a, double *restrict b,
						double *restrict c, size_t lo, size_t hi)
{
	BENCH_PAR_FOR
	for (size_t i = lo; i < hi; i++) {
		a[i] = 0;
		b[i] = bench_init_b(i);
		c[i] = bench_init_c(i);
	}
}

BENCH_LOOP_LINKAGE void BENCH_LOOP(triad)(double *restrict a, const double *restrict b, double s,
					  const double *restrict c, size_t n)
{
	BENCH_PAR_FOR
	for (size_t i = 0; i < n; i++)
		a[i] = b[i] + s * c[i];
}

/* Reductions keep eight accumulators, which the compiler turns into vector registers; a single
 * one would chain every add behind the previous one.  TERM is a macro giving the i-th term;
 * every reduction below is this one body, combined in the same fixed order. */
#ifndef BENCH_SUM8
#define BENCH_SUM8(TERM)                                                                       \
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;                    \
	size_t nb = n / 8;                                                                        \
	BENCH_PAR_FOR_SUM8                                                                        \
	for (size_t k = 0; k < nb; k++) {                                                         \
		s0 += TERM(8 * k + 0);                                                            \
		s1 += TERM(8 * k + 1);                                                            \
		s2 += TERM(8 * k + 2);                                                            \
		s3 += TERM(8 * k + 3);                                                            \
		s4 += TERM(8 * k + 4);                                                            \
		s5 += TERM(8 * k + 5);                                                            \
		s6 += TERM(8 * k + 6);                                                            \
		s7 += TERM(8 * k + 7);                                                            \
	}                                                                                         \
	for (size_t i = 8 * nb; i < n; i++)                                                       \
		s0 += TERM(i);                                                                    \
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
#define BENCH_TERM_XY(i) (x[i] * y[i])
#define BENCH_TERM_XX(i) (x[i] * x[i])
#define BENCH_TERM_X(i) ((double)x[i])
#endif
BENCH_LOOP_LINKAGE double BENCH_LOOP(dot)(const double *restrict x, const double *restrict y,
					  size_t n)
{
	BENCH_SUM8(BENCH_TERM_XY);
}

BENCH_LOOP_LINKAGE double BENCH_LOOP(sumsq)(const double *restrict x, size_t n)
{
	BENCH_SUM8(BENCH_TERM_XX);
}

/* The sum of an output, for the correctness check (not timed). */
BENCH_LOOP_LINKAGE double BENCH_LOOP(sum)(const double *restrict x, size_t n)
{
	BENCH_SUM8(BENCH_TERM_X);
}

/* The image's pixels [lo, hi) in row-major order. */
BENCH_LOOP_LINKAGE void BENCH_LOOP(init_image)(float *restrict img, size_t rows, size_t cols,
					       size_t lo, size_t hi)
{
	(void)rows;
	BENCH_PAR_FOR
	for (size_t p = lo; p < hi; p++)
		img[p] = bench_init_pixel(p / cols, p % cols);
}

BENCH_LOOP_LINKAGE void BENCH_LOOP(stencil3)(float *restrict out, const float *restrict in,
					     size_t rows, size_t cols, const float *restrict w)
{
	BENCH_PAR_FOR
	for (size_t r = 0; r < rows; r++)
		bench_stencil_row(out + r * cols, in + (r ? r - 1 : 0) * cols, in + r * cols,
				  in + (r + 1 < rows ? r + 1 : r) * cols, cols, w);
}

BENCH_LOOP_LINKAGE double BENCH_LOOP(sum_f32)(const float *restrict x, size_t n)
{
	BENCH_SUM8(BENCH_TERM_X);
}

/* A, B from the formulas and C = 0, over the elements [lo, hi) of the n x n matrices. */
BENCH_LOOP_LINKAGE void BENCH_LOOP(init_gemm)(double *restrict a, double *restrict b,
					      double *restrict c, size_t n, size_t lo, size_t hi)
{
	BENCH_PAR_FOR
	for (size_t p = lo; p < hi; p++) {
		a[p] = bench_init_ga(p / n, p % n);
		b[p] = bench_init_gb(p / n, p % n);
		c[p] = 0;
	}
}
