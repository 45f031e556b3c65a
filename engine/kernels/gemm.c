/* SPDX-License-Identifier: MIT */
/* gemm.c - GEMM and GEMV as pool jobs: each participant makes one single-threaded OpenBLAS
 * call on its panel of rows of C (elements of y). */
#include <cblas.h>
#include <errno.h>
#include <limits.h>

#include "kernels.h"

struct gemm_args {
	int32_t ta, tb;
	double alpha, beta;
};
struct gemv_args {
	int32_t trans;
	double alpha, beta;
};

/* C is m x n, op(A) m x k, op(B) k x n. */
struct dims {
	size_t m, n, k;
};

static int gemm_dims(const brg_array *a, const brg_array *b, const brg_array *c, int ta,
		     int tb, struct dims *d)
{
	const struct brg__layout *la = &a->meta.lay, *lb = &b->meta.lay, *lc = &c->meta.lay;
	if (la->ndim != 2 || lb->ndim != 2 || lc->ndim != 2)
		return BRG_ESHAPE;
	size_t am = ta ? la->shape[1] : la->shape[0], ak = ta ? la->shape[0] : la->shape[1];
	size_t bk = tb ? lb->shape[1] : lb->shape[0], bn = tb ? lb->shape[0] : lb->shape[1];
	if (am != lc->shape[0] || bn != lc->shape[1] || ak != bk)
		return BRG_ESHAPE;
	*d = (struct dims){am, bn, ak};
	return 0;
}

/* y has d.m elements, x d.k. */
static int gemv_dims(const brg_array *a, const brg_array *x, const brg_array *y, int trans,
		     struct dims *d)
{
	const struct brg__layout *la = &a->meta.lay;
	if (la->ndim != 2 || x->meta.lay.ndim != 1 || y->meta.lay.ndim != 1)
		return BRG_ESHAPE;
	size_t ym = trans ? la->shape[1] : la->shape[0], xk = trans ? la->shape[0] : la->shape[1];
	if (x->meta.lay.shape[0] != xk || y->meta.lay.shape[0] != ym)
		return BRG_ESHAPE;
	*d = (struct dims){ym, 1, xk};
	return 0;
}

#define T double
#define SUF f64
#define DT BRG_F64
#define GEMM cblas_dgemm
#define GEMV cblas_dgemv
#include "gemm_tmpl.h"
#define T float
#define SUF f32
#define DT BRG_F32
#define GEMM cblas_sgemm
#define GEMV cblas_sgemv
#include "gemm_tmpl.h"

size_t brg__gemm_kernels(const brg_kernel **out, size_t max)
{
	static const brg_kernel *const list[] = {
		&kern_gemm_f64, &kern_gemm0_f64, &kern_gemv_f64, &kern_gemv0_f64,
		&kern_gemm_f32, &kern_gemm0_f32, &kern_gemv_f32, &kern_gemv0_f32,
	};
	size_t at = 0;
	brg__klist_append(out, max, &at, list, sizeof list / sizeof list[0]);
	return at;
}

/* BLAS takes int dimensions. */
static int dims_fit(const struct dims *d)
{
	return d->m <= INT_MAX && d->n <= INT_MAX && d->k <= INT_MAX;
}

/* Runs a panel job with the caller's BLAS on one thread. */
static int blas_run(brg_pool *pool, const brg_kernel *k, size_t n, const void *args,
		    size_t args_size, brg_array *const *arrays)
{
	int saved = brg__blas_threads_enter();
	int r = brg__krun(pool, k, n, args, args_size, arrays, 3);
	brg__blas_threads_restore(saved);
	return r;
}

int brg_blas_gemm(brg_pool *pool, brg_array *c, double alpha, brg_trans trans_a, const brg_array *a,
		  brg_trans trans_b, const brg_array *b, double beta)
{
	if (!pool || !a || !b || !c)
		return -EINVAL;
	brg_dtype dt = c->meta.lay.dtype;
	if (!brg__kcheck_float(dt) || a->meta.lay.dtype != dt || b->meta.lay.dtype != dt)
		return BRG_EDTYPE;
	if ((trans_a != BRG_NOTRANS && trans_a != BRG_TRANS) ||
	    (trans_b != BRG_NOTRANS && trans_b != BRG_TRANS))
		return BRG_EBADARG;
	struct dims d;
	int r;
	if ((r = gemm_dims(a, b, c, trans_a, trans_b, &d)) || (r = brg__kcheck_output(c)))
		return r;
	if (brg__kcheck_alias(c, a) || brg__kcheck_alias(c, b))
		return BRG_EALIAS;
	if (!dims_fit(&d))
		return BRG_EOVERFLOW;
	if (d.m == 0 || d.n == 0)
		return 0;
	struct gemm_args g = {trans_a, trans_b, alpha, beta};
	brg_array *arrays[] = {c, (brg_array *)a, (brg_array *)b};
	const brg_kernel *k = dt == BRG_F64 ? (beta == 0 ? &kern_gemm0_f64 : &kern_gemm_f64)
					    : (beta == 0 ? &kern_gemm0_f32 : &kern_gemm_f32);
	return blas_run(pool, k, d.m, &g, sizeof g, arrays);
}

int brg_blas_gemv(brg_pool *pool, brg_array *y, double alpha, brg_trans trans, const brg_array *a,
		  const brg_array *x, double beta)
{
	if (!pool || !a || !x || !y)
		return -EINVAL;
	brg_dtype dt = y->meta.lay.dtype;
	if (!brg__kcheck_float(dt) || a->meta.lay.dtype != dt || x->meta.lay.dtype != dt)
		return BRG_EDTYPE;
	if (trans != BRG_NOTRANS && trans != BRG_TRANS)
		return BRG_EBADARG;
	struct dims d;
	int r;
	if ((r = gemv_dims(a, x, y, trans, &d)) || (r = brg__kcheck_output(y)))
		return r;
	if (brg__kcheck_alias(y, x) || brg__kcheck_alias(y, a))
		return BRG_EALIAS;
	if (!dims_fit(&d)) /* d.m and d.k are A's two sides */
		return BRG_EOVERFLOW;
	if (d.m == 0)
		return 0;
	struct gemv_args g = {trans, alpha, beta};
	brg_array *arrays[] = {y, (brg_array *)a, (brg_array *)x};
	const brg_kernel *k = dt == BRG_F64 ? (beta == 0 ? &kern_gemv0_f64 : &kern_gemv_f64)
					    : (beta == 0 ? &kern_gemv0_f32 : &kern_gemv_f32);
	return blas_run(pool, k, d.m, &g, sizeof g, arrays);
}
