/* SPDX-License-Identifier: MIT */
/* reduce_tmpl.h - the reductions of one dtype: block loops for every instruction-set level,
 * their dispatch table and the kernels.  reduce.c includes it once per dtype (dtype_each.h)
 * with T, SUF, DT, KIND (BRG__FLOAT, BRG__SIGNED, BRG__UNSIGNED), IT (the signed integer of
 * T's width for float flags, the 64-bit type integers sum in) and NORM_SCALED (f64 norm2
 * needs scaling) defined. */

#define FN(name) BRG__CAT3(name, _, SUF)
#define KNAME(op) "brg." op "." BRG__STR(SUF)

#define ISA avx512
#define ISA_ATTR __attribute__((target("avx512f")))
#include "reduce_isa.h"
#define ISA avx2
#define ISA_ATTR __attribute__((target("avx2")))
#include "reduce_isa.h"
#define ISA base
#define ISA_ATTR
#include "reduce_isa.h"

static const struct rops *const FN(rops)[BRG__ISA_COUNT] = {
	[BRG__ISA_BASE] = &FN(rops_base),
	[BRG__ISA_AVX2] = &FN(rops_avx2),
	[BRG__ISA_AVX512] = &FN(rops_avx512),
};

#define RKERNEL(name, op, narrays)                                                             \
	static int FN(k_##name)(const brg_task *t)                                             \
	{                                                                                      \
		return rblock_run(t, FN(rops), op, DT, sizeof(T), narrays);                    \
	}                                                                                      \
	static const brg_kernel FN(kern_##name) = {KNAME(#name), FN(k_##name),                \
						   BRG_KERNEL_IDEMPOTENT};

RKERNEL(sum, BRG__R_SUM, 1)
RKERNEL(min, BRG__R_MIN, 1)
RKERNEL(max, BRG__R_MAX, 1)
#if KIND == BRG__FLOAT
RKERNEL(sumsq, BRG__R_SUMSQ, 1)
RKERNEL(dot, BRG__R_DOT, 2)
RKERNEL(norm2, BRG__R_NORM2, 1)
RKERNEL(argmin, BRG__R_ARGMIN, 1)
RKERNEL(argmax, BRG__R_ARGMAX, 1)
#endif
#undef RKERNEL

static const struct rset FN(set) = {
	.rops = FN(rops),
	.k = {
		[BRG__R_SUM] = &FN(kern_sum),
		[BRG__R_MIN] = &FN(kern_min),
		[BRG__R_MAX] = &FN(kern_max),
#if KIND == BRG__FLOAT
		[BRG__R_SUMSQ] = &FN(kern_sumsq),
		[BRG__R_DOT] = &FN(kern_dot),
		[BRG__R_NORM2] = &FN(kern_norm2),
		[BRG__R_ARGMIN] = &FN(kern_argmin),
		[BRG__R_ARGMAX] = &FN(kern_argmax),
#endif
	},
	.float_kind = KIND == BRG__FLOAT,
	.is_signed = KIND == BRG__SIGNED,
};

static const brg_kernel *const FN(list)[] = {
	&FN(kern_sum),
	&FN(kern_min),
	&FN(kern_max),
#if KIND == BRG__FLOAT
	&FN(kern_sumsq),
	&FN(kern_dot),
	&FN(kern_norm2),
	&FN(kern_argmin),
	&FN(kern_argmax),
#endif
};

#undef FN
#undef KNAME
#undef T
#undef SUF
#undef DT
#undef KIND
#undef IT
#undef NORM_SCALED
#undef UT
