/* SPDX-License-Identifier: MIT */
/* sync.c - named locks, events and barriers shared by processes (include/brigade.h, "Locks,
 * events and barriers").  Each is a small segment of its own kind whose data holds its state;
 * the creator fills the state in and publishes it last (ready), so an opener never takes a
 * half-made object for a whole one.
 *
 * Crash safety: the lock is a robust process-shared mutex, so a holder's death is the next
 * acquirer's BRG_EOWNERDEAD; an event is a word (nothing to hold); a barrier's state is
 * guarded by a robust mutex, and its members (open handles) are pids, so a waiter that looks
 * (every BRG__LOOK_NS) finds a dead member and breaks the barrier instead of hanging. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define READY 0x434e5953u /* "SYNC": the state is whole */
#define FAULT() BRG__SYNC_FAULT() /* a step where a test build may be killed */

struct lock_state {
	uint32_t ready;
	int32_t holder; /* pid of the holder; 0 once released (a dead holder's stays) */
	uint64_t holder_thread; /* its pthread_self() */
	uint64_t holder_tok;	/* the handle (so the mapping) it took the lock through */
	uint64_t acquired; /* acquisitions, for status */
	pthread_mutex_t m;
};

struct event_state {
	uint32_t ready;
	uint32_t word; /* the futex word: a count of sets << 1 | set now */
};

struct member {
	int32_t pid;
	uint32_t used;
	uint64_t joined_ns; /* CLOCK_BOOTTIME (brg__pid_alive_since) */
	uint32_t waiting; /* in a round, its outcome not yet known */
	int32_t result;	  /* the outcome of its last wait: 1 the round ended, BRG_EBROKEN */
};

struct barrier_state {
	uint32_t ready;
	uint32_t parties;
	uint32_t round;	  /* the futex word: one more at each round's end or break */
	uint32_t arrived; /* waits in this round so far */
	uint32_t broken;
	uint32_t pad;
	uint64_t next_look; /* CLOCK_MONOTONIC: when a waiter next looks for dead members */
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
	uint64_t tok; /* this handle, as the lock's record names it */
};

struct brg_event {
	brg_array *seg;
	struct event_state *s;
};

struct brg_barrier {
	brg_array *seg;
	struct barrier_state *s;
	int slot; /* this handle's member slot */
	/* A wait left in its round by brg_barrier_wait_slice: where it arrived, for the next
	 * wait through this handle, in this process, as this member, to go on with. */
	int pending;
	int pend_idx;
	int pend_slot;
	uint32_t pend_round;
	int32_t pend_pid;
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

/* An absolute CLOCK_MONOTONIC deadline timeout_ms from now (pthread_mutex_clocklock's: a
 * step of the wall clock does not change it). */
static struct timespec deadline_mono(int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
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
	l->tok = brg__token();
	if ((r = brg__robust_mutex_init(&l->s->m, PTHREAD_MUTEX_ERRORCHECK))) {
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
	l->tok = brg__token();
	*out = l;
	return 0;
}

int brg_lock_acquire(brg_lock *l, int timeout_ms)
{
	if (!l || timeout_ms < -1)
		return -EINVAL;
	/* A robust mutex sleeps at once when contended; a holder usually lets go within a few
	 * microseconds, so look again for BRG__SPIN_NS first (a sleep and a wake cost more).  The
	 * mutex checks errors: a thread that holds it gets EDEADLK, not a hang. */
	int r = pthread_mutex_trylock(&l->s->m);
	for (uint64_t t0 = 0; r == EBUSY && timeout_ms != 0;) {
		uint64_t now = brg__mono_ns();
		if (!t0)
			t0 = now;
		else if (now - t0 >= BRG__SPIN_NS)
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
		struct timespec ts = deadline_mono(timeout_ms);
		r = pthread_mutex_clocklock(&l->s->m, CLOCK_MONOTONIC, &ts);
	}
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&l->s->m);
		r = BRG_EOWNERDEAD;
	} else if (r) {
		return -r;
	}
	FAULT();
	l->s->holder = brg__self_pid();
	FAULT();
	l->s->holder_thread = (uint64_t)pthread_self();
	l->s->holder_tok = l->tok;
	l->s->acquired++;
	FAULT();
	return r;
}

/* 1 when the calling thread holds the lock (through any handle); the record is written by
 * the holder alone, and cleared by it before it lets go. */
static int held_here(const struct lock_state *s)
{
	return __atomic_load_n(&s->holder, __ATOMIC_RELAXED) == brg__self_pid() &&
	       __atomic_load_n(&s->holder_thread, __ATOMIC_RELAXED) == (uint64_t)pthread_self();
}

int brg_lock_release(brg_lock *l)
{
	if (!l)
		return -EINVAL;
	struct lock_state *s = l->s;
	if (!held_here(s))
		return -EPERM; /* the mutex would say so too: only its owner thread unlocks it */
	uint64_t thread = s->holder_thread, tok = s->holder_tok;
	s->holder = 0;
	FAULT();
	s->holder_thread = s->holder_tok = 0;
	FAULT();
	int r = pthread_mutex_unlock(&s->m);
	if (r) {
		s->holder = brg__self_pid();
		s->holder_thread = thread;
		s->holder_tok = tok;
		return -r;
	}
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
	/* A held mutex is on its owner thread's robust list, which runs through the mutex
	 * itself: the mapping it was taken through must outlive the hold.  Held by this thread
	 * through this handle: released first.  Held through this handle by another thread of
	 * this process: the mapping stays (the kernel still finds the mutex when that thread
	 * ends, and the next acquirer is told). */
	struct lock_state *s = l->s;
	int here = __atomic_load_n(&s->holder, __ATOMIC_RELAXED) == brg__self_pid() &&
		   __atomic_load_n(&s->holder_tok, __ATOMIC_RELAXED) == l->tok;
	if (here && held_here(s))
		brg_lock_release(l);
	if (here && !held_here(s) && __atomic_load_n(&s->holder, __ATOMIC_RELAXED) == brg__self_pid())
		free(l->seg); /* the handle goes, the mapping stays */
	else
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
	e->s->word = (uint32_t)set * 3; /* one set so far, set now */
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
	/* The count moves with each set, so a waiter that slept through a set and a clear
	 * still sees that a set happened. */
	uint32_t w = __atomic_load_n(&e->s->word, __ATOMIC_RELAXED);
	do {
		if (w & 1)
			return 0;
	} while (!__atomic_compare_exchange_n(&e->s->word, &w, (w + 2) | 1, 1, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	FAULT();
	brg__futex_wake(&e->s->word, INT32_MAX);
	return 0;
}

int brg_event_clear(brg_event *e)
{
	if (!e)
		return -EINVAL;
	__atomic_and_fetch(&e->s->word, ~1u, __ATOMIC_SEQ_CST);
	return 0;
}

int brg_event_is_set(const brg_event *e)
{
	return e ? (int)(__atomic_load_n(&e->s->word, __ATOMIC_ACQUIRE) & 1) : -EINVAL;
}

int brg_event_wait(brg_event *e, int timeout_ms)
{
	if (!e || timeout_ms < -1)
		return -EINVAL;
	uint32_t w0 = __atomic_load_n(&e->s->word, __ATOMIC_ACQUIRE);
	if (w0 & 1)
		return 0;
	uint64_t t0 = brg__mono_ns(), end = brg__deadline_ns(t0, timeout_ms);
	for (;;) {
		uint32_t w = __atomic_load_n(&e->s->word, __ATOMIC_ACQUIRE);
		if ((w & 1) || (w >> 1) != (w0 >> 1))
			return 0; /* set now, or set (and maybe cleared) since the wait began */
		uint64_t now = brg__mono_ns();
		if (now >= end)
			return -ETIMEDOUT;
		/* Sleeps are capped: a setter killed between its store and its wake leaves the
		 * word set and nobody woken. */
		uint64_t cap = now + BRG__LOOK_NS;
		int r = brg__wait_turn(&e->s->word, w, t0, now, cap < end ? cap : end);
		if (r)
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

/* Ends the round in progress, broken: its waiters' outcome is BRG_EBROKEN; they wake.
 * Mutex held.  Safe to repeat (a holder killed inside leaves it to the next). */
static void barrier_break(struct barrier_state *s)
{
	s->broken = 1;
	FAULT();
	for (int i = 0; i < BRG_BARRIER_MAX; i++)
		if (s->member[i].used && s->member[i].waiting) {
			s->member[i].result = BRG_EBROKEN;
			FAULT();
			s->member[i].waiting = 0;
		}
	s->arrived = 0;
	FAULT();
	__atomic_store_n(&s->round, s->round + 1, __ATOMIC_RELEASE);
	FAULT();
	brg__futex_wake(&s->round, INT32_MAX);
}

/* Takes the barrier's mutex.  A holder that died inside may have left a round half ended,
 * so it is ended, broken: the dead process was a member, or joining. */
static void barrier_lock(struct barrier_state *s)
{
	if (pthread_mutex_lock(&s->m) == EOWNERDEAD) {
		pthread_mutex_consistent(&s->m);
		barrier_break(s);
	}
}

/* Frees the slots of dead members; 1 when there were any.  Mutex held.  Costly (a look in
 * /proc for each), hence done by one waiter every BRG__LOOK_NS. */
static int barrier_reap(struct barrier_state *s)
{
	int dead = 0;
	for (int i = 0; i < BRG_BARRIER_MAX; i++) {
		struct member *m = &s->member[i];
		if (m->used && !brg__pid_alive_since(m->pid, m->joined_ns)) {
			m->used = 0;
			m->waiting = 0;
			dead = 1;
		}
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
			struct member *m = &s->member[i];
			m->pid = brg__self_pid();
			m->joined_ns = brg__boot_ns();
			m->waiting = 0;
			m->result = 0;
			FAULT();
			m->used = 1;
			FAULT();
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
	if ((r = brg__robust_mutex_init(&b->s->m, PTHREAD_MUTEX_NORMAL))) {
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

/* This handle's member record; a handle copied into a forked child joins there first (the
 * record it came with is its parent's).  Mutex held. */
static struct member *barrier_member(brg_barrier *b)
{
	struct barrier_state *s = b->s;
	if (b->slot < 0 || !s->member[b->slot].used || s->member[b->slot].pid != brg__self_pid()) {
		int slot = barrier_join(s);
		if (slot < 0)
			return NULL;
		b->slot = slot;
	}
	return &s->member[b->slot];
}

/* Whether this handle has a wait left pending by a slice, here: in this process, as the
 * member it arrived as. */
static int barrier_pending(const brg_barrier *b)
{
	return b->pending && b->pend_pid == brg__self_pid() && b->pend_slot == b->slot;
}

/* brg_barrier_wait, or with keep brg_barrier_wait_slice: a wait that times out is left
 * pending in its round (-EAGAIN) instead of breaking it. */
static int barrier_wait(brg_barrier *b, int timeout_ms, int keep)
{
	struct barrier_state *s = b->s;
	barrier_lock(s);
	FAULT();
	struct member *m = barrier_member(b);
	int resume = barrier_pending(b);
	b->pending = 0;
	if (!m || (!resume && s->broken)) {
		pthread_mutex_unlock(&s->m);
		return m ? BRG_EBROKEN : -EMFILE;
	}
	int idx;
	uint32_t round;
	if (resume) { /* arrived before: wait on in that round, or learn how it ended */
		idx = b->pend_idx;
		round = b->pend_round;
		if (!m->waiting) {
			int result = m->result;
			pthread_mutex_unlock(&s->m);
			return result == 1 ? idx : BRG_EBROKEN;
		}
		pthread_mutex_unlock(&s->m);
	} else {
		idx = (int)s->arrived++;
		round = s->round;
		FAULT();
		if (s->arrived == s->parties) {
			for (int i = 0; i < BRG_BARRIER_MAX; i++)
				if (s->member[i].used && s->member[i].waiting) {
					s->member[i].result = 1;
					FAULT();
					s->member[i].waiting = 0;
				}
			s->arrived = 0;
			FAULT();
			__atomic_store_n(&s->round, round + 1, __ATOMIC_RELEASE);
			FAULT();
			pthread_mutex_unlock(&s->m);
			FAULT();
			brg__futex_wake(&s->round, INT32_MAX);
			return idx;
		}
		m->result = 0;
		m->waiting = 1;
		FAULT();
		pthread_mutex_unlock(&s->m);
		FAULT();
	}

	uint64_t t0 = brg__mono_ns(), end = brg__deadline_ns(t0, timeout_ms);
	for (;;) {
		uint64_t now = brg__mono_ns();
		int moved = __atomic_load_n(&s->round, __ATOMIC_ACQUIRE) != round;
		int look = !moved && now >= __atomic_load_n(&s->next_look, __ATOMIC_RELAXED);
		if (moved || look || now >= end) {
			barrier_lock(s);
			FAULT();
			int done = !m->waiting; /* the round ended for this wait: its outcome is set */
			if (!done && look && now >= s->next_look) {
				s->next_look = now + BRG__LOOK_NS; /* one waiter looks, the others sleep */
				if (barrier_reap(s))
					barrier_break(s);
				done = !m->waiting;
			}
			if (!done && now >= end) {
				if (keep) { /* still arrived: the next wait goes on from here */
					b->pending = 1;
					b->pend_idx = idx;
					b->pend_slot = b->slot;
					b->pend_round = round;
					b->pend_pid = brg__self_pid();
					pthread_mutex_unlock(&s->m);
					return -EAGAIN;
				}
				barrier_break(s);
				pthread_mutex_unlock(&s->m);
				return -ETIMEDOUT;
			}
			int result = m->result;
			pthread_mutex_unlock(&s->m);
			if (done)
				return result == 1 ? idx : BRG_EBROKEN;
			continue;
		}
		uint64_t cap = now + BRG__LOOK_NS;
		int r = brg__wait_turn(&s->round, round, t0, now, cap < end ? cap : end);
		if (r) { /* leaving the round breaks it, as a timeout does */
			barrier_lock(s);
			int done = !m->waiting, result = m->result;
			if (!done)
				barrier_break(s);
			pthread_mutex_unlock(&s->m);
			return !done ? r : result == 1 ? idx : BRG_EBROKEN;
		}
	}
}

int brg_barrier_wait(brg_barrier *b, int timeout_ms)
{
	if (!b || timeout_ms < -1)
		return -EINVAL;
	return barrier_wait(b, timeout_ms, 0);
}

int brg_barrier_wait_slice(brg_barrier *b, int slice_ms)
{
	if (!b || slice_ms < 0)
		return -EINVAL;
	return barrier_wait(b, slice_ms, 1);
}

/* Breaks the round in progress, drops the dead members and makes the barrier whole again.
 * Mutex held. */
static void barrier_renew(struct barrier_state *s)
{
	if (s->arrived)
		barrier_break(s); /* the round in progress: its waiters are told */
	barrier_reap(s);	  /* the dead are no longer members: they would break it again */
	s->broken = 0;
	s->arrived = 0;
}

int brg_barrier_reset(brg_barrier *b)
{
	if (!b)
		return -EINVAL;
	barrier_lock(b->s);
	barrier_renew(b->s);
	pthread_mutex_unlock(&b->s->m);
	return 0;
}

int brg_barrier_abandon(brg_barrier *b)
{
	if (!b)
		return -EINVAL;
	struct barrier_state *s = b->s;
	barrier_lock(s);
	int mine = barrier_pending(b);
	b->pending = 0;
	struct member *m = mine ? &s->member[b->slot] : NULL;
	int in_round = m && m->used && m->pid == b->pend_pid && m->waiting;
	if (in_round)
		barrier_renew(s);
	pthread_mutex_unlock(&s->m);
	return in_round;
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
	FAULT();
	if (b->slot >= 0 && b->s->member[b->slot].pid == brg__self_pid())
		b->s->member[b->slot].used = 0;
	FAULT();
	pthread_mutex_unlock(&b->s->m);
	brg_array_close(b->seg);
	free(b);
}
