/* SPDX-License-Identifier: MIT */
/* round.c - one worker count in one round: brigade's pool and the peers that serve commands
 * take turns run by run on each kernel, every run after all of them have gone quiet; then the
 * Python Pools, once through.
 *
 * Taking turns is what makes a ratio to brigade mean something on a shared machine: the load
 * of other work moves a rate by 10-50% within minutes, and runs milliseconds apart see the same
 * load.  Waiting for quiet keeps one side's spinning threads off the other's run: OpenBLAS's
 * threads spin for some 0.1 s after a call, libgomp's for some milliseconds after a region,
 * brigade's workers for spin_us (50 us). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- waiting for quiet ---- */

/* 1 when a thread of pid is running or runnable (state R in /proc/PID/task/TID/stat). */
static int process_running(int pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return 0; /* gone: not running */
	int running = 0;
	struct dirent *e;
	while (!running && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char stat[96], buf[512];
		snprintf(stat, sizeof stat, "/proc/%d/task/%.20s/stat", pid, e->d_name);
		int fd = open(stat, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* "tid (comm) S ...": comm may hold spaces and parentheses, the last ')' ends it. */
		char *rp = strrchr(buf, ')');
		running = rp && rp[1] == ' ' && rp[2] == 'R';
	}
	closedir(d);
	return running;
}

int bench_wait_quiet(const int *pids, int npids, double max_s)
{
	double deadline = bench_now() + max_s;
	for (;;) {
		int busy = 0;
		for (int i = 0; i < npids && !busy; i++)
			busy = pids[i] > 0 && process_running(pids[i]);
		if (!busy)
			return 1;
		if (bench_now() > deadline)
			return 0;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
}

/* ---- one round at one worker count ---- */

#define MAX_PIDS (BENCH_MAX_WORKERS + BI_COUNT)

struct round {
	const struct bench_config *cfg;
	const struct bench_refs *refs;
	struct bench_results *res;
	int workers;
	brg_pool *pool; /* NULL when it could not be made */
	struct bench_peer *peers[BI_COUNT];
	int pids[MAX_PIDS], npids; /* brigade's workers and the peers: waited on before a run */
};

/* One implementation's turns on one kernel. */
struct side {
	struct bench_peer *peer; /* NULL: brigade, in this process */
	struct bench_job job;	 /* brigade's */
	struct bench_rec rec;	 /* this round's samples */
	int code;		 /* brigade: the error that ended its runs */
	int done;		 /* failed or skipped: no more turns */
};

static void wait_quiet(struct round *R)
{
	if (!bench_wait_quiet(R->pids, R->npids, 1.0))
		bench_note(R->res, "a peer or a worker was still running 1 s after its turn; the "
				   "next run went ahead beside it");
}

/* A turn: one untimed run (checked in the first turn of a round) and `count` timed ones. */
static void take_turn(struct round *R, struct side *d, int kernel, int count, int first)
{
	wait_quiet(R);
	if (!d->peer) {
		int r = bench_measure(&d->rec, d->job.op, d->job.ctx,
					   first ? d->job.check : NULL, count, d->job.batch,
					   d->job.per);
		if (r) {
			d->code = r;
			d->done = 1;
		}
		return;
	}
	bench_peer_run(d->peer, R->refs, kernel, count, &d->rec);
	d->done = d->rec.status != BS_OK;
}

/* Stores what a side measured this round. */
static void report_side(struct round *R, struct side *d)
{
	struct bench_rec *rec = &d->rec;
	if (!d->peer) {
		if (!d->code)
			bench_rec_finish(rec);
		bench_report(R->res, rec, d->code);
		return;
	}
	if (rec->status == BS_OK)
		bench_rec_finish(rec);
	bench_report(R->res, rec, rec->status == BS_FAILED ? BENCH_WRONG : 0);
}

/* brigade (when data is not NULL) and every peer that has kernel, turn about: `repeat` turns
 * of one timed run each, the first side moving by one each turn, so none always follows the
 * same other; dgemm, seconds a run, takes one turn of repeat_gemm runs. */
static void run_kernel(struct round *R, int kernel, const struct bench_group *g, void *data)
{
	const struct bench_config *cfg = R->cfg;
	struct side sides[BI_COUNT];
	int n = 0;
	if (data) {
		struct side *d = &sides[n++];
		memset(d, 0, sizeof *d);
		g->job(data, kernel, &d->job);
		bench_rec_init(&d->rec, kernel, BI_BRIGADE, R->workers, d->job.n);
		d->rec.turns = 1;
	}
	for (int impl = 0; impl < BI_COUNT; impl++) {
		const char *why;
		if (!R->peers[impl])
			continue;
		if (!bench_peer_supports(impl, kernel, &why)) {
			if (why)
				bench_note(R->res, "%s", why);
			continue;
		}
		struct side *d = &sides[n++];
		memset(d, 0, sizeof *d);
		d->peer = R->peers[impl];
		/* The serial loop runs on the first core whatever the pool's size; it takes turns
		 * with brigade at 1 worker only when that is this round's count. */
		int w = impl == BI_SERIAL ? 1 : R->workers;
		bench_rec_init(&d->rec, kernel, impl, w, 0);
		d->rec.turns = w == R->workers;
	}
	int turns = kernel == BK_DGEMM ? 1 : cfg->repeat;
	int count = kernel == BK_DGEMM ? cfg->repeat_gemm : 1;
	for (int t = 0; t < turns; t++)
		for (int i = 0; i < n; i++) {
			struct side *d = &sides[(t + i) % n];
			if (!d->done)
				take_turn(R, d, kernel, count, t == 0);
		}
	for (int i = 0; i < n; i++)
		report_side(R, &sides[i]);
}

static void run_group(struct round *R, const struct bench_group *g)
{
	const struct bench_config *cfg = R->cfg;
	int any = 0;
	for (int i = 0; i < g->nkernels; i++)
		any |= cfg->kernels[g->kernels[i]];
	if (!any)
		return;
	void *data = NULL;
	if (R->pool) {
		const char *what = "";
		int r = g->open(cfg, R->refs, R->pool, R->res, &data, &what);
		for (int i = 0; i < g->nkernels && r; i++) {
			if (!cfg->kernels[g->kernels[i]])
				continue;
			struct bench_rec rec;
			bench_rec_init(&rec, g->kernels[i], BI_BRIGADE, R->workers, 0);
			bench_rec_fail(&rec, BS_FAILED, "%s: %s (%s)", what, brg_strerror(r),
				       brg_err_name(r));
			bench_report(R->res, &rec, r);
		}
	}
	for (int i = 0; i < g->nkernels; i++)
		if (cfg->kernels[g->kernels[i]])
			run_kernel(R, g->kernels[i], g, data);
	if (data)
		g->close(data);
	/* The next group's data are made once these are gone (plan.c counts on it). */
	for (int impl = 0; impl < BI_COUNT; impl++)
		bench_peer_drop(R->peers[impl]);
}

/* Records for every brigade kernel when the pool could not be made. */
static void fail_pool(struct round *R, int code)
{
	for (int k = 0; k < BK_COUNT; k++) {
		if (!R->cfg->kernels[k] || k == BK_START)
			continue;
		struct bench_rec rec;
		bench_rec_init(&rec, k, BI_BRIGADE, R->workers, 0);
		bench_rec_fail(&rec, BS_FAILED, "brg_pool_create: %s (%s)", brg_strerror(code),
			       brg_err_name(code));
		bench_report(R->res, &rec, code);
	}
}

/* 1 when impl has a peer for a selected kernel. */
static int peer_wanted(const struct bench_config *cfg, int impl)
{
	if (impl == BI_OPENMP_LLVM && !cfg->libomp)
		return 0; /* not built, or its helper is missing: noted once (bench.c) */
	for (int k = 0; k < BK_COUNT; k++) {
		const char *why;
		if (cfg->kernels[k] && bench_peer_supports(impl, k, &why))
			return 1;
	}
	return 0;
}

double bench_run_round(const struct bench_config *cfg, const struct bench_refs *refs, int workers,
		       int first_count, struct bench_results *res)
{
	static const struct bench_group *const groups[] = {
		/* The pool's latencies first, before this round makes and drops its arrays:
		 * timed after them the empty job read 1.7 us instead of 0.9 (40 us on 4 KiB
		 * pages), while the worker unmapped them and their memory was released.
		 * Unmapping after the job instead of before it read 2-4 us: it is the release,
		 * not where the unmap sits, so the bench keeps the measurement away from it. */
		&bench_group_pool,
		&bench_group_imb,
		&bench_group_stream,
		&bench_group_stencil,
		&bench_group_gemm,
	};
	struct round R = {.cfg = cfg, .refs = refs, .res = res, .workers = workers};
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%spool-%d", bench_segment_prefix(), workers);
	o.name = name;
	int r = brg_pool_create(&R.pool, &o);
	if (r) {
		R.pool = NULL;
		fail_pool(&R, r);
	} else {
		for (int i = 1; i < workers && R.npids < MAX_PIDS; i++)
			R.pids[R.npids++] = brg_pool_worker_pid(R.pool, i);
	}
	/* The serial loop runs once per round, at the first worker count. */
	for (int impl = 0; impl < BI_COUNT; impl++) {
		if (!bench_peer_serves(impl) || (impl == BI_SERIAL && !first_count) ||
		    !peer_wanted(cfg, impl))
			continue;
		R.peers[impl] = bench_peer_start(cfg, impl, impl == BI_SERIAL ? 1 : workers, res);
		if (R.peers[impl] && R.npids < MAX_PIDS)
			R.pids[R.npids++] = bench_peer_pid(R.peers[impl]);
	}
	double full_only = 0;
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		double t0 = bench_now();
		run_group(&R, groups[i]);
		if (groups[i] == &bench_group_gemm || groups[i] == &bench_group_imb)
			full_only += bench_now() - t0;
	}
	brg_pool_destroy(R.pool);
	for (int impl = 0; impl < BI_COUNT; impl++)
		bench_peer_stop(R.peers[impl], res);
	/* The Pools, 100 times off, need no turns; they run alone, after everything is gone. */
	if (cfg->pool_peers) {
		double t0 = bench_now();
		bench_run_peer(cfg, refs, BI_PICKLE, workers, res);
		bench_run_peer(cfg, refs, BI_SHM, workers, res);
		bench_run_peer(cfg, refs, BI_PYFN, workers, res);
		full_only += bench_now() - t0;
	}
	return full_only;
}
