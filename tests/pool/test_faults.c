/* SPDX-License-Identifier: MIT */
/* test_faults.c - worker deaths: SIGKILL during jobs of idempotent and non-idempotent
 * kernels, a kernel that crashes its worker, workers killed while idle, and the pool's
 * parent killed.  Usage: test_faults idem | reduce | nonidem | segv | idle | status |
 * parent. */
#include <sys/wait.h>

#include "poolutil.h"

#define N_ELEMS 2000000
#define ROUNDS 24 /* arithmetic per element: a job lasts long enough to be hit */

/* g(i): splitmix64 iterated; integer, so the reference has the same bits. */
static int64_t g(size_t i)
{
	uint64_t x = i;
	for (int k = 0; k < ROUNDS; k++) {
		x += 0x9e3779b97f4a7c15ull;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
	}
	return (int64_t)(x >> 1);
}

static int64_t *ref; /* g(i) for every i, computed once */

static void make_ref(void)
{
	ref = malloc(N_ELEMS * sizeof *ref);
	REQUIRE(ref != NULL);
	for (size_t i = 0; i < N_ELEMS; i++)
		ref[i] = g(i);
}

/* The caller's kernel kills a worker at its first range of a job: the pool is a global so
 * the kernel can name the victim.  Only participant 0 (this process) ever acts on it. */
static brg_pool *the_pool;
static int kill_pending;
static int victim_index;
static pid_t victim_pid;

static void maybe_kill(const brg_task *t)
{
	if (t->worker != 0 || !kill_pending)
		return;
	kill_pending = 0;
	int i = 1 + (int)(test_rand() % (uint64_t)(brg_pool_size(the_pool) - 1));
	int pid = brg_pool_worker_pid(the_pool, i);
	/* pid 0 would signal our whole process group. */
	if (pid > 0 && kill(pid, SIGKILL) == 0) {
		victim_index = i;
		victim_pid = pid;
	}
}

static int idem_kernel(const brg_task *t)
{
	maybe_kill(t);
	int64_t *out = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++)
		out[i] = g(i);
	return 0;
}

static int nonidem_kernel(const brg_task *t)
{
	maybe_kill(t);
	int64_t *out = brg_array_data(t->arrays[0]);
	int32_t *visits = brg_array_data(t->arrays[1]);
	for (size_t i = t->begin; i < t->end; i++) {
		out[i] = g(i);
		visits[i]++;
	}
	return 0;
}

static const brg_kernel idem = {"idem", idem_kernel, BRG_KERNEL_IDEMPOTENT};
static const brg_kernel nonidem = {"nonidem", nonidem_kernel, 0};

/* Killed pids, distinct (a kill that lands on a pid already dead is not a new death). */
static pid_t killed[256];
static int nkilled;

static void note_kill(void)
{
	if (!victim_pid)
		return;
	for (int i = 0; i < nkilled; i++)
		if (killed[i] == victim_pid)
			return;
	if (nkilled < 256)
		killed[nkilled++] = victim_pid;
}

/* Submits a job over [0, N_ELEMS), waits with a 20 s bound; fails the test on a timeout. */
static int run_bounded(brg_pool *pool, const brg_kernel *k, brg_array **arrays, int narrays,
		       brg_schedule s, brg_job_result *res)
{
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = k,
		.n = N_ELEMS,
		.sched = s,
		.arrays = arrays,
		.narrays = narrays,
	};
	brg_job *job = NULL;
	int r = brg_pool_submit(pool, &d, &job);
	REQUIRE_EQ(r, 0);
	uint64_t t0 = pu_mono_ns();
	r = brg_job_wait(job, 20000, res);
	if (r == -ETIMEDOUT) {
		TEST_FAIL_("job still running after 20 s");
		exit(test_done()); /* the workers die with us (PDEATHSIG) */
	}
	double dt = (double)(pu_mono_ns() - t0) / 1e9;
	if (dt > 5)
		printf("slow job: %.2f s\n", dt);
	return r;
}

static size_t count_wrong(const int64_t *out)
{
	size_t bad = 0;
	for (size_t i = 0; i < N_ELEMS; i++)
		bad += out[i] != ref[i];
	return bad;
}

/* Every worker in the status is alive and is the pid the pool reports. */
static void check_status_alive(brg_pool *pool, const char *when)
{
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[16];
	int n = brg_pool_status(brg_pool_name(pool), &info, ws, sizeof(brg_worker_status), 16);
	CHECK_EQ(n, brg_pool_size(pool));
	for (int i = 1; i < n && i < 16; i++) {
		CHECK_EQ(ws[i].pid, brg_pool_worker_pid(pool, i));
		if (!ws[i].alive || kill(ws[i].pid, 0) != 0)
			TEST_FAIL_("%s: worker %d pid %d: status alive %d, kill(0) %d, state %s",
				   when, i, ws[i].pid, ws[i].alive, kill(ws[i].pid, 0), ws[i].state);
	}
}

/* (a) SIGKILL of a random worker during 50 jobs of an idempotent kernel. */
static void test_kill_idempotent(void)
{
	make_ref();
	brg_pool *pool = the_pool = test_pool_new(3, BRG_BIND_COMPACT, "flt-idem");
	brg_array *outa = test_array_new("flt-idem-out", BRG_I64, N_ELEMS);
	int64_t *out = brg_array_data(outa);
	int replaced0 = brg_pool_replaced(pool), ok = 0, died = 0, rangekilled = 0;
	brg_schedule dyn = {BRG_SCHED_DYNAMIC, 1000};
	/* Mostly dynamic(1000); every fifth job static, every fifth guided. */
	brg_schedule mix[5] = {dyn, dyn, dyn, {BRG_SCHED_STATIC, 0}, {BRG_SCHED_GUIDED, 100}};
	for (int job = 0; job < 50; job++) {
		memset(out, 0xff, N_ELEMS * sizeof *out);
		victim_pid = 0;
		kill_pending = 1;
		brg_job_result res = {.size = sizeof res};
		int r = run_bounded(pool, &idem, &outa, 1, mix[job % 5], &res);
		note_kill();
		if (r == 0) {
			size_t bad = count_wrong(out);
			if (bad)
				TEST_FAIL_("job %d (worker %d killed): %zu wrong elements", job,
					   victim_index, bad);
			ok++;
		} else if (r == BRG_EWORKERDIED || r == BRG_ERANGEKILLED) {
			died += r == BRG_EWORKERDIED;
			rangekilled += r == BRG_ERANGEKILLED;
			CHECK(res.err_begin < res.err_end && res.err_end <= N_ELEMS);
			printf("job %d: %s, range [%zu, %zu), worker %d\n", job, brg_err_name(r),
			       res.err_begin, res.err_end, res.err_worker);
		} else {
			TEST_FAIL_("job %d: %d (%s)", job, r, brg_err_name(r));
		}
	}
	printf("idempotent: %d exact, %d EWORKERDIED, %d ERANGEKILLED, %d workers killed, "
	       "%d replaced\n",
	       ok, died, rangekilled, nkilled, brg_pool_replaced(pool) - replaced0);
	/* Usable after: a final job without a kill is exact. */
	memset(out, 0xff, N_ELEMS * sizeof *out);
	brg_job_result res = {.size = sizeof res};
	CHECK_EQ(run_bounded(pool, &idem, &outa, 1, dyn, &res), 0);
	CHECK_EQ(count_wrong(out), 0);
	CHECK(nkilled > 0);
	CHECK_EQ(brg_pool_replaced(pool) - replaced0, nkilled);
	test_array_drop(outa);
	brg_pool_destroy(pool);
}

/* Reductions with a kill in each: a re-run block writes the same partial into its slot, so
 * the bits are those of a job without deaths. */
static int gsum_kernel(const brg_task *t)
{
	maybe_kill(t);
	uint64_t s = 0;
	for (size_t i = t->begin; i < t->end; i++)
		s += (uint64_t)g(i);
	double *p = t->scratch;
	p[0] = (double)s * 0x1p-64 + (double)t->begin; /* not associative: order shows */
	return 0;
}

static void dsum_combine(void *into, const void *from, const void *args)
{
	*(double *)into += *(const double *)from;
}

static const brg_kernel gsum = {"gsum", gsum_kernel, BRG_KERNEL_IDEMPOTENT};

static void test_kill_reduce(void)
{
	brg_pool *pool = the_pool = test_pool_new(3, BRG_BIND_COMPACT, "flt-reduce");
	brg_schedule mix[3] = {{BRG_SCHED_DYNAMIC, 1}, {BRG_SCHED_STATIC, 0}, {BRG_SCHED_GUIDED, 2}};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &gsum,
		.n = N_ELEMS,
		.combine = dsum_combine,
	};
	double want, got;
	kill_pending = 0;
	REQUIRE_EQ(brg_pool_reduce(pool, &d, &want, sizeof want), 0);
	int replaced0 = brg_pool_replaced(pool), ok = 0, errs = 0;
	for (int job = 0; job < 30; job++) {
		d.sched = mix[job % 3];
		victim_pid = 0;
		kill_pending = 1;
		brg_job *j = NULL;
		REQUIRE_EQ(brg_pool_submit(pool, &d, &j), 0);
		brg_job_result res = {.size = sizeof res};
		int r = brg_job_wait(j, 20000, &res);
		REQUIRE(r != -ETIMEDOUT);
		note_kill();
		if (r == 0) {
			memcpy(&got, res.partial, sizeof got);
			if (memcmp(&got, &want, sizeof got))
				TEST_FAIL_("reduction %d (worker %d killed): %a, want %a", job,
					   victim_index, got, want);
			ok++;
		} else if (r == BRG_EWORKERDIED || r == BRG_ERANGEKILLED) {
			errs++;
			CHECK(res.err_begin < res.err_end && res.err_end <= N_ELEMS);
		} else {
			TEST_FAIL_("reduction %d: %d (%s)", job, r, brg_err_name(r));
		}
	}
	printf("reductions: %d exact, %d worker errors, %d killed, %d replaced\n", ok, errs,
	       nkilled, brg_pool_replaced(pool) - replaced0);
	kill_pending = 0;
	d.sched = mix[0];
	CHECK_EQ(brg_pool_reduce(pool, &d, &got, sizeof got), 0);
	CHECK(!memcmp(&got, &want, sizeof got));
	CHECK(nkilled > 0);
	CHECK_EQ(brg_pool_replaced(pool) - replaced0, nkilled);
	brg_pool_destroy(pool);
}

/* (b) The same with a non-idempotent kernel: a death holding a range fails the job with
 * that range; nothing is ever run twice. */
static void test_kill_nonidempotent(void)
{
	make_ref();
	brg_pool *pool = the_pool = test_pool_new(3, BRG_BIND_COMPACT, "flt-nonidem");
	brg_array *arrays[2] = {test_array_new("flt-ni-out", BRG_I64, N_ELEMS),
				test_array_new("flt-ni-visits", BRG_I32, N_ELEMS)};
	int64_t *out = brg_array_data(arrays[0]);
	int32_t *visits = brg_array_data(arrays[1]);
	int replaced0 = brg_pool_replaced(pool), ok = 0, died = 0;
	brg_schedule dyn = {BRG_SCHED_DYNAMIC, 1000};
	for (int job = 0; job < 20; job++) {
		memset(out, 0xff, N_ELEMS * sizeof *out);
		memset(visits, 0, N_ELEMS * sizeof *visits);
		victim_pid = 0;
		kill_pending = 1;
		brg_job_result res = {.size = sizeof res};
		int r = run_bounded(pool, &nonidem, arrays, 2, dyn, &res);
		note_kill();
		size_t twice = 0, unvisited = 0, wrong = 0;
		for (size_t i = 0; i < N_ELEMS; i++) {
			twice += visits[i] > 1;
			unvisited += visits[i] == 0;
			wrong += visits[i] == 1 && out[i] != ref[i];
		}
		CHECK_EQ(twice, 0);
		CHECK_EQ(wrong, 0);
		if (r == 0) {
			CHECK_EQ(unvisited, 0);
			ok++;
		} else if (r == BRG_EWORKERDIED) {
			died++;
			if (!(res.err_begin < res.err_end && res.err_end <= N_ELEMS))
				TEST_FAIL_("job %d: EWORKERDIED with range [%zu, %zu)", job,
					   res.err_begin, res.err_end);
			CHECK_EQ(res.err_worker, victim_index);
		} else {
			TEST_FAIL_("job %d: %d (%s), range [%zu, %zu)", job, r, brg_err_name(r),
				   res.err_begin, res.err_end);
		}
	}
	printf("non-idempotent: %d exact, %d EWORKERDIED, %d workers killed, %d replaced\n", ok,
	       died, nkilled, brg_pool_replaced(pool) - replaced0);
	CHECK(nkilled > 0);
	memset(visits, 0, N_ELEMS * sizeof *visits);
	memset(out, 0xff, N_ELEMS * sizeof *out);
	brg_job_result res = {.size = sizeof res};
	CHECK_EQ(run_bounded(pool, &nonidem, arrays, 2, dyn, &res), 0);
	size_t bad = 0;
	for (size_t i = 0; i < N_ELEMS; i++)
		bad += visits[i] != 1 || out[i] != ref[i];
	CHECK_EQ(bad, 0);
	CHECK_EQ(brg_pool_replaced(pool) - replaced0, nkilled);
	test_array_drop(arrays[0]);
	test_array_drop(arrays[1]);
	brg_pool_destroy(pool);
}

/* (c) A kernel that crashes its worker on one range: re-run once by a replacement, which
 * crashes too, then BRG_ERANGEKILLED names the range. */
struct segv_args {
	uint64_t bad;
};

static int segv_kernel(const brg_task *t)
{
	const struct segv_args *a = t->args;
	int64_t *out = brg_array_data(t->arrays[0]);
	int64_t *deaths = brg_array_data(t->arrays[1]);
	if (t->worker != 0 && t->begin <= a->bad && a->bad < t->end) {
		__atomic_fetch_add(&deaths[0], 1, __ATOMIC_SEQ_CST);
		prctl(PR_SET_DUMPABLE, 0); /* no core file */
		signal(SIGSEGV, SIG_DFL);  /* a sanitizer's handler would exit instead */
		raise(SIGSEGV);
	}
	for (size_t i = t->begin; i < t->end; i++)
		out[i] = g(i);
	return 0;
}

static const brg_kernel segvk = {"segv", segv_kernel, BRG_KERNEL_IDEMPOTENT};

static int first_death(void *deaths)
{
	return __atomic_load_n((int64_t *)deaths, __ATOMIC_SEQ_CST) >= 1;
}

static void test_segv(void)
{
	make_ref();
	brg_pool *pool = test_pool_new(3, BRG_BIND_COMPACT, "flt-segv");
	brg_array *arrays[2] = {test_array_new("flt-segv-out", BRG_I64, N_ELEMS),
				test_array_new("flt-segv-deaths", BRG_I64, 1)};
	int64_t *out = brg_array_data(arrays[0]);
	int64_t *deaths = brg_array_data(arrays[1]);
	brg_schedule scheds[] = {{BRG_SCHED_DYNAMIC, 1000}, {BRG_SCHED_STATIC, 0},
				 {BRG_SCHED_GUIDED, 100}};
	for (int s = 0; s < 3; s++) {
		int replaced0 = brg_pool_replaced(pool);
		/* In the last third: the caller's static range (the first third) never holds it. */
		struct segv_args a = {N_ELEMS - 1 - test_rand() % (N_ELEMS / 3)};
		__atomic_store_n(&deaths[0], 0, __ATOMIC_SEQ_CST);
		brg_job_desc d = {
			.size = sizeof d,
			.kernel = &segvk,
			.n = N_ELEMS,
			.sched = scheds[s],
			.args = &a,
			.args_size = sizeof a,
			.arrays = arrays,
			.narrays = 2,
		};
		brg_job *job = NULL;
		REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
		/* The caller takes part only in brg_job_wait: until a worker has met the bad
		 * range, the caller cannot take it (it would not crash: it is not a worker). */
		if (!pu_wait_for(first_death, deaths, 20000))
			TEST_FAIL_("sched %d: no worker reached bad index %llu in 20 s", s,
				   (unsigned long long)a.bad);
		brg_job_result res = {.size = sizeof res};
		int r = brg_job_wait(job, 20000, &res);
		REQUIRE(r != -ETIMEDOUT);
		CHECK_EQ(r, BRG_ERANGEKILLED);
		CHECK_EQ(res.status, BRG_ERANGEKILLED);
		if (!(res.err_begin <= a.bad && a.bad < res.err_end))
			TEST_FAIL_("sched %d: range [%zu, %zu) does not hold bad index %llu", s,
				   res.err_begin, res.err_end, (unsigned long long)a.bad);
		CHECK(res.err_worker >= 1 && res.err_worker < 3);
		CHECK_EQ(__atomic_load_n(&deaths[0], __ATOMIC_SEQ_CST), 2);
		CHECK_EQ(brg_pool_replaced(pool) - replaced0, 2);
		/* Usable after. */
		memset(out, 0xff, N_ELEMS * sizeof *out);
		brg_job_result res2 = {.size = sizeof res2};
		CHECK_EQ(run_bounded(pool, &idem, arrays, 1, scheds[s], &res2), 0);
		CHECK_EQ(count_wrong(out), 0);
	}
	test_array_drop(arrays[0]);
	test_array_drop(arrays[1]);
	brg_pool_destroy(pool);
}

/* Workers killed between jobs: the next job notices, replaces them and is exact. */
static void test_idle_kill(void)
{
	make_ref();
	brg_pool *pool = test_pool_new(4, BRG_BIND_COMPACT, "flt-idle");
	brg_array *outa = test_array_new("flt-idle-out", BRG_I64, N_ELEMS);
	int64_t *out = brg_array_data(outa);
	brg_schedule dyn = {BRG_SCHED_DYNAMIC, 5000};
	for (int round = 0; round < 2; round++) {
		int replaced0 = brg_pool_replaced(pool), nk = 0;
		pid_t pids[4];
		/* Round 0: one worker; round 1: every worker. */
		for (int i = 1; i < 4; i++) {
			pids[i] = brg_pool_worker_pid(pool, i);
			REQUIRE(pids[i] > 0);
			if (round == 1 || i == 2) {
				CHECK_EQ(kill(pids[i], SIGKILL), 0);
				nk++;
			}
		}
		memset(out, 0xff, N_ELEMS * sizeof *out);
		brg_job_result res = {.size = sizeof res};
		CHECK_EQ(run_bounded(pool, &idem, &outa, 1, dyn, &res), 0);
		CHECK_EQ(count_wrong(out), 0);
		CHECK_EQ(brg_pool_replaced(pool) - replaced0, nk);
		for (int i = 1; i < 4; i++) {
			int pid = brg_pool_worker_pid(pool, i);
			CHECK(pid > 0);
			if (round == 1 || i == 2)
				CHECK(pid != pids[i]);
			else
				CHECK_EQ(pid, pids[i]);
		}
	}
	check_status_alive(pool, "after idle kills");
	test_array_drop(outa);
	brg_pool_destroy(pool);
}

struct reap_state {
	pid_t pids[2];
	int reaped[2];
};

/* Reaps what it can of the orphaned workers (ours: we are their subreaper); 1 when both are
 * gone. */
static int reap_some(void *arg)
{
	struct reap_state *rs = arg;
	for (int i = 0; i < 2; i++) {
		if (rs->reaped[i])
			continue;
		int st;
		pid_t w = waitpid(rs->pids[i], &st, WNOHANG);
		if (w == rs->pids[i] ||
		    (w < 0 && errno == ECHILD && kill(rs->pids[i], 0) < 0 && errno == ESRCH))
			rs->reaped[i] = 1;
	}
	return rs->reaped[0] && rs->reaped[1];
}

/* brg_pool_status of a pool whose workers were replaced a while after it started: each
 * live worker is reported alive. */
static void test_replaced_status(void)
{
	make_ref();
	brg_pool *pool = test_pool_new(3, BRG_BIND_COMPACT, "flt-status");
	brg_array *outa = test_array_new("flt-status-out", BRG_I64, N_ELEMS);
	int64_t *out = brg_array_data(outa);
	brg_schedule dyn = {BRG_SCHED_DYNAMIC, 5000};
	/* Work (not sleep) until the pool is 3 s old: liveness checks compare start times
	 * with a resolution of seconds. */
	uint64_t t0 = pu_mono_ns();
	brg_job_result res = {.size = sizeof res};
	while (pu_mono_ns() - t0 < 3500000000ull)
		CHECK_EQ(run_bounded(pool, &idem, &outa, 1, dyn, &res), 0);
	check_status_alive(pool, "original workers");
	int replaced0 = brg_pool_replaced(pool);
	pid_t old = brg_pool_worker_pid(pool, 1);
	REQUIRE(old > 0);
	CHECK_EQ(kill(old, SIGKILL), 0);
	memset(out, 0xff, N_ELEMS * sizeof *out);
	CHECK_EQ(run_bounded(pool, &idem, &outa, 1, dyn, &res), 0);
	CHECK_EQ(count_wrong(out), 0);
	CHECK_EQ(brg_pool_replaced(pool) - replaced0, 1);
	CHECK(brg_pool_worker_pid(pool, 1) != old);
	check_status_alive(pool, "a worker replaced 3 s after the pool started");
	test_array_drop(outa);
	brg_pool_destroy(pool);
}

/* (d) The pool's parent killed: its workers follow it within 2 s; its control block stays
 * behind, reported dead, and can be removed. */
static void test_parent_killed(void)
{
	REQUIRE_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); /* orphans become our children */
	const char *name = test_name("flt-orphan");
	int fds[2], hold[2];
	REQUIRE_EQ(pipe(fds), 0);
	REQUIRE_EQ(pipe(hold), 0);
	fflush(NULL);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		close(fds[0]);
		close(hold[1]);
		brg_pool_opts o;
		brg_pool_opts_init(&o);
		o.workers = 3;
		o.name = name;
		brg_pool *pool;
		int32_t pids[2] = {0, 0};
		if (brg_pool_create(&pool, &o) == 0) {
			pids[0] = brg_pool_worker_pid(pool, 1);
			pids[1] = brg_pool_worker_pid(pool, 2);
		}
		if (write(fds[1], pids, sizeof pids) != (ssize_t)sizeof pids)
			_exit(1);
		char c;
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			; /* blocks until killed */
		_exit(0); /* not exit(): the parent's cleanup must not run here */
	}
	close(fds[1]);
	close(hold[0]);
	int32_t pids[2] = {0, 0};
	ssize_t got = read(fds[0], pids, sizeof pids);
	close(fds[0]);
	if (got != (ssize_t)sizeof pids || pids[0] <= 0 || pids[1] <= 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		TEST_FAIL_("child could not start its pool (read %zd, pids %d %d)", got, pids[0],
			   pids[1]);
		return;
	}
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[3];
	CHECK_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), 3), 3);
	CHECK_EQ(info.parent_pid, child);
	CHECK_EQ(info.parent_alive, 1);

	CHECK_EQ(kill(child, SIGKILL), 0);
	int st;
	REQUIRE_EQ(waitpid(child, &st, 0), child);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(hold[1]);

	/* The workers die with their parent (PDEATHSIG): reaped here within 2 s. */
	struct reap_state rs = {{pids[0], pids[1]}, {0, 0}};
	int all = pu_wait_for(reap_some, &rs, 2000);
	int *reaped = rs.reaped;
	if (!all)
		TEST_FAIL_("workers %d (%s), %d (%s) still there 2 s after their parent died",
			   pids[0], reaped[0] ? "gone" : "alive", pids[1],
			   reaped[1] ? "gone" : "alive");
	for (int i = 0; i < 2; i++)
		if (!reaped[i]) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}

	/* What `brigade gc` sees and does. */
	brg_segment_info si = {.size = sizeof si};
	REQUIRE_EQ(brg_segment_stat(name, 0, &si), 0);
	CHECK_EQ(si.kind, BRG_KIND_POOL);
	CHECK_EQ(si.creator_pid, child);
	CHECK_EQ(si.creator_alive, 0);
	CHECK_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), 3), 3);
	CHECK_EQ(info.parent_alive, 0);
	for (int i = 1; i < 3; i++)
		CHECK_EQ(ws[i].alive, 0);
	CHECK_EQ(brg_segment_unlink(name), 0);
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
}

int main(int argc, char **argv)
{
	test_init_pools();
	if (argc != 2) {
		fprintf(stderr, "usage: %s idem|reduce|nonidem|segv|idle|status|parent\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "idem"))
		test_kill_idempotent();
	else if (!strcmp(argv[1], "reduce"))
		test_kill_reduce();
	else if (!strcmp(argv[1], "nonidem"))
		test_kill_nonidempotent();
	else if (!strcmp(argv[1], "segv"))
		test_segv();
	else if (!strcmp(argv[1], "idle"))
		test_idle_kill();
	else if (!strcmp(argv[1], "status"))
		test_replaced_status();
	else if (!strcmp(argv[1], "parent"))
		test_parent_killed();
	else
		return 2;
	free(ref);
	return pu_done();
}
