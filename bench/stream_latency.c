/* SPDX-License-Identifier: MIT */
/* stream_latency.c - one-way latency of a frame from one process to another, each pinned to
 * its own core: a brigade stream (the frame written and read in place) against a pipe, a
 * Unix stream socket and a POSIX message queue (each copies the frame in and out of the
 * kernel).  The producer stamps CLOCK_MONOTONIC in the frame's first 8 bytes as it sends;
 * the consumer reads the clock once it has the whole frame; the median and 99th percentile
 * of the differences are printed, with each peer's median over brigade's.
 *
 * usage: stream_latency [messages [gap_us]]   (2000 messages, 10 us apart: a consumer that
 * spins, as the stream's does for 20 us, sees each frame as it comes)
 * Sizes: 64 B, 64 KiB, 4 MiB (the message queue: 64 B only, the kernel's default cap). */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <brigade.h>

enum peer { P_STREAM, P_PIPE, P_SOCKET, P_MQ, P_N };
static const char *const peer_name[P_N] = {"brigade stream", "pipe", "unix socket",
					   "posix mq"};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof set, &set);
}

static void wait_until(uint64_t t)
{
	while (now_ns() < t)
		;
}

static int full_io(int fd, void *buf, size_t n, int out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? write(fd, (char *)buf + done, n - done)
				: read(fd, (char *)buf + done, n - done);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One peer at one size: fills lat[0..n) with one-way latencies (ns); 0 or -1. */
static int measure(enum peer p, size_t size, int n, uint64_t gap_ns, uint64_t *lat)
{
	char name[64];
	snprintf(name, sizeof name, "brg-latency-%d", (int)getpid());
	int fds[2] = {-1, -1};
	mqd_t mq = (mqd_t)-1;
	brg_stream *s = NULL;
	size_t shape[1] = {size};
	if (p == P_STREAM && brg_stream_create(&s, name, BRG_U8, 1, shape, 4, BRG_STREAM_QUEUE,
					       BRG_STREAM_BLOCK, NULL))
		return -1;
	if (p == P_PIPE && pipe(fds))
		return -1;
	if (p == P_SOCKET && socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		return -1;
	char mqname[80];
	snprintf(mqname, sizeof mqname, "/%s-mq", name);
	if (p == P_MQ) {
		struct mq_attr at = {.mq_maxmsg = 4, .mq_msgsize = (long)size};
		mq = mq_open(mqname, O_CREAT | O_EXCL | O_RDWR, 0600, &at);
		if (mq == (mqd_t)-1)
			return -1;
	}
	/* The consumer's latencies come back through a pipe. */
	int res[2];
	if (pipe(res))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		pin(1);
		char *buf = malloc(size);
		brg_stream *c = NULL;
		if (!buf || (p == P_STREAM && brg_stream_open(&c, name, 0)))
			_exit(1);
		for (int i = 0; i < n; i++) {
			uint64_t sent, t;
			if (p == P_STREAM) {
				brg_frame f;
				if (brg_stream_receive(c, &f, 10000))
					_exit(2);
				t = now_ns();
				memcpy(&sent, f.data, sizeof sent);
				brg_stream_release(c, &f);
			} else if (p == P_MQ) {
				if (mq_receive(mq, buf, size, NULL) != (ssize_t)size)
					_exit(2);
				t = now_ns();
				memcpy(&sent, buf, sizeof sent);
			} else {
				if (full_io(fds[0], buf, size, 0))
					_exit(2);
				t = now_ns();
				memcpy(&sent, buf, sizeof sent);
			}
			uint64_t d = t - sent;
			if (full_io(res[1], &d, sizeof d, 1))
				_exit(3);
		}
		brg_stream_close(c);
		_exit(0);
	}
	pin(0);
	char *buf = calloc(1, size);
	int bad = !buf;
	struct timespec settle = {0, 50000000};
	nanosleep(&settle, NULL);
	uint64_t next = now_ns();
	for (int i = 0; i < n && !bad; i++) {
		wait_until(next);
		next = now_ns() + gap_ns;
		if (p == P_STREAM) {
			brg_frame f;
			/* The frame is written in place; a real producer fills it here. */
			if (brg_stream_loan(s, &f, 10000)) {
				bad = 1;
				break;
			}
			uint64_t t = now_ns();
			memcpy(f.data, &t, sizeof t);
			bad = brg_stream_publish(s, &f) != 0;
		} else {
			uint64_t t = now_ns(); /* the copy into the kernel counts: it is the send */
			memcpy(buf, &t, sizeof t);
			bad = p == P_MQ ? mq_send(mq, buf, size, 0) != 0 : full_io(fds[1], buf, size, 1);
		}
		/* Collect as we go: the result pipe must not fill. */
		if (!bad && full_io(res[0], &lat[i], sizeof lat[i], 0))
			bad = 1;
	}
	int st = 0;
	if (bad)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	free(buf);
	close(res[0]);
	close(res[1]);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
	if (p == P_MQ) {
		mq_close(mq);
		mq_unlink(mqname);
	}
	if (s) {
		brg_stream_close(s);
		brg_stream_unlink(name);
	}
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	double gap_us = argc > 2 ? atof(argv[2]) : 10.0;
	if (n < 10 || n > 1000000 || gap_us < 0) {
		fprintf(stderr, "usage: %s [messages (10-1000000) [gap_us]]\n", argv[0]);
		return 2;
	}
	static const size_t sizes[] = {64, 64 << 10, 4 << 20};
	uint64_t *lat = calloc((size_t)n, sizeof *lat);
	if (!lat)
		return 1;
	printf("one-way latency, %d messages %.0f us apart, producer on cpu 0, consumer on cpu 1\n",
	       n, gap_us);
	printf("%-16s %9s %12s %12s %10s\n", "peer", "size", "median ns", "p99 ns", "vs stream");
	int fail = 0;
	for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
		double ref = 0;
		for (int p = 0; p < P_N; p++) {
			if (p == P_MQ && sizes[z] > 64)
				continue;
			if (measure((enum peer)p, sizes[z], n, (uint64_t)(gap_us * 1000), lat)) {
				printf("%-16s %9zu  failed\n", peer_name[p], sizes[z]);
				fail = 1;
				continue;
			}
			qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
			double med = (double)lat[n / 2], p99 = (double)lat[n * 99 / 100];
			if (p == P_STREAM)
				ref = med;
			printf("%-16s %9zu %12.0f %12.0f %9.2fx\n", peer_name[p], sizes[z], med, p99,
			       ref > 0 ? med / ref : 0.0);
		}
	}
	free(lat);
	return fail;
}
