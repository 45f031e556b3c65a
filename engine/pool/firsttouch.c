/* SPDX-License-Identifier: MIT */
/* firsttouch.c - brg_pool_array_create: an array whose data pages are first touched by the
 * participant that will work on them, so that on a NUMA machine memory lands near its core. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernels.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Where the machine has several NUMA nodes, binds the range to the nodes of this process's
 * cores before it is populated.  Best effort: without it first touch still places pages on
 * the toucher's node under the default policy, so a failure costs nothing but precision. */
static void bind_near(void *addr, size_t len)
{
	int err = 0;
	hwloc_topology_t topo = brg__topology(&err);
	if (!topo || hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) < 2)
		return;
	hwloc_bitmap_t set = hwloc_bitmap_alloc(), nodes = hwloc_bitmap_alloc();
	if (set && nodes && hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) == 0) {
		hwloc_cpuset_to_nodeset(topo, set, nodes);
		/* An unbound participant spans every node: nothing to choose. */
		if (hwloc_bitmap_weight(nodes) > 0 &&
		    hwloc_bitmap_weight(nodes) < hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE))
			hwloc_set_area_membind(topo, addr, len, nodes, HWLOC_MEMBIND_BIND,
					       HWLOC_MEMBIND_BYNODESET);
	}
	hwloc_bitmap_free(set);
	hwloc_bitmap_free(nodes);
}

struct populate_args {
	uint32_t huge; /* collapse the populated range into huge pages */
};

/* Populates the pages that hold elements [begin, end); a page shared with the neighbour's
 * range is populated by both, which is harmless.  Then, unless the creator asked for small
 * pages, collapses the 2 MiB pages that hold only this range's pages (not the ones shared
 * with a neighbour): in parallel, and each huge page allocated where its small pages were.
 * The 2 MiB pages that straddle two ranges are left to the creator
 * (brg_pool_array_create), so that no collapse races a neighbour's faults. */
static int k_populate(const brg_task *t)
{
	int r = brg__ktask_flat(t, 1, 1, 0);
	if (r)
		return r;
	const brg_array *a = t->arrays[0];
	size_t es = brg_dtype_size(a->meta.lay.dtype);
	size_t lo = t->begin * es / BRG__PAGE * BRG__PAGE;
	size_t hi = (t->end * es + BRG__PAGE - 1) / BRG__PAGE * BRG__PAGE;
	size_t cap = a->meta.lay.trailer_offset - BRG_DATA_OFFSET;
	if (hi > cap)
		hi = cap;
	if (lo >= hi)
		return 0;
	unsigned char *p = (unsigned char *)brg_array_data(a) + lo;
	const struct populate_args *args = t->args;
	bind_near(p, hi - lo);
	/* Small pages asked for: not even a tmpfs mounted huge=advise may fault in 2 MiB. */
	if (!args->huge)
		madvise(p, hi - lo, MADV_NOHUGEPAGE);
	if (madvise(p, hi - lo, MADV_POPULATE_WRITE) < 0) {
		if (errno != EINVAL) /* EFAULT: a page could not be allocated (/dev/shm is full) */
			return errno == EFAULT || errno == ENOMEM ? -ENOMEM : -errno;
		/* A kernel older than 5.14: touch each page.  A full /dev/shm is a SIGBUS here,
		 * which the pool reports as a dead worker. */
		for (size_t off = 0; off < hi - lo; off += BRG__PAGE)
			((volatile unsigned char *)p)[off] = 0;
	}
	if (args->huge) {
		size_t own_lo = (t->begin * es + BRG__PAGE - 1) / BRG__PAGE * BRG__PAGE;
		size_t own_hi = t->end * es / BRG__PAGE * BRG__PAGE;
		brg__huge_collapse(a->base, BRG_DATA_OFFSET + own_lo, BRG_DATA_OFFSET + own_hi);
	}
	return 0;
}

static const brg_kernel kern_populate = {"brg.populate", k_populate, BRG_KERNEL_IDEMPOTENT};

size_t brg__firsttouch_kernels(const brg_kernel **out, size_t max)
{
	static const brg_kernel *const list[] = {&kern_populate};
	size_t at = 0;
	brg__klist_append(out, max, &at, list, 1);
	return at;
}

int brg_pool_array_create(brg_pool *pool, brg_array **out, const char *name, brg_dtype dtype,
			  int ndim, const size_t *shape, const brg_array_opts *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!pool)
		return -EINVAL;
	brg_array *a;
	int r = brg__segment_create_ex(&a, name, dtype, ndim, shape, opts, BRG_KIND_ARRAY,
				       BRG__CREATE_LAZY_DATA);
	if (r)
		return r;
	brg_array *arrays[] = {a};
	struct populate_args args = {.huge = !(opts && (opts->flags & BRG_CREATE_SMALL_PAGES))};
	/* Elements on the static schedule: the ranges the elementwise kernels use later. */
	if ((r = brg__krun(pool, &kern_populate, a->meta.lay.count, &args, sizeof args, arrays,
			   1))) {
		char path[BRG_NAME_MAX + 2];
		brg__shm_path(path, a->name);
		brg_array_close(a);
		shm_unlink(path);
		return r;
	}
	/* The 2 MiB pages across range boundaries and the one holding the header; those the
	 * participants made are only mapped here (one page-table entry each). */
	if (args.huge)
		brg__huge_collapse(a->base, 0, a->meta.lay.file_bytes);
	*out = a;
	return 0;
}
