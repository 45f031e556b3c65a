/* SPDX-License-Identifier: MIT */
/* status.c - a pool's control block read from outside (brg_pool_status, `brigade status`): a
 * private copy, every field checked before anything is reported from it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

/* A snapshot of a live pool can catch a field between two writes (a steal half done, a job
 * being published); such a copy is taken again.  A block that fails every copy is damaged, not
 * busy. */
#define SNAPSHOTS 5
#define SNAPSHOT_PAUSE_NS 200000
/* Clock readings written by the pool may be ahead of the reader's by a little (coarse clocks,
 * another process's read); more than this is not a clock. */
#define CLOCK_SLACK_NS (60ull * 1000000000ull)

static const char *state_name(uint32_t s)
{
	static const char *const names[] = {"empty", "starting", "idle", "busy", "dead", "failed"};
	return s < sizeof names / sizeof names[0] ? names[s] : "invalid";
}

static int terminated(const char *s, size_t size) { return memchr(s, 0, size) != NULL; }

/* A text the pool wrote into zeroed bytes: terminated, nothing after its end. */
static int clean_text(const char *s, size_t size)
{
	const char *end = memchr(s, 0, size);
	return end && brg__all_zero(end, size - (size_t)(end - s));
}

/* The bytes between the end of one field and the start of the next (alignment), which nothing
 * writes. */
#define GAP_ZERO(base, type, last, next)                                                     \
	brg__all_zero((const char *)(base) + offsetof(type, last) + sizeof(((type *)0)->last),   \
		      offsetof(type, next) - offsetof(type, last) - sizeof(((type *)0)->last))

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The positions of the job in flight (the bound of every range), or of any job. */
static uint64_t job_positions(const struct brg__ctl *c, int one_job)
{
	const struct brg__jobdesc *j = &c->job;
	if (!one_job || !j->in_flight)
		return BRG__POS_MAX;
	uint64_t g = brg__grain(j->n);
	return (j->n + g - 1) / g;
}

/* A participant's hand-out slot against the words sched.c writes (ctl.h): ranges inside the
 * job, marks of participants that exist, a chunk in flight that is a chunk, an intent that
 * names another participant and a tail. */
static int slot_ok(const struct brg__ctl *c, uint32_t i, int one_job, uint64_t mono)
{
	const struct brg__slot *s = &c->w[i].slot;
	uint64_t npos = job_positions(c, one_job), w = s->range, cur = s->cur, in = s->intent;
	uint32_t thief = brg__rng_thief(w);
	if (w >> 63 || brg__rng_next(w) > brg__rng_end(w) || brg__rng_end(w) > npos ||
	    (thief > c->nworkers && thief != BRG__THIEF_PENDING) || thief == i + 1 ||
	    (thief == BRG__THIEF_PENDING && brg__rng_next(w) == brg__rng_end(w)))
		return 0;
	/* A chunk taken again from the list carries its one kill; no other chunk has one. */
	if (cur && (cur >> 57 || brg__cur_begin(cur) >= brg__cur_end(cur) ||
	            brg__cur_end(cur) > npos ||
	            brg__cur_kills(cur) != (uint32_t)brg__cur_retry(cur)))
		return 0;
	/* Between jobs nothing is in flight, stolen or marked. */
	if (one_job && !c->job.in_flight && (cur || in || thief))
		return 0;
	if (in && (!brg__intent_valid(in) || brg__intent_victim(in) >= c->nworkers ||
	           brg__intent_victim(in) == i || brg__intent_split(in) >= brg__intent_end(in) ||
	           brg__intent_end(in) > npos))
		return 0;
	return !s->pad && s->since_ns <= mono + CLOCK_SLACK_NS;
}

/* One participant's record against what the pool's code ever writes into it. */
static int wrec_ok(const struct brg__ctl *c, uint32_t i, int one_job, uint64_t mono,
		   uint64_t real)
{
	const struct brg__wrec *w = &c->w[i];
	const struct brg__jobdesc *j = &c->job;
	if (w->state > BRG__W_FAILED || w->pid < 0 || w->core < -1 || w->pu < -1 || w->error > 0 ||
	    w->pad0 || w->started_ns > real + CLOCK_SLACK_NS ||
	    !terminated(w->cpuset, sizeof w->cpuset) ||
	    !GAP_ZERO(w, struct brg__wrec, started_ns, slot))
		return 0;
	if ((w->state == BRG__W_IDLE || w->state == BRG__W_BUSY) && w->pid == 0)
		return 0;
	if (i == 0 && (w->pid != c->parent_pid || w->state > BRG__W_BUSY))
		return 0;
	/* Job ids only grow: nobody has joined or finished a job that was not published. */
	const struct brg__slot *s = &w->slot;
	if (one_job && (w->job_done > j->id || s->job_joined > j->id))
		return 0;
	return slot_ok(c, i, one_job, mono);
}

/* The whole control block (a private copy) against the invariants the pool keeps; 1 when it
 * holds.  one_job: the copy was taken while one job was published, so the records and the
 * hand-out can be checked against that job's descriptor.  What has no invariant (counters,
 * pids, the bytes of a kernel's arguments) is reported as it is. */
static int ctl_ok(const struct brg__ctl *c, int one_job)
{
	uint32_t n = c->nworkers;
	if (c->magic != BRG__CTL_MAGIC || c->version != BRG__CTL_VERSION ||
	    c->ctl_bytes != sizeof *c || n < 1 || n > BRG__MAX_WORKERS || c->parent_pid <= 0 ||
	    (c->start_method != BRG_START_FORK && c->start_method != BRG_START_SPAWN) ||
	    c->spin_us > 10000000u || c->yield > 1 || !clean_text(c->plugin, sizeof c->plugin) ||
	    !GAP_ZERO(c, struct brg__ctl, yield, plugin) ||
	    !GAP_ZERO(c, struct brg__ctl, hot, sleepers) ||
	    !GAP_ZERO(c, struct brg__ctl, job_seq, done_seq) ||
	    !GAP_ZERO(c, struct brg__ctl, caller_sleeping, h) ||
	    !GAP_ZERO(c, struct brg__ctl, h, job))
		return 0;

	const struct brg__jobdesc *j = &c->job;
	if (j->pad0 || j->in_flight > 1 || j->shutdown > 1 || j->sched_kind > BRG_SCHED_AUTO ||
	    j->kernel_flags > BRG_KERNEL_IDEMPOTENT || j->narrays > BRG_JOB_MAX_ARRAYS ||
	    j->args_size > BRG_ARGS_MAX || !clean_text(j->kernel_name, sizeof j->kernel_name) ||
	    (c->start_method == BRG_START_FORK && j->kernel_name[0]) ||
	    !brg__job_shape_ok(j->n, j->n_elems, j->block))
		return 0;
	/* Every job is published to all participants, with its kernel. */
	if (j->id == 0 ? j->in_flight || j->participants : j->participants != n || !j->fn)
		return 0;
	if (!brg__all_zero(&j->arrays[j->narrays],
	              (BRG_JOB_MAX_ARRAYS - j->narrays) * sizeof j->arrays[0]) ||
	    !brg__all_zero(j->args + j->args_size, BRG_ARGS_MAX - j->args_size))
		return 0;
	for (uint32_t a = 0; a < j->narrays; a++) {
		const struct brg__jarray *ja = &j->arrays[a];
		if (!ja->name[0] || !clean_text(ja->name, sizeof ja->name) || ja->writable > 1 ||
		    ja->any_owner > 1 || !brg__all_zero(ja->pad, sizeof ja->pad) || ja->pad1 ||
		    ja->creator_pid <= 0)
			return 0;
	}

	/* The hand-out: no static range of a participant that does not exist, retries and the
	 * error's range inside the job. */
	if (c->hot.error > 0 || c->hot.stop > 1 ||
	    c->hot.nretry > BRG__MAX_RETRY || c->hot.pad || c->h.err_worker < -1 ||
	    c->h.err_worker >= (int32_t)n || c->h.err_begin > c->h.err_end || c->h.pad)
		return 0;
	if (!brg__all_zero(&c->h.retry[c->hot.nretry],
	              (BRG__MAX_RETRY - c->hot.nretry) * sizeof c->h.retry[0]))
		return 0;
	for (uint32_t t = 0; t < c->hot.nretry; t++) {
		const struct brg__retry *r = &c->h.retry[t];
		if (r->begin >= r->end || r->kills < 1 || r->kills > 1 || r->pad ||
		    r->end > job_positions(c, one_job))
			return 0;
	}

	uint64_t mono = brg__mono_ns(), real = real_ns();
	for (uint32_t i = 0; i < n; i++)
		if (!wrec_ok(c, i, one_job, mono, real))
			return 0;
	/* Records of participants the pool does not have are never written. */
	return brg__all_zero(&c->w[n], (BRG__MAX_WORKERS - n) * sizeof c->w[0]);
}

int brg_pool_status(const char *name, brg_pool_info *info, brg_worker_status *out, size_t out_size,
                    int max)
{
	if (!name || max < 0 || (max && (!out || out_size < BRG_WORKER_STATUS_SIZE_VER0)) ||
	    (info && info->size < BRG_POOL_INFO_SIZE_VER0))
		return -EINVAL;
	if ((max && out_size > BRG__STRUCT_MAX) || (info && info->size > BRG__STRUCT_MAX))
		return -E2BIG;
	brg_array *seg;
	int r = brg__segment_open(&seg, name, 0, BRG_KIND_POOL);
	if (r)
		return r;
	/* Everything but the slots (scratch bytes and partials, which have no invariant) is
	 * copied. */
	size_t head = __builtin_offsetof(struct brg__ctl, slots);
	struct brg__ctl *c = NULL;
	if (brg_array_nbytes(seg) != sizeof *c) {
		r = BRG_EPOOLSTATE;
		goto out;
	}
	if (!(c = malloc(sizeof *c))) {
		r = -ENOMEM;
		goto out;
	}
	r = BRG_EPOOLSTATE;
	/* A pool that publishes jobs faster than a copy is taken (small jobs back to back) may
	 * never hold still for one: then the last copy is checked field by field, without what
	 * ties the records to the job descriptor. */
	const struct brg__ctl *live = brg_array_data(seg);
	for (int k = 0; k < SNAPSHOTS && r; k++) {
		if (k)
			nanosleep(&(struct timespec){0, SNAPSHOT_PAUSE_NS}, NULL);
		uint64_t id0 = __atomic_load_n(&live->job.id, __ATOMIC_ACQUIRE);
		memcpy(c, live, head);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		int one_job = __atomic_load_n(&live->job.id, __ATOMIC_RELAXED) == id0;
		if ((one_job || k == SNAPSHOTS - 1) && ctl_ok(c, one_job))
			r = 0;
	}
	if (r)
		goto out;

	uint32_t n = c->nworkers;
	if (info) {
		brg_pool_info in = {
		    .size = sizeof in,
		    .nworkers = (int)n,
		    .parent_pid = c->parent_pid,
		    .parent_alive = brg__pid_alive(c->parent_pid, seg->meta.created_ns),
		    .start_method = (brg_start)c->start_method,
		    .job_in_flight = (int)c->job.in_flight,
		    .job_id = c->job.id,
		    .job_n = c->job.n_elems,
		    .job_sched = (int)c->job.sched_kind,
		    .spin_us = (long)c->spin_us,
		};
		brg__struct_out(info, info->size, &in, sizeof in, BRG_POOL_INFO_SIZE_VER0);
	}
	uint64_t now = brg__mono_ns(), grain = brg__grain(c->job.n);
	for (uint32_t i = 0; i < n && (int)i < max; i++) {
		const struct brg__wrec *w = &c->w[i];
		/* The chunk in flight, in hand-out units; a job that ended has none. */
		uint64_t cur = c->job.in_flight ? w->slot.cur : 0;
		uint64_t b = brg__cur_begin(cur) * grain, e = brg__cur_end(cur) * grain;
		brg_worker_status s = {
		    .index = (int)i,
		    .pid = w->pid,
		    .core = w->core,
		    .pu = w->pu,
		    .state = state_name(w->state),
		    .alive = w->pid > 0 &&
		             brg__pid_alive(w->pid, i ? w->started_ns : seg->meta.created_ns),
		    .has_range = cur != 0,
		    .range_begin = b,
		    .range_end = e < c->job.n ? e : c->job.n,
		    .chunks_done = w->slot.chunks_done,
		    .busy_ns = w->slot.busy_ns,
		};
		s.range_age_ns =
		    s.has_range && now > w->slot.since_ns ? now - w->slot.since_ns : 0;
		brg__record_out((char *)out + i * out_size, out_size, &s, sizeof s);
	}
	r = (int)n;
out:
	free(c);
	brg_array_close(seg);
	return r;
}
