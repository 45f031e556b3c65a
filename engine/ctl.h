/* SPDX-License-Identifier: MIT */
/* ctl.h - the pool control block: the private, versioned layout of a pool's shared segment. */
#ifndef BRG_CTL_H
#define BRG_CTL_H

#include <pthread.h>
#include <stdint.h>

#include "internal.h"

#define BRG__CTL_MAGIC 0x314c525443475242ull /* "BRGCTRL1" little-endian */
#define BRG__CTL_VERSION 2u
#define BRG__MAX_WORKERS 256
#define BRG__MAX_SLOTS 4096
/* Blocks a reduction is cut into at most (brg_reduce_block_size): each block costs a call and
 * a partial, a few percent of a large dot at 4096 blocks (bench/README.md, "Measurements
 * behind the code"); at most 1024 keeps it under 1% and leaves 64 blocks to each of 16
 * participants. */
#define BRG__REDUCE_BLOCKS 1024
_Static_assert(BRG__REDUCE_BLOCKS <= BRG__MAX_SLOTS, "a reduction's partials fit the slots");
#define BRG__MAX_RETRY 64
#define BRG__LINE 64
#define BRG__CPUSET_TEXT 64
#define BRG__KERNEL_NAME 64

/* Worker states (brg__wrec.state). */
enum {
	BRG__W_EMPTY = 0,
	BRG__W_STARTING,
	BRG__W_IDLE,
	BRG__W_BUSY,
	BRG__W_DEAD,
	BRG__W_FAILED, /* could not start: error code in .error */
};

struct brg__lease {
	uint64_t begin, end; /* in hand-out units (elements, or blocks for reductions) */
	uint64_t since_ns;   /* CLOCK_MONOTONIC */
	uint32_t kills;      /* how often this range already killed a worker */
	uint32_t valid;
};

/* One participant (index 0 is the caller).  Line 0 is what the caller polls while it waits
 * (written by the worker about twice per job); line 1 is what the worker writes per range;
 * so the caller's polling never takes a line the worker is writing. */
struct brg__wrec {
	uint64_t job_done; /* written without the lock, after the last claim */
	uint32_t state;
	int32_t pid;
	int32_t core;  /* logical index of the core (hwloc), -1 when unbound */
	int32_t pu;    /* OS index of the first PU of its cpuset, -1 when unbound */
	int32_t error; /* why a worker could not start */
	uint32_t pad0;
	uint64_t started_ns; /* CLOCK_REALTIME when it was started: tells a reused pid apart */

	uint64_t job_joined __attribute__((aligned(BRG__LINE)));
	struct brg__lease lease;
	uint64_t chunks_done;
	uint64_t busy_ns;

	char cpuset[BRG__CPUSET_TEXT] __attribute__((aligned(BRG__LINE))); /* for spawned workers */
	unsigned char scratch[BRG_SCRATCH_BYTES] __attribute__((aligned(BRG__LINE)));
};
_Static_assert(sizeof(struct brg__wrec) == 4 * BRG__LINE, "participant record lines");

struct brg__jarray {
	char name[BRG_NAME_MAX + 1];
	uint8_t writable;
	uint8_t any_owner; /* the caller opened it with BRG_OPEN_ANY_OWNER */
	uint8_t pad[5];
	uint64_t created_ns; /* identity: a re-created name has another creation time */
	int32_t creator_pid;
	uint32_t pad1;
};

/* The job descriptor.  Its first line is everything a waiting worker needs to start: the
 * futex word it spins on sits beside the fields, so a new job costs the worker one line. */
struct brg__jobdesc {
	uint32_t seq;       /* futex word: bumped per job (and at shutdown) */
	uint32_t in_flight; /* set at submit, cleared when the caller collected the job */
	uint64_t id;
	uint64_t fn;        /* the kernel's address in fork workers (same image) */
	uint64_t n;         /* hand-out units: elements, or blocks for a reduction */
	uint64_t n_elems;   /* elements */
	uint64_t block;     /* elements per block for a reduction; 0 for a for-job */
	uint64_t chunk;     /* resolved chunk for dynamic/guided/auto */
	uint8_t sched_kind;
	uint8_t kernel_flags;
	uint8_t narrays;
	uint8_t shutdown;
	uint16_t participants; /* static schedule: ranges = participants */
	uint16_t args_size;
	/* second line on: what only some jobs read */
	char kernel_name[BRG__KERNEL_NAME] __attribute__((aligned(BRG__LINE)));
	struct brg__jarray arrays[BRG_JOB_MAX_ARRAYS];
	unsigned char args[BRG_ARGS_MAX] __attribute__((aligned(BRG__LINE)));
};
_Static_assert(__builtin_offsetof(struct brg__jobdesc, kernel_name) == BRG__LINE,
	       "a job's hot fields fill exactly one line");
_Static_assert(BRG__MAX_WORKERS <= UINT16_MAX && BRG_ARGS_MAX <= UINT16_MAX &&
		       BRG_JOB_MAX_ARRAYS <= UINT8_MAX,
	       "job descriptor field widths");

struct brg__retry {
	uint64_t begin, end;
	uint32_t kills, pad;
};

_Static_assert(sizeof(pthread_mutex_t) + 24 <= BRG__LINE, "claim state fits a line");

struct brg__ctl {
	/* line 0: identity, written once at create */
	uint64_t magic;
	uint32_t version;
	uint32_t nworkers; /* participants, caller included */
	int32_t parent_pid;
	uint32_t start_method;
	uint32_t spin_us;
	uint32_t ctl_bytes;
	char plugin[BRG__CPUSET_TEXT * 4] __attribute__((aligned(BRG__LINE)));

	/* The lock and what a claim touches share one line: a claim moves one line. */
	struct {
		pthread_mutex_t lock;
		uint64_t next;   /* next unclaimed unit (dynamic, guided, auto) */
		uint64_t taken0; /* static ranges 0..63 taken (more in h.taken) */
		int32_t error;   /* the job's first error; stops the hand-out */
		uint32_t nretry;
	} hot __attribute__((aligned(BRG__LINE)));

	/* futex words, each on its own line */
	uint32_t sleepers __attribute__((aligned(BRG__LINE))); /* workers in futex_wait */
	uint32_t done_seq __attribute__((aligned(BRG__LINE))); /* bumped for a sleeping caller */
	uint32_t caller_sleeping;

	/* the rest of the hand-out state: under the lock, rarely touched */
	struct {
		int32_t err_worker;
		uint32_t pad;
		uint64_t err_begin, err_end;
		uint64_t taken[BRG__MAX_WORKERS / 64]; /* word 0 unused: it is hot.taken0 */
		struct brg__retry retry[BRG__MAX_RETRY];
	} h __attribute__((aligned(BRG__LINE)));

	struct brg__jobdesc job __attribute__((aligned(BRG__LINE)));
	struct brg__wrec w[BRG__MAX_WORKERS];
	unsigned char slots[BRG__MAX_SLOTS][BRG_SCRATCH_BYTES] __attribute__((aligned(BRG__LINE)));
};

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
/* The worker process main loop; never returns. */
__attribute__((noreturn)) void brg__worker_loop(struct brg__ctl *ctl, brg_array *ctl_seg,
						uint32_t who, const brg_kernel *plugin,
						size_t nplugin);

/* 1 when addr lies in a loaded object (worker.c); checks code addresses read from shared
 * memory before they are called. */
int brg__code_address_ok(const void *addr);

/* ---- blas.c ---- */
void brg__blas_single_thread(void);

/* ---- placement.c ---- */
#include <hwloc.h>
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
