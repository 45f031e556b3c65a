/* SPDX-License-Identifier: MIT */
/* report.c - what a run found, for people and programs: the machine, limits and ratios, text
 * and Markdown tables, CSV, one JSON document, and a gnuplot chart. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>

#include "bench.h"
#include "cli.h"

/* OpenBLAS's own declaration; cblas.h differs between its builds. */
char *openblas_get_config(void);

/* A row whose slowest run took this much longer than its fastest is marked. */
#define NOISY 1.25

/* ---- the machine ---- */

/* The selected mode of a sysfs choice file ("always [madvise] never" gives "madvise"). */
static void sysfs_choice(const char *path, char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen(path, "r");
	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(line, sizeof line, f)) {
		char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
		if (close)
			snprintf(buf, len, "%.*s", (int)(close - open - 1), open + 1);
	}
	fclose(f);
}

void bench_loadavg(char *buf, size_t len)
{
	char line[128] = "";
	FILE *f = fopen("/proc/loadavg", "r");
	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(line, sizeof line, f)) {
		double a, b, c;
		if (sscanf(line, "%lf %lf %lf", &a, &b, &c) == 3)
			snprintf(buf, len, "%.2f %.2f %.2f", a, b, c);
	}
	fclose(f);
}

void bench_machine_probe(struct bench_machine *m)
{
	memset(m, 0, sizeof *m);
	snprintf(m->cpu, sizeof m->cpu, "?");
	hwloc_topology_t t;
	if (hwloc_topology_init(&t) == 0) {
		if (hwloc_topology_load(t) == 0) {
			m->cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
			m->pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
			m->numa_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
			hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
			const char *model =
				pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
			if (model)
				snprintf(m->cpu, sizeof m->cpu, "%s", model);
			/* The last level: the largest cache hwloc knows of. */
			static const hwloc_obj_type_t levels[] = {
				HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L1CACHE};
			for (size_t i = 0; i < 3 && !m->llc_bytes; i++) {
				hwloc_obj_t c = hwloc_get_obj_by_type(t, levels[i], 0);
				if (c && c->attr)
					m->llc_bytes = (size_t)c->attr->cache.size;
			}
		}
		hwloc_topology_destroy(t);
	}
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *cfg = openblas_get_config();
	snprintf(m->openblas, sizeof m->openblas, "%s", cfg ? cfg : "?");
	char thp[24], shm[24];
	sysfs_choice("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
	sysfs_choice("/sys/kernel/mm/transparent_hugepage/shmem_enabled", shm, sizeof shm);
	snprintf(m->thp, sizeof m->thp, "anonymous %s, shmem %s", thp, shm);
	bench_loadavg(m->load_start, sizeof m->load_start);
	char info[200];
	if (bench_python_probe(info, sizeof info) == 1)
		snprintf(m->numpy, sizeof m->numpy, "%s", info);
	else
		snprintf(m->numpy, sizeof m->numpy, "unavailable: %s", info);
}

/* ---- derived numbers ---- */

void bench_derive(const struct bench_config *cfg, struct bench_results *res)
{
	(void)cfg;
	for (int w = 0; w <= BENCH_MAX_WORKERS; w++) {
		res->bw_limit[w] = 0;
		res->bw_limit_impl[w] = -1;
		res->flop_limit[w] = 0;
	}
	/* A limit is what the machine did at least once: the fastest run, not the median, so
	 * that other load during the reference measurement does not lower the bar. */
	for (size_t i = 0; i < res->n; i++) {
		const struct bench_rec *r = &res->v[i];
		if (r->kernel != BK_TRIAD || r->status != BS_OK)
			continue;
		double best = r->rate * r->median_s / r->min_s;
		if (best > res->bw_limit[r->workers]) {
			res->bw_limit[r->workers] = best;
			res->bw_limit_impl[r->workers] = r->impl;
		}
	}
	const struct bench_rec *blas1 = bench_results_find(res, BK_DGEMM, BI_OPENBLAS, 1);
	for (int w = 1; blas1 && w <= BENCH_MAX_WORKERS; w++)
		res->flop_limit[w] = blas1->rate * blas1->median_s / blas1->min_s * w;
	for (size_t i = 0; i < res->n; i++) {
		struct bench_rec *r = &res->v[i];
		r->speedup = r->efficiency = r->of_limit = NAN;
		if (r->status != BS_OK || r->first)
			continue;
		enum bench_metric m = bench_kernels[r->kernel].metric;
		if (bench_metric_latency(m))
			continue;
		const struct bench_rec *base = bench_results_find(res, r->kernel, r->impl, 1);
		if (base) {
			r->speedup = r->rate / base->rate;
			r->efficiency = r->speedup / r->workers;
		}
		double lim = m == BM_BYTES   ? res->bw_limit[r->workers]
			     : m == BM_FLOPS ? res->flop_limit[r->workers]
					     : 0;
		if (lim > 0)
			r->of_limit = r->rate / lim;
	}
}

/* How the ratio to brigade was taken. */
enum pairing { PAIR_NONE, PAIR_TURNS, PAIR_ROUNDS };
static const char *const pairing_names[] = {"none", "turns", "rounds"};

/* How many times faster brigade is than r at r's worker count; NAN when not comparable.
 * Where both took turns with the same number of timed runs: the median of the ratios of the
 * runs of the same turn, milliseconds apart (dgemm, a turn of several runs a side: run i with
 * run i, seconds apart).  Else, where both were measured in the same
 * rounds: the median of the rounds' own ratios, seconds apart.  Either way a slow spell of
 * the machine falls on both sides of a ratio.  Otherwise the ratio of the pooled medians.
 * pairs (may be NULL, BENCH_MAX_SAMPLES long) gets the ratios the median was taken of,
 * *npairs their count, *how the pairing. */
static double vs_brigade_pairs(const struct bench_results *res, const struct bench_rec *r,
			       double *pairs, int *npairs, enum pairing *how)
{
	double v[BENCH_MAX_SAMPLES];
	int n = 0;
	enum pairing h = PAIR_NONE;
	double ratio = NAN;
	const struct bench_rec *b = NULL;
	if (r->impl != BI_BRIGADE && r->status == BS_OK && !r->first)
		b = bench_results_find(res, r->kernel, BI_BRIGADE, r->workers);
	if (b) {
		int latency = bench_metric_latency(bench_kernels[r->kernel].metric);
		if (b->turns && r->turns && b->nsamples == r->nsamples && r->nsamples > 1) {
			/* Same n on both sides: the ratio of times is the ratio of rates. */
			h = PAIR_TURNS;
			for (n = 0; n < r->nsamples; n++)
				v[n] = r->samples[n] / b->samples[n];
		} else if (b->nrounds == r->nrounds && r->nrounds > 1) {
			h = PAIR_ROUNDS;
			for (n = 0; n < r->nrounds; n++)
				v[n] = latency ? r->round_rate[n] / b->round_rate[n]
					       : b->round_rate[n] / r->round_rate[n];
		} else {
			ratio = latency ? r->median_s / b->median_s : b->rate / r->rate;
		}
		if (n && pairs)
			memcpy(pairs, v, (size_t)n * sizeof *v);
		if (n)
			ratio = bench_median(v, n);
	}
	if (npairs)
		*npairs = pairs ? n : 0;
	if (how)
		*how = h;
	return ratio;
}

static double vs_brigade(const struct bench_results *res, const struct bench_rec *r)
{
	return vs_brigade_pairs(res, r, NULL, NULL, NULL);
}

/* For brigade's record of an imbalance loop: the better OpenMP peer's time over brigade's (> 1:
 * brigade faster), NAN when neither ran; *best names it.  The same schedule is compared where
 * the peers have it, as vs_brigade pairs it; brigade's auto, which OpenMP has not, with the
 * faster of the peers' dynamic and guided loops, by medians. */
static double vs_best_openmp(const struct bench_results *res, const struct bench_rec *b,
			     char *best, size_t len)
{
	static const int impls[] = {BI_OPENMP, BI_OPENMP_LLVM};
	int mine[] = {b->kernel}, from_auto[] = {BK_IMB_DYNAMIC, BK_IMB_GUIDED};
	int is_auto = b->kernel == BK_IMB_AUTO;
	const int *ks = is_auto ? from_auto : mine;
	int nk = is_auto ? 2 : 1;
	const struct bench_rec *fast = NULL;
	best[0] = 0;
	if (b->impl != BI_BRIGADE || !bench_kernel_imb(b->kernel) || b->status != BS_OK || b->first)
		return NAN;
	for (int i = 0; i < nk; i++) {
		for (size_t j = 0; j < sizeof impls / sizeof impls[0]; j++) {
			const struct bench_rec *r =
				bench_results_find(res, ks[i], impls[j], b->workers);
			if (r && (!fast || r->median_s < fast->median_s))
				fast = r;
		}
	}
	if (!fast)
		return NAN;
	/* "imb-guided" is "guided" here */
	snprintf(best, len, "%s%s%s", bench_impl_names[fast->impl], is_auto ? " " : "",
		 is_auto ? bench_kernels[fast->kernel].name + 4 : "");
	return is_auto ? fast->median_s / b->median_s : vs_brigade(res, fast);
}

/* ---- tables ---- */

enum { TCOLS = 9 };
static const char *const thead[TCOLS] = {
	"impl",	   "workers",	 "median",     "min-max",  "rate",
	"speedup", "efficiency", "vs brigade", "of limit",
};

struct table {
	char (*cell)[TCOLS][40];
	size_t nrows;
	char notes[64][300];
	int nnotes;
};

static int cmp_rec(const void *a, const void *b)
{
	const struct bench_rec *x = *(const struct bench_rec *const *)a,
			       *y = *(const struct bench_rec *const *)b;
	if (x->workers != y->workers)
		return x->workers - y->workers;
	if (x->impl != y->impl)
		return x->impl - y->impl;
	return x->first - y->first;
}

/* Seconds in the unit that suits `scale_of` (the median), without the unit: "28.4". */
static const char *time_unit(double s, double *factor)
{
	if (s < 1e-6) {
		*factor = 1e9;
		return "ns";
	}
	if (s < 1e-3) {
		*factor = 1e6;
		return "us";
	}
	if (s < 1) {
		*factor = 1e3;
		return "ms";
	}
	*factor = 1;
	return "s";
}

static void fmt_num(char *buf, size_t len, double v, const char *fmt)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, fmt, v);
}

/* Four significant digits, never in exponent form ("0.1435", "28.41", "73456"). */
static void fmt_sig(char *buf, size_t len, double v)
{
	if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 1e-3 || v == 0)
		snprintf(buf, len, "%.4g", v);
	else
		snprintf(buf, len, "%.3g", v);
}

static void table_note(struct table *t, const char *fmt, ...)
{
	if (t->nnotes >= (int)(sizeof t->notes / sizeof t->notes[0]))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->notes[t->nnotes++], sizeof t->notes[0], fmt, ap);
	va_end(ap);
}

/* The rows of one kernel's table, sorted by worker count then implementation; 0 or -ENOMEM. */
static int build_table(const struct bench_results *res, int kernel, struct table *t)
{
	memset(t, 0, sizeof *t);
	const struct bench_rec **rows = calloc(res->n + 1, sizeof *rows);
	if (!rows)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].kernel == kernel)
			rows[n++] = &res->v[i];
	qsort(rows, n, sizeof *rows, cmp_rec);
	t->cell = calloc(n + 1, sizeof *t->cell);
	if (!t->cell) {
		free(rows);
		return -ENOMEM;
	}
	const char *unit = bench_metric_unit(bench_kernels[kernel].metric);
	for (size_t i = 0; i < n; i++) {
		const struct bench_rec *r = rows[i];
		char(*c)[40] = t->cell[i];
		snprintf(c[0], 40, "%s%s", bench_impl_names[r->impl], r->first ? " (first)" : "");
		snprintf(c[1], 40, "%d", r->workers);
		for (int k = 2; k < TCOLS; k++)
			snprintf(c[k], 40, "-");
		if (r->status != BS_OK) {
			snprintf(c[2], 40, r->status == BS_SKIPPED ? "skipped" : "FAILED");
			table_note(t, "%s, %d worker%s: %s: %s", bench_impl_names[r->impl],
				   r->workers, r->workers == 1 ? "" : "s",
				   r->status == BS_SKIPPED ? "skipped" : "FAILED", r->note);
			continue;
		}
		double f;
		const char *tu = time_unit(r->median_s, &f);
		char med[16], lo[16], hi[16], rate[16];
		fmt_sig(med, sizeof med, r->median_s * f);
		fmt_sig(lo, sizeof lo, r->min_s * f);
		fmt_sig(hi, sizeof hi, r->max_s * f);
		fmt_sig(rate, sizeof rate, r->rate);
		snprintf(c[2], 40, "%s %s", med, tu);
		snprintf(c[3], 40, "%s-%s %s%s", lo, hi, tu,
			 r->max_s > NOISY * r->min_s ? " ~" : "");
		snprintf(c[4], 40, "%s %s", rate, unit);
		fmt_num(c[5], 40, r->speedup, "%.2f");
		fmt_num(c[6], 40, r->efficiency, "%.2f");
		fmt_num(c[7], 40, vs_brigade(res, r), "%.2f");
		fmt_num(c[8], 40, r->of_limit, "%.2f");
		if (r->note[0])
			table_note(t, "%s, %d worker%s: %s", bench_impl_names[r->impl], r->workers,
				   r->workers == 1 ? "" : "s", r->note);
	}
	t->nrows = n;
	free(rows);
	return 0;
}

static void print_text_table(FILE *out, const struct table *t)
{
	int w[TCOLS];
	for (int k = 0; k < TCOLS; k++) {
		w[k] = (int)strlen(thead[k]);
		for (size_t i = 0; i < t->nrows; i++) {
			int l = (int)strlen(t->cell[i][k]);
			w[k] = l > w[k] ? l : w[k];
		}
	}
	for (int k = 0; k < TCOLS; k++)
		fprintf(out, k ? "  %*s" : "  %-*s", w[k], thead[k]);
	fputc('\n', out);
	for (size_t i = 0; i < t->nrows; i++) {
		for (int k = 0; k < TCOLS; k++)
			fprintf(out, k ? "  %*s" : "  %-*s", w[k], t->cell[i][k]);
		fputc('\n', out);
	}
}

static void print_md_table(FILE *out, const struct table *t)
{
	for (int k = 0; k < TCOLS; k++)
		fprintf(out, "| %s ", thead[k]);
	fputs("|\n", out);
	for (int k = 0; k < TCOLS; k++)
		fputs(k ? "| ---: " : "| :--- ", out);
	fputs("|\n", out);
	for (size_t i = 0; i < t->nrows; i++) {
		for (int k = 0; k < TCOLS; k++)
			fprintf(out, "| %s ", t->cell[i][k]);
		fputs("|\n", out);
	}
}

/* The heading line of a kernel: what it computes, on what, counted how. */
static void kernel_heading(char *buf, size_t len, const struct bench_config *cfg, int k)
{
	const struct bench_kernel_info *ki = &bench_kernels[k];
	switch (k) {
	case BK_TRIAD:
	case BK_DOT:
	case BK_SUMSQ:
		snprintf(buf, len,
			 "%s: %s; n = %zu (%zu MiB per array); STREAM bytes: %g per element; "
			 "rate in GB/s (1e9 bytes)",
			 ki->name, ki->what, cfg->n, cfg->n * 8 >> 20, ki->bytes_per_elem);
		break;
	case BK_STENCIL3:
		snprintf(buf, len,
			 "%s: %s; %zu x %zu pixels (%zu MiB per image); bytes: %g per pixel (read "
			 "in, write out); rate in GB/s",
			 ki->name, ki->what, cfg->rows, cfg->cols, cfg->rows * cfg->cols * 4 >> 20,
			 ki->bytes_per_elem);
		break;
	case BK_DGEMM:
		snprintf(buf, len, "%s: %s; n = %zu (2n^3 = %.4g GFLOP per run); rate in GFLOP/s",
			 ki->name, ki->what, cfg->gemm_n,
			 2.0 * (double)cfg->gemm_n * (double)cfg->gemm_n * (double)cfg->gemm_n *
				 1e-9);
		break;
	case BK_EMPTY:
		snprintf(buf, len, "%s: %s; rate = time per round trip in us (lower is better)",
			 ki->name, ki->what);
		break;
	case BK_BARRIER:
		snprintf(buf, len,
			 "%s: %s, %d per run; rate = time per barrier in us (lower is better)",
			 ki->name, ki->what, cfg->empty_batch);
		break;
	case BK_PFOR:
		snprintf(buf, len, "%s: %s, %d loops per run; rate = time per loop in us (lower is "
				   "better)",
			 ki->name, ki->what, cfg->pfor_batch);
		break;
	case BK_IMB_DYNAMIC:
	case BK_IMB_GUIDED:
	case BK_IMB_AUTO:
	case BK_IMB_STATIC:
		snprintf(buf, len,
			 "%s: %s; %zu indices, a step a dependent shift, xor and multiply "
			 "(%.4g Gstep per run); rate in Gstep/s",
			 ki->name, ki->what, cfg->imb_n, bench_imb_steps(cfg->imb_n) * 1e-9);
		break;
	case BK_CLAIM:
		snprintf(buf, len,
			 "%s: %s, over %zu indices%s; rate = time per chunk in ns (lower is "
			 "better)",
			 ki->name, ki->what, cfg->claim_n,
			 cfg->libomp ? " (openmp-llvm: a tenth)" : "");
		break;
	case BK_START:
		snprintf(buf, len, "%s: %s, mean of %d per run; rate in us (lower is better)",
			 ki->name, ki->what, cfg->start_batch);
		break;
	}
}

/* The limit lines of a kernel, or an empty string. */
static void limit_line(char *buf, size_t len, const struct bench_config *cfg,
		       const struct bench_results *res, int k)
{
	size_t used = 0;
	buf[0] = 0;
	enum bench_metric m = bench_kernels[k].metric;
	if (m != BM_BYTES && m != BM_FLOPS)
		return;
	used += (size_t)snprintf(buf, len, "%s",
				 m == BM_BYTES
					 ? "bandwidth limit (best triad GB/s any implementation "
					   "reached at that many cores, fastest run):"
					 : "FLOP limit (single-core OpenBLAS DGEMM, fastest run, x "
					   "cores):");
	int any = 0;
	for (int i = 0; i < cfg->nworkers && used < len; i++) {
		int w = cfg->workers[i];
		double lim = m == BM_BYTES ? res->bw_limit[w] : res->flop_limit[w];
		if (lim <= 0)
			continue;
		any = 1;
		if (m == BM_BYTES)
			used += (size_t)snprintf(buf + used, len - used, " %d: %.4g GB/s (%s);", w,
						 lim, bench_impl_names[res->bw_limit_impl[w]]);
		else
			used += (size_t)snprintf(buf + used, len - used, " %d: %.4g GFLOP/s;", w,
						 lim);
	}
	if (!any)
		snprintf(buf, len, "%s",
			 m == BM_BYTES
				 ? "bandwidth limit: unknown (no triad measured)"
				 : "FLOP limit: unknown (no single-core OpenBLAS dgemm measured)");
}

/* "brigade vs the serial loop (1 core): ..." for kernels with a serial peer, or "". */
static void serial_line(char *buf, size_t len, const struct bench_config *cfg,
			const struct bench_results *res, int k)
{
	buf[0] = 0;
	const struct bench_rec *s = bench_results_find(res, k, BI_SERIAL, 1);
	if (!s)
		return;
	size_t used = (size_t)snprintf(buf, len, "brigade rate / serial loop rate (1 core):");
	int any = 0;
	for (int i = 0; i < cfg->nworkers && used < len; i++) {
		const struct bench_rec *b = bench_results_find(res, k, BI_BRIGADE, cfg->workers[i]);
		if (!b)
			continue;
		any = 1;
		used += (size_t)snprintf(buf + used, len - used, " %.2f at %d worker%s;",
					 b->rate / s->rate, b->workers, b->workers == 1 ? "" : "s");
	}
	if (!any)
		buf[0] = 0;
}

/* "brigade vs the better OpenMP peer: ..." for the imbalance loops, or "". */
static void imb_line(char *buf, size_t len, const struct bench_config *cfg,
		     const struct bench_results *res, int k)
{
	buf[0] = 0;
	if (!bench_kernel_imb(k))
		return;
	size_t used = (size_t)snprintf(
		buf, len, "%s",
		k == BK_IMB_AUTO ? "brigade's auto vs the fastest OpenMP loop (dynamic or guided, "
				   "either runtime; its median time / brigade's):"
				 : "brigade vs the better OpenMP peer (its time / brigade's, as in "
				   "vs brigade):");
	int any = 0;
	for (int i = 0; i < cfg->nworkers && used < len; i++) {
		const struct bench_rec *b = bench_results_find(res, k, BI_BRIGADE, cfg->workers[i]);
		char best[48];
		double v = b ? vs_best_openmp(res, b, best, sizeof best) : NAN;
		if (isnan(v))
			continue;
		any = 1;
		used += (size_t)snprintf(buf + used, len - used, " %.2f at %d worker%s (%s);", v,
					 b->workers, b->workers == 1 ? "" : "s", best);
	}
	if (!any)
		buf[0] = 0;
}

/* What follows a kernel's table: its limit line, its serial-loop line and its OpenMP line,
 * each written as pre + text + post, then its notes, each after note_pre, the first after
 * notes_lead (Markdown sets each block off with a blank line). */
static void print_table_footer(FILE *out, const struct bench_config *cfg,
			       const struct bench_results *res, int k, const struct table *t,
			       const char *pre, const char *post, const char *notes_lead,
			       const char *note_pre)
{
	char line[1024];
	limit_line(line, sizeof line, cfg, res, k);
	if (line[0])
		fprintf(out, "%s%s%s", pre, line, post);
	serial_line(line, sizeof line, cfg, res, k);
	if (line[0])
		fprintf(out, "%s%s%s", pre, line, post);
	imb_line(line, sizeof line, cfg, res, k);
	if (line[0])
		fprintf(out, "%s%s%s", pre, line, post);
	for (int i = 0; i < t->nnotes; i++)
		fprintf(out, "%s%s%s\n", i ? "" : notes_lead, note_pre, t->notes[i]);
}

static const char legend[] =
	"Each row: median of the timed runs after one warm-up run, and their min-max (~: the\n"
	"  slowest run took over 25% longer than the fastest; other load on the machine?).\n"
	"speedup: rate / the same implementation's rate at 1 worker; efficiency:\n"
	"  speedup / workers.\n"
	"vs brigade: brigade's rate / this row's rate at the same worker count (latencies:\n"
	"  this row's time / brigade's time); > 1 means brigade is faster.  Where both took\n"
	"  turns: the median of the ratios of the runs of the same turn, milliseconds apart\n"
	"  (dgemm, one turn of several runs a side, seconds apart);\n"
	"  else, where both ran in every round, the median of the rounds' own ratios; so a\n"
	"  slow spell of the machine falls on both sides; otherwise (the Python Pools, which\n"
	"  skip the later rounds) the ratio of the medians.\n"
	"of limit: rate / the limit at that many cores.  Bandwidth limit = the best triad\n"
	"  GB/s any implementation reached at that many cores in its fastest run (a measured\n"
	"  ceiling, not the hardware's; read-only kernels can exceed it: they write no\n"
	"  stream).  FLOP limit = single-core OpenBLAS DGEMM GFLOP/s (fastest run) x cores.\n";

/* How the numbers were made, one paragraph per entry; lines after the first are indented. */
static const char *const method[] = {
	"placement: brigade pools bind compactly (one core per participant); brigade arrays\n"
	"come from brg_pool_array_create (first touch by the participant that computes on\n"
	"them); each peer runs in its own process restricted to the same cores (both OpenMP\n"
	"peers: OMP_PROC_BIND=close OMP_PLACES=cores; openmp-llvm: KMP_BLOCKTIME=10) and\n"
	"first-touches its data with its own loop",
	"peers: serial, openmp (GCC, libgomp) and openmp-llvm (clang, LLVM's libomp) run the\n"
	"same C loops (bench/loops_tmpl.h), built for the engine's instruction sets, and the\n"
	"same pragmas (dynamic without a modifier: libomp makes it nonmonotonic, a static\n"
	"split with stealing); openblas: cblas_ddot, cblas_dgemm; numpy: triad as\n"
	"np.multiply(c, s, out=a) then np.add(a, b, out=a) (two passes, counted 24 bytes per\n"
	"element all the same), elementwise work on one thread at any worker count, np.dot\n"
	"and @ on OpenBLAS threads; py-brigade: brigade's own kernels called from Python\n"
	"(brigade.Pool(workers, bind=\"compact\").triad/dot/sumsq on brigade.create arrays,\n"
	"first touched by pool.fill), its vs brigade the cost of the call from Python;\n"
	"py-pool-pickle: Pool.map over pickled slices, results\n"
	"sent back (empty: Pool.apply of a no-op; start: Pool(N), which returns before its\n"
	"workers are ready); py-pool-shm: Pool.map over index ranges of SharedMemory arrays\n"
	"that the workers attach by name; py-brigade-fn: the same numpy on each range as a\n"
	"Python kernel in brigade's pool (for_ranges, static; reduce_ranges over 32 blocks;\n"
	"empty: for_ranges of a no-op over one index per participant; start: brigade.Pool(N),\n"
	"which returns with its workers ready)",
	"pages: brigade's arrays are collapsed into 2 MiB pages when created (the share that\n"
	"made it is noted below the tables); the C peers madvise(MADV_HUGEPAGE) their buffers\n"
	"and numpy does the same for its arrays; py-pool-shm's SharedMemory stays on 4 KiB pages",
};

static void print_paragraph(FILE *out, const char *bullet, const char *text)
{
	fputs(bullet, out);
	for (const char *p = text; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fprintf(out, "%s  ", bullet[0] ? "  " : "");
	}
	fputc('\n', out);
}

static void print_machine(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
			  const char *bullet)
{
	fprintf(out, "%smachine: %s; %d cores, %d PUs, %d NUMA node%s, last-level cache %zu MiB\n",
		bullet, m->cpu, m->cores, m->pus, m->numa_nodes, m->numa_nodes == 1 ? "" : "s",
		m->llc_bytes >> 20);
	fprintf(out, "%ssystem: %s; %s; brigade %s; transparent huge pages: %s\n", bullet,
		m->kernel, m->date, brg_version(), m->thp);
	fprintf(out, "%sload average (1, 5, 15 min): %s at the start, %s at the end\n", bullet,
		m->load_start, m->load_end[0] ? m->load_end : "?");
	fprintf(out, "%sOpenBLAS: %s\n", bullet, m->openblas);
	fprintf(out, "%snumpy: %s (numpy's np.dot and @ call this same OpenBLAS)\n", bullet,
		m->numpy);
	int full = bench_full_rounds(cfg);
	fprintf(out,
		"%sruns: %d round%s of %d turns of 1 timed run after 1 warm-up, brigade and the"
		" serial, OpenMP, OpenBLAS and numpy peers taking turns, each turn once every"
		" process of theirs is quiet (dgemm: 1 turn of %d; Python Pools: %d, alone; these"
		" and the imbalance loops in the first %d round%s only); workers:",
		bullet, cfg->rounds, cfg->rounds == 1 ? "" : "s", cfg->repeat, cfg->repeat_gemm,
		cfg->repeat_pool, full, full == 1 ? "" : "s");
	for (int i = 0; i < cfg->nworkers; i++)
		fprintf(out, "%s%d", i ? "," : " ", cfg->workers[i]);
	fputc('\n', out);
	char a[32], p[32], q[32];
	bench_format_bytes(a, sizeof a, cfg->n * 8);
	bench_format_bytes(p, sizeof p, cfg->pickle_n * 8);
	bench_format_bytes(q, sizeof q, cfg->shm_n * 8);
	char llc[80] = "";
	if (cfg->llc_bytes != m->llc_bytes) {
		char c[32];
		bench_format_bytes(c, sizeof c, cfg->llc_bytes);
		snprintf(llc, sizeof llc, " (sized for a last-level cache of %s: --llc)", c);
	}
	fprintf(out,
		"%ssizes: f64 arrays of %s (n = %zu) for brigade and the serial, OpenMP, OpenBLAS "
		"and numpy peers, %s for py-pool-shm, %s for py-pool-pickle; the image %zu x %zu "
		"f32; dgemm n = %zu%s%s\n",
		bullet, a, cfg->n, q, p, cfg->rows, cfg->cols, cfg->gemm_n,
		cfg->quick ? " (--quick: small sizes, below 4x the LLC)" : "", llc);
	for (size_t i = 0; i < sizeof method / sizeof method[0]; i++)
		print_paragraph(out, bullet, method[i]);
}

/* The tables and notes, as text (md 0) or Markdown (md 1, with the chart when not NULL). */
static void print_doc(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
		      const struct bench_results *res, int md, const char *chart)
{
	fputs(md ? "# brigade bench\n\n" : "\n", out);
	print_machine(out, cfg, m, md ? "- " : "");
	fputc('\n', out);
	fputs(legend, out);
	if (chart)
		fprintf(out, "\n![speedup and fraction of the limit](%s)\n", chart);
	char line[1024];
	for (int k = 0; k < BK_COUNT; k++) {
		if (!cfg->kernels[k])
			continue;
		struct table t;
		if (build_table(res, k, &t))
			continue;
		kernel_heading(line, sizeof line, cfg, k);
		if (md) {
			char *colon = strchr(line, ':');
			fprintf(out, "\n## %s\n\n%s\n\n", bench_kernels[k].name,
				colon ? colon + 2 : line);
			print_md_table(out, &t);
			print_table_footer(out, cfg, res, k, &t, "\n", "\n", "\n", "- ");
		} else {
			fprintf(out, "\n%s\n", line);
			print_text_table(out, &t);
			print_table_footer(out, cfg, res, k, &t, "  ", "\n", "", "  note: ");
		}
		free(t.cell);
	}
	if (res->nnotes) {
		fputs(md ? "\n## Notes\n\n" : "\nnotes:\n", out);
		for (int i = 0; i < res->nnotes; i++)
			fprintf(out, "%s%s\n", md ? "- " : "  - ", res->notes[i]);
	}
}

void bench_print_tables(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
			const struct bench_results *res)
{
	print_doc(out, cfg, m, res, 0, NULL);
	fflush(out);
}

/* ---- JSON ---- */

static void json_num(FILE *out, double v, const char *fmt)
{
	if (isnan(v) || isinf(v))
		fputs("null", out);
	else
		fprintf(out, fmt, v);
}

static void json_rec(FILE *out, const struct bench_results *res, const struct bench_rec *r)
{
	fprintf(out, "{\"kernel\": \"%s\", \"impl\": \"%s\", \"workers\": %d, \"n\": %zu",
		bench_kernels[r->kernel].name, bench_impl_names[r->impl], r->workers, r->n);
	if (r->first)
		fputs(", \"first\": true", out);
	fputs(", \"median_s\": ", out);
	json_num(out, r->median_s, "%.9g");
	fputs(", \"min_s\": ", out);
	json_num(out, r->min_s, "%.9g");
	fputs(", \"max_s\": ", out);
	json_num(out, r->max_s, "%.9g");
	fputs(", \"rate\": ", out);
	json_num(out, r->rate, "%.6g");
	fprintf(out, ", \"unit\": \"%s\", \"samples\": [",
		bench_metric_unit(bench_kernels[r->kernel].metric));
	for (int i = 0; i < r->nsamples; i++)
		fprintf(out, "%s%.9g", i ? ", " : "", r->samples[i]);
	fputs("], \"speedup\": ", out);
	json_num(out, r->speedup, "%.4g");
	fputs(", \"efficiency\": ", out);
	json_num(out, r->efficiency, "%.4g");
	double pairs[BENCH_MAX_SAMPLES];
	int npairs;
	enum pairing how;
	fputs(", \"vs_brigade\": ", out);
	json_num(out, vs_brigade_pairs(res, r, pairs, &npairs, &how), "%.4g");
	fprintf(out, ", \"vs_brigade_pairing\": \"%s\", \"vs_brigade_pairs\": [",
		pairing_names[how]);
	for (int i = 0; i < npairs; i++) {
		fputs(i ? ", " : "", out);
		json_num(out, pairs[i], "%.4g");
	}
	fputs("], \"round_rates\": [", out);
	for (int i = 0; i < r->nrounds; i++) {
		fputs(i ? ", " : "", out);
		json_num(out, r->round_rate[i], "%.6g");
	}
	fputc(']', out);
	fputs(", \"fraction_of_limit\": ", out);
	json_num(out, r->of_limit, "%.4g");
	char best[48];
	double vb = vs_best_openmp(res, r, best, sizeof best);
	if (!isnan(vb)) {
		fputs(", \"vs_best_openmp\": ", out);
		json_num(out, vb, "%.4g");
		fprintf(out, ", \"best_openmp\": \"%s\"", best);
	}
	fprintf(out, ", \"status\": \"%s\"",
		r->status == BS_OK	  ? "ok"
		: r->status == BS_SKIPPED ? "skipped"
					  : "failed");
	if (r->note[0]) {
		fputs(", \"note\": ", out);
		brg_cli_json_string(out, r->note);
	}
	fputc('}', out);
}

void bench_print_json(FILE *out, const struct bench_config *cfg, const struct bench_machine *m,
		      const struct bench_results *res)
{
	int full = bench_full_rounds(cfg);
	fputs("{\"machine\": {\"cpu\": ", out);
	brg_cli_json_string(out, m->cpu);
	fprintf(out, ", \"cores\": %d, \"pus\": %d, \"llc_bytes\": %zu, \"numa_nodes\": %d",
		m->cores, m->pus, m->llc_bytes, m->numa_nodes);
	fputs(", \"kernel\": ", out);
	brg_cli_json_string(out, m->kernel);
	fputs(", \"date\": ", out);
	brg_cli_json_string(out, m->date);
	fputs(", \"brigade_version\": ", out);
	brg_cli_json_string(out, brg_version());
	fputs(", \"openblas_config\": ", out);
	brg_cli_json_string(out, m->openblas);
	fputs(", \"numpy\": ", out);
	brg_cli_json_string(out, m->numpy);
	fputs(", \"transparent_hugepages\": ", out);
	brg_cli_json_string(out, m->thp);
	fprintf(out,
		"},\n \"config\": {\"quick\": %s, \"rounds\": %d, \"full_rounds\": %d, "
		"\"repeat\": %d, \"repeat_gemm\": %d, \"repeat_pool\": %d, \"warmup\": 1, "
		"\"workers\": [",
		cfg->quick ? "true" : "false", cfg->rounds, full, cfg->repeat, cfg->repeat_gemm,
		cfg->repeat_pool);
	for (int i = 0; i < cfg->nworkers; i++)
		fprintf(out, "%s%d", i ? ", " : "", cfg->workers[i]);
	fprintf(out,
		"], \"n\": %zu, \"array_bytes\": %zu, \"image\": [%zu, %zu], \"gemm_n\": %zu, "
		"\"claim_n\": %zu, \"pickle_n\": %zu, \"shm_n\": %zu, \"empty_batch\": %d, "
		"\"start_batch\": %d, \"pfor_batch\": %d, \"imb_n\": %zu, \"imb_cost\": %d, "
		"\"libomp\": %s, \"time_limit_s\": %.0f, "
		"\"stream_bytes_per_element\": {\"triad\": 24, \"dot\": 16, \"sumsq\": 8, "
		"\"stencil3\": 8}},\n",
		cfg->n, cfg->n * 8, cfg->rows, cfg->cols, cfg->gemm_n, cfg->claim_n, cfg->pickle_n,
		cfg->shm_n, cfg->empty_batch, cfg->start_batch, cfg->pfor_batch, cfg->imb_n,
		BENCH_IMB_COST, cfg->libomp ? "true" : "false", cfg->time_limit);
	size_t mem, shm, need[BP_COUNT], need_shm[BP_COUNT];
	int peak = bench_need_peak(cfg, &mem, &shm);
	bench_need(cfg, need, need_shm);
	fprintf(out,
		" \"memory\": {\"budget_bytes\": %zu, \"shm_budget_bytes\": %zu, "
		"\"planned_peak_bytes\": %zu, \"planned_peak_phase\": \"%s\", "
		"\"fixed_bytes\": %zu, \"phases\": {",
		cfg->budget_mem, cfg->budget_shm, mem, bench_phase_names[peak],
		bench_fixed_bytes(cfg->max_workers));
	for (int i = 0; i < BP_COUNT; i++)
		fprintf(out, "%s\"%s\": {\"bytes\": %zu, \"shm_bytes\": %zu}", i ? ", " : "",
			bench_phase_names[i], need[i], need_shm[i]);
	fprintf(out, "}, \"available_at_start\": %zu, \"lowest_available\": %zu},\n",
		res->watch.start, res->watch.lowest);
	fputs(" \"limits\": [", out);
	int first = 1;
	for (int i = 0; i < cfg->nworkers; i++) {
		int w = cfg->workers[i];
		if (res->bw_limit[w] > 0) {
			fprintf(out,
				"%s\n  {\"kind\": \"bandwidth\", \"workers\": %d, \"rate\": %.6g, "
				"\"unit\": \"GB/s\", "
				"\"basis\": \"fastest triad run at %d core%s: %s\"}",
				first ? "" : ",", w, res->bw_limit[w], w, w == 1 ? "" : "s",
				bench_impl_names[res->bw_limit_impl[w]]);
			first = 0;
		}
		if (res->flop_limit[w] > 0) {
			fprintf(out,
				"%s\n  {\"kind\": \"flops\", \"workers\": %d, \"rate\": %.6g, "
				"\"unit\": \"GFLOP/s\", "
				"\"basis\": \"single-core OpenBLAS dgemm (fastest run) x %d\"}",
				first ? "" : ",", w, res->flop_limit[w], w);
			first = 0;
		}
	}
	fputs("],\n \"notes\": [", out);
	for (int i = 0; i < res->nnotes; i++) {
		fputs(i ? ", " : "", out);
		brg_cli_json_string(out, res->notes[i]);
	}
	fputs("],\n \"records\": [", out);
	for (size_t i = 0; i < res->n; i++) {
		fputs(i ? ",\n  " : "\n  ", out);
		json_rec(out, res, &res->v[i]);
	}
	fputs("\n]}\n", out);
}

/* ---- files ---- */

static FILE *open_out(const struct bench_config *cfg, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", cfg->out_dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		brg_cli_error("%s: %s", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	int bad = ferror(f);
	if (fclose(f) || bad) {
		brg_cli_error("%s: write error", path);
		return -EIO;
	}
	return 0;
}

static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int write_csv(const struct bench_config *cfg, const struct bench_results *res)
{
	char path[4096];
	FILE *f = open_out(cfg, "results.csv", path, sizeof path);
	if (!f)
		return -errno;
	fputs("kernel,impl,workers,n,first,median_s,min_s,max_s,rate,unit,speedup,efficiency,"
	      "vs_brigade,fraction_of_limit,status,note\n",
	      f);
	for (size_t i = 0; i < res->n; i++) {
		const struct bench_rec *r = &res->v[i];
		double v[] = {r->median_s, r->min_s, r->max_s, r->rate};
		fprintf(f, "%s,%s,%d,%zu,%d", bench_kernels[r->kernel].name,
			bench_impl_names[r->impl], r->workers, r->n, r->first);
		for (int k = 0; k < 4; k++) {
			fputc(',', f);
			if (!isnan(v[k]))
				fprintf(f, "%.9g", v[k]);
		}
		fprintf(f, ",%s", bench_metric_unit(bench_kernels[r->kernel].metric));
		double d[] = {r->speedup, r->efficiency, vs_brigade(res, r), r->of_limit};
		for (int k = 0; k < 4; k++) {
			fputc(',', f);
			if (!isnan(d[k]))
				fprintf(f, "%.4g", d[k]);
		}
		fprintf(f, ",%s,",
			r->status == BS_OK	  ? "ok"
			: r->status == BS_SKIPPED ? "skipped"
						  : "failed");
		csv_field(f, r->note);
		fputc('\n', f);
	}
	return close_out(f, path);
}

static int write_md(const struct bench_config *cfg, const struct bench_machine *m,
		    const struct bench_results *res, const char *chart)
{
	char path[4096];
	FILE *f = open_out(cfg, "results.md", path, sizeof path);
	if (!f)
		return -errno;
	print_doc(f, cfg, m, res, 1, chart);
	return close_out(f, path);
}

/* The kernels with a rate and a brigade record: the chart's lines. */
static int chart_kernels(const struct bench_config *cfg, const struct bench_results *res, int *out)
{
	int n = 0;
	for (int k = 0; k < BK_COUNT; k++) {
		enum bench_metric m = bench_kernels[k].metric;
		if (!cfg->kernels[k] || (m != BM_BYTES && m != BM_FLOPS))
			continue;
		for (int i = 0; i < cfg->nworkers; i++) {
			if (bench_results_find(res, k, BI_BRIGADE, cfg->workers[i])) {
				out[n++] = k;
				break;
			}
		}
	}
	return n;
}

/* Runs argv (searched in PATH) in dir with stdout and stderr to /dev/null unless `loud`;
 * returns its exit status, 127 when it could not start. */
static int run_quiet(const char *dir, char *const argv[], int loud)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		if (dir && chdir(dir))
			_exit(127);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			if (!loud)
				dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 127;
}

/* results.dat and results.gp; then results.png when gnuplot is there.  Returns the chart's
 * file name, or NULL (with a note saying why). */
static const char *write_chart(const struct bench_config *cfg, struct bench_results *res)
{
	int ks[BK_COUNT], nk = chart_kernels(cfg, res, ks);
	if (!nk)
		return NULL;
	char path[4096];
	FILE *f = open_out(cfg, "results.dat", path, sizeof path);
	if (!f)
		return NULL;
	fputs("# brigade: workers, speedup over 1 worker, fraction of the limit; one block per "
	      "kernel\n",
	      f);
	for (int i = 0; i < nk; i++) {
		fprintf(f, "%s# %s\n", i ? "\n\n" : "", bench_kernels[ks[i]].name);
		for (int j = 0; j < cfg->nworkers; j++) {
			const struct bench_rec *r =
				bench_results_find(res, ks[i], BI_BRIGADE, cfg->workers[j]);
			if (!r)
				continue;
			fprintf(f, "%d ", r->workers);
			json_num(f, r->speedup, "%.4g");
			fputc(' ', f);
			json_num(f, r->of_limit, "%.4g");
			fputc('\n', f);
		}
	}
	if (close_out(f, path))
		return NULL;

	char *probe_cairo[] = {"gnuplot", "-e", "set terminal pngcairo", NULL};
	char *probe_png[] = {"gnuplot", "-e", "set terminal png", NULL};
	const char *term = NULL;
	int st = run_quiet(NULL, probe_cairo, 0);
	if (st == 0)
		term = "pngcairo size 1200,500 font \",10\"";
	else if (st != 127 && run_quiet(NULL, probe_png, 0) == 0)
		term = "png size 1200,500";

	f = open_out(cfg, "results.gp", path, sizeof path);
	if (!f)
		return NULL;
	int maxw = 1;
	for (int i = 0; i < cfg->nworkers; i++)
		maxw = cfg->workers[i] > maxw ? cfg->workers[i] : maxw;
	fprintf(f, "# brigade bench chart: gnuplot results.gp (in this directory)\n");
	fprintf(f, "set terminal %s\n", term ? term : "pngcairo size 1200,500");
	fprintf(f, "set output 'results.png'\n");
	fputs("names = \"", f);
	for (int i = 0; i < nk; i++)
		fprintf(f, "%s%s", i ? " " : "", bench_kernels[ks[i]].name);
	fputs("\"\n", f);
	fprintf(f, "set multiplot layout 1,2 title 'brigade bench (%s)'\n",
		cfg->quick ? "--quick" : "default suite");
	fprintf(f, "set xrange [0.5:%g]\nset xtics 1\nset grid\nset key top left\n", maxw + 0.5);
	fputs("set xlabel 'cores (workers)'\nset ylabel 'speedup over 1 worker'\n"
	      "set title 'brigade speedup'\nset yrange [0:*]\n",
	      f);
	fprintf(f,
		"plot for [i=1:%d] 'results.dat' index (i-1) using 1:2 with linespoints lw 2 "
		"title word(names, i), x with lines dt 2 lc rgb 'gray' title 'ideal'\n",
		nk);
	/* At least up to 1.2, so the limit line is not the frame's top edge. */
	fputs("set ylabel 'fraction of the limit'\nset title 'brigade rate / limit (bandwidth: "
	      "fastest triad; dgemm: 1-core BLAS x N)'\nset yrange [0:1.2<*]\n",
	      f);
	fprintf(f,
		"plot for [i=1:%d] 'results.dat' index (i-1) using 1:3 with linespoints lw 2 "
		"title word(names, i), 1 with lines dt 2 lc rgb 'gray' title 'limit'\n",
		nk);
	fputs("unset multiplot\n", f);
	if (close_out(f, path))
		return NULL;
	if (!term) {
		bench_note(res,
			   "chart skipped: gnuplot with a png terminal not found; %s/results.gp "
			   "makes it",
			   cfg->out_dir);
		return NULL;
	}
	char *plot[] = {"gnuplot", "results.gp", NULL};
	if (run_quiet(cfg->out_dir, plot, 1)) {
		bench_note(res, "chart: gnuplot failed on %s/results.gp", cfg->out_dir);
		return NULL;
	}
	return "results.png";
}

int bench_write_files(const struct bench_config *cfg, const struct bench_machine *m,
		      struct bench_results *res)
{
	if (mkdir(cfg->out_dir, 0777) && errno != EEXIST) {
		brg_cli_error("%s: %s", cfg->out_dir, strerror(errno));
		return -errno;
	}
	const char *chart = write_chart(cfg, res);
	int r = write_csv(cfg, res);
	int r2 = write_md(cfg, m, res, chart);
	if (!r && !r2)
		bench_progress("wrote %s/results.csv, results.md%s", cfg->out_dir,
			       chart ? ", results.png (results.gp, results.dat)" : "");
	return r ? r : r2;
}
