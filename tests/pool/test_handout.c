/* SPDX-License-Identifier: MIT */
/* test_handout.c - the hand-out, proved by killing a worker at every step of a claim, a
 * completion, a steal and a retry (engine/pool/sched.c; a build with -Dfault_injection=true),
 * with idempotent and non-idempotent kernels and a reduction: every index runs exactly once
 * but for the chunk the dead worker had in flight, which runs again (idempotent) or is named
 * by BRG_EWORKERDIED, exactly; never an index lost, never a hang.  Then two deaths in one
 * job (the named range covers both chunks) and a kernel failing after a death (the kernel's
 * error is reported).  Usage: test_handout P (participants). */
#include <sys/mman.h>

#include "pool.h"
#include "poolutil.h"

#define N 3000
#define CHUNK 3
#define TRIES 40 /* jobs per case until the step is reached by a worker */

static struct brg__fault *plan;
static int participants;

/* Work for index i: the first participant's static range (the caller's) costs twenty times
 * the rest, so workers run out first and steal from it. */
static void burn(size_t i)
{
	unsigned spins = i < N / (size_t)participants ? 4000 : 200;
	for (volatile unsigned k = 0; k < spins; k++) {
	}
}

static int count_kernel(const brg_task *t)
{
	int32_t *runs = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++) {
		burn(i);
		__atomic_add_fetch(&runs[i], 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/* Memory shared with the workers, mapped before the pool forks them: how often
 * failing_kernel failed, and where the pool's control block is mapped (at the same address
 * in the workers, forked after it was mapped; known only once the pool is made). */
struct shared {
	uint32_t kernel_failed;
	struct brg__ctl *ctl;
};
static struct shared *sh;

/* As count_kernel; on the last index a worker waits (at most 2 s) for a death to be
 * recorded, then fails with -EIO: a kernel's error after a death's. */
static int failing_kernel(const brg_task *t)
{
	int rc = count_kernel(t);
	if (t->end != N || t->worker == 0)
		return rc;
	uint64_t t0 = pu_mono_ns();
	struct brg__ctl *ctl = __atomic_load_n(&sh->ctl, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&ctl->hot.error, __ATOMIC_ACQUIRE) != BRG_EWORKERDIED)
		if (pu_mono_ns() - t0 > 2000000000ull)
			return rc;
	__atomic_add_fetch(&sh->kernel_failed, 1, __ATOMIC_SEQ_CST);
	return -EIO;
}

static const brg_kernel idem = {"idem", count_kernel, BRG_KERNEL_IDEMPOTENT};
static const brg_kernel nonidem = {"nonidem", count_kernel, 0};
static const brg_kernel failing = {"failing", failing_kernel, 0};

static const char *const step_names[BRG__F_STEPS] = {
	[BRG__F_CLAIM_CUR] = "claim: cur stored",
	[BRG__F_CLAIM_CAS] = "claim: range advanced",
	[BRG__F_DONE_RUN] = "completion: kernel returned",
	[BRG__F_DONE_CLEAR] = "completion: cur cleared",
	[BRG__F_STEAL_INTENT] = "steal: intent written",
	[BRG__F_STEAL_CUT] = "steal: victim cut",
	[BRG__F_STEAL_INSTALL] = "steal: tail installed",
	[BRG__F_STEAL_UNMARK] = "steal: mark cleared",
	[BRG__F_STEAL_CLEAR] = "steal: intent cleared",
	[BRG__F_RETRY] = "retry: chunk taken again",
};

/* Steps at which the dying worker holds a claimed chunk. */
static int in_flight_step(uint32_t step)
{
	return step == BRG__F_CLAIM_CAS || step == BRG__F_DONE_RUN || step == BRG__F_RETRY;
}

static void arm(uint32_t step, uint32_t then)
{
	plan->step = step;
	plan->then = then;
	plan->fired = 0;
	plan->fired_cur = 0;
	__atomic_store_n(&plan->armed, 1, __ATOMIC_SEQ_CST);
}

static void disarm(void)
{
	__atomic_store_n(&plan->armed, 0, __ATOMIC_SEQ_CST);
	plan->step = BRG__F_NONE;
	plan->then = 0;
}

/* One job of kernel k over runs[] with the plan armed; its status, *res filled. */
static int run_job(brg_pool *pool, const brg_kernel *k, brg_array *runs, brg_job_result *res)
{
	memset(brg_array_data(runs), 0, N * sizeof(int32_t));
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = k,
		.n = N,
		.sched = {BRG_SCHED_DYNAMIC, CHUNK},
		.arrays = &runs,
		.narrays = 1,
	};
	brg_job *job;
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	*res = (brg_job_result){.size = sizeof *res};
	int r = brg_job_wait(job, 30000, res);
	REQUIRE(r != -ETIMEDOUT); /* a hang */
	return r;
}

/* Indices in [b, e) ran `inside` times each, every other index exactly once. */
static int runs_are(const int32_t *runs, uint64_t b, uint64_t e, int inside_lo, int inside_hi,
		    const char *what)
{
	for (size_t i = 0; i < N; i++) {
		int in = i >= b && i < e;
		if (in ? runs[i] < inside_lo || runs[i] > inside_hi : runs[i] != 1) {
			TEST_FAIL_("%s: index %zu ran %d times (chunk in flight [%llu, %llu))", what,
				   i, runs[i], (unsigned long long)b, (unsigned long long)e);
			return 0;
		}
	}
	return 1;
}

/* Kills a worker at step (then at `then`, when given) in jobs of kernel k until the plan
 * fired, and checks each such job; 1 when it fired. */
static int one_case(brg_pool *pool, brg_array *runs, const brg_kernel *k, uint32_t step,
		    uint32_t then)
{
	char what[160];
	snprintf(what, sizeof what, "P=%d %s, %s%s%s", participants, k->name, step_names[step],
		 then ? ", then " : "", then ? step_names[then] : "");
	const int32_t *r = brg_array_data(runs);
	int idempotent = k->flags & BRG_KERNEL_IDEMPOTENT;
	for (int t = 0; t < TRIES; t++) {
		brg_job_result res;
		arm(step, then);
		int rc = run_job(pool, k, runs, &res);
		uint32_t fired = plan->fired, last = plan->fired_step;
		disarm();
		if (!fired) {
			CHECK_EQ(rc, 0);
			runs_are(r, 0, 0, 1, 1, what);
			continue;
		}
		uint64_t cb = brg__cur_begin(plan->fired_cur), ce = brg__cur_end(plan->fired_cur);
		if (then && last == then) {
			/* Killed twice by one chunk: named, never run by the caller. */
			CHECK_EQ(rc, BRG_ERANGEKILLED);
			CHECK_EQ(res.err_begin, cb);
			CHECK_EQ(res.err_end, ce);
			runs_are(r, cb, ce, 0, 1, what);
			return 1;
		}
		if (!in_flight_step(last)) {
			/* Nothing claimed was lost: the job is whole. */
			CHECK_EQ(rc, 0);
			runs_are(r, 0, 0, 1, 1, what);
		} else if (idempotent) {
			CHECK_EQ(rc, 0);
			CHECK(cb < ce && ce - cb <= CHUNK);
			/* The kernel had returned at DONE_RUN: that chunk ran twice. */
			int twice = last == BRG__F_DONE_RUN;
			runs_are(r, cb, ce, 1 + twice, 1 + twice, what);
		} else {
			CHECK_EQ(rc, BRG_EWORKERDIED);
			CHECK_EQ(res.err_begin, cb);
			CHECK_EQ(res.err_end, ce);
			CHECK(cb < ce && ce - cb <= CHUNK);
			int ran = last == BRG__F_DONE_RUN;
			runs_are(r, cb, ce, ran, ran, what);
		}
		if (!then)
			return 1;
	}
	TEST_FAIL_("%s: no worker reached the step in %d jobs", what, TRIES);
	return 0;
}

/* Two workers killed with a chunk each in a job of a non-idempotent kernel: the named range
 * covers both, and every index outside it ran exactly once. */
static void two_deaths(brg_pool *pool, brg_array *runs)
{
	const int32_t *r = brg_array_data(runs);
	for (int t = 0; t < TRIES; t++) {
		brg_job_result res;
		arm(BRG__F_CLAIM_CAS, BRG__F_CLAIM_CAS);
		int rc = run_job(pool, &nonidem, runs, &res);
		uint32_t fired = plan->fired;
		disarm();
		if (fired < 2)
			continue;
		uint64_t c[2] = {plan->first_cur, plan->fired_cur};
		CHECK_EQ(rc, BRG_EWORKERDIED);
		for (int k = 0; k < 2; k++)
			CHECK(res.err_begin <= brg__cur_begin(c[k]) && brg__cur_end(c[k]) <= res.err_end);
		runs_are(r, res.err_begin, res.err_end, 0, 1, "two deaths");
		return;
	}
	printf("P=%d: no job lost two workers in %d tries\n", participants, TRIES);
}

/* A death, then a kernel that fails: the kernel's error replaces the death's (the hand-out
 * stopped, so the death's promise about the other indices no longer holds). */
static void death_then_error(brg_pool *pool, brg_array *runs)
{
	int seen = 0;
	for (int t = 0; t < TRIES && !seen; t++) {
		brg_job_result res;
		sh->kernel_failed = 0;
		arm(BRG__F_CLAIM_CAS, 0);
		int rc = run_job(pool, &failing, runs, &res);
		disarm();
		if (!sh->kernel_failed)
			continue; /* the last index ran before the death was recorded */
		CHECK_EQ(rc, -EIO);
		CHECK_EQ(res.err_end, N);
		seen = 1;
	}
	if (!seen)
		TEST_FAIL_("P=%d: no kernel failed after a death in %d jobs", participants, TRIES);
}

/* A reduction killed at a claimed chunk: the same bits as without a fault. */
static void reduce_case(brg_pool *pool, brg_array *x, uint32_t step, double want)
{
	for (int t = 0; t < TRIES; t++) {
		arm(step, 0);
		brg_scalar s;
		int rc = brg_reduce_sum(pool, &s, x);
		uint32_t fired = plan->fired;
		disarm();
		CHECK_EQ(rc, 0);
		CHECK(memcmp(&s.f, &want, sizeof want) == 0);
		if (fired)
			return;
	}
	printf("reduction: no worker reached %s in %d jobs\n", step_names[step], TRIES);
}

int main(int argc, char **argv)
{
	test_init_pools();
	participants = argc == 2 ? atoi(argv[1]) : 0;
	if (participants < 2 || participants > 16) {
		fprintf(stderr, "usage: %s PARTICIPANTS (2..16)\n", argv[0]);
		return 2;
	}
	plan = mmap(NULL, sizeof *plan, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(plan != MAP_FAILED);
	memset(plan, 0, sizeof *plan);
	brg__fault = plan; /* forked workers, and their replacements, inherit it */

	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(sh != MAP_FAILED);
	brg_pool *pool = test_pool_new(participants, BRG_BIND_DEFAULT, "handout");
	__atomic_store_n(&sh->ctl, pool->ctl, __ATOMIC_RELEASE);
	brg_array *runs = test_array_new("runs", BRG_I32, N);
	int fired = 0, cases = 0;
	for (uint32_t step = BRG__F_CLAIM_CUR; step < BRG__F_RETRY; step++) {
		fired += one_case(pool, runs, &idem, step, 0);
		fired += one_case(pool, runs, &nonidem, step, 0);
		cases += 2;
	}
	/* A chunk that killed its worker kills the one that takes it again. */
	fired += one_case(pool, runs, &idem, BRG__F_CLAIM_CAS, BRG__F_RETRY);
	cases++;
	/* With two, the caller runs whatever the dead worker left (its replacement starts once
	 * the caller has finished): a third participant is needed for either. */
	if (participants > 2) {
		two_deaths(pool, runs);
		death_then_error(pool, runs);
	}

	/* Reductions: blocks of a static schedule, stolen whole. */
	const size_t nx = 1 << 20;
	brg_array *x = test_array_new("x", BRG_F64, nx);
	double *xd = brg_array_data(x);
	for (size_t i = 0; i < nx; i++)
		xd[i] = 1.0 / (double)(i + 1);
	brg_scalar s0;
	REQUIRE_EQ(brg_reduce_sum(pool, &s0, x), 0);
	reduce_case(pool, x, BRG__F_CLAIM_CAS, s0.f);
	reduce_case(pool, x, BRG__F_DONE_RUN, s0.f);
	reduce_case(pool, x, BRG__F_CLAIM_CUR, s0.f);

	/* The pool lives on: a clean job is whole. */
	brg_job_result res;
	CHECK_EQ(run_job(pool, &nonidem, runs, &res), 0);
	runs_are(brg_array_data(runs), 0, 0, 1, 1, "after the faults");
	printf("P=%d: %d of %d cases reached their step\n", participants, fired, cases);

	test_array_drop(x);
	test_array_drop(runs);
	brg_pool_destroy(pool);
	munmap(plan, sizeof *plan);
	munmap(sh, sizeof *sh);
	return pu_done();
}
