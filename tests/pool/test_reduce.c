/* SPDX-License-Identifier: MIT */
/* test_reduce.c - a float64 sum through brg_pool_reduce has the same bits for every pool size
 * and schedule, and the bits of a serial emulation: the same kernel per block of
 * brg_reduce_block_size(n) elements, then pairwise combination in block order. */
#include <math.h>

#include "poolutil.h"

struct partial {
	double sum;
	uint64_t count;
	double min, max;
};
_Static_assert(sizeof(struct partial) <= BRG_SCRATCH_BYTES, "partial fits the scratch");

/* Four accumulators, as the engine's own reductions do: the order of additions is fixed by
 * the code, so the same block gives the same bits anywhere. */
static int sum_kernel(const brg_task *t)
{
	const double *x = brg_array_data(t->arrays[0]);
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0, mn = INFINITY, mx = -INFINITY;
	size_t i = t->begin;
	for (; i + 4 <= t->end; i += 4) {
		s0 += x[i];
		s1 += x[i + 1];
		s2 += x[i + 2];
		s3 += x[i + 3];
	}
	for (; i < t->end; i++)
		s0 += x[i];
	for (i = t->begin; i < t->end; i++) {
		mn = x[i] < mn ? x[i] : mn;
		mx = x[i] > mx ? x[i] : mx;
	}
	struct partial *p = t->scratch;
	p->sum = (s0 + s1) + (s2 + s3);
	p->count = t->end - t->begin;
	p->min = mn;
	p->max = mx;
	return 0;
}

static void sum_combine(void *into, const void *from, const void *args)
{
	struct partial *a = into;
	const struct partial *b = from;
	a->sum += b->sum;
	a->count += b->count;
	a->min = b->min < a->min ? b->min : a->min;
	a->max = b->max > a->max ? b->max : a->max;
}

static const brg_kernel sumk = {"sum", sum_kernel, BRG_KERNEL_IDEMPOTENT};

/* What the pool must compute, done here without it: the kernel per block, then the pairwise
 * combination of engine/pool/job.c (stride s = 1, 2, 4...: slot i absorbs slot i + s). */
static struct partial serial_reduce(brg_array *data, size_t n)
{
	struct partial out;
	memset(&out, 0, sizeof out);
	if (n == 0)
		return out;
	size_t block = brg_reduce_block_size(n), nb = (n + block - 1) / block;
	unsigned char(*slots)[BRG_SCRATCH_BYTES] = aligned_alloc(64, nb * BRG_SCRATCH_BYTES);
	REQUIRE(slots != NULL);
	brg_array *arrays[1] = {data};
	for (size_t b = 0; b < nb; b++) {
		brg_task t = {
			.begin = b * block,
			.end = (b + 1) * block < n ? (b + 1) * block : n,
			.scratch = slots[b],
			.arrays = arrays,
			.narrays = 1,
		};
		REQUIRE_EQ(sum_kernel(&t), 0);
	}
	for (size_t s = 1; s < nb; s *= 2)
		for (size_t i = 0; i + s < nb; i += 2 * s)
			sum_combine(slots[i], slots[i + s], NULL);
	memcpy(&out, slots[0], sizeof out);
	free(slots);
	return out;
}

static const brg_schedule scheds[] = {
	{BRG_SCHED_STATIC, 0}, {BRG_SCHED_DYNAMIC, 1}, {BRG_SCHED_DYNAMIC, 7},
	{BRG_SCHED_GUIDED, 1}, {BRG_SCHED_GUIDED, 5},  {BRG_SCHED_AUTO, 0},
};
#define NSCHED ((int)(sizeof scheds / sizeof scheds[0]))

/* 5000011: above 1024 x 4096, so its blocks are larger than 4096 elements (4928) */
static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 1000003, 5000011};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static void fill_random(double *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int k = (int)(test_rand() % 12) - 3; /* 10^-3 .. 10^8 */
		double u = (double)(test_rand() >> 11) / 9007199254740992.0 - 0.5;
		x[i] = u * pow(10.0, k);
	}
}

static void check_block_size(void)
{
	size_t ns[] = {0, 1, 4096, 4097, 1000003, 16777216, 16777217, 1000000000, (size_t)1 << 40};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		size_t n = ns[k], b = brg_reduce_block_size(n);
		CHECK(b >= 4096);
		CHECK_EQ(b % 64, 0);
		CHECK_EQ(brg_reduce_block_size(n), b);
		CHECK((n + b - 1) / b <= 1024); /* at most 1024 blocks, as documented */
	}
}

/* A reduction kernel failing on one block: the error names elements, not blocks. */
static int bad_sum_kernel(const brg_task *t)
{
	const uint64_t *bad = t->args;
	if (t->begin <= *bad && *bad < t->end)
		return -ERANGE;
	return sum_kernel(t);
}

static const brg_kernel badsumk = {"badsum", bad_sum_kernel, BRG_KERNEL_IDEMPOTENT};

static void check_error_range(brg_pool *pool, brg_array *data, size_t n)
{
	size_t block = brg_reduce_block_size(n);
	for (int s = 0; s < NSCHED; s++) {
		uint64_t bad = test_rand() % n;
		brg_array *arrays[1] = {data};
		brg_job_desc d = {
			.size = sizeof d,
			.kernel = &badsumk,
			.n = n,
			.sched = scheds[s],
			.args = &bad,
			.args_size = sizeof bad,
			.arrays = arrays,
			.narrays = 1,
			.combine = sum_combine,
		};
		brg_job_result res = {.size = sizeof res};
		CHECK_EQ(brg_pool_run(pool, &d, &res), -ERANGE);
		CHECK_EQ(res.status, -ERANGE);
		if (!(res.err_begin <= bad && bad < res.err_end && res.err_end <= n &&
		      res.err_begin % block == 0 && (res.err_end % block == 0 || res.err_end == n)))
			TEST_FAIL_("P=%d sched %d: error range [%zu, %zu) for bad element %llu, "
				   "block %zu, n %zu",
				   brg_pool_size(pool), scheds[s].kind, res.err_begin, res.err_end,
				   (unsigned long long)bad, block, n);
	}
}

int main(void)
{
	test_init_pools();
	unsigned long long seed = test_seed;
	check_block_size();

	brg_array *data[NSIZES];
	struct partial want[NSIZES];
	int made_pool = 0;
	for (int P = 1; P <= 4; P++) {
		brg_pool *pool = test_pool_new(P, BRG_BIND_COMPACT, P == 1 ? "red-p1" : "red-pool");
		if (!made_pool) {
			/* Data made after the first pool started: its workers open it by name. */
			for (int k = 0; k < NSIZES; k++) {
				char tag[32];
				snprintf(tag, sizeof tag, "red-data%d", k);
				data[k] = test_array_new(tag, BRG_F64, sizes[k] ? sizes[k] : 1);
			}
			made_pool = 1;
		}
		for (int k = 0; k < NSIZES; k++) {
			size_t n = sizes[k];
			if (P == 1) {
				fill_random(brg_array_data(data[k]), n);
				want[k] = serial_reduce(data[k], n);
				/* Sanity: the emulation is a sum, close to a compensated one. */
				const double *x = brg_array_data(data[k]);
				long double ref = 0, mag = 0;
				for (size_t i = 0; i < n; i++) {
					ref += x[i];
					mag += fabsl((long double)x[i]);
				}
				CHECK(fabsl((long double)want[k].sum - ref) <= 1e-12L * mag);
				CHECK_EQ(want[k].count, n);
			}
			brg_array *arrays[1] = {data[k]};
			for (int s = 0; s < NSCHED; s++) {
				brg_job_desc d = {
					.size = sizeof d,
					.kernel = &sumk,
					.n = n,
					.sched = scheds[s],
					.arrays = arrays,
					.narrays = 1,
					.combine = sum_combine,
				};
				struct partial got;
				memset(&got, 0x5a, sizeof got);
				int r = brg_pool_reduce(pool, &d, &got, sizeof got);
				CHECK_EQ(r, 0);
				if (memcmp(&got, &want[k], sizeof got))
					TEST_FAIL_("P=%d n=%zu sched %d/%zu: sum %a count %llu min %a "
						   "max %a, want sum %a count %llu min %a max %a "
						   "(seed %llu)",
						   P, n, scheds[s].kind, scheds[s].chunk, got.sum,
						   (unsigned long long)got.count, got.min, got.max,
						   want[k].sum, (unsigned long long)want[k].count,
						   want[k].min, want[k].max, seed);
			}
		}

		check_error_range(pool, data[NSIZES - 1], sizes[NSIZES - 1]);

		/* Bad requests. */
		brg_array *arrays[1] = {data[1]};
		brg_job_desc d = {
			.size = sizeof d,
			.kernel = &sumk,
			.n = 1,
			.arrays = arrays,
			.narrays = 1,
			.combine = sum_combine,
		};
		struct partial got;
		unsigned char big[BRG_SCRATCH_BYTES + 1];
		CHECK_EQ(brg_pool_reduce(pool, &d, big, sizeof big), -EINVAL);
		CHECK_EQ(brg_pool_reduce(pool, &d, NULL, sizeof got), -EINVAL);
		d.combine = NULL;
		CHECK_EQ(brg_pool_reduce(pool, &d, &got, sizeof got), -EINVAL);
		CHECK_EQ(brg_pool_reduce(pool, NULL, &got, sizeof got), -EINVAL);
		/* The pool still reduces. */
		d.combine = sum_combine;
		CHECK_EQ(brg_pool_reduce(pool, &d, &got, sizeof got), 0);
		CHECK_EQ(got.count, 1);
		brg_pool_destroy(pool);
	}
	for (int k = 0; k < NSIZES; k++)
		test_array_drop(data[k]);
	return pu_done();
}
