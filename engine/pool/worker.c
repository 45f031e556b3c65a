/* SPDX-License-Identifier: MIT */
/* worker.c - a worker process: waits for jobs, maps their arrays by name, claims ranges
 * and runs kernels; also the entry point of spawned workers (brigade-worker). */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pool.h"
#include "kernels.h"

/* Arrays this worker has mapped, by name and creation identity. */
#define CACHE_SLOTS 16
#define CACHE_IDLE_JOBS 8 /* unmapped after this many jobs without use */
_Static_assert(CACHE_SLOTS > BRG_JOB_MAX_ARRAYS, "a job never needs every slot");

struct cached {
	brg_array *a;
	uint64_t created_ns;
	int32_t creator_pid;
	int writable;
	uint64_t last_job;
};
static struct cached cache[CACHE_SLOTS];

static void cache_evict_idle(uint64_t job)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].a && job - cache[i].last_job > CACHE_IDLE_JOBS) {
			brg_array_close(cache[i].a);
			memset(&cache[i], 0, sizeof cache[i]);
		}
}

static int cache_get(const struct brg__jarray *ja, uint64_t job, brg_array **out)
{
	int free_slot = -1, oldest = 0;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct cached *c = &cache[i];
		if (!c->a) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strcmp(brg_array_name(c->a), ja->name))
			continue;
		/* The same name made again, or mapped read-only when the job writes: reopen. */
		if (c->created_ns == ja->created_ns && c->creator_pid == ja->creator_pid &&
		    (c->writable || !ja->writable)) {
			c->last_job = job;
			*out = c->a;
			return 0;
		}
		/* A mapping this job already handed out stays (the same name may come twice,
		 * read-only then writable): the new one takes another slot. */
		if (c->last_job == job)
			continue;
		brg_array_close(c->a);
		memset(c, 0, sizeof *c);
		free_slot = i;
		break;
	}
	if (free_slot < 0) {
		/* With at most BRG_JOB_MAX_ARRAYS per job, some slot was not used by this one. */
		for (int i = 0; i < CACHE_SLOTS; i++)
			if (cache[i].last_job != job &&
			    (cache[oldest].last_job == job || cache[i].last_job < cache[oldest].last_job))
				oldest = i;
		brg_array_close(cache[oldest].a);
		memset(&cache[oldest], 0, sizeof cache[oldest]);
		free_slot = oldest;
	}
	brg_array *a;
	int r = brg_array_open(&a, ja->name,
			       (ja->writable ? BRG_OPEN_WRITE : 0) |
				       (ja->any_owner ? BRG_OPEN_ANY_OWNER : 0));
	if (r)
		return r;
	if (a->meta.created_ns != ja->created_ns || a->meta.creator_pid != ja->creator_pid) {
		brg_array_close(a);
		return BRG_ENOARRAY; /* the name now holds another array than the job's */
	}
	cache[free_slot] = (struct cached){a, ja->created_ns, ja->creator_pid, ja->writable, job};
	*out = a;
	return 0;
}

/* A worker's copy of the job it runs, taken once it joined: the descriptor in shared
 * memory is then never read again for anything this process relies on. */
struct jobcopy {
	struct brg__jobview v;
	uint64_t fn;
	char kernel_name[BRG__KERNEL_NAME];
	struct brg__jarray arrays[BRG_JOB_MAX_ARRAYS];
	unsigned char args[BRG_ARGS_MAX] __attribute__((aligned(BRG__LINE)));
};
static struct jobcopy snap;

/* 1 when addr lies in a loaded object: a kernel address from shared memory is checked
 * before it is called.  The last few good ones are remembered, so dladdr (a walk of the
 * loaded objects under the loader's lock) runs once per function, not per job: a map job
 * checks the pool's kernel and the user's function in turn, and jobs of different kernels
 * alternate, which one remembered address missed every time.  A race between threads of
 * the caller can only cost a dladdr. */
#define CODE_OK_SLOTS 16
int brg__code_address_ok(const void *addr)
{
	static const void *ok[CODE_OK_SLOTS];
	static unsigned next;
	if (!addr)
		return 0;
	for (int i = 0; i < CODE_OK_SLOTS; i++)
		if (__atomic_load_n(&ok[i], __ATOMIC_RELAXED) == addr)
			return 1;
	Dl_info info;
	if (!dladdr(addr, &info) || !info.dli_fbase)
		return 0;
	unsigned slot = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % CODE_OK_SLOTS;
	__atomic_store_n(&ok[slot], addr, __ATOMIC_RELAXED);
	return 1;
}

static brg_kernel_fn find_kernel(const struct brg__ctl *ctl, const brg_kernel *plugin,
				 size_t nplugin)
{
	if (ctl->start_method == BRG_START_FORK) {
		/* Same image as the caller's: the address means the same function here, when
		 * it lies in a loaded object or is one of the pool's own kernels (plugin:
		 * opts.kernels, inherited with the rest of the caller's memory). */
		for (size_t i = 0; i < nplugin; i++)
			if ((uint64_t)(uintptr_t)plugin[i].fn == snap.fn)
				return plugin[i].fn;
		void *fn = (void *)(uintptr_t)snap.fn;
		return brg__code_address_ok(fn) ? (brg_kernel_fn)(uintptr_t)snap.fn : NULL;
	}
	const char *name = snap.kernel_name;
	for (size_t i = 0; i < nplugin; i++)
		if (plugin[i].name && plugin[i].fn && !strcmp(plugin[i].name, name))
			return plugin[i].fn;
	/* Then brigade's own kernels, so the public kernel calls work on spawned pools too. */
	size_t nbuiltin;
	const brg_kernel *builtin = brg__builtin_kernels(&nbuiltin);
	for (size_t i = 0; i < nbuiltin; i++)
		if (!strcmp(builtin[i].name, name))
			return builtin[i].fn;
	return NULL;
}

/* Copies the job and checks what the copy says; 0 or BRG_EPOOLSTATE. */
static int copy_job(const struct brg__ctl *ctl)
{
	const struct brg__jobdesc *j = &ctl->job;
	uint32_t nworkers = ctl->nworkers;
	snap.v = (struct brg__jobview){
		.n = j->n,
		.n_elems = j->n_elems,
		.block = j->block,
		.narrays = j->narrays,
		.args_size = j->args_size,
		.args = snap.args,
	};
	snap.fn = j->fn;
	if (ctl->start_method == BRG_START_SPAWN) {
		memcpy(snap.kernel_name, j->kernel_name, sizeof snap.kernel_name);
		snap.kernel_name[sizeof snap.kernel_name - 1] = 0;
	}
	const struct brg__jobview *v = &snap.v;
	if (v->narrays > BRG_JOB_MAX_ARRAYS || v->args_size > BRG_ARGS_MAX ||
	    nworkers > BRG__MAX_WORKERS || j->participants < 1 || j->participants > nworkers ||
	    j->sched_kind > BRG_SCHED_AUTO)
		return BRG_EPOOLSTATE;
	if (!brg__job_shape_ok(v->n, v->n_elems, v->block))
		return BRG_EPOOLSTATE;
	brg__handout_view(&snap.v.h, v->n, j->sched_kind, j->chunk, j->participants);
	memcpy(snap.arrays, j->arrays, v->narrays * sizeof snap.arrays[0]);
	for (uint32_t i = 0; i < v->narrays; i++)
		if (!memchr(snap.arrays[i].name, 0, sizeof snap.arrays[i].name))
			return BRG_EPOOLSTATE;
	memcpy(snap.args, j->args, v->args_size);
	return 0;
}

/* Takes part in the job in flight, if there is one this worker has not run yet. */
static void run_job(struct brg__ctl *ctl, uint32_t who, const brg_kernel *plugin,
		    size_t nplugin)
{
	struct brg__wrec *me = &ctl->w[who];
	int r;
	/* No lock: the id is published (release) after the previous job's in_flight = 0, and
	 * in_flight = 1 (release) after the descriptor, so in_flight read as 1 after this id is
	 * this job's, and its descriptor is whole. */
	uint64_t id = __atomic_load_n(&ctl->job.id, __ATOMIC_ACQUIRE);
	if (!__atomic_load_n(&ctl->job.in_flight, __ATOMIC_ACQUIRE) || id == me->job_done ||
	    id == me->slot.job_joined)
		return;
	me->slot.job_joined = id;
	me->state = BRG__W_BUSY;
	/* The descriptor cannot change until this worker reports the job done, so the copy
	 * needs no lock; it is checked before anything in it is used. */
	r = copy_job(ctl);

	brg_array *arrays[BRG_JOB_MAX_ARRAYS] = {0};
	brg_kernel_fn fn = NULL;
	if (!r) {
		if (!(fn = find_kernel(ctl, plugin, nplugin))) {
			r = BRG_ENOKERNEL;
		} else {
			cache_evict_idle(id);
			for (uint32_t i = 0; i < snap.v.narrays && !r; i++)
				r = cache_get(&snap.arrays[i], id, &arrays[i]);
		}
	}
	if (r) {
		/* Nothing was claimed: the job fails without a range. */
		if (brg__ctl_lock(ctl, who) == 0) {
			brg__job_fail(ctl, r, 1, who, 0, 0);
			brg__ctl_unlock(ctl);
		}
	} else {
		brg__participate(ctl, who, fn, arrays, &snap.v);
	}
	/* No lock: nothing is in flight any more, and the caller only reads these. */
	me->state = BRG__W_IDLE;
	__atomic_store_n(&me->job_done, id, __ATOMIC_SEQ_CST);
	/* Dekker with the caller: it sets caller_sleeping, then re-reads job_done. */
	if (__atomic_load_n(&ctl->caller_sleeping, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&ctl->done_seq, 1, __ATOMIC_SEQ_CST);
		brg__futex_wake(&ctl->done_seq, 1);
	}
}

void brg__worker_loop(struct brg__ctl *ctl, brg_array *ctl_seg, uint32_t who,
		      const brg_kernel *plugin, size_t nplugin)
{
	(void)ctl_seg;
	struct brg__wrec *me = &ctl->w[who];
	uint64_t spin_ns = (uint64_t)ctl->spin_us * 1000u;
	for (;;) {
		uint32_t seq = __atomic_load_n(&ctl->job_seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ctl->job.shutdown, __ATOMIC_ACQUIRE))
			_exit(0);
		/* A cheap look first; run_job decides under the lock. */
		if (__atomic_load_n(&ctl->job.in_flight, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&ctl->job.id, __ATOMIC_RELAXED) != me->job_done) {
			uint64_t joined = me->slot.job_joined;
			run_job(ctl, who, plugin, nplugin);
			if (me->slot.job_joined != joined)
				continue;
		}
		/* Spin first: a futex wake costs tens of microseconds, a spin a cache miss. */
		uint64_t t0 = brg__mono_ns();
		unsigned k = 0;
		while (__atomic_load_n(&ctl->job_seq, __ATOMIC_ACQUIRE) == seq) {
			brg__pause(ctl);
			if ((++k & 255) == 0 && brg__mono_ns() - t0 > spin_ns)
				break;
		}
		if (__atomic_load_n(&ctl->job_seq, __ATOMIC_ACQUIRE) != seq)
			continue;
		__atomic_add_fetch(&ctl->sleepers, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ctl->job_seq, __ATOMIC_SEQ_CST) == seq)
			brg__futex_wait(&ctl->job_seq, seq, -1);
		__atomic_sub_fetch(&ctl->sleepers, 1, __ATOMIC_SEQ_CST);
	}
}

/* Binds the calling process to a cpuset written in hwloc's list syntax, without loading a
 * topology (milliseconds we would pay in every spawned worker). */
static int bind_list(const char *text)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	int r = 0;
	if (hwloc_bitmap_list_sscanf(set, text) < 0) {
		r = -EINVAL;
	} else if (!hwloc_bitmap_iszero(set)) {
		cpu_set_t cs;
		CPU_ZERO(&cs);
		int i;
		hwloc_bitmap_foreach_begin(i, set)
		{
			if (i < CPU_SETSIZE)
				CPU_SET(i, &cs);
		}
		hwloc_bitmap_foreach_end();
		if (sched_setaffinity(0, sizeof cs, &cs) < 0)
			r = -errno;
	}
	hwloc_bitmap_free(set);
	return r;
}

/* A table of count kernels of entry bytes each (sizeof(brg_kernel) as its program or plugin
 * was built), each read under the extensible-struct rule, into a table of ours: 0, -ENOMEM,
 * or -ENOEXEC for a table this library cannot read. */
static int table_in(const brg_kernel *t, size_t count, size_t entry, brg_kernel **out)
{
	brg_kernel *k = calloc(count, sizeof *k);
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		if (brg__struct_in(&k[i], sizeof k[i], (const char *)t + i * entry, entry,
				   BRG_KERNEL_SIZE_VER0)) {
			free(k);
			return -ENOEXEC;
		}
	}
	*out = k;
	return 0;
}

/* The plugin's table, read by table_in. */
static int plugin_table(brg_plugin_kernels_fn get, brg_kernel **out, size_t *n)
{
	size_t count = 0, entry = 0;
	const brg_kernel *t = get(&count, &entry);
	*n = 0;
	if (!count)
		return 0;
	if (!t || count > 65536)
		return -ENOEXEC;
	int r = table_in(t, count, entry, out);
	if (!r)
		*n = count;
	return r;
}

int brg_worker_main(int argc, char **argv)
{
	return brg_worker_run(argc, argv, NULL, 0, sizeof(brg_kernel));
}

int brg_worker_run(int argc, char **argv, const brg_kernel *own, size_t nown, size_t entry_size)
{
	if (argc != 4 || (nown && (!own || entry_size < BRG_KERNEL_SIZE_VER0)) ||
	    nown > BRG__POOL_KERNELS_MAX)
		return 2;
	char *end;
	long idx = strtol(argv[2], &end, 10);
	long parent = strtol(argv[3], NULL, 10);
	if (*end || idx < 1 || idx >= BRG__MAX_WORKERS)
		return 2;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)parent)
		return 3; /* the parent died before we could ask to follow it */
	brg_array *seg;
	if (brg__segment_open(&seg, argv[1], BRG_OPEN_WRITE, BRG_KIND_POOL))
		return 4;
	struct brg__ctl *ctl = brg_array_data(seg);
	if (brg_array_nbytes(seg) < sizeof *ctl || ctl->magic != BRG__CTL_MAGIC ||
	    ctl->version != BRG__CTL_VERSION || (uint32_t)idx >= ctl->nworkers ||
	    ctl->parent_pid != (int32_t)parent) {
		brg_array_close(seg);
		return 5;
	}
	struct brg__wrec *me = &ctl->w[idx];
	char cpuset[BRG__CPUSET_TEXT], plugin_path[sizeof ctl->plugin];
	memcpy(cpuset, me->cpuset, sizeof cpuset);
	cpuset[sizeof cpuset - 1] = 0;
	memcpy(plugin_path, ctl->plugin, sizeof plugin_path);
	plugin_path[sizeof plugin_path - 1] = 0;
	int r = cpuset[0] ? bind_list(cpuset) : 0;
	brg_kernel *kernels = NULL, *mine = NULL;
	size_t nkernels = 0;
	if (!r && nown)
		r = table_in(own, nown, entry_size, &mine);
	if (!r && plugin_path[0]) {
		void *h = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
		brg_plugin_kernels_fn get = h ? (brg_plugin_kernels_fn)(uintptr_t)dlsym(
							h, "brg_plugin_kernels")
					      : NULL;
		r = get ? plugin_table(get, &kernels, &nkernels) : -ENOEXEC;
	}
	if (!r && nown) {
		/* The program's own kernels first, then the plugin's: one table. */
		brg_kernel *all = realloc(mine, (nown + nkernels) * sizeof *all);
		if (!all) {
			r = -ENOMEM;
		} else {
			if (nkernels)
				memcpy(all + nown, kernels, nkernels * sizeof *all);
			free(kernels);
			kernels = all;
			nkernels += nown;
			mine = NULL;
		}
	}
	free(mine);
	brg__blas_single_thread();
	if (brg__ctl_lock(ctl, (uint32_t)idx) == 0) {
		me->error = r;
		me->state = r ? BRG__W_FAILED : BRG__W_IDLE;
		brg__ctl_unlock(ctl);
	}
	if (r) {
		brg_array_close(seg);
		return 6;
	}
	brg__worker_loop(ctl, seg, (uint32_t)idx, kernels, nkernels);
}
