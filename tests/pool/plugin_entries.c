/* SPDX-License-Identifier: MIT */
/* plugin_entries.c - plugins whose table entries are not this header's brg_kernel: longer
 * (a later brg_kernel, its unknown tail zero: ENTRY_TAIL 0), longer with a tail this library
 * cannot know (ENTRY_TAIL 1), or shorter than the first published one (ENTRY_SHORT). */
#include "square.h"

struct entry {
	brg_kernel k;
	uint64_t later; /* a field a later brigade.h would have */
};

/* square second: found only when the entries are read at their own stride. */
static const struct entry table[] = {
	{{"isum", isum_kernel, BRG_KERNEL_IDEMPOTENT}, ENTRY_TAIL},
	{{"square", square_kernel, BRG_KERNEL_IDEMPOTENT}, ENTRY_TAIL},
};

BRG_EXPORT const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size);

const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size)
{
	*count = sizeof table / sizeof table[0];
#ifdef ENTRY_SHORT
	*entry_size = BRG_KERNEL_SIZE_VER0 - 8;
#else
	*entry_size = sizeof table[0];
#endif
	return &table[0].k;
}
