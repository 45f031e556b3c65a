/* SPDX-License-Identifier: MIT */
/* test_pool_misc.c - a pool's life around the jobs: options and environment, status, the
 * control block in /dev/shm, binding, bad job descriptors, destroy. */
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "poolutil.h"

static int count_kernel(const brg_task *t)
{
	int32_t *v = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++)
		__atomic_fetch_add(&v[i], 1, __ATOMIC_RELAXED);
	return 0;
}

static const brg_kernel countk = {"count", count_kernel, 0};

static int noop_kernel(const brg_task *t) { return 0; }
static const brg_kernel noop = {"noop", noop_kernel, BRG_KERNEL_IDEMPOTENT};

/* Runs count over the array; 1 when every element went from 0 to 1. */
static int run_count(brg_pool *pool, brg_array *a, brg_schedule s)
{
	int32_t *v = brg_array_data(a);
	size_t n = brg_array_count(a);
	memset(v, 0, n * sizeof *v);
	brg_array *arrays[1] = {a};
	brg_job_desc d = {.size = sizeof d, .kernel = &countk, .n = n, .sched = s,
			  .arrays = arrays, .narrays = 1};
	int r = brg_pool_run(pool, &d, NULL);
	CHECK_EQ(r, 0);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += v[i] != 1;
	CHECK_EQ(bad, 0);
	return r == 0 && bad == 0;
}

/* No child left behind (every worker that was started was reaped). */
static void check_no_children(const char *when)
{
	errno = 0;
	pid_t w = waitpid(-1, NULL, WNOHANG);
	if (w != -1 || errno != ECHILD)
		TEST_FAIL_("%s: waitpid(-1) = %d (%s): a child was left", when, (int)w,
			   strerror(errno));
}

static int create_with(brg_pool **p, int workers, brg_bind bind, brg_start start, long spin,
		       const char *name)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.bind = bind;
	o.start = start;
	o.spin_us = spin;
	o.name = name;
	return brg_pool_create(p, &o);
}

static void test_bad_options(void)
{
	const char *name = test_name("misc-bad");
	brg_pool *p = (brg_pool *)&p;
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(create_with(&p, -1, 0, 0, 0, name), -EINVAL);
	CHECK(p == NULL);
	CHECK_EQ(create_with(&p, 257, 0, 0, 0, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, (brg_bind)7, 0, 0, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, (brg_bind)-1, 0, 0, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, 0, (brg_start)5, 0, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, 0, (brg_start)-1, 0, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, 0, 0, 10000001, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, 0, 0, -2, name), -EINVAL);
	CHECK_EQ(create_with(&p, 2, 0, 0, 0, "bad/name"), BRG_EBADNAME);
	char longname[260];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK_EQ(create_with(&p, 2, 0, 0, 0, longname), BRG_EBADNAME);
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 2;
	o.name = name;
	o.size = BRG_POOL_OPTS_SIZE_VER0 - 1;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	o.size = 0;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	o.size = sizeof o;
	CHECK_EQ(brg_pool_create(NULL, &o), -EINVAL);
	CHECK(p == NULL);
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
	check_no_children("after bad options");

	/* A name already taken: -EEXIST, and the pool that holds it is untouched. */
	brg_pool *first = NULL;
	REQUIRE_EQ(create_with(&first, 2, 0, 0, 0, name), 0);
	CHECK_EQ(create_with(&p, 2, 0, 0, 0, name), -EEXIST);
	CHECK(p == NULL);
	CHECK_EQ(brg_segment_stat(name, 0, &si), 0);
	brg_array *a = test_array_new("misc-bad-arr", BRG_I32, 10007);
	run_count(first, a, (brg_schedule){BRG_SCHED_DYNAMIC, 10});
	brg_pool_destroy(first);
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
	check_no_children("after destroy");
	test_array_drop(a);
	brg_pool_destroy(NULL);
}

static void test_env(void)
{
	const char *name = test_name("misc-env");
	brg_pool *p = NULL;
	brg_worker_status ws[3];
	/* BRG_WORKERS is the default of a workers left 0, never an override (OpenMP's rule for
	 * OMP_NUM_THREADS). */
	setenv("BRG_WORKERS", "3", 1);
	REQUIRE_EQ(create_with(&p, 0, 0, 0, 0, name), 0);
	CHECK_EQ(brg_pool_size(p), 3);
	brg_array *a = test_array_new("misc-env-arr", BRG_I32, 4097);
	run_count(p, a, (brg_schedule){BRG_SCHED_STATIC, 0});
	brg_pool_destroy(p);
	REQUIRE_EQ(create_with(&p, 2, 0, 0, 0, name), 0);
	CHECK_EQ(brg_pool_size(p), 2);
	brg_pool_destroy(p);
	p = NULL;
	const char *bad_workers[] = {"0", "-2", "abc", "3x", "257"};
	for (size_t i = 0; i < sizeof bad_workers / sizeof bad_workers[0]; i++) {
		setenv("BRG_WORKERS", bad_workers[i], 1);
		int r = create_with(&p, 0, 0, 0, 0, name);
		if (r != -EINVAL)
			TEST_FAIL_("BRG_WORKERS=%s: %d (%s), want -EINVAL", bad_workers[i], r,
				   brg_err_name(r));
		if (!r)
			brg_pool_destroy(p);
		/* Not consulted when the program chose: no error either. */
		r = create_with(&p, 2, 0, 0, 0, name);
		if (r)
			TEST_FAIL_("BRG_WORKERS=%s with workers = 2: %d (%s), want 0",
				   bad_workers[i], r, brg_err_name(r));
		else
			brg_pool_destroy(p);
	}
	unsetenv("BRG_WORKERS");

	setenv("BRG_BIND", "bogus", 1);
	CHECK_EQ(create_with(&p, 2, BRG_BIND_DEFAULT, 0, 0, name), -EINVAL);
	/* BRG_BIND=none: nobody is bound, unless the program asked for a binding. */
	setenv("BRG_BIND", "none", 1);
	REQUIRE_EQ(create_with(&p, 2, BRG_BIND_DEFAULT, 0, 0, name), 0);
	CHECK_EQ(brg_pool_status(brg_pool_name(p), NULL, ws, sizeof ws[0], 2), 2);
	CHECK_EQ(ws[0].core, -1);
	CHECK_EQ(ws[1].core, -1);
	run_count(p, a, (brg_schedule){BRG_SCHED_DYNAMIC, 1});
	brg_pool_destroy(p);
	REQUIRE_EQ(create_with(&p, 2, BRG_BIND_COMPACT, 0, 0, name), 0);
	CHECK_EQ(brg_pool_status(brg_pool_name(p), NULL, ws, sizeof ws[0], 2), 2);
	CHECK(ws[0].core >= 0 && ws[1].core >= 0);
	brg_pool_destroy(p);
	unsetenv("BRG_BIND");

	/* The spin the pool took, as its control block says. */
	brg_pool_info info = {.size = sizeof info};
	setenv("BRG_WAIT", "soon", 1);
	CHECK_EQ(create_with(&p, 2, 0, 0, 0, name), -EINVAL);
	REQUIRE_EQ(create_with(&p, 2, 0, 0, 70, name), 0); /* chosen: not consulted */
	CHECK_EQ(brg_pool_status(name, &info, NULL, 0, 0), 2);
	CHECK_EQ(info.spin_us, 70);
	brg_pool_destroy(p);
	unsetenv("BRG_WAIT");
	REQUIRE_EQ(create_with(&p, 2, 0, 0, 0, name), 0); /* the built-in default */
	CHECK_EQ(brg_pool_status(name, &info, NULL, 0, 0), 2);
	CHECK_EQ(info.spin_us, 50);
	brg_pool_destroy(p);
	/* No spinning at all, from the environment or asked for: every wait sleeps on the
	 * futex. */
	setenv("BRG_WAIT", "0", 1);
	long spins[] = {0, BRG_SPIN_NONE};
	for (int i = 0; i < 2; i++) {
		REQUIRE_EQ(create_with(&p, 2, 0, 0, spins[i], name), 0);
		CHECK_EQ(brg_pool_status(name, &info, NULL, 0, 0), 2);
		CHECK_EQ(info.spin_us, 0);
		for (int k = 0; k < 20; k++)
			run_count(p, a, (brg_schedule){BRG_SCHED_GUIDED, 1});
		brg_pool_destroy(p);
	}
	setenv("BRG_WAIT", "120", 1);
	REQUIRE_EQ(create_with(&p, 2, 0, 0, 0, name), 0); /* left zero: the environment's */
	CHECK_EQ(brg_pool_status(name, &info, NULL, 0, 0), 2);
	CHECK_EQ(info.spin_us, 120);
	brg_pool_destroy(p);
	unsetenv("BRG_WAIT");
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
	check_no_children("after the environment tests");
	test_array_drop(a);
}

struct find {
	const char *name;
	int kind, found;
};

static int find_fn(const brg_segment_info *info, void *u)
{
	struct find *f = u;
	if (!strcmp(info->name, f->name)) {
		f->found++;
		f->kind = info->kind;
	}
	return 0;
}

/* A cpuset in hwloc list syntax ("0-1,4") as a cpu_set_t. */
static void parse_list(const char *text, cpu_set_t *set)
{
	CPU_ZERO(set);
	const char *s = text;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, set);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
}

static void test_status(void)
{
	enum { P = 3 };
	cpu_set_t before, during, after;
	REQUIRE_EQ(sched_getaffinity(0, sizeof before, &before), 0);
	brg_pool *pool = test_pool_new(P, BRG_BIND_COMPACT, "misc-status");
	const char *name = brg_pool_name(pool);
	CHECK(!strncmp(name, "brgt-", 5));

	/* The control block is a brigade segment of kind pool while the pool lives. */
	struct find f = {name, -1, 0};
	CHECK_EQ(brg_segment_foreach(0, find_fn, &f), 0);
	CHECK_EQ(f.found, 1);
	CHECK_EQ(f.kind, BRG_KIND_POOL);
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(brg_segment_stat(name, 0, &si), 0);
	CHECK_EQ(si.kind, BRG_KIND_POOL);
	CHECK_EQ(si.creator_pid, getpid());
	CHECK_EQ(si.creator_alive, 1);

	CHECK_EQ(brg_pool_worker_pid(pool, 0), -EINVAL);
	CHECK_EQ(brg_pool_worker_pid(pool, P), -EINVAL);
	CHECK_EQ(brg_pool_worker_pid(pool, -1), -EINVAL);
	CHECK_EQ(brg_pool_worker_pid(NULL, 1), -EINVAL);

	brg_array *a = test_array_new("misc-status-arr", BRG_I32, 100003);
	for (int k = 0; k < 5; k++)
		run_count(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 100});

	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[P + 2];
	memset(ws, 0, sizeof ws);
	REQUIRE_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), P + 2), P);
	CHECK_EQ(info.nworkers, P);
	CHECK_EQ(info.parent_pid, getpid());
	CHECK_EQ(info.parent_alive, 1);
	CHECK_EQ(info.start_method, BRG_START_FORK);
	CHECK_EQ(info.job_in_flight, 0);
	CHECK_EQ(info.job_id, 5);
	CHECK_EQ(info.job_n, 100003);
	CHECK_EQ(info.job_sched, BRG_SCHED_DYNAMIC);
	uint64_t chunks = 0;
	brg_place pl[P];
	REQUIRE_EQ(brg_topo_placement(NULL, P, BRG_BIND_COMPACT, pl, sizeof(brg_place), P), P);
	for (int i = 0; i < P; i++) {
		CHECK_EQ(ws[i].index, i);
		CHECK_EQ(ws[i].pid, i ? brg_pool_worker_pid(pool, i) : getpid());
		CHECK(ws[i].pid > 0 && kill(ws[i].pid, 0) == 0);
		CHECK_EQ(ws[i].alive, 1);
		CHECK(ws[i].state && !strcmp(ws[i].state, "idle"));
		CHECK_EQ(ws[i].has_range, 0);
		CHECK_EQ(ws[i].core, pl[i].core);
		CHECK_EQ(ws[i].pu, pl[i].pu);
		chunks += ws[i].chunks_done;
		/* Each participant is bound where the placement says. */
		cpu_set_t want, got;
		parse_list(pl[i].cpuset, &want);
		if (i == 0)
			REQUIRE_EQ(sched_getaffinity(0, sizeof got, &got), 0);
		else
			REQUIRE_EQ(sched_getaffinity(ws[i].pid, sizeof got, &got), 0);
		if (!CPU_EQUAL(&want, &got))
			TEST_FAIL_("participant %d: affinity differs from placement {%s}", i,
				   pl[i].cpuset);
	}
	CHECK(chunks >= 5 * (100003 / 100));
	REQUIRE_EQ(sched_getaffinity(0, sizeof during, &during), 0);

	/* Fewer slots than participants, none, no info. */
	CHECK_EQ(brg_pool_status(name, NULL, ws, sizeof(brg_worker_status), 1), P);
	CHECK_EQ(brg_pool_status(name, NULL, NULL, sizeof(brg_worker_status), 0), P);
	brg_pool_info small = {.size = 8};
	CHECK_EQ(brg_pool_status(name, &small, ws, sizeof(brg_worker_status), P), -EINVAL);
	CHECK_EQ(brg_pool_status(name, NULL, NULL, sizeof(brg_worker_status), 2), -EINVAL);
	CHECK_EQ(brg_pool_status(name, NULL, ws, sizeof(brg_worker_status), -1), -EINVAL);
	CHECK_EQ(brg_pool_status(NULL, NULL, ws, sizeof(brg_worker_status), 1), -EINVAL);
	CHECK_EQ(brg_pool_status(test_name("misc-nosuch"), NULL, ws, sizeof(brg_worker_status), 1), -ENOENT);
	CHECK_EQ(brg_pool_status(brg_array_name(a), NULL, ws, sizeof(brg_worker_status), 1), BRG_ENOTPOOL);

	/* While a job is in flight. */
	brg_array *arrays[1] = {a};
	brg_job_desc d = {.size = sizeof d, .kernel = &countk, .n = 100003,
			  .sched = {BRG_SCHED_STATIC, 0}, .arrays = arrays, .narrays = 1};
	brg_job *job;
	memset(brg_array_data(a), 0, 100003 * sizeof(int32_t));
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	CHECK_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), P), P);
	CHECK_EQ(info.job_in_flight, 1);
	CHECK_EQ(info.job_id, 6);
	CHECK_EQ(info.job_sched, BRG_SCHED_STATIC);
	CHECK_EQ(brg_job_wait(job, 20000, NULL), 0);
	CHECK_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), P), P);
	CHECK_EQ(info.job_in_flight, 0);

	/* From another process of the same user. */
	int fds[2];
	REQUIRE_EQ(pipe(fds), 0);
	fflush(NULL);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		brg_pool_info ci = {.size = sizeof ci};
		brg_worker_status cw[P];
		int32_t msg[2 + P];
		msg[0] = brg_pool_status(name, &ci, cw, sizeof(brg_worker_status), P);
		msg[1] = ci.parent_pid;
		for (int i = 0; i < P; i++)
			msg[2 + i] = cw[i].pid;
		_exit(write(fds[1], msg, sizeof msg) == (ssize_t)sizeof msg ? 0 : 1);
	}
	close(fds[1]);
	int32_t msg[2 + P] = {0};
	CHECK_EQ(read(fds[0], msg, sizeof msg), (ssize_t)sizeof msg);
	close(fds[0]);
	int st;
	REQUIRE_EQ(waitpid(child, &st, 0), child);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(msg[0], P);
	CHECK_EQ(msg[1], getpid());
	for (int i = 0; i < P; i++)
		CHECK_EQ(msg[2 + i], ws[i].pid);

	char saved[BRG_NAME_MAX + 1];
	snprintf(saved, sizeof saved, "%s", name);
	pid_t pids[P];
	for (int i = 1; i < P; i++)
		pids[i] = brg_pool_worker_pid(pool, i);
	brg_pool_destroy(pool);

	/* Gone: the control block, the workers; the caller's binding is restored. */
	CHECK_EQ(brg_segment_stat(saved, 0, &si), -ENOENT);
	f = (struct find){saved, -1, 0};
	CHECK_EQ(brg_segment_foreach(0, find_fn, &f), 0);
	CHECK_EQ(f.found, 0);
	for (int i = 1; i < P; i++) {
		errno = 0;
		CHECK_EQ(kill(pids[i], 0), -1);
		CHECK_EQ(errno, ESRCH);
	}
	check_no_children("after destroy");
	REQUIRE_EQ(sched_getaffinity(0, sizeof after, &after), 0);
	CHECK(CPU_EQUAL(&before, &after));
	test_array_drop(a);
}

static void test_bad_jobs(void)
{
	brg_pool *pool = test_pool_new(2, BRG_BIND_COMPACT, "misc-jobs");
	brg_array *a = test_array_new("misc-jobs-arr", BRG_I32, 1000);
	brg_array *arrays[BRG_JOB_MAX_ARRAYS + 1];
	for (int i = 0; i <= BRG_JOB_MAX_ARRAYS; i++)
		arrays[i] = a;
	brg_job_desc good = {.size = sizeof good, .kernel = &countk, .n = 1000,
			     .sched = {BRG_SCHED_DYNAMIC, 1}, .arrays = arrays, .narrays = 1};
	brg_job *job = (brg_job *)&good;
	brg_job_desc d;
	CHECK_EQ(brg_pool_submit(pool, &good, NULL), -EINVAL);
	CHECK_EQ(brg_pool_submit(NULL, &good, &job), -EINVAL);
	CHECK(job == NULL);
	CHECK_EQ(brg_pool_submit(pool, NULL, &job), -EINVAL);
	d = good, d.size = sizeof d - 1;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	d = good, d.kernel = NULL;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	brg_kernel nofn = {"nofn", NULL, 0};
	d = good, d.kernel = &nofn;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	d = good, d.sched.kind = 4;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	d = good, d.sched.kind = -1;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	d = good, d.narrays = -1;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	d = good, d.narrays = BRG_JOB_MAX_ARRAYS + 1;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -E2BIG);
	d = good, d.arrays = NULL;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	brg_array *nullarr[1] = {NULL};
	d = good, d.arrays = nullarr;
	CHECK_EQ(brg_pool_submit(pool, &d, &job), -EINVAL);
	CHECK_EQ(brg_pool_run(pool, NULL, NULL), -EINVAL);
	CHECK_EQ(brg_job_wait(NULL, 0, NULL), -EINVAL);
	/* Refused jobs left nothing in flight: a good one runs. */
	run_count(pool, a, good.sched);
	/* Eight arrays (the same one) are fine. */
	d = good, d.narrays = BRG_JOB_MAX_ARRAYS, d.kernel = &noop;
	CHECK_EQ(brg_pool_run(pool, &d, NULL), 0);

	/* destroy with a job in flight: waited for, the job is done. */
	int32_t *v = brg_array_data(a);
	memset(v, 0, 1000 * sizeof *v);
	REQUIRE_EQ(brg_pool_submit(pool, &good, &job), 0);
	brg_pool_destroy(pool);
	size_t bad = 0;
	for (size_t i = 0; i < 1000; i++)
		bad += v[i] != 1;
	CHECK_EQ(bad, 0);
	check_no_children("after destroy with a job in flight");
	test_array_drop(a);
}

static void test_sizes(void)
{
	/* One participant: the caller alone. */
	brg_pool *pool = test_pool_new(1, BRG_BIND_COMPACT, "misc-one");
	CHECK_EQ(brg_pool_worker_pid(pool, 1), -EINVAL);
	brg_array *a = test_array_new("misc-sizes-arr", BRG_I32, 77777);
	run_count(pool, a, (brg_schedule){BRG_SCHED_GUIDED, 3});
	brg_pool_destroy(pool);

	/* Default: one per core of this machine. */
	int cores = brg_topo_placement(NULL, 0, BRG_BIND_COMPACT, NULL, sizeof(brg_place), 0);
	REQUIRE(cores >= 1);
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.name = test_name("misc-default");
	REQUIRE_EQ(brg_pool_create(&pool, &o), 0);
	CHECK_EQ(brg_pool_size(pool), cores);
	run_count(pool, a, (brg_schedule){BRG_SCHED_AUTO, 0});
	brg_pool_destroy(pool);

	/* More participants than cores; two pools at once. */
	brg_pool *p2 = NULL;
	pool = test_pool_new(cores * 2 + 1, BRG_BIND_COMPACT, "misc-many");
	p2 = test_pool_new(2, BRG_BIND_SCATTER, "misc-second");
	run_count(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 13});
	run_count(p2, a, (brg_schedule){BRG_SCHED_DYNAMIC, 13});
	run_count(pool, a, (brg_schedule){BRG_SCHED_STATIC, 0});
	brg_pool_destroy(p2);
	brg_pool_destroy(pool);
	check_no_children("after the sizes tests");
	test_array_drop(a);
}

/* An array of another owner, opened with BRG_OPEN_ANY_OWNER by the caller, is opened the
 * same way by the workers (they would refuse it with BRG_EOWNER otherwise). */
static void test_other_owner(void)
{
	if (geteuid() != 0) {
		printf("# skip other-owner arrays: not root, cannot chown\n");
		return;
	}
	brg_pool *pool;
	REQUIRE_EQ(create_with(&pool, 2, BRG_BIND_COMPACT, BRG_START_FORK, BRG_SPIN_NONE, NULL), 0);
	const char *name = test_name("misc-owner");
	size_t n = 4000000; /* long enough that the worker surely claims ranges */
	brg_array *a;
	REQUIRE_EQ(brg_array_create(&a, name, BRG_I32, 1, &n, NULL), 0);
	brg_array_close(a);
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", name);
	REQUIRE_EQ(chown(path, 65534, 65534), 0);
	CHECK_EQ(brg_array_open(&a, name, BRG_OPEN_WRITE), BRG_EOWNER);
	REQUIRE_EQ(brg_array_open(&a, name, BRG_OPEN_WRITE | BRG_OPEN_ANY_OWNER), 0);
	/* dynamic chunks: the worker surely takes some ranges, so it must open the array */
	CHECK(run_count(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 100}));
	brg_worker_status w[2];
	CHECK_EQ(brg_pool_status(brg_pool_name(pool), NULL, w, sizeof(brg_worker_status), 2), 2);
	CHECK(w[1].chunks_done > 0);
	brg_array_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
	brg_pool_destroy(pool);
}

/* Machine code for `return 0;`, or NULL where this test does not know the machine. */
static const unsigned char *return_zero(size_t *len)
{
#if defined(__x86_64__)
	static const unsigned char code[] = {0x31, 0xc0, 0xc3}; /* xor eax, eax; ret */
#elif defined(__aarch64__)
	static const unsigned char code[] = {0x00, 0x00, 0x80, 0x52,  /* mov w0, #0 */
					     0xc0, 0x03, 0x5f, 0xd6}; /* ret */
#else
	static const unsigned char *code = NULL;
	*len = 0;
	return code;
#endif
	*len = sizeof code;
	return code;
}

/* A kernel whose code lies in no loaded object (as a JIT's, or an interpreter's callback):
 * fork workers refuse it (BRG_ENOKERNEL), unless the pool was given it in opts.kernels. */
static void test_pool_kernels(void)
{
	size_t len;
	const unsigned char *code = return_zero(&len);
	if (!code) {
		printf("# skip kernels outside loaded objects: no code for this machine\n");
		return;
	}
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(page != MAP_FAILED);
	memcpy(page, code, len);
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC)) {
		printf("# skip kernels outside loaded objects: no executable pages here\n");
		munmap(page, 4096);
		return;
	}
	brg_kernel jit = {"jit", (brg_kernel_fn)(uintptr_t)page, BRG_KERNEL_IDEMPOTENT};
	brg_schedule st = {BRG_SCHED_STATIC, 0};

	brg_pool *pool;
	REQUIRE_EQ(create_with(&pool, 2, BRG_BIND_COMPACT, BRG_START_FORK, 0, NULL), 0);
	CHECK_EQ(brg_pool_for(pool, &jit, 1000, st, NULL, 0, NULL, 0), BRG_ENOKERNEL);
	brg_pool_destroy(pool);

	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 2;
	o.kernels = &jit;
	o.nkernels = 1;
	REQUIRE_EQ(brg_pool_create(&pool, &o), 0);
	jit.name = "changed after create"; /* the pool keeps its own copy */
	for (int i = 0; i < 20; i++)
		CHECK_EQ(brg_pool_for(pool, &jit, 1000, st, NULL, 0, NULL, 0), 0);
	/* The table adds to what workers run; it takes nothing away. */
	CHECK_EQ(brg_pool_for(pool, &noop, 1000, st, NULL, 0, NULL, 0), 0);
	brg_pool_destroy(pool);

	/* Bad tables and arguments. */
	brg_pool *p = (brg_pool *)&p;
	o.nkernels = 1;
	o.kernels = NULL;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	CHECK(p == NULL);
	brg_kernel bad = jit;
	o.kernels = &bad;
	bad.name = NULL;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	char longname[80];
	memset(longname, 'k', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	bad.name = longname;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	bad.name = "ok";
	bad.fn = NULL;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	o.nkernels = 4097;
	o.kernels = &jit;
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	o.nkernels = 0;
	const char *args[18];
	for (int i = 0; i < 17; i++)
		args[i] = "-x";
	args[17] = NULL;
	o.worker_args = args;
	o.worker_path = "/nonexistent/worker"; /* a fork pool uses neither */
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	CHECK(p == NULL);
	args[16] = NULL; /* sixteen: fine */
	o.worker_path = NULL; /* but arguments for no program of one's own are not */
	CHECK_EQ(brg_pool_create(&p, &o), -EINVAL);
	o.worker_path = "/nonexistent/worker";
	REQUIRE_EQ(brg_pool_create(&p, &o), 0);
	brg_pool_destroy(p);
	munmap(page, 4096);
	check_no_children("after the kernel tables");
}

/* opts.after_fork: each fork worker runs it before its first kernel, a replacement too; the
 * caller never does. */
static pid_t hook_pid;
static void hook(void) { hook_pid = getpid(); }

static int hook_kernel(const brg_task *t)
{
	int32_t *v = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++)
		v[i] = t->worker << 1 | (hook_pid == getpid());
	return 0;
}

static const brg_kernel hookk = {"hook", hook_kernel, BRG_KERNEL_IDEMPOTENT};

/* Runs hook_kernel until a worker has run part of it (a worker still starting leaves its
 * range to be stolen, so one job may be the caller's alone); what the caller ran, and what
 * workers ran with and without the hook. */
static void hook_counts(brg_pool *pool, brg_array *a, size_t c[3])
{
	int32_t *v = brg_array_data(a);
	size_t n = brg_array_count(a);
	brg_array *arrays[1] = {a};
	brg_schedule st = {BRG_SCHED_STATIC, 0};
	for (int tries = 0; tries < 1000; tries++) {
		memset(v, 0xff, n * sizeof *v);
		CHECK_EQ(brg_pool_for(pool, &hookk, n, st, arrays, 1, NULL, 0), 0);
		c[0] = c[1] = c[2] = 0;
		for (size_t i = 0; i < n; i++) /* participant << 1 | hooked */
			if (v[i] == 0 || v[i] == 3 || v[i] == 2)
				c[v[i] == 0 ? 0 : v[i] == 3 ? 1 : 2]++;
		CHECK_EQ(c[0] + c[1] + c[2], n); /* and nothing else */
		if (c[0] < n)
			return;
		usleep(1000);
	}
	CHECK(!"no worker took part in 1000 jobs");
}

static void test_after_fork(void)
{
	brg_array *a = test_array_new("misc-hook-a", BRG_I32, 1 << 12);
	size_t n = brg_array_count(a), c[3];
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 2;
	o.after_fork = hook;
	brg_pool *pool;
	REQUIRE_EQ(brg_pool_create(&pool, &o), 0);
	hook_counts(pool, a, c);
	CHECK_EQ(c[1], n - c[0]);
	CHECK_EQ(hook_pid, 0);
	pid_t old = brg_pool_worker_pid(pool, 1);
	REQUIRE(old > 0);
	kill(old, SIGKILL);
	while (brg_pool_replaced(pool) < 1)
		CHECK_EQ(brg_pool_for(pool, &noop, 100, (brg_schedule){BRG_SCHED_STATIC, 0}, NULL,
				      0, NULL, 0), 0);
	CHECK(brg_pool_worker_pid(pool, 1) != old);
	hook_counts(pool, a, c);
	CHECK_EQ(c[1], n - c[0]);
	brg_pool_destroy(pool);

	/* Without the hook the same kernel sees none. */
	o.after_fork = NULL;
	REQUIRE_EQ(brg_pool_create(&pool, &o), 0);
	hook_counts(pool, a, c);
	CHECK_EQ(c[2], n - c[0]);
	brg_pool_destroy(pool);
	test_array_drop(a);
	check_no_children("after the after_fork hook");
}

/* Handles copied into a forked child (a runtime's objects freed there): closing an array
 * handle leaves what the child mapped at that address alone (the array's own mapping was
 * not inherited), and destroying a pool handle touches neither the workers nor the control
 * block. */
static void test_handles_in_a_child(void)
{
	brg_pool *pool = test_pool_new(2, BRG_BIND_COMPACT, "misc-child");
	brg_array *a = test_array_new("misc-child-a", BRG_I32, 1 << 20);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		/* Something of the child's own where the array's mapping was in the parent. */
		char *base = (char *)brg_array_data(a) - 4096;
		size_t len = 4096 + brg_array_nbytes(a);
		void *m = mmap(base, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m != base)
			_exit(3);
		base[4096] = 42;
		brg_array_close(a);
		brg_pool_destroy(pool);
		_exit(base[4096] == 42 ? 0 : 1); /* a SIGSEGV here if close unmapped it */
	}
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The pool and the array are whole in the parent. */
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(brg_segment_stat(brg_pool_name(pool), 0, &si), 0);
	CHECK(run_count(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 1000}));
	test_array_drop(a);
	brg_pool_destroy(pool);
	check_no_children("after the child's copies");
}

int main(void)
{
	test_init_pools();
	test_handles_in_a_child();
	test_pool_kernels();
	test_after_fork();
	test_other_owner();
	test_bad_options();
	test_env();
	test_status();
	test_bad_jobs();
	test_sizes();
	return pu_done();
}
