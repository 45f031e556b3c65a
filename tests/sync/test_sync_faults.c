/* SPDX-License-Identifier: MIT */
/* test_sync_faults.c - a party killed at every step of the lock's, the event's and the
 * barrier's calls (a fault-injection build: $BRG_SYNC_FAULT=N kills the process at the Nth
 * step it passes, inside the mutex or out).  After each death: the lock's next acquirer is
 * told the holder died (exactly when it died holding it) and nobody hangs; an event set by a
 * process killed before its wake still ends the wait; a barrier's other member gets
 * BRG_EBROKEN (or its round, when the dead one had ended it), never a timeout, and after a
 * reset the barrier works again. */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

enum { ROUNDS = 3, MAX_STEPS = 200 };

/* Memory shared with the children, made before each fork. */
struct shared {
	volatile int phase;  /* where the child is: see each part */
	volatile int inside; /* a holder of the lock is in its critical section */
	volatile int count;  /* the child's critical sections, or its barrier rounds */
	volatile int index;  /* the clean child's place in its barrier round */
};
static struct shared *sh;

static void pause_ms(int ms)
{
	nanosleep(&(struct timespec){0, ms * 1000000L}, NULL);
}

/* Forks a child that runs with fault step `step` (0: none). */
static pid_t fork_at(int step)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0 && step > 0) {
		char at[16];
		snprintf(at, sizeof at, "%d", step);
		setenv("BRG_SYNC_FAULT", at, 1);
	}
	return pid;
}

/* 1 when the child exited 0 (it got past its last step); a death other than SIGKILL fails. */
static int lived(int st, const char *what, int step)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
		TEST_FAIL_("%s step %d: child status 0x%x", what, step, st);
	return 0;
}

/* ---- the lock: the child takes it ROUNDS times while this process takes it too ---- */

static int lock_step(int step, int unused)
{
	(void)unused;
	const char *name = test_name("sf-lock");
	brg_lock *l = NULL;
	REQUIRE_EQ(brg_lock_create(&l, name, NULL), 0);
	memset(sh, 0, sizeof *sh);
	pid_t pid = fork_at(step);
	if (pid == 0) {
		brg_lock *c = NULL;
		if (brg_lock_open(&c, name))
			_exit(1);
		for (int k = 0; k < ROUNDS; k++) {
			sh->phase = 1;
			if (brg_lock_acquire(c, 5000))
				_exit(2);
			if (sh->inside++)
				_exit(3);
			sh->count++;
			sh->inside--;
			sh->phase = 2;
			if (brg_lock_release(c))
				_exit(4);
			sh->phase = 0;
		}
		brg_lock_close(c);
		_exit(0);
	}
	int st = 0, gone = 0, dead_told = 0;
	while (!gone) {
		gone = waitpid(pid, &st, WNOHANG) == pid; /* then one more turn */
		int r = brg_lock_acquire(l, 3000);
		if (r != 0 && r != BRG_EOWNERDEAD) {
			TEST_FAIL_("lock step %d: acquire gave %d (%s)", step, r, brg_strerror(r));
			break;
		}
		dead_told += r == BRG_EOWNERDEAD;
		CHECK_EQ(brg_lock_holder(l), (int)getpid());
		CHECK_EQ(sh->inside, 0);
		CHECK_EQ(brg_lock_release(l), 0);
		pause_ms(1);
	}
	int got_through = lived(st, "lock", step);
	/* Every step is inside acquire (the mutex taken) or inside release (not yet let go): a
	 * killed child died holding it, which the next acquire is told once. */
	if (got_through) {
		CHECK_EQ(dead_told, 0);
		CHECK_EQ(sh->count, ROUNDS);
	} else if (dead_told != 1) {
		TEST_FAIL_("lock step %d: the holder's death told %d times (phase %d)", step,
			   dead_told, sh->phase);
	}
	CHECK_EQ(brg_lock_acquire(l, 0), 0); /* whole again */
	CHECK_EQ(brg_lock_release(l), 0);
	CHECK_EQ(brg_lock_holder(l), 0);
	brg_lock_close(l);
	CHECK_EQ(brg_segment_unlink(name), 0);
	return got_through;
}

/* ---- the event: the child sets it while this process waits ---- */

static int event_step(int step, int unused)
{
	(void)unused;
	const char *name = test_name("sf-event");
	brg_event *e = NULL;
	REQUIRE_EQ(brg_event_create(&e, name, 0, NULL), 0);
	pid_t pid = fork_at(step);
	if (pid == 0) {
		brg_event *c = NULL;
		if (brg_event_open(&c, name))
			_exit(1);
		pause_ms(5); /* the parent is asleep in its wait by now */
		if (brg_event_set(c))
			_exit(2);
		brg_event_close(c);
		_exit(0);
	}
	/* Every step comes after the set's store: the wait ends, woken or at its next look (a
	 * wait for ever: one that missed the set would hang until the alarm fails the test). */
	int r = brg_event_wait(e, -1);
	if (r != 0)
		TEST_FAIL_("event step %d: wait gave %d", step, r);
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	int got_through = lived(st, "event", step);
	CHECK_EQ(brg_event_is_set(e), 1);
	brg_event_close(e);
	CHECK_EQ(brg_segment_unlink(name), 0);
	return got_through;
}

/* ---- the barrier: two members, ROUNDS rounds; the child arrives last or first ---- */

static void barrier_usable(brg_barrier *b, const char *name, int step)
{
	CHECK_EQ(brg_barrier_reset(b), 0);
	pid_t pid = fork_at(0);
	if (pid == 0) {
		brg_barrier *c = NULL;
		if (brg_barrier_open(&c, name))
			_exit(1);
		sh->index = brg_barrier_wait(c, 5000);
		brg_barrier_close(c);
		_exit(sh->index == 0 || sh->index == 1 ? 0 : 2);
	}
	int r = brg_barrier_wait(b, 5000);
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	if (!(r == 0 || r == 1) || !WIFEXITED(st) || WEXITSTATUS(st) || r == sh->index)
		TEST_FAIL_("barrier step %d: not usable after a reset (%d, child 0x%x, %d)", step,
			   r, st, sh->index);
}

static int barrier_step(int step, int child_last)
{
	const char *name = test_name("sf-barrier");
	brg_barrier *b = NULL;
	REQUIRE_EQ(brg_barrier_create(&b, name, 2, NULL), 0);
	memset(sh, 0, sizeof *sh);
	pid_t pid = fork_at(step);
	if (pid == 0) {
		brg_barrier *c = NULL;
		sh->phase = 1; /* opening */
		if (brg_barrier_open(&c, name))
			_exit(1);
		sh->phase = 2; /* a member, waiting */
		for (int k = 0; k < ROUNDS; k++) {
			if (child_last)
				pause_ms(2);
			if (brg_barrier_wait(c, 5000) < 0)
				_exit(2);
			sh->count++;
		}
		sh->phase = 3; /* closing */
		brg_barrier_close(c);
		_exit(0);
	}
	int rounds = 0, broken = 0;
	for (int k = 0; k < ROUNDS && !broken; k++) {
		if (!child_last)
			pause_ms(2);
		int r = brg_barrier_wait(b, 3000);
		if (r == BRG_EBROKEN) {
			broken = 1;
		} else if (r < 0) {
			TEST_FAIL_("barrier step %d (child %s): wait gave %d (%s), phase %d", step,
				   child_last ? "last" : "first", r, brg_strerror(r), sh->phase);
			break;
		} else {
			rounds++;
		}
	}
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	int got_through = lived(st, "barrier", step);
	if (got_through) {
		CHECK_EQ(rounds, ROUNDS);
		CHECK_EQ(broken, 0);
	} else if (!broken) {
		/* Killed after the last round ended (waiting, or closing with the mutex held):
		 * the next wait is told, not left to time out. */
		int r = brg_barrier_wait(b, 3000);
		if (r != BRG_EBROKEN)
			TEST_FAIL_("barrier step %d (child %s): killed in phase %d, then a wait "
				   "gave %d", step, child_last ? "last" : "first", sh->phase, r);
	}
	CHECK(rounds >= sh->count - 1 && rounds <= sh->count + 1);
	barrier_usable(b, name, step);
	brg_barrier_close(b);
	CHECK_EQ(brg_segment_unlink(name), 0);
	return got_through;
}

/* Runs one part at steps 1, 2, ... until its child gets through; the steps it was killed at. */
static int steps(const char *what, int (*run)(int, int), int arg)
{
	int step;
	for (step = 1; step <= MAX_STEPS; step++)
		if (run(step, arg))
			break;
	CHECK(step <= MAX_STEPS);
	printf("# %s: killed at each of %d steps\n", what, step - 1);
	return step - 1;
}

int main(void)
{
	test_init_pools();
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(sh != MAP_FAILED);
	CHECK(steps("the lock's holder", lock_step, 0) >= 3 * ROUNDS);
	CHECK(steps("the event's setter", event_step, 0) >= 1);
	CHECK(steps("a barrier member arriving last", barrier_step, 1) >= 10);
	CHECK(steps("a barrier member arriving first", barrier_step, 0) >= 10);
	return test_done();
}
