/* SPDX-License-Identifier: MIT */
/* ktable.c - the table of built-in kernels, by name, for spawned workers: a worker of another
 * program cannot use the caller's function addresses, so it looks kernels up here. */
#include <pthread.h>

#include "kernels.h"

#define MAX_KERNELS 256

static brg_kernel table[MAX_KERNELS];
static size_t table_count;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

void brg__klist_append(const brg_kernel **out, size_t max, size_t *at,
		       const brg_kernel *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++, (*at)++)
		if (*at < max)
			out[*at] = list[i];
}

static void table_build(void)
{
	size_t (*const parts[])(const brg_kernel **, size_t) = {
		brg__vec_kernels,     brg__reduce_kernels,     brg__stencil_kernels,
		brg__gemm_kernels,    brg__firsttouch_kernels,
	};
	const brg_kernel *ptrs[MAX_KERNELS];
	size_t n = 0;
	for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
		n += parts[p](ptrs + (n < MAX_KERNELS ? n : MAX_KERNELS),
			      n < MAX_KERNELS ? MAX_KERNELS - n : 0);
	/* A table too small for every kernel is a build error caught by the kernel tests. */
	table_count = n < MAX_KERNELS ? n : MAX_KERNELS;
	for (size_t i = 0; i < table_count; i++)
		table[i] = *ptrs[i];
}

const brg_kernel *brg__builtin_kernels(size_t *count)
{
	pthread_once(&table_once, table_build);
	if (count)
		*count = table_count;
	return table;
}
