/* SPDX-License-Identifier: MIT */
/* vec_tmpl.h - the elementwise kernels of one dtype.  vec.c includes it once per dtype with
 * T (element type), SUF (name suffix: f64...), DT (its brg_dtype), KIND (BRG__FLOAT, BRG__SIGNED or
 * BRG__UNSIGNED) and UT (the unsigned type integer arithmetic wraps in) defined. */

#define FN(name) BRG__CAT3(name, _, SUF)
#define KNAME(op) "brg." op "." BRG__STR(SUF)

BRG__CLONES_STREAM static void FN(fill_loop)(T *restrict x, T v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = v;
}

static int FN(k_fill)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 1, 1, DT);
	if (r)
		return r;
	T v;
	memcpy(&v, ((const struct fill_args *)t->args)->bits, sizeof v);
	FN(fill_loop)((T *)brg_array_data(t->arrays[0]) + t->begin, v, t->end - t->begin);
	return 0;
}

#if KIND == BRG__FLOAT
#define OP_ADD(a, b) ((a) + (b))
#define OP_SUB(a, b) ((a) - (b))
#define OP_MUL(a, b) ((a) * (b))
#define OP_DIV(a, b) ((a) / (b))
#else
/* Wrapping arithmetic: in UT, never in a signed type, where overflow is undefined. */
#define OP_ADD(a, b) ((T)((UT)(a) + (UT)(b)))
#define OP_SUB(a, b) ((T)((UT)(a) - (UT)(b)))
#define OP_MUL(a, b) ((T)((UT)(a) * (UT)(b)))
#define OP_DIV(a, b) FN(idiv)(a, b)

static inline T FN(idiv)(T a, T b)
{
	if (b == 0)
		return 0; /* defined here, unlike in C: a kernel must not trap a worker */
#if KIND == BRG__SIGNED
	if (b == (T)-1)
		return (T)(0 - (UT)a); /* INT_MIN / -1 wraps to INT_MIN */
#endif
	return (T)(a / b);
}
#endif

/* No restrict: out may be x or y.  GCC's run-time overlap test lets an exact alias (the
 * write follows the read of the same element) take the vector loop. */
BRG__CLONES_STREAM static void FN(binop_loop)(int op, T *o, const T *x, const T *y, size_t n)
{
	switch (op) {
	case BRG_OP_ADD:
		for (size_t i = 0; i < n; i++)
			o[i] = OP_ADD(x[i], y[i]);
		break;
	case BRG_OP_SUB:
		for (size_t i = 0; i < n; i++)
			o[i] = OP_SUB(x[i], y[i]);
		break;
	case BRG_OP_MUL:
		for (size_t i = 0; i < n; i++)
			o[i] = OP_MUL(x[i], y[i]);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			o[i] = OP_DIV(x[i], y[i]);
		break;
	}
}

#undef OP_ADD
#undef OP_SUB
#undef OP_MUL
#undef OP_DIV

static int FN(k_binop)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 3, 1, DT);
	if (r)
		return r;
	int op = ((const struct binop_args *)t->args)->op;
	if (op < BRG_OP_ADD || op > BRG_OP_DIV)
		return BRG_EPOOLSTATE;
	FN(binop_loop)(op, (T *)brg_array_data(t->arrays[0]) + t->begin,
		       (const T *)brg_array_data(t->arrays[1]) + t->begin,
		       (const T *)brg_array_data(t->arrays[2]) + t->begin, t->end - t->begin);
	return 0;
}

#if KIND == BRG__FLOAT
/* f32 arithmetic goes through double (one rounding to float at the end), like vec_map. */
BRG__CLONES_STREAM static void FN(scale_loop)(T *restrict x, double a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (T)((double)x[i] * a);
}

BRG__CLONES_STREAM static void FN(axpy_loop)(T *restrict y, double a, const T *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (T)((double)y[i] + a * (double)x[i]);
}

BRG__CLONES_STREAM static void FN(triad_loop)(T *restrict a, const T *restrict b, double s,
				       const T *restrict c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] = (T)((double)b[i] + s * (double)c[i]);
}

static int FN(k_scale)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 1, 1, DT);
	if (r)
		return r;
	FN(scale_loop)((T *)brg_array_data(t->arrays[0]) + t->begin,
		       ((const struct scalar_args *)t->args)->a, t->end - t->begin);
	return 0;
}

static int FN(k_axpy)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 2, 1, DT);
	if (r)
		return r;
	FN(axpy_loop)((T *)brg_array_data(t->arrays[0]) + t->begin,
		      ((const struct scalar_args *)t->args)->a,
		      (const T *)brg_array_data(t->arrays[1]) + t->begin, t->end - t->begin);
	return 0;
}

static int FN(k_triad)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 3, 1, DT);
	if (r)
		return r;
	FN(triad_loop)((T *)brg_array_data(t->arrays[0]) + t->begin,
		       (const T *)brg_array_data(t->arrays[1]) + t->begin,
		       ((const struct scalar_args *)t->args)->a,
		       (const T *)brg_array_data(t->arrays[2]) + t->begin, t->end - t->begin);
	return 0;
}

static int FN(k_map)(const brg_task *t)
{
	int r = brg__ktask_flat(t, 2, 1, DT);
	if (r)
		return r;
	const struct map_args *m = t->args;
	const void *ud = m->ud_size ? (const void *)m->ud : m->ud_ptr;
	/* The function's address came through shared memory: call it only if it is code of a
	 * loaded object (fork workers share the caller's image). */
	if (!brg__code_address_ok((const void *)(uintptr_t)m->fn))
		return BRG_EPOOLSTATE;
	T *o = (T *)brg_array_data(t->arrays[0]);
	const T *x = (const T *)brg_array_data(t->arrays[1]);
	for (size_t i = t->begin; i < t->end; i++)
		o[i] = (T)m->fn((double)x[i], ud);
	return 0;
}
#endif

static const brg_kernel FN(kern_fill) = {KNAME("fill"), FN(k_fill), BRG_KERNEL_IDEMPOTENT};
static const brg_kernel FN(kern_binop) = {KNAME("binop"), FN(k_binop), BRG_KERNEL_IDEMPOTENT};
/* The same function when out is x or y: a re-run range would read its own output. */
static const brg_kernel FN(kern_binop_ip) = {KNAME("binop-inplace"), FN(k_binop), 0};
#if KIND == BRG__FLOAT
static const brg_kernel FN(kern_scale) = {KNAME("scale"), FN(k_scale), 0};
static const brg_kernel FN(kern_axpy) = {KNAME("axpy"), FN(k_axpy), 0};
static const brg_kernel FN(kern_triad) = {KNAME("triad"), FN(k_triad), BRG_KERNEL_IDEMPOTENT};
static const brg_kernel FN(kern_map) = {KNAME("map"), FN(k_map), BRG_KERNEL_IDEMPOTENT};
static const brg_kernel FN(kern_map_ip) = {KNAME("map-inplace"), FN(k_map), 0};
#endif

static const struct vec_set FN(set) = {
	.fill = &FN(kern_fill),
	.binop = &FN(kern_binop),
	.binop_ip = &FN(kern_binop_ip),
#if KIND == BRG__FLOAT
	.scale = &FN(kern_scale),
	.axpy = &FN(kern_axpy),
	.triad = &FN(kern_triad),
	.map = &FN(kern_map),
	.map_ip = &FN(kern_map_ip),
#endif
};

/* What spawned workers can find by name; map is left out, its function pointer means
 * nothing in another program. */
static const brg_kernel *const FN(list)[] = {
	&FN(kern_fill),
	&FN(kern_binop),
	&FN(kern_binop_ip),
#if KIND == BRG__FLOAT
	&FN(kern_scale),
	&FN(kern_axpy),
	&FN(kern_triad),
#endif
};

#undef FN
#undef KNAME
#undef T
#undef SUF
#undef DT
#undef KIND
#undef UT
#undef IT
#undef NORM_SCALED
