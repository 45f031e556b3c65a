/* SPDX-License-Identifier: MIT */
/* poolutil.h - helpers the pool tests share: a clean environment, a hang guard, pools and
 * arrays with unique names, and a bounded wait on a condition. */
#ifndef BRG_POOLUTIL_H
#define BRG_POOLUTIL_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "testutil.h"

/* The hang guard fired: say so, remove our segments, and exit (our workers follow through
 * PDEATHSIG).  Not strictly async-signal-safe (snprintf in the cleanup), but the process is
 * stuck anyway and this is its last act. */
static void pu_on_alarm(int sig)
{
	static const char msg[] = "test still running after 100 s: giving up\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
	}
	test_cleanup();
	_exit(1);
}

/* Environment overrides of the pool options would change what the tests ask for. */
static inline void pu_init(void)
{
	test_init();
	unsetenv("BRG_WORKERS");
	unsetenv("BRG_BIND");
	unsetenv("BRG_WAIT");
	/* Last resort: a hang fails the test instead of blocking CI.  Not inherited by fork. */
	signal(SIGALRM, pu_on_alarm);
	alarm(100);
	/* Workers the fault tests crash must not write core files. */
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* TEST_FAIL_ prints the generator's state at the failure; this is the seed to rerun. */
	printf("BRG_TEST_SEED=%llu\n", test_seed);
}

static inline uint64_t pu_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls cond(arg) every 100 us until it returns non-zero or bound_ms passed; 1 when it held.
 * Waiting on the thing itself, with a bound: never a bare sleep. */
static inline int pu_wait_for(int (*cond)(void *arg), void *arg, long bound_ms)
{
	uint64_t t0 = pu_mono_ns();
	for (;;) {
		if (cond(arg))
			return 1;
		if (pu_mono_ns() - t0 > (uint64_t)bound_ms * 1000000u)
			return 0;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
}

/* A fork pool of `workers` participants under a unique control block name. */
static inline brg_pool *pu_pool(int workers, int bind, const char *tag)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.bind = bind;
	o.name = test_name(tag);
	brg_pool *p = NULL;
	int r = brg_pool_create(&p, &o);
	REQUIRE_EQ(r, 0);
	REQUIRE_EQ(brg_pool_size(p), workers);
	return p;
}

/* A 1-d array of n elements under a unique name (dimension 0 allowed). */
static inline brg_array *pu_array(const char *tag, brg_dtype dtype, size_t n)
{
	brg_array *a = NULL;
	size_t shape[1] = {n};
	REQUIRE_EQ(brg_array_create(&a, test_name(tag), dtype, 1, shape, NULL), 0);
	return a;
}

/* Segments of this process ("brgt-<pid>-") still in /dev/shm: a test that cleaned up after
 * itself leaves none before the atexit cleanup runs. */
static inline int pu_own_segments(void)
{
	char prefix[64];
	int len = snprintf(prefix, sizeof prefix, "brgt-%d-", (int)getpid());
	DIR *d = opendir("/dev/shm");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, (size_t)len)) {
			fprintf(stderr, "left in /dev/shm: %s\n", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

/* The end of a test program: nothing left behind, then the verdict. */
static inline int pu_done(void)
{
	CHECK_EQ(pu_own_segments(), 0);
	return test_done();
}

#endif
