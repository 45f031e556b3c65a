/* SPDX-License-Identifier: MIT */
/* user_kernel.c - a kernel of your own: y[i] = sqrt(x[i]) + c over f64 arrays, run by
 * brg_pool_for on index ranges, on the calling process and the pool's pinned workers. */
#include <brigade.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* One range [begin, end) of the index space; the arrays are mapped in every process. */
static int sqrt_plus(const brg_task *t)
{
	const double *x = brg_array_data(t->arrays[0]);
	double *y = brg_array_data(t->arrays[1]);
	double c = *(const double *)t->args;
	for (size_t i = t->begin; i < t->end; i++)
		y[i] = sqrt(x[i]) + c;
	return 0;
}

/* Idempotent: a range whose worker died is simply run again. */
static const brg_kernel sqrt_plus_kernel = {"sqrt_plus", sqrt_plus, BRG_KERNEL_IDEMPOTENT};

int main(void)
{
	size_t n = 10000000;
	char xn[64], yn[64];
	snprintf(xn, sizeof xn, "example-x-%d", (int)getpid());
	snprintf(yn, sizeof yn, "example-y-%d", (int)getpid());
	brg_pool *pool;
	brg_array *x = NULL, *y = NULL;
	int r = brg_pool_create(&pool, NULL); /* the caller plus a worker per core */
	if (r)
		goto out;
	r = brg_pool_array_create(pool, &x, xn, BRG_F64, 1, &n, NULL); /* pages placed where used */
	if (r)
		goto out_pool;
	r = brg_pool_array_create(pool, &y, yn, BRG_F64, 1, &n, NULL);
	if (r)
		goto out_x;
	r = brg_vec_fill(pool, x, 16.0);
	if (r)
		goto out_y;

	brg_array *arrays[] = {x, y};
	double c = 0.5;
	brg_schedule sched = {BRG_SCHED_DYNAMIC, 65536}; /* chunks of 65536 indices */
	r = brg_pool_for(pool, &sqrt_plus_kernel, n, sched, arrays, 2, &c, sizeof c);
	if (r == 0 && ((const double *)brg_array_data(y))[n - 1] != 4.5)
		r = -1;
	printf("y[%zu] = %g on %d participants\n", n - 1,
	       ((const double *)brg_array_data(y))[n - 1], brg_pool_size(pool));

out_y:
	brg_array_close(y);
	brg_segment_unlink(yn);
out_x:
	brg_array_close(x);
	brg_segment_unlink(xn);
out_pool:
	brg_pool_destroy(pool);
out:
	if (r)
		fprintf(stderr, "user_kernel: %s\n", brg_strerror(r));
	return r ? 1 : 0;
}
