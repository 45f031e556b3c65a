/* SPDX-License-Identifier: MIT */
/* ctl.h - the pool control block: the private, versioned layout of a pool's shared segment
 * (what every participant and `brigade status` read).  The pool's own code is in pool.h. */
#ifndef BRG_CTL_H
#define BRG_CTL_H

#include <pthread.h>
#include <stdint.h>

#include "internal.h"

#define BRG__CTL_MAGIC 0x314c525443475242ull /* "BRGCTRL1" little-endian */
/* 3: entries a job does not use (arrays, argument bytes, retries) are zero. */
#define BRG__CTL_VERSION 3u
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

#endif
