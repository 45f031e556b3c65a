/* SPDX-License-Identifier: MIT */
/* soak.c - `tools/run soak`: many jobs of every schedule and kind, with a random worker
 * SIGKILLed from outside every few jobs, and a count of what came back: exact results, errors
 * by name, wrong results, hangs, leftover processes and segments.  Not part of the test run
 * (it takes minutes); expected: 0 wrong, 0 hangs, 0 leftovers.
 * Usage: soak [JOBS [WORKERS]]   (defaults: 10000, one per core; BRG_TEST_SEED replays) */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "poolutil.h"

#define MAX_N 100000
#define HANG_MS 60000 /* a job that takes this long is hung */
#define BRG_SOAK_MAX 64 /* participants at most */
#define NSUMS 8       /* arrays of different lengths for the reductions */

/* What the killer process shares with the caller. */
struct shared {
	char pool[BRG_NAME_MAX + 1];
	uint64_t jobs;  /* jobs submitted so far */
	uint64_t kills; /* workers killed */
	uint32_t stop;
};

static uint64_t value(size_t i) { return i * 2654435761u + 17; }

/* Writes value(i) and counts the runs of each index (the count is not idempotent, but it is
 * only read to check the hand-out). */
static int for_kernel(const brg_task *t)
{
	uint64_t *out = brg_array_data(t->arrays[0]);
	int32_t *runs = brg_array_data(t->arrays[1]);
	for (size_t i = t->begin; i < t->end; i++) {
		out[i] = value(i);
		__atomic_add_fetch(&runs[i], 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static const brg_kernel idem = {"soak_idem", for_kernel, BRG_KERNEL_IDEMPOTENT};
static const brg_kernel nonidem = {"soak_nonidem", for_kernel, 0};

/* Kills a random worker of the pool every 1 to 4 jobs, after a random pause, reading the pids
 * as any outside process can (brg_pool_status). */
static void killer(struct shared *sh, uint64_t seed)
{
	uint64_t s = seed | 1;
	for (;;) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		uint64_t at = __atomic_load_n(&sh->jobs, __ATOMIC_ACQUIRE) + 1 + s % 4;
		while (__atomic_load_n(&sh->jobs, __ATOMIC_ACQUIRE) < at) {
			if (__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
				_exit(0);
			nanosleep(&(struct timespec){0, 20000}, NULL);
		}
		nanosleep(&(struct timespec){0, (long)(s >> 20) % 300000}, NULL);
		brg_worker_status ws[BRG_SOAK_MAX];
		int n = brg_pool_status(sh->pool, NULL, ws, sizeof ws[0], BRG_SOAK_MAX);
		if (n < 2)
			continue;
		int i = 1 + (int)((s >> 8) % (uint64_t)(n - 1));
		if (ws[i].pid > 0 && ws[i].alive && kill(ws[i].pid, SIGKILL) == 0)
			__atomic_add_fetch(&sh->kills, 1, __ATOMIC_RELEASE);
	}
}

/* Processes whose parent is this one (workers, the killer), counted from /proc. */
static int children(void)
{
	DIR *d = opendir("/proc");
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[len] = 0;
		const char *p = strrchr(buf, ')');
		int ppid = 0;
		char state;
		if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() &&
		    state != 'Z')
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

enum outcome { EXACT, ERROR_NAMED, WRONG, HANG };

/* One for-job; what came back. */
static enum outcome for_job(brg_pool *pool, brg_array *out, brg_array *runs, size_t n,
			    brg_schedule sched, int idempotent, int *code)
{
	uint64_t *o = brg_array_data(out);
	int32_t *r = brg_array_data(runs);
	memset(o, 0, n * sizeof *o);
	memset(r, 0, n * sizeof *r);
	brg_array *arrays[2] = {out, runs};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = idempotent ? &idem : &nonidem,
		.n = n,
		.sched = sched,
		.arrays = arrays,
		.narrays = 2,
	};
	brg_job *job;
	brg_job_result res = {.size = sizeof res};
	if ((*code = brg_pool_submit(pool, &d, &job)))
		return WRONG;
	*code = brg_job_wait(job, HANG_MS, &res);
	if (*code == -ETIMEDOUT)
		return HANG;
	size_t eb = *code ? res.err_begin : 0, ee = *code ? res.err_end : 0;
	if (*code && *code != BRG_EWORKERDIED && *code != BRG_ERANGEKILLED)
		return WRONG;
	for (size_t i = 0; i < n; i++) {
		int named = i >= eb && i < ee;
		/* Outside the named chunk: once (non-idempotent), at least once (idempotent,
		 * the killed chunk ran again); inside: at most once, or anything idempotent. */
		int ok = named ? (idempotent || r[i] <= 1)
			       : (idempotent ? r[i] >= 1 : r[i] == 1) && o[i] == value(i);
		if (!ok) {
			fprintf(stderr, "soak: index %zu of %zu ran %d times, value %s (status %s, "
					"chunk [%zu, %zu))\n",
				i, n, r[i], o[i] == value(i) ? "right" : "wrong", brg_err_name(*code),
				eb, ee);
			return WRONG;
		}
	}
	return *code ? ERROR_NAMED : EXACT;
}

int main(int argc, char **argv)
{
	test_init_pools();
	alarm(0); /* the hang guard is per job here */
	long jobs = argc > 1 ? atol(argv[1]) : 10000;
	int workers = argc > 2 ? atoi(argv[2]) : 0;
	if (jobs < 1 || workers < 0 || workers > BRG_SOAK_MAX) {
		fprintf(stderr, "usage: %s [JOBS [WORKERS]]\n", argv[0]);
		return 2;
	}
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(sh != MAP_FAILED);
	memset(sh, 0, sizeof *sh);
	const char *name = test_name("soak");
	snprintf(sh->pool, sizeof sh->pool, "%s", name);
	/* The killer first: a process forked before the pool, as an outsider would be. */
	pid_t kpid = fork();
	REQUIRE(kpid >= 0);
	if (kpid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		killer(sh, test_rand());
	}

	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.name = name;
	brg_pool *pool;
	REQUIRE_EQ(brg_pool_create(&pool, &o), 0);
	brg_array *out = test_array_new("out", BRG_U64, MAX_N);
	brg_array *runs = test_array_new("runs", BRG_I32, MAX_N);
	brg_array *x[NSUMS];
	double want[NSUMS];
	for (int k = 0; k < NSUMS; k++) {
		char tag[16];
		size_t n = k ? 1 + (size_t)(test_rand() % MAX_N) : 1;
		snprintf(tag, sizeof tag, "x%d", k);
		x[k] = test_array_new(tag, BRG_F64, n);
		double *xd = brg_array_data(x[k]);
		want[k] = 0;
		for (size_t i = 0; i < n; i++) {
			xd[i] = (double)(i % 1000); /* integer sums: exact in any order */
			want[k] += xd[i];
		}
	}

	/* Errors by name, and of BRG_EWORKERDIED those of jobs whose kernel may run again
	 * (expected: none; a chunk to run again gets a worker while any is left). */
	long count[4] = {0}, by_code[2] = {0}, died_rerunnable = 0;
	int participants = brg_pool_size(pool);
	uint64_t t0 = pu_mono_ns();
	for (long j = 0; j < jobs; j++) {
		size_t n = 1 + (size_t)(test_rand() % MAX_N);
		brg_schedule sched = {(brg_sched_kind)(test_rand() % 4), (size_t)(test_rand() % 64)};
		int what = (int)(test_rand() % 3), code = 0;
		enum outcome oc;
		__atomic_add_fetch(&sh->jobs, 1, __ATOMIC_RELEASE);
		if (what < 2) {
			oc = for_job(pool, out, runs, n, sched, what == 0, &code);
		} else {
			int k = (int)(test_rand() % NSUMS);
			brg_scalar s;
			code = brg_reduce_sum(pool, &s, x[k]);
			oc = code == 0 ? (s.f == want[k] ? EXACT : WRONG)
			     : code == BRG_ERANGEKILLED || code == BRG_EWORKERDIED ? ERROR_NAMED
									      : WRONG;
			if (oc == WRONG)
				fprintf(stderr, "soak: sum %d: %s, %.17g against %.17g\n", k,
					brg_err_name(code), s.f, want[k]);
		}
		count[oc]++;
		if (oc == ERROR_NAMED) {
			by_code[code == BRG_EWORKERDIED ? 0 : 1]++;
			died_rerunnable += code == BRG_EWORKERDIED && what != 1;
		}
		if (oc == HANG) {
			fprintf(stderr, "soak: job %ld hung for %d s; stopping\n", j, HANG_MS / 1000);
			break;
		}
	}
	double secs = (double)(pu_mono_ns() - t0) / 1e9;
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	int st;
	waitpid(kpid, &st, 0);
	int replaced = brg_pool_replaced(pool);
	for (int k = 0; k < NSUMS; k++)
		test_array_drop(x[k]);
	test_array_drop(runs);
	test_array_drop(out);
	brg_pool_destroy(pool);
	int procs = children(), segs = pu_own_segments();

	printf("soak: %ld jobs in %.1f s, %d participants, seed %llu\n",
	       count[EXACT] + count[ERROR_NAMED] + count[WRONG] + count[HANG], secs, participants,
	       test_seed0);
	printf("  workers killed: %llu (replaced: %d)\n", (unsigned long long)sh->kills, replaced);
	printf("  exact results: %ld\n", count[EXACT]);
	printf("  errors: %ld (BRG_EWORKERDIED %ld, of them %ld in idempotent jobs; "
	       "BRG_ERANGEKILLED %ld)\n",
	       count[ERROR_NAMED], by_code[0], died_rerunnable, by_code[1]);
	printf("  wrong results: %ld\n", count[WRONG]);
	printf("  hangs: %ld\n", count[HANG]);
	printf("  leftover processes: %d, leftover segments: %d\n", procs, segs);
	munmap(sh, sizeof *sh);
	return count[WRONG] || count[HANG] || procs || segs ? 1 : 0;
}
