/* SPDX-License-Identifier: MIT */
/* pool.h - the pool's internals: the calls its files make of each other (futex.c, sched.c,
 * job.c, worker.c, placement.c, pool.c) and the caller's side of a pool, in private memory.
 *
 * The layers: pool.c makes and ends a pool and its workers (placement.c places them);
 * job.c hands a job out and waits for it; sched.c cuts the index space; worker.c is a
 * worker's loop, and the participation the caller shares with it; futex.c is the waiting.
 * Every one of them reads and writes the control block of ctl.h. */
#ifndef BRG_POOL_H
#define BRG_POOL_H

#include <hwloc.h>

#include "ctl.h"

/* ---- futex.c ---- */
void brg__cpu_relax(void);
/* Sleeps while *word == expect, at most timeout_ns (< 0: no limit). */
int brg__futex_wait(uint32_t *word, uint32_t expect, int64_t timeout_ns);
void brg__futex_wake(uint32_t *word, int count);

/* ---- sched.c ---- */
struct brg__range {
	uint64_t begin, end;
	uint32_t kills;
};
/* Static range of participant i of p over [0, n). */
void brg__static_range(uint64_t n, uint32_t p, uint32_t i, uint64_t *begin, uint64_t *end);
/* Next chunk size for the schedule; remaining > 0. */
uint64_t brg__sched_chunk(uint32_t kind, uint64_t chunk, uint64_t remaining, uint32_t p);
/* Claims the next range for participant who under the lock, recording the lease as held
 * since now (CLOCK_MONOTONIC ns); 1 when claimed, 0 when nothing is left (or an error
 * stopped the job). */
int brg__claim(struct brg__ctl *ctl, uint32_t who, struct brg__range *r, uint64_t now);
/* Resolves the chunk of an auto schedule from a measured cost per index. */
uint64_t brg__auto_chunk(uint64_t n, uint32_t p, double ns_per_index, double claim_ns);

/* ---- job.c / worker.c ---- */
/* Locks the control block, repairing it when a holder died; returns 0 or -errno. */
int brg__ctl_lock(struct brg__ctl *ctl, uint32_t who);
void brg__ctl_unlock(struct brg__ctl *ctl);
/* What a participant runs a job from: its own copy, taken under the lock (or, for the
 * caller, kept from submit), so nothing it relies on changes under it. */
struct brg__jobview {
	uint64_t n;       /* hand-out units */
	uint64_t n_elems;
	uint64_t block;   /* 0 for a for-job */
	uint32_t narrays;
	uint32_t args_size;
	const void *args; /* a private copy of the argument block */
	int solo;         /* the caller of a pool of one: nobody to exclude, no lock */
};
/* Runs the participant's share of the job: from first when given (already claimed), then
 * claiming until nothing is left. */
void brg__participate(struct brg__ctl *ctl, uint32_t who, brg_kernel_fn fn,
		      brg_array *const *arrays, const struct brg__jobview *v,
		      const struct brg__range *first);
/* Records an error for the job (the first one wins) under the lock. */
void brg__job_fail(struct brg__ctl *ctl, int code, uint32_t who, uint64_t begin, uint64_t end);
/* Whether a job's hand-out units fit its elements: n == n_elems for a for-job; for a
 * reduction (block > 0) at most BRG__MAX_SLOTS blocks that cover n_elems with no empty one. */
static inline int brg__job_shape_ok(uint64_t n, uint64_t n_elems, uint64_t block)
{
	uint64_t cover;
	if (!block)
		return n == n_elems;
	return n <= BRG__MAX_SLOTS && !__builtin_mul_overflow(n, block, &cover) &&
	       cover >= n_elems && !(n && cover - block >= n_elems);
}
/* The worker process main loop; never returns. */
__attribute__((noreturn)) void brg__worker_loop(struct brg__ctl *ctl, brg_array *ctl_seg,
						uint32_t who, const brg_kernel *plugin,
						size_t nplugin);

/* 1 when addr lies in a loaded object (worker.c); checks code addresses read from shared
 * memory before they are called. */
int brg__code_address_ok(const void *addr);

/* ---- placement.c ---- */
/* The process-wide topology of this machine, loaded once; NULL with *err on failure. */
hwloc_topology_t brg__topology(int *err);
/* Cpusets for count participants under policy: out[i] allocated by the caller (count
 * hwloc_bitmap_alloc'd bitmaps).  Pure function of (topology, policy, count). */
int brg__placement(hwloc_topology_t topo, int policy, int count, hwloc_bitmap_t *out);
/* Participants by default: one per physical core. */
int brg__default_workers(hwloc_topology_t topo);
/* Core, first PU and list text of a participant's cpuset. */
void brg__place_describe(hwloc_topology_t t, hwloc_const_bitmap_t set, int bind, brg_place *p);


/* ---- the caller's side of a pool (private memory, never shared) ---- */
struct brg_job {
	struct brg_pool *pool;
	uint64_t id;
	const brg_kernel *kernel;
	brg_array *arrays[BRG_JOB_MAX_ARRAYS];
	int narrays;
	brg_combine_fn combine;
	int caller_done;
	uint64_t busy_before; /* sum of busy_ns of all participants at submit */
	int cost_slot;        /* auto-schedule cost entry of this kernel, -1 when none */
	int first_valid;      /* the caller's first range, claimed at submit */
	struct brg__range first;
	struct brg__jobview view;
	unsigned char args[BRG_ARGS_MAX] __attribute__((aligned(BRG__LINE)));
};

#define BRG__COST_SLOTS 32
struct brg_pool {
	brg_array *seg;
	struct brg__ctl *ctl;
	int nworkers;
	int bind, start;
	long spin_us;
	hwloc_topology_t topo;
	hwloc_bitmap_t *sets;
	hwloc_bitmap_t caller_old; /* the caller's binding before the pool, restored at destroy */
	int caller_bound;
	char *worker_path;
	int replaced;
	int *start_failures; /* per slot: deaths in a row before the worker was running */
	uint64_t *start_mono; /* per slot: CLOCK_MONOTONIC when it was last started */
	uint64_t jobs;
	int job_live;
	struct brg_job job;
	double claim_ns; /* measured at create: one uncontended lock/claim/unlock */
	struct {
		const brg_kernel *kernel;
		double ns_per_index;
	} cost[BRG__COST_SLOTS];
};

/* Starts (or restarts) worker i; joining: it takes part in the job in flight. */
int brg__worker_start(struct brg_pool *pool, int i, int joining);
/* Notices dead workers, repairs their leases and starts replacements; returns how many. */
int brg__reap(struct brg_pool *pool);

#endif
