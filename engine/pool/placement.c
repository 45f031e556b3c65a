/* SPDX-License-Identifier: MIT */
/* placement.c - where each participant of a pool runs: a pure function of the hwloc
 * topology, the binding policy and the participant count. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

static pthread_mutex_t topo_lock = PTHREAD_MUTEX_INITIALIZER;
static hwloc_topology_t topo_cached;

hwloc_topology_t brg__topology(int *err)
{
	/* Loading takes milliseconds: once per process, shared by every pool. */
	pthread_mutex_lock(&topo_lock);
	if (!topo_cached) {
		hwloc_topology_t t;
		if (hwloc_topology_init(&t) < 0) {
			*err = -errno ? -errno : -ENOMEM;
		} else if (hwloc_topology_load(t) < 0) {
			*err = errno ? -errno : -EINVAL;
			hwloc_topology_destroy(t);
		} else {
			topo_cached = t;
		}
	}
	hwloc_topology_t t = topo_cached;
	pthread_mutex_unlock(&topo_lock);
	return t;
}

static int load_synthetic(const char *desc, hwloc_topology_t *out)
{
	hwloc_topology_t t;
	if (hwloc_topology_init(&t) < 0)
		return -ENOMEM;
	if (hwloc_topology_set_synthetic(t, desc) < 0 || hwloc_topology_load(t) < 0) {
		hwloc_topology_destroy(t);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

/* The unit a participant owns: cores, or PUs where hwloc reports no cores. */
static hwloc_obj_type_t unit_type(hwloc_topology_t topo)
{
	return hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

int brg__default_workers(hwloc_topology_t topo)
{
	int n = hwloc_get_nbobjs_by_type(topo, unit_type(topo));
	return n > 0 ? n : 1;
}

/* Scatter order key of a unit: its ancestors' sibling ranks with the deepest most
 * significant, so consecutive units differ first in package, then in NUMA group, then in
 * cache, before two share anything. */
static unsigned long long scatter_key(hwloc_obj_t o)
{
	unsigned ranks[8];
	int nr = 0;
	for (; o && o->parent && nr < 8; o = o->parent)
		ranks[nr++] = o->sibling_rank < 255 ? o->sibling_rank : 255;
	unsigned long long k = 0;
	for (int l = 0; l < nr; l++)
		k |= (unsigned long long)ranks[nr - 1 - l] << (8 * l);
	return k;
}

struct keyed {
	unsigned long long key;
	hwloc_obj_t obj;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->obj->logical_index < y->obj->logical_index ? -1 : 1;
}

/* Units in the order the policy fills them: compact walks them in logical order. */
static int unit_order(hwloc_topology_t topo, int policy, hwloc_obj_t *order, int nunits)
{
	hwloc_obj_type_t type = unit_type(topo);
	for (int i = 0; i < nunits; i++)
		order[i] = hwloc_get_obj_by_type(topo, type, (unsigned)i);
	if (policy != BRG_BIND_SCATTER)
		return 0;
	struct keyed *k = malloc((size_t)nunits * sizeof *k);
	if (!k)
		return -ENOMEM;
	for (int i = 0; i < nunits; i++)
		k[i] = (struct keyed){scatter_key(order[i]), order[i]};
	qsort(k, (size_t)nunits, sizeof *k, cmp_keyed);
	for (int i = 0; i < nunits; i++)
		order[i] = k[i].obj;
	free(k);
	return 0;
}

int brg__placement(hwloc_topology_t topo, int policy, int count, hwloc_bitmap_t *out)
{
	if (count < 1)
		return -EINVAL;
	if (policy == BRG_BIND_NONE) {
		for (int i = 0; i < count; i++)
			hwloc_bitmap_copy(out[i], hwloc_topology_get_allowed_cpuset(topo));
		return 0;
	}
	int nunits = hwloc_get_nbobjs_by_type(topo, unit_type(topo));
	if (nunits < 1)
		return -ENODEV;
	hwloc_obj_t *order = malloc((size_t)nunits * sizeof *order);
	if (!order)
		return -ENOMEM;
	int r = unit_order(topo, policy, order, nunits);
	if (r) {
		free(order);
		return r;
	}
	for (int i = 0; i < count; i++) {
		hwloc_obj_t unit = order[i % nunits];
		if (count <= nunits) {
			/* One participant per core: it owns the whole core. */
			hwloc_bitmap_copy(out[i], unit->cpuset);
			continue;
		}
		/* More participants than cores: each gets one PU; round k of the cores takes
		 * their k-th PU, so siblings are used only after every core has one. */
		int round = i / nunits;
		int npu = hwloc_get_nbobjs_inside_cpuset_by_type(topo, unit->cpuset, HWLOC_OBJ_PU);
		hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, unit->cpuset, HWLOC_OBJ_PU,
								     (unsigned)(npu > 0 ? round % npu : 0));
		hwloc_bitmap_copy(out[i], pu ? pu->cpuset : unit->cpuset);
	}
	free(order);
	return 0;
}

static int with_topology(const char *synthetic, hwloc_topology_t *t, int *own)
{
	*own = 0;
	if (synthetic) {
		*own = 1;
		return load_synthetic(synthetic, t);
	}
	int err = -EINVAL;
	*t = brg__topology(&err);
	return *t ? 0 : err;
}

int brg_topo_placement(const char *synthetic, int workers, brg_bind bind, brg_place *out,
		       size_t out_size, int max)
{
	if (bind == BRG_BIND_DEFAULT)
		bind = BRG_BIND_COMPACT;
	if (workers < 0 || bind < BRG_BIND_COMPACT || bind > BRG_BIND_NONE || max < 0 ||
	    (max > 0 && (!out || out_size < BRG_PLACE_SIZE_VER0)))
		return -EINVAL;
	if (max > 0 && out_size > BRG__STRUCT_MAX)
		return -E2BIG;
	hwloc_topology_t t;
	int own, r = with_topology(synthetic, &t, &own);
	if (r)
		return r;
	int count = workers ? workers : brg__default_workers(t);
	hwloc_bitmap_t *sets = calloc((size_t)count, sizeof *sets);
	if (!sets) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < count; i++)
		if (!(sets[i] = hwloc_bitmap_alloc())) {
			r = -ENOMEM;
			goto out_sets;
		}
	if ((r = brg__placement(t, bind, count, sets)))
		goto out_sets;
	for (int i = 0; i < count && i < max; i++) {
		brg_place p;
		brg__place_describe(t, sets[i], bind, &p);
		brg__record_out((char *)out + (size_t)i * out_size, out_size, &p, sizeof p);
	}
	r = count;
out_sets:
	for (int i = 0; i < count; i++)
		hwloc_bitmap_free(sets[i]);
	free(sets);
out:
	if (own)
		hwloc_topology_destroy(t);
	return r;
}

void brg__place_describe(hwloc_topology_t t, hwloc_const_bitmap_t set, int bind, brg_place *p)
{
	p->core = -1;
	p->pu = -1;
	hwloc_bitmap_list_snprintf(p->cpuset, sizeof p->cpuset, set);
	if (bind == BRG_BIND_NONE)
		return;
	/* The set is a whole core, or one PU whose core is its ancestor of that type. */
	hwloc_obj_t cover = hwloc_get_obj_covering_cpuset(t, set);
	hwloc_obj_t core = cover && cover->type == unit_type(t)
				   ? cover
				   : hwloc_get_ancestor_obj_by_type(t, unit_type(t), cover);
	if (!core)
		core = cover;
	p->core = core ? (int)core->logical_index : -1;
	p->pu = hwloc_bitmap_first(set);
}

int brg_topo_summary(const char *synthetic, char *buf, size_t len)
{
	if (!buf)
		return -EINVAL;
	hwloc_topology_t t;
	int own, r = with_topology(synthetic, &t, &own);
	if (r)
		return r;
	int np = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	int nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	int nc = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int nu = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	int n = snprintf(buf, len, "%d package%s, %d NUMA node%s, %d core%s, %d PU%s", np,
			 np == 1 ? "" : "s", nn, nn == 1 ? "" : "s", nc, nc == 1 ? "" : "s", nu,
			 nu == 1 ? "" : "s");
	if (own)
		hwloc_topology_destroy(t);
	return n < 0 || (size_t)n >= len ? -ERANGE : 0;
}
