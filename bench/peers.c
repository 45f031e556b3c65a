/* SPDX-License-Identifier: MIT */
/* peers.c - the other implementations, each run in a child process pinned to the cores a
 * brigade pool of the same size gets: brigade-bench-peer (serial, OpenMP, OpenBLAS),
 * brigade-bench-peer-libomp (OpenMP on LLVM's libomp) and peers.py (numpy, brigade's package,
 * Python Pools).
 * Their JSON lines become records, checked like brigade's. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

#ifndef BRG_LIBEXECDIR
#define BRG_LIBEXECDIR "/usr/local/libexec"
#endif
#ifndef BRG_BENCH_SRCDIR
#define BRG_BENCH_SRCDIR "bench"
#endif
#ifndef BRG_BENCH_PYTHONDIR
#define BRG_BENCH_PYTHONDIR "tools/python"
#endif
#ifndef BRG_BENCH_DATADIR
#define BRG_BENCH_DATADIR "/usr/local/share/brigade"
#endif
#ifndef BRG_BINDIR_TO_LIBEXECDIR
#define BRG_BINDIR_TO_LIBEXECDIR "../libexec"
#endif
#ifndef BRG_BINDIR_TO_DATADIR
#define BRG_BINDIR_TO_DATADIR "../share"
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
	case BI_OPENMP_LLVM:
		if (kernel == BK_DGEMM)
			*why = no_gemm;
		/* OpenMP's auto is another schedule in each runtime (libgomp: static): brigade's
		 * is compared with the better of their dynamic and guided instead. */
		return kernel <= BK_STENCIL3 || kernel == BK_EMPTY || kernel == BK_CLAIM ||
		       kernel == BK_BARRIER || kernel == BK_PFOR ||
		       (bench_kernel_imb(kernel) && kernel != BK_IMB_AUTO);
	case BI_OPENBLAS:
		return kernel == BK_DOT || kernel == BK_SUMSQ || kernel == BK_DGEMM;
	case BI_NUMPY:
		return kernel <= BK_SUMSQ || kernel == BK_DGEMM;
	case BI_PYBRIGADE:
		return kernel <= BK_SUMSQ;
	case BI_PICKLE:
		return kernel <= BK_SUMSQ || kernel == BK_EMPTY || kernel == BK_START;
	case BI_SHM:
		return kernel <= BK_SUMSQ;
	case BI_PYFN:
		return kernel <= BK_SUMSQ || kernel == BK_EMPTY || kernel == BK_START;
	}
	return 0;
}

/* ---- where the helpers are ---- */

/* rel/file beside this executable (rel from its directory, or absolute) into path: 1 when
 * it is there with the access mode. */
static int beside_exe(const char *rel, const char *file, int mode, char *path, size_t len)
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
	int w = rel[0] == '/' ? snprintf(path, len, "%s/%s", rel, file)
			      : snprintf(path, len, "%s/%s/%s", exe, rel, file);
	return w > 0 && (size_t)w < len && access(path, mode) == 0;
}

/* 1 when this executable runs from the build tree (bench/ beside tools/). */
static int in_build_tree(char *helper, size_t len)
{
	return beside_exe("../bench", "brigade-bench-peer", X_OK, helper, len);
}

/* The helper `name` into path (PATH_MAX): env's value when set, else from the build tree, else
 * installed; NULL when it is not there. */
static const char *helper_path(const char *env_name, const char *name, char *path)
{
	const char *env = getenv(env_name);
	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	if (beside_exe("../bench", name, X_OK, path, PATH_MAX))
		return path;
	/* Installed: libexecdir relative to bindir (a moved install, or a DESTDIR, works),
	 * else where it was configured to go. */
	if (beside_exe(BRG_BINDIR_TO_LIBEXECDIR, name, X_OK, path, PATH_MAX))
		return path;
	snprintf(path, PATH_MAX, "%s/%s", BRG_LIBEXECDIR, name);
	return access(path, X_OK) == 0 ? path : NULL;
}

const char *bench_peer_helper_path(void)
{
	static char path[PATH_MAX];
	return helper_path("BRG_BENCH_PEER", "brigade-bench-peer", path);
}

const char *bench_peer_libomp_path(void)
{
#ifdef BRG_BENCH_HAVE_LIBOMP
	static char path[PATH_MAX];
	return helper_path("BRG_BENCH_PEER_LIBOMP", "brigade-bench-peer-libomp", path);
#else
	return NULL;
#endif
}

const char *bench_peers_py_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("BRG_BENCH_PEERS");
	if (env && *env)
		return access(env, R_OK) == 0 ? env : NULL;
	char helper[PATH_MAX];
	/* The build tree runs the source's copy, so an edit needs no rebuild. */
	if (in_build_tree(helper, sizeof helper))
		snprintf(path, sizeof path, "%s/peers.py", BRG_BENCH_SRCDIR);
	else if (!beside_exe(BRG_BINDIR_TO_DATADIR, "brigade/peers.py", R_OK, path,
				   sizeof path))
		snprintf(path, sizeof path, "%s/peers.py", BRG_BENCH_DATADIR);
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
	int n = brg_topo_placement(NULL, workers, BRG_BIND_COMPACT, pl, sizeof(brg_place), workers);
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

/* A child process with a pipe to its stdin and one from its stdout (its stderr is ours), the
 * leader of a process group of its own (a Python Pool's workers join it), so that the bench
 * can stop all of it and a Ctrl-C at the terminal reaches the bench alone. */
struct child {
	pid_t pid;
	int to, from;	    /* -1 once closed */
	int killed;	    /* the bench sent SIGKILL */
	unsigned long oom0; /* the kernel's OOM kills when it started */
	size_t used;
	char buf[65536];
	char line[65536]; /* the line child_getline returned */
};

/* The kernel's count of OOM kills since boot (/proc/vmstat oom_kill), or 0. */
static unsigned long oom_kills(void)
{
	char buf[8192];
	int fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *p = strstr(buf, "\noom_kill ");
	return p ? strtoul(p + 10, NULL, 10) : 0;
}

/* How a child ended, from its wait status; 0 when it exited with 0, else -1 and the cause in
 * why. */
static int describe_end(const struct child *c, int st, int stopped, char *why, size_t len)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st)) {
		snprintf(why, len, "exited with status %d%s", WEXITSTATUS(st),
			 WEXITSTATUS(st) == 127 ? " (could not execute)" : "");
	} else if (!WIFSIGNALED(st)) {
		snprintf(why, len, "ended with wait status %#x", st);
	} else if (WTERMSIG(st) != SIGKILL) {
		const char *name = sigabbrev_np(WTERMSIG(st));
		snprintf(why, len, "killed by signal %d (SIG%s: %s)", WTERMSIG(st),
			 name ? name : "?", strsignal(WTERMSIG(st)));
	} else if (stopped == BENCH_STOPPED_MEMORY) {
		snprintf(why, len, "stopped by the bench: the machine's available memory fell "
				   "under its floor");
	} else if (stopped || c->killed) {
		snprintf(why, len, "killed by the bench");
	} else if (oom_kills() > c->oom0) {
		snprintf(why, len, "killed by the kernel (out of memory: its OOM killer ran)");
	} else {
		snprintf(why, len, "killed by SIGKILL from outside the bench (the kernel, out of "
				   "memory?)");
	}
	return -1;
}

/* Starts path with argv and envp on cpus (NULL: ours); 0, or -1 with a message in why. */
static int child_spawn(struct child *c, const char *path, char *const argv[], char *const envp[],
		       const cpu_set_t *cpus, char *why, size_t whylen)
{
	int in[2], out[2];
	c->pid = -1;
	c->to = c->from = -1;
	c->used = 0;
	if (pipe2(in, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: the parent may have threads (OpenBLAS).  A
		 * peer must not outlive an interrupted bench and keep its cores busy. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigaction(SIGPIPE, &dfl, NULL); /* ignored by whoever started the bench? */
		if (cpus)
			sched_setaffinity(0, sizeof *cpus, cpus);
		/* With the bench's stdin closed, the pipe's read end is fd 0 already: dup2 would
		 * do nothing and leave it close-on-exec.  (The pipe to stdin is made first, so
		 * out[1] is never 0.) */
		if (in[0] == STDIN_FILENO)
			fcntl(in[0], F_SETFD, 0);
		else
			dup2(in[0], STDIN_FILENO);
		if (out[1] == STDOUT_FILENO)
			fcntl(out[1], F_SETFD, 0);
		else
			dup2(out[1], STDOUT_FILENO);
		execve(path, argv, envp);
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(in[0]);
	close(out[1]);
	c->pid = pid;
	c->to = in[1];
	c->from = out[0];
	c->killed = 0;
	c->oom0 = oom_kills();
	bench_guard_peer_add(pid);
	return 0;
}

/* The next line of the child's stdout into c->line: 1, or 0 at its end, or -1 when the
 * deadline (bench_now() seconds) passed first. */
static int child_getline(struct child *c, double deadline)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->used);
		if (nl) {
			size_t len = (size_t)(nl - c->buf);
			memcpy(c->line, c->buf, len);
			c->line[len] = 0;
			c->used -= len + 1;
			memmove(c->buf, nl + 1, c->used);
			return 1;
		}
		if (c->used == sizeof c->buf)
			c->used = 0; /* a line this long is not ours: drop it */
		if (c->from < 0)
			return 0;
		double left = deadline - bench_now();
		if (left <= 0)
			return -1;
		struct pollfd p = {c->from, POLLIN, 0};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r <= 0)
			continue; /* EINTR, or the deadline: looked at above */
		ssize_t got = read(c->from, c->buf + c->used, sizeof c->buf - c->used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			close(c->from);
			c->from = -1;
		} else {
			c->used += (size_t)got;
		}
	}
}

/* Writes a whole command line; 0, or -1 (the child has gone).  A child gone raises SIGPIPE in
 * this thread: it is blocked around the write and a pending one is taken, so the bench
 * lives on and keeps whatever disposition it had. */
static int child_send(struct child *c, const char *text)
{
	size_t len = strlen(text), done = 0;
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigset_t pending;
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	int r = c->to >= 0 ? 0 : -1;
	while (!r && done < len) {
		ssize_t w = write(c->to, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w < 0 && errno == EPIPE && !was_pending) {
				struct timespec zero = {0, 0};
				while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
					;
			}
			r = -1;
			break;
		}
		done += (size_t)w;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Kills the child's process group (the child and, for a Python Pool, its workers). */
static void child_kill(struct child *c)
{
	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		c->killed = 1;
	}
}

/* Ends stdin, drops what the child still prints, kills it when it has not exited within
 * grace_s (at once when kill_now), reaps it.  0 when it exited with 0, else -1 and how it
 * ended in why. */
static int child_end(struct child *c, double grace_s, int kill_now, char *why, size_t whylen)
{
	if (c->pid < 0)
		return 0;
	if (c->to >= 0)
		close(c->to);
	c->to = -1;
	int timed_out = 0;
	if (kill_now)
		child_kill(c);
	double deadline = bench_now() + grace_s;
	int r;
	while (!c->killed && (r = child_getline(c, deadline)) != 0) {
		if (r < 0) {
			/* A Python Pool's workers leave when their parent's pipe closes. */
			child_kill(c);
			timed_out = 1;
		}
	}
	if (c->from >= 0)
		close(c->from);
	c->from = -1;
	/* Its output closed: it is ending.  One that lingers is killed after the grace.  It is
	 * reaped last: until then its pid names its group, whose rest (a Pool's workers) goes
	 * with it. */
	for (;;) {
		siginfo_t si = {0};
		int w = waitid(P_PID, (id_t)c->pid, &si,
			       WEXITED | WNOWAIT | (c->killed ? 0 : WNOHANG));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || si.si_pid == c->pid)
			break;
		if (bench_now() >= deadline) {
			child_kill(c);
			timed_out = 1;
			continue;
		}
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	/* Out of the guard's list while the zombie still holds the group's id, then reaped. */
	int stopped = bench_guard_peer_remove(c->pid);
	kill(-c->pid, SIGKILL);
	int st = 0;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		bench_guard_forget_libomp(c->pid);
	c->pid = -1;
	if (timed_out) {
		snprintf(why, whylen, "killed: no answer in time");
		return -1;
	}
	return describe_end(c, st, stopped, why, whylen);
}

typedef void (*line_fn)(const char *line, void *userdata);

/* Runs a child that takes no commands to its end, handing each line to fn; after timeout_s
 * it is killed.  0 when it exited with 0, else a message in why. */
static int run_child(const char *path, char *const argv[], char *const envp[],
		     const cpu_set_t *cpus, double timeout_s, line_fn fn, void *userdata, char *why,
		     size_t whylen)
{
	struct child *c = malloc(sizeof *c);
	if (!c) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	int r = child_spawn(c, path, argv, envp, cpus, why, whylen);
	if (r == 0) {
		close(c->to); /* nothing to say: its stdin ends at once */
		c->to = -1;
		double deadline = bench_now() + timeout_s;
		int got;
		while ((got = child_getline(c, deadline)) > 0)
			fn(c->line, userdata);
		r = child_end(c, 10, got < 0, why, whylen);
		if (got < 0)
			snprintf(why, whylen, "killed after %.0f s", timeout_s);
	}
	free(c);
	return r;
}

/* ---- one flat JSON object per line: strings, numbers, arrays of numbers ---- */

struct jrec {
	char kernel[64], impl[32], error[256], skipped[200], note[200];
	char numpy[64], blas[160], python[32];
	double workers, n, value, threads;
	double samples[BENCH_MAX_SAMPLES];
	int nsamples, has_value;
	int ready;   /* "ready": true, a serving peer's first line */
	int dropped; /* "dropped": true, the answer to "drop" */
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
				if (!strcmp(key, "ready"))
					j->ready = !strncmp(p, "true", 4);
				else if (!strcmp(key, "dropped"))
					j->dropped = !strncmp(p, "true", 4);
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

/* j's answer for kernel k into rec (initialised by the caller): samples appended and the value
 * checked against the reference, or rec marked skipped or failed. */
static void rec_from_jrec(const struct jrec *j, const struct bench_refs *refs, int workers,
			  struct bench_rec *rec)
{
	if (j->skipped[0]) {
		bench_rec_fail(rec, BS_SKIPPED, "%s", j->skipped);
		return;
	}
	if (j->error[0]) {
		bench_rec_fail(rec, BS_FAILED, "%s", j->error);
		return;
	}
	if (!j->nsamples) {
		bench_rec_fail(rec, BS_FAILED, "no samples");
		return;
	}
	if (j->n > 0)
		rec->n = (size_t)j->n;
	double want = bench_refs_value(refs, rec->kernel, rec->n);
	if (isnan(want) && (rec->kernel <= BK_DGEMM || bench_kernel_imb(rec->kernel))) {
		bench_rec_fail(rec, BS_FAILED, "no reference value for n = %zu", rec->n);
		return;
	}
	if (!isnan(want) && (!j->has_value || !bench_value_ok(j->value, want))) {
		bench_rec_fail(rec, BS_FAILED, "WRONG RESULT: %.17g, serial loop gives %.17g",
			       j->value, want);
		return;
	}
	for (int i = 0; i < j->nsamples && rec->nsamples < BENCH_MAX_SAMPLES; i++)
		rec->samples[rec->nsamples++] = j->samples[i];
	rec->has_value = j->has_value;
	rec->value = j->value;
	if (j->note[0])
		snprintf(rec->note, sizeof rec->note, "%s", j->note);
	if (j->threads > 0 && (int)j->threads != workers)
		snprintf(rec->note, sizeof rec->note, "ran %d threads, not %d", (int)j->threads,
			 workers);
	rec->status = BS_OK;
}

/* A run of a Python Pool peer: the kernels asked for and those answered. */
struct peer_run {
	const struct bench_refs *refs;
	struct bench_results *res;
	int impl, workers;
	int asked[BK_COUNT], got[BK_COUNT];
};

static void peer_line(const char *line, void *userdata)
{
	struct peer_run *pr = userdata;
	struct jrec j;
	if (parse_line(line, &j)) {
		bench_progress("%s: ignoring a line it printed: %.80s", bench_impl_names[pr->impl],
			       line);
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
			bench_report(pr->res, &rec, BENCH_WRONG);
			pr->got[i] = 1;
		}
		return;
	}
	pr->got[k] = 1;
	struct bench_rec rec;
	bench_rec_init(&rec, k, pr->impl, pr->workers, 0);
	rec_from_jrec(&j, pr->refs, pr->workers, &rec);
	if (rec.status == BS_OK)
		bench_rec_finish(&rec);
	bench_report(pr->res, &rec, rec.status == BS_FAILED ? BENCH_WRONG : 0);
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

/* ---- the peers' command lines, environments and cores ---- */

int bench_peer_serves(int impl)
{
	return impl == BI_SERIAL || impl == BI_OPENMP || impl == BI_OPENMP_LLVM ||
	       impl == BI_OPENBLAS || impl == BI_NUMPY || impl == BI_PYBRIGADE;
}

static int impl_python(int impl)
{
	return impl == BI_NUMPY || impl == BI_PYBRIGADE || impl == BI_PICKLE || impl == BI_SHM ||
	       impl == BI_PYFN;
}

/* ---- py-brigade: the package and the library it loads ---- */

static char pyb_library[PATH_MAX + 32], pyb_path[2 * PATH_MAX];

/* py-brigade's variables into env; returns how many.  BRIGADE_LIBRARY: the libbrigade this
 * executable runs on (the build tree's engine/, or the installed libdir), so that both sides
 * call the same code.  PYTHONPATH: the source tree's tools/python ahead of the caller's when
 * the bench runs from the build tree; installed, the package is in the interpreter's
 * site-packages and the caller's PYTHONPATH is kept. */
static int pyb_env(char *env[2])
{
	Dl_info di;
	int n = 0;
	if (dladdr((void *)(uintptr_t)brg_pool_create, &di) && di.dli_fname &&
	    strstr(di.dli_fname, "libbrigade"))
		snprintf(pyb_library, sizeof pyb_library, "BRIGADE_LIBRARY=%s", di.dli_fname);
	else /* linked in statically: the package finds the installed one */
		snprintf(pyb_library, sizeof pyb_library, "BRIGADE_LIBRARY");
	env[n++] = pyb_library;
	char helper[PATH_MAX];
	if (in_build_tree(helper, sizeof helper)) {
		const char *old = getenv("PYTHONPATH");
		snprintf(pyb_path, sizeof pyb_path, "PYTHONPATH=%s%s%s", BRG_BENCH_PYTHONDIR,
			 old && *old ? ":" : "", old && *old ? old : "");
		env[n++] = pyb_path;
	}
	return n;
}

static int pyb_state = -1; /* -1 not probed, 0 unusable, 1 usable */
static char pyb_info[256];

static void pyb_probe_line(const char *line, void *userdata)
{
	struct jrec j;
	(void)userdata;
	if (parse_line(line, &j))
		return;
	snprintf(pyb_info, sizeof pyb_info, "%s", j.error[0] ? j.error : "");
	if (!j.error[0])
		pyb_state = 1;
}

/* 1 when peers.py imports the brigade package and it loads libbrigade, in the environment
 * py-brigade gets; else 0 with the reason in info. */
static int pyb_probe(const char *py, char *info, size_t len)
{
	if (pyb_state < 0) {
		char *ours[2], **envp, why[128];
		int n = pyb_env(ours);
		char *argv[] = {(char *)PYTHON, (char *)py, (char *)"--probe", (char *)"--impl",
				(char *)"py-brigade", NULL};
		pyb_state = 0;
		pyb_info[0] = 0;
		envp = child_env(ours, n);
		if (!envp)
			snprintf(pyb_info, sizeof pyb_info, "out of memory");
		else if (run_child(PYTHON, argv, envp, NULL, 60, pyb_probe_line, NULL, why,
				   sizeof why))
			pyb_state = 0;
		if (pyb_state != 1 && !pyb_info[0])
			snprintf(pyb_info, sizeof pyb_info, "%s --probe --impl py-brigade %s", py,
				 why);
		free(envp);
	}
	snprintf(info, len, "%s", pyb_info);
	return pyb_state;
}

/* Where impl's peer is (the helper, or peers.py): 0, or -1 after a note (and a failure when
 * brigade's own helper is missing) in res. */
static int peer_path(int impl, struct bench_results *res, const char **path)
{
	if (impl_python(impl)) {
		char info[256];
		if (bench_python_probe(info, sizeof info) != 1) {
			bench_note(res, "Python peers skipped: %s", info);
			return -1;
		}
		*path = bench_peers_py_path();
		if ((impl == BI_PYBRIGADE || impl == BI_PYFN) &&
		    pyb_probe(*path, info, sizeof info) != 1) {
			bench_note(res, "%s skipped: %s", bench_impl_names[impl], info);
			return -1;
		}
		return 0;
	}
	if (impl == BI_OPENMP_LLVM) {
		*path = bench_peer_libomp_path();
		if (*path)
			return 0;
		bench_note(res, "openmp-llvm peer skipped: brigade-bench-peer-libomp not found "
				"(set BRG_BENCH_PEER_LIBOMP to its path)");
		res->failures++;
		return -1;
	}
	*path = bench_peer_helper_path();
	if (*path)
		return 0;
	bench_note(res, "serial/openmp/openblas peers skipped: brigade-bench-peer not found (set "
			"BRG_BENCH_PEER to its path)");
	res->failures++;
	return -1;
}

/* The strings of one peer's command line and environment. */
#define PEER_ENV 10
struct peer_args {
	char *argv[44];
	char *env_ours[PEER_ENV];
	int nenv;
	char num[14][24];
	char e_omp[40], e_blas[40];
	char shm_prefix[64];
};

static void peer_args_build(struct peer_args *pa, const struct bench_config *cfg, int impl,
			    int workers, const char *path, const char *kernels)
{
	int python = impl_python(impl), ac = 0, nn = 0;
	if (python) {
		pa->argv[ac++] = (char *)PYTHON;
		pa->argv[ac++] = (char *)path;
	} else {
		pa->argv[ac++] = (char *)(impl == BI_OPENMP_LLVM ? "brigade-bench-peer-libomp"
							  : "brigade-bench-peer");
	}
#define OPT(name, fmt, val)                                                                        \
	do {                                                                                       \
		snprintf(pa->num[nn], sizeof pa->num[nn], fmt, val);                               \
		pa->argv[ac++] = (char *)(name);                                                   \
		pa->argv[ac++] = pa->num[nn++];                                                    \
	} while (0)
	pa->argv[ac++] = (char *)"--impl";
	pa->argv[ac++] = (char *)bench_impl_names[impl];
	OPT("--workers", "%d", workers);
	OPT("--n", "%zu",
	    impl == BI_PICKLE ? cfg->pickle_n : impl == BI_SHM || impl == BI_PYFN ? cfg->shm_n : cfg->n);
	OPT("--gemm-n", "%zu", cfg->gemm_n);
	/* A Python round trip costs some 100 us, an OpenMP region a few: similar batch times. */
	OPT("--empty-batch", "%d",
	    python ? (cfg->empty_batch / 10 ? cfg->empty_batch / 10 : 1) : cfg->empty_batch);
	if (python) {
		if (impl == BI_SHM || impl == BI_PYBRIGADE || impl == BI_PYFN) {
			/* its SharedMemory, or its brigade segments and pool, under the run's
			 * names, which the guard removes */
			snprintf(pa->shm_prefix, sizeof pa->shm_prefix, "%s%s",
				 bench_segment_prefix(),
				 impl == BI_SHM ? "py-" : impl == BI_PYFN ? "pyf-" : "pyb-");
			pa->argv[ac++] = (char *)"--shm-prefix";
			pa->argv[ac++] = pa->shm_prefix;
		}
		if (kernels) {
			pa->argv[ac++] = (char *)"--kernels";
			pa->argv[ac++] = (char *)kernels;
			OPT("--repeat", "%d", cfg->repeat);
			OPT("--repeat-pool", "%d", cfg->repeat_pool);
		}
	} else {
		OPT("--rows", "%zu", cfg->rows);
		OPT("--cols", "%zu", cfg->cols);
		/* libomp as Debian builds it formats trace strings for every chunk it hands out,
		 * which makes a chunk cost many times libgomp's (bench/README.md): a tenth of the
		 * chunks keeps its claim run as short as the others'.  A sample is the mean time of
		 * a chunk either way. */
		size_t claim_n = cfg->claim_n;
		if (impl == BI_OPENMP_LLVM && claim_n >= 10)
			claim_n /= 10;
		OPT("--claim-n", "%zu", claim_n);
		OPT("--pfor-batch", "%d", cfg->pfor_batch);
		OPT("--imb-n", "%zu", cfg->imb_n);
	}
#undef OPT
	pa->argv[ac] = NULL;

	/* Threads of OpenMP and OpenBLAS: one per core of the pool's cores, OpenMP bound like
	 * brigade's compact placement.  The Python Pools run one process per core, each with
	 * single-threaded BLAS; numpy's own np.dot and @ get all the cores.  Only the OpenMP
	 * peers get OMP_PROC_BIND and OMP_PLACES: with either set, libgomp binds the initial
	 * thread to one core as the process starts, and OpenBLAS, counting the CPUs it may use,
	 * would then start a single thread.  libomp binds by the same two variables once
	 * KMP_AFFINITY, which would override them, is gone; OMP_WAIT_POLICY would change how
	 * long either runtime's idle threads spin, so it goes too. */
	int threads = impl == BI_PICKLE || impl == BI_SHM ? 1 : workers;
	/* py-brigade calls no BLAS, and its pool is forked from the process after numpy is
	 * imported: with one OpenBLAS thread there is no thread of OpenBLAS's to fork beside.
	 * py-brigade-fn's kernels call numpy's dot on one core each, as py-pool-shm's. */
	if (impl == BI_PYBRIGADE || impl == BI_PYFN)
		threads = 1;
	int omp = impl == BI_OPENMP || impl == BI_OPENMP_LLVM;
	snprintf(pa->e_omp, sizeof pa->e_omp, "OMP_NUM_THREADS=%d", threads);
	snprintf(pa->e_blas, sizeof pa->e_blas, "OPENBLAS_NUM_THREADS=%d", threads);
	pa->env_ours[0] = pa->e_omp;
	pa->env_ours[1] = pa->e_blas;
	pa->env_ours[2] = (char *)(omp ? "OMP_PROC_BIND=close" : "OMP_PROC_BIND");
	pa->env_ours[3] = (char *)(omp ? "OMP_PLACES=cores" : "OMP_PLACES");
	/* glibc's debugging fill of every malloc and free (meson test sets it) would time the
	 * allocator: pickling 32 MiB takes 70 times as long under it. */
	pa->env_ours[4] = (char *)"MALLOC_PERTURB_";
	pa->env_ours[5] = (char *)"KMP_AFFINITY";
	pa->env_ours[6] = (char *)"OMP_WAIT_POLICY";
	/* libomp's idle threads spin KMP_BLOCKTIME ms (200 by default) before they sleep,
	 * libgomp's for a count of spins (GOMP_SPINCOUNT).  Within a timed run the regions
	 * follow each other closely enough that either runtime's threads are still spinning when
	 * the next one starts; between turns the bench waits until every thread sleeps, and the
	 * default would make that wait the longest part of a turn.  10 ms is about as long as
	 * libgomp spins (bench/README.md has the figures). */
	pa->env_ours[7] = (char *)(impl == BI_OPENMP_LLVM ? "KMP_BLOCKTIME=10" : "KMP_BLOCKTIME");
	pa->nenv = 8;
	if (impl == BI_PYBRIGADE || impl == BI_PYFN)
		pa->nenv += pyb_env(pa->env_ours + 8);
}

/* ---- a peer that serves commands ---- */

struct bench_peer {
	int impl, workers;
	double timeout; /* seconds an answer may take */
	int broken;	/* gone or killed: later commands fail at once */
	char why[200];
	struct child c;
};

int bench_peer_pid(const struct bench_peer *p)
{
	return p->c.pid;
}

struct bench_peer *bench_peer_start(const struct bench_config *cfg, int impl, int workers,
				    struct bench_results *res)
{
	const char *iname = bench_impl_names[impl], *path;
	if (peer_path(impl, res, &path))
		return NULL;
	struct bench_peer *p = calloc(1, sizeof *p);
	struct peer_args pa;
	cpu_set_t cpus;
	char **envp = NULL, why[256];
	int r = p ? pool_cpus(workers, &cpus) : -ENOMEM;
	if (!r) {
		peer_args_build(&pa, cfg, impl, workers, path, NULL);
		envp = child_env(pa.env_ours, pa.nenv);
		r = envp ? 0 : -ENOMEM;
	}
	if (r) {
		bench_note(res, "%s at %d workers not run: %s", iname, workers, brg_strerror(r));
		res->failures++;
		free(envp);
		free(p);
		return NULL;
	}
	p->impl = impl;
	p->workers = workers;
	p->timeout = cfg->quick ? 120 : 600;
	r = child_spawn(&p->c, impl_python(impl) ? PYTHON : path, pa.argv, envp, &cpus, why,
			sizeof why);
	free(envp);
	if (r == 0) {
		/* Its first line says it is ready: started, its threads made, numpy imported. */
		struct jrec j;
		int got = child_getline(&p->c, bench_now() + 120);
		if (got > 0 && !parse_line(p->c.line, &j) && j.ready)
			return p;
		snprintf(why, sizeof why, "%s",
			 got < 0	      ? "not ready after 120 s"
			 : got == 0	      ? "ended before it was ready"
			 : !parse_line(p->c.line, &j) && j.error[0] ? j.error
								     : "did not say it was ready");
		char end[160];
		if (child_end(&p->c, 10, got < 0, end, sizeof end) && got == 0) {
			size_t l = strlen(why);
			snprintf(why + l, sizeof why - l, " (%s)", end);
		}
	}
	bench_note(res, "%s at %d workers: %s %s", iname, workers, path, why);
	res->failures++;
	free(p);
	return NULL;
}

/* The peer went away (EOF, or no answer by the deadline: timed_out): reaped, its cause kept in
 * p->why for the records of its later commands. */
static void peer_lost(struct bench_peer *p, int timed_out)
{
	char how[160];
	p->broken = 1;
	if (child_end(&p->c, timed_out ? 0 : 5, timed_out, how, sizeof how) == 0)
		snprintf(how, sizeof how, "it exited");
	if (timed_out)
		snprintf(p->why, sizeof p->why, "no answer in %.0f s, killed", p->timeout);
	else
		snprintf(p->why, sizeof p->why, "%s", how);
	bench_progress("%s at %d worker%s: the peer process is gone (%s); the run goes on "
		       "without it",
		       bench_impl_names[p->impl], p->workers, p->workers == 1 ? "" : "s", p->why);
}

/* Sends a command line; the next line that `want` accepts into *j: 0, or -1 (p broken). */
static int peer_ask(struct bench_peer *p, const char *cmd, int (*want)(const struct jrec *, const void *),
		    const void *arg, struct jrec *j)
{
	if (p->broken)
		return -1;
	if (child_send(&p->c, cmd)) {
		peer_lost(p, 0);
		return -1;
	}
	double deadline = bench_now() + p->timeout;
	for (;;) {
		int got = child_getline(&p->c, deadline);
		if (got <= 0) {
			peer_lost(p, got < 0);
			return -1;
		}
		if (parse_line(p->c.line, j)) {
			bench_progress("%s: ignoring a line it printed: %.80s",
				       bench_impl_names[p->impl], p->c.line);
			continue;
		}
		if (want(j, arg))
			return 0;
	}
}

static int is_answer_to(const struct jrec *j, const void *kname)
{
	return !strcmp(j->kernel, kname) || !strcmp(j->kernel, "?");
}

static int is_dropped(const struct jrec *j, const void *unused)
{
	(void)unused;
	return j->dropped;
}

void bench_peer_run(struct bench_peer *p, const struct bench_refs *refs, int kernel, int repeat,
		    struct bench_rec *rec)
{
	const char *kname = bench_kernels[kernel].name;
	char cmd[64];
	struct jrec j;
	snprintf(cmd, sizeof cmd, "%s %d\n", kname, repeat);
	if (peer_ask(p, cmd, is_answer_to, kname, &j)) {
		bench_rec_fail(rec, BS_FAILED, "the peer process is gone (%s)", p->why);
		return;
	}
	rec_from_jrec(&j, refs, p->workers, rec);
}

void bench_peer_drop(struct bench_peer *p)
{
	struct jrec j;
	if (p)
		peer_ask(p, "drop\n", is_dropped, NULL, &j);
}

void bench_peer_stop(struct bench_peer *p, struct bench_results *res)
{
	if (!p)
		return;
	char why[160];
	/* A peer frees hundreds of MiB as it exits: seconds at most. */
	if (p->broken) {
		bench_note(res, "%s at %d workers: the peer process was lost (%s); its later "
				"records of the round failed and the run went on",
			   bench_impl_names[p->impl], p->workers, p->why);
		res->failures++;
	} else if (child_end(&p->c, 60, 0, why, sizeof why)) {
		bench_note(res, "%s at %d workers: %s", bench_impl_names[p->impl], p->workers, why);
		res->failures++;
	}
	free(p);
}

/* ---- a Python Pool peer, run once through ---- */

void bench_run_peer(const struct bench_config *cfg, const struct bench_refs *refs, int impl,
		    int workers, struct bench_results *res)
{
	struct peer_run pr = {.refs = refs, .res = res, .impl = impl, .workers = workers};
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
	const char *path;
	if (!list[0] || peer_path(impl, res, &path))
		return;
	struct peer_args pa;
	peer_args_build(&pa, cfg, impl, workers, path, list);
	char **envp = child_env(pa.env_ours, pa.nenv), why[256];
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
	if (run_child(PYTHON, pa.argv, envp, &cpus, timeout, peer_line, &pr, why, sizeof why)) {
		bench_note(res, "%s at %d workers: %s %s", iname, workers, path, why);
		res->failures++;
	}
	free(envp);
	if (impl == BI_SHM) {
		/* A Pool killed before it unlinked its SharedMemory leaves the names the next
		 * run of it would create. */
		int left = 0;
		for (const char *x = "abc"; *x; x++) {
			char name[BRG_NAME_MAX + 2];
			snprintf(name, sizeof name, "/%s%c", pa.shm_prefix, *x);
			left += shm_unlink(name) == 0;
		}
		if (left)
			bench_note(res, "%s at %d workers left %d SharedMemory segment%s behind; "
					"removed",
				   iname, workers, left, left == 1 ? "" : "s");
	}
	for (int k = 0; k < BK_COUNT; k++) {
		if (!pr.asked[k] || pr.got[k])
			continue;
		struct bench_rec rec;
		bench_rec_init(&rec, k, impl, workers, 0);
		bench_rec_fail(&rec, BS_FAILED, "the peer process ended without a result");
		bench_report(res, &rec, BENCH_WRONG);
	}
}
