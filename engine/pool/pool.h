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


/* ---- futex.c (brg__cpu_relax, brg__futex_wait and _wake: internal.h) ---- */
/* One turn of a wait: a pause, or where participants share CPUs (ctl->yield) the CPU given
 * to one that has work: spinning there takes the time of the very participant waited for. */
void brg__pause(const struct brg__ctl *ctl);

/* ---- sched.c: the hand-out ---- */
/* A chunk in hand-out units; empty (begin == end) for none.  Two words, so it comes back in
 * registers: a claim is a few nanoseconds, a trip through memory would be a good part. */
struct brg__range {
	uint64_t begin, end;
};
/* What a participant hands out from, derived from the job descriptor (its own copy). */
struct brg__handout {
	uint64_t n;     /* hand-out units */
	uint64_t grain; /* units per position */
	uint64_t npos;  /* positions */
	uint64_t chunk; /* positions per claim (dynamic, guided at least, auto) */
	uint32_t kind;
	uint32_t participants;
};
/* Static range of participant i of p over [0, n). */
void brg__static_range(uint64_t n, uint32_t p, uint32_t i, uint64_t *begin, uint64_t *end);
/* Next chunk size for the schedule; remaining > 0. */
uint64_t brg__sched_chunk(uint32_t kind, uint64_t chunk, uint64_t remaining, uint32_t p);
/* Resolves the chunk of an auto schedule from a measured cost per index. */
uint64_t brg__auto_chunk(uint64_t n, uint32_t p, double ns_per_index, double claim_ns);
/* Units per position for a job of n units: 1 up to BRG__POS_MAX units. */
uint64_t brg__grain(uint64_t n);
void brg__handout_view(struct brg__handout *h, uint64_t n, uint32_t kind, uint64_t chunk,
		       uint32_t participants);
/* Every participant's range from the static split; under the lock, before the job is
 * published. */
void brg__handout_start(struct brg__ctl *ctl, const struct brg__handout *h);
/* The next chunk for participant who, recorded in its slot as in flight: from its own
 * range, from the chunks to run again (workers only), or stolen; an empty range when nothing
 * is left for it (or the hand-out stopped). */
struct brg__range brg__next(struct brg__ctl *ctl, uint32_t who, const struct brg__handout *h,
			    uint64_t stamp);
/* Repairs the hand-out after participant dead ended (under the lock): 1 with *lost set (in
 * positions) when it died running a chunk. */
int brg__handout_recover(struct brg__ctl *ctl, uint32_t dead, uint32_t participants,
			 struct brg__retry *lost);
/* Drops entries a holder of the lock emptied and died before it counted them; under the
 * lock. */
void brg__retry_repair(struct brg__ctl *ctl);
/* 1 when some participant's range still holds unclaimed positions. */
int brg__handout_left(const struct brg__ctl *ctl, uint32_t participants);

/* The packed words of a slot (ctl.h). */
#define BRG__POS_MASK BRG__POS_MAX
#define BRG__THIEF_MASK ((uint64_t)BRG__THIEF_PENDING << (2 * BRG__POS_BITS))
static inline uint64_t brg__rng(uint64_t next, uint64_t end, uint64_t thief)
{
	return next | end << BRG__POS_BITS | thief << (2 * BRG__POS_BITS);
}
static inline uint64_t brg__rng_next(uint64_t w) { return w & BRG__POS_MASK; }
static inline uint64_t brg__rng_end(uint64_t w) { return w >> BRG__POS_BITS & BRG__POS_MASK; }
static inline uint32_t brg__rng_thief(uint64_t w)
{
	return (uint32_t)(w >> (2 * BRG__POS_BITS) & BRG__THIEF_PENDING);
}
static inline uint64_t brg__rng_unmarked(uint64_t w) { return w & ~BRG__THIEF_MASK; }
static inline uint64_t brg__cur(uint64_t b, uint64_t e, uint32_t kills, int retry)
{
	return b | e << BRG__POS_BITS | (uint64_t)(kills & 3) << 54 | (uint64_t)(retry != 0) << 56;
}
static inline uint64_t brg__cur_begin(uint64_t c) { return c & BRG__POS_MASK; }
static inline uint64_t brg__cur_end(uint64_t c) { return c >> BRG__POS_BITS & BRG__POS_MASK; }
static inline uint32_t brg__cur_kills(uint64_t c) { return (uint32_t)(c >> 54 & 3); }
static inline int brg__cur_retry(uint64_t c) { return (int)(c >> 56 & 1); }
static inline uint64_t brg__intent(uint32_t victim, uint64_t split, uint64_t end)
{
	return victim | split << 9 | end << 36 | 1ull << 63;
}
static inline int brg__intent_valid(uint64_t in) { return (int)(in >> 63); }
static inline uint32_t brg__intent_victim(uint64_t in) { return (uint32_t)(in & 0x1ff); }
static inline uint64_t brg__intent_split(uint64_t in) { return in >> 9 & BRG__POS_MASK; }
static inline uint64_t brg__intent_end(uint64_t in) { return in >> 36 & BRG__POS_MASK; }

/* Fault injection (meson -Dfault_injection=true, tests only): a participant raises SIGKILL at
 * a chosen step of the hand-out, once per arming.  The plan lives in memory the test shares
 * with its workers (forked: they inherit the pointer). */
enum brg__fault_step {
	BRG__F_NONE = 0,
	BRG__F_CLAIM_CUR,     /* cur stored, the claim's CAS not done */
	BRG__F_CLAIM_CAS,     /* claimed, the kernel not called */
	BRG__F_DONE_RUN,      /* the kernel returned, cur not cleared */
	BRG__F_DONE_CLEAR,    /* cur cleared */
	BRG__F_STEAL_INTENT,  /* intent written, the victim not cut */
	BRG__F_STEAL_CUT,     /* victim cut and marked, the tail not installed */
	BRG__F_STEAL_INSTALL, /* installed (pending), the mark not cleared */
	BRG__F_STEAL_UNMARK,  /* mark cleared, intent not */
	BRG__F_STEAL_CLEAR,   /* intent cleared, the own word still pending */
	BRG__F_RETRY,         /* a chunk to run again taken into cur, its entry not removed */
	BRG__F_STEPS
};
struct brg__fault {
	uint32_t step;       /* enum brg__fault_step */
	uint32_t then;       /* a step armed once the first fired, or 0 */
	uint32_t who;        /* participant to kill, 0: the first worker to get there */
	uint32_t armed;      /* 1: fire at the next hit; cleared by the one that fires */
	uint32_t fired;      /* how many fired */
	uint32_t fired_who;  /* the last one: who, at which step, with which cur */
	uint32_t fired_step;
	uint32_t pad;
	uint64_t fired_cur;
	uint64_t first_cur; /* cur of the first that fired */
};
#ifdef BRG_FAULT_INJECTION
extern struct brg__fault *brg__fault;
void brg__fault_hit(uint32_t step, uint32_t who, const struct brg__slot *me);
#define brg__fault_point(step, who, me) brg__fault_hit((step), (who), (me))
#else
#define brg__fault_point(step, who, me) ((void)0)
#endif

/* The hot path of the hand-out, inlined into the loop that runs chunks (job.c). */
static inline struct brg__range brg__to_units(const struct brg__handout *h, uint64_t b,
					      uint64_t e)
{
	return (struct brg__range){b * h->grain, e * h->grain < h->n ? e * h->grain : h->n};
}

/* Claims the next chunk of the own range (sched.c says how); empty when the range is, or is
 * pending. */
static inline struct brg__range brg__claim_own(struct brg__slot *me, const struct brg__handout *h,
					       uint32_t who, uint64_t stamp)
{
	uint64_t w = __atomic_load_n(&me->range, __ATOMIC_ACQUIRE);
	for (int tried = 0;; tried = 1) {
		uint64_t nx = brg__rng_next(w), en = brg__rng_end(w), c;
		if (nx >= en || brg__rng_thief(w) == BRG__THIEF_PENDING) {
			/* A thief took the rest: cur must not name a chunk this claim never got
			 * (a steal may later install positions past it). */
			if (tried)
				__atomic_store_n(&me->cur, 0, __ATOMIC_RELEASE);
			return (struct brg__range){0, 0};
		}
		if (h->kind == BRG_SCHED_STATIC)
			c = en - nx;
		else if (h->kind == BRG_SCHED_GUIDED) /* a 2P-th of what it has left */
			c = brg__sched_chunk(h->kind, h->chunk, en - nx, h->participants);
		else
			c = h->chunk < en - nx ? h->chunk : en - nx;
		__atomic_store_n(&me->cur, brg__cur(nx, nx + c, 0, 0), __ATOMIC_RELAXED);
		brg__fault_point(BRG__F_CLAIM_CUR, who, me);
		/* Alone in the job, nobody else writes the word: a store does what the CAS
		 * does. */
		if (h->participants == 1 ? (__atomic_store_n(&me->range, w + c, __ATOMIC_RELEASE), 1)
					 : __atomic_compare_exchange_n(&me->range, &w, w + c, 0,
								       __ATOMIC_ACQ_REL,
								       __ATOMIC_ACQUIRE)) {
			brg__fault_point(BRG__F_CLAIM_CAS, who, me);
			me->since_ns = stamp;
			return brg__to_units(h, nx, nx + c);
		}
	}
}

/* The chunk in flight returned. */
static inline void brg__handout_done(struct brg__slot *me, uint32_t who)
{
	brg__fault_point(BRG__F_DONE_RUN, who, me);
	__atomic_store_n(&me->cur, 0, __ATOMIC_RELEASE);
	brg__fault_point(BRG__F_DONE_CLEAR, who, me);
}

/* ---- job.c / worker.c ---- */
/* Locks the control block, repairing it when a holder died; returns 0 or -errno. */
int brg__ctl_lock(struct brg__ctl *ctl, uint32_t who);
void brg__ctl_unlock(struct brg__ctl *ctl);
/* What a participant runs a job from: its own copy, taken as it joins (or, for the
 * caller, kept from submit), so nothing it relies on changes under it. */
struct brg__jobview {
	uint64_t n;       /* hand-out units */
	uint64_t n_elems;
	uint64_t block;   /* 0 for a for-job */
	uint32_t narrays;
	uint32_t args_size;
	const void *args; /* a private copy of the argument block */
	struct brg__handout h;
};
/* Runs the participant's share of the job: claims and steals chunks until nothing is left. */
void brg__participate(struct brg__ctl *ctl, uint32_t who, brg_kernel_fn fn,
		      brg_array *const *arrays, const struct brg__jobview *v);
/* Records an error for the job under the lock; range in hand-out units.  stop: a kernel
 * failed, the hand-out stops, and its error replaces a death's.  A death does not stop it:
 * every index outside the named range still runs exactly once, the range growing to cover
 * each chunk lost.  Otherwise the first error stays. */
void brg__job_fail(struct brg__ctl *ctl, int code, int stop, uint32_t who, uint64_t begin,
		   uint64_t end);
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
	struct brg__jobview view;
	unsigned char args[BRG_ARGS_MAX] __attribute__((aligned(BRG__LINE)));
};

#define BRG__COST_SLOTS 32
/* Limits on brg_pool_opts' tables (1.1). */
#define BRG__POOL_KERNELS_MAX 4096
#define BRG__WORKER_ARGS_MAX 16

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
	char **worker_args;  /* spawn: NULL-terminated, put before the worker's own */
	brg_kernel *kernels; /* opts.kernels, copied (names too): fork workers accept these */
	size_t nkernels;
	void (*after_fork)(void); /* opts.after_fork */
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
