/* SPDX-License-Identifier: MIT */
/* gemm_tmpl.h - GEMM and GEMV panels of one dtype.  gemm.c includes it once per dtype with
 * T, SUF, DT, GEMM (cblas_dgemm...) and GEMV defined. */

#define FN(name) BRG__CAT3(name, _, SUF)

/* y[0..n) = beta * y, where BLAS has nothing to multiply (an inner dimension of 0). */
static void FN(scale_only)(T *y, size_t n, double beta)
{
	for (size_t i = 0; i < n; i++)
		y[i] = beta == 0 ? (T)0 : (T)(beta * (double)y[i]);
}

/* Rows [begin, end) of C: row i of op(A) times op(B), one single-threaded BLAS call. */
static int FN(k_gemm)(const brg_task *t)
{
	if (brg__ktask_arrays(t, 3, 1, DT))
		return BRG_EPOOLSTATE;
	const struct gemm_args *g = t->args;
	brg_array *c = t->arrays[0];
	const brg_array *a = t->arrays[1], *b = t->arrays[2];
	struct dims d;
	if ((g->ta != 0 && g->ta != 1) || (g->tb != 0 && g->tb != 1) ||
	    gemm_dims(a, b, c, g->ta, g->tb, &d) || t->end > d.m)
		return BRG_EPOOLSTATE;
	size_t rows = t->end - t->begin;
	T *C = (T *)brg_array_data(c) + t->begin * d.n;
	if (d.k == 0) {
		FN(scale_only)(C, rows * d.n, g->beta);
		return 0;
	}
	const T *A = (const T *)brg_array_data(a) + (g->ta ? t->begin : t->begin * d.k);
	size_t lda = g->ta ? d.m : d.k, ldb = g->tb ? d.k : d.n;
	GEMM(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
	     (int)rows, (int)d.n, (int)d.k, (T)g->alpha, A, (int)lda,
	     (const T *)brg_array_data(b), (int)ldb, (T)g->beta, C, (int)(d.n ? d.n : 1));
	return 0;
}

/* Elements [begin, end) of y: rows of A for y = A x, columns of A for y = A^T x. */
static int FN(k_gemv)(const brg_task *t)
{
	if (brg__ktask_arrays(t, 3, 1, DT))
		return BRG_EPOOLSTATE;
	const struct gemv_args *g = t->args;
	brg_array *y = t->arrays[0];
	const brg_array *a = t->arrays[1], *x = t->arrays[2];
	struct dims d;
	if ((g->trans != 0 && g->trans != 1) || gemv_dims(a, x, y, g->trans, &d) || t->end > d.m)
		return BRG_EPOOLSTATE;
	/* d.m: length of y, d.k: length of x; A is rows x cols as stored. */
	size_t cols = a->meta.lay.shape[1], len = t->end - t->begin;
	T *Y = (T *)brg_array_data(y) + t->begin;
	if (d.k == 0) {
		FN(scale_only)(Y, len, g->beta);
		return 0;
	}
	const T *A = (const T *)brg_array_data(a);
	const T *X = (const T *)brg_array_data(x);
	if (!g->trans)
		GEMV(CblasRowMajor, CblasNoTrans, (int)len, (int)cols, (T)g->alpha,
		     A + t->begin * cols, (int)cols, X, 1, (T)g->beta, Y, 1);
	else
		GEMV(CblasRowMajor, CblasTrans, (int)d.k, (int)len, (T)g->alpha, A + t->begin,
		     (int)cols, X, 1, (T)g->beta, Y, 1);
	return 0;
}

static const brg_kernel FN(kern_gemm) = {"brg.gemm." BRG__STR(SUF), FN(k_gemm), 0};
/* beta == 0: C is only written, so a range may run again after a worker died. */
static const brg_kernel FN(kern_gemm0) = {"brg.gemm-b0." BRG__STR(SUF), FN(k_gemm),
					  BRG_KERNEL_IDEMPOTENT};
static const brg_kernel FN(kern_gemv) = {"brg.gemv." BRG__STR(SUF), FN(k_gemv), 0};
static const brg_kernel FN(kern_gemv0) = {"brg.gemv-b0." BRG__STR(SUF), FN(k_gemv),
					  BRG_KERNEL_IDEMPOTENT};

#undef FN
#undef T
#undef SUF
#undef DT
#undef GEMM
#undef GEMV
