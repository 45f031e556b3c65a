/* SPDX-License-Identifier: MIT */
/* measure.c - clocks, the warm-up/check/repeat loop, statistics, and the store of records. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void bench_rec_finish(struct bench_rec *rec)
{
	double v[BENCH_MAX_SAMPLES];
	int n = rec->nsamples;
	memcpy(v, rec->samples, (size_t)n * sizeof *v);
	rec->median_s = bench_median(v, n);
	rec->min_s = n ? v[0] : NAN;
	rec->max_s = n ? v[n - 1] : NAN;
	const struct bench_kernel_info *k = &bench_kernels[rec->kernel];
	double m = rec->median_s, n_ = (double)rec->n;
	switch (k->metric) {
	case BM_BYTES:
		rec->rate = k->bytes_per_elem * n_ / m * 1e-9;
		break;
	case BM_FLOPS:
		rec->rate = 2.0 * n_ * n_ * n_ / m * 1e-9;
		break;
	case BM_US:
		rec->rate = m * 1e6;
		break;
	case BM_NS:
		rec->rate = m * 1e9;
		break;
	case BM_STEPS:
		rec->rate = bench_imb_steps(rec->n) / m * 1e-9;
		break;
	}
	rec->status = BS_OK;
}

int bench_measure(struct bench_rec *rec, bench_op_fn op, void *ctx, bench_check_fn check,
		  int repeat, int batch, double per)
{
	/* The warm-up maps pages, fills caches and TLBs and wakes sleeping workers; its result
	 * is the one that is checked. */
	int r = op(ctx);
	if (r)
		return r;
	if (check && (r = check(ctx, rec)))
		return r;
	for (int k = 0; k < repeat; k++) {
		double t0 = bench_now();
		for (int j = 0; j < batch; j++)
			if ((r = op(ctx)))
				return r;
		if (rec->nsamples < BENCH_MAX_SAMPLES)
			rec->samples[rec->nsamples++] = (bench_now() - t0) / batch / per;
	}
	return 0;
}

void bench_rec_init(struct bench_rec *rec, int kernel, int impl, int workers, size_t n)
{
	memset(rec, 0, sizeof *rec);
	rec->kernel = kernel;
	rec->impl = impl;
	rec->workers = workers;
	rec->n = n;
	rec->median_s = rec->min_s = rec->max_s = rec->rate = NAN;
	rec->value = NAN;
	rec->speedup = rec->efficiency = rec->of_limit = NAN;
	rec->status = BS_FAILED; /* until it has numbers */
}

void bench_rec_fail(struct bench_rec *rec, enum bench_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rec->note, sizeof rec->note, fmt, ap);
	va_end(ap);
	rec->status = status;
	rec->nsamples = 0;
	rec->median_s = rec->min_s = rec->max_s = rec->rate = NAN;
}

struct bench_rec *bench_results_add(struct bench_results *res, const struct bench_rec *rec)
{
	/* A later round of the same measurement adds its samples to the first one's record:
	 * the median is then taken over every round, whose runs sit minutes apart. */
	if (rec->status == BS_OK) {
		for (size_t i = 0; i < res->n; i++) {
			struct bench_rec *r = &res->v[i];
			if (r->status != BS_OK || r->kernel != rec->kernel || r->impl != rec->impl ||
			    r->workers != rec->workers || r->first != rec->first || r->n != rec->n)
				continue;
			for (int k = 0; k < rec->nsamples && r->nsamples < BENCH_MAX_SAMPLES; k++)
				r->samples[r->nsamples++] = rec->samples[k];
			if (r->nrounds < BENCH_MAX_ROUNDS)
				r->round_rate[r->nrounds++] = rec->rate;
			bench_rec_finish(r);
			return r;
		}
	}
	/* A skip says the same in every round: once is enough. */
	for (size_t i = 0; rec->status == BS_SKIPPED && i < res->n; i++) {
		struct bench_rec *r = &res->v[i];
		if (r->status == BS_SKIPPED && r->kernel == rec->kernel && r->impl == rec->impl &&
		    r->workers == rec->workers && !strcmp(r->note, rec->note))
			return r;
	}
	if (res->n == res->cap) {
		size_t ncap = res->cap ? 2 * res->cap : 64;
		struct bench_rec *nv = realloc(res->v, ncap * sizeof *nv);
		if (!nv)
			return NULL;
		res->v = nv;
		res->cap = ncap;
	}
	res->v[res->n] = *rec;
	if (rec->status == BS_OK) {
		res->v[res->n].nrounds = 1;
		res->v[res->n].round_rate[0] = rec->rate;
	}
	return &res->v[res->n++];
}

const struct bench_rec *bench_results_find(const struct bench_results *res, int kernel, int impl,
					   int workers)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct bench_rec *r = &res->v[i];
		if (r->kernel == kernel && r->impl == impl && r->workers == workers && !r->first &&
		    r->status == BS_OK)
			return r;
	}
	return NULL;
}

void bench_results_free(struct bench_results *res)
{
	free(res->v);
	res->v = NULL;
	res->n = res->cap = 0;
}

void bench_note(struct bench_results *res, const char *fmt, ...)
{
	char buf[sizeof res->notes[0]];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (int i = 0; i < res->nnotes; i++)
		if (!strcmp(res->notes[i], buf))
			return;
	if (res->nnotes < (int)(sizeof res->notes / sizeof res->notes[0]))
		memcpy(res->notes[res->nnotes++], buf, sizeof buf);
}

void bench_report(struct bench_results *res, struct bench_rec *rec, int code)
{
	const char *kname = rec->first ? "start (first)" : bench_kernels[rec->kernel].name;
	const char *iname = bench_impl_names[rec->impl];
	if (code == 0 && rec->status == BS_SKIPPED) {
		bench_results_add(res, rec);
		bench_progress("%-15s %-13s %d worker(s): skipped: %s", iname, kname, rec->workers,
			       rec->note);
		return;
	}
	if (code == 0) {
		bench_results_add(res, rec);
		char t[32];
		bench_format_time(t, sizeof t, rec->median_s);
		bench_progress("%-15s %-13s %d worker(s): %s, %.4g %s%s%s", iname, kname,
			       rec->workers, t, rec->rate,
			       bench_metric_unit(bench_kernels[rec->kernel].metric),
			       rec->note[0] ? "; " : "", rec->note);
		return;
	}
	/* A failed check, or a caller that knows more, wrote the message already. */
	if (!rec->note[0])
		bench_rec_fail(rec, BS_FAILED, "%s (%s)", brg_strerror(code), brg_err_name(code));
	rec->status = BS_FAILED;
	bench_results_add(res, rec);
	res->failures++;
	bench_progress("%-15s %-13s %d worker(s): FAILED: %s", iname, kname, rec->workers,
		       rec->note);
}

void bench_progress(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void bench_format_time(char *buf, size_t len, double s)
{
	if (isnan(s))
		snprintf(buf, len, "-");
	else if (s < 1e-6)
		snprintf(buf, len, "%.3g ns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, len, "%.3g us", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.3g ms", s * 1e3);
	else
		snprintf(buf, len, "%.3g s", s);
}
