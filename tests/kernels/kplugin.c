/* SPDX-License-Identifier: MIT */
/* kplugin.c - a plugin with no kernels of its own: spawned workers must find brigade's
 * built-in kernels by name without help. */
#include "brigade.h"

BRG_EXPORT const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size);

const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size)
{
	*count = 0;
	*entry_size = sizeof(brg_kernel);
	return NULL;
}
