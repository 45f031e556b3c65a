/* SPDX-License-Identifier: MIT */
/* peer.c - brigade-bench-peer: the serial, OpenMP and OpenBLAS peers of `brigade bench`, run in
 * a process of their own so their spinning threads never share cores with brigade's workers.
 *
 * usage: brigade-bench-peer --impl serial|openmp|openblas --workers N --kernels K1,K2...
 *          --n N --rows R --cols C --gemm-n N --repeat R --repeat-gemm R --claim-n N
 *          --empty-batch B
 * Prints one JSON object per line on stdout for each kernel: kernel, impl, workers, n,
 * samples (seconds per operation, after one warm-up run), value (the result, or the sum of
 * the output, for the caller's check), threads; or kernel and error.  The caller sets the
 * CPU affinity and OMP_* / OPENBLAS_NUM_THREADS. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cblas.h>
#ifdef BRG_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

#include "loops.h"

#define BENCH_LOOP(name) serial_##name
/* Compiled for the instruction sets brigade's kernels are (engine/kernels.h) and picked at
 * load time, so that a comparison measures the parallel machinery, not the vector width.  Not
 * every flavour uses every loop (OpenMP never first-touches dgemm data). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
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

struct settings {
	const char *impl;
	int workers;
	char kernels[256];
	size_t n, rows, cols, gemm_n, claim_n;
	int repeat, repeat_gemm, empty_batch;
	const struct flavour *loops;
	int threads; /* what the runtime says it uses */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int wants(const struct settings *s, const char *kernel)
{
	size_t len = strlen(kernel);
	for (const char *p = s->kernels; *p;) {
		size_t l = strcspn(p, ",");
		if (l == len && !strncmp(p, kernel, len))
			return 1;
		p += l + (p[l] == ',');
	}
	return 0;
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
	if (t->what == 0)
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

/* ---- the measurements ---- */

struct stream {
	double *a, *b, *c;
	size_t n;
};

static void run_stream(struct settings *s)
{
	size_t n = s->n;
	struct stream d = {alloc_bytes(n * 8), alloc_bytes(n * 8), alloc_bytes(n * 8), n};
	const char *k3[3] = {"triad", "dot", "sumsq"};
	int openblas = !strcmp(s->impl, "openblas");
	if (!d.a || !d.b || !d.c) {
		for (int k = 0; k < 3; k++)
			if (wants(s, k3[k]))
				print_error(s, k3[k], "out of memory");
		goto out;
	}
	if (openblas)
		touch_parallel(s->workers, (struct touch){0, d.a, d.b, d.c, n, 0, 0}, n);
	else
		s->loops->init_stream(d.a, d.b, d.c, 0, n);
	double samples[64];
	int R = s->repeat;
	for (int k = 0; k < 3; k++) {
		if (!wants(s, k3[k]))
			continue;
		if (openblas && k == 0) {
			print_skipped(s, "triad", "OpenBLAS has no triad");
			continue;
		}
		double value = 0;
		for (int i = -1; i < R; i++) { /* i = -1: the warm-up */
			double t0 = now();
			switch (k) {
			case 0:
				s->loops->triad(d.a, d.b, BENCH_TRIAD_SCALAR, d.c, n);
				break;
			case 1:
				value = openblas ? cblas_ddot((int)n, d.b, 1, d.c, 1)
						 : s->loops->dot(d.b, d.c, n);
				break;
			case 2:
				value = openblas ? cblas_ddot((int)n, d.b, 1, d.b, 1)
						 : s->loops->sumsq(d.b, n);
				break;
			}
			if (i >= 0)
				samples[i] = now() - t0;
		}
		if (k == 0)
			value = s->loops->sum(d.a, n);
		print_record(s, k3[k], n, samples, R, value);
	}
out:
	free(d.a);
	free(d.b);
	free(d.c);
}

static void run_stencil(struct settings *s)
{
	size_t rows = s->rows, cols = s->cols, n = rows * cols;
	float *in = alloc_bytes(n * 4), *out = alloc_bytes(n * 4);
	if (!in || !out) {
		print_error(s, "stencil3", "out of memory");
		goto out;
	}
	s->loops->init_image(in, rows, cols, 0, n);
	/* The output is first touched by the same rows of the same threads as the stencil. */
	s->loops->stencil3(out, in, rows, cols, bench_stencil_w);
	double samples[64];
	for (int i = 0; i < s->repeat; i++) {
		double t0 = now();
		s->loops->stencil3(out, in, rows, cols, bench_stencil_w);
		samples[i] = now() - t0;
	}
	print_record(s, "stencil3", n, samples, s->repeat, s->loops->sum_f32(out, n));
out:
	free(in);
	free(out);
}

static void run_gemm(struct settings *s)
{
	size_t n = s->gemm_n;
	double *a = alloc_bytes(n * n * 8), *b = alloc_bytes(n * n * 8),
	       *c = alloc_bytes(n * n * 8);
	if (!a || !b || !c) {
		print_error(s, "dgemm", "out of memory");
		goto out;
	}
	touch_parallel(s->workers, (struct touch){1, a, b, c, n, 0, 0}, n * n);
	double samples[64];
	for (int i = -1; i < s->repeat_gemm; i++) {
		double t0 = now();
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0,
			    a, (int)n, b, (int)n, 0.0, c, (int)n);
		if (i >= 0)
			samples[i] = now() - t0;
	}
	print_record(s, "dgemm", n, samples, s->repeat_gemm, serial_sum(c, n * n));
out:
	free(a);
	free(b);
	free(c);
}

#ifdef BRG_BENCH_HAVE_OPENMP
/* An empty parallel region: the team wakes and joins; the asm keeps the region from being
 * optimised away. */
static void run_omp_empty(struct settings *s)
{
	double samples[64];
	int batch = s->empty_batch;
	for (int i = -1; i < s->repeat; i++) {
		double t0 = now();
		for (int j = 0; j < batch; j++) {
#pragma omp parallel
			__asm__ volatile("" ::: "memory");
		}
		if (i >= 0)
			samples[i] = (now() - t0) / batch;
	}
	print_record(s, "empty", (size_t)s->workers, samples, s->repeat, 0);
}

/* claim_n empty iterations handed out one at a time. */
static void run_omp_claim(struct settings *s)
{
	double samples[64];
	long n = (long)s->claim_n;
	for (int i = -1; i < s->repeat; i++) {
		double t0 = now();
#pragma omp parallel for schedule(dynamic, 1)
		for (long k = 0; k < n; k++)
			__asm__ volatile("" ::: "memory");
		if (i >= 0)
			samples[i] = (now() - t0) / (double)n;
	}
	print_record(s, "claim", s->claim_n, samples, s->repeat, 0);
}
#endif

static const char usage[] =
	"usage: brigade-bench-peer --impl serial|openmp|openblas --workers N --kernels LIST\n"
	"         [--n N] [--rows R] [--cols C] [--gemm-n N] [--repeat R] [--repeat-gemm R]\n"
	"         [--claim-n N] [--empty-batch B]\n"
	"A helper of `brigade bench`: runs one implementation's kernels, prints JSON lines.\n";

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
		{"kernels", required_argument, NULL, 'k'},
		{"n", required_argument, NULL, 'n'},
		{"rows", required_argument, NULL, 'r'},
		{"cols", required_argument, NULL, 'c'},
		{"gemm-n", required_argument, NULL, 'g'},
		{"repeat", required_argument, NULL, 'R'},
		{"repeat-gemm", required_argument, NULL, 'G'},
		{"claim-n", required_argument, NULL, 'C'},
		{"empty-batch", required_argument, NULL, 'E'},
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
		.repeat = 5,
		.repeat_gemm = 3,
		.empty_batch = 1000,
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
		if (c == 'k') {
			snprintf(s.kernels, sizeof s.kernels, "%s", optarg);
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
		case 'R':
			s.repeat = (int)v;
			break;
		case 'G':
			s.repeat_gemm = (int)v;
			break;
		case 'C':
			s.claim_n = v;
			break;
		case 'E':
			s.empty_batch = (int)v ? (int)v : 1;
			break;
		}
	}
	if (!s.impl || s.workers < 1 || s.repeat < 1 || s.repeat > 64 || s.repeat_gemm < 1 ||
	    s.repeat_gemm > 64 || optind < argc) {
		fputs(usage, stderr);
		return 2;
	}

	if (!strcmp(s.impl, "serial")) {
		s.loops = &serial;
		s.threads = 1;
	} else if (!strcmp(s.impl, "openmp")) {
#ifdef BRG_BENCH_HAVE_OPENMP
		s.loops = &openmp;
#pragma omp parallel
#pragma omp single
		s.threads = omp_get_num_threads();
#else
		for (const char *k = s.kernels; *k;) {
			char name[32];
			size_t l = strcspn(k, ",");
			snprintf(name, sizeof name, "%.*s", (int)(l < 31 ? l : 31), k);
			print_skipped(&s, name, "brigade was built without OpenMP");
			k += l + (k[l] == ',');
		}
		return 0;
#endif
	} else if (!strcmp(s.impl, "openblas")) {
		s.loops = &serial; /* only the untimed sums */
		openblas_set_num_threads(s.workers);
		s.threads = openblas_get_num_threads();
	} else {
		fputs(usage, stderr);
		return 2;
	}

	int blas = !strcmp(s.impl, "openblas"), omp = !strcmp(s.impl, "openmp");
	if (wants(&s, "triad") || wants(&s, "dot") || wants(&s, "sumsq"))
		run_stream(&s);
	if (wants(&s, "stencil3")) {
		if (blas)
			print_skipped(&s, "stencil3", "no OpenBLAS stencil");
		else
			run_stencil(&s);
	}
	if (wants(&s, "dgemm")) {
		if (blas)
			run_gemm(&s);
		else
			print_skipped(&s, "dgemm", "only the OpenBLAS peer has a dgemm");
	}
	if (wants(&s, "empty") || wants(&s, "claim")) {
#ifdef BRG_BENCH_HAVE_OPENMP
		if (omp && wants(&s, "empty"))
			run_omp_empty(&s);
		if (omp && wants(&s, "claim"))
			run_omp_claim(&s);
#endif
		if (!omp)
			print_error(&s, wants(&s, "empty") ? "empty" : "claim",
				    "only the OpenMP peer has empty and claim");
	}
	return 0;
}
