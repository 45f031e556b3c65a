/* SPDX-License-Identifier: MIT */
/* k_pool.c - what the pool itself costs: an empty job's round trip, one dynamic claim, and
 * creating a pool. */
#include <stdio.h>

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
};

static int op_job(void *p)
{
	struct job_ctx *x = p;
	return brg_pool_run(x->pool, &x->desc, NULL);
}

void bench_run_pool_jobs(const struct bench_config *cfg, brg_pool *pool, struct bench_results *res)
{
	int workers = brg_pool_size(pool);
	struct job_ctx x = {
		.pool = pool,
		.desc = {.size = sizeof x.desc, .kernel = &nop},
	};
	struct bench_rec rec;
	if (cfg->kernels[BK_EMPTY]) {
		/* One range per participant: every worker wakes, claims, reports. */
		x.desc.n = (size_t)workers;
		x.desc.sched = (brg_schedule){BRG_SCHED_STATIC, 0};
		bench_rec_init(&rec, BK_EMPTY, BI_BRIGADE, workers, (size_t)workers);
		int r = bench_measure(&rec, op_job, &x, NULL, cfg->repeat, cfg->empty_batch);
		bench_report_brigade(res, &rec, r);
	}
	if (cfg->kernels[BK_CLAIM]) {
		x.desc.n = cfg->claim_n;
		x.desc.sched = (brg_schedule){BRG_SCHED_DYNAMIC, 1};
		bench_rec_init(&rec, BK_CLAIM, BI_BRIGADE, workers, cfg->claim_n);
		int r = bench_measure(&rec, op_job, &x, NULL, cfg->repeat, 1);
		if (r == 0) {
			/* A sample is one job of claim_n chunks: the cost of one is its share. */
			for (int i = 0; i < rec.nsamples; i++)
				rec.samples[i] /= (double)cfg->claim_n;
			bench_rec_finish(&rec);
		}
		bench_report_brigade(res, &rec, r);
	}
}

/* Seconds brg_pool_create takes (the destroy is not timed); 0 or its error. */
static int time_create(int workers, double *seconds)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
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
	bench_report_brigade(res, &rec, r);
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
	bench_report_brigade(res, &rec, r);
}
