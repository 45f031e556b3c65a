/* SPDX-License-Identifier: MIT */
/* reduce.c - reductions (sum, sumsq, dot, norm2, min, max, argmin, argmax) as pool
 * reductions: a partial per fixed block, combined pairwise in block order, so the bits do
 * not depend on the pool. */
#pragma GCC optimize("fp-contract=off") /* same bits from every clone: see kernels.h */

#include <errno.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

#define NACC 16 /* independent accumulators: enough to hide the add latency at any width */
/* dot: half as many.  Its loop is bound by its two loads an element, in cache as much as
 * from memory, so more accumulators gain nothing there, and streaming two arrays 16 read
 * slower than 8 (bench/README.md, "Measurements behind the code"). */
#define NACC_DOT 8
/* The lane loop of a block loop stays a loop until the vectorizer sees it, which keeps the
 * accumulators in vector registers; unrolled first, the straight-line vectorizer packs and
 * unpacks them element by element, and the compensated sum runs far slower. */
#define LANES _Pragma("GCC unroll 1") for (int j = 0; j < NACC; j++)


/* Blue's constants for double (LAPACK la_constants): below TSML and above TBIG squares
 * would lose range; SSML and SBIG scale them back in. */
#define BLUE_TSML 0x1p-511
#define BLUE_TBIG 0x1p486
#define BLUE_SSML 0x1p537
#define BLUE_SBIG 0x1p-538

/* 128-bit integers (GCC and clang on 64-bit targets), for exact integer sums. */
__extension__ typedef __int128 brg__i128;

/* The partials, one per block, each in a 64-byte slot. */
struct p_fsum { /* float sum: hi + lo, a double-double */
	double hi, lo;
};
struct p_usum { /* integer sum, exact */
	brg__i128 s;
};
struct p_dsum { /* sumsq, dot */
	double s;
};
struct p_norm { /* sums of squares of the tiny (scaled), medium and huge (scaled) values */
	double sml, med, big;
};
struct p_fmm { /* float min/max */
	double v;
	uint32_t nan;
};
struct p_imm { /* integer min/max: signed dtypes in i, unsigned in u */
	int64_t i;
	uint64_t u;
};
struct p_arg { /* argmin/argmax: the first best (or, with nan, the first NaN) */
	double v;
	uint64_t idx;
	uint32_t nan;
};
_Static_assert(sizeof(struct p_arg) <= BRG_SCRATCH_BYTES, "partials fit a slot");
_Static_assert(sizeof(struct p_norm) <= BRG_SCRATCH_BYTES, "partials fit a slot");

struct rops {
	brg__rblock_fn f[BRG__R_COUNT];
};
struct rset {
	const struct rops *const *rops;
	const brg_kernel *k[BRG__R_COUNT];
	int float_kind, is_signed;
};

/* ---- exact helpers, shared by every level ---- */

/* s + e == a + b exactly (Knuth's TwoSum); needs round-to-nearest, no contraction. */
static inline void two_sum(double a, double b, double *s, double *e)
{
	double t = a + b, z = t - a;
	*e = (a - (t - z)) + (b - z);
	*s = t;
}

/* (hi, lo) += (h2, l2).  Infinities and NaN make the error terms NaN: the plain sum is the
 * answer then, so it is kept as hi with lo 0. */
static void dd_add(double *hi, double *lo, double h2, double l2)
{
	double s, e;
	two_sum(*hi, h2, &s, &e);
	if (!isfinite(s)) {
		*hi = s;
		*lo = 0;
		return;
	}
	e += *lo + l2;
	two_sum(s, e, hi, lo);
}

/* n values (a power of two) summed as a fixed pairwise tree. */
static double tree_sum(double *s, int n)
{
	for (int w = n / 2; w; w /= 2)
		for (int j = 0; j < w; j++)
			s[j] += s[j + w];
	return s[0];
}

static void fsum_finish(double *s, double *c, void *partial)
{
	struct p_fsum *p = partial;
	for (int w = NACC / 2; w; w /= 2)
		for (int j = 0; j < w; j++)
			dd_add(&s[j], &c[j], s[j + w], c[j + w]);
	memset(p, 0, BRG_SCRATCH_BYTES);
	p->hi = s[0];
	p->lo = isfinite(s[0]) ? c[0] : 0;
}

/* The partial of n accumulators. */
static void dsum_finish(double *s, int n, void *partial)
{
	struct p_dsum *p = partial;
	double v = tree_sum(s, n);
	memset(p, 0, BRG_SCRATCH_BYTES);
	p->s = v;
}

static void usum_finish128(const brg__i128 *s, void *partial)
{
	struct p_usum *p = partial;
	brg__i128 v = 0;
	for (int j = 0; j < NACC; j++)
		v += s[j];
	memset(p, 0, BRG_SCRATCH_BYTES);
	p->s = v;
}

static int rblock_run(const brg_task *t, const struct rops *const *rops, int op, brg_dtype dt,
		      size_t esize, int narrays);

/* ---- per dtype ---- */

#define BRG__DTYPE_TMPL "reduce_tmpl.h"
#include "dtype_each.h"
#undef BRG__DTYPE_TMPL

#define SET_ENTRY(...) BRG__DTYPE_ENTRY_(__VA_ARGS__, set_)
static const struct rset *const rsets[] = {BRG__DTYPES(SET_ENTRY)};
#undef SET_ENTRY

static const struct rset *rset_of(brg_dtype dt)
{
	return (unsigned)dt < sizeof rsets / sizeof rsets[0] ? rsets[dt] : NULL;
}

/* One block: the worker-side checks, then the loop of this CPU's level. */
static int rblock_run(const brg_task *t, const struct rops *const *rops, int op, brg_dtype dt,
		      size_t esize, int narrays)
{
	int r = brg__ktask_flat(t, narrays, 0, dt);
	if (r)
		return r;
	size_t n = t->end - t->begin;
	/* argmin/argmax keep block-local indexes in the element's width (int32 for f32). */
	if (n == 0 || (dt == BRG_F32 && n > INT32_MAX))
		return BRG_EPOOLSTATE;
	const unsigned char *x = (const unsigned char *)brg_array_data(t->arrays[0]);
	const unsigned char *y =
		narrays > 1 ? (const unsigned char *)brg_array_data(t->arrays[1]) : NULL;
	rops[brg__isa_level()]->f[op](x + t->begin * esize, y ? y + t->begin * esize : NULL, n,
				      t->begin, t->scratch);
	return 0;
}

int brg__reduce_block_fn(int op, brg_dtype dt, int isa, brg__rblock_fn *out)
{
	if (!out || op < 0 || op >= BRG__R_COUNT || isa < 0 || isa >= BRG__ISA_COUNT)
		return -EINVAL;
	const struct rset *s = rset_of(dt);
	if (!s || !s->rops[isa]->f[op])
		return BRG_EDTYPE;
	if (isa > brg__isa_level())
		return -ENOTSUP;
	*out = s->rops[isa]->f[op];
	return 0;
}

size_t brg__reduce_kernels(const brg_kernel **out, size_t max)
{
	size_t at = 0;
	BRG__KLIST_APPEND_DTYPES(out, max, &at);
	return at;
}

/* ---- combining partials (in the caller, in block order: `into` holds lower indexes) ---- */

static void comb_fsum(void *into, const void *from, const void *args)
{
	struct p_fsum *a = into;
	const struct p_fsum *b = from;
	dd_add(&a->hi, &a->lo, b->hi, b->lo);
}

static void comb_usum(void *into, const void *from, const void *args)
{
	((struct p_usum *)into)->s += ((const struct p_usum *)from)->s;
}

static void comb_dsum(void *into, const void *from, const void *args)
{
	((struct p_dsum *)into)->s += ((const struct p_dsum *)from)->s;
}

static void comb_norm(void *into, const void *from, const void *args)
{
	struct p_norm *a = into;
	const struct p_norm *b = from;
	a->sml += b->sml;
	a->med += b->med;
	a->big += b->big;
}

static void comb_fmin(void *into, const void *from, const void *args)
{
	struct p_fmm *a = into;
	const struct p_fmm *b = from;
	a->v = b->v < a->v ? b->v : a->v;
	a->nan |= b->nan;
}

static void comb_fmax(void *into, const void *from, const void *args)
{
	struct p_fmm *a = into;
	const struct p_fmm *b = from;
	a->v = b->v > a->v ? b->v : a->v;
	a->nan |= b->nan;
}

static void comb_imin(void *into, const void *from, const void *args)
{
	struct p_imm *a = into;
	const struct p_imm *b = from;
	if (b->i < a->i)
		a->i = b->i;
	if (b->u < a->u)
		a->u = b->u;
}

static void comb_imax(void *into, const void *from, const void *args)
{
	struct p_imm *a = into;
	const struct p_imm *b = from;
	if (b->i > a->i)
		a->i = b->i;
	if (b->u > a->u)
		a->u = b->u;
}

/* First NaN wins; else the better value; on a tie the smaller index. */
static void comb_arg(void *into, const void *from, int want_min)
{
	struct p_arg *a = into;
	const struct p_arg *b = from;
	int take;
	if (a->nan || b->nan)
		take = b->nan && (!a->nan || b->idx < a->idx);
	else
		take = (want_min ? b->v < a->v : b->v > a->v) || (b->v == a->v && b->idx < a->idx);
	if (take)
		*a = *b;
}

static void comb_argmin(void *into, const void *from, const void *args)
{
	comb_arg(into, from, 1);
}

static void comb_argmax(void *into, const void *from, const void *args)
{
	comb_arg(into, from, 0);
}

/* ---- the public calls ---- */

static int reduce_run(brg_pool *pool, const brg_kernel *k, brg_combine_fn combine,
		      const brg_array *x, const brg_array *y, void *partial)
{
	brg_array *arrays[] = {(brg_array *)x, (brg_array *)y};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = k,
		.n = x->meta.lay.count,
		/* Any schedule gives the same bits; static keeps blocks near their pages. */
		.sched = {BRG_SCHED_STATIC, 0},
		.arrays = arrays,
		.narrays = y ? 2 : 1,
		.combine = combine,
	};
	return brg_pool_reduce(pool, &d, partial, BRG_SCRATCH_BYTES);
}

/* Checks shared by every reduction: 0, or the error to return. */
static int rcheck(brg_pool *pool, const brg_array *x, brg_scalar *out, int op,
		  const struct rset **s)
{
	if (!pool || !x || !out)
		return -EINVAL;
	*s = rset_of(x->meta.lay.dtype);
	if (!*s || !(*s)->k[op])
		return BRG_EDTYPE;
	return 0;
}

static void scalar_int(brg_scalar *o, const struct rset *s, int64_t i, uint64_t u)
{
	if (s->is_signed) {
		o->i = i;
		o->u = (uint64_t)i;
		o->f = (double)i;
	} else {
		o->i = (int64_t)u;
		o->u = u;
		o->f = (double)u;
	}
}

int brg_reduce_sum(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	const struct rset *s;
	int r = rcheck(pool, x, out, BRG__R_SUM, &s);
	if (r)
		return r;
	brg_scalar o = {.dtype = x->meta.lay.dtype};
	if (x->meta.lay.count) {
		_Alignas(64) unsigned char p[BRG_SCRATCH_BYTES];
		if ((r = reduce_run(pool, s->k[BRG__R_SUM], s->float_kind ? comb_fsum : comb_usum,
				    x, NULL, p)))
			return r;
		if (s->float_kind) {
			const struct p_fsum *f = (const void *)p;
			o.f = isfinite(f->hi) ? f->hi + f->lo : f->hi;
		} else {
			/* Exact in 128 bits (blocks of under 2^36 elements: reduce_isa.h);
			 * what does not fit the dtype's 64-bit type is -ERANGE, never a wrap. */
			brg__i128 v = ((const struct p_usum *)(const void *)p)->s;
			if (s->is_signed ? v < INT64_MIN || v > INT64_MAX : v < 0 || v > UINT64_MAX) {
				o.f = (double)v;
				*out = o;
				return -ERANGE;
			}
			scalar_int(&o, s, (int64_t)v, (uint64_t)v);
		}
	}
	*out = o;
	return 0;
}

static int dsum_call(brg_pool *pool, int op, const brg_array *x, const brg_array *y,
		     brg_scalar *out)
{
	const struct rset *s;
	int r = rcheck(pool, x, out, op, &s);
	if (r)
		return r;
	if (y && (r = brg__kcheck_same(x, y)))
		return r;
	brg_scalar o = {.dtype = x->meta.lay.dtype};
	if (x->meta.lay.count) {
		_Alignas(64) unsigned char p[BRG_SCRATCH_BYTES];
		if ((r = reduce_run(pool, s->k[op], comb_dsum, x, y, p)))
			return r;
		o.f = ((const struct p_dsum *)(const void *)p)->s;
	}
	*out = o;
	return 0;
}

int brg_reduce_sumsq(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	return dsum_call(pool, BRG__R_SUMSQ, x, NULL, out);
}

int brg_reduce_dot(brg_pool *pool, brg_scalar *out, const brg_array *x, const brg_array *y)
{
	if (!y)
		return -EINVAL;
	return dsum_call(pool, BRG__R_DOT, x, y, out);
}

/* The end of LAPACK 3.10's dnrm2: the three sums into one scaled square root. */
static double norm_finish(const struct p_norm *p)
{
	double asml = p->sml, amed = p->med, abig = p->big, scl, sumsq;
	if (abig > 0) {
		if (amed > 0 || isnan(amed))
			abig += (amed * BLUE_SBIG) * BLUE_SBIG;
		scl = 1.0 / BLUE_SBIG;
		sumsq = abig;
	} else if (asml > 0) {
		if (amed > 0 || isnan(amed)) {
			amed = sqrt(amed);
			asml = sqrt(asml) / BLUE_SSML;
			double ymin = asml > amed ? amed : asml, ymax = asml > amed ? asml : amed;
			scl = 1.0;
			sumsq = ymax * ymax * (1.0 + (ymin / ymax) * (ymin / ymax));
		} else {
			scl = 1.0 / BLUE_SSML;
			sumsq = asml;
		}
	} else {
		scl = 1.0;
		sumsq = amed;
	}
	return scl * sqrt(sumsq);
}

int brg_reduce_norm2(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	const struct rset *s;
	int r = rcheck(pool, x, out, BRG__R_NORM2, &s);
	if (r)
		return r;
	brg_scalar o = {.dtype = x->meta.lay.dtype};
	if (x->meta.lay.count) {
		_Alignas(64) unsigned char p[BRG_SCRATCH_BYTES];
		if ((r = reduce_run(pool, s->k[BRG__R_NORM2], comb_norm, x, NULL, p)))
			return r;
		o.f = norm_finish((const struct p_norm *)(const void *)p);
	}
	*out = o;
	return 0;
}

static int minmax_call(brg_pool *pool, const brg_array *x, brg_scalar *out, int want_min)
{
	const struct rset *s;
	int op = want_min ? BRG__R_MIN : BRG__R_MAX;
	int r = rcheck(pool, x, out, op, &s);
	if (r)
		return r;
	if (!x->meta.lay.count)
		return BRG_ENODATA;
	brg_combine_fn c = s->float_kind ? (want_min ? comb_fmin : comb_fmax)
					 : (want_min ? comb_imin : comb_imax);
	_Alignas(64) unsigned char p[BRG_SCRATCH_BYTES];
	if ((r = reduce_run(pool, s->k[op], c, x, NULL, p)))
		return r;
	brg_scalar o = {.dtype = x->meta.lay.dtype};
	if (s->float_kind) {
		const struct p_fmm *f = (const void *)p;
		o.f = f->nan ? (double)NAN : f->v;
	} else {
		const struct p_imm *m = (const void *)p;
		scalar_int(&o, s, m->i, m->u);
	}
	*out = o;
	return 0;
}

int brg_reduce_min(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	return minmax_call(pool, x, out, 1);
}

int brg_reduce_max(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	return minmax_call(pool, x, out, 0);
}

static int arg_call(brg_pool *pool, const brg_array *x, brg_scalar *out, int want_min)
{
	const struct rset *s;
	int op = want_min ? BRG__R_ARGMIN : BRG__R_ARGMAX;
	int r = rcheck(pool, x, out, op, &s);
	if (r)
		return r;
	if (!x->meta.lay.count)
		return BRG_ENODATA;
	_Alignas(64) unsigned char p[BRG_SCRATCH_BYTES];
	if ((r = reduce_run(pool, s->k[op], want_min ? comb_argmin : comb_argmax, x, NULL, p)))
		return r;
	const struct p_arg *a = (const void *)p;
	brg_scalar o = {.dtype = x->meta.lay.dtype, .f = a->v, .index = (size_t)a->idx};
	*out = o;
	return 0;
}

int brg_reduce_argmin(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	return arg_call(pool, x, out, 1);
}

int brg_reduce_argmax(brg_pool *pool, brg_scalar *out, const brg_array *x)
{
	return arg_call(pool, x, out, 0);
}
