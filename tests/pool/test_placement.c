/* SPDX-License-Identifier: MIT */
/* test_placement.c - where participants run: compact and scatter on synthetic topologies
 * (whole cores first, SMT siblings last, packages spread), no binding, the summary text,
 * and the default worker count on this machine. */
#include <hwloc.h>

#include "poolutil.h"

struct topo {
	const char *desc;
	int packages, groups, cores, pus; /* groups: NUMA nodes */
	const char *summary;
};

static const struct topo topos[] = {
	{"pack:2 numa:2 core:8 pu:2", 2, 4, 32, 64, "2 packages, 4 NUMA nodes, 32 cores, 64 PUs"},
	{"pack:1 core:4 pu:2", 1, 1, 4, 8, "1 package, 1 NUMA node, 4 cores, 8 PUs"},
};

#define MAXW 160

/* A cpuset text naming exactly one PU: its index, else -1. */
static int single_pu(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);
	return *text && !*end && v >= 0 ? (int)v : -1;
}

static void check_compact(const struct topo *t, int w)
{
	brg_place pl[MAXW];
	int r = brg_topo_placement(t->desc, w, BRG_BIND_COMPACT, pl, sizeof(brg_place), MAXW);
	REQUIRE_EQ(r, w);
	int pus_per_core = t->pus / t->cores;
	int used[MAXW] = {0};
	for (int i = 0; i < w; i++) {
		const brg_place *p = &pl[i];
		if (w <= t->cores) {
			/* Whole cores, in logical order. */
			char want[64];
			snprintf(want, sizeof want, "%d-%d", i * pus_per_core,
				 (i + 1) * pus_per_core - 1);
			if (p->core != i || p->pu != i * pus_per_core || strcmp(p->cpuset, want))
				TEST_FAIL_("%s compact w=%d: participant %d on core %d pu %d {%s}, "
					   "want core %d {%s}",
					   t->desc, w, i, p->core, p->pu, p->cpuset, i, want);
			continue;
		}
		/* More participants than cores: one PU each; round k takes the k-th PU of
		 * every core, so no PU is used twice before every PU is used once. */
		int pu = single_pu(p->cpuset);
		if (pu < 0 || pu >= t->pus || p->pu != pu || p->core != pu / pus_per_core) {
			TEST_FAIL_("%s compact w=%d: participant %d on core %d pu %d {%s}: not one "
				   "PU of its core",
				   t->desc, w, i, p->core, p->pu, p->cpuset);
			continue;
		}
		if (used[pu] != i / t->pus)
			TEST_FAIL_("%s compact w=%d: participant %d gets pu %d used %d times "
				   "already (want %d)",
				   t->desc, w, i, pu, used[pu], i / t->pus);
		if (i < t->cores && p->core != i)
			TEST_FAIL_("%s compact w=%d: participant %d on core %d: a sibling before "
				   "every core has one",
				   t->desc, w, i, p->core);
		if (i < t->pus && pu % pus_per_core != i / t->cores)
			TEST_FAIL_("%s compact w=%d: participant %d takes PU %d of its core in "
				   "round %d",
				   t->desc, w, i, pu % pus_per_core, i / t->cores);
		used[pu]++;
	}
}

static void check_scatter(const struct topo *t, int w)
{
	brg_place pl[MAXW];
	int r = brg_topo_placement(t->desc, w, BRG_BIND_SCATTER, pl, sizeof(brg_place), MAXW);
	REQUIRE_EQ(r, w);
	int pus_per_core = t->pus / t->cores;
	int cores_per_pack = t->cores / t->packages, cores_per_group = t->cores / t->groups;
	int core_used[MAXW] = {0}, pu_used[MAXW] = {0};
	int per_pack[8] = {0}, per_group[8] = {0};
	for (int i = 0; i < w; i++) {
		const brg_place *p = &pl[i];
		if (p->core < 0 || p->core >= t->cores) {
			TEST_FAIL_("%s scatter w=%d: participant %d on core %d", t->desc, w, i,
				   p->core);
			continue;
		}
		if (w <= t->cores) {
			char want[64];
			snprintf(want, sizeof want, "%d-%d", p->core * pus_per_core,
				 (p->core + 1) * pus_per_core - 1);
			if (strcmp(p->cpuset, want) || core_used[p->core]++)
				TEST_FAIL_("%s scatter w=%d: participant %d {%s} on core %d: not a "
					   "whole core of its own",
					   t->desc, w, i, p->cpuset, p->core);
			per_pack[p->core / cores_per_pack]++;
			per_group[p->core / cores_per_group]++;
		} else {
			int pu = single_pu(p->cpuset);
			if (pu < 0 || pu / pus_per_core != p->core ||
			    (i < t->pus && pu_used[pu]) || (i < t->cores && core_used[p->core])) {
				TEST_FAIL_("%s scatter w=%d: participant %d {%s} on core %d: PU or "
					   "core used twice too early",
					   t->desc, w, i, p->cpuset, p->core);
				continue;
			}
			pu_used[pu]++;
			core_used[p->core]++;
		}
	}
	if (w > t->cores)
		return;
	/* Spread: packages, then NUMA nodes, differ by at most one participant. */
	int lo = INT32_MAX, hi = 0;
	for (int k = 0; k < t->packages; k++) {
		lo = per_pack[k] < lo ? per_pack[k] : lo;
		hi = per_pack[k] > hi ? per_pack[k] : hi;
	}
	if (hi - lo > 1)
		TEST_FAIL_("%s scatter w=%d: %d..%d participants per package", t->desc, w, lo, hi);
	lo = INT32_MAX, hi = 0;
	for (int k = 0; k < t->groups; k++) {
		lo = per_group[k] < lo ? per_group[k] : lo;
		hi = per_group[k] > hi ? per_group[k] : hi;
	}
	if (hi - lo > 1)
		TEST_FAIL_("%s scatter w=%d: %d..%d participants per NUMA node", t->desc, w, lo,
			   hi);
}

static void check_none(const struct topo *t, int w)
{
	brg_place pl[MAXW];
	REQUIRE_EQ(brg_topo_placement(t->desc, w, BRG_BIND_NONE, pl, sizeof(brg_place), MAXW), w);
	char all[64];
	snprintf(all, sizeof all, "0-%d", t->pus - 1);
	for (int i = 0; i < w; i++) {
		CHECK_EQ(pl[i].core, -1);
		CHECK_EQ(pl[i].pu, -1);
		if (strcmp(pl[i].cpuset, all))
			TEST_FAIL_("%s none: participant %d {%s}, want {%s}", t->desc, i,
				   pl[i].cpuset, all);
	}
}

static void test_synthetic(void)
{
	for (size_t k = 0; k < sizeof topos / sizeof topos[0]; k++) {
		const struct topo *t = &topos[k];
		int ws[] = {1, 2, 3, 4, 5, 8, 32, 33, 40, 64, 65, 70, 129};
		for (size_t j = 0; j < sizeof ws / sizeof ws[0]; j++) {
			check_compact(t, ws[j]);
			check_scatter(t, ws[j]);
			check_none(t, ws[j]);
		}
		/* Default: one per core. */
		CHECK_EQ(brg_topo_placement(t->desc, 0, BRG_BIND_COMPACT, NULL, sizeof(brg_place), 0), t->cores);
		char buf[128];
		CHECK_EQ(brg_topo_summary(t->desc, buf, sizeof buf), 0);
		if (strcmp(buf, t->summary))
			TEST_FAIL_("summary of %s: \"%s\", want \"%s\"", t->desc, buf, t->summary);
		CHECK_EQ(brg_topo_summary(t->desc, buf, strlen(t->summary)), -ERANGE);
		CHECK_EQ(brg_topo_summary(t->desc, buf, strlen(t->summary) + 1), 0);
	}
	/* Scatter puts the first two participants in different packages. */
	brg_place pl[3];
	REQUIRE_EQ(brg_topo_placement(topos[0].desc, 3, BRG_BIND_SCATTER, pl, sizeof(brg_place), 3), 3);
	CHECK(pl[0].core / 16 != pl[1].core / 16);
	/* And four participants on four NUMA nodes. */
	brg_place p4[4];
	REQUIRE_EQ(brg_topo_placement(topos[0].desc, 4, BRG_BIND_SCATTER, p4, sizeof(brg_place), 4), 4);
	int seen = 0;
	for (int i = 0; i < 4; i++)
		seen |= 1 << (p4[i].core / 8);
	CHECK_EQ(seen, 0xf);
}

static void test_bad_args(void)
{
	brg_place pl[8];
	const char *d = topos[1].desc;
	CHECK_EQ(brg_topo_placement(d, -1, BRG_BIND_COMPACT, pl, sizeof(brg_place), 8), -EINVAL);
	CHECK_EQ(brg_topo_placement(d, 2, (brg_bind)-1, pl, sizeof(brg_place), 8), -EINVAL);
	CHECK_EQ(brg_topo_placement(d, 2, (brg_bind)4, pl, sizeof(brg_place), 8), -EINVAL);
	CHECK_EQ(brg_topo_placement(d, 2, 7, pl, sizeof(brg_place), 8), -EINVAL);
	CHECK_EQ(brg_topo_placement(d, 2, BRG_BIND_COMPACT, pl, sizeof(brg_place), -1), -EINVAL);
	CHECK_EQ(brg_topo_placement(d, 2, BRG_BIND_COMPACT, NULL, sizeof(brg_place), 2), -EINVAL);
	CHECK_EQ(brg_topo_placement("bogus:3 nonsense", 2, BRG_BIND_COMPACT, pl, sizeof(brg_place), 8), -EINVAL);
	char buf[64];
	CHECK_EQ(brg_topo_summary("bogus:3 nonsense", buf, sizeof buf), -EINVAL);
	CHECK_EQ(brg_topo_summary(d, NULL, 64), -EINVAL);
	/* max below the count: the count, and only max entries written. */
	memset(pl, 0x7b, sizeof pl);
	CHECK_EQ(brg_topo_placement(d, 6, BRG_BIND_COMPACT, pl, sizeof(brg_place), 2), 6);
	CHECK_EQ(pl[1].core, 1);
	CHECK_EQ(pl[2].core, 0x7b7b7b7b);
}

/* This machine: the default is one participant per core hwloc reports. */
static void test_real(void)
{
	hwloc_topology_t t;
	REQUIRE_EQ(hwloc_topology_init(&t), 0);
	REQUIRE_EQ(hwloc_topology_load(t), 0);
	int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	int packs = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	int numas = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	hwloc_topology_destroy(t);
	int units = cores > 0 ? cores : pus;
	printf("this machine: %d packages, %d NUMA nodes, %d cores, %d PUs\n", packs, numas,
	       cores, pus);
	CHECK_EQ(brg_topo_placement(NULL, 0, BRG_BIND_COMPACT, NULL, sizeof(brg_place), 0), units);
	CHECK_EQ(brg_topo_placement(NULL, 0, BRG_BIND_SCATTER, NULL, sizeof(brg_place), 0), units);
	char buf[256], want[256];
	snprintf(want, sizeof want, "%d package%s, %d NUMA node%s, %d core%s, %d PU%s", packs,
		 packs == 1 ? "" : "s", numas, numas == 1 ? "" : "s", cores, cores == 1 ? "" : "s",
		 pus, pus == 1 ? "" : "s");
	CHECK_EQ(brg_topo_summary(NULL, buf, sizeof buf), 0);
	if (strcmp(buf, want))
		TEST_FAIL_("summary of this machine: \"%s\", want \"%s\"", buf, want);
	/* One per core: distinct cores. */
	brg_place *pl = calloc((size_t)units, sizeof *pl);
	REQUIRE(pl != NULL);
	REQUIRE_EQ(brg_topo_placement(NULL, units, BRG_BIND_COMPACT, pl, sizeof(brg_place), units), units);
	for (int i = 0; i < units; i++) {
		CHECK_EQ(pl[i].core, i);
		CHECK(pl[i].pu >= 0);
	}
	free(pl);
}

int main(void)
{
	test_init_pools();
	test_synthetic();
	test_bad_args();
	test_real();
	return pu_done();
}
