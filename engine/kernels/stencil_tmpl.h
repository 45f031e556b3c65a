/* SPDX-License-Identifier: MIT */
/* stencil_tmpl.h - the stencils of one pixel type: the row of every instruction-set level
 * (stencil_isa.h) and the kernel.  stencil.c includes it once per dtype with T, SUF, DT and
 * SK (SK_U8 or SK_F32) defined. */

#define FN(name) BRG__CAT3(name, _, SUF)

/* One output pixel from its k x k window: the sum in a fixed order (stencil_isa.h), then
 * the division of box blurs and STORE, the conversion to T. */
#if SK == SK_U8
/* Saturate (NaN goes to 0), then round half up: truncating v + 0.5 for v >= 0.5 (the sum
 * may round, never across an integer); below 0.5 it is 0, because 0.5 plus the largest
 * float under 0.5 rounds to 1. */
#define STORE(v) ((T)((v) >= 0.5f ? ((v) < 255.0f ? (v) : 255.0f) + 0.5f : 0.0f))
#else
#define STORE(v) (v)
#endif

#define ISA avx512
#define ISA_ATTR __attribute__((target("avx512f,avx512bw")))
#define ISA_FMA 1
#include "stencil_isa.h"
#define ISA avx2
#define ISA_ATTR __attribute__((target("avx2,fma")))
#define ISA_FMA 1
#include "stencil_isa.h"
#define ISA base
#define ISA_ATTR
#define ISA_FMA 0
#include "stencil_isa.h"

#undef STORE

static const row_fn FN(rows)[BRG__ISA_COUNT] = {
	[BRG__ISA_BASE] = FN(row_base),
	[BRG__ISA_AVX2] = FN(row_avx2),
	[BRG__ISA_AVX512] = FN(row_avx512),
};

static int FN(k_stencil)(const brg_task *t)
{
	size_t rows, cols;
	int r = stencil_task_check(t, DT, &rows, &cols);
	if (r)
		return r;
	stencil_rows(t, t->args, rows, cols, (const unsigned char *)brg_array_data(t->arrays[1]),
		     sizeof(T), (unsigned char *)brg_array_data(t->arrays[0]),
		     FN(rows)[brg__isa_level()]);
	return 0;
}

static const brg_kernel FN(kern_stencil) = {"brg.stencil." BRG__STR(SUF), FN(k_stencil),
					    BRG_KERNEL_IDEMPOTENT};

#undef FN
#undef T
#undef SUF
#undef DT
#undef SK
