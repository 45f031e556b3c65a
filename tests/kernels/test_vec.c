/* SPDX-License-Identifier: MIT */
/* test_vec.c - elementwise kernels against serial references, every dtype they take, sizes
 * 0 to 2^20+3, pools of 1 to 3; and brg_pool_array_create.
 *
 * Tolerances: none.  Every elementwise result is one IEEE operation (binop) or the same short
 * sequence of them the reference does (f32 scale/axpy/triad go through double and round
 * once, both here and in the kernel; the kernels are built without contraction and so is
 * this test), so outputs must match bit for bit. */
#include <errno.h>
#include <sys/stat.h>

#include "kutil.h"

/* Whether the float elements match: same bits, or both NaN (NaN payloads may differ). */
static int feq(double a, double b)
{
	return ku_same_bits(a, b) || (isnan(a) && isnan(b));
}

static void check_fill(brg_pool *pool, brg_array *out)
{
	brg_dtype dt = brg_array_dtype(out);
	size_t n = brg_array_count(out);
	double v = ku_is_float(dt) ? -2.75 : ku_is_signed(dt) ? -5.0 : 200.0;
	ku_poison(out);
	CHECK_EQ(brg_vec_fill(pool, out, v), 0);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += ku_is_float(dt) ? ku_getf(out, i) != v
				       : ku_geti(out, i) != ku_wrap(dt, (uint64_t)(int64_t)v);
	CHECK_EQ(bad, 0);
	/* The extremes of the range are representable too. */
	if (dt == BRG_I64 || dt == BRG_U64) {
		double e = dt == BRG_I64 ? -9223372036854775808.0 : 18446744073709549568.0;
		CHECK_EQ(brg_vec_fill(pool, out, e), 0);
		if (n)
			CHECK(ku_geti(out, n - 1) == (dt == BRG_I64 ? (uint64_t)INT64_MIN
								    : 18446744073709549568ull));
	}
}

static void check_copy(brg_pool *pool, brg_array *dst, brg_array *src)
{
	ku_fill_random(src, 1e3);
	ku_poison(dst);
	CHECK_EQ(brg_vec_copy(pool, dst, src), 0);
	CHECK_SAME_ELEMS(brg_array_data(dst), brg_array_data(src), brg_array_count(src),
			 brg_dtype_size(brg_array_dtype(src)), "copy %s",
			 brg_dtype_name(brg_array_dtype(src)));
}

/* scale, axpy and triad (f32, f64). */
static void check_blas1(brg_pool *pool, brg_array *a, brg_array *b, brg_array *c)
{
	brg_dtype dt = brg_array_dtype(a);
	size_t n = brg_array_count(a);
	const double s = 0.3; /* not exact in binary: the rounding path matters */
	ku_fill_random(b, 10);
	ku_fill_random(c, 10);
	size_t bad = 0;

	ku_poison(a);
	CHECK_EQ(brg_vec_triad(pool, a, b, s, c), 0);
	for (size_t i = 0; i < n; i++) {
		double r = ku_getf(b, i) + s * ku_getf(c, i);
		bad += !feq(ku_getf(a, i), dt == BRG_F32 ? (double)(float)r : r);
	}
	CHECK_EQ(bad, 0);

	/* a holds the triad now; axpy into it, then scale it. */
	double *before = malloc((n ? n : 1) * sizeof *before);
	REQUIRE(before);
	for (size_t i = 0; i < n; i++)
		before[i] = ku_getf(a, i);
	CHECK_EQ(brg_vec_axpy(pool, a, -1.7, b), 0);
	for (size_t i = 0; i < n; i++) {
		double r = before[i] + -1.7 * ku_getf(b, i);
		bad += !feq(ku_getf(a, i), dt == BRG_F32 ? (double)(float)r : r);
		before[i] = ku_getf(a, i);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(brg_vec_scale(pool, a, 1.1), 0);
	for (size_t i = 0; i < n; i++) {
		double r = before[i] * 1.1;
		bad += !feq(ku_getf(a, i), dt == BRG_F32 ? (double)(float)r : r);
	}
	CHECK_EQ(bad, 0);
	free(before);
}

/* The reference of one integer binop on sign-extended (or zero-extended) 64-bit patterns. */
static uint64_t ref_int(int op, brg_dtype dt, uint64_t x, uint64_t y)
{
	switch (op) {
	case BRG_OP_ADD: return ku_wrap(dt, x + y);
	case BRG_OP_SUB: return ku_wrap(dt, x - y);
	case BRG_OP_MUL: return ku_wrap(dt, x * y);
	default:
		if (y == 0)
			return 0;
		if (ku_is_signed(dt)) {
			if ((int64_t)y == -1)
				return ku_wrap(dt, 0 - x);
			return ku_wrap(dt, (uint64_t)((int64_t)x / (int64_t)y));
		}
		return x / y;
	}
}

static double ref_float(int op, brg_dtype dt, double x, double y)
{
	if (dt == BRG_F32) {
		float a = (float)x, b = (float)y;
		switch (op) {
		case BRG_OP_ADD: return a + b;
		case BRG_OP_SUB: return a - b;
		case BRG_OP_MUL: return a * b;
		default: return a / b;
		}
	}
	switch (op) {
	case BRG_OP_ADD: return x + y;
	case BRG_OP_SUB: return x - y;
	case BRG_OP_MUL: return x * y;
	default: return x / y;
	}
}

/* out = x op y for every op, then the aliased forms out = out op y, x op out, out op out. */
static void check_binop(brg_pool *pool, brg_array *out, brg_array *x, brg_array *y)
{
	brg_dtype dt = brg_array_dtype(out);
	size_t n = brg_array_count(out);
	int fl = ku_is_float(dt);
	ku_fill_random(x, 100);
	ku_fill_random(y, 100);
	if (n > 3 && fl) { /* IEEE corners: 0/0, 1/0 */
		ku_set(x, 0, 0.0, 0), ku_set(y, 0, 0.0, 0);
		ku_set(x, 1, 1.0, 0), ku_set(y, 1, 0.0, 0);
	} else if (n > 3 && ku_is_signed(dt)) { /* MIN / -1 wraps, x / 0 is 0 */
		ku_set(x, 0, 0, 1ull << (ku_bits(dt) - 1)), ku_set(y, 0, 0, ~0ull);
		ku_set(x, 1, 0, 5), ku_set(y, 1, 0, 0);
	}
	for (int op = BRG_OP_ADD; op <= BRG_OP_DIV; op++) {
		ku_poison(out);
		CHECK_EQ(brg_vec_binop(pool, out, x, op, y), 0);
		size_t bad = 0;
		for (size_t i = 0; i < n; i++)
			bad += fl ? !feq(ku_getf(out, i),
					  ref_float(op, dt, ku_getf(x, i), ku_getf(y, i)))
				  : ku_geti(out, i) != ref_int(op, dt, ku_geti(x, i), ku_geti(y, i));
		if (bad)
			fprintf(stderr, "binop %d dtype %s n %zu: %zu wrong\n", op,
				brg_dtype_name(dt), n, bad);
		CHECK_EQ(bad, 0);
	}
	/* In place: out starts as a copy of x. */
	for (int form = 0; form < 3; form++) {
		int op = form == 0 ? BRG_OP_SUB : form == 1 ? BRG_OP_DIV : BRG_OP_MUL;
		memcpy(brg_array_data(out), brg_array_data(x), brg_array_nbytes(x));
		const brg_array *l = form == 1 ? y : out, *r = form == 0 ? y : out;
		CHECK_EQ(brg_vec_binop(pool, out, l, op, r), 0);
		size_t bad = 0;
		for (size_t i = 0; i < n; i++) {
			const brg_array *lx = form == 1 ? y : x, *rx = form == 0 ? y : x;
			bad += fl ? !feq(ku_getf(out, i),
					  ref_float(op, dt, ku_getf(lx, i), ku_getf(rx, i)))
				  : ku_geti(out, i) != ref_int(op, dt, ku_geti(lx, i), ku_geti(rx, i));
		}
		CHECK_EQ(bad, 0);
	}
}

struct affine {
	double a, b;
};

static double affine_fn(double v, const void *ud)
{
	const struct affine *f = ud;
	return v * f->a + f->b;
}

static void check_map(brg_pool *pool, brg_array *out, brg_array *in)
{
	brg_dtype dt = brg_array_dtype(out);
	size_t n = brg_array_count(out);
	struct affine f = {3.0, 0.1};
	ku_fill_random(in, 5);
	ku_poison(out);
	CHECK_EQ(brg_vec_map(pool, out, in, affine_fn, &f, sizeof f), 0);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		double r = affine_fn(ku_getf(in, i), &f);
		bad += !feq(ku_getf(out, i), dt == BRG_F32 ? (double)(float)r : r);
	}
	CHECK_EQ(bad, 0);
	/* In place, and with the user data passed by pointer (size 0): then it must be memory
	 * every worker sees at that address, like this constant (fork workers share the image). */
	static const struct affine g = {-2.0, 0.25};
	memcpy(brg_array_data(out), brg_array_data(in), brg_array_nbytes(in));
	CHECK_EQ(brg_vec_map(pool, out, out, affine_fn, &g, 0), 0);
	for (size_t i = 0; i < n; i++) {
		double r = affine_fn(ku_getf(in, i), &g);
		bad += !feq(ku_getf(out, i), dt == BRG_F32 ? (double)(float)r : r);
	}
	CHECK_EQ(bad, 0);
}

static int shm_exists(const char *name)
{
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", name);
	struct stat st;
	return stat(path, &st) == 0;
}

static void check_pool_array_create(brg_pool *pool)
{
	const size_t n = (1u << 20) + 3;
	const char *name = test_name("ft");
	brg_array *a = NULL, *b = NULL, *c = NULL;
	CHECK_EQ(brg_pool_array_create(pool, &a, name, BRG_F64, 1, &n, NULL), 0);
	REQUIRE(a);
	CHECK_EQ(brg_array_count(a), n);
	CHECK_EQ(brg_array_nbytes(a), n * 8);
	CHECK_EQ(brg_array_writable(a), 1);
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(name, 0, &info), 0);
	CHECK_EQ(info.nbytes, n * 8);
	/* Populated: the object's data pages are allocated, not a hole. */
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", name);
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	CHECK((size_t)st.st_blocks * 512u >= n * 8);
	size_t nz = 0;
	for (size_t i = 0; i < n; i++)
		nz += ((const double *)brg_array_data(a))[i] != 0.0;
	CHECK_EQ(nz, 0);

	/* Arrays made this way work with the kernels. */
	size_t shape2[2] = {37, 1001};
	CHECK_EQ(brg_pool_array_create(pool, &b, test_name("ft2"), BRG_F64, 1, &n, NULL), 0);
	CHECK_EQ(brg_pool_array_create(pool, &c, test_name("ft3"), BRG_F32, 2, shape2, NULL), 0);
	if (b && c) {
		CHECK_EQ(brg_vec_fill(pool, b, 2.0), 0);
		CHECK_EQ(brg_vec_triad(pool, a, b, 0.5, b), 0);
		CHECK(((const double *)brg_array_data(a))[n - 1] == 3.0);
		CHECK_EQ(brg_array_count(c), 37 * 1001);
	}
	test_array_drop(b);
	test_array_drop(c);

	/* Failures leave nothing behind. */
	brg_array *x = (brg_array *)1;
	CHECK_EQ(brg_pool_array_create(pool, &x, "bad/name", BRG_F64, 1, &n, NULL), BRG_EBADNAME);
	CHECK(x == NULL);
	CHECK_EQ(brg_pool_array_create(pool, &x, name, BRG_F64, 1, &n, NULL), -EEXIST);
	CHECK(shm_exists(name)); /* the existing one is untouched */
	const char *n2 = test_name("ftbad");
	CHECK_EQ(brg_pool_array_create(pool, &x, n2, (brg_dtype)99, 1, &n, NULL), BRG_EBADDTYPE);
	CHECK(!shm_exists(n2));
	CHECK_EQ(brg_pool_array_create(pool, &x, n2, BRG_F64, 0, &n, NULL), BRG_EBADNDIM);
	CHECK(!shm_exists(n2));
	CHECK_EQ(brg_pool_array_create(NULL, &x, n2, BRG_F64, 1, &n, NULL), -EINVAL);
	CHECK_EQ(brg_pool_array_create(pool, NULL, n2, BRG_F64, 1, &n, NULL), -EINVAL);
	CHECK(!shm_exists(n2));
	/* An empty array needs no job. */
	size_t zero = 0;
	CHECK_EQ(brg_pool_array_create(pool, &x, n2, BRG_U8, 1, &zero, NULL), 0);
	CHECK(x && brg_array_count(x) == 0);
	test_array_drop(x);
	test_array_drop(a);
}

int main(void)
{
	test_init_pools();
	brg_pool *pools[KU_NPOOLS];
	for (int p = 0; p < KU_NPOOLS; p++)
		pools[p] = ku_pool(ku_pools[p]);

	for (int s = 0; s < KU_NSIZES; s++) {
		size_t n = ku_sizes[s];
		for (int d = 0; d < KU_NDTYPES; d++) {
			brg_dtype dt = ku_dtypes[d];
			char tag[64];
			snprintf(tag, sizeof tag, "v%d-%s-", s, brg_dtype_name(dt));
			char t1[80], t2[80], t3[80];
			snprintf(t1, sizeof t1, "%so", tag);
			snprintf(t2, sizeof t2, "%sx", tag);
			snprintf(t3, sizeof t3, "%sy", tag);
			brg_array *o = test_array_new(t1, dt, n), *x = test_array_new(t2, dt, n),
				  *y = test_array_new(t3, dt, n);
			for (int p = 0; p < KU_NPOOLS; p++) {
				int before = test_failures;
				check_fill(pools[p], o);
				check_copy(pools[p], o, x);
				check_binop(pools[p], o, x, y);
				if (ku_is_float(dt)) {
					check_blas1(pools[p], o, x, y);
					check_map(pools[p], o, x);
				}
				if (test_failures != before)
					fprintf(stderr, "  (dtype %s, n %zu, pool of %d)\n",
						brg_dtype_name(dt), n, ku_pools[p]);
			}
			test_array_drop(o);
			test_array_drop(x);
			test_array_drop(y);
		}
	}
	for (int p = 0; p < KU_NPOOLS; p++)
		check_pool_array_create(pools[p]);
	for (int p = 0; p < KU_NPOOLS; p++)
		brg_pool_destroy(pools[p]);
	return test_done();
}
