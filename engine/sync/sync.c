/* SPDX-License-Identifier: MIT */
/* sync.c - named locks, events and barriers shared by processes (include/brigade.h, "Locks,
 * events and barriers").  Each is a small segment of its own kind whose data holds its state;
 * the creator fills the state in and publishes it last (ready), so an opener never takes a
 * half-made object for a whole one.
 *
 * Crash safety: the lock is a robust process-shared mutex, so a holder's death is the next
 * acquirer's BRG_EOWNERDEAD; an event is a word (nothing to hold); a barrier's state is
 * guarded by a robust mutex, and its members (open handles) are pids, so a waiter that looks
 * (every BARRIER_LOOK_NS) finds a dead member and breaks the barrier instead of hanging. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define READY 0x434e5953u /* "SYNC": the state is whole */
#define SPIN_NS 20000	  /* spin this long before sleeping on the futex */
#define BARRIER_LOOK_NS 20000000 /* a barrier waiter looks for dead members this often */

struct lock_state {
	uint32_t ready;
	int32_t holder; /* pid of the last acquirer; 0 once released */
	uint32_t pad;
	uint64_t holder_thread; /* and its pthread_self() */
	uint64_t acquired; /* acquisitions, for status */
	pthread_mutex_t m;
};

struct event_state {
	uint32_t ready;
	uint32_t set; /* the futex word: 0 or 1 */
};

struct member {
	int32_t pid;
	uint32_t used;
	uint64_t joined_ns;
};

struct barrier_state {
	uint32_t ready;
	uint32_t parties;
	uint32_t round;	  /* the futex word: one more at each round's end or break */
	uint32_t arrived; /* waits in this round so far */
	uint32_t broken;
	uint32_t broke_round; /* the round a break ended, valid once breaks > 0 */
	uint64_t breaks;
	pthread_mutex_t m;
	struct member member[BRG_BARRIER_MAX];
};

#define LOCK_BYTES 256
#define EVENT_BYTES 256
#define BARRIER_BYTES 8192
_Static_assert(sizeof(struct lock_state) <= LOCK_BYTES, "lock state");
_Static_assert(sizeof(struct event_state) <= EVENT_BYTES, "event state");
_Static_assert(sizeof(struct barrier_state) <= BARRIER_BYTES, "barrier state");

struct brg_lock {
	brg_array *seg;
	struct lock_state *s;
	int32_t pid;	  /* getpid() once: a syscall on every acquire costs more than the lock */
	pthread_t thread; /* the holder through this handle, when held */
	bool held;
};

struct brg_event {
	brg_array *seg;
	struct event_state *s;
};

struct brg_barrier {
	brg_array *seg;
	struct barrier_state *s;
	int slot; /* this handle's member slot */
};

static size_t kind_bytes(uint32_t kind)
{
	return kind == BRG_KIND_LOCK ? LOCK_BYTES : kind == BRG_KIND_EVENT ? EVENT_BYTES
									  : BARRIER_BYTES;
}

static int make(brg_array **seg, const char *name, const brg_array_opts *opts, uint32_t kind)
{
	if (!seg || !name)
		return -EINVAL;
	size_t bytes = kind_bytes(kind);
	return brg__segment_create(seg, name, BRG_U8, 1, &bytes, opts, kind);
}

/* Opens a segment of this kind whose state is whole: its data, or NULL with *err. */
static void *attach(brg_array **seg, const char *name, uint32_t kind, int *err)
{
	*seg = NULL;
	if (!name) {
		*err = -EINVAL;
		return NULL;
	}
	int r = brg__segment_open(seg, name, BRG_OPEN_WRITE, -1);
	if (r) {
		*err = r;
		return NULL;
	}
	r = (*seg)->meta.kind != kind ? BRG_EWRONGKIND
	    : (*seg)->meta.lay.dtype != BRG_U8 || (*seg)->meta.lay.nbytes != kind_bytes(kind)
		? BRG_EMISMATCH
	    : __atomic_load_n((uint32_t *)(*seg)->data, __ATOMIC_ACQUIRE) != READY
		? BRG_EINCOMPLETE
		: 0;
	if (r) {
		brg_array_close(*seg);
		*seg = NULL;
		*err = r;
		return NULL;
	}
	return (*seg)->data;
}

static void publish(uint32_t *ready)
{
	__atomic_store_n(ready, READY, __ATOMIC_RELEASE);
}

static int robust_init(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t ma;
	int r = pthread_mutexattr_init(&ma);
	if (r)
		return -r;
	r = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!r)
		r = pthread_mutexattr_settype(&ma, type);
	if (!r)
		r = pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
	return -r;
}

/* An absolute CLOCK_REALTIME deadline timeout_ms from now (pthread_mutex_timedlock's). */
static struct timespec deadline_rt(int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* ---- locks ---- */

int brg_lock_create(brg_lock **out, const char *name, const brg_array_opts *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	brg_lock *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	int r = make(&l->seg, name, opts, BRG_KIND_LOCK);
	if (r) {
		free(l);
		return r;
	}
	l->s = l->seg->data;
	l->pid = (int32_t)getpid();
	if ((r = robust_init(&l->s->m, PTHREAD_MUTEX_ERRORCHECK))) {
		brg_segment_unlink(name);
		brg_array_close(l->seg);
		free(l);
		return r;
	}
	publish(&l->s->ready);
	*out = l;
	return 0;
}

int brg_lock_open(brg_lock **out, const char *name)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	brg_lock *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	int r = 0;
	if (!(l->s = attach(&l->seg, name, BRG_KIND_LOCK, &r))) {
		free(l);
		return r;
	}
	l->pid = (int32_t)getpid();
	*out = l;
	return 0;
}

int brg_lock_acquire(brg_lock *l, int timeout_ms)
{
	if (!l || timeout_ms < -1)
		return -EINVAL;
	/* A robust mutex sleeps at once when contended; a holder usually lets go within a few
	 * microseconds, so look again for SPIN_NS first (a sleep and a wake cost more). */
	int r = pthread_mutex_trylock(&l->s->m);
	if (r == EBUSY && __atomic_load_n(&l->s->holder, __ATOMIC_RELAXED) == l->pid &&
	    __atomic_load_n(&l->s->holder_thread, __ATOMIC_RELAXED) == (uint64_t)pthread_self())
		return -EDEADLK; /* this thread holds it, through this handle or another */
	for (uint64_t t0 = 0; r == EBUSY && timeout_ms != 0;) {
		uint64_t now = brg__mono_ns();
		if (!t0)
			t0 = now;
		else if (now - t0 >= SPIN_NS)
			break;
		for (int i = 0; i < 32; i++)
			brg__cpu_relax();
		r = pthread_mutex_trylock(&l->s->m);
	}
	if (r != EBUSY) {
		/* taken, or an answer: EOWNERDEAD, EDEADLK */
	} else if (timeout_ms == 0) {
		r = ETIMEDOUT;
	} else if (timeout_ms < 0) {
		r = pthread_mutex_lock(&l->s->m);
	} else {
		struct timespec ts = deadline_rt(timeout_ms);
		r = pthread_mutex_timedlock(&l->s->m, &ts);
	}
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&l->s->m);
		r = BRG_EOWNERDEAD;
	} else if (r) {
		return -r;
	}
	l->s->holder = l->pid;
	l->s->holder_thread = (uint64_t)pthread_self();
	l->s->acquired++;
	l->thread = pthread_self();
	l->held = true;
	return r;
}

int brg_lock_release(brg_lock *l)
{
	if (!l)
		return -EINVAL;
	/* An error-checking mutex: only its owner thread may unlock it. */
	int32_t was = l->s->holder;
	bool mine = l->held && pthread_equal(l->thread, pthread_self());
	uint64_t was_thread = l->s->holder_thread;
	if (mine) {
		l->s->holder = 0;
		l->s->holder_thread = 0;
	}
	int r = pthread_mutex_unlock(&l->s->m);
	if (r) {
		if (mine) {
			l->s->holder = was;
			l->s->holder_thread = was_thread;
		}
		return -r;
	}
	l->held = false;
	return 0;
}

int brg_lock_holder(const brg_lock *l)
{
	return l ? __atomic_load_n(&l->s->holder, __ATOMIC_RELAXED) : -EINVAL;
}

void brg_lock_close(brg_lock *l)
{
	if (!l)
		return;
	/* A held mutex stays on this thread's robust list: it must not outlive the mapping. */
	if (l->held && pthread_equal(l->thread, pthread_self()))
		brg_lock_release(l);
	brg_array_close(l->seg);
	free(l);
}

/* ---- events ---- */

int brg_event_create(brg_event **out, const char *name, int set, const brg_array_opts *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (set != 0 && set != 1)
		return -EINVAL;
	brg_event *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	int r = make(&e->seg, name, opts, BRG_KIND_EVENT);
	if (r) {
		free(e);
		return r;
	}
	e->s = e->seg->data;
	e->s->set = (uint32_t)set;
	publish(&e->s->ready);
	*out = e;
	return 0;
}

int brg_event_open(brg_event **out, const char *name)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	brg_event *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	int r = 0;
	if (!(e->s = attach(&e->seg, name, BRG_KIND_EVENT, &r))) {
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

int brg_event_set(brg_event *e)
{
	if (!e)
		return -EINVAL;
	if (__atomic_exchange_n(&e->s->set, 1, __ATOMIC_SEQ_CST) == 0)
		brg__futex_wake(&e->s->set, INT32_MAX);
	return 0;
}

int brg_event_clear(brg_event *e)
{
	if (!e)
		return -EINVAL;
	__atomic_store_n(&e->s->set, 0, __ATOMIC_SEQ_CST);
	return 0;
}

int brg_event_is_set(const brg_event *e)
{
	return e ? (int)__atomic_load_n(&e->s->set, __ATOMIC_ACQUIRE) : -EINVAL;
}

int brg_event_wait(brg_event *e, int timeout_ms)
{
	if (!e || timeout_ms < -1)
		return -EINVAL;
	uint64_t t0 = brg__mono_ns(), end = timeout_ms < 0 ? UINT64_MAX
							    : t0 + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		if (__atomic_load_n(&e->s->set, __ATOMIC_ACQUIRE))
			return 0;
		uint64_t now = brg__mono_ns();
		if (now >= end)
			return -ETIMEDOUT;
		if (now - t0 < SPIN_NS) {
			brg__cpu_relax();
			continue;
		}
		int r = brg__futex_wait(&e->s->set, 0,
					end == UINT64_MAX ? -1 : (int64_t)(end - now));
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

void brg_event_close(brg_event *e)
{
	if (!e)
		return;
	brg_array_close(e->seg);
	free(e);
}

/* ---- barriers ---- */

/* Takes the barrier's mutex; a holder that died leaves the state as it was between two
 * whole steps (every step below is made whole before the unlock), so only the barrier is
 * broken: the dead one was a member. */
static void barrier_lock(struct barrier_state *s);

/* Breaks the round in progress: its waiters wake and see it broken.  Mutex held. */
static void barrier_break(struct barrier_state *s)
{
	s->broken = 1;
	s->broke_round = s->round;
	s->breaks++;
	s->arrived = 0;
	__atomic_store_n(&s->round, s->round + 1, __ATOMIC_RELEASE);
	brg__futex_wake(&s->round, INT32_MAX);
}

static void barrier_lock(struct barrier_state *s)
{
	if (pthread_mutex_lock(&s->m) == EOWNERDEAD) {
		pthread_mutex_consistent(&s->m);
		if (!s->broken)
			barrier_break(s);
	}
}

/* Frees the slots of dead members; 1 when there were any.  Mutex held. */
static int barrier_reap(struct barrier_state *s)
{
	int dead = 0;
	for (int i = 0; i < BRG_BARRIER_MAX; i++)
		if (s->member[i].used && !brg__pid_alive(s->member[i].pid, s->member[i].joined_ns)) {
			s->member[i].used = 0;
			dead = 1;
		}
	return dead;
}

/* Joins as a member: the slot, or -EMFILE.  Mutex held. */
static int barrier_join(struct barrier_state *s)
{
	if (barrier_reap(s) && !s->broken)
		barrier_break(s);
	for (int i = 0; i < BRG_BARRIER_MAX; i++)
		if (!s->member[i].used) {
			s->member[i].pid = (int32_t)getpid();
			s->member[i].joined_ns = brg__now_ns();
			s->member[i].used = 1;
			return i;
		}
	return -EMFILE;
}

int brg_barrier_create(brg_barrier **out, const char *name, int parties,
		       const brg_array_opts *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (parties < 1 || parties > BRG_BARRIER_MAX)
		return -EINVAL;
	brg_barrier *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	int r = make(&b->seg, name, opts, BRG_KIND_BARRIER);
	if (r) {
		free(b);
		return r;
	}
	b->s = b->seg->data;
	b->s->parties = (uint32_t)parties;
	if ((r = robust_init(&b->s->m, PTHREAD_MUTEX_NORMAL))) {
		brg_segment_unlink(name);
		brg_array_close(b->seg);
		free(b);
		return r;
	}
	b->slot = barrier_join(b->s); /* the first: a free slot */
	publish(&b->s->ready);
	*out = b;
	return 0;
}

int brg_barrier_open(brg_barrier **out, const char *name)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	brg_barrier *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	int r = 0;
	if (!(b->s = attach(&b->seg, name, BRG_KIND_BARRIER, &r)) ||
	    (b->s->parties < 1 || b->s->parties > BRG_BARRIER_MAX ? (r = BRG_EMISMATCH) : 0)) {
		brg_array_close(b->seg);
		free(b);
		return r;
	}
	barrier_lock(b->s);
	r = b->slot = barrier_join(b->s);
	pthread_mutex_unlock(&b->s->m);
	if (r < 0) {
		brg_array_close(b->seg);
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

int brg_barrier_wait(brg_barrier *b, int timeout_ms)
{
	if (!b || timeout_ms < -1)
		return -EINVAL;
	struct barrier_state *s = b->s;
	barrier_lock(s);
	if (s->broken) {
		pthread_mutex_unlock(&s->m);
		return BRG_EBROKEN;
	}
	int idx = (int)s->arrived++;
	uint32_t round = s->round;
	if (s->arrived == s->parties) {
		s->arrived = 0;
		__atomic_store_n(&s->round, round + 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->m);
		brg__futex_wake(&s->round, INT32_MAX);
		return idx;
	}
	pthread_mutex_unlock(&s->m);

	uint64_t t0 = brg__mono_ns(), look = t0 + BARRIER_LOOK_NS;
	uint64_t end = timeout_ms < 0 ? UINT64_MAX : t0 + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		if (__atomic_load_n(&s->round, __ATOMIC_ACQUIRE) != round) {
			/* Ended or broken: a break of this round wrote broke_round before the round
			 * moved on; a later break names a later round. */
			barrier_lock(s);
			int broke = s->breaks && s->broke_round == round;
			pthread_mutex_unlock(&s->m);
			return broke ? BRG_EBROKEN : idx;
		}
		uint64_t now = brg__mono_ns();
		if (now >= look || now >= end) {
			barrier_lock(s);
			int gone = s->round != round;
			if (!gone && (barrier_reap(s) || now >= end))
				barrier_break(s);
			pthread_mutex_unlock(&s->m);
			if (!gone && now >= end)
				return -ETIMEDOUT;
			look = now + BARRIER_LOOK_NS;
			continue;
		}
		if (now - t0 < SPIN_NS) {
			brg__cpu_relax();
			continue;
		}
		uint64_t until = look < end ? look : end;
		int r = brg__futex_wait(&s->round, round, (int64_t)(until - now));
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

int brg_barrier_reset(brg_barrier *b)
{
	if (!b)
		return -EINVAL;
	barrier_lock(b->s);
	if (!b->s->broken && b->s->arrived)
		barrier_break(b->s);
	barrier_reap(b->s); /* the dead are no longer members: they would break it again */
	b->s->broken = 0;
	b->s->arrived = 0;
	pthread_mutex_unlock(&b->s->m);
	return 0;
}

int brg_barrier_parties(const brg_barrier *b)
{
	return b ? (int)b->s->parties : -EINVAL;
}

void brg_barrier_close(brg_barrier *b)
{
	if (!b)
		return;
	barrier_lock(b->s);
	if (b->slot >= 0 && b->s->member[b->slot].pid == (int32_t)getpid())
		b->s->member[b->slot].used = 0;
	pthread_mutex_unlock(&b->s->m);
	brg_array_close(b->seg);
	free(b);
}
