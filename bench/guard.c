/* SPDX-License-Identifier: MIT */
/* guard.c - what the bench owes the machine whatever happens.  On SIGINT, SIGTERM or SIGHUP it
 * kills its peers and removes every segment it made before it dies of the signal; at its end
 * it removes what a peer killed mid-run left behind; and a thread watches the machine's
 * available memory, keeps the lowest reading for the report and stops the peers should it
 * fall under a floor, before the kernel's OOM killer picks a process of its own choosing.
 *
 * Every segment of a run is named with a prefix of the bench's pid: its arrays, its pools'
 * control blocks and py-pool-shm's SharedMemory ("brg-bench-PID-"), and the control blocks of
 * the pools the `start` kernel creates under the library's own names ("brg-pool-PID-").  So
 * removing them needs no list that a signal could catch half written: the handler reads
 * /dev/shm with getdents64 and unlinks what carries a prefix, with async-signal-safe calls
 * only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_PEERS 64

static pid_t bench_pid;
static int shm_dir = -1;
static char prefix_bench[40], prefix_pool[40];
/* Process groups of the running peers (0: free slot), and why each was stopped, if it was. */
static _Atomic pid_t peers[MAX_PEERS];
static _Atomic int peer_stopped[MAX_PEERS];

const char *bench_segment_prefix(void)
{
	return prefix_bench;
}

/* ---- segments ---- */

static int has_prefix(const char *name, const char *prefix)
{
	for (; *prefix; prefix++, name++)
		if (*name != *prefix)
			return 0;
	return 1;
}

/* Unlinks every entry of /dev/shm that carries one of the run's prefixes; returns how many.
 * Async-signal-safe. */
static int sweep(void)
{
	static char buf[8192] __attribute__((aligned(8)));
	if (shm_dir < 0)
		return 0;
	int removed = 0;
	for (int pass = 0; pass < 4; pass++) { /* unlinking while reading: read again */
		int found = 0;
		if (lseek(shm_dir, 0, SEEK_SET) < 0)
			return removed;
		ssize_t n;
		while ((n = getdents64(shm_dir, buf, sizeof buf)) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *e = (struct dirent64 *)(buf + off);
				off += e->d_reclen;
				if (!has_prefix(e->d_name, prefix_bench) &&
				    !has_prefix(e->d_name, prefix_pool))
					continue;
				found = 1;
				if (unlinkat(shm_dir, e->d_name, 0) == 0)
					removed++;
			}
		}
		if (!found)
			break;
	}
	return removed;
}

int bench_guard_sweep(void)
{
	return sweep();
}

/* ---- peers ---- */

void bench_guard_peer_add(pid_t pgid)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		pid_t free_slot = 0;
		if (atomic_compare_exchange_strong(&peers[i], &free_slot, pgid)) {
			atomic_store(&peer_stopped[i], 0);
			return;
		}
	}
}

int bench_guard_peer_remove(pid_t pgid)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		if (atomic_load(&peers[i]) == pgid) {
			int why = atomic_load(&peer_stopped[i]);
			atomic_store(&peers[i], 0);
			return why;
		}
	}
	return 0;
}

int bench_guard_peer_stopped(pid_t pgid)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (atomic_load(&peers[i]) == pgid)
			return atomic_load(&peer_stopped[i]);
	return 0;
}

/* Kills every peer's process group, marking it stopped for `why`; returns how many. */
static int kill_peers(int why)
{
	int n = 0;
	for (int i = 0; i < MAX_PEERS; i++) {
		pid_t g = atomic_load(&peers[i]);
		if (g > 0) {
			atomic_store(&peer_stopped[i], why);
			kill(-g, SIGKILL);
			n++;
		}
	}
	return n;
}

/* ---- signals ---- */

static void say(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static void on_signal(int sig)
{
	/* A forked child (a pool worker before it runs, a peer before exec) has this handler
	 * too; the run's clean-up is the bench's alone. */
	if (getpid() == bench_pid) {
		int saved = errno;
		kill_peers(BENCH_STOPPED_SIGNAL);
		sweep();
		say("brigade: bench: interrupted; its peers were stopped and its segments "
		    "removed\n");
		errno = saved;
	}
	/* SA_RESETHAND made the action the default again: the pending signal ends us. */
	raise(sig);
}

int bench_guard_init(void)
{
	bench_pid = getpid();
	snprintf(prefix_bench, sizeof prefix_bench, "brg-bench-%d-", (int)bench_pid);
	snprintf(prefix_pool, sizeof prefix_pool, "brg-pool-%d-", (int)bench_pid);
	shm_dir = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (shm_dir < 0)
		return -errno;
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
	sigemptyset(&sa.sa_mask);
	/* Each handler blocks the others, so two signals do not sweep at once. */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -errno;
	return 0;
}

/* ---- the memory watch ---- */

static struct {
	pthread_t thread;
	int running;
	atomic_int stop;
	size_t floor;
	int fd; /* /proc/meminfo */
	struct bench_watch w;
	double t0;
} watch;

/* MemAvailable in bytes, with no allocation and no stdio (the thread must not hold a lock of
 * libc while the main thread forks); 0 when unreadable. */
static size_t mem_available(int fd)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *p = strstr(buf, "MemAvailable:");
	if (!p)
		return 0;
	p += 13;
	while (*p == ' ')
		p++;
	size_t kb = 0;
	while (*p >= '0' && *p <= '9')
		kb = kb * 10 + (size_t)(*p++ - '0');
	return kb << 10;
}

static void *watch_main(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
	while (!atomic_load(&watch.stop)) {
		size_t a = mem_available(watch.fd);
		if (a && a < watch.w.lowest) {
			watch.w.lowest = a;
			watch.w.lowest_at = bench_now() - watch.t0;
		}
		if (a && a < watch.floor) {
			int n = kill_peers(BENCH_STOPPED_MEMORY);
			if (n) {
				watch.w.stops++;
				watch.w.stopped_at = a;
			}
		}
		struct timespec ts = {0, BENCH_WATCH_PERIOD_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int bench_watch_start(size_t floor)
{
	memset(&watch.w, 0, sizeof watch.w);
	watch.fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (watch.fd < 0)
		return -errno;
	watch.floor = floor;
	watch.w.floor = floor;
	watch.w.start = mem_available(watch.fd);
	watch.w.lowest = watch.w.start;
	watch.t0 = bench_now();
	atomic_store(&watch.stop, 0);
	int r = pthread_create(&watch.thread, NULL, watch_main, NULL);
	if (r) {
		close(watch.fd);
		return -r;
	}
	watch.running = 1;
	return 0;
}

void bench_watch_stop(struct bench_watch *out)
{
	if (watch.running) {
		atomic_store(&watch.stop, 1);
		pthread_join(watch.thread, NULL);
		close(watch.fd);
		watch.running = 0;
	}
	*out = watch.w;
}
