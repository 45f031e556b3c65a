/* SPDX-License-Identifier: MIT */
/* counter.c - processes count into one shared counter: under a named brigade lock, with an
 * atomic add, and (the peer) under a POSIX semaphore, what Python's multiprocessing.Lock is
 * made of.  One more process is killed while it holds the brigade lock, half-way through an
 * update: the next acquirer is told (BRG_EOWNERDEAD) and repairs, so the count stays exact;
 * the same death under the semaphore would leave it taken for ever.
 *
 * usage: example-counter [processes [adds]]   (default 2 processes, 200000 adds each) */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <brigade.h>

#define HALF 1000000 /* what the killed holder adds before dying: the repair takes it off */

enum way { WAY_LOCK, WAY_ATOMIC, WAY_SEM };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char name[64], lock_name[64], go_name[64];

/* One counting process: opens the lock and the counter by name, waits for the start (an
 * event: every process then counts at once), adds `adds` times. */
static int count(enum way way, sem_t *sem, long adds)
{
	brg_lock *l = NULL;
	brg_array *a = NULL;
	brg_event *go = NULL;
	if ((way == WAY_LOCK && brg_lock_open(&l, lock_name)) ||
	    brg_array_open(&a, name, BRG_OPEN_WRITE) || brg_event_open(&go, go_name) ||
	    brg_event_wait(go, 60000))
		return 1;
	brg_event_close(go);
	volatile int64_t *c = brg_array_data(a);
	for (long i = 0; i < adds; i++) {
		if (way == WAY_ATOMIC) {
			brg_atomic_fetch_add(a, 0, 1, NULL);
			continue;
		}
		if (way == WAY_SEM) {
			while (sem_wait(sem) && errno == EINTR)
				;
			c[0]++;
			sem_post(sem);
			continue;
		}
		int r = brg_lock_acquire(l, -1);
		if (r == BRG_EOWNERDEAD)
			c[0] -= HALF; /* the dead holder's half update, undone */
		else if (r)
			return 2;
		c[0]++;
		brg_lock_release(l);
	}
	brg_lock_close(l);
	brg_array_close(a);
	return 0;
}

/* Runs procs counting processes; the seconds from the start until the last is done, or < 0. */
static double run(enum way way, brg_event *go, sem_t *sem, int procs, long adds)
{
	pid_t pid[64];
	brg_event_clear(go);
	for (int p = 0; p < procs; p++) {
		if ((pid[p] = fork()) < 0)
			return -1;
		if (pid[p] == 0)
			_exit(count(way, sem, adds));
	}
	struct timespec settle = {0, 50000000}; /* all started and waiting */
	nanosleep(&settle, NULL);
	double t0 = now_s();
	brg_event_set(go);
	int bad = 0;
	for (int p = 0; p < procs; p++) {
		int st = 0;
		waitpid(pid[p], &st, 0);
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	}
	return bad ? -1 : now_s() - t0;
}

int main(int argc, char **argv)
{
	int procs = argc > 1 ? atoi(argv[1]) : 2;
	long adds = argc > 2 ? atol(argv[2]) : 200000;
	if (procs < 1 || procs > 64 || adds < 1) {
		fprintf(stderr, "usage: %s [processes (1-64) [adds]]\n", argv[0]);
		return 2;
	}
	snprintf(name, sizeof name, "example-counter-%d", (int)getpid());
	snprintf(lock_name, sizeof lock_name, "example-counter-%d-lock", (int)getpid());
	snprintf(go_name, sizeof go_name, "example-counter-%d-go", (int)getpid());
	brg_array *a;
	size_t one = 1;
	int r = brg_array_create(&a, name, BRG_I64, 1, &one, NULL);
	if (r) {
		fprintf(stderr, "create %s: %s\n", name, brg_strerror(r));
		return 1;
	}
	brg_lock *l;
	r = brg_lock_create(&l, lock_name, NULL); /* others: brg_lock_open(&l, name) */
	if (r) {
		fprintf(stderr, "create %s: %s\n", lock_name, brg_strerror(r));
		brg_array_close(a);
		brg_segment_unlink(name);
		return 1;
	}
	brg_event *go;
	if ((r = brg_event_create(&go, go_name, 0, NULL))) {
		fprintf(stderr, "create %s: %s\n", go_name, brg_strerror(r));
		brg_lock_close(l);
		brg_segment_unlink(lock_name);
		brg_array_close(a);
		brg_segment_unlink(name);
		return 1;
	}
	int64_t *c = brg_array_data(a);
	/* The peer's semaphore, in memory its children share. */
	sem_t *sem = mmap(NULL, sizeof *sem, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			  -1, 0);
	int bad = sem == MAP_FAILED || sem_init(sem, 1, 1);

	/* A holder killed half-way through an update. */
	pid_t victim = bad ? -1 : fork();
	if (victim == 0) {
		brg_lock *m;
		brg_array *b; /* an array's mapping is not inherited: opened by name */
		if (brg_lock_open(&m, lock_name) || brg_lock_acquire(m, -1) ||
		    brg_array_open(&b, name, BRG_OPEN_WRITE))
			_exit(1);
		((int64_t *)brg_array_data(b))[0] += HALF;
		raise(SIGKILL); /* holding the lock */
	}
	if (victim > 0) {
		int st;
		waitpid(victim, &st, 0);
	}
	static const char *const way_name[] = {"brigade lock", "atomic add", "POSIX semaphore"};
	double t[3] = {0};
	for (int w = 0; w < 3 && !bad; w++) {
		if (w > 0) /* the first run starts from the dead holder's half update */
			c[0] = 0;
		t[w] = run((enum way)w, go, sem, procs, adds);
		bad |= t[w] < 0;
		int64_t want = (int64_t)procs * adds;
		if (!bad && c[0] != want) {
			fprintf(stderr, "%s: count %lld, want %lld\n", way_name[w], (long long)c[0],
				(long long)want);
			bad = 1;
		}
		if (!bad)
			printf("%-16s %d processes x %ld adds: %8.1f ms, %6.1f ns an add a process\n",
			       way_name[w], procs, adds, 1e3 * t[w], 1e9 * t[w] / (double)adds);
	}
	if (!bad)
		printf("brigade lock %.2fx and atomic add %.2fx the semaphore's speed\n", t[2] / t[0],
		       t[2] / t[1]);
	brg_event_close(go);
	brg_segment_unlink(go_name);
	brg_lock_close(l);
	brg_segment_unlink(lock_name);
	brg_array_close(a);
	brg_segment_unlink(name);
	return bad;
}
