/* SPDX-License-Identifier: MIT */
/* k_imb.c - brigade's side of the imbalance loops: a parallel for whose index i costs a number
 * of steps that grows with i (loops.h), under each of the pool's schedules, its output checked
 * against the reference. */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"

/* out[i] for the range: the arithmetic alone, the same inline function the peers and the
 * reference run. */
static int imb_kernel(const brg_task *t)
{
	double *out = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++)
		out[i] = bench_imb_index(i);
	return 0;
}

static const brg_kernel imb = {"brg_bench_imb", imb_kernel, BRG_KERNEL_IDEMPOTENT};

enum { I_DYNAMIC, I_GUIDED, I_AUTO, I_STATIC, I_COUNT };

struct imb_ctx;

/* One loop of one schedule: what bench_measure times. */
struct imb_job {
	struct imb_ctx *x;
	int which;
	brg_schedule sched;
};

struct imb_ctx {
	brg_pool *pool;
	const struct bench_refs *refs;
	/* One output per schedule, zero when made: the first run of each is checked, and no
	 * other schedule's run can have written the indices it skipped. */
	struct bench_arrays arr;
	struct imb_job jobs[I_COUNT];
};

static int op_imb(void *p)
{
	struct imb_job *j = p;
	brg_array *out = j->x->arr.v[j->which];
	return brg_pool_for(j->x->pool, &imb, j->x->arr.shape[0], j->sched, &out, 1, NULL, 0);
}

static int check_imb(void *p, struct bench_rec *rec)
{
	struct imb_job *j = p;
	size_t n = j->x->arr.shape[0];
	double got = ref_sum(brg_array_data(j->x->arr.v[j->which]), n);
	double want = bench_refs_value(j->x->refs, rec->kernel, n);
	rec->value = got;
	rec->has_value = 1;
	if (!bench_value_ok(got, want)) {
		bench_rec_fail(rec, BS_FAILED, "WRONG RESULT: %.17g, serial loop gives %.17g", got,
			       want);
		return BENCH_WRONG;
	}
	return 0;
}

static void imb_close(void *p)
{
	struct imb_ctx *x = p;
	bench_arrays_drop(&x->arr);
	free(x);
}

static int imb_open(const struct bench_config *cfg, const struct bench_refs *refs, brg_pool *pool,
		    struct bench_results *res, void **data, const char **what)
{
	struct imb_ctx *x = malloc(sizeof *x);
	if (!x) {
		*what = "malloc";
		return -ENOMEM;
	}
	*x = (struct imb_ctx){
		.pool = pool,
		.refs = refs,
		.arr = {.n = I_COUNT,
			.names = {"imb-dynamic", "imb-guided", "imb-auto", "imb-static"},
			.dtype = BRG_F64,
			.ndim = 1,
			.shape = {cfg->imb_n},
			.fill = BENCH_FILL_NONE,
			.what = "imbalance outputs"},
	};
	int r = bench_arrays_make(pool, &x->arr, res, what);
	if (r)
		free(x);
	else
		*data = x;
	return r;
}

static void imb_job(void *p, int kernel, struct bench_job *job)
{
	struct imb_ctx *x = p;
	int which = kernel - BK_IMB_DYNAMIC;
	static const brg_schedule sched[I_COUNT] = {
		[I_DYNAMIC] = {BRG_SCHED_DYNAMIC, 1},
		[I_GUIDED] = {BRG_SCHED_GUIDED, 1},
		[I_AUTO] = {BRG_SCHED_AUTO, 0},
		[I_STATIC] = {BRG_SCHED_STATIC, 0},
	};
	x->jobs[which] = (struct imb_job){x, which, sched[which]};
	*job = (struct bench_job){
		.op = op_imb,
		.ctx = &x->jobs[which],
		.check = check_imb,
		.batch = 1,
		.per = 1,
		.n = x->arr.shape[0],
	};
}

const struct bench_group bench_group_imb = {
	.kernels = {BK_IMB_DYNAMIC, BK_IMB_GUIDED, BK_IMB_AUTO, BK_IMB_STATIC},
	.nkernels = 4,
	.open = imb_open,
	.job = imb_job,
	.close = imb_close,
};
