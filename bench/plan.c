/* SPDX-License-Identifier: MIT */
/* plan.c - how large the bench's data may be on this machine: what the machine can hold, what
 * everything the run keeps at once adds up to, and the largest sizes under that budget.
 *
 * A round is a sequence of phases, and the data of one phase are gone before the next phase
 * makes its own (round.c has every peer drop its data when a group of kernels ends; the
 * Python Pools run alone once the rest has stopped).  So the run's peak is the largest phase
 * plus what its processes hold whatever the phase: the model below counts each side's arrays
 * as they are allocated (peer.c, peers.py, k_*.c), and the bench's memory watch measures the
 * real thing beside it.  The imbalance loops' outputs (a few KiB a side) are not counted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bench.h"

const char *const bench_phase_names[BP_COUNT] = {
	[BP_STREAM] = "triad, dot, sumsq",
	[BP_STENCIL] = "stencil3",
	[BP_GEMM] = "dgemm",
	[BP_PICKLE] = "py-pool-pickle",
	[BP_SHM] = "py-pool-shm",
};

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

void bench_format_bytes(char *buf, size_t len, size_t bytes)
{
	if (bytes >= 1024 * GiB)
		snprintf(buf, len, "%.3g TiB", (double)bytes / (double)GiB / 1024);
	else if (bytes >= GiB)
		snprintf(buf, len, "%.3g GiB", (double)bytes / (double)GiB);
	else if (bytes >= MiB)
		snprintf(buf, len, "%.3g MiB", (double)bytes / (double)MiB);
	else
		snprintf(buf, len, "%zu KiB", bytes >> 10);
}

/* ---- what the machine can hold ---- */

/* The value of `key` in /proc/meminfo, in bytes, or 0. */
static size_t meminfo(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? (size_t)strtoull(p + strlen(key), NULL, 10) << 10 : 0;
}

/* A whole small file into buf (terminated); its length, or -1. */
static ssize_t read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return (ssize_t)n;
}

/* The cgroup line of /proc/self/cgroup that holds the memory controller: v2's "0::/path",
 * or v1's "N:...memory...:/path"; the path into rel and 2 or 1, or 0 when there is none. */
static int cgroup_line(const char *text, char *rel, size_t len)
{
	for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *c1 = strchr(l, ':'), *end = strchr(l, '\n');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!end)
			end = l + strlen(l);
		if (!c2 || c2 > end)
			continue;
		int v2 = c1 == l + 1 && l[0] == '0' && c2 == c1 + 1;
		int v1 = 0;
		for (const char *k = c1 + 1; k < c2 && !v2 && !v1;) {
			size_t n = strcspn(k, ",:");
			v1 = n == 6 && !strncmp(k, "memory", 6);
			k += n + (k[n] == ',');
		}
		if (v1 || v2) {
			snprintf(rel, len, "%.*s", (int)(end - c2 - 1), c2 + 1);
			return v2 ? 2 : 1;
		}
	}
	return 0;
}

/* The room left under the memory limits of this process's cgroup and its ancestors (v2's
 * memory.max less memory.current, v1's memory.limit_in_bytes less memory.usage_in_bytes);
 * SIZE_MAX when none is set or none can be read.  The level that leaves the least is kept in
 * f, for the memory watch.  In a container the path may name a cgroup above the one mounted:
 * the walk up ends at the mount's own root, which is the container's. */
static size_t cgroup_room(struct bench_facts *f, const char *root)
{
	char text[4096], rel[512], path[1024], val[64];
	snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
	if (read_text(path, text, sizeof text) < 0)
		return SIZE_MAX;
	int v = cgroup_line(text, rel, sizeof rel);
	if (!v)
		return SIZE_MAX;
	const char *mnt = v == 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
	const char *lim = v == 2 ? "memory.max" : "memory.limit_in_bytes";
	const char *use = v == 2 ? "memory.current" : "memory.usage_in_bytes";
	size_t room = SIZE_MAX;
	for (;;) {
		snprintf(path, sizeof path, "%s%s%s/%s", root, mnt, rel, lim);
		/* v2 says "max" for none, v1 a number near 2^63 */
		if (read_text(path, val, sizeof val) > 0 && val[0] >= '0' && val[0] <= '9') {
			size_t max = (size_t)strtoull(val, NULL, 10), cur = 0;
			char usage[1024];
			snprintf(usage, sizeof usage, "%s%s%s/%s", root, mnt, rel, use);
			if (read_text(usage, val, sizeof val) > 0)
				cur = (size_t)strtoull(val, NULL, 10);
			size_t left = max > cur ? max - cur : 0;
			if (max < (size_t)1 << 62 && left < room) {
				room = left;
				f->cg_limit = max;
				snprintf(f->cg_usage, sizeof f->cg_usage, "%s", usage);
			}
		}
		char *slash = strrchr(rel, '/');
		if (!slash || !rel[0])
			break;
		*slash = 0; /* "/a/b", "/a", "" (the mount's root) */
	}
	return room;
}

int bench_facts_probe(struct bench_facts *f, size_t llc, const char *root)
{
	memset(f, 0, sizeof *f);
	f->llc = llc;
	if (!root)
		root = "";
	char text[8192], path[512];
	snprintf(path, sizeof path, "%s/proc/meminfo", root);
	if (read_text(path, text, sizeof text) < 0)
		return -errno;
	f->mem_total = meminfo(text, "MemTotal:");
	f->mem_avail = meminfo(text, "MemAvailable:");
	if (!f->mem_total || !f->mem_avail)
		return -ENODATA;
	size_t room = cgroup_room(f, root);
	if (room < f->mem_avail) {
		f->mem_avail = room;
		f->cgroup = 1;
	} else {
		f->cg_usage[0] = 0;
		f->cg_limit = 0;
	}
	snprintf(path, sizeof path, "%s/dev/shm", root);
	struct statvfs sv;
	if (statvfs(path, &sv))
		return -errno;
	f->shm_free = (size_t)sv.f_bavail * sv.f_frsize;
	return 0;
}

/* ---- what the run keeps at once ---- */

size_t bench_fixed_bytes(int workers)
{
	/* The bench, brigade's workers, five serving peers, a Python Pool's parent, its workers
	 * and its resource tracker: interpreters, libraries, OpenBLAS's per-thread buffers and
	 * numpy's chunked temporaries.  Generous: measured below half of it (the libomp peer,
	 * the fifth, holds a few MiB besides its data). */
	return 256 * MiB + (size_t)(workers > 0 ? workers : 1) * 96 * MiB;
}

/* 1 when one of kernels[lo..hi] is selected. */
static int any_kernel(const struct bench_config *cfg, int lo, int hi)
{
	for (int k = lo; k <= hi; k++)
		if (cfg->kernels[k])
			return 1;
	return 0;
}

void bench_need(const struct bench_config *cfg, size_t mem[BP_COUNT], size_t shm[BP_COUNT])
{
	memset(mem, 0, BP_COUNT * sizeof *mem);
	memset(shm, 0, BP_COUNT * sizeof *shm);
	/* The OpenMP peer on libomp, when it runs, holds what the one on libgomp does. */
	size_t omp_peers = cfg->libomp ? 2 : 1;
	if (any_kernel(cfg, BK_TRIAD, BK_SUMSQ)) {
		/* brigade a, b, c (segments); py-brigade a, b, c (segments too); serial, each
		 * openmp and numpy a, b, c; openblas b, c (numpy and py-brigade fill their arrays a
		 * slice at a time: no full-size temporaries) */
		size_t s = cfg->n * 8;
		shm[BP_STREAM] = 3 * s + 3 * s;
		mem[BP_STREAM] = 3 * s + 3 * s + 3 * s + omp_peers * 3 * s + 2 * s + 3 * s;
		if (cfg->pool_peers) {
			/* Pickle: the parent's a, b, c, the task it pickles (b and c slices)
			 * and the results it receives and unpickles (a twice); the workers' b
			 * and c slices received and unpickled (four arrays), and their a
			 * computed and pickled (two): up to 14 arrays with one worker. */
			size_t p = cfg->pickle_n * 8;
			mem[BP_PICKLE] = 14 * p;
			/* SharedMemory a, b, c (filled a chunk at a time); after it, alone,
			 * py-brigade-fn's a, b, c segments of the same size */
			size_t q = cfg->shm_n * 8;
			shm[BP_SHM] = 3 * q;
			mem[BP_SHM] = 3 * q;
		}
	}
	if (cfg->kernels[BK_STENCIL3]) {
		/* in and out: brigade (segments), serial, each openmp */
		size_t img = cfg->rows * cfg->cols * 4;
		shm[BP_STENCIL] = 2 * img;
		mem[BP_STENCIL] = (2 + omp_peers) * 2 * img;
	}
	if (cfg->kernels[BK_DGEMM]) {
		/* A, B, C: brigade (segments), openblas; numpy A, B and two C (the last result is
		 * alive while @ makes the next) */
		size_t g = cfg->gemm_n * cfg->gemm_n * 8;
		shm[BP_GEMM] = 3 * g;
		mem[BP_GEMM] = 3 * g + 3 * g + 4 * g;
	}
}

int bench_need_peak(const struct bench_config *cfg, size_t *mem, size_t *shm)
{
	size_t m[BP_COUNT], s[BP_COUNT];
	bench_need(cfg, m, s);
	int peak = 0;
	*mem = *shm = 0;
	for (int i = 0; i < BP_COUNT; i++) {
		if (m[i] > m[peak])
			peak = i;
		*shm = s[i] > *shm ? s[i] : *shm;
	}
	*mem = m[peak] + bench_fixed_bytes(cfg->max_workers);
	return peak;
}

/* ---- the sizes ---- */

/* 1 when phase fits the budget. */
static int phase_fits(const struct bench_config *cfg, int phase)
{
	size_t m[BP_COUNT], s[BP_COUNT];
	bench_need(cfg, m, s);
	return m[phase] + bench_fixed_bytes(cfg->max_workers) <= cfg->budget_mem &&
	       s[phase] <= cfg->budget_shm;
}

/* The stream arrays' size in bytes, and the image of as many bytes. */
static void set_array_bytes(struct bench_config *cfg, size_t bytes)
{
	cfg->n = bytes / 8;
	cfg->cols = BENCH_IMAGE_COLS;
	cfg->rows = bytes / 4 / cfg->cols;
}

/* 1 when the stream arrays and the image fit. */
static int arrays_fit(const struct bench_config *cfg)
{
	return phase_fits(cfg, BP_STREAM) && phase_fits(cfg, BP_STENCIL);
}

static size_t pow2_at_least(size_t v)
{
	size_t p = 1;
	while (p < v && p <= SIZE_MAX / 2)
		p *= 2;
	return p;
}

/* Halves *n (down to min) until phase fits; 1 when it had to. */
static int halve_to_fit(struct bench_config *cfg, size_t *n, size_t min, int phase)
{
	int smaller = 0;
	while (!phase_fits(cfg, phase) && *n / 2 >= min) {
		*n /= 2;
		smaller = 1;
	}
	return smaller;
}

/* A note of the plan, printed with the run's notes. */
static void plan_note(struct bench_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void plan_note(struct bench_config *cfg, const char *fmt, ...)
{
	if (cfg->nplan_notes == BENCH_MAX_PLAN_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg->plan_notes[cfg->nplan_notes++], sizeof cfg->plan_notes[0], fmt, ap);
	va_end(ap);
}

/* The peak of the run with arrays of `bytes`, as text. */
static void peak_text(const struct bench_config *cfg, size_t bytes, char *buf, size_t len)
{
	struct bench_config c = *cfg;
	size_t mem, shm;
	set_array_bytes(&c, bytes);
	bench_need_peak(&c, &mem, &shm);
	bench_format_bytes(buf, len, mem);
}

/* The largest multiple of BENCH_SIZE_STEP, halving from `from`, whose arrays fit; 0 when
 * none of at least BENCH_SIZE_MIN does. */
static size_t largest_fit(const struct bench_config *cfg, size_t from)
{
	struct bench_config c = *cfg;
	for (size_t b = from; b >= BENCH_SIZE_MIN; b = b / 2 / BENCH_SIZE_STEP * BENCH_SIZE_STEP) {
		set_array_bytes(&c, b);
		if (arrays_fit(&c))
			return b;
	}
	return 0;
}

int bench_plan(struct bench_config *cfg, const struct bench_facts *f, char *err, size_t errlen)
{
	char size[32], peak[32], budget[32], avail[32], other[32];
	cfg->nplan_notes = 0;
	cfg->budget_mem = f->mem_avail / 2;
	cfg->budget_shm = f->shm_free / 10 * 9;
	bench_format_bytes(budget, sizeof budget, cfg->budget_mem);
	bench_format_bytes(avail, sizeof avail, f->mem_avail);
	const char *of = f->cgroup ? "room under the cgroup's memory limit" : "MemAvailable";

	/* The stream arrays, and the image of as many bytes. */
	size_t want, got;
	if (cfg->size_asked) {
		want = got = cfg->size_asked / BENCH_SIZE_STEP * BENCH_SIZE_STEP;
		bench_format_bytes(size, sizeof size, want);
		if (want < BENCH_SIZE_MIN) {
			bench_format_bytes(other, sizeof other, BENCH_SIZE_MIN);
			snprintf(err, errlen, "--size: arrays of at least %s", other);
			return -1;
		}
		set_array_bytes(cfg, want);
		if (!arrays_fit(cfg)) {
			peak_text(cfg, want, peak, sizeof peak);
			if (!cfg->force) {
				size_t fit = largest_fit(cfg, want);
				if (fit)
					bench_format_bytes(other, sizeof other, fit);
				snprintf(err, errlen,
					 "--size %s: the run would keep %s at once, over its budget "
					 "of %s (half of %s, %s)%s%s%s; --force runs it anyway",
					 size, peak, budget, of, avail, fit ? "; --size " : "",
					 fit ? other : "", fit ? " fits" : "");
				return -1;
			}
			plan_note(cfg,
				  "memory: --size %s with --force keeps %s at once, over the budget "
				  "of %s (half of %s, %s)",
				  size, peak, budget, of, avail);
		}
	} else {
		size_t target = cfg->quick ? BENCH_SIZE_QUICK
					   : pow2_at_least(4 * f->llc > BENCH_SIZE_FLOOR
								   ? 4 * f->llc
								   : BENCH_SIZE_FLOOR);
		want = !cfg->quick && target > BENCH_SIZE_CAP ? BENCH_SIZE_CAP : target;
		got = largest_fit(cfg, want);
		if (!got) {
			peak_text(cfg, BENCH_SIZE_MIN, peak, sizeof peak);
			bench_format_bytes(size, sizeof size, BENCH_SIZE_MIN);
			snprintf(err, errlen,
				 "too little memory for the bench: even arrays of %s keep %s at "
				 "once, over its budget of %s (half of %s, %s)",
				 size, peak, budget, of, avail);
			return -1;
		}
		set_array_bytes(cfg, got);
		bench_format_bytes(size, sizeof size, got);
		/* Why the arrays are not 4x the cache: the cap, then the budget. */
		char capped[200] = "", want_s[32];
		bench_format_bytes(want_s, sizeof want_s, want);
		if (!cfg->quick && target > want) {
			bench_format_bytes(other, sizeof other, target);
			char llc_s[32];
			bench_format_bytes(llc_s, sizeof llc_s, f->llc);
			snprintf(capped, sizeof capped,
				 "4x the last-level cache (%s) would be arrays of %s, past the "
				 "default's cap of %s, which keeps a run to minutes",
				 llc_s, other, want_s);
		}
		if (got < want) {
			char first[240];
			if (capped[0])
				snprintf(first, sizeof first, "%s; arrays of %s", capped, want_s);
			else if (cfg->quick)
				snprintf(first, sizeof first, "the --quick size, %s,", want_s);
			else
				snprintf(first, sizeof first, "arrays of %s (4x the last-level cache)",
					 want_s);
			peak_text(cfg, want, peak, sizeof peak);
			plan_note(cfg,
				  "arrays of %s: %s would keep %s at once, over the run's budget of %s "
				  "(half of %s, %s); --size chooses",
				  size, first, peak, budget, of, avail);
		} else if (capped[0]) {
			plan_note(cfg, "arrays of %s: %s (--size chooses)", size, capped);
		}
	}
	if (!cfg->quick && f->llc && got < 2 * f->llc) {
		bench_format_bytes(other, sizeof other, f->llc);
		plan_note(cfg,
			  "arrays of %s are %.2gx the last-level cache this machine reports (%s): "
			  "they may be partly cache-resident, and the bandwidth kernels then read "
			  "faster than memory (a VM may report its host's whole cache; --llc sets "
			  "the size the rule uses)",
			  size, (double)got / (double)f->llc, other);
	}

	/* dgemm and the Python Pools' arrays, each within the budget by itself. */
	size_t g0 = cfg->gemm_n;
	if (halve_to_fit(cfg, &cfg->gemm_n, 64, BP_GEMM))
		plan_note(cfg, "dgemm at n = %zu: at n = %zu it would not fit the memory budget",
			  cfg->gemm_n, g0);
	size_t pickle_cap = (cfg->quick ? BENCH_PICKLE_CAP / 4 : BENCH_PICKLE_CAP) / 8;
	cfg->pickle_n = cfg->n < pickle_cap ? cfg->n : pickle_cap;
	cfg->shm_n = cfg->n;
	halve_to_fit(cfg, &cfg->pickle_n, 1024, BP_PICKLE);
	halve_to_fit(cfg, &cfg->shm_n, 1024, BP_SHM);
	for (int p = 0; p < BP_COUNT; p++) {
		if (!phase_fits(cfg, p) && !cfg->force) {
			snprintf(err, errlen, "too little memory for the bench's %s",
				 bench_phase_names[p]);
			return -1;
		}
	}
	return 0;
}
