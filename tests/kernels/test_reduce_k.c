/* SPDX-License-Identifier: MIT */
/* test_reduce_k.c - reductions: against long-double references, bit-equal for pools of 1 to
 * 4 participants and for every instruction-set level of the block loops, NaN and tie rules,
 * wrapping integer sums, a scaled norm, and a sum at least as accurate as numpy's pairwise
 * sum on an ill-conditioned input. */
#include <float.h>

#include "kernels.h"
#include "kutil.h"

#define EPS DBL_EPSILON

static const int npools[] = {1, 2, 3, 4};
#define NP 4
static const size_t sizes[] = {0, 1, 7, 4097, (1u << 20) + 3};
#define NS 5

static const char *const opname[] = {"sum", "sumsq", "dot", "norm2",
				     "min", "max", "argmin", "argmax"};


static int run_op(int op, brg_pool *p, const brg_array *x, const brg_array *y, brg_scalar *s)
{
	switch (op) {
	case BRG__R_SUM: return brg_reduce_sum(p, s, x);
	case BRG__R_SUMSQ: return brg_reduce_sumsq(p, s, x);
	case BRG__R_DOT: return brg_reduce_dot(p, s, x, y);
	case BRG__R_NORM2: return brg_reduce_norm2(p, s, x);
	case BRG__R_MIN: return brg_reduce_min(p, s, x);
	case BRG__R_MAX: return brg_reduce_max(p, s, x);
	case BRG__R_ARGMIN: return brg_reduce_argmin(p, s, x);
	default: return brg_reduce_argmax(p, s, x);
	}
}

static int op_takes(int op, brg_dtype dt)
{
	return op == BRG__R_SUM || op == BRG__R_MIN || op == BRG__R_MAX || ku_is_float(dt);
}

/* Bound on the rounding error of a plain sum of n terms the way the kernels add them: one
 * rounding per product, block/nacc sequential adds per accumulator, a log2(nacc)-level tree
 * over the accumulators (16, dot 8) and at most 10 levels over the blocks (at most 1024). */
static double plain_bound(size_t n, int nacc)
{
	return ((double)brg_reduce_block_size(n) / nacc + 1 + log2(nacc) + 10 + 2) * EPS;
}

/* Checks one reduction result against a serial reference. */
static void check_value(int op, const brg_array *x, const brg_array *y, const brg_scalar *s)
{
	brg_dtype dt = brg_array_dtype(x);
	size_t n = brg_array_count(x);
	CHECK_EQ(s->dtype, dt);
	if (!ku_is_float(dt)) {
		uint64_t acc = op == BRG__R_SUM ? 0 : ku_geti(x, 0);
		for (size_t i = 0; i < n; i++) {
			uint64_t v = ku_geti(x, i);
			if (op == BRG__R_SUM)
				acc += v;
			else if (ku_is_signed(dt) ? (op == BRG__R_MIN ? (int64_t)v < (int64_t)acc
								    : (int64_t)v > (int64_t)acc)
						  : (op == BRG__R_MIN ? v < acc : v > acc))
				acc = v;
		}
		if (ku_is_signed(dt))
			CHECK_EQ(s->i, (int64_t)acc);
		else
			CHECK(s->u == acc);
		return;
	}
	long double sum = 0, comp = 0, mag = 0;
	double best = n ? ku_getf(x, 0) : 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		double v = ku_getf(x, i);
		long double t;
		switch (op) {
		case BRG__R_SUM:
			/* Neumaier in long double: far below the tolerance below */
			t = sum + v;
			comp += fabsl(sum) >= fabsl((long double)v) ? (sum - t) + v : (v - t) + sum;
			sum = t;
			mag += fabsl((long double)v);
			break;
		case BRG__R_SUMSQ:
		case BRG__R_NORM2:
			sum += (long double)v * v;
			mag += (long double)v * v;
			break;
		case BRG__R_DOT:
			sum += (long double)v * ku_getf(y, i);
			mag += fabsl((long double)v * ku_getf(y, i));
			break;
		case BRG__R_MIN:
		case BRG__R_ARGMIN:
			if (v < best) {
				best = v;
				at = i;
			}
			break;
		default:
			if (v > best) {
				best = v;
				at = i;
			}
			break;
		}
	}
	sum += comp;
	double got = s->f, ref = (double)sum, tol;
	switch (op) {
	case BRG__R_SUM: {
		/* Compensated: the rounding of the result, plus second-order terms of the
		 * compensation (eps^2 per add, at most (block/16)^2 of them per accumulator). */
		double lane = (double)brg_reduce_block_size(n) / 16;
		tol = 2 * EPS * fabs(ref) + (lane * lane + 4096 * 4 + 64) * EPS * EPS * (double)mag;
		break;
	}
	case BRG__R_NORM2:
		ref = sqrt((double)sum);
		tol = plain_bound(n, 16) * ref;
		break;
	case BRG__R_MIN:
	case BRG__R_MAX:
	case BRG__R_ARGMIN:
	case BRG__R_ARGMAX:
		ref = best;
		tol = 0;
		break;
	default:
		tol = plain_bound(n, op == BRG__R_DOT ? 8 : 16) * (double)mag;
	}
	if (!(fabs(got - ref) <= tol))
		TEST_FAIL_("%s %s n=%zu: got %.17g, reference %.17g, tolerance %.3g", opname[op],
			   brg_dtype_name(dt), n, got, ref, tol);
	if (op == BRG__R_ARGMIN || op == BRG__R_ARGMAX)
		CHECK_EQ(s->index, at);
}

__extension__ typedef __int128 i128;

/* The exact sum of an integer array; 1 when it fits the dtype's 64-bit type. */
static int isum_fits(const brg_array *x, i128 *sum)
{
	brg_dtype dt = brg_array_dtype(x);
	i128 v = 0;
	for (size_t i = 0; i < brg_array_count(x); i++) {
		uint64_t e = ku_geti(x, i);
		v += ku_is_signed(dt) ? (i128)(int64_t)e : (i128)e;
	}
	*sum = v;
	return ku_is_signed(dt) ? v >= INT64_MIN && v <= INT64_MAX : v >= 0 && v <= UINT64_MAX;
}

static int same_scalar(const brg_scalar *a, const brg_scalar *b)
{
	return ku_same_bits(a->f, b->f) && a->i == b->i && a->u == b->u && a->index == b->index &&
	       a->dtype == b->dtype;
}

/* Every op on random data of every size and dtype, in every pool: correct, and with the
 * same bits everywhere. */
static void check_all(brg_pool **pools)
{
	for (int s = 0; s < NS; s++) {
		size_t n = sizes[s];
		for (int d = 0; d < KU_NDTYPES; d++) {
			brg_dtype dt = ku_dtypes[d];
			char t1[64], t2[64];
			snprintf(t1, sizeof t1, "r%d-%s-x", s, brg_dtype_name(dt));
			snprintf(t2, sizeof t2, "r%d-%s-y", s, brg_dtype_name(dt));
			brg_array *x = test_array_new(t1, dt, n), *y = test_array_new(t2, dt, n);
			/* Mixed magnitudes and signs make the order of additions visible. */
			ku_fill_random(x, 1.0);
			ku_fill_random(y, 1.0);
			if (ku_is_float(dt))
				for (size_t i = 0; i < n; i += 7)
					ku_set(x, i, ku_getf(x, i) * 1e6, 0);
			for (int op = 0; op < BRG__R_COUNT; op++) {
				if (!op_takes(op, dt))
					continue;
				brg_scalar first = {0};
				/* Integer sums are exact: -ERANGE beyond the 64-bit type. */
				i128 exact = 0;
				int want = op == BRG__R_SUM && !ku_is_float(dt) &&
						   !isum_fits(x, &exact)
						   ? -ERANGE
						   : 0;
				for (int p = 0; p < NP; p++) {
					brg_scalar r;
					memset(&r, 0x5A, sizeof r);
					int rc = run_op(op, pools[p], x, y, &r);
					if (n == 0 && op >= BRG__R_MIN) {
						CHECK_EQ(rc, BRG_ENODATA);
						continue;
					}
					CHECK_EQ(rc, want);
					if (rc == -ERANGE && rc == want) {
						CHECK(r.f == (double)exact && r.i == 0 && r.u == 0);
						continue;
					}
					if (rc)
						continue;
					if (p == 0) {
						check_value(op, x, y, &r);
						first = r;
					} else if (!same_scalar(&first, &r)) {
						TEST_FAIL_("%s %s n=%zu: pool of %d gives %a, pool of 1 %a",
							   opname[op], brg_dtype_name(dt), n,
							   npools[p], r.f, first.f);
					}
				}
			}
			test_array_drop(x);
			test_array_drop(y);
		}
	}
}

/* Each instruction-set level's block loop on x (and y) gives the bytes of the baseline one. */
static void compare_levels(brg_dtype dt, const unsigned char *x, const unsigned char *y,
			   const char *what)
{
	static const size_t lens[] = {1, 15, 16, 17, 100, 4096, 4096 + 13};
	size_t es = brg_dtype_size(dt);
	for (int op = 0; op < BRG__R_COUNT; op++) {
		brg__rblock_fn base;
		if (brg__reduce_block_fn(op, dt, BRG__ISA_BASE, &base))
			continue;
		for (int isa = 1; isa < BRG__ISA_COUNT; isa++) {
			brg__rblock_fn f;
			int rc = brg__reduce_block_fn(op, dt, isa, &f);
			if (rc == -ENOTSUP)
				continue;
			CHECK_EQ(rc, 0);
			for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
				_Alignas(64) unsigned char p0[BRG_SCRATCH_BYTES], p1[BRG_SCRATCH_BYTES];
				memset(p0, 0xEE, sizeof p0);
				memset(p1, 0x11, sizeof p1);
				/* an unaligned start, as a block of a range has */
				base(x + es, y + es, lens[k], 100, p0);
				f(x + es, y + es, lens[k], 100, p1);
				if (memcmp(p0, p1, sizeof p0))
					TEST_FAIL_("%s %s len %zu%s: isa %d differs from the baseline",
						   opname[op], brg_dtype_name(dt), lens[k], what, isa);
			}
		}
	}
}

static void check_isa_levels(void)
{
	int level = brg__isa_level();
	printf("isa level %d\n", level);
	for (int d = 0; d < KU_NDTYPES; d++) {
		brg_dtype dt = ku_dtypes[d];
		size_t es = brg_dtype_size(dt);
		unsigned char *x = malloc(8192 * es), *y = malloc(8192 * es);
		REQUIRE(x && y);
		for (size_t i = 0; i < 8192 * es; i++) {
			x[i] = (unsigned char)test_rand();
			y[i] = (unsigned char)test_rand();
		}
		if (ku_is_float(dt)) { /* finite values of mixed magnitude */
			for (size_t i = 0; i < 8192; i++) {
				double v = ku_unit() * pow(2.0, (double)(test_rand() % 40) - 20);
				if (dt == BRG_F32)
					((float *)x)[i] = (float)v, ((float *)y)[i] = (float)ku_unit();
				else
					((double *)x)[i] = v, ((double *)y)[i] = ku_unit();
			}
		}
		compare_levels(dt, x, y, "");
		if (ku_is_float(dt)) { /* then a NaN inside the long runs: the loops' NaN paths */
			if (dt == BRG_F32)
				((float *)x)[3000] = NAN;
			else
				((double *)x)[3000] = NAN;
			compare_levels(dt, x, y, " with a NaN");
		}
		free(x);
		free(y);
	}
}

/* numpy's pairwise_sum (numpy/core/src/umath/loops_utils.h.src), unit stride: sequential
 * below 8 elements, 8 accumulators up to 128, halves (cut at a multiple of 8) above. */
static double numpy_pairwise(const double *a, size_t n)
{
	if (n < 8) {
		double res = 0.;
		for (size_t i = 0; i < n; i++)
			res += a[i];
		return res;
	}
	if (n <= 128) {
		double r[8], res;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		size_t i;
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + (size_t)j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	size_t n2 = n / 2;
	n2 -= n2 % 8;
	return numpy_pairwise(a, n2) + numpy_pairwise(a + n2, n - n2);
}

/* 10^6 values: huge integers (up to 2^50) in the first half that the second half cancels
 * in another order, and small multiples of 2^-20 between them.  The exact sum is the sum
 * of the small ones, which a plain double loop gets exactly (39 bits). */
static void check_accuracy(brg_pool *pool)
{
	const size_t n = 1000000, half = n / 2, pairs = half / 2;
	brg_array *a = test_array_new("acc", BRG_F64, n);
	double *x = brg_array_data(a);
	double *huge = malloc(pairs * sizeof *huge);
	REQUIRE(huge);
	double exact = 0;
	for (size_t k = 0; k < pairs; k++) {
		huge[k] = (double)(int64_t)(test_rand() >> 14) * ((test_rand() & 1) ? 1 : -1);
		double s1 = (double)(int64_t)(test_rand() >> 44) * 0x1p-20 - 8.0;
		double s2 = (double)(int64_t)(test_rand() >> 44) * 0x1p-20 - 8.0;
		x[2 * k] = huge[k];
		x[2 * k + 1] = s1;
		x[half + 2 * k + 1] = s2;
		exact += s1 + s2;
	}
	/* the negatives in a shuffled order */
	for (size_t k = pairs - 1; k > 0; k--) {
		size_t j = test_rand() % (k + 1);
		double t = huge[k];
		huge[k] = huge[j];
		huge[j] = t;
	}
	for (size_t k = 0; k < pairs; k++)
		x[half + 2 * k] = -huge[k];
	free(huge);

	double np_err = fabs(numpy_pairwise(x, n) - exact);
	brg_scalar s;
	CHECK_EQ(brg_reduce_sum(pool, &s, a), 0);
	double brg_err = fabs(s.f - exact);
	printf("ill-conditioned sum: exact %.17g, brigade error %.3g, numpy pairwise error %.3g\n",
	       exact, brg_err, np_err);
	CHECK(brg_err <= np_err || brg_err <= 4 * EPS * fabs(exact));
	test_array_drop(a);
}

/* NaN, infinities, ties, wrapping, scaling. */
static void check_corners(brg_pool **pools)
{
	const size_t n = 3 * 4096 + 5; /* several blocks */
	brg_array *a = test_array_new("cf", BRG_F64, n), *f = test_array_new("cf32", BRG_F32, n);
	double *x = brg_array_data(a);
	float *xf = brg_array_data(f);
	brg_scalar s;
	for (int p = 0; p < NP; p++) {
		brg_pool *pool = pools[p];
		for (size_t i = 0; i < n; i++)
			x[i] = 1.0 + (double)(i % 97), xf[i] = (float)x[i];
		/* ties in different blocks: the first occurrence wins */
		x[5000] = x[9000] = x[12000] = -3.0;
		xf[4097] = xf[8200] = 500.0f;
		CHECK_EQ(brg_reduce_argmin(pool, &s, a), 0);
		CHECK_EQ(s.index, 5000);
		CHECK(s.f == -3.0);
		CHECK_EQ(brg_reduce_argmax(pool, &s, f), 0);
		CHECK_EQ(s.index, 4097);
		/* infinities: a sum of them, not the NaN of a compensation term */
		x[7] = INFINITY;
		CHECK_EQ(brg_reduce_sum(pool, &s, a), 0);
		CHECK(s.f == INFINITY);
		x[11000] = -INFINITY;
		CHECK_EQ(brg_reduce_sum(pool, &s, a), 0);
		CHECK(isnan(s.f));
		CHECK_EQ(brg_reduce_max(pool, &s, a), 0);
		CHECK(s.f == INFINITY);
		CHECK_EQ(brg_reduce_argmin(pool, &s, a), 0);
		CHECK_EQ(s.index, 11000);
		/* NaN: min and max are NaN, argmin/argmax give the first NaN (like numpy) */
		x[9500] = NAN;
		x[4100] = NAN;
		CHECK_EQ(brg_reduce_min(pool, &s, a), 0);
		CHECK(isnan(s.f));
		CHECK_EQ(brg_reduce_max(pool, &s, a), 0);
		CHECK(isnan(s.f));
		CHECK_EQ(brg_reduce_argmin(pool, &s, a), 0);
		CHECK_EQ(s.index, 4100);
		CHECK_EQ(brg_reduce_argmax(pool, &s, a), 0);
		CHECK_EQ(s.index, 4100);
		xf[n - 1] = NAN;
		CHECK_EQ(brg_reduce_argmin(pool, &s, f), 0);
		CHECK_EQ(s.index, n - 1);
		CHECK_EQ(brg_reduce_norm2(pool, &s, f), 0);
		CHECK(isnan(s.f));

		/* norm2 neither overflows nor underflows */
		for (size_t i = 0; i < n; i++)
			x[i] = 1e300;
		CHECK_EQ(brg_reduce_norm2(pool, &s, a), 0);
		CHECK(fabs(s.f / (1e300 * sqrt((double)n)) - 1) < 1e-13);
		for (size_t i = 0; i < n; i++)
			x[i] = 1e-300;
		CHECK_EQ(brg_reduce_norm2(pool, &s, a), 0);
		CHECK(fabs(s.f / (1e-300 * sqrt((double)n)) - 1) < 1e-13);
		for (size_t i = 0; i < n; i++)
			x[i] = 0;
		x[3] = 3 * 0x1p-1070; /* subnormal: 3-4-5 stays exact */
		x[8000] = -4 * 0x1p-1070;
		CHECK_EQ(brg_reduce_norm2(pool, &s, a), 0);
		CHECK(s.f == 5 * 0x1p-1070);
		x[100] = 1e300; /* all three ranges at once */
		x[200] = 1.0;
		CHECK_EQ(brg_reduce_norm2(pool, &s, a), 0);
		CHECK(s.f == 1e300);
		for (size_t i = 0; i < n; i++)
			xf[i] = 3e38f;
		CHECK_EQ(brg_reduce_norm2(pool, &s, f), 0);
		CHECK(fabs(s.f / ((double)3e38f * sqrt((double)n)) - 1) < 1e-13);
		CHECK_EQ(brg_reduce_sumsq(pool, &s, f), 0); /* in double: no overflow either */
		CHECK(isfinite(s.f));
	}
	test_array_drop(a);
	test_array_drop(f);

	/* Integer sums are exact: what fits the 64-bit type comes out whole, whatever the
	 * partial sums on the way; what does not is -ERANGE with the sum in double, never a
	 * wrap.  Narrow types do not wrap at their own width. */
	brg_array *u = test_array_new("cu64", BRG_U64, 5), *i8 = test_array_new("ci8", BRG_I8, 4097);
	uint64_t *uv = brg_array_data(u);
	size_t nb = 300000; /* many blocks */
	brg_array *big = test_array_new("ci64", BRG_I64, nb);
	int64_t *bv = brg_array_data(big);
	memset(brg_array_data(i8), 0x80, 4097); /* -128 each */
	for (int p = 0; p < NP; p++) {
		for (size_t i = 0; i < 5; i++)
			uv[i] = (1ull << 63) + 5;
		CHECK_EQ(brg_reduce_sum(pools[p], &s, u), -ERANGE); /* 5 x 2^63 + 25 */
		CHECK(s.f == 5 * 9223372036854775808.0 && s.u == 0 && s.i == 0);
		for (size_t i = 0; i < 5; i++)
			uv[i] = i < 3 ? 3ull << 62 : 0; /* 9 x 2^62 > 2^64 */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, u), -ERANGE);
		uv[2] = 0; /* 6 x 2^62 = 1.5 x 2^64: still too much */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, u), -ERANGE);
		uv[1] = (1ull << 62) - 1; /* 3 x 2^62 + 2^62 - 1 = 2^64 - 1: fits, just */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, u), 0);
		CHECK(s.u == UINT64_MAX);
		/* i64: halves of +-INT64_MAX, so the sums on the way reach some 2^80 */
		for (size_t i = 0; i < nb; i++)
			bv[i] = i < nb / 2 ? INT64_MAX : -INT64_MAX;
		bv[nb - 1] += 5;
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), 0);
		CHECK_EQ(s.i, 5);
		bv[nb - 1] = 0; /* one -INT64_MAX less: INT64_MAX, which fits */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), 0);
		CHECK_EQ(s.i, INT64_MAX);
		bv[nb - 2] += 1; /* INT64_MAX + 1 */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), -ERANGE);
		CHECK(s.f == 9223372036854775808.0 && s.i == 0 && s.u == 0);
		bv[nb - 2] = -INT64_MAX;
		bv[nb - 1] = -INT64_MAX;
		bv[0] = 0; /* -INT64_MAX */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), 0);
		CHECK_EQ(s.i, -INT64_MAX);
		bv[1] -= 1; /* INT64_MIN, which fits */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), 0);
		CHECK(s.i == INT64_MIN);
		bv[1] -= 1; /* one below */
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), -ERANGE);
		CHECK(s.f == -9223372036854775808.0 && s.i == 0);
		for (size_t i = 0; i < nb; i++)
			bv[i] = 1ll << 62;
		CHECK_EQ(brg_reduce_sum(pools[p], &s, big), -ERANGE);
		CHECK(s.f == (double)nb * 4611686018427387904.0);
		CHECK_EQ(brg_reduce_sum(pools[p], &s, i8), 0);
		CHECK_EQ(s.i, -128 * 4097);
		CHECK_EQ(brg_reduce_min(pools[p], &s, i8), 0);
		CHECK_EQ(s.i, -128);
	}
	test_array_drop(u);
	test_array_drop(i8);
	test_array_drop(big);
}

int main(void)
{
	test_init_pools();
	brg_pool *pools[NP];
	for (int p = 0; p < NP; p++)
		pools[p] = ku_pool(npools[p]);
	check_isa_levels();
	check_all(pools);
	check_corners(pools);
	check_accuracy(pools[1]);
	for (int p = 0; p < NP; p++)
		brg_pool_destroy(pools[p]);
	return test_done();
}
