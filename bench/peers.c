/* SPDX-License-Identifier: MIT */
/* peers.c - the other implementations, each run in a child process pinned to the cores a
 * brigade pool of the same size gets: brigade-bench-peer (serial, OpenMP, OpenBLAS) and
 * peers.py (numpy, Python Pools).  Their JSON lines become records, checked like brigade's. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

#ifndef BRG_LIBEXECDIR
#define BRG_LIBEXECDIR "/usr/local/libexec"
#endif
#ifndef BRG_BENCH_SRCDIR
#define BRG_BENCH_SRCDIR "bench"
#endif
#ifndef BRG_BENCH_DATADIR
#define BRG_BENCH_DATADIR "/usr/local/share/brigade"
#endif

#define PYTHON "/usr/bin/python3"

/* ---- what each implementation has a peer for ---- */

int bench_peer_supports(int impl, int kernel, const char **why)
{
	static const char no_gemm[] =
		"serial, openmp: no dgemm peer (a plain triple loop of that size takes minutes); "
		"OpenBLAS at 1 thread is the 1-core reference";
	*why = NULL;
	switch (impl) {
	case BI_SERIAL:
		if (kernel == BK_DGEMM)
			*why = no_gemm;
		return kernel <= BK_STENCIL3;
	case BI_OPENMP:
		if (kernel == BK_DGEMM)
			*why = no_gemm;
		return kernel <= BK_STENCIL3 || kernel == BK_EMPTY || kernel == BK_CLAIM;
	case BI_OPENBLAS:
		return kernel == BK_DOT || kernel == BK_SUMSQ || kernel == BK_DGEMM;
	case BI_NUMPY:
		return kernel <= BK_SUMSQ || kernel == BK_DGEMM;
	case BI_PICKLE:
		return kernel <= BK_SUMSQ || kernel == BK_EMPTY || kernel == BK_START;
	case BI_SHM:
		return kernel <= BK_SUMSQ;
	}
	return 0;
}

/* ---- where the helpers are ---- */

/* 1 when this executable runs from the build tree (bench/ beside tools/). */
static int in_build_tree(char *helper, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = 0;
	if (snprintf(helper, len, "%s/../bench/brigade-bench-peer", exe) >= (int)len)
		return 0;
	return access(helper, X_OK) == 0;
}

const char *bench_peer_helper_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("BRG_BENCH_PEER");
	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	if (in_build_tree(path, sizeof path))
		return path;
	snprintf(path, sizeof path, "%s/brigade-bench-peer", BRG_LIBEXECDIR);
	return access(path, X_OK) == 0 ? path : NULL;
}

const char *bench_peers_py_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("BRG_BENCH_PEERS");
	if (env && *env)
		return access(env, R_OK) == 0 ? env : NULL;
	char helper[PATH_MAX];
	/* The build tree runs the source's copy, so an edit needs no rebuild. */
	snprintf(path, sizeof path, "%s/peers.py",
		 in_build_tree(helper, sizeof helper) ? BRG_BENCH_SRCDIR : BRG_BENCH_DATADIR);
	return access(path, R_OK) == 0 ? path : NULL;
}

/* ---- running a child ---- */

/* The CPUs of a compact brigade pool of `workers` participants. */
static int pool_cpus(int workers, cpu_set_t *set)
{
	CPU_ZERO(set);
	brg_place *pl = calloc((size_t)workers, sizeof *pl);
	if (!pl)
		return -ENOMEM;
	int n = brg_topo_placement(NULL, workers, BRG_BIND_COMPACT, pl, workers);
	for (int i = 0; i < n && i < workers; i++) {
		/* hwloc list syntax: "0", "0-3", "0,2,4-5" */
		const char *p = pl[i].cpuset;
		while (*p) {
			char *end;
			long lo = strtol(p, &end, 10), hi = lo;
			if (end == p)
				break;
			if (*end == '-')
				hi = strtol(end + 1, &end, 10);
			for (long c = lo; c <= hi && c < CPU_SETSIZE; c++)
				if (c >= 0)
					CPU_SET((int)c, set);
			p = *end == ',' ? end + 1 : end;
			if (*end && *end != ',')
				break;
		}
	}
	free(pl);
	return n < 0 ? n : CPU_COUNT(set) ? 0 : -EINVAL;
}

/* environ without the variables named in ours, then those of ours that have a value:
 * "NAME=value" sets, "NAME" removes.  NULL-terminated. */
static char **child_env(char *const *ours, int nours)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + (size_t)nours + 1, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int replaced = 0;
		for (int j = 0; j < nours && !replaced; j++) {
			size_t l = strcspn(ours[j], "=");
			replaced = !strncmp(environ[i], ours[j], l) && environ[i][l] == '=';
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (int j = 0; j < nours; j++)
		if (strchr(ours[j], '='))
			env[k++] = ours[j];
	env[k] = NULL;
	return env;
}

typedef void (*line_fn)(const char *line, void *userdata);

/*
 * Runs path with argv and envp on cpus and hands each line of its stdout to fn (its stderr is
 * ours).  After timeout_s it is killed.  Returns 0 when
 * it exited with 0, else a message in why.
 */
static int run_child(const char *path, char *const argv[], char *const envp[],
		     const cpu_set_t *cpus, double timeout_s, line_fn fn, void *userdata, char *why,
		     size_t whylen)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: the parent may have threads (OpenBLAS).  A
		 * peer must not outlive an interrupted bench and keep its cores busy. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (cpus)
			sched_setaffinity(0, sizeof *cpus, cpus);
		dup2(fds[1], STDOUT_FILENO);
		execve(path, argv, envp);
		_exit(127);
	}
	close(fds[1]);
	char buf[65536];
	size_t used = 0;
	double deadline = bench_now() + timeout_s;
	int timed_out = 0;
	for (;;) {
		double left = deadline - bench_now();
		if (left <= 0) {
			/* A Python Pool's workers leave when their parent's pipe closes. */
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p = {fds[0], POLLIN, 0};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t got = read(fds[0], buf + used, sizeof buf - 1 - used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
		buf[used] = 0;
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			fn(line, userdata);
			line = nl + 1;
		}
		used = (size_t)(buf + used - line);
		memmove(buf, line, used);
		if (used == sizeof buf - 1)
			used = 0; /* a line this long is not ours: drop it */
	}
	close(fds[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(why, whylen, "killed after %.0f s", timeout_s);
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, whylen, "exited with status %d%s", WEXITSTATUS(st),
			 WEXITSTATUS(st) == 127 ? " (could not execute)" : "");
	else
		snprintf(why, whylen, "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -1;
}

/* ---- one flat JSON object per line: strings, numbers, arrays of numbers ---- */

struct jrec {
	char kernel[64], impl[32], error[256], skipped[200], note[200];
	char numpy[64], blas[160], python[32];
	double workers, n, value, threads;
	double samples[BENCH_MAX_SAMPLES];
	int nsamples, has_value;
};

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* A JSON string into out (truncated); returns the position after it, or NULL. */
static const char *parse_string(const char *p, char *out, size_t len)
{
	if (*p != '"')
		return NULL;
	size_t k = 0;
	for (p++; *p && *p != '"'; p++) {
		char ch = *p;
		if (ch == '\\') {
			p++;
			if (!*p)
				return NULL;
			ch = *p == 'n' ? ' ' : *p == 't' ? ' ' : *p;
			if (*p == 'u') { /* not produced by the peers except for control bytes */
				for (int i = 0; i < 4 && p[1]; i++)
					p++;
				ch = '?';
			}
		}
		if (k + 1 < len)
			out[k++] = ch;
	}
	if (len)
		out[k] = 0;
	return *p == '"' ? p + 1 : NULL;
}

/* The field of j that holds string `key` (and its size), or NULL. */
static char *jrec_string(struct jrec *j, const char *key, size_t *cap)
{
	const struct {
		const char *key;
		char *dst;
		size_t cap;
	} fields[] = {
		{"kernel", j->kernel, sizeof j->kernel},    {"impl", j->impl, sizeof j->impl},
		{"error", j->error, sizeof j->error},	    {"note", j->note, sizeof j->note},
		{"skipped", j->skipped, sizeof j->skipped}, {"numpy", j->numpy, sizeof j->numpy},
		{"blas", j->blas, sizeof j->blas},	    {"python", j->python, sizeof j->python},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (!strcmp(key, fields[i].key)) {
			*cap = fields[i].cap;
			return fields[i].dst;
		}
	}
	return NULL;
}

static int parse_line(const char *line, struct jrec *j)
{
	memset(j, 0, sizeof *j);
	j->workers = j->n = j->threads = -1;
	const char *p = skip_ws(line);
	if (*p++ != '{')
		return -1;
	for (;;) {
		p = skip_ws(p);
		if (*p == '}')
			return 0;
		char key[32];
		if (!(p = parse_string(p, key, sizeof key)))
			return -1;
		p = skip_ws(p);
		if (*p++ != ':')
			return -1;
		p = skip_ws(p);
		if (*p == '"') {
			size_t cap;
			char tmp[256], *dst = jrec_string(j, key, &cap);
			if (!(p = parse_string(p, tmp, sizeof tmp)))
				return -1;
			if (dst)
				snprintf(dst, cap, "%s", tmp);
		} else if (*p == '[') {
			p = skip_ws(p + 1);
			while (*p && *p != ']') {
				char *end;
				double v = strtod(p, &end);
				if (end == p)
					return -1;
				if (!strcmp(key, "samples") && j->nsamples < BENCH_MAX_SAMPLES)
					j->samples[j->nsamples++] = v;
				p = skip_ws(end);
				if (*p == ',')
					p = skip_ws(p + 1);
			}
			if (*p++ != ']')
				return -1;
		} else {
			char *end;
			double v = strtod(p, &end);
			if (end == p) { /* true, false, null */
				while (isalpha((unsigned char)*p))
					p++;
				v = NAN;
			} else {
				p = end;
			}
			if (!strcmp(key, "workers"))
				j->workers = v;
			else if (!strcmp(key, "n"))
				j->n = v;
			else if (!strcmp(key, "threads"))
				j->threads = v;
			else if (!strcmp(key, "value")) {
				j->value = v;
				j->has_value = !isnan(v);
			}
		}
		p = skip_ws(p);
		if (*p == ',')
			p++;
		else if (*p != '}')
			return -1;
	}
}

/* ---- records from a peer's lines ---- */

struct peer_run {
	const struct bench_config *cfg;
	const struct bench_refs *refs;
	struct bench_results *res;
	int impl, workers;
	int asked[BK_COUNT], got[BK_COUNT];
};

static void peer_line(const char *line, void *userdata)
{
	struct peer_run *pr = userdata;
	const char *iname = bench_impl_names[pr->impl];
	struct jrec j;
	if (parse_line(line, &j)) {
		bench_progress("%s: ignoring a line it printed: %.80s", iname, line);
		return;
	}
	int k = bench_kernel_find(j.kernel);
	if (k < 0 || !pr->asked[k]) {
		/* An error about several kernels (or none): every one asked for fails. */
		for (int i = 0; i < BK_COUNT; i++) {
			if (!pr->asked[i] || pr->got[i])
				continue;
			struct bench_rec rec;
			bench_rec_init(&rec, i, pr->impl, pr->workers, 0);
			bench_rec_fail(&rec, BS_FAILED, "%s", j.error[0] ? j.error : "bad record");
			bench_results_add(pr->res, &rec);
			pr->got[i] = 1;
			pr->res->failures++;
		}
		return;
	}
	pr->got[k] = 1;
	struct bench_rec rec;
	bench_rec_init(&rec, k, pr->impl, pr->workers, j.n > 0 ? (size_t)j.n : 0);
	if (j.skipped[0]) {
		bench_rec_fail(&rec, BS_SKIPPED, "%s", j.skipped);
		bench_progress("%-15s %-13s %d worker(s): skipped: %s", iname, j.kernel,
			       pr->workers, j.skipped);
		bench_results_add(pr->res, &rec);
		return;
	}
	if (j.error[0]) {
		bench_rec_fail(&rec, BS_FAILED, "%s", j.error);
		pr->res->failures++;
		bench_progress("%-15s %-13s %d worker(s): FAILED: %s", iname, j.kernel, pr->workers,
			       j.error);
		bench_results_add(pr->res, &rec);
		return;
	}
	memcpy(rec.samples, j.samples, sizeof j.samples);
	rec.nsamples = j.nsamples;
	rec.has_value = j.has_value;
	rec.value = j.value;
	if (j.note[0])
		snprintf(rec.note, sizeof rec.note, "%s", j.note);
	if (j.threads > 0 && (int)j.threads != pr->workers)
		snprintf(rec.note, sizeof rec.note, "ran %d threads, not %d", (int)j.threads,
			 pr->workers);
	double want = bench_refs_value(pr->refs, k, rec.n);
	if (!rec.nsamples) {
		bench_rec_fail(&rec, BS_FAILED, "no samples");
		pr->res->failures++;
	} else if (!isnan(want) && (!rec.has_value || !bench_value_ok(rec.value, want))) {
		bench_rec_fail(&rec, BS_FAILED, "WRONG RESULT: %.17g, serial loop gives %.17g",
			       rec.value, want);
		pr->res->failures++;
	} else {
		bench_rec_finish(&rec);
	}
	if (rec.status == BS_OK) {
		char t[32];
		bench_format_time(t, sizeof t, rec.median_s);
		bench_progress("%-15s %-13s %d worker(s): %s, %.4g %s", iname, j.kernel,
			       pr->workers, t, rec.rate,
			       bench_metric_unit(bench_kernels[k].metric));
	} else {
		bench_progress("%-15s %-13s %d worker(s): FAILED: %s", iname, j.kernel, pr->workers,
			       rec.note);
	}
	bench_results_add(pr->res, &rec);
}

/* ---- Python ---- */

static int py_state = -1; /* -1 not probed, 0 unusable, 1 usable */
static char py_info[256];

static void probe_line(const char *line, void *userdata)
{
	struct jrec j;
	(void)userdata;
	if (parse_line(line, &j))
		return;
	if (j.error[0])
		snprintf(py_info, sizeof py_info, "%s", j.error);
	else if (j.numpy[0] && snprintf(py_info, sizeof py_info, "numpy %s (Python %s) on %s",
					j.numpy, j.python, j.blas) < 0)
		py_info[0] = 0;
}

int bench_python_probe(char *info, size_t len)
{
	if (py_state < 0) {
		const char *py = bench_peers_py_path();
		char why[128];
		py_state = 0;
		if (access(PYTHON, X_OK))
			snprintf(py_info, sizeof py_info, "%s not found", PYTHON);
		else if (!py)
			snprintf(py_info, sizeof py_info,
				 "peers.py not found (set BRG_BENCH_PEERS to its path)");
		else {
			char *argv[] = {(char *)PYTHON, (char *)py, (char *)"--probe", NULL};
			py_info[0] = 0;
			if (run_child(PYTHON, argv, environ, NULL, 60, probe_line, NULL, why,
				      sizeof why) == 0 &&
			    !strncmp(py_info, "numpy ", 6))
				py_state = 1;
			else if (!py_info[0])
				snprintf(py_info, sizeof py_info, "%s --probe %s", py, why);
		}
	}
	snprintf(info, len, "%s", py_info);
	return py_state;
}

/* ---- one implementation at one worker count ---- */

void bench_run_peer(const struct bench_config *cfg, const struct bench_refs *refs, int impl,
		    int workers, struct bench_results *res)
{
	struct peer_run pr = {
		.cfg = cfg, .refs = refs, .res = res, .impl = impl, .workers = workers};
	char list[256] = "";
	const char *iname = bench_impl_names[impl];
	for (int k = 0; k < BK_COUNT; k++) {
		const char *why;
		if (!cfg->kernels[k])
			continue;
		if (!bench_peer_supports(impl, k, &why)) {
			if (why)
				bench_note(res, "%s", why);
			continue;
		}
		pr.asked[k] = 1;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
			 list[0] ? "," : "", bench_kernels[k].name);
	}
	if (!list[0])
		return;

	int python = impl == BI_NUMPY || impl == BI_PICKLE || impl == BI_SHM;
	const char *path;
	char why[256];
	if (python) {
		char info[256];
		if (bench_python_probe(info, sizeof info) != 1) {
			bench_note(res, "Python peers skipped: %s", info);
			return;
		}
		path = bench_peers_py_path();
	} else {
		path = bench_peer_helper_path();
		if (!path) {
			bench_note(res,
				   "serial/openmp/openblas peers skipped: brigade-bench-peer not "
				   "found (set BRG_BENCH_PEER to its path)");
			res->failures++;
			return;
		}
	}

	char a_workers[24], a_n[24], a_rows[24], a_cols[24], a_gemm[24], a_rep[24], a_repg[24],
		a_repp[24], a_claim[24], a_batch[24];
	snprintf(a_workers, sizeof a_workers, "%d", workers);
	snprintf(a_n, sizeof a_n, "%zu", impl == BI_PICKLE || impl == BI_SHM ? cfg->py_n : cfg->n);
	snprintf(a_rows, sizeof a_rows, "%zu", cfg->rows);
	snprintf(a_cols, sizeof a_cols, "%zu", cfg->cols);
	snprintf(a_gemm, sizeof a_gemm, "%zu", cfg->gemm_n);
	snprintf(a_rep, sizeof a_rep, "%d", cfg->repeat);
	snprintf(a_repg, sizeof a_repg, "%d", cfg->repeat_gemm);
	snprintf(a_repp, sizeof a_repp, "%d", cfg->repeat_pool);
	snprintf(a_claim, sizeof a_claim, "%zu", cfg->claim_n);
	/* A Python round trip costs some 100 us, an OpenMP region a few: similar batch times. */
	snprintf(a_batch, sizeof a_batch, "%d",
		 python ? (cfg->empty_batch / 10 ? cfg->empty_batch / 10 : 1) : cfg->empty_batch);
	char *argv[32];
	int ac = 0;
	if (python) {
		argv[ac++] = (char *)PYTHON;
		argv[ac++] = (char *)path;
	} else {
		argv[ac++] = (char *)"brigade-bench-peer";
	}
	char *const opts[][2] = {
		{"--impl", (char *)iname}, {"--workers", a_workers},
		{"--kernels", list},	   {"--n", a_n},
		{"--gemm-n", a_gemm},	   {"--repeat", a_rep},
		{"--repeat-gemm", a_repg}, {"--empty-batch", a_batch},
	};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		argv[ac++] = opts[i][0];
		argv[ac++] = opts[i][1];
	}
	if (python) {
		argv[ac++] = (char *)"--repeat-pool";
		argv[ac++] = a_repp;
	} else {
		argv[ac++] = (char *)"--rows";
		argv[ac++] = a_rows;
		argv[ac++] = (char *)"--cols";
		argv[ac++] = a_cols;
		argv[ac++] = (char *)"--claim-n";
		argv[ac++] = a_claim;
	}
	argv[ac] = NULL;

	/* Threads of OpenMP and OpenBLAS: one per core of the pool's cores, OpenMP bound like
	 * brigade's compact placement.  The Python Pools run one process per core, each with
	 * single-threaded BLAS; numpy's own np.dot and @ get all the cores.  Only the OpenMP
	 * peer gets OMP_PROC_BIND and OMP_PLACES: with either set, libgomp binds the initial
	 * thread to one core as the process starts, and OpenBLAS, counting the CPUs it may use,
	 * would then start a single thread. */
	char e_omp[40], e_blas[40];
	int threads = impl == BI_PICKLE || impl == BI_SHM ? 1 : workers;
	snprintf(e_omp, sizeof e_omp, "OMP_NUM_THREADS=%d", threads);
	snprintf(e_blas, sizeof e_blas, "OPENBLAS_NUM_THREADS=%d", threads);
	char *ours[] = {
		e_omp,
		e_blas,
		(char *)(impl == BI_OPENMP ? "OMP_PROC_BIND=close" : "OMP_PROC_BIND"),
		(char *)(impl == BI_OPENMP ? "OMP_PLACES=cores" : "OMP_PLACES"),
	};
	char **envp = child_env(ours, 4);
	cpu_set_t cpus;
	int r = pool_cpus(workers, &cpus);
	if (!envp || r) {
		bench_note(res, "%s at %d workers not run: %s", iname, workers,
			   !envp ? "out of memory" : brg_strerror(r));
		res->failures++;
		free(envp);
		return;
	}
	double timeout = cfg->quick ? 120 : 600;
	if (run_child(python ? PYTHON : path, argv, envp, &cpus, timeout, peer_line, &pr, why,
		      sizeof why)) {
		bench_note(res, "%s at %d workers: %s %s", iname, workers, path, why);
		res->failures++;
	}
	free(envp);
	for (int k = 0; k < BK_COUNT; k++) {
		if (!pr.asked[k] || pr.got[k])
			continue;
		struct bench_rec rec;
		bench_rec_init(&rec, k, impl, workers, 0);
		bench_rec_fail(&rec, BS_FAILED, "the peer process ended without a result");
		bench_results_add(res, &rec);
	}
}
