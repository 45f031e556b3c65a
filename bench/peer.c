/* SPDX-License-Identifier: MIT */
/* peer.c - brigade-bench-peer: the serial, OpenMP and OpenBLAS peers of `brigade bench`, run in
 * a process of their own so their threads never share a process with brigade's workers.  Built
 * twice: by the project's compiler (serial, openmp: GCC's libgomp, openblas), and by clang with
 * LLVM's libomp as brigade-bench-peer-libomp (openmp-llvm alone, without OpenBLAS, so that no
 * second OpenMP runtime is loaded beside libomp).
 *
 * usage: brigade-bench-peer --impl serial|openmp|openblas|openmp-llvm --workers N [--n N]
 *          [--rows R] [--cols C] [--gemm-n N] [--claim-n N] [--empty-batch B]
 *          [--pfor-batch B] [--imb-n N]
 * Prints {"ready": true, ...} once set up, then serves one command per line of stdin,
 * "KERNEL REPEAT": one untimed warm-up run and REPEAT timed ones, answered by one JSON line:
 * kernel, impl, workers, n, samples (seconds per operation), value (the result, or the sum of
 * the output, for the caller's check), threads; or kernel and error (or skipped).  The data a
 * kernel needs are made on its first command and kept until a command needs other data, so the
 * bench can alternate runs of this peer with brigade's on data that stay in place; the command
 * "drop" frees them and answers {"dropped": true}.  Exits at the end of stdin.  The caller sets
 * the CPU affinity and OMP_* / OPENBLAS_NUM_THREADS. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifdef BRG_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef BRG_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

/* The name this build's OpenMP flavour answers to. */
#ifdef BRG_BENCH_LIBOMP
#define OPENMP_IMPL "openmp-llvm"
#else
#define OPENMP_IMPL "openmp"
#endif

#include "loops.h"

#define BENCH_LOOP(name) serial_##name
/* Compiled for the instruction sets brigade's kernels are (engine/kernels/kernels.h) and picked at
 * load time, so that a comparison measures the parallel machinery, not the vector width (clang
 * has target_clones since version 14).  Not every flavour uses every loop (OpenMP never
 * first-touches dgemm data): clang refuses `unused` beside target_clones, so there the warning
 * is turned off around the loops instead. */
#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 14
#define BENCH_LOOP_LINKAGE static __attribute__((target_clones("avx512f", "avx2", "default")))
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BENCH_LOOP_LINKAGE                                                                         \
	static __attribute__((unused, target_clones("avx512f", "avx2", "default")))
#else
#define BENCH_LOOP_LINKAGE static __attribute__((unused))
#endif
#define BENCH_PAR_FOR
#define BENCH_PAR_FOR_SUM8
#include "loops_tmpl.h"
#undef BENCH_LOOP
#undef BENCH_PAR_FOR
#undef BENCH_PAR_FOR_SUM8

#ifdef BRG_BENCH_HAVE_OPENMP
#define BENCH_LOOP(name) omp_##name
#define BENCH_PAR_FOR _Pragma("omp parallel for schedule(static)")
#define BENCH_PAR_FOR_SUM8                                                                         \
	_Pragma("omp parallel for schedule(static) reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)")
#include "loops_tmpl.h"
#undef BENCH_LOOP
#undef BENCH_PAR_FOR
#undef BENCH_PAR_FOR_SUM8
#endif
#if defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 14
#pragma clang diagnostic pop
#endif

/* The loops of one flavour. */
struct flavour {
	void (*init_stream)(double *restrict, double *restrict, double *restrict, size_t, size_t);
	void (*triad)(double *restrict, const double *restrict, double, const double *restrict,
		      size_t);
	double (*dot)(const double *restrict, const double *restrict, size_t);
	double (*sumsq)(const double *restrict, size_t);
	double (*sum)(const double *restrict, size_t);
	void (*init_image)(float *restrict, size_t, size_t, size_t, size_t);
	void (*stencil3)(float *restrict, const float *restrict, size_t, size_t,
			 const float *restrict);
	double (*sum_f32)(const float *restrict, size_t);
};

static const struct flavour serial = {
	serial_init_stream, serial_triad,      serial_dot,	serial_sumsq,
	serial_sum,	    serial_init_image, serial_stencil3, serial_sum_f32,
};
#ifdef BRG_BENCH_HAVE_OPENMP
static const struct flavour openmp = {
	omp_init_stream, omp_triad,	 omp_dot,      omp_sumsq,
	omp_sum,	 omp_init_image, omp_stencil3, omp_sum_f32,
};
#endif

/* The data of the current command's kind; the others are freed. */
enum data_kind { D_NONE, D_STREAM, D_IMAGE, D_GEMM, D_IMB };

struct settings {
	const char *impl;
	int workers;
	size_t n, rows, cols, gemm_n, claim_n, imb_n;
	int empty_batch, pfor_batch;
	const struct flavour *loops;
	int threads; /* what the runtime says it uses */
	int openblas, openmp;
	enum data_kind kind;
	double *a, *b, *c; /* D_STREAM: a, b, c; D_GEMM: A, B, C; D_IMB: a, the output */
	float *in, *out;   /* D_IMAGE */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_error(const struct settings *s, const char *kernel, const char *msg)
{
	printf("{\"kernel\": \"%s\", \"impl\": \"%s\", \"workers\": %d, \"error\": \"%s\"}\n",
	       kernel, s->impl, s->workers, msg);
	fflush(stdout);
}

static void print_skipped(const struct settings *s, const char *kernel, const char *why)
{
	printf("{\"kernel\": \"%s\", \"impl\": \"%s\", \"workers\": %d, "
	       "\"skipped\": \"%s\"}\n",
	       kernel, s->impl, s->workers, why);
	fflush(stdout);
}

static void print_record(const struct settings *s, const char *kernel, size_t n,
			 const double *samples, int count, double value)
{
	printf("{\"kernel\": \"%s\", \"impl\": \"%s\", \"workers\": %d, \"n\": %zu, "
	       "\"threads\": %d, \"samples\": [",
	       kernel, s->impl, s->workers, n, s->threads);
	for (int i = 0; i < count; i++)
		printf("%s%.9g", i ? ", " : "", samples[i]);
	printf("], \"value\": %.17g}\n", value);
	fflush(stdout);
}

/* On 2 MiB pages where the kernel gives them, as brigade's arrays are (collapsed at creation)
 * and numpy's (it madvises arrays of 4 MiB and more): the comparison is of loops, not of page
 * sizes.  The pages are left untouched for the flavour's own first touch. */
static void *alloc_bytes(size_t bytes)
{
	const size_t huge = (size_t)2 << 20;
	size_t len = (bytes + huge - 1) / huge * huge;
	void *p = aligned_alloc(huge, len);
	if (p)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/* ---- first touch for the OpenBLAS peer: plain threads over contiguous ranges, the way
 * OpenBLAS splits a vector (no OpenMP threads may exist in this process) ---- */
struct touch {
	int what; /* 0: stream a, b, c; 1: gemm A, B, C */
	double *a, *b, *c;
	size_t n, lo, hi;
};

static void *touch_thread(void *p)
{
	struct touch *t = p;
	if (t->what == 0 && !t->a) { /* OpenBLAS has no triad: no a */
		for (size_t i = t->lo; i < t->hi; i++) {
			t->b[i] = bench_init_b(i);
			t->c[i] = bench_init_c(i);
		}
	} else if (t->what == 0)
		serial_init_stream(t->a, t->b, t->c, t->lo, t->hi);
	else
		serial_init_gemm(t->a, t->b, t->c, t->n, t->lo, t->hi);
	return NULL;
}

static void touch_parallel(int workers, struct touch proto, size_t count)
{
	enum { MAXT = 256 };
	pthread_t tid[MAXT];
	int started[MAXT] = {0};
	struct touch t[MAXT];
	if (workers > MAXT)
		workers = MAXT;
	for (int i = 0; i < workers; i++) {
		t[i] = proto;
		t[i].lo = count * (size_t)i / (size_t)workers;
		t[i].hi = count * (size_t)(i + 1) / (size_t)workers;
	}
	for (int i = 1; i < workers; i++)
		started[i] = pthread_create(&tid[i], NULL, touch_thread, &t[i]) == 0;
	touch_thread(&t[0]);
	for (int i = 1; i < workers; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			touch_thread(&t[i]); /* no thread: the range is touched here */
	}
}

/* ---- the data: made on a kernel's first command, kept while the commands need them ---- */

static void data_free(struct settings *s)
{
	free(s->a);
	free(s->b);
	free(s->c);
	free(s->in);
	free(s->out);
	s->a = s->b = s->c = NULL;
	s->in = s->out = NULL;
	s->kind = D_NONE;
}

/* Makes the data of `kind` (freeing others); 0, or -1 without memory. */
static int data_need(struct settings *s, enum data_kind kind)
{
	if (s->kind == kind)
		return 0;
	data_free(s);
	if (kind == D_STREAM) {
		size_t n = s->n;
		/* OpenBLAS has no triad: a is not made (plan.c counts on it) */
		s->a = s->openblas ? NULL : alloc_bytes(n * 8);
		s->b = alloc_bytes(n * 8);
		s->c = alloc_bytes(n * 8);
		if ((!s->a && !s->openblas) || !s->b || !s->c)
			goto oom;
		/* First touch by the threads that compute on each range. */
		if (s->openblas)
			touch_parallel(s->workers, (struct touch){0, s->a, s->b, s->c, n, 0, 0}, n);
		else
			s->loops->init_stream(s->a, s->b, s->c, 0, n);
	} else if (kind == D_IMAGE) {
		size_t n = s->rows * s->cols;
		s->in = alloc_bytes(n * 4);
		s->out = alloc_bytes(n * 4);
		if (!s->in || !s->out)
			goto oom;
		s->loops->init_image(s->in, s->rows, s->cols, 0, n);
		/* The output is first touched by the same rows of the same threads as the
		 * stencil. */
		s->loops->stencil3(s->out, s->in, s->rows, s->cols, bench_stencil_w);
	} else if (kind == D_IMB) {
		/* A few KiB: no pages to place. */
		s->a = calloc(s->imb_n ? s->imb_n : 1, sizeof *s->a);
		if (!s->a)
			goto oom;
	} else if (kind == D_GEMM) {
		size_t n = s->gemm_n;
		s->a = alloc_bytes(n * n * 8);
		s->b = alloc_bytes(n * n * 8);
		s->c = alloc_bytes(n * n * 8);
		if (!s->a || !s->b || !s->c)
			goto oom;
		touch_parallel(s->workers, (struct touch){1, s->a, s->b, s->c, n, 0, 0}, n * n);
	}
	s->kind = kind;
	return 0;
oom:
	data_free(s);
	return -1;
}

/* ---- the kernels: one run each (the caller times it); returns the result where there is
 * one ---- */

static double op_triad(struct settings *s)
{
	s->loops->triad(s->a, s->b, BENCH_TRIAD_SCALAR, s->c, s->n);
	return 0;
}

static double op_dot(struct settings *s)
{
#ifdef BRG_BENCH_HAVE_OPENBLAS
	if (s->openblas)
		return cblas_ddot((int)s->n, s->b, 1, s->c, 1);
#endif
	return s->loops->dot(s->b, s->c, s->n);
}

static double op_sumsq(struct settings *s)
{
#ifdef BRG_BENCH_HAVE_OPENBLAS
	if (s->openblas)
		return cblas_ddot((int)s->n, s->b, 1, s->b, 1);
#endif
	return s->loops->sumsq(s->b, s->n);
}

static double op_stencil3(struct settings *s)
{
	s->loops->stencil3(s->out, s->in, s->rows, s->cols, bench_stencil_w);
	return 0;
}

#ifdef BRG_BENCH_HAVE_OPENBLAS
static double op_dgemm(struct settings *s)
{
	int n = (int)s->gemm_n;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, s->a, n, s->b, n, 0.0,
		    s->c, n);
	return 0;
}
#else
#define op_dgemm NULL
#endif

#ifdef BRG_BENCH_HAVE_OPENMP
/* empty_batch empty parallel regions: the team wakes and joins; the asm keeps the region from
 * being optimised away.  The sample is per region. */
static double op_empty(struct settings *s)
{
	for (int j = 0; j < s->empty_batch; j++) {
#pragma omp parallel
		__asm__ volatile("" ::: "memory");
	}
	return 0;
}

/* claim_n empty iterations handed out one at a time.  The sample is per iteration. */
static double op_claim(struct settings *s)
{
	long n = (long)s->claim_n;
#pragma omp parallel for schedule(dynamic, 1)
	for (long k = 0; k < n; k++)
		__asm__ volatile("" ::: "memory");
	return 0;
}

/* EPCC's barrier: one region whose team passes empty_batch barriers.  The sample is per
 * barrier (the region's start and end are shared among them). */
static double op_barrier(struct settings *s)
{
	int count = s->empty_batch;
#pragma omp parallel
	for (int j = 0; j < count; j++) {
#pragma omp barrier
	}
	return 0;
}

/* EPCC's parallel for: pfor_batch loops of 128 iterations per thread, handed out one at a time,
 * each iteration empty.  The sample is per loop: its region, its hand-out and its join. */
static double op_pfor(struct settings *s)
{
	long n = 128L * s->workers;
	for (int j = 0; j < s->pfor_batch; j++) {
#pragma omp parallel for schedule(dynamic, 1)
		for (long k = 0; k < n; k++)
			__asm__ volatile("" ::: "memory");
	}
	return 0;
}

/* The imbalance loops: the cost of index i grows with i (loops.h), one schedule each; the
 * schedule is the pragma's text, so one macro writes the three. */
#define BRG_BENCH_STR(x) #x
#define IMB_OP(name, ...)                                                                    \
	static double op_imb_##name(struct settings *s)                                       \
	{                                                                                     \
		long n = (long)s->imb_n;                                                      \
		double *out = s->a;                                                           \
		_Pragma(BRG_BENCH_STR(omp parallel for schedule(__VA_ARGS__)))                \
		for (long i = 0; i < n; i++)                                                  \
			out[i] = bench_imb_index((size_t)i);                                  \
		return 0;                                                                     \
	}
IMB_OP(dynamic, dynamic, 1)
IMB_OP(guided, guided)
IMB_OP(static, static)
#else /* the openmp peer skips every command; the others have none of these */
#define op_empty NULL
#define op_claim NULL
#define op_barrier NULL
#define op_pfor NULL
#define op_imb_dynamic NULL
#define op_imb_guided NULL
#define op_imb_static NULL
#endif

/* What a kernel's value is after its runs: its result, or the sum of its output. */
enum value_of { V_RESULT, V_SUM_A, V_SUM_OUT, V_SUM_C, V_SUM_IMB, V_ZERO };

/* What one sample is: a run, or a share of it (an operation of a batch, a chunk). */
enum per_of { PER_RUN, PER_EMPTY_BATCH, PER_CLAIM, PER_PFOR_BATCH };

/* Which peers have a kernel: all (the OpenBLAS peer may still skip it: not_openblas), the
 * OpenMP ones, or the OpenBLAS one alone. */
enum only_of { ALL, ONLY_OPENMP, ONLY_OPENBLAS };

struct kernel_info {
	const char *name;
	enum data_kind data;
	double (*op)(struct settings *);
	enum value_of value;
	enum per_of per;
	enum only_of only;
	const char *not_openblas; /* why the OpenBLAS peer has not, or NULL */
};

static const struct kernel_info kernel_table[] = {
	{"triad", D_STREAM, op_triad, V_SUM_A, PER_RUN, ALL, "OpenBLAS has no triad"},
	{"dot", D_STREAM, op_dot, V_RESULT, PER_RUN, ALL, NULL},
	{"sumsq", D_STREAM, op_sumsq, V_RESULT, PER_RUN, ALL, NULL},
	{"stencil3", D_IMAGE, op_stencil3, V_SUM_OUT, PER_RUN, ALL, "no OpenBLAS stencil"},
	{"dgemm", D_GEMM, op_dgemm, V_SUM_C, PER_RUN, ONLY_OPENBLAS, NULL},
	{"empty", D_NONE, op_empty, V_ZERO, PER_EMPTY_BATCH, ONLY_OPENMP, NULL},
	{"claim", D_NONE, op_claim, V_ZERO, PER_CLAIM, ONLY_OPENMP, NULL},
	{"barrier", D_NONE, op_barrier, V_ZERO, PER_EMPTY_BATCH, ONLY_OPENMP, NULL},
	{"pfor", D_NONE, op_pfor, V_ZERO, PER_PFOR_BATCH, ONLY_OPENMP, NULL},
	{"imb-dynamic", D_IMB, op_imb_dynamic, V_SUM_IMB, PER_RUN, ONLY_OPENMP, NULL},
	{"imb-guided", D_IMB, op_imb_guided, V_SUM_IMB, PER_RUN, ONLY_OPENMP, NULL},
	{"imb-static", D_IMB, op_imb_static, V_SUM_IMB, PER_RUN, ONLY_OPENMP, NULL},
};

/* One command: one warm-up run, `repeat` timed runs, one line. */
static void serve(struct settings *s, const char *kernel, int repeat)
{
	const struct kernel_info *k = NULL;
#ifndef BRG_BENCH_HAVE_OPENMP
	if (s->openmp) {
		print_skipped(s, kernel, "brigade was built without OpenMP");
		return;
	}
#endif
	for (size_t i = 0; i < sizeof kernel_table / sizeof kernel_table[0] && !k; i++)
		if (!strcmp(kernel, kernel_table[i].name))
			k = &kernel_table[i];
	if (!k) {
		print_error(s, kernel, "no such kernel");
		return;
	}
	if (s->openblas && k->not_openblas) {
		print_skipped(s, kernel, k->not_openblas);
		return;
	}
	if ((k->only == ONLY_OPENMP && !s->openmp) || (k->only == ONLY_OPENBLAS && !s->openblas)) {
		char why[96];
		snprintf(why, sizeof why, "only the %s ha%s %s",
			 k->only == ONLY_OPENMP ? "OpenMP peers" : "openblas peer",
			 k->only == ONLY_OPENMP ? "ve" : "s", kernel);
		print_error(s, kernel, why);
		return;
	}
	if (!k->op) { /* dgemm in the libomp build, which has no OpenBLAS */
		print_error(s, kernel, "not built into this peer");
		return;
	}
	if (data_need(s, k->data)) {
		print_error(s, kernel, "out of memory");
		return;
	}
	double per = k->per == PER_EMPTY_BATCH	 ? (double)s->empty_batch
		     : k->per == PER_CLAIM	 ? (double)s->claim_n
		     : k->per == PER_PFOR_BATCH ? (double)s->pfor_batch
						 : 1.0;
	size_t n = k->data == D_STREAM ? s->n
		   : k->data == D_IMAGE ? s->rows * s->cols
		   : k->data == D_GEMM	? s->gemm_n
		   : k->data == D_IMB	? s->imb_n
		   : k->per == PER_CLAIM ? s->claim_n
		   : !strcmp(kernel, "pfor") ? 128 * (size_t)s->workers
						: (size_t)s->workers;
	double samples[64], value = 0;
	for (int i = -1; i < repeat; i++) { /* i = -1: the warm-up */
		/* Each run of an imbalance loop starts from zeros, so the value checks the last
		 * run alone: an index it skipped would not be hidden by an earlier run's. */
		if (k->data == D_IMB)
			memset(s->a, 0, s->imb_n * sizeof *s->a);
		double t0 = now();
		value = k->op(s);
		if (i >= 0)
			samples[i] = (now() - t0) / per;
	}
	switch (k->value) {
	case V_RESULT:
	case V_ZERO:
		break;
	case V_SUM_A:
		value = s->loops->sum(s->a, s->n);
		break;
	case V_SUM_OUT:
		value = s->loops->sum_f32(s->out, s->rows * s->cols);
		break;
	case V_SUM_C:
		value = serial_sum(s->c, s->gemm_n * s->gemm_n);
		break;
	case V_SUM_IMB:
		value = serial_sum(s->a, s->imb_n);
		break;
	}
	print_record(s, kernel, n, samples, repeat, value);
}

#ifdef BRG_BENCH_LIBOMP
#define USAGE_HEAD "usage: brigade-bench-peer-libomp --impl openmp-llvm"
#else
#define USAGE_HEAD "usage: brigade-bench-peer --impl serial|openmp|openblas"
#endif
static const char usage[] =
	USAGE_HEAD " --workers N [--n N] [--rows R]\n"
	"         [--cols C] [--gemm-n N] [--claim-n N] [--empty-batch B] [--pfor-batch B]\n"
	"         [--imb-n N]\n"
	"A helper of `brigade bench`: prints a ready line, then runs each command of stdin,\n"
	"\"KERNEL REPEAT\" (triad dot sumsq stencil3 dgemm empty claim barrier pfor imb-dynamic\n"
	"imb-guided imb-static; REPEAT 1 to 64), and prints its samples as one JSON line;\n"
	"\"drop\" frees the data it keeps.\n";

static int parse_size(const char *text, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || !*text || *end || text[0] == '-')
		return -1;
	*out = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"impl", required_argument, NULL, 'i'},
		{"workers", required_argument, NULL, 'w'},
		{"n", required_argument, NULL, 'n'},
		{"rows", required_argument, NULL, 'r'},
		{"cols", required_argument, NULL, 'c'},
		{"gemm-n", required_argument, NULL, 'g'},
		{"claim-n", required_argument, NULL, 'C'},
		{"empty-batch", required_argument, NULL, 'E'},
		{"pfor-batch", required_argument, NULL, 'P'},
		{"imb-n", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct settings s = {
		.workers = 1,
		.n = 1 << 22,
		.rows = 2048,
		.cols = 4096,
		.gemm_n = 1024,
		.claim_n = 1000000,
		.imb_n = 2048,
		.empty_batch = 1000,
		.pfor_batch = 100,
	};
	int c;
	size_t v;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c == 'i') {
			s.impl = optarg;
			continue;
		}
		if (c == '?' || parse_size(optarg, &v)) {
			fputs(usage, stderr);
			return 2;
		}
		switch (c) {
		case 'w':
			s.workers = (int)v;
			break;
		case 'n':
			s.n = v;
			break;
		case 'r':
			s.rows = v;
			break;
		case 'c':
			s.cols = v;
			break;
		case 'g':
			s.gemm_n = v;
			break;
		case 'C':
			s.claim_n = v ? v : 1;
			break;
		case 'E':
			s.empty_batch = (int)v ? (int)v : 1;
			break;
		case 'P':
			s.pfor_batch = (int)v ? (int)v : 1;
			break;
		case 'I':
			s.imb_n = v;
			break;
		}
	}
	if (!s.impl || s.workers < 1 || optind < argc) {
		fputs(usage, stderr);
		return 2;
	}

#ifdef BRG_BENCH_LIBOMP
	s.openblas = 0;
	s.openmp = !strcmp(s.impl, OPENMP_IMPL);
	if (!s.openmp) {
		fputs(usage, stderr);
		return 2;
	}
#else
	s.openblas = !strcmp(s.impl, "openblas");
	s.openmp = !strcmp(s.impl, OPENMP_IMPL);
#endif
	if (!strcmp(s.impl, "serial")) {
		s.loops = &serial;
		s.threads = 1;
	} else if (s.openmp) {
#ifdef BRG_BENCH_HAVE_OPENMP
		s.loops = &openmp;
		/* Starts the team, so no command pays for it. */
#pragma omp parallel
#pragma omp single
		s.threads = omp_get_num_threads();
#else
		s.loops = &serial; /* unused: serve() skips every command */
		s.threads = 0;
#endif
	} else if (s.openblas) {
		s.loops = &serial; /* first touch of the image and the untimed sums */
#ifdef BRG_BENCH_HAVE_OPENBLAS
		openblas_set_num_threads(s.workers);
		s.threads = openblas_get_num_threads();
#endif
	} else {
		fputs(usage, stderr);
		return 2;
	}
	printf("{\"ready\": true, \"impl\": \"%s\", \"workers\": %d, \"threads\": %d}\n", s.impl,
	       s.workers, s.threads);
	fflush(stdout);

	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		char kernel[32];
		int repeat;
		if (!strcmp(line, "drop\n")) {
			data_free(&s);
			printf("{\"dropped\": true}\n");
			fflush(stdout);
			continue;
		}
		if (sscanf(line, "%31s %d", kernel, &repeat) != 2 || repeat < 1 || repeat > 64) {
			print_error(&s, "?", "bad command (want: KERNEL REPEAT, REPEAT 1 to 64)");
			continue;
		}
		serve(&s, kernel, repeat);
	}
	data_free(&s);
	return 0;
}
