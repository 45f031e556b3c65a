/* SPDX-License-Identifier: MIT */
/* kcheck.c - what every kernel call shares: argument checks on the caller's side and again
 * in the worker (which trusts nothing it read from the control block), the CPU level the
 * hot loops dispatch on, and the job every elementwise kernel runs. */
#include <errno.h>
#include <string.h>

#include "kernels.h"

int brg__isa_level(void)
{
	static int level = -1;
	int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
	if (l >= 0)
		return l;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	/* libgcc also checks that the OS saves the wider registers (XCR0).  Each level is
	 * all its code uses: FMA with AVX2 (the stencils fuse their taps); at AVX-512, byte
	 * vectors (BW) and the VEX-encoded AVX2 and FMA instructions GCC still emits there,
	 * which a virtual machine could hide while it shows AVX-512. */
	int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
		l = BRG__ISA_AVX512;
	else if (avx2)
		l = BRG__ISA_AVX2;
	else
		l = BRG__ISA_BASE;
#else
	l = BRG__ISA_BASE;
#endif
	__atomic_store_n(&level, l, __ATOMIC_RELAXED);
	return l;
}

int brg__kcheck_float(brg_dtype dt)
{
	return dt == BRG_F32 || dt == BRG_F64;
}

int brg__kcheck_same(const brg_array *a, const brg_array *b)
{
	if (a->meta.lay.dtype != b->meta.lay.dtype)
		return BRG_EDTYPE;
	if (a->meta.lay.count != b->meta.lay.count)
		return BRG_ESHAPE;
	return 0;
}

int brg__kcheck_same_shape(const brg_array *a, const brg_array *b)
{
	if (a->meta.lay.dtype != b->meta.lay.dtype)
		return BRG_EDTYPE;
	if (a->meta.lay.ndim != b->meta.lay.ndim ||
	    memcmp(a->meta.lay.shape, b->meta.lay.shape,
		   (size_t)a->meta.lay.ndim * sizeof a->meta.lay.shape[0]))
		return BRG_ESHAPE;
	return 0;
}

int brg__kcheck_alias(const brg_array *a, const brg_array *b)
{
	if (a == b || !strcmp(a->name, b->name))
		return 1;
	/* Handles of one name share memory through different mappings (the name test above);
	 * overlapping ranges of one mapping cannot happen with brigade handles, but cost
	 * nothing to rule out. */
	uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
	uintptr_t a1 = a0 + a->meta.lay.nbytes, b1 = b0 + b->meta.lay.nbytes;
	return a0 < b1 && b0 < a1;
}

int brg__kcheck_output(const brg_array *out)
{
	return out->writable ? 0 : BRG_EREADONLY;
}

int brg__ktask_arrays(const brg_task *t, int count, int nout, brg_dtype dt)
{
	if (!t->arrays || t->narrays < count)
		return BRG_EPOOLSTATE;
	for (int i = 0; i < count; i++) {
		const brg_array *a = t->arrays[i];
		if (!a || (dt && a->meta.lay.dtype != dt) || (i < nout && !a->writable))
			return BRG_EPOOLSTATE;
	}
	return 0;
}

int brg__ktask_flat(const brg_task *t, int count, int nout, brg_dtype dt)
{
	int r = brg__ktask_arrays(t, count, nout, dt);
	for (int i = 0; i < count && !r; i++)
		if (t->arrays[i]->meta.lay.count < t->end)
			r = BRG_EPOOLSTATE;
	return r;
}

int brg__krun(brg_pool *pool, const brg_kernel *k, size_t n, const void *args,
	      size_t args_size, brg_array *const *arrays, int narrays)
{
	if (n == 0)
		return 0;
	/* The public path a user's kernel takes, with the static schedule: each participant
	 * computes on the pages it first touched (brg_pool_array_create). */
	return brg_pool_for(pool, k, n, (brg_schedule){BRG_SCHED_STATIC, 0}, arrays, narrays, args,
			    args_size);
}
