/* SPDX-License-Identifier: MIT */
/* ctl.h - the pool control block: the private, versioned layout of a pool's shared segment
 * (what every participant and `brigade status` read).  The pool's own code is in pool.h. */
#ifndef BRG_CTL_H
#define BRG_CTL_H

#include <pthread.h>
#include <stdint.h>

#include "internal.h"

#define BRG__CTL_MAGIC 0x314c525443475242ull /* "BRGCTRL1" little-endian */
/* 3: entries a job does not use (arrays, argument bytes, retries) are zero.
 * 4: the hand-out is a slot per participant (struct brg__slot); yield. */
#define BRG__CTL_VERSION 4u
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

/* The hand-out (sched.c).  A job's index space is cut into positions: a position is one
 * hand-out unit, or grain units when a job has more units than a range word can count (the
 * chunks of such a job are then multiples of the grain).  A range word packs one participant's
 * unclaimed positions and the mark of a thief cutting them: next | end << 27 | thief << 54,
 * where thief is 0, a thief's index + 1, or BRG__THIEF_PENDING on a word its owner is still
 * installing (nobody claims from or steals a marked or pending word).  Words stay at 64 bits:
 * wider atomics may be emulated with a lock in libatomic, which does not work across
 * processes. */
#define BRG__POS_BITS 27
#define BRG__POS_MAX ((1ull << BRG__POS_BITS) - 1) /* positions a job has at most */
#define BRG__THIEF_PENDING 0x1ffu
_Static_assert(BRG__MAX_WORKERS + 1 < BRG__THIEF_PENDING, "a thief mark fits its 9 bits");

/* One participant's own line: what it writes per chunk, and nobody else but a thief (the
 * range word) and the recovery of its own death (everything). */
struct brg__slot {
	uint64_t job_joined; /* the job it copied and takes part in */
	uint64_t range;      /* packed: its unclaimed positions, and a thief's mark */
	/* The chunk in flight: begin | end << 27 | kills << 54 | from the retry list << 56; 0
	 * when none.  Written before the claim that takes it, so a chunk is never running
	 * without being named here. */
	uint64_t cur;
	/* A steal in progress: victim | split << 9 | victim's old end << 36 | 1 << 63. */
	uint64_t intent;
	uint64_t since_ns;   /* CLOCK_MONOTONIC (coarse) when cur was claimed */
	uint64_t chunks_done;
	uint64_t busy_ns;
	uint64_t pad;
};
_Static_assert(sizeof(struct brg__slot) == BRG__LINE, "a participant's slot is one line");

/* One participant (index 0 is the caller).  Line 0 is what the caller polls while it waits
 * (written by the worker about twice per job); line 1 is its hand-out slot, written per chunk;
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

	struct brg__slot slot __attribute__((aligned(BRG__LINE)));

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

/* The job descriptor.  Its first line is everything a waiting worker needs to start; the word
 * it spins on (job_seq) has a line of its own, so a new job costs the worker two lines, and
 * the caller writes this one without spinning readers pulling it back between its stores. */
struct brg__jobdesc {
	uint32_t pad0;
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

/* A chunk whose participant died running it, to be run again by a worker (in positions). */
struct brg__retry {
	uint64_t begin, end;
	uint32_t kills, pad;
};

_Static_assert(sizeof(pthread_mutex_t) + 16 <= BRG__LINE, "the lock's line");

struct brg__ctl {
	/* line 0: identity, written once at create */
	uint64_t magic;
	uint32_t version;
	uint32_t nworkers; /* participants, caller included */
	int32_t parent_pid;
	uint32_t start_method;
	uint32_t spin_us;
	uint32_t ctl_bytes;
	uint32_t yield; /* 1: participants share CPUs, so a waiter yields instead of spinning */
	char plugin[BRG__CPUSET_TEXT * 4] __attribute__((aligned(BRG__LINE)));

	/* The lock and what every claim reads (written only on errors and deaths). */
	struct {
		pthread_mutex_t lock;
		int32_t error; /* the job's first error */
		uint32_t stop; /* 1: the hand-out stopped (a kernel failed) */
		uint32_t nretry;
		uint32_t pad;
	} hot __attribute__((aligned(BRG__LINE)));

	/* futex words, each on its own line */
	uint32_t sleepers __attribute__((aligned(BRG__LINE))); /* workers in futex_wait */
	/* What an idle worker spins on, bumped per job (and at shutdown): off the job's line, so
	 * the caller's writes of a new job are not pulled back by every spinning read. */
	uint32_t job_seq;
	uint32_t done_seq __attribute__((aligned(BRG__LINE))); /* bumped for a sleeping caller */
	uint32_t caller_sleeping;

	/* the rest of the hand-out state: under the lock, rarely touched */
	struct {
		int32_t err_worker;
		uint32_t pad;
		uint64_t err_begin, err_end;
		struct brg__retry retry[BRG__MAX_RETRY];
	} h __attribute__((aligned(BRG__LINE)));

	struct brg__jobdesc job __attribute__((aligned(BRG__LINE)));
	struct brg__wrec w[BRG__MAX_WORKERS];
	unsigned char slots[BRG__MAX_SLOTS][BRG_SCRATCH_BYTES] __attribute__((aligned(BRG__LINE)));
};

#endif
