/* SPDX-License-Identifier: MIT */
/* test_stream_faults.c - a party killed at every step of the stream's calls (a fault-injection
 * build: $BRG_SYNC_FAULT=N kills the process at the Nth step it passes, inside the lock
 * or out): a producer, a queue consumer, a broadcast subscriber in turn.  After each death
 * nobody hangs, no frame published is lost (at most the one in flight is seen twice), and
 * every slot can be loaned again. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

enum { FRAMES = 6, SLOTS = 3, MAX_STEPS = 400 };
static const size_t shape[1] = {4};
static const char *name, *seen_name;

static void fill(brg_frame *f, int64_t v)
{
	for (int i = 0; i < 4; i++)
		((int64_t *)f->data)[i] = v;
}

static int64_t value(const brg_frame *f)
{
	const int64_t *d = f->data;
	return d[0] == d[1] && d[1] == d[2] && d[2] == d[3] ? d[0] : -100;
}

static void usable(brg_stream *s, const char *what, int step)
{
	brg_frame f[SLOTS];
	int ok = 1;
	for (int i = 0; i < SLOTS; i++)
		ok &= brg_stream_loan(s, &f[i], 2000) == 0;
	for (int i = 0; i < SLOTS && ok; i++)
		brg_stream_discard(s, &f[i]);
	if (!ok)
		TEST_FAIL_("%s killed at step %d: not every slot came back", what, step);
}

/* The child: dies at step `step` of what it does, or exits 0 when it got through. */
static pid_t child(int role, int step)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid)
		return pid;
	char at[16];
	snprintf(at, sizeof at, "%d", step);
	setenv("BRG_SYNC_FAULT", at, 1);
	brg_stream *s = NULL;
	brg_array *seen = NULL;
	if (brg_stream_open(&s, name, role == 2 ? BRG_STREAM_SUBSCRIBE : 0) ||
	    brg_array_open(&seen, seen_name, BRG_OPEN_WRITE))
		_exit(1);
	brg_frame f;
	if (role == 0) { /* producer */
		for (int64_t id = 0; id < FRAMES; id++) {
			if (brg_stream_loan(s, &f, 5000))
				_exit(2);
			fill(&f, id);
			if (brg_stream_publish(s, &f))
				_exit(3);
		}
	} else { /* a queue consumer or a subscriber: until the end frame */
		for (;;) {
			if (brg_stream_receive(s, &f, 5000))
				_exit(4);
			int64_t v = value(&f);
			if (v == -1)
				break;
			if (v < 0 || v >= FRAMES)
				_exit(5);
			brg_atomic_fetch_add(seen, (size_t)v, 1, NULL); /* then released */
			if (brg_stream_release(s, &f))
				_exit(6);
		}
	}
	brg_stream_close(s);
	brg_array_close(seen);
	_exit(0);
}

/* One role killed at every step in turn; returns the steps tried. */
static int run_role(int role, const char *what)
{
	int step;
	for (step = 1; step <= MAX_STEPS; step++) {
		brg_stream *s = NULL;
		brg_array *seen = NULL;
		size_t n = FRAMES;
		REQUIRE_EQ(brg_stream_create(&s, name, BRG_I64, 1, shape, SLOTS,
					     role == 2 ? BRG_STREAM_BROADCAST : BRG_STREAM_QUEUE,
					     BRG_STREAM_BLOCK, NULL), 0);
		REQUIRE_EQ(brg_array_create(&seen, seen_name, BRG_I64, 1, &n, NULL), 0);
		int64_t *by_child = brg_array_data(seen), mine[FRAMES] = {0};
		pid_t pid = child(role, step);
		brg_frame f;
		int st = 0, gone = 0;
		if (role == 0) { /* the child produces; this process consumes */
			for (;;) {
				int r = brg_stream_receive(s, &f, 60);
				if (r == 0) {
					int64_t v = value(&f);
					if (v >= 0 && v < FRAMES)
						mine[v]++;
					else
						TEST_FAIL_("%s step %d: a torn or foreign frame", what, step);
					brg_stream_release(s, &f);
					continue;
				}
				if (gone)
					break;
				gone = waitpid(pid, &st, WNOHANG) == pid;
			}
			int prefix = 1, k = 0;
			for (int i = 0; i < FRAMES; i++) {
				if (mine[i] > 1)
					TEST_FAIL_("%s step %d: frame %d received twice", what, step, i);
				if (mine[i] && !prefix)
					TEST_FAIL_("%s step %d: frame %d after a gap", what, step, i);
				prefix &= mine[i] == 1;
				k += mine[i] == 1;
			}
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && k != FRAMES)
				TEST_FAIL_("%s step %d: lived, %d of %d frames came", what, step, k,
					   FRAMES);
		} else { /* the child consumes; this process produces, then the end */
			/* A frame published before the subscriber came is not its: wait for it
			 * (or for its death on the way). */
			for (int i = 0; role == 2 && i < 5000 && !gone; i++) {
				if (brg_stream_status(name, NULL, NULL, 0, 0) > 0)
					break;
				gone = waitpid(pid, &st, WNOHANG) == pid;
				nanosleep(&(struct timespec){0, 1000000}, NULL);
			}
			int stuck = 0;
			for (int64_t id = 0; id <= FRAMES && !stuck; id++) {
				int waited = 0;
				while (brg_stream_loan(s, &f, 30)) {
					/* A queue whose consumer died fills up: this process consumes
					 * then.  A subscriber's death must never hold it back long. */
					if (!gone)
						gone = waitpid(pid, &st, WNOHANG) == pid;
					if (role == 1 && gone && brg_stream_receive(s, &f, 0) == 0) {
						int64_t v = value(&f);
						if (v >= 0 && v < FRAMES)
							mine[v]++;
						brg_stream_release(s, &f);
					}
					if (++waited > 200) { /* 6 s */
						stuck = 1;
						break;
					}
				}
				if (stuck)
					break;
				fill(&f, id < FRAMES ? id : -1);
				brg_stream_publish(s, &f);
			}
			if (stuck)
				TEST_FAIL_("%s step %d: the producer was held back by the dead", what,
					   step);
			if (!gone)
				REQUIRE_EQ(waitpid(pid, &st, 0), pid);
			/* Queue: what the child did not consume is still here, at most one twice. */
			while (role == 1 && brg_stream_receive(s, &f, 60) == 0) {
				int64_t v = value(&f);
				if (v >= 0 && v < FRAMES)
					mine[v]++;
				brg_stream_release(s, &f);
			}
			int twice = 0;
			for (int i = 0; role == 1 && i < FRAMES; i++) {
				if (by_child[i] + mine[i] < 1)
					TEST_FAIL_("%s step %d: frame %d lost", what, step, i);
				twice += (int)(by_child[i] + mine[i] - 1);
			}
			if (twice > 1)
				TEST_FAIL_("%s step %d: %d frames seen twice", what, step, twice);
		}
		int lived = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!lived && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
			TEST_FAIL_("%s step %d: child status 0x%x", what, step, st);
		usable(s, what, step);
		brg_stream_close(s);
		CHECK_EQ(brg_stream_unlink(name), 0);
		test_array_drop(seen);
		if (lived)
			break; /* past its last step */
	}
	CHECK(step > 10 && step <= MAX_STEPS);
	printf("# %s: killed at each of %d steps\n", what, step - 1);
	return step;
}

int main(int argc, char **argv)
{
	test_init_pools();
	name = test_name("stf");
	seen_name = test_name("stf-seen");
	int only = argc > 1 ? atoi(argv[1]) : -1; /* one role, to look at it alone */
	if (only < 0 || only == 0)
		run_role(0, "a producer");
	if (only < 0 || only == 1)
		run_role(1, "a queue consumer");
	if (only < 0 || only == 2)
		run_role(2, "a subscriber");
	return test_done();
}
