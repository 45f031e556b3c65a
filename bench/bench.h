/* SPDX-License-Identifier: MIT */
/* bench.h - what the files of `brigade bench` share: kernels, records, settings, helpers. */
#ifndef BRG_BENCH_H
#define BRG_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "brigade.h"

/* ---- the kernels the suite knows, in the order it runs and prints them ---- */
enum bench_kernel {
	BK_TRIAD,
	BK_DOT,
	BK_SUMSQ,
	BK_STENCIL3,
	BK_DGEMM,
	BK_EMPTY,
	BK_CLAIM,
	BK_BARRIER,
	BK_PFOR,
	BK_IMB_DYNAMIC,
	BK_IMB_GUIDED,
	BK_IMB_AUTO,
	BK_IMB_STATIC,
	BK_START,
	BK_COUNT
};

/* 1 for the imbalance kernels: one loop of growing cost, one schedule each. */
static inline int bench_kernel_imb(int k)
{
	return k >= BK_IMB_DYNAMIC && k <= BK_IMB_STATIC;
}

/* How a kernel's time becomes its rate. */
enum bench_metric {
	BM_BYTES, /* GB/s from STREAM bytes per element */
	BM_FLOPS, /* GFLOP/s from 2 n^3 */
	BM_US,	  /* latency in microseconds: lower is better */
	BM_NS,	  /* latency in nanoseconds: lower is better */
	BM_STEPS, /* Gstep/s: steps of the imbalance loop's mix (loops.h) per second */
};

struct bench_kernel_info {
	const char *name;
	enum bench_metric metric;
	double bytes_per_elem; /* BM_BYTES: STREAM counting */
	const char *what;      /* one line for the table heading */
};

extern const struct bench_kernel_info bench_kernels[BK_COUNT];
/* The kernel's index by name, or -1. */
int bench_kernel_find(const char *name);
const char *bench_metric_unit(enum bench_metric m);
static inline int bench_metric_latency(enum bench_metric m)
{
	return m == BM_US || m == BM_NS;
}

/* ---- implementations ---- */
enum bench_impl {
	BI_BRIGADE,
	BI_PYBRIGADE, /* brigade's kernels called from Python through its package */
	BI_SERIAL,
	BI_OPENMP,	/* GCC and libgomp */
	BI_OPENMP_LLVM, /* clang and LLVM's libomp */
	BI_OPENBLAS,
	BI_NUMPY,
	BI_PICKLE,
	BI_SHM,
	BI_PYFN, /* Python kernels in brigade's pool: Pool.for_ranges / reduce_ranges */
	BI_COUNT
};
extern const char *const bench_impl_names[BI_COUNT];

/* ---- settings of one run ---- */
#define BENCH_MAX_WORKERS 256
#define BENCH_MAX_SAMPLES 64
#define BENCH_MAX_ROUNDS 8
/* Rounds that run everything; later ones only the kernels and peers whose ratios the
 * machine's load moves (bandwidth kernels, pool latencies; not dgemm, not Python Pools). */
#define BENCH_FULL_ROUNDS 2

/* Sizes (plan.c): the stream arrays are powers of two from BENCH_SIZE_FLOOR up to 4x the
 * last-level cache, at most BENCH_SIZE_CAP, halved until the run fits its memory budget. */
#define BENCH_SIZE_FLOOR ((size_t)128 << 20)
#define BENCH_SIZE_CAP ((size_t)1 << 30)
#define BENCH_SIZE_QUICK ((size_t)32 << 20)
#define BENCH_SIZE_MIN ((size_t)1 << 20)
#define BENCH_IMAGE_COLS 4096
#define BENCH_SIZE_STEP ((size_t)BENCH_IMAGE_COLS * 4) /* a whole row of the f32 image */
/* py-pool-pickle moves its arrays through pipes several times a run: its rate, not its size,
 * is what is compared, so it gets arrays of at most this many bytes (--quick: a quarter). */
#define BENCH_PICKLE_CAP ((size_t)32 << 20)
#define BENCH_MAX_PLAN_NOTES 6

struct bench_config {
	int quick, json;
	int rounds;	 /* the sequence, brigade and its peers, this many times (see above) */
	int pool_peers;	 /* run the Python Pool peers (in the full rounds only) */
	int repeat;	 /* timed runs per measurement and round (after one warm-up run) */
	int repeat_gemm; /* dgemm: fewer at full size, where one run takes seconds */
	int repeat_pool; /* the Python Pool peers, which pickle or map hundreds of MiB */
	int nworkers;
	int workers[BENCH_MAX_WORKERS];
	int max_workers; /* the largest of workers[] */
	int kernels[BK_COUNT]; /* 1 where selected */
	const char *out_dir;
	double time_limit;   /* no round starts that would end later than this (s); 0: none */
	size_t size_asked;   /* --size (bytes), or 0 */
	int force;	     /* --force: run a --size over the budget */
	size_t n;	     /* elements per f64 array for triad, dot, sumsq */
	size_t rows, cols;   /* stencil3 image: as many bytes as one f64 array */
	size_t gemm_n;	     /* dgemm matrix order */
	size_t pickle_n;     /* elements per array for py-pool-pickle */
	size_t shm_n;	     /* elements per array for py-pool-shm */
	size_t claim_n;	     /* index space of the claim job */
	size_t imb_n;	     /* index space of the imbalance loops */
	int empty_batch;     /* round trips per sample of `empty`, barriers of `barrier` */
	int pfor_batch;	     /* loops per sample of `pfor` */
	int libomp;	     /* the openmp-llvm peer runs (built, and its helper found) */
	int start_batch;     /* pool creations per sample of `start` */
	double scalar;	     /* s of the triad */
	size_t llc_bytes;    /* what the sizing rule takes the last-level cache to be */
	size_t budget_mem;   /* bytes the run may keep at once (half of what is available) */
	size_t budget_shm;   /* bytes its segments may take in /dev/shm */
	char plan_notes[BENCH_MAX_PLAN_NOTES][512]; /* how the sizes were chosen */
	int nplan_notes;
	FILE *tables; /* stdout, or stderr under --json */
};

/* Rounds that run everything: BENCH_FULL_ROUNDS, or all of them when there are fewer. */
static inline int bench_full_rounds(const struct bench_config *cfg)
{
	return cfg->rounds < BENCH_FULL_ROUNDS ? cfg->rounds : BENCH_FULL_ROUNDS;
}

/* ---- one measurement (or the reason there is none) ---- */
enum bench_status { BS_OK, BS_FAILED, BS_SKIPPED };

struct bench_rec {
	int kernel; /* enum bench_kernel */
	int impl;   /* enum bench_impl */
	int workers;
	size_t n;
	int first; /* `start`: the first pool creation of the process (one sample) */
	int turns; /* measured taking turns with brigade at this worker count: samples[i] of
		    * every such record of the kernel and count come from the same turn
		    * (dgemm: the i-th run of each side's one turn a round) */
	int nsamples;
	double samples[BENCH_MAX_SAMPLES]; /* seconds per operation */
	int nrounds;
	double round_rate[BENCH_MAX_ROUNDS]; /* each round's own rate: paired ratios */
	double median_s, min_s, max_s;
	double rate; /* in the kernel's unit, from the median */
	int has_value;
	double value; /* the result (or the sum of the output) for the correctness check */
	enum bench_status status;
	char note[256];
	/* filled by bench_derive */
	double speedup, efficiency, of_limit; /* NAN where they do not apply */
};

/* The memory watch: MemAvailable every BENCH_WATCH_PERIOD_MS. */
struct bench_watch {
	size_t start, lowest; /* MemAvailable at the start, and the lowest seen */
	double lowest_at;     /* seconds after the start */
	size_t floor;	      /* under it the peers are stopped */
	int stops;	      /* times it stopped them */
	size_t stopped_at;    /* MemAvailable when it last did */
};

struct bench_results {
	struct bench_rec *v;
	size_t n, cap;
	char notes[32][512]; /* remarks printed once, after the tables */
	int nnotes;
	double bw_limit[BENCH_MAX_WORKERS + 1]; /* GB/s by worker count; 0 when unknown */
	int bw_limit_impl[BENCH_MAX_WORKERS + 1];
	double flop_limit[BENCH_MAX_WORKERS + 1]; /* GFLOP/s by worker count */
	int failures; /* brigade kernels that failed or computed a wrong result, broken peers */
	struct bench_watch watch; /* what the memory watch saw */
};

/* Appends a copy of rec; returns the stored record, or NULL without memory. */
struct bench_rec *bench_results_add(struct bench_results *res, const struct bench_rec *rec);
/* A note printed after the tables (duplicates are dropped). */
void bench_note(struct bench_results *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The OK record of (kernel, impl, workers), first creations excluded, or NULL. */
const struct bench_rec *bench_results_find(const struct bench_results *res, int kernel, int impl,
					   int workers);
void bench_results_free(struct bench_results *res);

/* A record with its identity set and everything else empty. */
void bench_rec_init(struct bench_rec *rec, int kernel, int impl, int workers, size_t n);
/* Marks rec failed (or skipped) with a message. */
void bench_rec_fail(struct bench_rec *rec, enum bench_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- measure.c: clocks and statistics ---- */
/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Median, min and max of rec->samples, then rec->rate from the kernel's metric and rec->n. */
void bench_rec_finish(struct bench_rec *rec);
/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);

/* What a check returns for a wrong result (after writing the message into the record). */
#define BENCH_WRONG 1

/* One repetition of a measured operation; returns 0 or a negative code. */
typedef int (*bench_op_fn)(void *ctx);
/* Judges the result of a run of op on ctx: 0, or BENCH_WRONG after writing into rec. */
typedef int (*bench_check_fn)(void *ctx, struct bench_rec *rec);
/*
 * Runs op once untimed (the warm-up; check, when not NULL, then judges its result), then
 * `repeat` timed runs of `batch` calls each, appending seconds per call divided by `per` to
 * rec->samples (as many as fit).  Returns 0, or the first error of op or check.
 */
int bench_measure(struct bench_rec *rec, bench_op_fn op, void *ctx, bench_check_fn check,
		  int repeat, int batch, double per);

/* ---- the reference values every implementation is checked against ---- */
#include "loops.h"

struct bench_refs {
	struct {
		size_t n;
		double triad_sum; /* sum of a after the triad */
		double dot, sumsq;
	} stream[3]; /* at cfg->n, cfg->pickle_n and cfg->shm_n */
	double stencil_sum;
	double gemm_sum;
	size_t imb_n;
	double imb_sum; /* sum of the imbalance loop's outputs over imb_n indices */
};
void bench_refs_compute(const struct bench_config *cfg, struct bench_refs *refs);
/* The reference a record's value must match (n: the record's size), or NAN when there is
 * none. */
double bench_refs_value(const struct bench_refs *refs, int kernel, size_t n);
/* 1 when got matches want within the rounding differences summation order may cause. */
int bench_value_ok(double got, double want);

/* ---- brigade's side (k_*.c): groups of kernels that share brigade's data ---- */
/* One of brigade's kernels, ready to time with bench_measure. */
struct bench_job {
	bench_op_fn op;
	void *ctx;
	bench_check_fn check; /* NULL: nothing to check */
	int batch;	      /* calls a sample */
	double per;	      /* a sample is divided by this too (claim: its chunks) */
	size_t n;	      /* the record's n */
};

struct bench_group {
	int kernels[4], nkernels;
	/* Makes brigade's data for the group's kernels on pool: 0 and *data, or an error code
	 * and *what (the step that failed). */
	int (*open)(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		    struct bench_results *res, void **data, const char **what);
	void (*job)(void *data, int kernel, struct bench_job *job);
	void (*close)(void *data);
};
/* In the order a round runs them: the pool's latencies before any array exists. */
extern const struct bench_group bench_group_pool, bench_group_imb, bench_group_stream,
	bench_group_stencil, bench_group_gemm;

/* Stores a record and prints its progress line: code 0 (rec has its numbers, or is skipped),
 * BENCH_WRONG (rec has the message) or an error code; failures count in res. */
void bench_report(struct bench_results *res, struct bench_rec *rec, int code);
/* start: creates and destroys pools of `workers`, timing the creations */
void bench_run_pool_start(const struct bench_config *cfg, int workers, struct bench_results *res);
/* The first pool creation of this process (call before any other pool exists). */
void bench_run_pool_first(int workers, struct bench_results *res);

/* ---- round.c: one worker count in one round ---- */
/* brigade's pool and the peers that serve commands (serial at first_count only), taking turns
 * run by run on each kernel, then the Python Pools (in the full rounds).  Returns the seconds
 * it spent on what only the full rounds run (dgemm, the Python Pools). */
double bench_run_round(const struct bench_config *cfg, const struct bench_refs *refs, int workers,
		     int first_count, struct bench_results *res);
/* Waits until no thread of the processes in pids is running (spinning threads of OpenBLAS
 * and OpenMP included), at most max_s; returns 1 when they were quiet, 0 when time ran out. */
int bench_wait_quiet(const int *pids, int npids, double max_s);

/* ---- plan.c: the sizes this machine can hold ---- */
struct bench_facts {
	size_t llc;	  /* last-level cache, bytes; 0 when unknown */
	size_t mem_total; /* MemTotal */
	size_t mem_avail; /* MemAvailable, or the room under the cgroup's limit when less */
	size_t shm_free;  /* free bytes of /dev/shm */
	int cgroup;	  /* mem_avail is the cgroup's room: */
	size_t cg_limit;  /* the limit of the cgroup that leaves the least room */
	char cg_usage[1024]; /* and the file of its usage */
};
/* The machine's facts now (files under root, "" or NULL: the machine's own); llc as the
 * caller knows it.  0 or a negative code. */
int bench_facts_probe(struct bench_facts *f, size_t llc, const char *root);

/* The stretches of a round whose data are alive together. */
enum bench_phase { BP_STREAM, BP_STENCIL, BP_GEMM, BP_PICKLE, BP_SHM, BP_COUNT };
extern const char *const bench_phase_names[BP_COUNT];
/* Bytes of data each phase keeps at once with cfg's sizes, all memory (mem, segments
 * included) and in /dev/shm (shm). */
void bench_need(const struct bench_config *cfg, size_t mem[BP_COUNT], size_t shm[BP_COUNT]);
/* What the processes hold besides the data, with `workers` participants. */
size_t bench_fixed_bytes(int workers);
/* The run's peak: the largest phase plus the fixed part (*mem), the most in /dev/shm (*shm);
 * returns the phase of the peak. */
int bench_need_peak(const struct bench_config *cfg, size_t *mem, size_t *shm);
/*
 * Sets cfg's sizes (n, rows, cols, gemm_n, pickle_n, shm_n) and budget from the facts, the
 * mode, cfg->size_asked and cfg->force, with notes on what was made smaller and why.  Returns
 * 0, or -1 with the reason in err (a --size over the budget without --force; a machine with
 * too little memory for even the smallest arrays).
 */
int bench_plan(struct bench_config *cfg, const struct bench_facts *f, char *err, size_t errlen);
/* "512 MiB", "1.5 GiB" */
void bench_format_bytes(char *buf, size_t len, size_t bytes);

/* ---- data.c: brigade arrays for the bench ---- */
enum { BENCH_FILL_STREAM, BENCH_FILL_IMAGE, BENCH_FILL_GEMM, BENCH_FILL_NONE };
#define BENCH_MAX_ARRAYS 4
/* The arrays of a group of kernels: one dtype and shape, made on a pool under unique names
 * ("brg-bench-<pid>-<counter>-<name>"). */
struct bench_arrays {
	int n;					/* arrays, at most BENCH_MAX_ARRAYS */
	const char *names[BENCH_MAX_ARRAYS];
	brg_dtype dtype;
	int ndim; /* 1 or 2 */
	size_t shape[2];
	int fill, nfill; /* the formulas of loops.h (BENCH_FILL_*) into the first nfill:
			  * STREAM a, b, c; IMAGE in; GEMM A, B, C; NONE: left zero, and
			  * no note on their pages (outputs of a few KiB) */
	const char *what; /* in the note on their pages: "stream arrays" */
	brg_array *v[BENCH_MAX_ARRAYS];
};
/* Creates and fills s->v with static jobs (each participant writes the pages it first
 * touched), then notes their share of 2 MiB pages (BENCH_FILL_NONE: neither).  0, or an error
 * and *step (the failed step), with whatever was made removed. */
int bench_arrays_make(brg_pool *pool, struct bench_arrays *s, struct bench_results *res,
		      const char **step);
/* Removes the segments and closes the handles of s->v that exist. */
void bench_arrays_drop(struct bench_arrays *s);

/* ---- peers.c: the other implementations, in their own processes ---- */
/* Which kernels impl has a peer for (1) or skips with a reason (*why). */
int bench_peer_supports(int impl, int kernel, const char **why);
/* 1 when impl's peer serves commands (serial, both OpenMP, OpenBLAS, numpy); the Python Pools
 * run their kernels once through, by bench_run_peer. */
int bench_peer_serves(int impl);

/* A peer process serving commands, on the cores of a pool of `workers`. */
struct bench_peer;
/* Starts impl's peer and waits for it to be ready; NULL after a note (and, when the peer is
 * broken rather than unavailable, a failure) in res. */
struct bench_peer *bench_peer_start(const struct bench_config *cfg, int impl, int workers,
				    struct bench_results *res);
int bench_peer_pid(const struct bench_peer *p);
/* One warm-up run and `repeat` timed ones of kernel: rec (initialised by the caller) gets the
 * samples appended and the value checked, or is marked failed or skipped.  A peer that does
 * not answer in time is killed, and its later commands fail at once. */
void bench_peer_run(struct bench_peer *p, const struct bench_refs *refs, int kernel, int repeat,
		    struct bench_rec *rec);
/* Has the peer free the data of its last kernel (at the end of a group of kernels, so that
 * the next group's data are not made beside them); NULL is accepted. */
void bench_peer_drop(struct bench_peer *p);
/* Ends the peer (end of its stdin; killed when it does not exit in time); NULL is accepted.
 * A peer that exited with an error leaves a note and a failure in res. */
void bench_peer_stop(struct bench_peer *p, struct bench_results *res);

/* Runs a Python Pool peer at `workers` for the selected kernels it supports, appending its
 * records. */
void bench_run_peer(const struct bench_config *cfg, const struct bench_refs *refs, int impl,
		    int workers, struct bench_results *res);
/* Probes /usr/bin/python3 and numpy once; 1 when the Python peers can run.  *version gets
 * numpy's version and BLAS, or the reason they cannot. */
int bench_python_probe(char *version, size_t len);
/* Where the peer helpers and peers.py are; NULL when not found (the libomp helper: also when
 * brigade was built without it). */
const char *bench_peer_helper_path(void);
const char *bench_peer_libomp_path(void);
const char *bench_peers_py_path(void);

/* ---- report.c ---- */
struct bench_machine {
	char cpu[128];
	int cores, pus, numa_nodes;
	size_t llc_bytes;
	char kernel[200];
	char date[32];
	char openblas[256];
	char numpy[256];
	char thp[80];
	char load_start[32], load_end[32]; /* /proc/loadavg: other work on the machine */
};
/* The three load averages of /proc/loadavg, "?" when unreadable. */
void bench_loadavg(char *buf, size_t len);
void bench_machine_probe(struct bench_machine *m);
/* Limits, speedups, efficiencies and fractions of the limit. */
void bench_derive(const struct bench_config *cfg, struct bench_results *res);
void bench_print_tables(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
			const struct bench_results *res);
void bench_print_json(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
		      const struct bench_results *res);
/* results.csv, results.md, results.dat, results.gp and (gnuplot permitting) results.png in
 * cfg->out_dir; returns 0 or -errno (what failed is printed). */
int bench_write_files(const struct bench_config *cfg, const struct bench_machine *m,
		      struct bench_results *res);

/* ---- guard.c: what the bench owes the machine whatever happens ---- */
/* Why the bench stopped a peer itself. */
enum { BENCH_STOPPED_SIGNAL = 1, BENCH_STOPPED_MEMORY = 2 };
#define BENCH_WATCH_PERIOD_MS 25
/* Installs the SIGINT, SIGTERM and SIGHUP handlers (kill the peers, remove the run's
 * segments, die of the signal); 0 or a negative code. */
int bench_guard_init(void);
/* "brg-bench-PID-": every segment the run names itself starts with it. */
const char *bench_segment_prefix(void);
/* Removes the run's segments still in /dev/shm (its pools' too); returns how many. */
int bench_guard_sweep(void);
/* A peer's process group, killed on a signal or when memory runs short, until removed. */
void bench_guard_peer_add(pid_t pgid);
/* Forgets pgid; returns BENCH_STOPPED_* when the bench killed it, else 0. */
int bench_guard_peer_remove(pid_t pgid);
/* Removes what LLVM's libomp left in /dev/shm for a peer that was killed (it registers every
 * process there and unlinks at exit only).  Async-signal-safe. */
void bench_guard_forget_libomp(pid_t pid);

/* The memory watch (struct bench_watch, above): what is available (MemAvailable, or the room
 * under the cgroup's limit of f when that is less) every BENCH_WATCH_PERIOD_MS. */
struct bench_facts;
int bench_watch_start(size_t floor, const struct bench_facts *f);
void bench_watch_stop(struct bench_watch *out);

/* ---- small helpers ---- */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Duration with a unit that keeps 3-4 significant digits: "812 us", "12.3 ms", "4.10 s". */
void bench_format_time(char *buf, size_t len, double seconds);

#endif
