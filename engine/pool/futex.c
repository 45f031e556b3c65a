/* SPDX-License-Identifier: MIT */
/* futex.c - waiting: spinning, yielding, and sleeping and waking on 32-bit words in shared
 * memory (across processes); the robust process-shared mutexes of the pool and the sync
 * objects. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

void brg__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void brg__pause(const struct brg__ctl *ctl)
{
	if (__atomic_load_n(&ctl->yield, __ATOMIC_RELAXED))
		sched_yield();
	else
		brg__cpu_relax();
}

int brg__futex_wait(uint32_t *word, uint32_t expect, int64_t timeout_ns)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tp = &ts;
	}
	/* Not FUTEX_PRIVATE: the word is shared between processes. */
	long r = syscall(SYS_futex, word, FUTEX_WAIT, expect, tp, NULL, 0);
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	return 0;
}

void brg__futex_wake(uint32_t *word, int count)
{
	syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

int brg__wait_turn(uint32_t *word, uint32_t seen, uint64_t t0, uint64_t now, uint64_t until)
{
	if (now - t0 < BRG__SPIN_NS) {
		brg__cpu_relax();
		return 0;
	}
	int r = brg__futex_wait(word, seen, until > now ? (int64_t)(until - now) : 0);
	return r == -ETIMEDOUT ? 0 : r;
}

int brg__robust_mutex_init(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t ma;
	int r = pthread_mutexattr_init(&ma);
	if (r)
		return -r;
	r = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!r)
		r = pthread_mutexattr_settype(&ma, type);
	if (!r)
		r = pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
	return -r;
}
