/* SPDX-License-Identifier: MIT */
/* job.c - running a job: publish, take part, wait (noticing dead workers), combine. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>

#include "kernels.h" /* brg__blas_threads_enter */
#include "pool.h"

int brg__ctl_lock(struct brg__ctl *ctl, uint32_t who)
{
	/* A robust mutex does not spin: a contended lock goes straight to a futex sleep, and a
	 * sleep and wake cost microseconds where a critical section here costs nanoseconds.
	 * So try for a short while first, then block. */
	int r = EBUSY;
	for (int k = 0; k < 64 && r == EBUSY; k++) {
		r = pthread_mutex_trylock(&ctl->hot.lock);
		if (r == EBUSY)
			for (int p = 0; p < 8; p++)
				brg__cpu_relax();
	}
	/* pthread_mutex_lock also when trylock says ENOTRECOVERABLE: glibc's trylock then
	 * leaves the lock held, and only lock reports the state and lets go of it. */
	if (r == EBUSY || r == ENOTRECOVERABLE)
		r = pthread_mutex_lock(&ctl->hot.lock);
	if (r == EOWNERDEAD) {
		/* The holder died inside a critical section.  Every section orders its writes
		 * so that a partial one only makes a chunk run twice, never not at all (see
		 * sched.c); the dead holder's slot is repaired when it is reaped.  Only the
		 * list of chunks to run again can be left half written. */
		pthread_mutex_consistent(&ctl->hot.lock);
		brg__retry_repair(ctl);
		r = 0;
	}
	if (r)
		return -r;
	return 0;
}

void brg__ctl_unlock(struct brg__ctl *ctl)
{
	pthread_mutex_unlock(&ctl->hot.lock);
}

void brg__job_fail(struct brg__ctl *ctl, int code, int stop, uint32_t who, uint64_t begin,
		   uint64_t end)
{
	const struct brg__jobdesc *job = &ctl->job;
	if (job->block) { /* report elements, not blocks */
		begin *= job->block;
		end = end * job->block < job->n_elems ? end * job->block : job->n_elems;
	}
	int first = !ctl->hot.error, stopped = ctl->hot.stop != 0;
	if (first || (stop && !stopped)) {
		/* The first error, or a kernel's error after a death: the kernel's is the one
		 * to report (the hand-out stops, so a death's promise no longer holds). */
		ctl->h.err_worker = (int32_t)who;
		ctl->h.err_begin = begin;
		ctl->h.err_end = end;
		__atomic_store_n(&ctl->hot.error, code, __ATOMIC_RELEASE);
	} else if (!stop && !stopped) {
		/* Another chunk lost to a death: the named range grows to cover both, so that
		 * every index outside it still ran exactly once. */
		if (begin < ctl->h.err_begin)
			ctl->h.err_begin = begin;
		if (end > ctl->h.err_end)
			ctl->h.err_end = end;
	}
	if (stop)
		__atomic_store_n(&ctl->hot.stop, 1, __ATOMIC_RELEASE);
}

/* The participant of a pool of one: nobody else writes its range word, so it is read once and
 * kept in a register, stored after each claim only for `brigade status`, and cur still
 * names the chunk in flight.  Fixed chunks (static, dynamic, auto) of a for-job. */
static void solo(struct brg__ctl *ctl, brg_kernel_fn fn, brg_task *t,
		 const struct brg__jobview *v, uint64_t start)
{
	struct brg__wrec *me = &ctl->w[0];
	struct brg__slot *s = &me->slot;
	const struct brg__handout *h = &v->h;
	uint64_t w = __atomic_load_n(&s->range, __ATOMIC_ACQUIRE);
	uint64_t nx = brg__rng_next(w), en = brg__rng_end(w);
	uint64_t c = h->kind == BRG_SCHED_STATIC ? en - nx : h->chunk;
	uint64_t stamp = brg__coarse_ns(), done = 0;
	s->since_ns = stamp;
	t->scratch = me->scratch;
	while (nx < en) {
		uint64_t e = en - nx < c ? en : nx + c;
		__atomic_store_n(&s->cur, brg__cur(nx, e, 0, 0), __ATOMIC_RELAXED);
		__atomic_store_n(&s->range, brg__rng(e, en, 0), __ATOMIC_RELAXED);
		struct brg__range r = brg__to_units(h, nx, e);
		t->begin = r.begin;
		t->end = r.end;
		int rc = fn(t);
		__atomic_store_n(&s->cur, 0, __ATOMIC_RELAXED);
		if (rc) {
			if (brg__ctl_lock(ctl, 0) == 0) {
				brg__job_fail(ctl, rc > 0 ? BRG_EKERNEL : rc, 1, 0, r.begin, r.end);
				brg__ctl_unlock(ctl);
			}
			break;
		}
		nx = e;
		if ((++done & 15) == 0) {
			s->since_ns = stamp = brg__coarse_ns();
			s->chunks_done += 16;
		}
	}
	s->chunks_done += done & 15;
	s->busy_ns += brg__mono_ns() - start;
}

void brg__participate(struct brg__ctl *ctl, uint32_t who, brg_kernel_fn fn,
		      brg_array *const *arrays, const struct brg__jobview *v)
{
	struct brg__wrec *me = &ctl->w[who];
	brg_task t = {
		.args = v->args,
		.arrays = arrays,
		.narrays = (int)v->narrays,
		.worker = (int)who,
	};
	/* Chunks are stamped with the coarse clock, read every 16th claim: it has millisecond
	 * resolution anyway, which is enough to tell how long a chunk is held.  Chunks done are
	 * counted every 16th too, busy time once per job. */
	uint64_t start = brg__mono_ns(), stamp = brg__coarse_ns();
	unsigned claims = 0;
	if (v->h.participants == 1 && !v->block && v->h.kind != BRG_SCHED_GUIDED) {
		solo(ctl, fn, &t, v, start);
		return;
	}
	for (;;) {
		struct brg__range r = {0, 0};
		if (!__atomic_load_n(&ctl->hot.stop, __ATOMIC_RELAXED))
			r = brg__claim_own(&me->slot, &v->h, who, stamp);
		if (r.begin == r.end)
			r = brg__next(ctl, who, &v->h, stamp); /* a retry, a steal, or nothing */
		/* Kept in general registers: GCC would otherwise pair them through the stack
		 * into a vector register for the task's two fields, a stalled store-to-load
		 * forward that cost more than the rest of a claim. */
		__asm__("" : "+r"(r.begin), "+r"(r.end));
		if (r.begin == r.end)
			break;
		int rc = 0;
		if (r.begin > r.end || r.end > v->n) {
			rc = BRG_EPOOLSTATE; /* a range beyond the job: the hand-out was tampered with */
		} else if (!v->block) {
			t.begin = r.begin;
			t.end = r.end;
			t.scratch = me->scratch;
			rc = fn(&t);
		} else {
			for (uint64_t b = r.begin; b < r.end && !rc; b++) {
				t.begin = b * v->block;
				t.end = t.begin + v->block < v->n_elems ? t.begin + v->block : v->n_elems;
				t.scratch = ctl->slots[b];
				rc = fn(&t);
			}
		}
		if (rc > 0)
			rc = BRG_EKERNEL;
		brg__handout_done(&me->slot, who);
		if (rc) {
			if (brg__ctl_lock(ctl, who) == 0) {
				brg__job_fail(ctl, rc, 1, who, r.begin, r.end);
				brg__ctl_unlock(ctl);
			}
			break;
		}
		/* The clock and the count of chunks done move every 16th chunk. */
		if ((++claims & 15) == 0) {
			stamp = brg__coarse_ns();
			me->slot.chunks_done += 16;
		}
	}
	me->slot.chunks_done += claims & 15;
	me->slot.busy_ns += brg__mono_ns() - start;
}

static uint64_t busy_total(const struct brg_pool *pool)
{
	uint64_t s = 0;
	for (int i = 0; i < pool->nworkers; i++)
		s += __atomic_load_n(&pool->ctl->w[i].slot.busy_ns, __ATOMIC_RELAXED);
	return s;
}

static int cost_slot(struct brg_pool *pool, const brg_kernel *k)
{
	int free_slot = -1;
	for (int i = 0; i < BRG__COST_SLOTS; i++) {
		if (pool->cost[i].kernel == k)
			return i;
		if (!pool->cost[i].kernel && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		free_slot = (int)(((uintptr_t)k >> 4) % BRG__COST_SLOTS);
	pool->cost[free_slot].kernel = k;
	pool->cost[free_slot].ns_per_index = 0;
	return free_slot;
}

size_t brg_reduce_block_size(size_t n)
{
	/* Depends on n only, so partials, and the combined bits, do not depend on the pool. */
	size_t b = (n + BRG__REDUCE_BLOCKS - 1) / BRG__REDUCE_BLOCKS;
	b = (b + 63) & ~(size_t)63;
	return b < 4096 ? 4096 : b;
}

int brg_pool_submit(brg_pool *pool, const brg_job_desc *desc, brg_job **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!pool || !desc)
		return -EINVAL;
	brg_job_desc dd;
	const brg_job_desc *d = &dd;
	int r = brg__struct_in(&dd, sizeof dd, desc, desc->size, BRG_JOB_DESC_SIZE_VER0);
	if (r)
		return r;
	if (!d->kernel || (d->args_size && !d->args) ||
	    d->narrays < 0 || (d->narrays && !d->arrays) || d->sched.kind < BRG_SCHED_STATIC ||
	    d->sched.kind > BRG_SCHED_AUTO)
		return -EINVAL;
	if (pool->start == BRG_START_FORK ? !d->kernel->fn
					  : (!d->kernel->fn || !d->kernel->name ||
					     strlen(d->kernel->name) >= BRG__KERNEL_NAME))
		return -EINVAL;
	if (d->args_size > BRG_ARGS_MAX)
		return BRG_EARGSIZE;
	if (d->narrays > BRG_JOB_MAX_ARRAYS)
		return -E2BIG;
	for (int i = 0; i < d->narrays; i++)
		if (!d->arrays[i])
			return -EINVAL;
	if (pool->job_live)
		return BRG_EBUSY;

	struct brg__ctl *ctl = pool->ctl;
	struct brg_job *job = &pool->job;
	memset(job, 0, sizeof *job);
	job->pool = pool;
	job->kernel = d->kernel;
	job->narrays = d->narrays;
	job->combine = d->combine;
	if (d->narrays)
		memcpy(job->arrays, d->arrays, (size_t)d->narrays * sizeof *d->arrays);
	job->cost_slot = -1;

	uint64_t block = d->combine ? brg_reduce_block_size(d->n) : 0;
	uint64_t units = block ? (d->n + block - 1) / block : d->n;
	uint64_t chunk = d->sched.chunk ? d->sched.chunk : 1;
	if (d->sched.kind == BRG_SCHED_AUTO) {
		job->cost_slot = cost_slot(pool, d->kernel);
		double per_unit = pool->cost[job->cost_slot].ns_per_index * (block ? (double)block : 1);
		chunk = brg__auto_chunk(units, (uint32_t)pool->nworkers, per_unit, pool->claim_ns);
	}

	if ((r = brg__ctl_lock(ctl, 0)))
		return r;
	if (__atomic_load_n(&ctl->job.in_flight, __ATOMIC_ACQUIRE)) {
		brg__ctl_unlock(ctl);
		return BRG_EBUSY;
	}
	struct brg__jobdesc *jd = &ctl->job;
	job->id = ++pool->jobs;
	/* Release: orders the last job's in_flight = 0 before it, for workers that read the id
	 * and then in_flight without the lock (worker.c). */
	__atomic_store_n(&jd->id, job->id, __ATOMIC_RELEASE);
	jd->fn = (uint64_t)(uintptr_t)d->kernel->fn;
	/* Spawned workers find the kernel by name; forked ones by address, and leave the
	 * name's line alone (one cache line less to move per job). */
	if (pool->start == BRG_START_SPAWN) {
		memset(jd->kernel_name, 0, sizeof jd->kernel_name);
		strncpy(jd->kernel_name, d->kernel->name, sizeof jd->kernel_name - 1);
	}
	jd->kernel_flags = (uint8_t)d->kernel->flags;
	jd->sched_kind = (uint8_t)d->sched.kind;
	jd->chunk = chunk;
	jd->n = units;
	jd->n_elems = d->n;
	jd->block = block;
	/* What the last job used and this one does not is cleared: unused entries of the
	 * descriptor are zero, which brg_pool_status checks. */
	if (jd->narrays > d->narrays)
		memset(&jd->arrays[d->narrays], 0,
		       (size_t)(jd->narrays - d->narrays) * sizeof jd->arrays[0]);
	if (jd->args_size > d->args_size)
		memset(jd->args + d->args_size, 0, jd->args_size - d->args_size);
	jd->narrays = (uint8_t)d->narrays;
	jd->args_size = (uint16_t)d->args_size;
	jd->participants = (uint16_t)pool->nworkers;
	for (int i = 0; i < d->narrays; i++) {
		const brg_array *a = d->arrays[i];
		struct brg__jarray *ja = &jd->arrays[i];
		memset(ja, 0, sizeof *ja);
		memcpy(ja->name, a->name, strlen(a->name) + 1);
		ja->writable = a->writable;
		ja->any_owner = a->any_owner;
		ja->created_ns = a->meta.created_ns;
		ja->creator_pid = a->meta.creator_pid;
	}
	if (d->args_size) {
		memcpy(jd->args, d->args, d->args_size);
		memcpy(job->args, d->args, d->args_size);
	}
	job->view = (struct brg__jobview){
		.n = units,
		.n_elems = d->n,
		.block = block,
		.narrays = (uint32_t)d->narrays,
		.args_size = (uint32_t)d->args_size,
		.args = job->args,
	};
	brg__handout_view(&job->view.h, units, (uint32_t)d->sched.kind, chunk,
			  (uint32_t)pool->nworkers);
	ctl->hot.stop = 0; /* before the error: stop without an error is never seen */
	ctl->hot.error = 0;
	ctl->h.err_worker = -1;
	ctl->h.err_begin = ctl->h.err_end = 0;
	memset(ctl->h.retry, 0, ctl->hot.nretry * sizeof ctl->h.retry[0]); /* left by a failed job */
	ctl->hot.nretry = 0;
	brg__handout_start(ctl, &job->view.h);
	/* Reading every record costs a line each: only the auto schedule needs it. */
	job->busy_before = job->cost_slot >= 0 ? busy_total(pool) : 0;
	__atomic_store_n(&ctl->job.in_flight, 1, __ATOMIC_RELEASE);
	brg__ctl_unlock(ctl);

	__atomic_add_fetch(&ctl->job_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ctl->sleepers, __ATOMIC_SEQ_CST))
		brg__futex_wake(&ctl->job_seq, INT_MAX);
	pool->job_live = 1;
	*out = job;
	return 0;
}

/* Every worker finished the job or is gone for good. */
static int all_done(const struct brg_pool *pool, uint64_t id)
{
	const struct brg__ctl *ctl = pool->ctl;
	for (int i = 1; i < pool->nworkers; i++) {
		const struct brg__wrec *w = &ctl->w[i];
		uint32_t st = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
		if (st == BRG__W_FAILED || st == BRG__W_EMPTY)
			continue;
		if (__atomic_load_n(&w->job_done, __ATOMIC_ACQUIRE) != id)
			return 0;
	}
	return 1;
}

/* Live workers that can still take ranges. */
static int live_workers(const struct brg_pool *pool)
{
	int n = 0;
	for (int i = 1; i < pool->nworkers; i++) {
		uint32_t st = __atomic_load_n(&pool->ctl->w[i].state, __ATOMIC_ACQUIRE);
		n += st != BRG__W_FAILED && st != BRG__W_EMPTY;
	}
	return n;
}

/* Chunks still queued to run again with nobody left to run them fail the job (the named
 * range covers them all), and the queue is emptied; under the lock. */
static void fail_retries(struct brg__ctl *ctl, const struct brg__handout *h)
{
	uint32_t k = ctl->hot.nretry;
	if (k > BRG__MAX_RETRY)
		k = BRG__MAX_RETRY;
	for (uint32_t i = 0; i < k; i++) {
		const struct brg__retry *t = &ctl->h.retry[i];
		uint64_t b = t->begin * h->grain, e = t->end * h->grain;
		if (t->begin < t->end)
			brg__job_fail(ctl, BRG_EWORKERDIED, 0, 0, b, e < h->n ? e : h->n);
	}
	memset(ctl->h.retry, 0, k * sizeof ctl->h.retry[0]);
	ctl->hot.nretry = 0;
}

static void combine_partials(struct brg__ctl *ctl, const struct brg__jobview *v,
			     brg_combine_fn combine, brg_job_result *res)
{
	uint64_t nb = v->n;
	/* Pairwise in block order: fixed bits, and the accuracy of a pairwise sum. */
	for (uint64_t s = 1; s < nb; s *= 2)
		for (uint64_t i = 0; i + s < nb; i += 2 * s)
			combine(ctl->slots[i], ctl->slots[i + s], v->args);
	if (nb)
		memcpy(res->partial, ctl->slots[0], BRG_SCRATCH_BYTES);
}

/* The caller's share of a job.  With workers beside it, its OpenBLAS, should a kernel call
 * it, runs on one thread meanwhile (a worker's always does): more threads would compete with
 * the workers for their cores, and spin on them after each call.  Alone, the caller keeps
 * the threads it has (gemm's panels take one thread all the same). */
static void caller_share(brg_job *job)
{
	int alone = job->view.h.participants < 2;
	int saved = alone ? 1 : brg__blas_threads_enter();
	brg__participate(job->pool->ctl, 0, job->kernel->fn, job->arrays, &job->view);
	brg__blas_threads_restore(saved);
}

int brg_job_wait(brg_job *job, long timeout_ms, brg_job_result *res)
{
	if (!job || !job->pool || !job->pool->job_live || job != &job->pool->job)
		return -EINVAL;
	if (res && res->size < BRG_JOB_RESULT_SIZE_VER0)
		return -EINVAL;
	if (res && res->size > BRG__STRUCT_MAX)
		return -E2BIG;
	brg_job_result out = {.size = sizeof out, .err_worker = -1};
	brg_pool *pool = job->pool;
	struct brg__ctl *ctl = pool->ctl;
	if (!job->caller_done) {
		caller_share(job);
		ctl->w[0].job_done = job->id;
		job->caller_done = 1;
	}
	uint64_t start = brg__mono_ns();
	/* The caller spins 20 times longer than a worker waits for a job.  Were its budget
	 * shorter than a sleeping worker takes to wake (tens of microseconds here), caller and
	 * worker could settle into sleeping and waking each other on every job: a round trip
	 * of two futex wakes instead of two cache misses. */
	uint64_t spin_ns = (uint64_t)pool->spin_us * 1000u * 20u;
	for (;;) {
		uint32_t seq = __atomic_load_n(&ctl->done_seq, __ATOMIC_SEQ_CST);
		if (all_done(pool, job->id)) {
			/* Workers that left while a steal was settling, or a dead worker's range
			 * with no replacement: never-started positions, safe for the caller. */
			if (__atomic_load_n(&ctl->hot.stop, __ATOMIC_ACQUIRE) ||
			    !brg__handout_left(ctl, job->view.h.participants))
				break;
			caller_share(job);
			continue;
		}
		uint64_t now = brg__mono_ns();
		if (now - start < spin_ns) {
			/* The clock every 64 turns, the workers every turn: a worker's job_done is
			 * seen a pause after it lands, not a batch of pauses. */
			for (int k = 0; k < 64 && !all_done(pool, job->id); k++)
				brg__pause(ctl);
			continue;
		}
		/* Past the spin budget: look for dead workers, then sleep a little at a time so
		 * a death is noticed within a few milliseconds. */
		brg__reap(pool);
		if (!live_workers(pool)) {
			/* Nobody left to take ranges: the caller finishes what it safely can. */
			caller_share(job);
			if (brg__ctl_lock(ctl, 0) == 0) {
				fail_retries(ctl, &job->view.h);
				brg__ctl_unlock(ctl);
			}
			if (all_done(pool, job->id))
				break;
		}
		if (timeout_ms >= 0 && now - start >= (uint64_t)timeout_ms * 1000000u)
			return -ETIMEDOUT;
		__atomic_store_n(&ctl->caller_sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ctl->done_seq, __ATOMIC_SEQ_CST) == seq && !all_done(pool, job->id))
			brg__futex_wait(&ctl->done_seq, seq, 2000000);
		__atomic_store_n(&ctl->caller_sleeping, 0, __ATOMIC_SEQ_CST);
	}

	int status;
	if ((status = brg__ctl_lock(ctl, 0)) == 0) {
		/* Every participant has left the job: a range still queued for a re-run (its
		 * replacement worker could not start) has nobody left to run it. */
		fail_retries(ctl, &job->view.h);
		status = ctl->hot.error;
		out.status = status;
		out.err_begin = ctl->h.err_begin;
		out.err_end = ctl->h.err_end;
		out.err_worker = status ? ctl->h.err_worker : -1;
		__atomic_store_n(&ctl->job.in_flight, 0, __ATOMIC_RELEASE);
		brg__ctl_unlock(ctl);
	} else {
		/* The lock is lost for good (ENOTRECOVERABLE): the job is over all the same, or
		 * every later submit would find it in flight. */
		__atomic_store_n(&ctl->job.in_flight, 0, __ATOMIC_RELEASE);
		out.status = status;
	}
	if (status == 0 && job->combine)
		combine_partials(ctl, &job->view, job->combine, &out);
	if (res)
		brg__struct_out(res, res->size, &out, sizeof out, BRG_JOB_RESULT_SIZE_VER0);
	if (status == 0 && job->cost_slot >= 0 && job->view.n_elems) {
		double per = (double)(busy_total(pool) - job->busy_before) / (double)job->view.n_elems;
		double *c = &pool->cost[job->cost_slot].ns_per_index;
		*c = *c > 0 ? 0.5 * *c + 0.5 * per : per;
	}
	pool->job_live = 0;
	return status;
}

int brg_pool_run(brg_pool *pool, const brg_job_desc *desc, brg_job_result *res)
{
	/* Before the job starts: brg_job_wait would refuse res with the job in flight. */
	if (res && res->size < BRG_JOB_RESULT_SIZE_VER0)
		return -EINVAL;
	if (res && res->size > BRG__STRUCT_MAX)
		return -E2BIG;
	brg_job *job;
	int r = brg_pool_submit(pool, desc, &job);
	if (r)
		return r;
	return brg_job_wait(job, -1, res);
}

int brg_pool_for(brg_pool *pool, const brg_kernel *kernel, size_t n, brg_schedule sched,
		 brg_array *const *arrays, int narrays, const void *args, size_t args_size)
{
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = kernel,
		.n = n,
		.sched = sched,
		.args = args,
		.args_size = args_size,
		.arrays = arrays,
		.narrays = narrays,
	};
	return brg_pool_run(pool, &d, NULL);
}

int brg_pool_reduce(brg_pool *pool, const brg_job_desc *desc, void *result, size_t result_size)
{
	if (!desc || !result || result_size > BRG_SCRATCH_BYTES)
		return -EINVAL;
	brg_job_desc d;
	int r = brg__struct_in(&d, sizeof d, desc, desc->size, BRG_JOB_DESC_SIZE_VER0);
	if (r)
		return r;
	if (!d.combine)
		return -EINVAL;
	d.size = sizeof d;
	brg_job_result res = {.size = sizeof res};
	if ((r = brg_pool_run(pool, &d, &res)) == 0)
		memcpy(result, res.partial, result_size);
	return r;
}
