/* SPDX-License-Identifier: MIT */
/* kutil.h - helpers the kernel tests share beyond testutil.h's: the sizes, dtypes and pool
 * sizes they run, poisoning, typed element access and random data from the printed seed. */
#ifndef BRG_KUTIL_H
#define BRG_KUTIL_H

#include <math.h>

#include "testutil.h"

/* Pool sizes every kernel is run under: 2 and 3 do not divide the test sizes. */
static const int ku_pools[] = {1, 2, 3};
#define KU_NPOOLS 3

/* Element counts: empty, one, fewer than a vector, and over a million, not a power of 2. */
static const size_t ku_sizes[] = {0, 1, 7, (1u << 20) + 3};
#define KU_NSIZES 4

static const brg_dtype ku_dtypes[] = {BRG_F32, BRG_F64, BRG_I8,  BRG_I16, BRG_I32,
				      BRG_I64, BRG_U8,  BRG_U16, BRG_U32, BRG_U64};
#define KU_NDTYPES 10

/* A pool of `workers` with the default binding. */
static inline brg_pool *ku_pool(int workers)
{
	char tag[32];
	snprintf(tag, sizeof tag, "pool%d", workers);
	return test_pool_new(workers, BRG_BIND_DEFAULT, tag);
}

/* NaN in every float, 0xA5 in every integer byte: an element no kernel wrote stands out. */
static inline void ku_poison(brg_array *a)
{
	size_t n = brg_array_count(a);
	if (brg_array_dtype(a) == BRG_F64) {
		double *p = brg_array_data(a);
		for (size_t i = 0; i < n; i++)
			p[i] = NAN;
	} else if (brg_array_dtype(a) == BRG_F32) {
		float *p = brg_array_data(a);
		for (size_t i = 0; i < n; i++)
			p[i] = NAN;
	} else {
		memset(brg_array_data(a), 0xA5, brg_array_nbytes(a));
	}
}

static inline int ku_is_float(brg_dtype dt)
{
	return dt == BRG_F32 || dt == BRG_F64;
}

static inline int ku_is_signed(brg_dtype dt)
{
	return dt == BRG_I8 || dt == BRG_I16 || dt == BRG_I32 || dt == BRG_I64;
}

/* Element i as double (floats) or as the 64-bit pattern of its value (integers). */
static inline double ku_getf(const brg_array *a, size_t i)
{
	const void *p = brg_array_data(a);
	switch (brg_array_dtype(a)) {
	case BRG_F32: return ((const float *)p)[i];
	case BRG_F64: return ((const double *)p)[i];
	default: return NAN;
	}
}

static inline uint64_t ku_geti(const brg_array *a, size_t i)
{
	const void *p = brg_array_data(a);
	switch (brg_array_dtype(a)) {
	case BRG_I8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
	case BRG_I16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
	case BRG_I32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
	case BRG_I64: return (uint64_t)((const int64_t *)p)[i];
	case BRG_U8: return ((const uint8_t *)p)[i];
	case BRG_U16: return ((const uint16_t *)p)[i];
	case BRG_U32: return ((const uint32_t *)p)[i];
	case BRG_U64: return ((const uint64_t *)p)[i];
	default: return 0;
	}
}

/* Stores the low bits of v (integers) or v rounded (floats). */
static inline void ku_set(brg_array *a, size_t i, double f, uint64_t v)
{
	void *p = brg_array_data(a);
	switch (brg_array_dtype(a)) {
	case BRG_F32: ((float *)p)[i] = (float)f; break;
	case BRG_F64: ((double *)p)[i] = f; break;
	case BRG_I8: case BRG_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
	case BRG_I16: case BRG_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
	case BRG_I32: case BRG_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
	default: ((uint64_t *)p)[i] = v; break;
	}
}

/* Bits of the dtype's width. */
static inline unsigned ku_bits(brg_dtype dt)
{
	return (unsigned)brg_dtype_size(dt) * 8u;
}

/* v truncated to the dtype's width and sign-extended back for signed dtypes: what the
 * element holds after storing v. */
static inline uint64_t ku_wrap(brg_dtype dt, uint64_t v)
{
	unsigned b = ku_bits(dt);
	if (b == 64)
		return v;
	uint64_t m = (1ull << b) - 1;
	v &= m;
	if (ku_is_signed(dt) && (v >> (b - 1)))
		v |= ~m;
	return v;
}

/* Uniform in [-1, 1). */
static inline double ku_unit(void)
{
	return (double)(test_rand() >> 11) * 0x1p-52 - 1.0;
}

/* Random data: floats in [-scale, scale), integers over their whole range, with a share of
 * small values (0, 1, -1) so division and wrapping corners come up. */
static inline void ku_fill_random(brg_array *a, double scale)
{
	size_t n = brg_array_count(a);
	brg_dtype dt = brg_array_dtype(a);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = test_rand();
		if (ku_is_float(dt))
			ku_set(a, i, ku_unit() * scale, 0);
		else if ((r & 7) == 0)
			ku_set(a, i, 0, (uint64_t)((int64_t)(r >> 8) % 3 - 1));
		else
			ku_set(a, i, 0, r);
	}
}

static inline int ku_same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

#endif
