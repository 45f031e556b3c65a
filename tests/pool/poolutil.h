/* SPDX-License-Identifier: MIT */
/* poolutil.h - helpers the pool tests share beyond testutil.h's (which has the set-up, the
 * hang guard, pools and arrays): a bounded wait on a condition, our segments in /dev/shm. */
#ifndef BRG_POOLUTIL_H
#define BRG_POOLUTIL_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

#include "testutil.h"

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
