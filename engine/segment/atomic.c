/* SPDX-License-Identifier: MIT */
/* atomic.c - atomic counters on elements of integer arrays, shared by every process that maps
 * the array (include/brigade.h, "Atomic counters").  Lock-free: a process killed in the
 * middle of an update leaves the element as it was or as updated, never half. */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

/* The element's address and width (4 or 8), or a negative code. */
static int element(const brg_array *x, size_t index, int write, void **at)
{
	if (!x)
		return -EINVAL;
	brg_dtype dt = x->meta.lay.dtype;
	int width = dt == BRG_I32 || dt == BRG_U32 ? 4 : dt == BRG_I64 || dt == BRG_U64 ? 8 : 0;
	if (!width)
		return BRG_EDTYPE;
	if (index >= x->meta.lay.count)
		return -ERANGE;
	if (write && !x->writable)
		return BRG_EREADONLY;
	*at = (char *)x->data + index * (size_t)width;
	return width;
}

/* A 32-bit element's value as the API gives it: sign- or zero-extended. */
static int64_t widen(const brg_array *x, uint32_t v)
{
	return x->meta.lay.dtype == BRG_I32 ? (int64_t)(int32_t)v : (int64_t)v;
}

int brg_atomic_fetch_add(brg_array *x, size_t index, int64_t delta, int64_t *old)
{
	void *at;
	int w = element(x, index, 1, &at);
	if (w < 0)
		return w;
	int64_t was;
	if (w == 4)
		was = widen(x, __atomic_fetch_add((uint32_t *)at, (uint32_t)delta, __ATOMIC_SEQ_CST));
	else
		was = (int64_t)__atomic_fetch_add((uint64_t *)at, (uint64_t)delta, __ATOMIC_SEQ_CST);
	if (old)
		*old = was;
	return 0;
}

int brg_atomic_cas(brg_array *x, size_t index, int64_t expected, int64_t desired, int64_t *seen)
{
	void *at;
	int w = element(x, index, 1, &at);
	if (w < 0)
		return w;
	int done;
	int64_t found;
	if (w == 4) {
		uint32_t e = (uint32_t)expected;
		if (widen(x, e) == expected) {
			done = __atomic_compare_exchange_n((uint32_t *)at, &e, (uint32_t)desired, 0,
							   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		} else { /* a value the element cannot hold never matches */
			done = 0;
			e = __atomic_load_n((uint32_t *)at, __ATOMIC_SEQ_CST);
		}
		found = widen(x, e);
	} else {
		uint64_t e = (uint64_t)expected;
		done = __atomic_compare_exchange_n((uint64_t *)at, &e, (uint64_t)desired, 0,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		found = (int64_t)e;
	}
	if (seen)
		*seen = found;
	return done;
}

int brg_atomic_load(const brg_array *x, size_t index, int64_t *value)
{
	void *at;
	int w = element(x, index, 0, &at);
	if (w < 0)
		return w;
	if (!value)
		return -EINVAL;
	*value = w == 4 ? widen(x, __atomic_load_n((uint32_t *)at, __ATOMIC_SEQ_CST))
			: (int64_t)__atomic_load_n((uint64_t *)at, __ATOMIC_SEQ_CST);
	return 0;
}

int brg_atomic_store(brg_array *x, size_t index, int64_t value)
{
	void *at;
	int w = element(x, index, 1, &at);
	if (w < 0)
		return w;
	if (w == 4)
		__atomic_store_n((uint32_t *)at, (uint32_t)value, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n((uint64_t *)at, (uint64_t)value, __ATOMIC_SEQ_CST);
	return 0;
}
