/* SPDX-License-Identifier: MIT */
/* plugin.c - the kernels spawned workers of test_spawn load by name with dlopen. */
#include "square.h"

static const brg_kernel kernels[] = {
	{"square", square_kernel, BRG_KERNEL_IDEMPOTENT},
	{"isum", isum_kernel, BRG_KERNEL_IDEMPOTENT},
	{"lostrange", lostrange_kernel, BRG_KERNEL_IDEMPOTENT},
};

BRG_PLUGIN_TABLE(kernels)
