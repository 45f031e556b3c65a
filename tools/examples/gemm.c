/* SPDX-License-Identifier: MIT */
/* gemm.c - C = A B on row-major f64 matrices in shared memory: each participant calls
 * single-threaded OpenBLAS on its panel of rows of C. */
#include <brigade.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	brg_pool *pool;
	if (brg_pool_create(&pool, NULL))
		return 1;
	size_t m = 600, k = 400, n = 500, sa[2] = {m, k}, sb[2] = {k, n}, sc[2] = {m, n};
	char na[64], nb[64], nc[64];
	snprintf(na, sizeof na, "example-A-%d", (int)getpid());
	snprintf(nb, sizeof nb, "example-B-%d", (int)getpid());
	snprintf(nc, sizeof nc, "example-C-%d", (int)getpid());
	brg_array *a = NULL, *b = NULL, *c = NULL;
	int r;
	if (!(r = brg_pool_array_create(pool, &a, na, BRG_F64, 2, sa, NULL)) &&
	    !(r = brg_pool_array_create(pool, &b, nb, BRG_F64, 2, sb, NULL)) &&
	    !(r = brg_pool_array_create(pool, &c, nc, BRG_F64, 2, sc, NULL))) {
		double *A = brg_array_data(a), *B = brg_array_data(b);
		for (size_t i = 0; i < m * k; i++)
			A[i] = (double)(i % 7) - 3;
		for (size_t i = 0; i < k * n; i++)
			B[i] = (double)(i % 5) * 0.5;
		/* C = 1.0 A B + 0.0 C */
		r = brg_blas_gemm(pool, c, 1.0, BRG_NOTRANS, a, BRG_NOTRANS, b, 0.0);
	}
	int ok = r == 0;
	if (ok) {
		const double *A = brg_array_data(a), *B = brg_array_data(b), *C = brg_array_data(c);
		for (size_t i = 0; i < m; i += 97) /* a few entries against a plain dot product */
			for (size_t j = 0; j < n; j += 89) {
				double want = 0;
				for (size_t p = 0; p < k; p++)
					want += A[i * k + p] * B[p * n + j];
				ok &= fabs(C[i * n + j] - want) <= 1e-9 * (1 + fabs(want));
			}
	}
	printf("C = A B, %zu x %zu: %s\n", m, n, ok ? "checked" : brg_strerror(r));
	brg_array_close(a);
	brg_array_close(b);
	brg_array_close(c);
	brg_segment_unlink(na);
	brg_segment_unlink(nb);
	brg_segment_unlink(nc);
	brg_pool_destroy(pool);
	return ok ? 0 : 1;
}
