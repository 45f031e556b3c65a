/* SPDX-License-Identifier: MIT */
/* square.h - the kernels test_spawn.c runs, shared by the test (the caller's copy) and the
 * plugin its spawned workers load (their copy): the same code, two images. */
#ifndef BRG_SQUARE_H
#define BRG_SQUARE_H

#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "brigade.h"

/* out[i] = i * i into an i64 array. */
static inline int square_kernel(const brg_task *t)
{
	int64_t *out = brg_array_data(t->arrays[0]);
	for (size_t i = t->begin; i < t->end; i++)
		out[i] = (int64_t)i * (int64_t)i;
	return 0;
}

/* Reduction: the sum of the indices of the block, into the scratch. */
static inline int isum_kernel(const brg_task *t)
{
	uint64_t s = 0;
	for (size_t i = t->begin; i < t->end; i++)
		s += i;
	*(uint64_t *)t->scratch = s;
	return 0;
}

/* Waits (at most 10 s) until cond(arg) holds; 1 when it did. */
static inline int square_wait(int (*cond)(const void *arg), const void *arg)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (cond(arg))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10)
			return 0;
		sched_yield();
	}
}

/* The shared counters of a lostrange job (an i64 array). */
enum { LR_DONE, LR_DEATHS, LR_BEGIN, LR_END, LR_W1, LR_W2, LR_N };

struct lostrange_args {
	char pool[BRG_NAME_MAX + 1];
	uint64_t n;
};

struct lr_wait {
	const brg_task *t;
	const int64_t *ctl;
};

static inline int lr_w1_started(const void *arg)
{
	const struct lr_wait *w = arg;
	return __atomic_load_n(&w->ctl[LR_W1], __ATOMIC_SEQ_CST) >= 1;
}

/* Every other range done, and worker 2 ran a range of this job and is idle again: out of
 * the job, it claims nothing more. */
static inline int lr_others_done(const void *arg)
{
	const struct lr_wait *w = arg;
	const struct lostrange_args *a = w->t->args;
	if (__atomic_load_n(&w->ctl[LR_DONE], __ATOMIC_SEQ_CST) <
		    (int64_t)(a->n - (w->t->end - w->t->begin)) ||
	    __atomic_load_n(&w->ctl[LR_W2], __ATOMIC_SEQ_CST) < 1)
		return 0;
	brg_worker_status ws[3];
	return brg_pool_status(a->pool, NULL, ws, sizeof(brg_worker_status), 3) == 3 && ws[2].state[0] == 'i';
}

/* Squares; in a pool of three, worker 1 dies holding its first range once every other range
 * is done and worker 2 has left the job; worker 2 starts only after worker 1 holds a range. */
static inline int lostrange_kernel(const brg_task *t)
{
	int64_t *out = brg_array_data(t->arrays[0]);
	int64_t *ctl = brg_array_data(t->arrays[1]);
	struct lr_wait w = {t, ctl};
	if (t->worker == 1 && __atomic_load_n(&ctl[LR_DEATHS], __ATOMIC_SEQ_CST) == 0) {
		ctl[LR_BEGIN] = (int64_t)t->begin;
		ctl[LR_END] = (int64_t)t->end;
		__atomic_store_n(&ctl[LR_W1], 1, __ATOMIC_SEQ_CST);
		square_wait(lr_others_done, &w);
		__atomic_fetch_add(&ctl[LR_DEATHS], 1, __ATOMIC_SEQ_CST);
		kill(getpid(), SIGKILL);
	}
	if (t->worker == 2)
		square_wait(lr_w1_started, &w);
	for (size_t i = t->begin; i < t->end; i++)
		out[i] = (int64_t)i * (int64_t)i;
	__atomic_fetch_add(&ctl[LR_DONE], (int64_t)(t->end - t->begin), __ATOMIC_SEQ_CST);
	if (t->worker == 2)
		__atomic_fetch_add(&ctl[LR_W2], 1, __ATOMIC_SEQ_CST);
	return 0;
}

#endif
