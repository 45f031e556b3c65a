/* SPDX-License-Identifier: MIT */
/* pool.c - a pool's life: options, control block, starting, replacing and stopping workers. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h" /* brg__blas_single_thread */
#include "pool.h"

extern char **environ;

#ifndef BRG_LIBEXECDIR
#define BRG_LIBEXECDIR "/usr/local/libexec"
#endif
#ifndef BRG_LIBDIR_TO_LIBEXECDIR
#define BRG_LIBDIR_TO_LIBEXECDIR "../libexec"
#endif

/* brigade-worker where this library's install put it (libexecdir relative to the library's
 * own directory: an install moved, or under a DESTDIR, still works), else where the build
 * was configured to install it. */
static char *default_worker_path(void)
{
	Dl_info info;
	char path[PATH_MAX];
	const char *rel = BRG_LIBDIR_TO_LIBEXECDIR, *slash;
	static const char here = 0; /* an object of this library, for dladdr */
	if (rel[0] != '/' && dladdr(&here, &info) && info.dli_fname &&
	    (slash = strrchr(info.dli_fname, '/')) &&
	    snprintf(path, sizeof path, "%.*s/%s/brigade-worker", (int)(slash - info.dli_fname),
		     info.dli_fname, rel) < (int)sizeof path &&
	    access(path, X_OK) == 0)
		return strdup(path);
	return strdup(rel[0] == '/' ? BRG_LIBDIR_TO_LIBEXECDIR "/brigade-worker"
				    : BRG_LIBEXECDIR "/brigade-worker");
}

static int env_int(const char *name, long lo, long hi, long *out)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 1;
}

/* Options with defaults filled in: a field left zero takes the environment's value when one
 * is set (BRG_WORKERS, BRG_BIND, BRG_WAIT), else the built-in default; the environment never
 * overrides what the program chose.  0, or -EINVAL / -E2BIG for bad options or a bad value
 * in the environment. */
static int resolve_opts(const brg_pool_opts *in, brg_pool_opts *o)
{
	*o = (brg_pool_opts){.size = sizeof *o};
	int r;
	if (in && (r = brg__struct_in(o, sizeof *o, in, in->size, BRG_POOL_OPTS_SIZE_VER0)))
		return r;
	o->size = sizeof *o;
	long v;
	if (!o->workers) {
		if ((r = env_int("BRG_WORKERS", 1, BRG__MAX_WORKERS, &v)) < 0)
			return r;
		o->workers = r ? (int)v : 0; /* still 0: one per core, found later */
	}
	if (!o->spin_us) {
		if ((r = env_int("BRG_WAIT", 0, 10000000, &v)) < 0)
			return r;
		o->spin_us = r ? v : 50;
	} else if (o->spin_us == BRG_SPIN_NONE) {
		o->spin_us = 0;
	}
	const char *b = getenv("BRG_BIND");
	if (o->bind == BRG_BIND_DEFAULT && b && *b) {
		if (!strcmp(b, "compact"))
			o->bind = BRG_BIND_COMPACT;
		else if (!strcmp(b, "scatter"))
			o->bind = BRG_BIND_SCATTER;
		else if (!strcmp(b, "none"))
			o->bind = BRG_BIND_NONE;
		else
			return -EINVAL;
	}
	if (o->bind == BRG_BIND_DEFAULT)
		o->bind = BRG_BIND_COMPACT;
	if (o->start == BRG_START_DEFAULT)
		o->start = BRG_START_FORK;
	if (o->workers < 0 || o->workers > BRG__MAX_WORKERS || o->bind < BRG_BIND_COMPACT ||
	    o->bind > BRG_BIND_NONE || o->start < BRG_START_FORK || o->start > BRG_START_SPAWN ||
	    o->spin_us < 0 || o->spin_us > 10000000)
		return -EINVAL;
	if (o->plugin && strlen(o->plugin) >= sizeof(((struct brg__ctl *)0)->plugin))
		return -EINVAL;
	/* brigade-worker runs a plugin's kernels; a program of one's own (named by worker_path,
	 * marked by worker_args, an empty list when it takes none) brings its own. */
	if (o->start == BRG_START_SPAWN && !o->plugin && !o->worker_args)
		return -EINVAL;
	if (o->worker_args && !o->worker_path)
		return -EINVAL;
	if (o->nkernels > BRG__POOL_KERNELS_MAX || (o->nkernels && !o->kernels))
		return -EINVAL;
	for (size_t i = 0; i < o->nkernels; i++)
		if (!o->kernels[i].fn || !o->kernels[i].name ||
		    strlen(o->kernels[i].name) >= BRG__KERNEL_NAME)
			return -EINVAL;
	size_t nargs = 0;
	while (o->worker_args && o->worker_args[nargs])
		if (++nargs > BRG__WORKER_ARGS_MAX)
			return -EINVAL;
	return 0;
}

/* The options' kernels and worker arguments, copied into the pool; 0 or -ENOMEM. */
static int copy_tables(struct brg_pool *pool, const brg_pool_opts *o)
{
	if (o->nkernels) {
		pool->kernels = calloc(o->nkernels, sizeof *pool->kernels);
		if (!pool->kernels)
			return -ENOMEM;
		pool->nkernels = o->nkernels;
		for (size_t i = 0; i < o->nkernels; i++) {
			pool->kernels[i] = o->kernels[i];
			if (!(pool->kernels[i].name = strdup(o->kernels[i].name)))
				return -ENOMEM;
		}
	}
	size_t nargs = 0;
	while (o->worker_args && o->worker_args[nargs])
		nargs++;
	/* argv[0], the arguments, the control block, index, parent, NULL */
	if (!(pool->worker_args = calloc(nargs + 5, sizeof *pool->worker_args)))
		return -ENOMEM;
	for (size_t i = 0; i < nargs; i++)
		if (!(pool->worker_args[i + 1] = strdup(o->worker_args[i])))
			return -ENOMEM;
	return 0;
}

static void free_tables(struct brg_pool *pool)
{
	for (size_t i = 0; i < pool->nkernels; i++)
		free((char *)pool->kernels[i].name);
	free(pool->kernels);
	for (size_t i = 1; pool->worker_args && pool->worker_args[i]; i++)
		free(pool->worker_args[i]);
	free(pool->worker_args);
}

static void fork_child(struct brg_pool *pool, int i, pid_t parent)
{
	struct brg__ctl *ctl = pool->ctl;
	/* Die with the parent; the check closes the race with a parent that died first. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* Bound before any data is touched, so first touches land near this core. */
	if (pool->bind != BRG_BIND_NONE)
		hwloc_set_cpubind(pool->topo, pool->sets[i], HWLOC_CPUBIND_PROCESS);
	brg__blas_single_thread();
	if (pool->after_fork)
		pool->after_fork();
	if (brg__ctl_lock(ctl, (uint32_t)i) == 0) {
		ctl->w[i].state = BRG__W_IDLE;
		brg__ctl_unlock(ctl);
	}
	brg__worker_loop(ctl, pool->seg, (uint32_t)i, pool->kernels, pool->nkernels);
}

int brg__worker_start(struct brg_pool *pool, int i, int joining)
{
	struct brg__ctl *ctl = pool->ctl;
	struct brg__wrec *w = &ctl->w[i];
	int r = brg__ctl_lock(ctl, 0);
	if (r)
		return r;
	w->state = BRG__W_STARTING;
	w->error = 0;
	w->started_ns = brg__now_ns();
	pool->start_mono[i] = brg__mono_ns();
	w->slot.job_joined = 0;
	/* A worker started during a job takes part in it: ranges of the dead one wait for it. */
	w->job_done = joining ? ctl->job.id - 1 : ctl->job.id;
	brg__ctl_unlock(ctl);

	pid_t parent = getpid(), pid;
	if (pool->start == BRG_START_FORK) {
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0)
			fork_child(pool, i, parent);
	} else {
		char idx[16], ppid[16];
		snprintf(idx, sizeof idx, "%d", i);
		snprintf(ppid, sizeof ppid, "%d", (int)parent);
		/* argv[0], opts.worker_args, then the worker's three (the slots after the
		 * arguments are this call's alone: one thread uses a pool at a time). */
		char **argv = pool->worker_args;
		size_t k = 1;
		while (argv[k])
			k++;
		argv[0] = pool->worker_path;
		argv[k] = pool->seg->name;
		argv[k + 1] = idx;
		argv[k + 2] = ppid;
		r = posix_spawn(&pid, pool->worker_path, NULL, NULL, argv, environ);
		argv[k] = argv[k + 1] = argv[k + 2] = NULL;
		if (r)
			return -r;
	}
	__atomic_store_n(&w->pid, pid, __ATOMIC_RELEASE);
	return 0;
}

/* The worker record after its process ended, under the lock: the hand-out is repaired
 * (sched.c); the chunk it died running is queued for another worker, or fails the job when
 * running it again is unsafe or it already killed a worker once.  What it had not claimed
 * stays in its slot for the others, or its replacement. */
static void bury(struct brg_pool *pool, int i)
{
	struct brg__ctl *ctl = pool->ctl;
	struct brg__wrec *w = &ctl->w[i];
	if (brg__ctl_lock(ctl, 0))
		return;
	const struct brg__jobdesc *job = &ctl->job;
	struct brg__retry lost;
	if (__atomic_load_n(&ctl->job.in_flight, __ATOMIC_ACQUIRE) && w->job_done != job->id &&
	    brg__handout_recover(ctl, (uint32_t)i, (uint32_t)pool->nworkers, &lost)) {
		const struct brg__handout *h = &pool->job.view.h;
		uint64_t b = lost.begin * h->grain, e = lost.end * h->grain;
		e = e < h->n ? e : h->n;
		lost.kills++;
		if (!(job->kernel_flags & BRG_KERNEL_IDEMPOTENT))
			brg__job_fail(ctl, BRG_EWORKERDIED, 0, (uint32_t)i, b, e);
		else if (lost.kills >= 2)
			brg__job_fail(ctl, BRG_ERANGEKILLED, 0, (uint32_t)i, b, e);
		else if (ctl->hot.nretry < BRG__MAX_RETRY)
			ctl->h.retry[ctl->hot.nretry++] = lost;
		else
			brg__job_fail(ctl, BRG_EWORKERDIED, 0, (uint32_t)i, b, e);
	}
	w->slot.cur = 0;
	w->slot.intent = 0;
	w->state = BRG__W_DEAD;
	w->pid = 0;
	brg__ctl_unlock(ctl);
}

int brg__reap(struct brg_pool *pool)
{
	int n = 0;
	for (int i = 1; i < pool->nworkers; i++) {
		struct brg__wrec *w = &pool->ctl->w[i];
		pid_t pid = __atomic_load_n(&w->pid, __ATOMIC_ACQUIRE);
		if (pid <= 0)
			continue;
		/* A worker forked while another thread of the caller held a lock (in malloc,
		 * hwloc...) may hang before it ever runs: bounded, then killed and replaced. */
		if (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) == BRG__W_STARTING &&
		    brg__mono_ns() - pool->start_mono[i] > 10000000000ull &&
		    brg__ctl_lock(pool->ctl, 0) == 0) {
			/* Checked again under the lock: a worker that just became idle keeps
			 * its life (and any range it may hold). */
			if (w->state == BRG__W_STARTING)
				kill(pid, SIGKILL);
			brg__ctl_unlock(pool->ctl);
		}
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		/* ECHILD: someone else reaped it (SIGCHLD ignored, or a wait(-1) in the program);
		 * then only kill(0) can tell. */
		if (r == 0 || (r < 0 && errno == ECHILD && kill(pid, 0) == 0))
			continue;
		int was_failed = w->state == BRG__W_FAILED;
		int started = w->state != BRG__W_STARTING;
		bury(pool, i);
		n++;
		/* A worker that reported a failed start, or died starting three times in a row,
		 * would only die again: the slot is given up and jobs go on without it. */
		pool->start_failures[i] = started ? 0 : pool->start_failures[i] + 1;
		if (was_failed || pool->start_failures[i] >= 3) {
			w->state = BRG__W_FAILED;
			continue;
		}
		pool->replaced++;
		if (brg__worker_start(pool, i, __atomic_load_n(&pool->ctl->job.in_flight,
							       __ATOMIC_ACQUIRE)) < 0)
			w->state = BRG__W_FAILED;
	}
	return n;
}

/* Waits until every worker is idle, or one failed; bounded so a broken start never hangs. */
static int wait_ready(struct brg_pool *pool)
{
	struct brg__ctl *ctl = pool->ctl;
	uint64_t t0 = brg__mono_ns();
	for (;;) {
		int ready = 1;
		for (int i = 1; i < pool->nworkers; i++) {
			uint32_t st = __atomic_load_n(&ctl->w[i].state, __ATOMIC_ACQUIRE);
			if (st == BRG__W_FAILED)
				return ctl->w[i].error ? ctl->w[i].error : -ENOEXEC;
			if (st != BRG__W_IDLE)
				ready = 0;
		}
		if (ready)
			return 0;
		for (int i = 1; i < pool->nworkers; i++) {
			pid_t pid = ctl->w[i].pid;
			int st;
			if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) {
				ctl->w[i].pid = 0;
				return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? -ENOENT : -ENOEXEC;
			}
		}
		if (brg__mono_ns() - t0 > 10000000000ull)
			return -ETIMEDOUT;
		sched_yield();
	}
}

static void stop_workers(struct brg_pool *pool)
{
	struct brg__ctl *ctl = pool->ctl;
	__atomic_store_n(&ctl->job.shutdown, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ctl->job_seq, 1, __ATOMIC_SEQ_CST);
	brg__futex_wake(&ctl->job_seq, INT_MAX);
	uint64_t t0 = brg__mono_ns();
	for (int i = 1; i < pool->nworkers; i++) {
		pid_t pid = ctl->w[i].pid;
		if (pid <= 0)
			continue;
		int st;
		/* Workers exit at once; a kernel stuck in a loop gets SIGKILL after 2 s. */
		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (brg__mono_ns() - t0 > 2000000000ull) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				break;
			}
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
		ctl->w[i].pid = 0;
	}
}

/* One claim of the caller's own range, timed, for the auto schedule's cost model. */
static double measure_claim(struct brg_pool *pool)
{
	struct brg__ctl *ctl = pool->ctl;
	enum { N = 64 };
	struct brg__handout h;
	brg__handout_view(&h, N, BRG_SCHED_DYNAMIC, 1, 1);
	__atomic_store_n(&ctl->w[0].slot.range, brg__rng(0, N, 0), __ATOMIC_RELEASE);
	uint64_t t0 = brg__mono_ns();
	for (int k = 0; k < N; k++) {
		struct brg__range r = brg__next(ctl, 0, &h, 0);
		if (r.begin == r.end)
			break;
		brg__handout_done(&ctl->w[0].slot, 0);
	}
	double ns = (double)(brg__mono_ns() - t0) / N;
	__atomic_store_n(&ctl->w[0].slot.range, 0, __ATOMIC_RELEASE);
	ctl->w[0].slot.chunks_done = 0;
	ctl->w[0].slot.since_ns = 0;
	return ns;
}

/* 1 when two participants may run on one CPU: bound sets that overlap, or more unbound
 * participants than the CPUs this process may use. */
static int shares_cpus(const struct brg_pool *pool)
{
	if (pool->bind == BRG_BIND_NONE) {
		hwloc_const_bitmap_t allowed = hwloc_topology_get_allowed_cpuset(pool->topo);
		int cpus = allowed ? hwloc_bitmap_weight(allowed) : -1;
		return cpus > 0 && pool->nworkers > cpus;
	}
	for (int i = 0; i < pool->nworkers; i++)
		for (int j = i + 1; j < pool->nworkers; j++)
			if (hwloc_bitmap_intersects(pool->sets[i], pool->sets[j]))
				return 1;
	return 0;
}

static unsigned pool_counter;

int brg_pool_create(brg_pool **out, const brg_pool_opts *in)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	brg_pool_opts o;
	int r = resolve_opts(in, &o);
	if (r)
		return r;
	brg_pool *pool = calloc(1, sizeof *pool);
	if (!pool)
		return -ENOMEM;
	pool->bind = o.bind;
	pool->start = o.start;
	pool->after_fork = o.after_fork;
	pool->spin_us = o.spin_us;
	if ((r = copy_tables(pool, &o)))
		goto err_free;
	if (o.start == BRG_START_SPAWN) {
		const char *wp = o.worker_path ? o.worker_path : getenv("BRG_WORKER_PATH");
		pool->worker_path = wp ? strdup(wp) : default_worker_path();
		if (!pool->worker_path) {
			r = -ENOMEM;
			goto err_free;
		}
	}
	pool->topo = brg__topology(&r);
	if (!pool->topo)
		goto err_free;
	pool->nworkers = o.workers ? o.workers : brg__default_workers(pool->topo);
	pool->sets = calloc((size_t)pool->nworkers, sizeof *pool->sets);
	pool->start_failures = calloc((size_t)pool->nworkers, sizeof *pool->start_failures);
	pool->start_mono = calloc((size_t)pool->nworkers, sizeof *pool->start_mono);
	if (!pool->sets || !pool->start_failures || !pool->start_mono) {
		r = -ENOMEM;
		goto err_free;
	}
	for (int i = 0; i < pool->nworkers; i++)
		if (!(pool->sets[i] = hwloc_bitmap_alloc())) {
			r = -ENOMEM;
			goto err_sets;
		}
	if ((r = brg__placement(pool->topo, pool->bind, pool->nworkers, pool->sets)))
		goto err_sets;

	char name[BRG_NAME_MAX + 1];
	if (o.name)
		snprintf(name, sizeof name, "%s", o.name);
	else
		snprintf(name, sizeof name, "brg-pool-%d-%u", (int)getpid(),
			 __atomic_fetch_add(&pool_counter, 1, __ATOMIC_RELAXED));
	if (o.name && strlen(o.name) > BRG_NAME_MAX) {
		r = BRG_EBADNAME;
		goto err_sets;
	}
	size_t bytes = sizeof(struct brg__ctl);
	if ((r = brg__segment_create(&pool->seg, name, BRG_U8, 1, &bytes, NULL, BRG_KIND_POOL)))
		goto err_sets;
	struct brg__ctl *ctl = pool->ctl = brg_array_data(pool->seg);
	ctl->magic = BRG__CTL_MAGIC;
	ctl->version = BRG__CTL_VERSION;
	ctl->nworkers = (uint32_t)pool->nworkers;
	ctl->parent_pid = (int32_t)getpid();
	ctl->start_method = (uint32_t)pool->start;
	ctl->spin_us = (uint32_t)pool->spin_us;
	ctl->ctl_bytes = (uint32_t)bytes;
	ctl->yield = (uint32_t)shares_cpus(pool);
	if (o.plugin)
		snprintf(ctl->plugin, sizeof ctl->plugin, "%s", o.plugin);
	if ((r = brg__robust_mutex_init(&ctl->hot.lock, PTHREAD_MUTEX_NORMAL)))
		goto err_seg;
	for (int i = 0; i < pool->nworkers; i++) {
		brg_place p;
		brg__place_describe(pool->topo, pool->sets[i], pool->bind, &p);
		ctl->w[i].core = p.core;
		ctl->w[i].pu = p.pu;
		if (pool->bind != BRG_BIND_NONE)
			memcpy(ctl->w[i].cpuset, p.cpuset, sizeof ctl->w[i].cpuset);
	}
	ctl->w[0].pid = (int32_t)getpid();
	ctl->w[0].state = BRG__W_IDLE;
	if (pool->bind != BRG_BIND_NONE) {
		/* The caller is participant 0: bind the calling thread, restore it at destroy. */
		if (!(pool->caller_old = hwloc_bitmap_alloc())) {
			r = -ENOMEM;
			goto err_seg;
		}
		if (hwloc_get_cpubind(pool->topo, pool->caller_old, HWLOC_CPUBIND_THREAD) == 0 &&
		    hwloc_set_cpubind(pool->topo, pool->sets[0], HWLOC_CPUBIND_THREAD) == 0)
			pool->caller_bound = 1;
	}
	pool->claim_ns = measure_claim(pool);
	for (int i = 1; i < pool->nworkers; i++)
		if ((r = brg__worker_start(pool, i, 0)))
			goto err_workers;
	if ((r = wait_ready(pool)))
		goto err_workers;
	*out = pool;
	return 0;

err_workers:
	stop_workers(pool);
	if (pool->caller_bound)
		hwloc_set_cpubind(pool->topo, pool->caller_old, HWLOC_CPUBIND_THREAD);
err_seg:
	hwloc_bitmap_free(pool->caller_old);
	{
		char path[BRG_NAME_MAX + 2];
		brg__shm_path(path, pool->seg->name);
		brg_array_close(pool->seg);
		shm_unlink(path);
	}
err_sets:
	for (int i = 0; i < pool->nworkers; i++)
		hwloc_bitmap_free(pool->sets[i]);
	free(pool->sets);
	pool->sets = NULL;
err_free:
	free(pool->sets); /* NULL unless a later allocation failed */
	free(pool->start_failures);
	free(pool->start_mono);
	free(pool->worker_path);
	free_tables(pool);
	free(pool);
	return r;
}

void brg_pool_destroy(brg_pool *pool)
{
	if (!pool)
		return;
	/* A copy of the handle in a forked child (a language runtime's object freed there):
	 * the workers and the control block are the creator's, and a worker of this very pool
	 * may be the child, running on that mapping.  Nothing is touched; the copy's memory
	 * goes with the child. */
	if ((pid_t)pool->ctl->parent_pid != getpid())
		return;
	if (pool->job_live)
		brg_job_wait(&pool->job, -1, NULL);
	stop_workers(pool);
	if (pool->caller_bound)
		hwloc_set_cpubind(pool->topo, pool->caller_old, HWLOC_CPUBIND_THREAD);
	hwloc_bitmap_free(pool->caller_old);
	char path[BRG_NAME_MAX + 2];
	brg__shm_path(path, pool->seg->name);
	pthread_mutex_destroy(&pool->ctl->hot.lock);
	brg_array_close(pool->seg);
	shm_unlink(path);
	for (int i = 0; i < pool->nworkers; i++)
		hwloc_bitmap_free(pool->sets[i]);
	free(pool->sets);
	free(pool->start_failures);
	free(pool->start_mono);
	free(pool->worker_path);
	free_tables(pool);
	free(pool);
}

int brg_pool_size(const brg_pool *pool) { return pool ? pool->nworkers : -EINVAL; }
const char *brg_pool_name(const brg_pool *pool) { return pool ? pool->seg->name : NULL; }
int brg_pool_replaced(const brg_pool *pool) { return pool ? pool->replaced : -EINVAL; }

int brg_pool_worker_pid(const brg_pool *pool, int i)
{
	if (!pool || i < 1 || i >= pool->nworkers)
		return -EINVAL;
	return __atomic_load_n(&pool->ctl->w[i].pid, __ATOMIC_ACQUIRE);
}
