/* SPDX-License-Identifier: MIT */
/* sumsq.c - the classic parallel sum of squares, 1^2 + 2^2 + ... + n^2, over an array in
 * shared memory: no data copied or pickled to the workers, and the same bits at any worker
 * count. */
#include <brigade.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
	brg_pool *pool;
	if (brg_pool_create(&pool, NULL))
		return 1;
	size_t n = 1 << 24;
	char name[64];
	snprintf(name, sizeof name, "example-sumsq-%d", (int)getpid());
	brg_array *x;
	int r = brg_pool_array_create(pool, &x, name, BRG_F64, 1, &n, NULL);
	if (r) {
		brg_pool_destroy(pool);
		return 1;
	}
	double *d = brg_array_data(x);
	for (size_t i = 0; i < n; i++)
		d[i] = (double)(i + 1);
	double t0 = now();
	brg_scalar s;
	r = brg_reduce_sumsq(pool, &s, x);
	double t = now() - t0;
	/* n (n + 1) (2n + 1) / 6; a sum of 16 million doubles in any order is good to some 14
	 * digits, and brigade's has the same bits whatever the number of workers. */
	double nn = (double)n, want = nn * (nn + 1) * (2 * nn + 1) / 6;
	int ok = r == 0 && s.f / want > 1 - 1e-12 && s.f / want < 1 + 1e-12;
	printf("sum of squares of 1..%zu = %.16g (%s) in %.2f ms on %d participants\n", n, s.f,
	       ok ? "right" : "WRONG", t * 1e3, brg_pool_size(pool));
	brg_array_close(x);
	brg_segment_unlink(name);
	brg_pool_destroy(pool);
	return ok ? 0 : 1;
}
