/* SPDX-License-Identifier: MIT */
/* test_stream.c - streams across processes: every frame delivered once (queue) or to every
 * subscriber (broadcast), whole and in order; a full ring blocks or overwrites as asked; and
 * a party killed holding a loan or a frame costs nobody a frame or a hang. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

#define FRAME 16 /* int64 per frame: every element carries the frame's value */

static const size_t frame_shape[1] = {FRAME};

static int frame_fill(brg_frame *f, int64_t v)
{
	int64_t *d = f->data;
	for (int i = 0; i < FRAME; i++)
		d[i] = v;
	return 0;
}

/* The frame's value, or -1 when torn (its elements disagree). */
static int64_t frame_value(const brg_frame *f)
{
	const int64_t *d = f->data;
	for (int i = 1; i < FRAME; i++)
		if (d[i] != d[0])
			return -1;
	return d[0];
}

/* Loans a frame, fills it with v, publishes it. */
static void put(brg_stream *s, int64_t v, int timeout_ms)
{
	brg_frame f;
	REQUIRE_EQ(brg_stream_loan(s, &f, timeout_ms), 0);
	frame_fill(&f, v);
	REQUIRE_EQ(brg_stream_publish(s, &f), 0);
}

static pid_t produce(const char *name, int64_t first, int n)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid)
		return pid;
	brg_stream *s = NULL;
	if (brg_stream_open(&s, name, 0))
		_exit(1);
	for (int i = 0; i < n; i++) {
		brg_frame f;
		if (brg_stream_loan(s, &f, 20000) || frame_fill(&f, first + i) ||
		    brg_stream_publish(s, &f))
			_exit(2);
	}
	brg_stream_close(s);
	_exit(0);
}

static void test_calls(void)
{
	const char *name = test_name("st-calls");
	brg_stream *s = NULL, *o = NULL;
	CHECK_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 0, BRG_STREAM_QUEUE,
				   BRG_STREAM_BLOCK, NULL), -EINVAL);
	CHECK_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_QUEUE,
				   BRG_STREAM_OVERWRITE, NULL), -EINVAL);
	CHECK_EQ(brg_stream_create(&s, name, BRG_I64, 0, frame_shape, 4, BRG_STREAM_QUEUE,
				   BRG_STREAM_BLOCK, NULL), -EINVAL);
	char longname[BRG_NAME_MAX + 1];
	memset(longname, 's', BRG_NAME_MAX - 3);
	longname[BRG_NAME_MAX - 3] = 0;
	CHECK_EQ(brg_stream_create(&s, longname, BRG_I64, 1, frame_shape, 4, BRG_STREAM_QUEUE,
				   BRG_STREAM_BLOCK, NULL), BRG_EBADNAME);
	CHECK(s == NULL);
	REQUIRE_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_QUEUE,
				     BRG_STREAM_BLOCK, NULL), 0);
	CHECK_EQ(brg_stream_create(&o, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_QUEUE,
				   BRG_STREAM_BLOCK, NULL), -EEXIST);
	CHECK_EQ(brg_stream_open(&o, name, BRG_STREAM_SUBSCRIBE), -EINVAL); /* queue */
	CHECK_EQ(brg_stream_open(&o, name, 0x80), BRG_EBADFLAGS);
	CHECK_EQ(brg_stream_open(&o, test_name("st-none"), 0), -ENOENT);
	REQUIRE_EQ(brg_stream_open(&o, name, 0), 0);
	/* The ring is an array anyone can open: (slots, *frame). */
	brg_array *ring = brg_stream_ring(o);
	CHECK_EQ(brg_array_ndim(ring), 2);
	CHECK_EQ(brg_array_shape(ring)[0], 4);
	CHECK_EQ(brg_array_shape(ring)[1], FRAME);
	brg_frame f, g;
	CHECK_EQ(brg_stream_receive(o, &f, 0), -ETIMEDOUT);
	CHECK_EQ(brg_stream_receive(o, &f, 20), -ETIMEDOUT);
	REQUIRE_EQ(brg_stream_loan(s, &f, 0), 0);
	CHECK_EQ(f.seq, 0);
	frame_fill(&f, 7);
	CHECK_EQ(brg_stream_publish(o, &f), -EINVAL); /* not this handle's loan */
	CHECK_EQ(brg_stream_publish(s, &f), 0);
	CHECK_EQ(f.seq, 1);
	CHECK_EQ(brg_stream_publish(s, &f), -EINVAL); /* published already */
	REQUIRE_EQ(brg_stream_receive(o, &g, 0), 0);
	CHECK_EQ(g.seq, 1);
	CHECK_EQ(g.slot, f.slot);
	CHECK_EQ(frame_value(&g), 7);
	CHECK((int64_t *)brg_array_data(ring) + FRAME * g.slot == g.data);
	CHECK_EQ(brg_stream_release(s, &g), -EINVAL); /* not this handle's */
	CHECK_EQ(brg_stream_release(o, &g), 0);
	CHECK_EQ(brg_stream_release(o, &g), -EINVAL);
	/* Full: a loan waits, then times out. */
	brg_frame l[4];
	for (int i = 0; i < 4; i++)
		CHECK_EQ(brg_stream_loan(s, &l[i], 0), 0);
	CHECK_EQ(brg_stream_loan(s, &f, 0), -ETIMEDOUT);
	CHECK_EQ(brg_stream_loan(s, &f, 30), -ETIMEDOUT);
	brg_stream_close(s); /* its loans go back */
	CHECK_EQ(brg_stream_loan(o, &f, 0), 0);
	brg_lock *lk = NULL;
	CHECK_EQ(brg_lock_open(&lk, name), BRG_EWRONGKIND); /* the ring is an array */
	brg_stream_close(o);
	brg_stream_close(NULL);
	CHECK_EQ(brg_stream_unlink(name), 0);
	CHECK_EQ(brg_stream_unlink(name), -ENOENT);
}

/* Queue: two producers, three consumers; each frame received once, whole, and a consumer
 * killed holding a frame costs nothing: the frame is received again by another. */
static void test_queue(void)
{
	enum { N = 3000, CONSUMERS = 3 };
	const char *name = test_name("st-queue"), *seen_name = test_name("st-queue-seen");
	brg_stream *s = NULL;
	REQUIRE_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 8, BRG_STREAM_QUEUE,
				     BRG_STREAM_BLOCK, NULL), 0);
	brg_array *seen = NULL;
	size_t n = 2 * N + 2;
	REQUIRE_EQ(brg_array_create(&seen, seen_name, BRG_I64, 1, &n, NULL), 0);
	int64_t *cnt = brg_array_data(seen); /* [v]: times value v was received; [2N]: total */

	/* A consumer that dies holding a frame, before the others start. */
	pid_t p0 = produce(name, 2 * N, 1);
	test_reap_ok(p0, "the first producer");
	pid_t victim = fork();
	REQUIRE(victim >= 0);
	if (victim == 0) {
		brg_stream *c = NULL;
		brg_frame f;
		if (brg_stream_open(&c, name, 0) || brg_stream_receive(c, &f, 20000))
			_exit(1);
		raise(SIGKILL);
	}
	test_reap_killed(victim);

	pid_t prod[2] = {produce(name, 0, N), produce(name, N, N)};
	pid_t cons[CONSUMERS];
	for (int c = 0; c < CONSUMERS; c++) {
		REQUIRE((cons[c] = fork()) >= 0);
		if (cons[c])
			continue;
		brg_stream *h = NULL;
		brg_array *a = NULL;
		if (brg_stream_open(&h, name, 0) || brg_array_open(&a, seen_name, BRG_OPEN_WRITE))
			_exit(1);
		int64_t total = 0;
		int idle = 0; /* 50 ms turns with nothing: a frame lost would leave us here */
		while (brg_atomic_load(a, 2 * N + 1, &total) == 0 && total < 2 * N + 1) {
			brg_frame f;
			int r = brg_stream_receive(h, &f, 50);
			if (r == -ETIMEDOUT && ++idle < 200)
				continue;
			idle = 0;
			int64_t v = frame_value(&f);
			if (r || v < 0 || v > 2 * N)
				_exit(2);
			brg_atomic_fetch_add(a, (size_t)v, 1, NULL);
			if (brg_stream_release(h, &f))
				_exit(3);
			brg_atomic_fetch_add(a, 2 * N + 1, 1, NULL);
		}
		brg_stream_close(h);
		brg_array_close(a);
		_exit(0);
	}
	test_reap_ok(prod[0], "a producer");
	test_reap_ok(prod[1], "a producer");
	for (int c = 0; c < CONSUMERS; c++)
		test_reap_ok(cons[c], "a consumer");
	size_t wrong = 0;
	for (int v = 0; v <= 2 * N; v++)
		wrong += cnt[v] != 1;
	CHECK_EQ(wrong, 0);
	CHECK_EQ(cnt[2 * N + 1], 2 * N + 1);
	brg_frame f;
	CHECK_EQ(brg_stream_receive(s, &f, 0), -ETIMEDOUT); /* nothing left over */

	/* A producer killed holding every slot: they come back, a loan waits no longer. */
	pid_t hog = fork();
	REQUIRE(hog >= 0);
	if (hog == 0) {
		brg_stream *h = NULL;
		brg_frame g;
		if (brg_stream_open(&h, name, 0))
			_exit(1);
		for (int i = 0; i < 8; i++)
			if (brg_stream_loan(h, &g, 0))
				_exit(2);
		raise(SIGKILL);
	}
	test_reap_killed(hog);
	CHECK_EQ(brg_stream_loan(s, &f, 5000), 0);
	brg_stream_close(s);
	test_array_drop(seen);
	CHECK_EQ(brg_stream_unlink(name), 0);
}

/* A subscriber: receives until it has seen `until` (a seq), checking order and wholeness;
 * exits 0, or 10 + what went wrong; dies holding frame die_at. */
static pid_t subscriber(const char *name, uint64_t until, int die_at)
{
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid)
		return pid;
	brg_stream *h = NULL;
	if (brg_stream_open(&h, name, BRG_STREAM_SUBSCRIBE))
		_exit(10);
	uint64_t last = 1; /* frame 1 went out before anyone subscribed */
	for (;;) {
		brg_frame f;
		int r = brg_stream_receive(h, &f, 20000);
		if (r)
			_exit(11);
		if (f.seq != last + 1 || f.lost || frame_value(&f) != (int64_t)f.seq)
			_exit(12);
		last = f.seq;
		if ((int)f.seq == die_at)
			raise(SIGKILL); /* holding it */
		if (brg_stream_release(h, &f))
			_exit(13);
		if (f.seq == until)
			break;
	}
	brg_stream_close(h);
	_exit(0);
}

static void test_broadcast(void)
{
	enum { N = 2000 };
	const char *name = test_name("st-bcast");
	brg_stream *s = NULL, *me = NULL;
	REQUIRE_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_BROADCAST,
				     BRG_STREAM_BLOCK, NULL), 0);
	brg_frame f;
	CHECK_EQ(brg_stream_receive(s, &f, 0), -EINVAL); /* not a subscriber */
	/* Published to nobody: dropped, nobody owed it. */
	REQUIRE_EQ(brg_stream_loan(s, &f, 0), 0);
	CHECK_EQ(brg_stream_publish(s, &f), 0);
	REQUIRE_EQ(brg_stream_open(&me, name, BRG_STREAM_SUBSCRIBE), 0);
	/* Two subscribers see every frame, in order, whole; a third dies holding frame 100;
	 * the producer is held back by the slowest, never by the dead. */
	pid_t a = subscriber(name, N + 1, -1), b = subscriber(name, N + 1, -1);
	pid_t dead = subscriber(name, N + 1, 100);
	struct timespec nap = {0, 200000000};
	nanosleep(&nap, NULL); /* subscribed */
	brg_stream_close(me);  /* a subscriber that leaves is owed nothing */
	for (int i = 0; i < N; i++) {
		REQUIRE_EQ(brg_stream_loan(s, &f, 20000), 0);
		frame_fill(&f, i + 2); /* seq: frame 1 went to nobody */
		REQUIRE_EQ(brg_stream_publish(s, &f), 0);
		CHECK_EQ(f.seq, (uint64_t)i + 2);
	}
	test_reap_ok(a, "a subscriber");
	test_reap_ok(b, "a subscriber");
	test_reap_killed(dead);
	brg_stream_close(s);
	CHECK_EQ(brg_stream_unlink(name), 0);

	/* Overwrite: a subscriber that does not keep up loses frames, and is told how many;
	 * the producer never waits. */
	name = test_name("st-over");
	REQUIRE_EQ(brg_stream_create(&s, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_BROADCAST,
				     BRG_STREAM_OVERWRITE, NULL), 0);
	REQUIRE_EQ(brg_stream_open(&me, name, BRG_STREAM_SUBSCRIBE), 0);
	for (int i = 1; i <= 100; i++) {
		put(s, i, 0);
	}
	uint64_t got = 0, lost = 0, last = 0;
	brg_frame g;
	while (brg_stream_receive(me, &g, 0) == 0) {
		CHECK(g.seq > last);
		CHECK_EQ(g.lost, g.seq - last - 1);
		CHECK_EQ(frame_value(&g), (int64_t)g.seq);
		last = g.seq;
		got++;
		lost += g.lost;
		CHECK_EQ(brg_stream_release(me, &g), 0);
	}
	CHECK_EQ(got, 4);
	CHECK_EQ(lost, 96);
	CHECK_EQ(last, 100);
	/* A frame being read is not overwritten: hold one, fill the ring around it. */
	put(s, 101, 0);
	REQUIRE_EQ(brg_stream_receive(me, &g, 0), 0);
	for (int i = 102; i <= 120; i++) {
		REQUIRE_EQ(brg_stream_loan(s, &f, 0), 0);
		CHECK(f.slot != g.slot);
		frame_fill(&f, i);
		REQUIRE_EQ(brg_stream_publish(s, &f), 0);
	}
	CHECK_EQ(frame_value(&g), 101);
	CHECK_EQ(brg_stream_release(me, &g), 0);
	brg_stream_close(me);
	brg_stream_close(s);
	CHECK_EQ(brg_stream_unlink(name), 0);
}

/* What a review found: an overwriting producer waits only as long as someone reads the
 * frame it needs; a handle inherited by fork is the child's (its frame given back when it
 * dies); polls with short timeouts still get back what the dead held. */
static void test_edges(void)
{
	const char *name = test_name("st-edge");
	brg_stream *p = NULL, *a = NULL, *b = NULL;
	REQUIRE_EQ(brg_stream_create(&p, name, BRG_I64, 1, frame_shape, 1, BRG_STREAM_BROADCAST,
				     BRG_STREAM_OVERWRITE, NULL), 0);
	REQUIRE_EQ(brg_stream_open(&a, name, BRG_STREAM_SUBSCRIBE), 0);
	REQUIRE_EQ(brg_stream_open(&b, name, BRG_STREAM_SUBSCRIBE), 0);
	brg_frame g;
	put(p, 1, 0);
	REQUIRE_EQ(brg_stream_receive(a, &g, 0), 0); /* a reads it; b never will */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) { /* the producer: waits while a reads, no longer */
		brg_frame h;
		_exit(brg_stream_loan(p, &h, 5000) == 0 ? 0 : 1);
	}
	struct timespec nap = {0, 50000000};
	nanosleep(&nap, NULL);
	CHECK_EQ(brg_stream_release(a, &g), 0);
	test_reap_ok(pid, "an overwriting producer");
	brg_stream_close(a);
	brg_stream_close(b);
	brg_stream_close(p);
	CHECK_EQ(brg_stream_unlink(name), 0);

	name = test_name("st-edge-q");
	REQUIRE_EQ(brg_stream_create(&p, name, BRG_I64, 1, frame_shape, 2, BRG_STREAM_QUEUE,
				     BRG_STREAM_BLOCK, NULL), 0);
	put(p, 42, 0);
	pid = fork(); /* receives through the handle it inherited, dies holding the frame */
	REQUIRE(pid >= 0);
	if (pid == 0) {
		brg_frame h;
		if (brg_stream_receive(p, &h, 5000))
			_exit(1);
		raise(SIGKILL);
	}
	test_reap_killed(pid);
	int got = 0;
	for (int i = 0; i < 200 && !got; i++) { /* polls, each shorter than a look's period */
		got = brg_stream_receive(p, &g, 0) == 0;
		if (!got)
			nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
	CHECK(got);
	if (got) {
		CHECK_EQ(frame_value(&g), 42);
		CHECK_EQ(g.seq, 1); /* the same frame, received again */
		CHECK_EQ(brg_stream_release(p, &g), 0);
	}
	brg_stream_close(p);
	CHECK_EQ(brg_stream_unlink(name), 0);
}

/* brg_stream_status of a queue: each consumer that has received is listed (its process, the
 * frames that wait for any consumer, the frames its handle holds) until it closes or dies. */
static void test_queue_status(void)
{
	const char *name = test_name("st-qstat");
	brg_stream *p = NULL, *c1 = NULL, *c2 = NULL;
	REQUIRE_EQ(brg_stream_create(&p, name, BRG_I64, 1, frame_shape, 4, BRG_STREAM_QUEUE,
				     BRG_STREAM_BLOCK, NULL), 0);
	for (int i = 0; i < 3; i++)
		put(p, i, 0);
	REQUIRE_EQ(brg_stream_open(&c1, name, 0), 0);
	REQUIRE_EQ(brg_stream_open(&c2, name, 0), 0);
	brg_stream_info in = {.size = sizeof in};
	brg_stream_subscriber u[4];
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 0); /* none received yet */
	CHECK_EQ(in.ready, 3);
	brg_frame f1, f2, f;
	REQUIRE_EQ(brg_stream_receive(c1, &f1, 0), 0);
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 1);
	CHECK_EQ(u[0].pid, (int)getpid());
	CHECK_EQ(u[0].alive, 1);
	CHECK_EQ(u[0].lag, 2);
	CHECK_EQ(u[0].reading, 1);
	CHECK_EQ(in.subscribers, 1);
	REQUIRE_EQ(brg_stream_receive(c2, &f2, 0), 0);
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 2);
	CHECK(u[0].lag == 1 && u[1].lag == 1 && u[0].reading == 1 && u[1].reading == 1);
	CHECK_EQ(brg_stream_release(c1, &f1), 0);
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 2);
	CHECK_EQ(u[0].reading + u[1].reading, 1);
	brg_stream_close(c2); /* its frame goes back, its listing too */
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 1);
	CHECK_EQ(in.ready, 2);
	CHECK_EQ(u[0].lag, 2);

	/* A handle inherited by fork is listed once, as the child's, from its first receive,
	 * and no longer once the child closes it. */
	pid_t kid = fork();
	REQUIRE(kid >= 0);
	if (kid == 0) {
		int ok = brg_stream_receive(c1, &f, 0) == 0 &&
			 brg_stream_status(name, NULL, NULL, 0, 0) == 2;
		brg_stream_close(c1);
		_exit(ok && brg_stream_status(name, NULL, NULL, 0, 0) == 1 ? 0 : 1);
	}
	test_reap_ok(kid, "a child consuming through an inherited handle");
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 1);
	CHECK_EQ(in.ready, 2);

	/* A consumer killed holding a frame: listed as dead, then dropped by a waiter's look,
	 * its frame received again. */
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		brg_stream *c = NULL;
		if (brg_stream_open(&c, name, 0) || brg_stream_receive(c, &f, 0))
			_exit(1);
		raise(SIGKILL);
	}
	test_reap_killed(pid);
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 2);
	CHECK(u[1].pid == pid && !u[1].alive && u[1].reading == 1);
	int64_t got = 0;
	while (brg_stream_receive(c1, &f, 200) == 0) { /* waits: a waiter looks for the dead */
		got += 1;
		CHECK_EQ(brg_stream_release(c1, &f), 0);
	}
	CHECK_EQ(got, 2);
	CHECK_EQ(brg_stream_status(name, &in, u, sizeof u[0], 4), 1);
	CHECK_EQ(u[0].pid, (int)getpid());
	CHECK_EQ(in.reclaimed, 1);
	brg_stream_close(c1);
	CHECK_EQ(brg_stream_status(name, &in, NULL, 0, 0), 0);
	brg_stream_close(p);
	CHECK_EQ(brg_stream_unlink(name), 0);
}

int main(void)
{
	test_init_pools();
	test_calls();
	test_queue();
	test_queue_status();
	test_broadcast();
	test_edges();
	return test_done();
}
