/* SPDX-License-Identifier: MIT */
/* test_sync.c - named locks, events and barriers across processes: what each call returns,
 * mutual exclusion that loses nothing, and every party's death at the moment that would hang
 * or corrupt a naive version (a lock's holder, a barrier's member). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

static void *try_release(void *arg)
{
	return (void *)(intptr_t)brg_lock_release(arg);
}

static void test_lock_calls(void)
{
	const char *name = test_name("lock-calls");
	brg_lock *l = NULL, *o = NULL;
	REQUIRE_EQ(brg_lock_create(&l, name, NULL), 0);
	CHECK_EQ(brg_lock_create(&o, name, NULL), -EEXIST);
	CHECK(o == NULL);
	REQUIRE_EQ(brg_lock_open(&o, name), 0);
	CHECK_EQ(brg_lock_holder(l), 0);
	CHECK_EQ(brg_lock_acquire(l, -1), 0);
	CHECK_EQ(brg_lock_holder(o), getpid());
	CHECK_EQ(brg_lock_acquire(l, 0), -EDEADLK);	  /* this thread holds it */
	CHECK_EQ(brg_lock_acquire(o, 10), -EDEADLK);  /* through another handle too */
	pthread_t t;
	void *rv;
	REQUIRE_EQ(pthread_create(&t, NULL, try_release, l), 0);
	REQUIRE_EQ(pthread_join(t, &rv), 0);
	CHECK_EQ((int)(intptr_t)rv, -EPERM); /* another thread does not hold it */
	CHECK_EQ(brg_lock_release(l), 0);
	CHECK_EQ(brg_lock_release(l), -EPERM);
	CHECK_EQ(brg_lock_holder(l), 0);
	CHECK_EQ(brg_lock_acquire(o, 0), 0);
	brg_lock_close(o); /* closing a held handle frees the lock */
	CHECK_EQ(brg_lock_acquire(l, 0), 0);
	CHECK_EQ(brg_lock_release(l), 0);
	CHECK_EQ(brg_lock_acquire(l, -2), -EINVAL);
	CHECK_EQ(brg_lock_acquire(NULL, 0), -EINVAL);
	CHECK_EQ(brg_lock_release(NULL), -EINVAL);
	brg_lock_close(NULL);

	/* Another process holds it: try and timeout say so, and the wait is the time asked. */
	int go[2];
	REQUIRE_EQ(pipe(go), 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		brg_lock *c = NULL;
		if (brg_lock_open(&c, name) || brg_lock_acquire(c, -1))
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(2);
		pause(); /* killed holding it */
		_exit(3);
	}
	char x;
	REQUIRE_EQ(read(go[0], &x, 1), 1);
	CHECK_EQ(brg_lock_holder(l), pid);
	CHECK_EQ(brg_lock_acquire(l, 0), -ETIMEDOUT);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_EQ(brg_lock_acquire(l, 50), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 49);
	/* Its holder killed: the next acquirer is told, holds it, and it works on. */
	kill(pid, SIGKILL);
	test_reap_killed(pid);
	CHECK_EQ(brg_lock_acquire(l, 5000), BRG_EOWNERDEAD);
	CHECK_EQ(brg_lock_holder(l), getpid());
	CHECK_EQ(brg_lock_release(l), 0);
	CHECK_EQ(brg_lock_acquire(l, 0), 0);
	CHECK_EQ(brg_lock_release(l), 0);
	close(go[0]);
	close(go[1]);

	/* Kinds do not mix; a name of nothing is -ENOENT. */
	brg_event *e = NULL;
	brg_barrier *br = NULL;
	brg_array *arr = NULL;
	CHECK_EQ(brg_event_open(&e, name), BRG_EWRONGKIND);
	CHECK_EQ(brg_barrier_open(&br, name), BRG_EWRONGKIND);
	CHECK_EQ(brg_array_open(&arr, name, 0), BRG_ENOTARRAY);
	CHECK_EQ(brg_lock_open(&o, test_name("lock-none")), -ENOENT);
	CHECK_EQ(brg_lock_create(&o, "bad/name", NULL), BRG_EBADNAME);
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(name, 0, &info), 0);
	CHECK_EQ(info.kind, BRG_KIND_LOCK);
	brg_lock_close(l);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* A handle inherited through fork works in the child as a handle of its own: it waits for
 * the parent's hold (no false -EDEADLK) and holds the lock as the child. */
static void *hold_and_end(void *arg)
{
	/* A thread that takes the lock and ends holding it, while another thread closes the
	 * handle: the lock must come back as owner-dead, not stay taken by nobody. */
	return (void *)(intptr_t)brg_lock_acquire(arg, -1);
}

static void test_lock_fork_threads(void)
{
	const char *name = test_name("lock-fork");
	brg_lock *l = NULL;
	REQUIRE_EQ(brg_lock_create(&l, name, NULL), 0);
	REQUIRE_EQ(brg_lock_acquire(l, -1), 0);
	int go[2], back[2];
	REQUIRE_EQ(pipe(go), 0);
	REQUIRE_EQ(pipe(back), 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		char x;
		int bad = brg_lock_acquire(l, 50) != -ETIMEDOUT; /* the parent holds it */
		bad |= (brg_lock_release(l) != -EPERM) << 1;	   /* and it is not ours */
		if (write(back[1], "x", 1) != 1 || read(go[0], &x, 1) != 1)
			_exit(9);
		bad |= (brg_lock_acquire(l, 5000) != 0) << 2; /* released: ours now */
		bad |= (brg_lock_holder(l) != getpid()) << 3;
		if (write(back[1], "x", 1) != 1 || read(go[0], &x, 1) != 1)
			_exit(9);
		bad |= (brg_lock_release(l) != 0) << 4;
		brg_lock_close(l);
		_exit(bad);
	}
	char x;
	REQUIRE_EQ(read(back[0], &x, 1), 1);
	CHECK_EQ(brg_lock_release(l), 0);
	REQUIRE_EQ(write(go[1], "x", 1), 1);
	REQUIRE_EQ(read(back[0], &x, 1), 1);
	CHECK_EQ(brg_lock_holder(l), pid);
	CHECK_EQ(brg_lock_acquire(l, 0), -ETIMEDOUT); /* the child's hold is not ours */
	REQUIRE_EQ(write(go[1], "x", 1), 1);
	test_reap_ok(pid, "a child with an inherited lock handle");
	CHECK_EQ(brg_lock_acquire(l, 0), 0);
	CHECK_EQ(brg_lock_release(l), 0);
	close(go[0]), close(go[1]), close(back[0]), close(back[1]);

	/* Another thread holds it through a handle this thread closes, then ends holding it. */
	brg_lock *h = NULL;
	REQUIRE_EQ(brg_lock_open(&h, name), 0);
	pthread_t t;
	void *rv;
	REQUIRE_EQ(pthread_create(&t, NULL, hold_and_end, h), 0);
	REQUIRE_EQ(pthread_join(t, &rv), 0);
	CHECK_EQ((int)(intptr_t)rv, 0);
	brg_lock_close(h);			     /* held by an ended thread: its mapping stays */
	CHECK_EQ(brg_lock_acquire(l, 5000), BRG_EOWNERDEAD); /* and the hold is reported */
	CHECK_EQ(brg_lock_release(l), 0);
	brg_lock_close(l);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* N processes add to a plain counter under the lock: nothing lost.  One of them is killed
 * holding it, half-way through an update; the one that acquires next is told and repairs. */
static void test_lock_counter(void)
{
	enum { PROCS = 4, ADDS = 5000 };
	const char *lname = test_name("lock-count"), *cname = test_name("lock-count-c");
	brg_lock *l = NULL;
	brg_array *c = NULL;
	size_t two = 2;
	REQUIRE_EQ(brg_lock_create(&l, lname, NULL), 0);
	REQUIRE_EQ(brg_array_create(&c, cname, BRG_I64, 1, &two, NULL), 0);
	int64_t *v = brg_array_data(c);
	pid_t pids[PROCS + 1];
	for (int p = 0; p <= PROCS; p++) {
		REQUIRE((pids[p] = fork()) >= 0);
		if (pids[p])
			continue;
		brg_lock *m = NULL;
		brg_array *a = NULL;
		if (brg_lock_open(&m, lname) || brg_array_open(&a, cname, BRG_OPEN_WRITE))
			_exit(1);
		volatile int64_t *w = brg_array_data(a);
		if (p == PROCS) { /* the victim: dies between the two halves of an update */
			int r = brg_lock_acquire(m, -1);
			if (r && r != BRG_EOWNERDEAD)
				_exit(2);
			w[0] += 1000000;
			raise(SIGKILL);
		}
		int dead = 0;
		for (int i = 0; i < ADDS; i++) {
			int r = brg_lock_acquire(m, -1);
			if (r == BRG_EOWNERDEAD) {
				w[0] -= 1000000; /* the repair only the next holder can make */
				dead++;
			} else if (r) {
				_exit(3);
			}
			int64_t x = w[0];
			sched_yield();
			w[0] = x + 1;
			w[1] += dead; /* how many repairs were made, once each */
			dead = 0;
			if (brg_lock_release(m))
				_exit(4);
		}
		brg_lock_close(m);
		brg_array_close(a);
		_exit(0);
	}
	for (int p = 0; p < PROCS; p++)
		test_reap_ok(pids[p], "a counting process");
	test_reap_killed(pids[PROCS]);
	/* The victim may have died before anyone else came: the next acquire repairs then. */
	int r = brg_lock_acquire(l, 5000);
	if (r == BRG_EOWNERDEAD) {
		v[0] -= 1000000;
		v[1]++;
	} else {
		CHECK_EQ(r, 0);
	}
	CHECK_EQ(v[0], PROCS * ADDS);
	CHECK_EQ(v[1], 1);
	CHECK_EQ(brg_lock_release(l), 0);
	brg_lock_close(l);
	test_array_drop(c);
	CHECK_EQ(brg_segment_unlink(lname), 0);
}

/* n processes that each open the event and wait for it; each exits 0 when its wait ends. */
static void event_waiters(const char *name, pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		REQUIRE((pids[i] = fork()) >= 0);
		if (pids[i] == 0) {
			brg_event *w = NULL;
			if (brg_event_open(&w, name))
				_exit(1);
			_exit(brg_event_wait(w, 20000) == 0 ? 0 : 2);
		}
	}
}

static void test_event(void)
{
	const char *name = test_name("event");
	brg_event *e = NULL, *o = NULL;
	CHECK_EQ(brg_event_create(&e, name, 2, NULL), -EINVAL);
	REQUIRE_EQ(brg_event_create(&e, name, 0, NULL), 0);
	REQUIRE_EQ(brg_event_open(&o, name), 0);
	CHECK_EQ(brg_event_is_set(o), 0);
	CHECK_EQ(brg_event_wait(o, 0), -ETIMEDOUT);
	CHECK_EQ(brg_event_wait(o, 20), -ETIMEDOUT);
	CHECK_EQ(brg_event_set(e), 0);
	CHECK_EQ(brg_event_is_set(o), 1);
	CHECK_EQ(brg_event_wait(o, 0), 0);
	CHECK_EQ(brg_event_wait(o, -1), 0);
	CHECK_EQ(brg_event_clear(o), 0);
	CHECK_EQ(brg_event_is_set(e), 0);

	/* Waiters in other processes, asleep past the spin, all wake on one set. */
	enum { WAITERS = 3 };
	pid_t pids[WAITERS];
	event_waiters(name, pids, WAITERS);
	struct timespec nap = {0, 100000000};
	nanosleep(&nap, NULL);
	for (int i = 0; i < WAITERS; i++)
		CHECK_EQ(waitpid(pids[i], NULL, WNOHANG), 0); /* still waiting */
	CHECK_EQ(brg_event_set(e), 0);
	for (int i = 0; i < WAITERS; i++)
		test_reap_ok(pids[i], "an event waiter");
	/* A set at once cleared still ends every wait that began before it. */
	CHECK_EQ(brg_event_clear(e), 0);
	event_waiters(name, pids, WAITERS);
	nanosleep(&nap, NULL);
	CHECK_EQ(brg_event_set(e), 0);
	CHECK_EQ(brg_event_clear(e), 0);
	for (int i = 0; i < WAITERS; i++)
		test_reap_ok(pids[i], "a waiter of a pulse");
	brg_event *s = NULL;
	const char *sname = test_name("event-set");
	REQUIRE_EQ(brg_event_create(&s, sname, 1, NULL), 0);
	CHECK_EQ(brg_event_is_set(s), 1);
	brg_event_close(s);
	CHECK_EQ(brg_segment_unlink(sname), 0);
	brg_lock *l = NULL;
	CHECK_EQ(brg_lock_open(&l, name), BRG_EWRONGKIND);
	brg_event_close(o);
	brg_event_close(e);
	brg_event_close(NULL);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* Where barrier_child counts its places: [round * 4 + place] (NULL: not counted). */
static const char *places_name;

/* A child that waits `rounds` rounds (dying before round die_after), counting the place each
 * wait gave it; exits 0, 101 when told the barrier broke, 100 or 102 on other errors. */
static pid_t barrier_child(const char *name, int rounds, int die_after)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid)
		return pid;
	brg_barrier *b = NULL;
	brg_array *places = NULL;
	if (brg_barrier_open(&b, name) ||
	    (places_name && brg_array_open(&places, places_name, BRG_OPEN_WRITE)))
		_exit(100);
	for (int r = 0; r < rounds; r++) {
		if (r == die_after)
			raise(SIGKILL);
		int i = brg_barrier_wait(b, 20000);
		if (i == BRG_EBROKEN)
			_exit(101);
		if (i < 0 || i >= brg_barrier_parties(b))
			_exit(102);
		if (places)
			brg_atomic_fetch_add(places, (size_t)(r * 4 + i), 1, NULL);
	}
	brg_array_close(places);
	brg_barrier_close(b);
	_exit(0);
}

static void test_barrier(void)
{
	const char *name = test_name("barrier");
	brg_barrier *b = NULL, *o = NULL;
	CHECK_EQ(brg_barrier_create(&b, name, 0, NULL), -EINVAL);
	CHECK_EQ(brg_barrier_create(&b, name, BRG_BARRIER_MAX + 1, NULL), -EINVAL);
	REQUIRE_EQ(brg_barrier_create(&b, name, 4, NULL), 0);
	CHECK_EQ(brg_barrier_parties(b), 4);

	/* Rounds: three children and the creator, 50 rounds, indices 0..3 each round. */
	enum { ROUNDS = 50 };
	brg_array *places = test_array_new("barrier-places", BRG_I32, ROUNDS * 4);
	places_name = brg_array_name(places);
	pid_t pids[3];
	for (int i = 0; i < 3; i++)
		pids[i] = barrier_child(name, ROUNDS, -1);
	for (int r = 0; r < ROUNDS; r++) {
		int i = brg_barrier_wait(b, 20000);
		CHECK(i >= 0 && i < 4);
		if (i >= 0 && i < 4)
			brg_atomic_fetch_add(places, (size_t)(r * 4 + i), 1, NULL);
	}
	for (int i = 0; i < 3; i++)
		test_reap_ok(pids[i], "a barrier party");
	size_t twice = 0; /* every round gave each place to one wait */
	for (int k = 0; k < ROUNDS * 4; k++)
		twice += ((int32_t *)brg_array_data(places))[k] != 1;
	CHECK_EQ(twice, 0);
	places_name = NULL;
	test_array_drop(places);

	/* A member killed before it arrives in round 1: the others are told, not left waiting
	 * for a party that will never come. */
	pid_t a = barrier_child(name, 3, 1), c = barrier_child(name, 3, -1);
	pid_t d = barrier_child(name, 3, -1);
	int r0 = brg_barrier_wait(b, 20000);
	CHECK(r0 >= 0 && r0 < 4);
	CHECK_EQ(brg_barrier_wait(b, 20000), BRG_EBROKEN);
	test_reap_killed(a);
	int st = 0;
	REQUIRE_EQ(waitpid(c, &st, 0), c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101); /* the survivors saw it broken */
	REQUIRE_EQ(waitpid(d, &st, 0), d);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101);
	CHECK_EQ(brg_barrier_wait(b, 0), BRG_EBROKEN); /* and it stays so */

	/* Reset: whole again, for members old and new. */
	CHECK_EQ(brg_barrier_reset(b), 0);
	REQUIRE_EQ(brg_barrier_open(&o, name), 0);
	pid_t p[3];
	for (int i = 0; i < 3; i++)
		p[i] = barrier_child(name, 1, -1);
	int x = brg_barrier_wait(b, 20000);
	CHECK(x >= 0 && x < 4);
	for (int i = 0; i < 3; i++)
		test_reap_ok(p[i], "a party after reset");

	/* A timeout breaks it (the others are not left waiting for ever). */
	pid_t w = barrier_child(name, 1, -1);
	CHECK_EQ(brg_barrier_wait(b, 100), -ETIMEDOUT);
	REQUIRE_EQ(waitpid(w, &st, 0), w);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101);
	CHECK_EQ(brg_barrier_reset(b), 0);

	/* Reset while parties wait breaks their round (a reset before the child arrives
	 * changes nothing: reset until it is told). */
	w = barrier_child(name, 1, -1);
	struct timespec nap = {0, 20000000};
	int gone = 0;
	for (int i = 0; i < 1000 && !gone; i++) {
		nanosleep(&nap, NULL);
		CHECK_EQ(brg_barrier_reset(b), 0);
		gone = waitpid(w, &st, WNOHANG) == w;
	}
	if (!gone)
		REQUIRE_EQ(waitpid(w, &st, 0), w);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101);

	/* A round broken by a reset stays broken for its waiter, whatever ends later rounds:
	 * the child waits, is stopped before it looks at its outcome, a reset breaks its
	 * round, a timeout the next; let go, it is told its round broke.  (Should it come late,
	 * it finds the barrier broken: told the same.) */
	CHECK_EQ(brg_barrier_reset(b), 0);
	w = barrier_child(name, 1, -1);
	struct timespec settle = {0, 200000000};
	nanosleep(&settle, NULL);
	kill(w, SIGSTOP);
	CHECK_EQ(brg_barrier_reset(b), 0);
	CHECK_EQ(brg_barrier_wait(b, 10), -ETIMEDOUT);
	kill(w, SIGCONT);
	REQUIRE_EQ(waitpid(w, &st, 0), w);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101);
	CHECK_EQ(brg_barrier_reset(b), 0);

	brg_lock *l = NULL;
	CHECK_EQ(brg_lock_open(&l, name), BRG_EWRONGKIND);
	CHECK_EQ(brg_barrier_wait(NULL, 0), -EINVAL);
	CHECK_EQ(brg_barrier_wait(b, -5), -EINVAL);
	brg_barrier_close(o);
	brg_barrier_close(b);
	brg_barrier_close(NULL);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* brg_barrier_wait_slice: a wait in slices stays arrived in its round between them, once. */
static void test_barrier_slices(void)
{
	const char *name = test_name("barrier-slices");
	brg_barrier *a = NULL, *b = NULL;
	REQUIRE_EQ(brg_barrier_create(&a, name, 2, NULL), 0);
	REQUIRE_EQ(brg_barrier_open(&b, name), 0);

	/* Slices that end first leave a arrived, once, and the round whole: b comes second. */
	CHECK_EQ(brg_barrier_wait_slice(a, 10), -EAGAIN);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_wait(b, 5000), 1);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), 0); /* and a learns its place */
	/* The next round: a arrives afresh; brg_barrier_wait goes on from a slice too. */
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_wait(b, 5000), 1);
	CHECK_EQ(brg_barrier_wait(a, 5000), 0);

	/* A reset, through another handle or a's own, breaks the pending round: a is told so
	 * once, then arrives afresh. */
	brg_barrier *resetters[] = {b, a};
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
		CHECK_EQ(brg_barrier_reset(resetters[i]), 0);
		CHECK_EQ(brg_barrier_wait_slice(a, 0), BRG_EBROKEN);
		CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
		CHECK_EQ(brg_barrier_wait(b, 5000), 1);
		CHECK_EQ(brg_barrier_wait_slice(a, 0), 0);
	}

	/* Abandoned, a pending wait is given up: its round broken, the barrier whole again, the
	 * next wait a new arrival.  Nothing pending, or its round over: nothing changes. */
	CHECK_EQ(brg_barrier_abandon(a), 0);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_abandon(a), 1);
	CHECK_EQ(brg_barrier_abandon(a), 0);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_wait(b, 5000), 1);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), 0);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_wait(b, 5000), 1); /* the round ends while a is between slices */
	CHECK_EQ(brg_barrier_abandon(a), 0);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN); /* not broken: a arrives afresh */
	CHECK_EQ(brg_barrier_wait(b, 5000), 1);
	CHECK_EQ(brg_barrier_wait_slice(a, 0), 0);

	/* brg_barrier_wait's timeout, after slices, breaks the round as ever. */
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	CHECK_EQ(brg_barrier_wait(a, 0), -ETIMEDOUT);
	CHECK_EQ(brg_barrier_wait(b, 0), BRG_EBROKEN);
	CHECK_EQ(brg_barrier_reset(a), 0);

	/* A forked child's copy of a handle with a wait pending is a member of its own and
	 * arrives afresh, completing the parent's round. */
	CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int r = brg_barrier_wait_slice(a, 20000);
		brg_barrier_close(a);
		_exit(r == 1 ? 0 : 100);
	}
	CHECK_EQ(brg_barrier_wait_slice(a, 20000), 0);
	test_reap_ok(pid, "a forked member");

	CHECK_EQ(brg_barrier_wait_slice(NULL, 0), -EINVAL);
	CHECK_EQ(brg_barrier_wait_slice(a, -1), -EINVAL);
	CHECK_EQ(brg_barrier_abandon(NULL), -EINVAL);
	brg_barrier_close(b);
	brg_barrier_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);

	/* The others in an abandoned round are told: a child waits in a round of three with
	 * the pending slice (abandoned until the child is told, as it may come late). */
	name = test_name("barrier-abandon");
	REQUIRE_EQ(brg_barrier_create(&a, name, 3, NULL), 0);
	pid_t w = barrier_child(name, 1, -1);
	struct timespec nap = {0, 20000000};
	int st = 0, gone = 0;
	for (int i = 0; i < 1000 && !gone; i++) {
		CHECK_EQ(brg_barrier_wait_slice(a, 0), -EAGAIN);
		nanosleep(&nap, NULL);
		CHECK(brg_barrier_abandon(a) == 1);
		gone = waitpid(w, &st, WNOHANG) == w;
	}
	if (!gone)
		REQUIRE_EQ(waitpid(w, &st, 0), w);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 101);
	brg_barrier_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

int main(void)
{
	test_init_pools();
	test_lock_calls();
	test_lock_fork_threads();
	test_lock_counter();
	test_event();
	test_barrier();
	test_barrier_slices();
	return test_done();
}
