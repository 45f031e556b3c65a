/* SPDX-License-Identifier: MIT */
/* reduction.c - a reduction of your own with brg_pool_reduce: how many elements exceed a
 * threshold, and their sum.  Each fixed block writes a partial; the partials are combined in
 * block order, so the result has the same bits at any worker count and schedule.  The
 * built-in sums (brg_reduce_sum) work the same way. */
#include <brigade.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct above {
	uint64_t count;
	double sum;
};

/* One block [begin, end): its partial goes to t->scratch (BRG_SCRATCH_BYTES). */
static int above_block(const brg_task *t)
{
	const double *x = brg_array_data(t->arrays[0]);
	double limit = *(const double *)t->args;
	struct above p = {0, 0};
	for (size_t i = t->begin; i < t->end; i++)
		if (x[i] > limit) {
			p.count++;
			p.sum += x[i];
		}
	memcpy(t->scratch, &p, sizeof p);
	return 0;
}

static void above_combine(void *into, const void *from, const void *args)
{
	struct above a, b;
	memcpy(&a, into, sizeof a);
	memcpy(&b, from, sizeof b);
	a.count += b.count;
	a.sum += b.sum;
	memcpy(into, &a, sizeof a);
}

static const brg_kernel above_kernel = {"above", above_block, BRG_KERNEL_IDEMPOTENT};

int main(void)
{
	brg_pool *pool;
	if (brg_pool_create(&pool, NULL))
		return 1;
	size_t n = 5000000;
	char name[64];
	snprintf(name, sizeof name, "example-reduce-%d", (int)getpid());
	brg_array *x;
	int r = brg_pool_array_create(pool, &x, name, BRG_F64, 1, &n, NULL);
	if (r == 0) {
		double *d = brg_array_data(x);
		for (size_t i = 0; i < n; i++)
			d[i] = (double)(i % 100); /* 0..99, each n/100 times */
		double limit = 89.5;
		brg_array *arrays[] = {x};
		brg_job_desc job = {.size = sizeof job,
				    .kernel = &above_kernel,
				    .n = n,
				    .arrays = arrays,
				    .narrays = 1,
				    .args = &limit,
				    .args_size = sizeof limit,
				    .combine = above_combine};
		struct above got;
		r = brg_pool_reduce(pool, &job, &got, sizeof got);
		brg_scalar total;
		if (r == 0)
			r = brg_reduce_sum(pool, &total, x); /* a built-in reduction */
		int ok = r == 0 && got.count == n / 10 && got.sum == (double)(n / 100) * 945.0 &&
			 total.f == (double)(n / 100) * 4950.0;
		printf("%llu elements above %g, summing to %.0f; all: %.0f\n",
		       (unsigned long long)got.count, limit, got.sum, total.f);
		r = ok ? 0 : -1;
		brg_array_close(x);
		brg_segment_unlink(name);
	}
	brg_pool_destroy(pool);
	return r ? 1 : 0;
}
