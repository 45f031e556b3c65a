/* SPDX-License-Identifier: MIT */
/* hugepage.c - 2 MiB pages for array segments: mappings aligned so the kernel can map a
 * segment's huge pages with one page-table entry each, and the collapse that makes them.
 *
 * Why: streaming an array through 4 KiB pages costs a TLB miss every 4 KiB, and in a
 * virtual machine each miss is a two-level walk: a sum of squares over /dev/shm pages reads
 * markedly slower than over huge pages (bench/README.md, "Measurements behind the code").
 * Most tmpfs mounts (and /dev/shm on Debian) have huge=never, so faulting never gives shared
 * memory a huge page; MADV_COLLAPSE (Linux 6.1) builds them anyway, unless the administrator
 * set shmem_enabled to deny.  Everything here is best effort: an old kernel, a fragmented
 * memory or a refusal leaves 4 KiB pages, which are slower but equally correct. */
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

void *brg__map_segment(int fd, size_t len, int prot, bool huge)
{
	if (!huge || len < BRG__HUGE_PAGE)
		return mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	/* Reserve enough address space to find an aligned start inside it, map the object
	 * over that start, and hand back what is left on either side. */
	size_t span = len + BRG__HUGE_PAGE;
	unsigned char *r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
	if (r == MAP_FAILED)
		return mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	unsigned char *a = (unsigned char *)round_up((uintptr_t)r, BRG__HUGE_PAGE);
	void *p = mmap(a, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		/* Say the split reservation hit vm.max_map_count: an unaligned mapping may
		 * still fit, and is as correct. */
		munmap(r, span);
		return mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	}
	if (a > r)
		munmap(r, (size_t)(a - r));
	size_t used = (size_t)(a - r) + round_up(len, BRG__PAGE);
	if (used < span)
		munmap(a + round_up(len, BRG__PAGE), span - used);
	return p;
}

void brg__huge_collapse(void *base, size_t lo, size_t hi)
{
	if ((uintptr_t)base % BRG__HUGE_PAGE)
		return; /* not aligned: the kernel could not map huge pages here anyway */
	lo = round_up(lo, BRG__HUGE_PAGE);
	hi = hi / BRG__HUGE_PAGE * BRG__HUGE_PAGE;
	/* The kernel stops at the first region it cannot collapse for lack of memory; the
	 * whole range in one call keeps the common case to one system call. */
	if (lo < hi)
		madvise((unsigned char *)base + lo, hi - lo, MADV_COLLAPSE);
}
