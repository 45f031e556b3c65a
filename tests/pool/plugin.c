/* SPDX-License-Identifier: MIT */
/* plugin.c - the kernels spawned workers of test_spawn load by name with dlopen. */
#include "square.h"

BRG_EXPORT const brg_kernel *brg_plugin_kernels(size_t *count);

static const brg_kernel kernels[] = {
	{"square", square_kernel, BRG_KERNEL_IDEMPOTENT},
	{"isum", isum_kernel, BRG_KERNEL_IDEMPOTENT},
	{"lostrange", lostrange_kernel, BRG_KERNEL_IDEMPOTENT},
};

const brg_kernel *brg_plugin_kernels(size_t *count)
{
	*count = sizeof kernels / sizeof kernels[0];
	return kernels;
}
