/* SPDX-License-Identifier: MIT */
/* test_liveness.c - how streams and barriers tell a live party from a dead one: its pid, and
 * a CLOCK_BOOTTIME stamp it took itself, against the pid's start time (brg__pid_alive_since). */
#include <errno.h>
#include <time.h>

#include "internal.h"
#include "testutil.h"

/* A child that stamps the clock at once, sends the stamp and waits for a byte (or EOF). */
static pid_t stamping_child(int *to_child, uint64_t *stamp)
{
	int up[2], down[2];
	REQUIRE_EQ(pipe(up), 0);
	REQUIRE_EQ(pipe(down), 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		uint64_t t = brg__boot_ns();
		close(up[0]);
		close(down[1]);
		char c;
		_exit(write(up[1], &t, sizeof t) == sizeof t && read(down[0], &c, 1) >= 0 ? 0 : 1);
	}
	close(up[1]);
	close(down[0]);
	REQUIRE_EQ(read(up[0], stamp, sizeof *stamp), (ssize_t)sizeof *stamp);
	close(up[0]);
	*to_child = down[1];
	return pid;
}

int main(void)
{
	test_init();
	int32_t self = brg__self_pid();
	CHECK_EQ(brg__pid_alive_since(self, brg__boot_ns()), 1);
	CHECK_EQ(brg__pid_alive_since(0, brg__boot_ns()), 0);
	CHECK_EQ(brg__pid_alive_since(-1, brg__boot_ns()), 0);

	/* A stamp taken in the child's first microseconds is its own: never "started after". */
	for (int i = 0; i < 20; i++) {
		int fd;
		uint64_t stamp;
		pid_t pid = stamping_child(&fd, &stamp);
		CHECK_EQ(brg__pid_alive_since(pid, stamp), 1);
		close(fd);
		/* Exited but not reaped: a zombie is dead. */
		struct timespec ms = {0, 1000000};
		int seen_dead = 0;
		for (int k = 0; k < 5000 && !seen_dead; k++) {
			seen_dead = !brg__pid_alive_since(pid, stamp);
			if (!seen_dead)
				nanosleep(&ms, NULL);
		}
		CHECK(seen_dead);
		test_reap_ok(pid, "stamping child");
		CHECK_EQ(brg__pid_alive_since(pid, stamp), 0);
	}

	/* A stamp taken by one process, checked against a process that started 50 ms later:
	 * what a recycled pid looks like (the wall clock's seconds could not tell). */
	uint64_t before = brg__boot_ns();
	struct timespec pause = {0, 50 * 1000000};
	nanosleep(&pause, NULL);
	int fd;
	uint64_t stamp;
	pid_t pid = stamping_child(&fd, &stamp);
	CHECK(stamp > before);
	CHECK_EQ(brg__pid_alive_since(pid, before), 0);
	CHECK_EQ(brg__pid_alive_since(self, before), 1);
	close(fd);
	test_reap_ok(pid, "stamping child");
	return test_done();
}
