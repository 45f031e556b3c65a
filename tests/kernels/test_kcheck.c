/* SPDX-License-Identifier: MIT */
/* test_kcheck.c - every argument error of the kernel calls returns its code and writes
 * nothing (the poisoned output and the result scalar stay as they were); the worker-side
 * checks refuse a task that does not fit its arrays; the built-in kernel table is complete
 * and its names unique. */
#include <errno.h>

#include "kernels.h"
#include "kutil.h"

/* A snapshot of an array's bytes, to see that a failed call wrote nothing. */
struct snap {
	const brg_array *a;
	unsigned char *bytes;
};

static struct snap take(const brg_array *a)
{
	struct snap s = {a, malloc(brg_array_nbytes(a) + 1)};
	REQUIRE(s.bytes);
	memcpy(s.bytes, brg_array_data(a), brg_array_nbytes(a));
	return s;
}

static int unchanged(struct snap s)
{
	int same = memcmp(s.bytes, brg_array_data(s.a), brg_array_nbytes(s.a)) == 0;
	free(s.bytes);
	return same;
}

/* call must return code and leave out's bytes alone. */
#define EXPECT(out, code, call)                                                                \
	do {                                                                                   \
		ku_poison(out);                                                                \
		struct snap s_ = take(out);                                                    \
		CHECK_EQ(call, code);                                                          \
		if (!unchanged(s_))                                                            \
			TEST_FAIL_("%s wrote to its output although it failed", #call);       \
	} while (0)

/* A reduction must return code and leave the result scalar alone. */
#define EXPECT_R(code, call)                                                                   \
	do {                                                                                   \
		memset(&res, 0x5A, sizeof res);                                                \
		brg_scalar before_ = res;                                                      \
		CHECK_EQ(call, code);                                                          \
		if (memcmp(&before_, &res, sizeof res))                                        \
			TEST_FAIL_("%s wrote its result although it failed", #call);          \
	} while (0)

static brg_array *reopen(const brg_array *a, unsigned flags)
{
	brg_array *h = NULL;
	REQUIRE_EQ(brg_array_open(&h, brg_array_name(a), flags), 0);
	return h;
}

static double twice(double v, const void *ud)
{
	return 2 * v;
}

static void vec_errors(brg_pool *pool)
{
	brg_array *x = test_array_new("x", BRG_F64, 100), *y = test_array_new("y", BRG_F64, 100);
	brg_array *o = test_array_new("o", BRG_F64, 100), *f = test_array_new("f", BRG_F32, 100);
	brg_array *shortv = test_array_new("short", BRG_F64, 99), *xi = test_array_new("xi", BRG_I32, 100);
	brg_array *u8 = test_array_new("u8", BRG_U8, 10), *i8 = test_array_new("i8", BRG_I8, 10);
	brg_array *u64 = test_array_new("u64", BRG_U64, 10), *i64 = test_array_new("i64", BRG_I64, 10);
	brg_array *ro = reopen(o, 0);               /* o mapped read-only */
	brg_array *xa = reopen(x, BRG_OPEN_WRITE); /* x under a second handle */
	ku_fill_random(x, 1);
	ku_fill_random(y, 1);

	/* fill */
	EXPECT(o, -EINVAL, brg_vec_fill(NULL, o, 1));
	CHECK_EQ(brg_vec_fill(pool, NULL, 1), -EINVAL);
	EXPECT(o, BRG_EREADONLY, brg_vec_fill(pool, ro, 1));
	EXPECT(xi, BRG_EBADARG, brg_vec_fill(pool, xi, 1.5));
	EXPECT(u8, BRG_EBADARG, brg_vec_fill(pool, u8, 256));
	EXPECT(u8, BRG_EBADARG, brg_vec_fill(pool, u8, -1));
	EXPECT(i8, BRG_EBADARG, brg_vec_fill(pool, i8, NAN));
	EXPECT(i8, BRG_EBADARG, brg_vec_fill(pool, i8, -129));
	EXPECT(u64, BRG_EBADARG, brg_vec_fill(pool, u64, 18446744073709551616.0));
	EXPECT(i64, BRG_EBADARG, brg_vec_fill(pool, i64, 9223372036854775808.0));
	EXPECT(xi, BRG_EBADARG, brg_vec_fill(pool, xi, INFINITY));

	/* copy */
	EXPECT(o, -EINVAL, brg_vec_copy(pool, o, NULL));
	EXPECT(o, BRG_EDTYPE, brg_vec_copy(pool, o, f));
	EXPECT(o, BRG_ESHAPE, brg_vec_copy(pool, o, shortv));
	EXPECT(o, BRG_EREADONLY, brg_vec_copy(pool, ro, x));
	EXPECT(x, BRG_EALIAS, brg_vec_copy(pool, x, x));
	EXPECT(x, BRG_EALIAS, brg_vec_copy(pool, x, xa));

	/* scale, axpy, triad */
	CHECK_EQ(brg_vec_scale(pool, NULL, 2), -EINVAL);
	EXPECT(o, -EINVAL, brg_vec_scale(NULL, o, 2));
	EXPECT(xi, BRG_EDTYPE, brg_vec_scale(pool, xi, 2));
	EXPECT(o, BRG_EREADONLY, brg_vec_scale(pool, ro, 2));
	EXPECT(o, -EINVAL, brg_vec_axpy(pool, o, 2, NULL));
	EXPECT(o, BRG_EDTYPE, brg_vec_axpy(pool, o, 2, f));
	EXPECT(xi, BRG_EDTYPE, brg_vec_axpy(pool, xi, 2, xi));
	EXPECT(o, BRG_ESHAPE, brg_vec_axpy(pool, o, 2, shortv));
	EXPECT(o, BRG_EREADONLY, brg_vec_axpy(pool, ro, 2, x));
	EXPECT(x, BRG_EALIAS, brg_vec_axpy(pool, x, 2, x));
	EXPECT(x, BRG_EALIAS, brg_vec_axpy(pool, x, 2, xa));
	EXPECT(o, -EINVAL, brg_vec_triad(pool, o, x, 2, NULL));
	EXPECT(o, BRG_EDTYPE, brg_vec_triad(pool, o, x, 2, f));
	EXPECT(o, BRG_ESHAPE, brg_vec_triad(pool, o, shortv, 2, x));
	EXPECT(o, BRG_EREADONLY, brg_vec_triad(pool, ro, x, 2, y));
	EXPECT(x, BRG_EALIAS, brg_vec_triad(pool, x, x, 2, y));
	EXPECT(x, BRG_EALIAS, brg_vec_triad(pool, x, y, 2, xa));

	/* binop: aliasing is allowed, the op must be known */
	EXPECT(o, BRG_EBADARG, brg_vec_binop(pool, o, x, 4, y));
	EXPECT(o, BRG_EBADARG, brg_vec_binop(pool, o, x, -1, y));
	EXPECT(o, BRG_EDTYPE, brg_vec_binop(pool, o, x, BRG_OP_ADD, f));
	EXPECT(o, BRG_ESHAPE, brg_vec_binop(pool, o, shortv, BRG_OP_ADD, y));
	EXPECT(o, BRG_EREADONLY, brg_vec_binop(pool, ro, x, BRG_OP_ADD, y));
	EXPECT(o, -EINVAL, brg_vec_binop(pool, o, NULL, BRG_OP_ADD, y));
	CHECK_EQ(brg_vec_binop(pool, x, x, BRG_OP_ADD, xa), 0);

	/* map */
	EXPECT(o, -EINVAL, brg_vec_map(pool, o, x, NULL, NULL, 0));
	EXPECT(o, -EINVAL, brg_vec_map(pool, o, x, twice, NULL, 8));
	EXPECT(xi, BRG_EDTYPE, brg_vec_map(pool, xi, xi, twice, NULL, 0));
	EXPECT(o, BRG_ESHAPE, brg_vec_map(pool, o, shortv, twice, NULL, 0));
	EXPECT(o, BRG_EREADONLY, brg_vec_map(pool, ro, x, twice, NULL, 0));
	static unsigned char big[BRG_ARGS_MAX];
	EXPECT(o, BRG_EARGSIZE, brg_vec_map(pool, o, x, twice, big, sizeof big));

	/* reductions */
	brg_array *e = test_array_new("empty", BRG_F64, 0);
	brg_scalar res;
	EXPECT_R(-EINVAL, brg_reduce_sum(pool, NULL, x));
	EXPECT_R(-EINVAL, brg_reduce_sum(NULL, &res, x));
	EXPECT_R(-EINVAL, brg_reduce_max(pool, &res, NULL));
	EXPECT_R(-EINVAL, brg_reduce_dot(pool, &res, x, NULL));
	EXPECT_R(BRG_EDTYPE, brg_reduce_sumsq(pool, &res, xi));
	EXPECT_R(BRG_EDTYPE, brg_reduce_norm2(pool, &res, xi));
	EXPECT_R(BRG_EDTYPE, brg_reduce_dot(pool, &res, xi, xi));
	EXPECT_R(BRG_EDTYPE, brg_reduce_dot(pool, &res, x, f));
	EXPECT_R(BRG_ESHAPE, brg_reduce_dot(pool, &res, x, shortv));
	EXPECT_R(BRG_EDTYPE, brg_reduce_argmin(pool, &res, xi));
	EXPECT_R(BRG_EDTYPE, brg_reduce_argmax(pool, &res, u8));
	EXPECT_R(BRG_ENODATA, brg_reduce_min(pool, &res, e));
	EXPECT_R(BRG_ENODATA, brg_reduce_max(pool, &res, e));
	EXPECT_R(BRG_ENODATA, brg_reduce_argmin(pool, &res, e));
	EXPECT_R(BRG_ENODATA, brg_reduce_argmax(pool, &res, e));
	CHECK_EQ(brg_reduce_sum(pool, &res, e), 0); /* sums have an identity */
	CHECK(res.f == 0 && res.dtype == BRG_F64);
	CHECK_EQ(brg_reduce_norm2(pool, &res, e), 0);
	CHECK(res.f == 0);

	brg_array_close(ro);
	brg_array_close(xa);
	test_array_drop(x), test_array_drop(y), test_array_drop(o), test_array_drop(f), test_array_drop(shortv), test_array_drop(xi);
	test_array_drop(u8), test_array_drop(i8), test_array_drop(u64), test_array_drop(i64), test_array_drop(e);
}

static void stencil_errors(brg_pool *pool)
{
	const size_t s56[2] = {5, 6}, s57[2] = {5, 7};
	brg_array *in = test_array_new_nd("img", BRG_U8, 2, s56), *out = test_array_new_nd("imo", BRG_U8, 2, s56);
	brg_array *fo = test_array_new_nd("imf", BRG_F32, 2, s56), *d = test_array_new_nd("imd", BRG_F64, 2, s56);
	brg_array *wide = test_array_new_nd("imw", BRG_U8, 2, s57), *flat = test_array_new("imflat", BRG_U8, 30);
	brg_array *ro = reopen(out, 0), *ina = reopen(in, BRG_OPEN_WRITE);
	float w[25] = {0};
	EXPECT(out, -EINVAL, brg_stencil_conv(pool, out, in, 3, NULL, BRG_BORDER_CLAMP));
	EXPECT(out, -EINVAL, brg_stencil_conv(NULL, out, in, 3, w, BRG_BORDER_CLAMP));
	EXPECT(out, -EINVAL, brg_stencil_box(pool, out, NULL, 1, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EBADARG, brg_stencil_conv(pool, out, in, 4, w, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EBADARG, brg_stencil_conv(pool, out, in, 7, w, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EBADARG, brg_stencil_conv(pool, out, in, 3, w, 1));
	EXPECT(out, BRG_EBADARG, brg_stencil_box(pool, out, in, 0, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EBADARG, brg_stencil_box(pool, out, in, 3, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EBADARG, brg_stencil_box(pool, out, in, 1, -1));
	EXPECT(flat, BRG_ESHAPE, brg_stencil_conv(pool, flat, flat, 3, w, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_ESHAPE, brg_stencil_box(pool, out, wide, 1, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_ESHAPE, brg_stencil_box(pool, out, flat, 1, BRG_BORDER_CLAMP));
	EXPECT(d, BRG_EDTYPE, brg_stencil_box(pool, d, d, 1, BRG_BORDER_CLAMP));
	EXPECT(fo, BRG_EDTYPE, brg_stencil_box(pool, fo, in, 1, BRG_BORDER_CLAMP));
	EXPECT(out, BRG_EREADONLY, brg_stencil_box(pool, ro, in, 1, BRG_BORDER_CLAMP));
	EXPECT(in, BRG_EALIAS, brg_stencil_box(pool, in, in, 1, BRG_BORDER_CLAMP));
	EXPECT(in, BRG_EALIAS, brg_stencil_conv(pool, in, ina, 5, w, BRG_BORDER_CLAMP));
	brg_array_close(ro);
	brg_array_close(ina);
	test_array_drop(in), test_array_drop(out), test_array_drop(fo), test_array_drop(d), test_array_drop(wide), test_array_drop(flat);
}

static void blas_errors(brg_pool *pool)
{
	const size_t s43[2] = {4, 3}, s32[2] = {3, 2}, s42[2] = {4, 2}, s44[2] = {4, 4};
	brg_array *a = test_array_new_nd("A", BRG_F64, 2, s43), *b = test_array_new_nd("B", BRG_F64, 2, s32);
	brg_array *c = test_array_new_nd("C", BRG_F64, 2, s42), *cw = test_array_new_nd("Cw", BRG_F64, 2, s43);
	brg_array *sq = test_array_new_nd("S", BRG_F64, 2, s44), *af = test_array_new_nd("Af", BRG_F32, 2, s43);
	brg_array *x3 = test_array_new("x3", BRG_F64, 3), *x4 = test_array_new("x4", BRG_F64, 4);
	brg_array *y4 = test_array_new("y4", BRG_F64, 4), *y3 = test_array_new("y3", BRG_F64, 3);
	brg_array *ro = reopen(c, 0), *sqa = reopen(sq, BRG_OPEN_WRITE), *x4a = reopen(x4, BRG_OPEN_WRITE);
	ku_fill_random(a, 1);
	ku_fill_random(b, 1);
	EXPECT(c, -EINVAL, brg_blas_gemm(pool, c, 1, 0, a, 0, NULL, 0));
	EXPECT(c, -EINVAL, brg_blas_gemm(NULL, c, 1, 0, a, 0, b, 0));
	EXPECT(c, BRG_EDTYPE, brg_blas_gemm(pool, c, 1, 0, af, 0, b, 0));
	EXPECT(c, BRG_EBADARG, brg_blas_gemm(pool, c, 1, 2, a, 0, b, 0));
	EXPECT(c, BRG_EBADARG, brg_blas_gemm(pool, c, 1, 0, a, -1, b, 0));
	EXPECT(cw, BRG_ESHAPE, brg_blas_gemm(pool, cw, 1, 0, a, 0, b, 0)); /* C not 4x2 */
	EXPECT(c, BRG_ESHAPE, brg_blas_gemm(pool, c, 1, 1, a, 0, b, 0));   /* A^T is 3x4 */
	EXPECT(c, BRG_ESHAPE, brg_blas_gemm(pool, c, 1, 0, a, 1, b, 0));   /* B^T is 2x3 */
	EXPECT(c, BRG_ESHAPE, brg_blas_gemm(pool, c, 1, 0, x3, 0, b, 0));  /* A 1-D */
	EXPECT(c, BRG_EREADONLY, brg_blas_gemm(pool, ro, 1, 0, a, 0, b, 0));
	EXPECT(sq, BRG_EALIAS, brg_blas_gemm(pool, sq, 1, 0, sq, 0, sq, 0));
	EXPECT(sq, BRG_EALIAS, brg_blas_gemm(pool, sq, 1, 0, sqa, 1, sqa, 1));

	EXPECT(y4, -EINVAL, brg_blas_gemv(pool, y4, 1, 0, a, NULL, 0));
	EXPECT(y4, BRG_EBADARG, brg_blas_gemv(pool, y4, 1, 5, a, x3, 0));
	EXPECT(y4, BRG_EDTYPE, brg_blas_gemv(pool, y4, 1, 0, af, x3, 0));
	EXPECT(y4, BRG_ESHAPE, brg_blas_gemv(pool, y4, 1, 0, a, x4, 0));  /* A x needs 3 */
	EXPECT(y4, BRG_ESHAPE, brg_blas_gemv(pool, y4, 1, 1, a, x4, 0));  /* A^T x gives 3 */
	EXPECT(c, BRG_ESHAPE, brg_blas_gemv(pool, c, 1, 0, a, x3, 0));	  /* y 2-D */
	EXPECT(y4, BRG_ESHAPE, brg_blas_gemv(pool, y4, 1, 0, x4, x3, 0)); /* A 1-D */
	EXPECT(x4, BRG_EALIAS, brg_blas_gemv(pool, x4, 1, 0, sq, x4, 0));
	EXPECT(x4, BRG_EALIAS, brg_blas_gemv(pool, x4, 1, 1, sq, x4a, 0.5));
	brg_array *yro = reopen(y3, 0);
	EXPECT(y3, BRG_EREADONLY, brg_blas_gemv(pool, yro, 1, 1, a, x4, 0));
	brg_array_close(yro);
	brg_array_close(ro);
	brg_array_close(sqa);
	brg_array_close(x4a);
	test_array_drop(a), test_array_drop(b), test_array_drop(c), test_array_drop(cw), test_array_drop(sq), test_array_drop(af);
	test_array_drop(x3), test_array_drop(x4), test_array_drop(y4), test_array_drop(y3);
}

static const brg_kernel *find(const brg_kernel *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

/* The table spawned workers search: every kernel of every file, each name once. */
static void table_checks(void)
{
	size_t n = 0;
	const brg_kernel *t = brg__builtin_kernels(&n);
	size_t parts = brg__vec_kernels(NULL, 0) + brg__reduce_kernels(NULL, 0) +
		       brg__stencil_kernels(NULL, 0) + brg__gemm_kernels(NULL, 0) +
		       brg__firsttouch_kernels(NULL, 0);
	CHECK_EQ(n, parts);
	printf("%zu built-in kernels\n", n);
	for (size_t i = 0; i < n; i++) {
		CHECK(t[i].fn != NULL);
		CHECK(t[i].name && !strncmp(t[i].name, "brg.", 4) && strlen(t[i].name) < 64);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t[i].name, t[j].name))
				TEST_FAIL_("kernel name %s twice", t[i].name);
	}
	const char *expect[] = {"brg.triad.f64", "brg.axpy.f32", "brg.fill.u16", "brg.copy",
				"brg.binop.i64", "brg.sum.u8", "brg.argmax.f32", "brg.norm2.f64",
				"brg.stencil.u8", "brg.gemm.f64", "brg.gemm-b0.f32",
				"brg.gemv.f64", "brg.populate"};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		if (!find(t, n, expect[i]))
			TEST_FAIL_("kernel %s not in the table", expect[i]);
	/* idempotence as the kernel promises it */
	const brg_kernel *k;
	CHECK((k = find(t, n, "brg.triad.f64")) && (k->flags & BRG_KERNEL_IDEMPOTENT));
	CHECK((k = find(t, n, "brg.axpy.f64")) && !(k->flags & BRG_KERNEL_IDEMPOTENT));
	CHECK((k = find(t, n, "brg.scale.f32")) && !(k->flags & BRG_KERNEL_IDEMPOTENT));
	CHECK((k = find(t, n, "brg.binop-inplace.f64")) && !(k->flags & BRG_KERNEL_IDEMPOTENT));
	CHECK((k = find(t, n, "brg.gemm.f64")) && !(k->flags & BRG_KERNEL_IDEMPOTENT));
	CHECK((k = find(t, n, "brg.gemm-b0.f64")) && (k->flags & BRG_KERNEL_IDEMPOTENT));

	/* Worker side: a task that does not fit its arrays is refused, never run. */
	brg_array *a = test_array_new("wa", BRG_F64, 10), *b = test_array_new("wb", BRG_F64, 10);
	brg_array *f = test_array_new("wf", BRG_F32, 10), *ro = reopen(a, 0);
	double s = 2;
	brg_array *ok[] = {a, b, b}, *wrong[] = {a, f, b}, *rdonly[] = {ro, b, b};
	brg_task task = {.begin = 0, .end = 10, .args = &s, .arrays = ok, .narrays = 3};
	k = find(t, n, "brg.triad.f64");
	REQUIRE(k);
	ku_poison(a);
	task.narrays = 2;
	CHECK_EQ(k->fn(&task), BRG_EPOOLSTATE);
	task.narrays = 3;
	task.end = 11;
	CHECK_EQ(k->fn(&task), BRG_EPOOLSTATE);
	task.end = 10;
	task.arrays = wrong;
	CHECK_EQ(k->fn(&task), BRG_EPOOLSTATE);
	task.arrays = rdonly;
	CHECK_EQ(k->fn(&task), BRG_EPOOLSTATE);
	CHECK(isnan(((double *)brg_array_data(a))[0])); /* nothing was written */
	task.arrays = ok;
	CHECK_EQ(k->fn(&task), 0);
	CHECK(((double *)brg_array_data(a))[9] == 0.0); /* b is zero: 0 + 2 * 0 */
	brg_array_close(ro);
	test_array_drop(a), test_array_drop(b), test_array_drop(f);
}

int main(void)
{
	test_init_pools();
	brg_pool *pool = ku_pool(2);
	vec_errors(pool);
	stencil_errors(pool);
	blas_errors(pool);
	table_checks();
	brg_pool_destroy(pool);
	return test_done();
}
