/* SPDX-License-Identifier: MIT */
/* kernels.h - what the built-in kernels share: argument checks, the kernel table, the
 * instruction-set dispatch of hot loops and OpenBLAS threading. */
#ifndef BRG_KERNELS_H
#define BRG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"
#include "dtypes.h"

#define BRG__CAT2(a, b) a##b
#define BRG__CAT(a, b) BRG__CAT2(a, b)
#define BRG__CAT3(a, b, c) BRG__CAT(BRG__CAT(a, b), c)

/* Hot loops are compiled once per instruction set and picked at load time.  The library is
 * built with -ffp-contract=off and files with kernels also say `#pragma GCC
 * optimize("fp-contract=off")`: otherwise the AVX-512 code (which implies FMA) would round
 * a*b+c once where the others round twice, and the result bits would depend on the machine.
 *
 * The elementwise loops are target_clones (ifunc).  Loops that stream through memory and
 * store stop at 256-bit vectors: a 512-bit triad streamed slower than the same loop at 256
 * bits on an AVX-512 EPYC (bench/README.md, "Measurements behind the code"), and GCC's own
 * tuning for AVX-512 Intel cores prefers 256 bits too. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BRG__CLONES_STREAM __attribute__((target_clones("avx2", "default")))
#else
#define BRG__CLONES_STREAM
#endif

/* Instruction-set levels of the reduction and stencil loops, dispatched by hand so a test
 * can run every level on the same data and compare the bits: the x86-64 baseline, AVX2
 * with FMA, AVX-512 F and BW. */
enum { BRG__ISA_BASE = 0, BRG__ISA_AVX2 = 1, BRG__ISA_AVX512 = 2, BRG__ISA_COUNT = 3 };
/* The best level this CPU (and OS) supports. */
int brg__isa_level(void);

/* ---- kcheck.c: argument checks of the public kernel calls ---- */
/* 1 for f32 and f64. */
int brg__kcheck_float(brg_dtype dt);
/* Same dtype (else BRG_EDTYPE) and element count (else BRG_ESHAPE). */
int brg__kcheck_same(const brg_array *a, const brg_array *b);
/* Same dtype, ndim and shape: 0, BRG_EDTYPE or BRG_ESHAPE. */
int brg__kcheck_same_shape(const brg_array *a, const brg_array *b);
/* 1 when a and b are the same memory: one handle, one name, or overlapping data. */
int brg__kcheck_alias(const brg_array *a, const brg_array *b);
/* BRG_EREADONLY when out is mapped read-only, else 0. */
int brg__kcheck_output(const brg_array *out);

/* Worker side: the job came through shared memory, so a kernel checks that arrays
 * 0..count-1 exist and have dtype dt (0: any), and that the first nout of them are
 * writable.  (The range itself, begin <= end <= n, the pool checked.)  0 or
 * BRG_EPOOLSTATE. */
int brg__ktask_arrays(const brg_task *t, int count, int nout, brg_dtype dt);
/* The same, and each holds at least task->end elements: a range of flat indexes. */
int brg__ktask_flat(const brg_task *t, int count, int nout, brg_dtype dt);

/* Runs kernel over [0, n) elements on the static schedule: the ranges are those of
 * brg_pool_array_create's first touch, so each participant works on memory it placed. */
int brg__krun(brg_pool *pool, const brg_kernel *k, size_t n, const void *args,
	      size_t args_size, brg_array *const *arrays, int narrays);

/* ---- the built-in kernel table (ktable.c), assembled from every kernel file ---- */
/* Appends the arrays list_f32 .. list_u64 that a kernel file's templates define. */
#define BRG__KLIST_ONE_(out, max, at, list) \
	brg__klist_append(out, max, at, list, sizeof list / sizeof list[0])
#define BRG__KLIST_APPEND_DTYPES(out, max, at)                                                  \
	do {                                                                                   \
		BRG__KLIST_ONE_(out, max, at, list_f32);                                       \
		BRG__KLIST_ONE_(out, max, at, list_f64);                                       \
		BRG__KLIST_ONE_(out, max, at, list_i8);                                        \
		BRG__KLIST_ONE_(out, max, at, list_i16);                                       \
		BRG__KLIST_ONE_(out, max, at, list_i32);                                       \
		BRG__KLIST_ONE_(out, max, at, list_i64);                                       \
		BRG__KLIST_ONE_(out, max, at, list_u8);                                        \
		BRG__KLIST_ONE_(out, max, at, list_u16);                                       \
		BRG__KLIST_ONE_(out, max, at, list_u32);                                       \
		BRG__KLIST_ONE_(out, max, at, list_u64);                                       \
	} while (0)
/* Each writes up to max of its kernels to out and returns how many it has. */
size_t brg__vec_kernels(const brg_kernel **out, size_t max);
size_t brg__reduce_kernels(const brg_kernel **out, size_t max);
size_t brg__stencil_kernels(const brg_kernel **out, size_t max);
size_t brg__gemm_kernels(const brg_kernel **out, size_t max);
size_t brg__firsttouch_kernels(const brg_kernel **out, size_t max);
/* Appends the count kernels of list to out[*at..max), advancing *at even past max. */
void brg__klist_append(const brg_kernel **out, size_t max, size_t *at,
		       const brg_kernel *const *list, size_t count);
/* Every built-in kernel, for spawned workers that find kernels by name. */
const brg_kernel *brg__builtin_kernels(size_t *count);

/* ---- reduce.c: block routines, exposed for the tests ---- */
enum {
	BRG__R_SUM,
	BRG__R_SUMSQ,
	BRG__R_DOT,
	BRG__R_NORM2,
	BRG__R_MIN,
	BRG__R_MAX,
	BRG__R_ARGMIN,
	BRG__R_ARGMAX,
	BRG__R_COUNT
};
/* Writes the partial of x[0..n) (and y for dot) into partial (BRG_SCRATCH_BYTES); base is
 * the flat index of x[0] (argmin/argmax). */
typedef void (*brg__rblock_fn)(const void *x, const void *y, size_t n, size_t base,
			       void *partial);
/* The block routine of op for dtype at isa: 0; -ENOTSUP when this CPU lacks isa; BRG_EDTYPE
 * when op does not take dtype; -EINVAL for an unknown op or isa. */
int brg__reduce_block_fn(int op, brg_dtype dt, int isa, brg__rblock_fn *out);

/* ---- stencil.c: one output row, exposed for the tests ---- */
/* Row dst (cols pixels of dt) of the k x k correlation of the k source rows src with weights
 * w, divided by div, computed by level isa's code: 0; -ENOTSUP when this CPU lacks
 * isa; BRG_EDTYPE for a dtype other than u8 and f32; -EINVAL for a bad k, isa or pointer. */
int brg__stencil_row(brg_dtype dt, int isa, void *dst, const void *const *src, int k,
		     const float *w, float div, size_t cols);

/* ---- blas.c ---- */
/* The caller's BLAS runs on one thread while it takes part in a job (the workers are the
 * parallelism); returns the thread count to give back to brg__blas_threads_restore. */
int brg__blas_threads_enter(void);
void brg__blas_threads_restore(int saved);

/* ---- blas.c ---- */
/* One BLAS thread in this process (workers call it at start: no BLAS pool in a worker). */
void brg__blas_single_thread(void);

#endif
