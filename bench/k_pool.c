/* SPDX-License-Identifier: MIT */
/* k_pool.c - what the pool itself costs: an empty job's round trip (also EPCC's barrier), one
 * dynamic claim, a whole small parallel for, and creating a pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/* Does nothing, through a pointer the compiler cannot see through: the time is the pool's. */
static int nop_kernel(const brg_task *t)
{
	(void)t;
	return 0;
}

static const brg_kernel nop = {"brg_bench_nop", nop_kernel, BRG_KERNEL_IDEMPOTENT};

struct job_ctx {
	brg_pool *pool;
	brg_job_desc desc;
	int batch; /* jobs a sample */
};

enum { J_EMPTY, J_CLAIM, J_PFOR, J_COUNT };

static int op_job(void *p)
{
	struct job_ctx *x = p;
	return brg_pool_run(x->pool, &x->desc, NULL);
}

/* The pfor job through brg_pool_for, the call a program's parallel loop makes. */
static int op_for(void *p)
{
	struct job_ctx *x = p;
	return brg_pool_for(x->pool, x->desc.kernel, x->desc.n, x->desc.sched, NULL, 0, NULL, 0);
}

static int jobs_open(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		     struct bench_results *res, void **data, const char **what)
{
	(void)refs;
	(void)res;
	struct job_ctx *x = calloc(J_COUNT, sizeof *x);
	if (!x) {
		*what = "calloc";
		return -ENOMEM;
	}
	/* empty: one range per participant, so every worker wakes, claims and reports: a
	 * barrier of the whole pool, which is also what `barrier` times for brigade. */
	x[J_EMPTY] = (struct job_ctx){
		.pool = pool,
		.desc = {.size = sizeof x->desc,
			 .kernel = &nop,
			 .n = (size_t)brg_pool_size(pool),
			 .sched = {BRG_SCHED_STATIC, 0}},
		.batch = cfg->empty_batch,
	};
	x[J_CLAIM] = (struct job_ctx){
		.pool = pool,
		.desc = {.size = sizeof x->desc,
			 .kernel = &nop,
			 .n = cfg->claim_n,
			 .sched = {BRG_SCHED_DYNAMIC, 1}},
		.batch = 1,
	};
	/* pfor: EPCC's parallel for, 128 chunks of one empty index per participant. */
	x[J_PFOR] = (struct job_ctx){
		.pool = pool,
		.desc = {.size = sizeof x->desc,
			 .kernel = &nop,
			 .n = 128 * (size_t)brg_pool_size(pool),
			 .sched = {BRG_SCHED_DYNAMIC, 1}},
		.batch = cfg->pfor_batch,
	};
	*data = x;
	return 0;
}

static void jobs_job(void *p, int kernel, struct bench_job *job)
{
	struct job_ctx *x = p;
	struct job_ctx *j = &x[kernel == BK_CLAIM ? J_CLAIM : kernel == BK_PFOR ? J_PFOR : J_EMPTY];
	*job = (struct bench_job){
		.op = kernel == BK_PFOR ? op_for : op_job,
		.ctx = j,
		.check = NULL,
		/* empty, barrier: a sample is the mean of a batch of round trips; pfor, of a batch
		 * of loops.  claim: a sample is one job of claim_n chunks, and the cost of one
		 * chunk its share. */
		.batch = j->batch,
		.per = kernel == BK_CLAIM ? (double)j->desc.n : 1,
		.n = j->desc.n,
	};
}

static void jobs_close(void *p)
{
	free(p);
}

const struct bench_group bench_group_pool = {
	.kernels = {BK_EMPTY, BK_CLAIM, BK_BARRIER, BK_PFOR},
	.nkernels = 4,
	.open = jobs_open,
	.job = jobs_job,
	.close = jobs_close,
};

/* Seconds brg_pool_create takes (the destroy is not timed); 0 or its error. */
static int time_create(int workers, double *seconds)
{
	static unsigned count;
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%sstart-%u", bench_segment_prefix(), count++);
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.name = name; /* the run's prefix: the guard removes it should we be stopped */
	brg_pool *p;
	double t0 = bench_now();
	int r = brg_pool_create(&p, &o);
	*seconds = bench_now() - t0;
	if (r == 0)
		brg_pool_destroy(p);
	return r;
}

void bench_run_pool_first(int workers, struct bench_results *res)
{
	/* The first pool of a process also pays for page faults in the library's code and data
	 * and for the first shm_open; the topology is loaded already. */
	struct bench_rec rec;
	double t;
	bench_rec_init(&rec, BK_START, BI_BRIGADE, workers, (size_t)workers);
	rec.first = 1;
	int r = time_create(workers, &t);
	if (r == 0) {
		rec.samples[0] = t;
		rec.nsamples = 1;
		bench_rec_finish(&rec);
	}
	bench_report(res, &rec, r);
}

void bench_run_pool_start(const struct bench_config *cfg, int workers, struct bench_results *res)
{
	struct bench_rec rec;
	double t;
	int r;
	bench_rec_init(&rec, BK_START, BI_BRIGADE, workers, (size_t)workers);
	r = time_create(workers, &t); /* warm-up */
	for (int k = 0; k < cfg->repeat && k < BENCH_MAX_SAMPLES && !r; k++) {
		double sum = 0;
		for (int j = 0; j < cfg->start_batch && !r; j++) {
			r = time_create(workers, &t);
			sum += t;
		}
		rec.samples[k] = sum / cfg->start_batch;
		rec.nsamples = k + 1;
	}
	if (r == 0)
		bench_rec_finish(&rec);
	bench_report(res, &rec, r);
}
