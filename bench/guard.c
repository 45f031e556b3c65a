/* SPDX-License-Identifier: MIT */
/* guard.c - what the bench owes the machine whatever happens.  On SIGINT, SIGTERM or SIGHUP it
 * kills its peers and removes every segment it made before it dies of the signal; at its end
 * it removes what a peer killed mid-run left behind; and a thread watches the machine's
 * available memory, keeps the lowest reading for the report and stops the peers should it
 * fall under a floor, before the kernel's OOM killer picks a process of its own choosing.
 *
 * Every segment of a run is named with a prefix of the bench's pid, "brg-bench-PID-": its
 * arrays, its pools' control blocks (those the `start` kernel times too) and py-pool-shm's
 * SharedMemory.  So removing them needs no list that a signal could catch half written: the
 * handler reads /dev/shm with getdents64 and unlinks what carries the prefix and belongs to
 * this user, with async-signal-safe calls only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_PEERS 64

static pid_t bench_pid;
static int shm_dir = -1;
static char prefix_bench[40];
/* The running peers, a word each: the process group in the low 32 bits (0: a free slot), and
 * BENCH_STOPPED_* in the high ones once the bench killed it.  One word, so that a slot is
 * never freed, taken or marked between two stores. */
static _Atomic uint64_t peers[MAX_PEERS];
static atomic_flag handling = ATOMIC_FLAG_INIT;

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

/* Unlinks every entry of /dev/shm that carries the run's prefix and is this user's (another
 * process of the same pid in another pid namespace may share /dev/shm); returns how many.
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
				struct stat st;
				if (!has_prefix(e->d_name, prefix_bench) ||
				    fstatat(shm_dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
				    st.st_uid != geteuid())
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

static void floor_check(void);

void bench_guard_peer_add(pid_t pgid)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		uint64_t free_slot = 0;
		if (atomic_compare_exchange_strong(&peers[i], &free_slot, (uint32_t)pgid))
			break;
	}
	/* A peer started under the floor is stopped at once: the watch looks only every
	 * BENCH_WATCH_PERIOD_MS, and a short peer could start and finish between two looks. */
	floor_check();
}

int bench_guard_peer_remove(pid_t pgid)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		uint64_t w = atomic_load(&peers[i]);
		while ((uint32_t)w == (uint32_t)pgid)
			if (atomic_compare_exchange_weak(&peers[i], &w, 0))
				return (int)(w >> 32);
	}
	return 0;
}

void bench_guard_forget_libomp(pid_t pid)
{
	/* LLVM's libomp registers each process as /dev/shm/__KMP_REGISTERED_LIB_<pid>_<uid> and
	 * removes it at exit, which a killed peer never reaches.  The name is written by hand:
	 * snprintf is not async-signal-safe. */
	static const char head[] = "__KMP_REGISTERED_LIB_";
	char name[sizeof head + 24];
	size_t len = sizeof head - 1;
	memcpy(name, head, len);
	unsigned long vals[2] = {(unsigned long)pid, (unsigned long)geteuid()};
	for (int k = 0; k < 2; k++) {
		char digits[21];
		int nd = 0;
		do
			digits[nd++] = (char)('0' + vals[k] % 10);
		while ((vals[k] /= 10) && nd < 20);
		while (nd)
			name[len++] = digits[--nd];
		name[len++] = k ? 0 : '_';
	}
	if (shm_dir >= 0 && pid > 0)
		unlinkat(shm_dir, name, 0);
}

/* Kills every peer's process group, marking it stopped for `why`; returns how many it
 * stopped that were not stopped already.  Async-signal-safe. */
static int kill_peers(int why)
{
	int n = 0;
	for (int i = 0; i < MAX_PEERS; i++) {
		uint64_t w = atomic_load(&peers[i]);
		pid_t g = (pid_t)(uint32_t)w;
		if (g <= 0)
			continue;
		if (!(w >> 32) &&
		    atomic_compare_exchange_strong(&peers[i], &w, w | (uint64_t)why << 32))
			n++;
		kill(-g, SIGKILL);
	}
	/* Once each is dead (not reaped: its pid still names its group), what libomp left is
	 * removed; before that a dying peer could still be making it. */
	for (int i = 0; i < MAX_PEERS; i++) {
		pid_t g = (pid_t)(uint32_t)atomic_load(&peers[i]);
		if (g <= 0)
			continue;
		siginfo_t si;
		while (waitid(P_PID, (id_t)g, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
		bench_guard_forget_libomp(g);
	}
	return n;
}

/* ---- signals ---- */

static void say(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static void die_of(int sig)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig); /* blocked while the handler runs: delivered, and fatal, as it returns */
}

static void on_signal(int sig)
{
	/* A forked child (a pool worker, a peer before exec) has this handler too; the run's
	 * clean-up is the bench's alone. */
	if (getpid() != bench_pid) {
		die_of(sig);
		return;
	}
	/* A second signal on another thread waits for the first handler to end the process. */
	if (atomic_flag_test_and_set(&handling))
		for (;;)
			pause();
	kill_peers(BENCH_STOPPED_SIGNAL);
	sweep();
	say("brigade: bench: interrupted; its peers were stopped and its segments removed\n");
	die_of(sig);
}

int bench_guard_init(void)
{
	bench_pid = getpid();
	snprintf(prefix_bench, sizeof prefix_bench, "brg-bench-%d-", (int)bench_pid);
	shm_dir = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (shm_dir < 0)
		return -errno;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		/* A signal the bench was started ignoring (nohup, `cmd &` in a script) stays
		 * ignored. */
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old))
			return -errno;
		if (old.sa_handler != SIG_IGN && sigaction(sigs[i], &sa, NULL))
			return -errno;
	}
	return 0;
}

/* ---- the memory watch ---- */

static struct {
	pthread_t thread;
	int running;
	atomic_int stop;
	size_t floor;
	int fd;	   /* /proc/meminfo */
	int cg_fd; /* the cgroup's usage, or -1 */
	size_t cg_limit;
	struct bench_watch w;	/* lowest: the watch's thread alone writes it */
	atomic_int stops;	/* times the peers were stopped, by the thread or floor_check */
	atomic_size_t stopped_at;
	double t0;
} watch;

/* A decimal number at the start of the file fd, or SIZE_MAX. */
static size_t read_number(int fd)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return SIZE_MAX;
	size_t v = 0;
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (size_t)(buf[i] - '0');
	return v;
}

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

/* What is available now: MemAvailable, or the cgroup's room when less; 0 when unknown. */
static size_t available(void)
{
	size_t a = mem_available(watch.fd);
	if (watch.cg_fd >= 0) {
		size_t used = read_number(watch.cg_fd);
		size_t room = used == SIZE_MAX ? SIZE_MAX : used < watch.cg_limit ? watch.cg_limit - used : 0;
		a = room < a || !a ? room : a;
	}
	return a == SIZE_MAX ? 0 : a;
}

static void *watch_main(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the main thread's */
	while (!atomic_load(&watch.stop)) {
		size_t a = available();
		if (a && a < watch.w.lowest) {
			watch.w.lowest = a;
			watch.w.lowest_at = bench_now() - watch.t0;
		}
		if (a && a < watch.floor && kill_peers(BENCH_STOPPED_MEMORY)) {
			atomic_fetch_add(&watch.stops, 1);
			atomic_store(&watch.stopped_at, a);
		}
		struct timespec ts = {0, BENCH_WATCH_PERIOD_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* On the main thread, as a peer starts: the peers are stopped when under the floor now. */
static void floor_check(void)
{
	if (!watch.running)
		return;
	size_t a = available();
	if (a && a < watch.floor && kill_peers(BENCH_STOPPED_MEMORY)) {
		atomic_fetch_add(&watch.stops, 1);
		atomic_store(&watch.stopped_at, a);
	}
}

int bench_watch_start(size_t floor, const struct bench_facts *f)
{
	memset(&watch.w, 0, sizeof watch.w);
	atomic_store(&watch.stops, 0);
	atomic_store(&watch.stopped_at, 0);
	watch.fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (watch.fd < 0)
		return -errno;
	watch.cg_fd = f->cgroup ? open(f->cg_usage, O_RDONLY | O_CLOEXEC) : -1;
	watch.cg_limit = f->cg_limit;
	watch.floor = floor;
	watch.w.floor = floor;
	watch.w.start = available();
	watch.w.lowest = watch.w.start;
	watch.t0 = bench_now();
	atomic_store(&watch.stop, 0);
	int r = pthread_create(&watch.thread, NULL, watch_main, NULL);
	if (r) {
		close(watch.fd);
		if (watch.cg_fd >= 0)
			close(watch.cg_fd);
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
		if (watch.cg_fd >= 0)
			close(watch.cg_fd);
		watch.running = 0;
	}
	watch.w.stops = atomic_load(&watch.stops);
	watch.w.stopped_at = atomic_load(&watch.stopped_at);
	*out = watch.w;
}
