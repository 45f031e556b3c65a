/* SPDX-License-Identifier: MIT */
/* proc.c - clocks, and whether the process that created a segment still runs. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

uint64_t brg__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t brg__mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t brg__coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t brg__boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* When pid started, in clock ticks since boot (/proc/PID/stat's starttime, which counts on
 * CLOCK_BOOTTIME's scale); 0 when it cannot be read.  *zombie is set when the process has
 * exited and waits to be reaped. */
static unsigned long long start_ticks(int32_t pid, int *zombie)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	*zombie = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	unsigned long long ticks = 0;
	/* After ')' come field 3 (state) .. field 22 (starttime): skip 19 fields. */
	int field = 2;
	for (char *s = p + 1; *s && field < 22; s++) {
		if (*s == ' ') {
			field++;
			if (field == 22)
				sscanf(s + 1, "%llu", &ticks);
		}
	}
	return ticks;
}

/* Start of pid in seconds since the epoch; 0 when it cannot be read. */
static uint64_t start_time_s(int32_t pid, int *zombie)
{
	unsigned long long ticks = start_ticks(pid, zombie);
	/* The boot time, read once: /proc/stat is long, and waiters look often. */
	static unsigned long long boot;
	unsigned long long btime = __atomic_load_n(&boot, __ATOMIC_RELAXED);
	if (!btime) {
		FILE *f = fopen("/proc/stat", "re");
		if (!f)
			return 0;
		char line[256];
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
		__atomic_store_n(&boot, btime, __ATOMIC_RELAXED);
	}
	long hz = sysconf(_SC_CLK_TCK);
	if (!ticks || !btime || hz <= 0)
		return 0;
	return btime + ticks / (unsigned long long)hz;
}

/* Whether pid runs and is not a zombie (kill(0) says nothing of zombies). */
static int pid_runs(int32_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int brg__pid_alive(int32_t pid, uint64_t created_ns)
{
	if (!pid_runs(pid))
		return 0;
	/* A recycled pid belongs to a process that started after the segment was made; btime
	 * has one-second resolution, hence the slack. */
	int zombie = 0;
	uint64_t started = start_time_s(pid, &zombie);
	if (zombie)
		return 0;
	if (started && started > created_ns / 1000000000u + 2)
		return 0;
	return 1;
}

int brg__pid_alive_since(int32_t pid, uint64_t boot_ns)
{
	if (!pid_runs(pid))
		return 0;
	/* The process that stamped boot_ns had started by then; a process on a recycled pid
	 * started after that one died, so after the stamp.  Both clocks count from boot, and
	 * neither moves when the wall clock is set.  Ticks round down, so the stamping process
	 * never looks younger than its stamp. */
	int zombie = 0;
	unsigned long long ticks = start_ticks(pid, &zombie);
	long hz = sysconf(_SC_CLK_TCK);
	if (zombie)
		return 0;
	if (ticks && hz > 0 && ticks / (unsigned long long)hz * 1000000000u +
	    ticks % (unsigned long long)hz * (1000000000u / (unsigned long long)hz) > boot_ns)
		return 0;
	return 1;
}

#ifdef BRG_FAULT_INJECTION
void brg__sync_fault(void)
{
	static pid_t for_pid;
	static long at, passed;
	if (for_pid != getpid()) {
		const char *e = getenv("BRG_SYNC_FAULT");
		at = e ? atol(e) : 0;
		passed = 0;
		for_pid = getpid();
	}
	if (at > 0 && ++passed == at)
		raise(SIGKILL);
}
#endif

/* This process's pid, kept by an at-fork hook: getpid() is a system call, and the sync
 * objects ask on every call. */
static int32_t self_pid;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static uint64_t next_token;

static void self_refresh(void)
{
	__atomic_store_n(&self_pid, (int32_t)getpid(), __ATOMIC_RELAXED);
}

static void self_init(void)
{
	self_refresh();
	pthread_atfork(NULL, NULL, self_refresh);
}

int32_t brg__self_pid(void)
{
	pthread_once(&self_once, self_init);
	return __atomic_load_n(&self_pid, __ATOMIC_RELAXED);
}

uint64_t brg__token(void)
{
	return (uint64_t)(uint32_t)brg__self_pid() << 32 |
	       __atomic_add_fetch(&next_token, 1, __ATOMIC_RELAXED);
}
