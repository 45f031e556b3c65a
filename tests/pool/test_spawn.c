/* SPDX-License-Identifier: MIT */
/* test_spawn.c - pools whose workers are exec'd (BRG_START_SPAWN) and find kernels by name in
 * a plugin: results, an unknown kernel, a replaced worker, start failures, and a destroy
 * that leaves nothing behind; a dead worker's range that nobody re-runs.
 * Usage: test_spawn WORKER PLUGIN run|lostretry|entries PADDED TAIL SHORT (plugins whose
 * entries are longer with a zero tail, longer with another, shorter). */
#include <limits.h>
#include <sys/wait.h>

#include "poolutil.h"
#include "square.h"

static const char *worker_path, *plugin_path;

static void isum_combine(void *into, const void *from, const void *args)
{
	*(uint64_t *)into += *(const uint64_t *)from;
}

/* The caller's own copies of the plugin's kernels: the workers find theirs by name. */
static const brg_kernel square = {"square", square_kernel, BRG_KERNEL_IDEMPOTENT};
static const brg_kernel isum = {"isum", isum_kernel, BRG_KERNEL_IDEMPOTENT};
static const brg_kernel cube = {"cube", square_kernel, BRG_KERNEL_IDEMPOTENT};

static int spawn_pool(brg_pool **out, int workers, const char *tag, const char *wpath,
		      const char *plugin)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.start = BRG_START_SPAWN;
	o.name = test_name(tag);
	o.plugin = plugin;
	o.worker_path = wpath;
	return brg_pool_create(out, &o);
}

static void check_squares(brg_pool *pool, brg_array *a, brg_schedule s, const char *what)
{
	int64_t *out = brg_array_data(a);
	size_t n = brg_array_count(a);
	memset(out, 0xff, n * sizeof *out);
	brg_array *arrays[1] = {a};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &square,
		.n = n,
		.sched = s,
		.arrays = arrays,
		.narrays = 1,
	};
	brg_job_result res = {.size = sizeof res};
	int r = brg_pool_run(pool, &d, &res);
	if (r)
		TEST_FAIL_("%s: square returned %d (%s), range [%zu, %zu) worker %d", what, r,
			   brg_err_name(r), res.err_begin, res.err_end, res.err_worker);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += out[i] != (int64_t)i * (int64_t)i;
	if (bad)
		TEST_FAIL_("%s: %zu of %zu squares wrong", what, bad, n);
}

/* Spawned workers run the worker executable, not a copy of this program. */
static void check_exe(pid_t pid)
{
	char link[64], exe[PATH_MAX], want[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	REQUIRE(n > 0);
	exe[n] = 0;
	REQUIRE(realpath(worker_path, want) != NULL);
	if (strcmp(exe, want))
		TEST_FAIL_("worker %d runs %s, want %s", (int)pid, exe, want);
}

/* Nothing of the pool is left: no control block, no worker process. */
static void check_gone(const char *name, const pid_t *pids, int npids)
{
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
	for (int i = 0; i < npids; i++) {
		if (pids[i] <= 0)
			continue;
		errno = 0;
		CHECK_EQ(waitpid(pids[i], NULL, WNOHANG), -1);
		CHECK_EQ(errno, ECHILD);
		errno = 0;
		CHECK_EQ(kill(pids[i], 0), -1);
		CHECK_EQ(errno, ESRCH);
	}
}

static void test_run(void)
{
	brg_pool *pool = NULL;
	REQUIRE_EQ(spawn_pool(&pool, 3, "spw-pool", worker_path, plugin_path), 0);
	REQUIRE_EQ(brg_pool_size(pool), 3);
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", brg_pool_name(pool));
	pid_t pids[8] = {0};
	int np = 0;
	for (int i = 1; i < 3; i++) {
		pids[np] = brg_pool_worker_pid(pool, i);
		REQUIRE(pids[np] > 0);
		check_exe(pids[np++]);
	}
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[3];
	CHECK_EQ(brg_pool_status(name, &info, ws, sizeof(brg_worker_status), 3), 3);
	CHECK_EQ(info.start_method, BRG_START_SPAWN);

	/* Made after the workers started: they open it by name. */
	brg_array *a = test_array_new("spw-out", BRG_I64, 100003);
	check_squares(pool, a, (brg_schedule){BRG_SCHED_STATIC, 0}, "static");
	check_squares(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 7}, "dynamic/7");
	check_squares(pool, a, (brg_schedule){BRG_SCHED_GUIDED, 1}, "guided/1");
	check_squares(pool, a, (brg_schedule){BRG_SCHED_AUTO, 0}, "auto");

	/* A kernel the plugin does not have: every worker reports it. */
	brg_array *arrays[1] = {a};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &cube,
		.n = brg_array_count(a),
		.sched = {BRG_SCHED_DYNAMIC, 100},
		.arrays = arrays,
		.narrays = 1,
	};
	brg_job_result res = {.size = sizeof res};
	CHECK_EQ(brg_pool_run(pool, &d, &res), BRG_ENOKERNEL);
	CHECK_EQ(res.status, BRG_ENOKERNEL);
	CHECK(res.err_worker >= 1 && res.err_worker < 3);
	/* Names must be given, and fit. */
	brg_kernel unnamed = {NULL, square_kernel, 0};
	d.kernel = &unnamed;
	CHECK_EQ(brg_pool_run(pool, &d, &res), -EINVAL);
	brg_kernel longname = {"a-kernel-name-of-sixty-four-characters-or-more-is-refused-by-submit",
			       square_kernel, 0};
	d.kernel = &longname;
	CHECK_EQ(brg_pool_run(pool, &d, &res), -EINVAL);
	check_squares(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 1000}, "after ENOKERNEL");

	/* A reduction: kernels by name, combined in the caller. */
	d = (brg_job_desc){
		.size = sizeof d,
		.kernel = &isum,
		.n = 1000003,
		.sched = {BRG_SCHED_DYNAMIC, 1},
		.combine = isum_combine,
	};
	uint64_t sum = 0;
	CHECK_EQ(brg_pool_reduce(pool, &d, &sum, sizeof sum), 0);
	CHECK_EQ(sum, 1000003ull * 1000002ull / 2);

	/* A killed worker is replaced by a new spawned one. */
	int replaced0 = brg_pool_replaced(pool);
	CHECK_EQ(kill(pids[0], SIGKILL), 0);
	check_squares(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 100}, "after a kill");
	CHECK_EQ(brg_pool_replaced(pool) - replaced0, 1);
	pid_t again = brg_pool_worker_pid(pool, 1);
	CHECK(again > 0 && again != pids[0]);
	if (again > 0) {
		check_exe(again);
		pids[np++] = again;
	}
	pids[np++] = brg_pool_worker_pid(pool, 2);

	brg_pool_destroy(pool);
	check_gone(name, pids, np);
	test_array_drop(a);
}

/* worker_path NULL: $BRG_WORKER_PATH names the worker. */
static void test_env_worker_path(void)
{
	setenv("BRG_WORKER_PATH", worker_path, 1);
	brg_pool *pool = NULL;
	REQUIRE_EQ(spawn_pool(&pool, 2, "spw-env", NULL, plugin_path), 0);
	pid_t pid = brg_pool_worker_pid(pool, 1);
	check_exe(pid);
	brg_array *a = test_array_new("spw-env-out", BRG_I64, 4099);
	check_squares(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 64}, "env worker path");
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", brg_pool_name(pool));
	brg_pool_destroy(pool);
	check_gone(name, &pid, 1);
	test_array_drop(a);
}

/* A copy of the plugin under a unique /tmp name; the caller unlinks it. */
static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	REQUIRE(in && out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		REQUIRE(fwrite(buf, 1, n, out) == n);
	fclose(in);
	REQUIRE(fclose(out) == 0);
}

static int w2_ran(void *ctl)
{
	return __atomic_load_n(&((int64_t *)ctl)[LR_W2], __ATOMIC_SEQ_CST) >= 1;
}

/* A worker dies holding a range of an idempotent kernel after every other participant has
 * left the job, and its replacement cannot start (the plugin is gone).  Nobody re-runs the
 * range: the job must then fail (BRG_EWORKERDIED naming it), never report success. */
static void test_lost_retry(void)
{
	char copy[128];
	snprintf(copy, sizeof copy, "/tmp/brgt-%d-plugin.so", (int)getpid());
	copy_file(plugin_path, copy);
	brg_pool *pool = NULL;
	int r = spawn_pool(&pool, 3, "spw-lost", worker_path, copy);
	unlink(copy);
	REQUIRE_EQ(r, 0);
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", brg_pool_name(pool));
	pid_t pids[2] = {brg_pool_worker_pid(pool, 1), brg_pool_worker_pid(pool, 2)};
	size_t n = 300000;
	brg_array *out = test_array_new("spw-lost-out", BRG_I64, n);
	brg_array *ctla = test_array_new("spw-lost-ctl", BRG_I64, LR_N);
	int64_t *o = brg_array_data(out), *c = brg_array_data(ctla);
	brg_array *arrays[2] = {out, ctla};
	static const brg_kernel lostrange = {"lostrange", lostrange_kernel,
					     BRG_KERNEL_IDEMPOTENT};
	struct lostrange_args a;
	memset(&a, 0, sizeof a);
	snprintf(a.pool, sizeof a.pool, "%s", name);
	a.n = n;
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &lostrange,
		.n = n,
		.sched = {BRG_SCHED_DYNAMIC, 1000},
		.args = &a,
		.args_size = sizeof a,
		.arrays = arrays,
		.narrays = 2,
	};
	int replaced0 = brg_pool_replaced(pool);
	brg_job *job = NULL;
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	/* The caller's share runs in brg_job_wait: first let worker 2 take part. */
	if (!pu_wait_for(w2_ran, c, 10000))
		TEST_FAIL_("worker 2 ran no range in 10 s");
	brg_job_result res = {.size = sizeof res};
	r = brg_job_wait(job, 20000, &res);
	REQUIRE(r != -ETIMEDOUT);
	CHECK_EQ(c[LR_DEATHS], 1);
	size_t bad = 0, first = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (o[i] != (int64_t)i * (int64_t)i) {
			bad++;
			first = first < i ? first : i;
		}
	printf("lost range [%lld, %lld): job returned %d (%s), error range [%zu, %zu), %zu "
	       "elements not written (first %zu), %d replaced\n",
	       (long long)c[LR_BEGIN], (long long)c[LR_END], r, brg_err_name(r), res.err_begin,
	       res.err_end, bad, first, brg_pool_replaced(pool) - replaced0);
	if (r == 0) {
		if (bad)
			TEST_FAIL_("job reported success but %zu elements from %zu were never "
				   "written (a dead worker's range was queued for a replacement "
				   "that never started)",
				   bad, first);
	} else {
		CHECK_EQ(r, BRG_EWORKERDIED);
		CHECK_EQ(res.err_begin, c[LR_BEGIN]);
		CHECK_EQ(res.err_end, c[LR_END]);
	}
	/* Usable after, with the participants it has left. */
	check_squares(pool, out, (brg_schedule){BRG_SCHED_DYNAMIC, 1000}, "after a lost worker");
	test_array_drop(out);
	test_array_drop(ctla);
	brg_pool_destroy(pool);
	check_gone(name, pids, 2);
}

/* Start failures: an error, and nothing left behind. */
static void test_start_failures(void)
{
	brg_pool *pool = (brg_pool *)&pool;
	const char *name = test_name("spw-fail");
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 3;
	o.start = BRG_START_SPAWN;
	o.name = name;
	o.worker_path = worker_path;
	o.plugin = NULL;
	CHECK_EQ(brg_pool_create(&pool, &o), -EINVAL);
	CHECK(pool == NULL);
	char longpath[400];
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = 0;
	o.plugin = longpath;
	CHECK_EQ(brg_pool_create(&pool, &o), -EINVAL);
	o.plugin = "/nonexistent/plugin.so";
	CHECK_EQ(brg_pool_create(&pool, &o), -ENOEXEC);
	CHECK(pool == NULL);
	o.plugin = plugin_path;
	o.worker_path = "/nonexistent/brigade-worker";
	CHECK_EQ(brg_pool_create(&pool, &o), -ENOENT);
	/* A file that is no program. */
	o.worker_path = plugin_path;
	int r = brg_pool_create(&pool, &o);
	CHECK(r == -ENOEXEC || r == -EACCES);
	CHECK(pool == NULL);
	if (pool)
		brg_pool_destroy(pool);
	brg_segment_info si = {.size = sizeof si};
	CHECK_EQ(brg_segment_stat(name, 0, &si), -ENOENT);
	/* Every worker that was started was reaped. */
	errno = 0;
	CHECK_EQ(waitpid(-1, NULL, WNOHANG), -1);
	CHECK_EQ(errno, ECHILD);
}

/* Plugin tables read under the extensible-struct rule: a longer entry whose tail is zero
 * loads and its kernels run; a tail this library cannot know, or an entry shorter than the
 * first published brg_kernel, keeps the workers from starting. */
static void test_entries(const char *padded, const char *tail, const char *shorter)
{
	brg_pool *pool = NULL;
	REQUIRE_EQ(spawn_pool(&pool, 2, "spw-padded", worker_path, padded), 0);
	brg_array *a = test_array_new("spw-padded-arr", BRG_I64, 10007);
	check_squares(pool, a, (brg_schedule){BRG_SCHED_DYNAMIC, 64}, "padded entries");
	brg_pool_destroy(pool);
	test_array_drop(a);
	pool = (brg_pool *)&pool;
	CHECK_EQ(spawn_pool(&pool, 2, "spw-tail", worker_path, tail), -ENOEXEC);
	CHECK(pool == NULL);
	CHECK_EQ(spawn_pool(&pool, 2, "spw-short", worker_path, shorter), -ENOEXEC);
	CHECK(pool == NULL);
}

int main(int argc, char **argv)
{
	test_init_pools();
	if (argc != 7 ||
	    (strcmp(argv[3], "run") && strcmp(argv[3], "lostretry") && strcmp(argv[3], "entries"))) {
		fprintf(stderr, "usage: %s WORKER PLUGIN run|lostretry|entries PADDED TAIL SHORT\n",
			argv[0]);
		return 2;
	}
	worker_path = argv[1];
	plugin_path = argv[2];
	if (access(worker_path, X_OK) || access(plugin_path, R_OK)) {
		printf("SKIP: worker %s or plugin %s missing\n", worker_path, plugin_path);
		return TEST_SKIP;
	}
	if (!strcmp(argv[3], "lostretry")) {
		test_lost_retry();
	} else if (!strcmp(argv[3], "entries")) {
		test_entries(argv[4], argv[5], argv[6]);
	} else {
		test_run();
		test_env_worker_path();
		test_start_failures();
	}
	return pu_done();
}
