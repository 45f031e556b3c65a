/* SPDX-License-Identifier: MIT */
/* vec.c - elementwise kernels (fill, copy, scale, axpy, triad, binop, map) as pool jobs over
 * the elements on the static schedule. */
#pragma GCC optimize("fp-contract=off") /* same bits from every clone: see kernels.h */

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels.h"


struct fill_args {
	unsigned char bits[8]; /* the value, already converted to the array's dtype */
};
struct binop_args {
	int32_t op;
};
struct scalar_args {
	double a;
};
struct map_args {
	brg_map_fn fn;
	const void *ud_ptr; /* the caller's pointer, passed on when ud_size is 0 */
	uint64_t ud_size;
	_Alignas(16) unsigned char ud[]; /* a copy of the user data, in the control block */
};
struct copy_args {
	uint32_t esize;
};

struct vec_set {
	const brg_kernel *fill, *binop, *binop_ip, *scale, *axpy, *triad, *map, *map_ip;
};

#define BRG__DTYPE_TMPL "vec_tmpl.h"
#include "dtype_each.h"
#undef BRG__DTYPE_TMPL

#define SET_ENTRY(...) BRG__DTYPE_ENTRY_(__VA_ARGS__, set_)
static const struct vec_set *const sets[] = {BRG__DTYPES(SET_ENTRY)};
#undef SET_ENTRY

static const struct vec_set *set_of(const brg_array *a)
{
	unsigned dt = (unsigned)a->meta.lay.dtype;
	return dt < sizeof sets / sizeof sets[0] ? sets[dt] : NULL;
}

static int k_copy(const brg_task *t)
{
	int r = brg__ktask_flat(t, 2, 1, 0);
	if (r)
		return r;
	size_t es = ((const struct copy_args *)t->args)->esize;
	if (t->arrays[0]->meta.lay.dtype != t->arrays[1]->meta.lay.dtype ||
	    es != brg_dtype_size(t->arrays[0]->meta.lay.dtype))
		return BRG_EPOOLSTATE;
	memcpy((unsigned char *)brg_array_data(t->arrays[0]) + t->begin * es,
	       (const unsigned char *)brg_array_data(t->arrays[1]) + t->begin * es,
	       (t->end - t->begin) * es);
	return 0;
}
static const brg_kernel kern_copy = {"brg.copy", k_copy, BRG_KERNEL_IDEMPOTENT};

size_t brg__vec_kernels(const brg_kernel **out, size_t max)
{
	size_t at = 0;
	BRG__KLIST_APPEND_DTYPES(out, max, &at);
	const brg_kernel *const more[] = {&kern_copy};
	brg__klist_append(out, max, &at, more, 1);
	return at;
}

/* Whether value converts to an integer dtype exactly: an integral value in its range (powers
 * of two, exact in double, bound it). */
static int int_representable(brg_dtype dt, double v)
{
	double lo = 0, hi_excl = 0;
	switch (dt) {
#define RANGE(DT, SUF, T, KIND, SIZE, NAME, DESCR, NUMPY)                                      \
	case DT:                                                                               \
		hi_excl = ldexp(1.0, 8 * SIZE - (KIND == BRG__SIGNED));                        \
		lo = KIND == BRG__SIGNED ? -hi_excl : 0;                                       \
		break;
		BRG__DTYPES(RANGE)
#undef RANGE
	}
	return v >= lo && v < hi_excl && v == trunc(v); /* NaN fails every comparison */
}

int brg_vec_fill(brg_pool *pool, brg_array *out, double value)
{
	if (!pool || !out)
		return -EINVAL;
	const struct vec_set *s = set_of(out);
	if (!s)
		return BRG_EDTYPE;
	int r = brg__kcheck_output(out);
	if (r)
		return r;
	brg_dtype dt = out->meta.lay.dtype;
	if (!brg__kcheck_float(dt) && !int_representable(dt, value))
		return BRG_EBADARG;
	struct fill_args a;
	memset(&a, 0, sizeof a);
	switch (dt) {
#define CONV(DT, SUF, TY, KIND, SIZE, NAME, DESCR, NUMPY)                                     \
	case DT: {                                                                             \
		TY v = (TY)value;                                                              \
		memcpy(a.bits, &v, sizeof v);                                                  \
		break;                                                                         \
	}
		BRG__DTYPES(CONV)
#undef CONV
	}
	brg_array *arrays[] = {out};
	return brg__krun(pool, s->fill, out->meta.lay.count, &a, sizeof a, arrays, 1);
}

int brg_vec_copy(brg_pool *pool, brg_array *dst, const brg_array *src)
{
	if (!pool || !dst || !src)
		return -EINVAL;
	int r;
	if (!set_of(dst))
		return BRG_EDTYPE;
	if ((r = brg__kcheck_same(dst, src)) || (r = brg__kcheck_output(dst)))
		return r;
	if (brg__kcheck_alias(dst, src))
		return BRG_EALIAS;
	struct copy_args a = {(uint32_t)brg_dtype_size(dst->meta.lay.dtype)};
	brg_array *arrays[] = {dst, (brg_array *)src};
	return brg__krun(pool, &kern_copy, dst->meta.lay.count, &a, sizeof a, arrays, 2);
}

/* The checks of the f32/f64-only calls: out first, then each input against it. */
static int float_checks(brg_array *out, const brg_array *in1, const brg_array *in2)
{
	if (!brg__kcheck_float(out->meta.lay.dtype))
		return BRG_EDTYPE;
	int r;
	if ((in1 && (r = brg__kcheck_same(out, in1))) || (in2 && (r = brg__kcheck_same(out, in2))))
		return r;
	if ((r = brg__kcheck_output(out)))
		return r;
	if ((in1 && brg__kcheck_alias(out, in1)) || (in2 && brg__kcheck_alias(out, in2)))
		return BRG_EALIAS;
	return 0;
}

int brg_vec_scale(brg_pool *pool, brg_array *x, double a)
{
	if (!pool || !x)
		return -EINVAL;
	int r = float_checks(x, NULL, NULL);
	if (r)
		return r;
	struct scalar_args args = {a};
	brg_array *arrays[] = {x};
	return brg__krun(pool, set_of(x)->scale, x->meta.lay.count, &args, sizeof args, arrays, 1);
}

int brg_vec_axpy(brg_pool *pool, brg_array *y, double a, const brg_array *x)
{
	if (!pool || !x || !y)
		return -EINVAL;
	int r = float_checks(y, x, NULL);
	if (r)
		return r;
	struct scalar_args args = {a};
	brg_array *arrays[] = {y, (brg_array *)x};
	return brg__krun(pool, set_of(y)->axpy, y->meta.lay.count, &args, sizeof args, arrays, 2);
}

int brg_vec_triad(brg_pool *pool, brg_array *a, const brg_array *b, double s,
		  const brg_array *c)
{
	if (!pool || !a || !b || !c)
		return -EINVAL;
	int r = float_checks(a, b, c);
	if (r)
		return r;
	struct scalar_args args = {s};
	brg_array *arrays[] = {a, (brg_array *)b, (brg_array *)c};
	return brg__krun(pool, set_of(a)->triad, a->meta.lay.count, &args, sizeof args, arrays, 3);
}

int brg_vec_binop(brg_pool *pool, brg_array *out, const brg_array *x, brg_op op, const brg_array *y)
{
	if (!pool || !out || !x || !y)
		return -EINVAL;
	const struct vec_set *s = set_of(out);
	if (!s)
		return BRG_EDTYPE;
	int r;
	if ((r = brg__kcheck_same(out, x)) || (r = brg__kcheck_same(out, y)) ||
	    (r = brg__kcheck_output(out)))
		return r;
	if (op < BRG_OP_ADD || op > BRG_OP_DIV)
		return BRG_EBADARG;
	int inplace = brg__kcheck_alias(out, x) || brg__kcheck_alias(out, y);
	struct binop_args args = {op};
	/* The output first: a worker maps the first handle of a name with its access mode. */
	brg_array *arrays[] = {out, (brg_array *)x, (brg_array *)y};
	return brg__krun(pool, inplace ? s->binop_ip : s->binop, out->meta.lay.count, &args,
			 sizeof args, arrays, 3);
}

int brg_vec_map(brg_pool *pool, brg_array *out, const brg_array *in, brg_map_fn fn,
		const void *userdata, size_t userdata_size)
{
	if (!pool || !out || !in || !fn || (userdata_size && !userdata))
		return -EINVAL;
	int r;
	if (!brg__kcheck_float(out->meta.lay.dtype))
		return BRG_EDTYPE;
	if ((r = brg__kcheck_same(out, in)) || (r = brg__kcheck_output(out)))
		return r;
	if (pool->start != BRG_START_FORK)
		return -ENOTSUP; /* fn is an address in this program only */
	if (userdata_size > BRG_ARGS_MAX - sizeof(struct map_args))
		return BRG_EARGSIZE;
	unsigned char buf[BRG_ARGS_MAX] __attribute__((aligned(16)));
	struct map_args *m = (struct map_args *)buf;
	memset(m, 0, sizeof *m);
	m->fn = fn;
	m->ud_ptr = userdata;
	m->ud_size = userdata_size;
	if (userdata_size)
		memcpy(m->ud, userdata, userdata_size);
	const struct vec_set *s = set_of(out);
	brg_array *arrays[] = {out, (brg_array *)in};
	return brg__krun(pool, brg__kcheck_alias(out, in) ? s->map_ip : s->map,
			 out->meta.lay.count, m, sizeof *m + userdata_size, arrays, 2);
}
