/* SPDX-License-Identifier: MIT */
/* test_status.c - a pool's control block read from outside (brg_pool_status): a live pool read
 * while it runs jobs is never taken for a damaged one, and a copy of its control block with any
 * one field broken is refused with BRG_EPOOLSTATE, never reported. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/wait.h>

#include "pool.h"
#include "poolutil.h"

static int spin_kernel(const brg_task *t)
{
	volatile uint64_t x = 0;
	for (size_t i = t->begin; i < t->end; i++)
		for (int k = 0; k < 200; k++)
			x += i;
	return 0;
}

static const brg_kernel spin = {"spin", spin_kernel, BRG_KERNEL_IDEMPOTENT};

static int run_jobs(brg_pool *p, size_t n, int count)
{
	for (int j = 0; j < count; j++) {
		brg_schedule s = {(brg_sched_kind)(1 + j % 3), 4};
		int r = brg_pool_for(p, &spin, n, s, NULL, 0, NULL, 0);
		if (r)
			return r;
	}
	return 0;
}

/* Another process reads the status of the pool as fast as it can while this one runs jobs
 * (of n indices: long ones, or tiny ones back to back, which publish new jobs while a copy
 * is taken): every read answers the pool's size. */
static void test_live(brg_pool *p, size_t n, int jobs)
{
	const char *name = brg_pool_name(p);
	int pipefd[2];
	REQUIRE_EQ(pipe(pipefd), 0);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		/* The lowest priority: on a machine with fewer cores than the pool has
		 * participants plus this reader, a reader at equal priority takes its share of
		 * the CPUs the pool's waiters yield, and the jobs take ten times as long. */
		if (nice(19) < 0) {
		}
		close(pipefd[1]);
		int bad = 0, reads = 0;
		char c;
		int fl = fcntl(pipefd[0], F_GETFL);
		fcntl(pipefd[0], F_SETFL, fl | O_NONBLOCK);
		while (read(pipefd[0], &c, 1) < 0 && errno == EAGAIN) {
			brg_pool_info info = {.size = sizeof info};
			brg_worker_status ws[3];
			int r = brg_pool_status(name, &info, ws, sizeof ws[0], 3);
			reads++;
			if (r != 3) {
				fprintf(stderr, "status of a live pool: %d (%s)\n", r,
				        brg_err_name(r));
				bad++;
			}
		}
		printf("%d reads of a live pool's status (jobs of %zu)\n", reads, n);
		_exit(bad ? 1 : 0);
	}
	close(pipefd[0]);
	CHECK_EQ(run_jobs(p, n, jobs), 0);
	CHECK_EQ(write(pipefd[1], "x", 1), 1);
	close(pipefd[1]);
	int st;
	REQUIRE_EQ(waitpid(child, &st, 0), child);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The pool's control block segment, whole, as it is now. */
static unsigned char *read_ctl(const char *name, size_t *bytes)
{
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", name);
	brg_segment_info si = {.size = sizeof si};
	REQUIRE_EQ(brg_segment_stat(name, 0, &si), 0);
	unsigned char *file = malloc(si.file_bytes);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(file && fd >= 0);
	REQUIRE(pread(fd, file, si.file_bytes, 0) == (ssize_t)si.file_bytes);
	close(fd);
	*bytes = si.file_bytes;
	return file;
}

static int status_of_copy(const char *copy, const unsigned char *file, size_t bytes)
{
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", copy);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, file, bytes, 0) == (ssize_t)bytes);
	close(fd);
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[4];
	return brg_pool_status(copy, &info, ws, sizeof ws[0], 4);
}

#define CTL(file) ((struct brg__ctl *)((file) + BRG_DATA_OFFSET))

/* One broken field each: what the pool's code never writes. */
static void break_magic(struct brg__ctl *c) { c->magic ^= 1; }
static void break_version(struct brg__ctl *c) { c->version = 7; }
static void break_nworkers0(struct brg__ctl *c) { c->nworkers = 0; }
static void break_nworkers_big(struct brg__ctl *c) { c->nworkers = BRG__MAX_WORKERS + 1; }
static void break_ctl_bytes(struct brg__ctl *c) { c->ctl_bytes += 64; }
static void break_parent(struct brg__ctl *c) { c->parent_pid = -3; }
static void break_start(struct brg__ctl *c) { c->start_method = 9; }
static void break_spin(struct brg__ctl *c) { c->spin_us = 0xffffffffu; }
static void break_yield(struct brg__ctl *c) { c->yield = 2; }
static void break_plugin(struct brg__ctl *c) { memset(c->plugin, 'a', sizeof c->plugin); }
static void break_in_flight(struct brg__ctl *c) { c->job.in_flight = 2; }
static void break_sched(struct brg__ctl *c) { c->job.sched_kind = 4; }
static void break_narrays(struct brg__ctl *c) { c->job.narrays = BRG_JOB_MAX_ARRAYS + 1; }
static void break_args(struct brg__ctl *c) { c->job.args_size = BRG_ARGS_MAX + 1; }
static void break_kname(struct brg__ctl *c)
{
	memset(c->job.kernel_name, 'k', sizeof c->job.kernel_name);
}
static void break_n(struct brg__ctl *c) { c->job.n = c->job.n_elems + 1; }
static void break_blocks(struct brg__ctl *c)
{
	c->job.block = 16;
	c->job.n = 2;
	c->job.n_elems = 100; /* two blocks of 16 do not cover 100 */
}
static void break_participants(struct brg__ctl *c) { c->job.participants = 4; }
static void break_error(struct brg__ctl *c) { c->hot.error = 5; }
static void break_nretry(struct brg__ctl *c) { c->hot.nretry = BRG__MAX_RETRY + 1; }
static void break_retry(struct brg__ctl *c)
{
	c->hot.nretry = 1;
	c->h.retry[0] = (struct brg__retry){9, 3, 1, 0};
}
static void break_range(struct brg__ctl *c)
{
	c->job.in_flight = 1;
	c->w[1].slot.range = brg__rng(0, c->job.n + 1, 0);
}
static void break_range_order(struct brg__ctl *c) { c->w[2].slot.range = brg__rng(4, 3, 0); }
static void break_err_worker(struct brg__ctl *c) { c->h.err_worker = 3; }
static void break_err_range(struct brg__ctl *c)
{
	c->h.err_begin = 10;
	c->h.err_end = 2;
}
static void break_thief(struct brg__ctl *c) { c->w[1].slot.range = brg__rng(0, 0, 4); }
static void break_own_mark(struct brg__ctl *c) { c->w[1].slot.range = brg__rng(0, 1, 2); }
static void break_stop(struct brg__ctl *c) { c->hot.stop = 2; }
static void break_pending_empty(struct brg__ctl *c)
{
	c->job.in_flight = 1;
	c->w[2].slot.range = brg__rng(3, 3, BRG__THIEF_PENDING);
}
static void break_cur_retry(struct brg__ctl *c)
{
	c->job.in_flight = 1;
	c->w[1].slot.cur = brg__cur(0, 1, 0, 1);
}
static void break_idle_cur(struct brg__ctl *c)
{
	c->job.in_flight = 0;
	c->w[2].slot.cur = brg__cur(0, 1, 0, 0);
}
static void break_idle_mark(struct brg__ctl *c)
{
	c->job.in_flight = 0;
	c->w[1].slot.range = brg__rng(0, 1, 3);
}
static void break_state(struct brg__ctl *c) { c->w[1].state = BRG__W_FAILED + 1; }
static void break_pid(struct brg__ctl *c) { c->w[2].pid = -7; }
static void break_idle_no_pid(struct brg__ctl *c)
{
	c->w[1].state = BRG__W_IDLE;
	c->w[1].pid = 0;
}
static void break_caller_pid(struct brg__ctl *c) { c->w[0].pid = c->parent_pid + 1; }
static void break_core(struct brg__ctl *c) { c->w[1].core = -2; }
static void break_pu(struct brg__ctl *c) { c->w[2].pu = -9; }
static void break_werror(struct brg__ctl *c) { c->w[1].error = 12; }
static void break_cpuset(struct brg__ctl *c) { memset(c->w[1].cpuset, 'c', BRG__CPUSET_TEXT); }
static void break_job_done(struct brg__ctl *c) { c->w[1].job_done = c->job.id + 1; }
static void break_cur_bits(struct brg__ctl *c) { c->w[1].slot.cur = brg__cur(0, 1, 0, 0) | 1ull << 60; }
static void break_cur_empty(struct brg__ctl *c) { c->w[1].slot.cur = brg__cur(5, 5, 0, 0); }
static void break_cur_beyond(struct brg__ctl *c)
{
	c->job.in_flight = 1;
	c->w[2].slot.cur = brg__cur(0, c->job.n + 1, 0, 0);
}
static void break_kills(struct brg__ctl *c) { c->w[1].slot.cur = brg__cur(0, 1, 3, 0); }
static void break_intent_self(struct brg__ctl *c) { c->w[1].slot.intent = brg__intent(1, 0, 1); }
static void break_intent_flag(struct brg__ctl *c) { c->w[2].slot.intent = brg__intent(1, 0, 1) >> 1; }
static void break_intent_tail(struct brg__ctl *c) { c->w[2].slot.intent = brg__intent(1, 2, 2); }
static void break_slot_pad(struct brg__ctl *c) { c->w[0].slot.pad = 1; }
static void break_started(struct brg__ctl *c) { c->w[1].started_ns = UINT64_MAX / 2; }
static void break_outsider(struct brg__ctl *c) { c->w[3].pid = 1; }
static void break_far_record(struct brg__ctl *c) { c->w[BRG__MAX_WORKERS - 1].slot.busy_ns = 1; }

static const struct {
	const char *what;
	void (*apply)(struct brg__ctl *c);
} breaks[] = {
	{"magic", break_magic},
	{"version", break_version},
	{"no participants", break_nworkers0},
	{"too many participants", break_nworkers_big},
	{"block size", break_ctl_bytes},
	{"parent pid", break_parent},
	{"start method", break_start},
	{"spin", break_spin},
	{"yield flag", break_yield},
	{"plugin path unterminated", break_plugin},
	{"job in flight flag", break_in_flight},
	{"schedule", break_sched},
	{"array count", break_narrays},
	{"argument size", break_args},
	{"kernel name unterminated", break_kname},
	{"for-job units", break_n},
	{"reduction blocks", break_blocks},
	{"participants of the job", break_participants},
	{"positive error", break_error},
	{"retry count", break_nretry},
	{"retry range", break_retry},
	{"range beyond the job", break_range},
	{"range that ends before it begins", break_range_order},
	{"error's participant", break_err_worker},
	{"error's range", break_err_range},
	{"thief that does not exist", break_thief},
	{"range marked by its owner", break_own_mark},
	{"stop flag", break_stop},
	{"pending word with nothing in it", break_pending_empty},
	{"chunk taken again without its kill", break_cur_retry},
	{"chunk in flight between jobs", break_idle_cur},
	{"mark between jobs", break_idle_mark},
	{"worker state", break_state},
	{"negative pid", break_pid},
	{"idle with no pid", break_idle_no_pid},
	{"caller's pid", break_caller_pid},
	{"core", break_core},
	{"pu", break_pu},
	{"worker's error", break_werror},
	{"cpuset unterminated", break_cpuset},
	{"job done before it was published", break_job_done},
	{"chunk word bits", break_cur_bits},
	{"empty chunk", break_cur_empty},
	{"chunk beyond the job", break_cur_beyond},
	{"chunk kills", break_kills},
	{"intent naming its own slot", break_intent_self},
	{"intent without its flag", break_intent_flag},
	{"intent of an empty tail", break_intent_tail},
	{"slot padding", break_slot_pad},
	{"start time in the future", break_started},
	{"record of a participant the pool lacks", break_outsider},
	{"last record", break_far_record},
};

static void test_copies(brg_pool *p)
{
	size_t bytes;
	unsigned char *live = read_ctl(brg_pool_name(p), &bytes);
	unsigned char *file = malloc(bytes);
	REQUIRE(file);
	const char *copy = test_name("copy");
	REQUIRE(CTL(live)->job.id > 0); /* a job ran: its descriptor is filled in */
	CHECK_EQ(status_of_copy(copy, live, bytes), 3);
	for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		memcpy(file, live, bytes);
		breaks[i].apply(CTL(file));
		int r = status_of_copy(copy, file, bytes);
		if (r != BRG_EPOOLSTATE)
			TEST_FAIL_("%s: status answered %d (%s), want BRG_EPOOLSTATE",
			           breaks[i].what, r, brg_err_name(r));
	}
	/* A block cut short: its trailer names the fault. */
	CHECK_EQ(status_of_copy(copy, live, bytes - 4096), BRG_ETRUNCATED);

	/* Random damage to one 8-byte word of the block up to the end of the third record
	 * (identity, hand-out, job descriptor, records): how much of it is caught is a figure,
	 * not a rule (a counter, a pid or a kernel's argument has no invariant), so it is
	 * printed; what is checked is that the answer is a status or BRG_EPOOLSTATE. */
	int caught = 0, tries = 60;
	size_t region = offsetof(struct brg__ctl, w) + 3 * sizeof(struct brg__wrec);
	for (int t = 0; t < tries; t++) {
		memcpy(file, live, bytes);
		uint64_t word = test_rand();
		size_t at = (size_t)(test_rand() % (region / 8)) * 8;
		memcpy(file + BRG_DATA_OFFSET + at, &word, 8);
		int r = status_of_copy(copy, file, bytes);
		CHECK(r == 3 || r == BRG_EPOOLSTATE);
		caught += r == BRG_EPOOLSTATE;
	}
	printf("random words: %d of %d damaged copies refused\n", caught, tries);
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", copy);
	unlink(path);
	free(file);
	free(live);
}

int main(void)
{
	test_init_pools();
	brg_pool *p = test_pool_new(3, BRG_BIND_DEFAULT, "pool");
	test_live(p, 4096, 300);
	test_live(p, 3, 1500);
	test_copies(p);
	brg_pool_destroy(p);
	return pu_done();
}
