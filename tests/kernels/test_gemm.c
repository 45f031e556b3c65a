/* SPDX-License-Identifier: MIT */
/* test_gemm.c - GEMM and GEMV against a naive loop in long double on small non-square
 * shapes (every transpose combination, several alpha and beta, f32 and f64, pools of 1 to 3),
 * and against one single-threaded cblas call on 512x384x256; the caller's OpenBLAS thread
 * count survives the call.
 *
 * Tolerance: each element of C is a dot product of length k plus beta c; its rounding error
 * is at most gamma_(k+2) (|alpha| sum_l |a_il b_lj| + |beta c_ij|) with gamma_m = m u / (1 -
 * m u), u the unit roundoff of the dtype (standard bound, Higham 3.5); we allow twice that
 * for the BLAS kernels' blocked summation order. */
#include <cblas.h>
#include <float.h>

#include "kutil.h"

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

struct dims {
	size_t m, n, k;
};
static const struct dims small[] = {{1, 1, 1}, {7, 5, 3}, {13, 17, 11}, {64, 33, 70},
				    {5, 9, 0}, {101, 3, 40}};
#define NSMALL 6

static double uround(brg_dtype dt)
{
	return dt == BRG_F32 ? FLT_EPSILON / 2 : DBL_EPSILON / 2;
}

static double gamma_(brg_dtype dt, size_t m)
{
	double u = uround(dt);
	return 2 * (double)m * u / (1 - (double)m * u);
}

static void fill(brg_array *a)
{
	size_t n = brg_array_count(a);
	for (size_t i = 0; i < n; i++)
		ku_set(a, i, ku_unit(), 0);
}

/* op(X)[i][l] for a stored rows x cols array. */
static double at(const brg_array *x, int trans, size_t i, size_t l)
{
	size_t cols = brg_array_shape(x)[1];
	return trans ? ku_getf(x, l * cols + i) : ku_getf(x, i * cols + l);
}

/* Checks c (after) against alpha op(A) op(B) + beta c0 (before, NULL when beta is 0). */
static void check_gemm(const brg_array *c, const double *c0, const brg_array *a,
		       const brg_array *b, int ta, int tb, double alpha, double beta, size_t k,
		       const char *what)
{
	size_t m = brg_array_shape(c)[0], n = brg_array_shape(c)[1];
	brg_dtype dt = brg_array_dtype(c);
	size_t bad = 0;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++) {
			long double s = 0, mag = 0;
			for (size_t l = 0; l < k; l++) {
				long double p = (long double)at(a, ta, i, l) * at(b, tb, l, j);
				s += p;
				mag += fabsl(p);
			}
			double cz = beta != 0 ? c0[i * n + j] : 0;
			double ref = (double)(alpha * s + beta * cz);
			double tol = gamma_(dt, k + 2) *
				     (fabs(alpha) * (double)mag + fabs(beta) * fabs(cz));
			double got = ku_getf(c, i * n + j);
			if (!(fabs(got - ref) <= tol) && bad++ < 3)
				TEST_FAIL_("%s %s: C[%zu][%zu] = %.17g, reference %.17g, tol %.3g", what,
					   brg_dtype_name(dt), i, j, got, ref, tol);
		}
	CHECK_EQ(bad, 0);
}

static void small_gemm(brg_pool *pool)
{
	const brg_dtype dts[] = {BRG_F64, BRG_F32};
	const double alphas[] = {1.0, -0.5}, betas[] = {0.0, 0.75};
	for (int d = 0; d < 2; d++)
		for (int s = 0; s < NSMALL; s++) {
			size_t m = small[s].m, n = small[s].n, k = small[s].k;
			for (int ta = 0; ta < 2; ta++)
				for (int tb = 0; tb < 2; tb++) {
					size_t sa[2] = {ta ? k : m, ta ? m : k};
					size_t sb[2] = {tb ? n : k, tb ? k : n};
					size_t sc[2] = {m, n};
					brg_array *a = test_array_new_nd("ga", dts[d], 2, sa);
					brg_array *b = test_array_new_nd("gb", dts[d], 2, sb);
					brg_array *c = test_array_new_nd("gc", dts[d], 2, sc);
					fill(a);
					fill(b);
					double *c0 = malloc((m * n + 1) * sizeof *c0);
					REQUIRE(c0);
					for (int ai = 0; ai < 2; ai++)
						for (int bi = 0; bi < 2; bi++) {
							if (betas[bi] == 0) {
								ku_poison(c); /* must not be read */
							} else {
								fill(c);
							}
							for (size_t i = 0; i < m * n; i++)
								c0[i] = ku_getf(c, i);
							CHECK_EQ(brg_blas_gemm(pool, c, alphas[ai],
									       ta, a, tb, b,
									       betas[bi]),
								 0);
							char what[96];
							snprintf(what, sizeof what,
								 "gemm %zux%zux%zu ta=%d tb=%d alpha=%g beta=%g",
								 m, n, k, ta, tb, alphas[ai], betas[bi]);
							check_gemm(c, c0, a, b, ta, tb, alphas[ai], betas[bi],
								   k, what);
						}
					free(c0);
					test_array_drop(a);
					test_array_drop(b);
					test_array_drop(c);
				}
		}
}

static void small_gemv(brg_pool *pool)
{
	const brg_dtype dts[] = {BRG_F64, BRG_F32};
	for (int d = 0; d < 2; d++)
		for (int s = 0; s < NSMALL; s++) {
			size_t rows = small[s].m, cols = small[s].k;
			size_t sa[2] = {rows, cols};
			brg_array *a = test_array_new_nd("va", dts[d], 2, sa);
			fill(a);
			for (int tr = 0; tr < 2; tr++) {
				size_t xl = tr ? rows : cols, yl = tr ? cols : rows;
				brg_array *x = test_array_new("vx", dts[d], xl), *y = test_array_new("vy", dts[d], yl);
				fill(x);
				for (int bi = 0; bi < 2; bi++) {
					double beta = bi ? -1.25 : 0.0, alpha = 0.5;
					double *y0 = malloc((yl + 1) * sizeof *y0);
					REQUIRE(y0);
					if (beta == 0)
						ku_poison(y);
					else
						fill(y);
					for (size_t i = 0; i < yl; i++)
						y0[i] = ku_getf(y, i);
					CHECK_EQ(brg_blas_gemv(pool, y, alpha, tr, a, x, beta), 0);
					size_t bad = 0;
					for (size_t i = 0; i < yl; i++) {
						long double sum = 0, mag = 0;
						for (size_t l = 0; l < xl; l++) {
							double av = tr ? ku_getf(a, l * cols + i)
								       : ku_getf(a, i * cols + l);
							long double p = (long double)av * ku_getf(x, l);
							sum += p;
							mag += fabsl(p);
						}
						double yz = beta != 0 ? y0[i] : 0;
						double ref = (double)(alpha * sum + beta * yz);
						double tol = gamma_(dts[d], xl + 2) *
							     (fabs(alpha) * (double)mag + fabs(beta * yz));
						if (!(fabs(ku_getf(y, i) - ref) <= tol) && bad++ < 3)
							TEST_FAIL_("gemv %s %zux%zu trans=%d beta=%g: y[%zu] = "
								   "%.17g, reference %.17g",
								   brg_dtype_name(dts[d]), rows, cols, tr, beta,
								   i, ku_getf(y, i), ref);
					}
					CHECK_EQ(bad, 0);
					free(y0);
				}
				test_array_drop(x);
				test_array_drop(y);
			}
			test_array_drop(a);
		}
}

/* 512x384x256 against one cblas_dgemm call on the whole matrices. */
static void large_gemm(brg_pool *pool)
{
	const size_t m = 512, n = 384, k = 256;
	for (int ta = 0; ta < 2; ta++) {
		size_t sa[2] = {ta ? k : m, ta ? m : k}, sb[2] = {k, n}, sc[2] = {m, n};
		brg_array *a = test_array_new_nd("La", BRG_F64, 2, sa), *b = test_array_new_nd("Lb", BRG_F64, 2, sb);
		brg_array *c = test_array_new_nd("Lc", BRG_F64, 2, sc);
		fill(a);
		fill(b);
		fill(c);
		double *ref = malloc(m * n * sizeof *ref), *mag = malloc(m * n * sizeof *mag);
		REQUIRE(ref && mag);
		memcpy(ref, brg_array_data(c), m * n * sizeof *ref);
		cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m,
			    (int)n, (int)k, 1.5, brg_array_data(a), (int)sa[1], brg_array_data(b),
			    (int)n, -0.5, ref, (int)n);
		/* |A| |B| + |C| for the bound */
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < n; j++) {
				double s = 0;
				for (size_t l = 0; l < k; l++)
					s += fabs(at(a, ta, i, l) * at(b, 0, l, j));
				mag[i * n + j] = 1.5 * s + 0.5 * fabs(ku_getf(c, i * n + j));
			}
		CHECK_EQ(brg_blas_gemm(pool, c, 1.5, ta, a, BRG_NOTRANS, b, -0.5), 0);
		size_t bad = 0;
		double worst = 0;
		for (size_t i = 0; i < m * n; i++) {
			double e = fabs(ku_getf(c, i) - ref[i]);
			/* both sides within gamma of the exact value */
			bad += !(e <= 2 * gamma_(BRG_F64, k + 2) * mag[i]);
			worst = e > worst ? e : worst;
		}
		CHECK_EQ(bad, 0);
		printf("large gemm ta=%d: largest difference from one cblas call %.3g\n", ta, worst);
		free(ref);
		free(mag);
		test_array_drop(a);
		test_array_drop(b);
		test_array_drop(c);
	}
}

int main(void)
{
	test_init_pools();
	openblas_set_num_threads(2);
	int threads = openblas_get_num_threads();
	for (int p = 0; p < KU_NPOOLS; p++) {
		brg_pool *pool = ku_pool(ku_pools[p]);
		small_gemm(pool);
		small_gemv(pool);
		large_gemm(pool);
		/* the caller ran its panel on one BLAS thread, then got its setting back */
		CHECK_EQ(openblas_get_num_threads(), threads);
		brg_pool_destroy(pool);
	}
	return test_done();
}
