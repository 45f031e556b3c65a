/* SPDX-License-Identifier: MIT */
/* kplugin.c - a plugin with no kernels of its own: spawned workers must find brigade's
 * built-in kernels by name without help. */
#include "brigade.h"

BRG_EXPORT const brg_kernel *brg_plugin_kernels(size_t *count);

const brg_kernel *brg_plugin_kernels(size_t *count)
{
	*count = 0;
	return NULL;
}
