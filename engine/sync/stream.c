/* SPDX-License-Identifier: MIT */
/* stream.c - frames passed between processes in place (include/brigade.h, "Streams").
 *
 * A stream is its ring (an array of shape (slots, *frame)) and its control state (a segment
 * of kind BRG_KIND_STREAM): one record per slot and per subscriber, under a robust mutex.
 * Every change to a record is made with the mutex held and ends with the store that makes it
 * valid (a slot's state, a subscriber's used flag), so a process killed inside leaves each
 * record before or after its change; the next holder then only has to look for the dead.
 *
 * The invariant: each slot is FREE, LOANED to one live handle (written by it alone), READY
 * (published: queue, waiting for one consumer; broadcast, `pending` names the subscribers
 * that have not released it, `held` those reading it now) or HELD by one queue consumer.
 * A dead party's records go back: LOANED -> FREE, HELD -> READY (its seq kept, so it is
 * received first), a subscriber's bits cleared (a slot nobody owes any more -> FREE). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define READY 0x4d525453u /* "STRM": the state is whole */
#define SUFFIX ".stream"

enum { S_FREE, S_LOANED, S_READY, S_HELD };

#define FAULT() BRG__SYNC_FAULT()

struct slot {
	uint32_t state;
	int32_t pid;	   /* LOANED: the producer's, HELD: the consumer's */
	uint64_t since_ns; /* CLOCK_BOOTTIME when pid took it (brg__pid_alive_since) */
	uint64_t tok;	   /* the handle that took it */
	uint64_t seq, stamp_ns;
	uint64_t pending; /* broadcast, READY: subscribers that have not released it */
	uint64_t held;	  /* broadcast, READY: subscribers reading it now */
};

struct sub {
	uint32_t used;
	int32_t pid;
	uint64_t since_ns; /* CLOCK_BOOTTIME when it subscribed */
	uint64_t tok;	   /* its handle */
	uint64_t next_seq; /* the first seq it has not received */
	uint64_t lost;	   /* frames overwritten before it received them, not yet reported */
};

struct stream_state {
	uint32_t ready, mode, policy, nslots;
	uint64_t frame_bytes;
	uint32_t pub_word;  /* futex: one more at each frame a consumer may now receive */
	uint32_t free_word; /* futex: one more at each slot that became free */
	uint64_t next_seq;
	uint64_t published, received, lost, reclaimed;
	uint64_t last_ns; /* CLOCK_REALTIME of the last publish */
	uint64_t next_look; /* CLOCK_MONOTONIC: when a waiter next looks for the dead */
	pthread_mutex_t m;
	struct sub sub[BRG_STREAM_MAX_SUBSCRIBERS];
	struct slot slot[];
};

struct brg_stream {
	brg_array *ring, *ctl;
	struct stream_state *s;
	unsigned char *data;
	uint64_t tok;
	int32_t pid;
	int sub;    /* subscriber index (a queue consumer's, once it has received), or -1 */
	int listed; /* a queue consumer: it has tried to list itself in sub[] */
};

static size_t ctl_bytes(size_t nslots)
{
	return sizeof(struct stream_state) + nslots * sizeof(struct slot);
}

static int ctl_name(char *buf, const char *name)
{
	if (!name)
		return -EINVAL;
	int r = brg_name_check(name);
	if (r)
		return r;
	if (strlen(name) + sizeof SUFFIX - 1 > BRG_NAME_MAX)
		return BRG_EBADNAME;
	strcpy(buf, name);
	strcat(buf, SUFFIX);
	return 0;
}

/* ---- records (mutex held) ---- */

static void wake(uint32_t *word)
{
	__atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
	brg__futex_wake(word, INT32_MAX);
}

static void slot_free(struct stream_state *s, struct slot *sl)
{
	sl->state = S_FREE; /* first: a loan clears the masks again */
	FAULT();
	sl->pending = sl->held = 0;
	wake(&s->free_word);
}

/* A subscriber lets go of a READY slot (it released it, or it is gone).  Mutex held. */
static void slot_let_go(struct stream_state *s, struct slot *sl, uint64_t bit)
{
	uint64_t pending = sl->pending & ~bit;
	if (!pending) {
		slot_free(s, sl);
		return;
	}
	sl->held &= ~bit;
	FAULT();
	sl->pending = pending;
	if (!sl->held && s->policy == BRG_STREAM_OVERWRITE)
		wake(&s->free_word); /* nobody reads it now: an overwriting loan may take it */
}

static void sub_drop(struct stream_state *s, int i)
{
	uint64_t bit = 1ull << i;
	for (uint32_t k = 0; k < s->nslots; k++) {
		struct slot *sl = &s->slot[k];
		if (sl->state == S_READY && (sl->pending & bit))
			slot_let_go(s, sl, bit);
	}
	s->sub[i].used = 0;
}

/* Whether a party runs, each pid looked up in /proc once per reap. */
struct alive_memo {
	int n;
	int32_t pid[64];
	uint64_t since[64];
	int alive[64];
};

static int alive(struct alive_memo *m, int32_t pid, uint64_t since)
{
	for (int i = 0; i < m->n; i++)
		if (m->pid[i] == pid && m->since[i] == since)
			return m->alive[i];
	int a = brg__pid_alive_since(pid, since);
	if (m->n < 64) {
		m->pid[m->n] = pid;
		m->since[m->n] = since;
		m->alive[m->n++] = a;
	}
	return a;
}

/* Gives back what dead parties held, and finishes what a holder killed inside left half
 * done (a broadcast frame nobody owes any more, a wake not sent).  Mutex held. */
static void reap(struct stream_state *s)
{
	struct alive_memo memo;
	memo.n = 0;
	for (int i = 0; i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
		if (s->sub[i].used && !alive(&memo, s->sub[i].pid, s->sub[i].since_ns))
			sub_drop(s, i);
	for (uint32_t k = 0; k < s->nslots; k++) {
		struct slot *sl = &s->slot[k];
		if (s->mode == BRG_STREAM_BROADCAST && sl->state == S_READY && !sl->pending)
			slot_free(s, sl);
		if ((sl->state == S_LOANED || sl->state == S_HELD) &&
		    !alive(&memo, sl->pid, sl->since_ns)) {
			s->reclaimed++;
			if (sl->state == S_LOANED) {
				slot_free(s, sl);
			} else {
				sl->state = S_READY; /* received again, first: its seq is the lowest */
				wake(&s->pub_word);
			}
		}
	}
}

static void lock(struct stream_state *s)
{
	FAULT();
	if (pthread_mutex_lock(&s->m) == EOWNERDEAD) {
		pthread_mutex_consistent(&s->m);
		reap(s);
		wake(&s->pub_word); /* the dead holder may have owed a wake */
		wake(&s->free_word);
	}
}

static void unlock(struct stream_state *s)
{
	FAULT();
	pthread_mutex_unlock(&s->m);
	FAULT();
}

static void take(struct brg_stream *h, struct slot *sl, uint32_t state)
{
	sl->pid = h->pid; /* the caller's: adopt() made sure */
	sl->since_ns = brg__boot_ns();
	sl->tok = h->tok;
	FAULT();
	sl->state = state;
}

static void frame_out(const struct brg_stream *h, size_t k, brg_frame *f, uint64_t lost)
{
	const struct slot *sl = &h->s->slot[k];
	f->data = h->data + k * h->s->frame_bytes;
	f->slot = k;
	f->seq = sl->state == S_LOANED ? 0 : sl->seq;
	f->stamp_ns = sl->state == S_LOANED ? 0 : sl->stamp_ns;
	f->lost = lost;
}

/* Waits for *word to move from seen: 0 (look again), or -ETIMEDOUT.  Every BRG__LOOK_NS
 * (shared: one waiter looks, whatever its own timeout) the dead are looked for, and the
 * caller looks again in any case, so a wake that never came costs BRG__LOOK_NS at most. */
static int await(struct stream_state *s, uint32_t *word, uint32_t seen, uint64_t t0,
		 uint64_t end, uint64_t *look)
{
	for (;;) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
			return 0;
		uint64_t now = brg__mono_ns();
		if (now >= *look || now >= __atomic_load_n(&s->next_look, __ATOMIC_RELAXED)) {
			/* One waiter looks (a look in /proc for each party), the others sleep on. */
			lock(s);
			if (now >= s->next_look) {
				s->next_look = now + BRG__LOOK_NS;
				reap(s);
			}
			unlock(s);
			*look = now + BRG__LOOK_NS;
			return 0;
		}
		if (now >= end)
			return -ETIMEDOUT;
		int r = brg__wait_turn(word, seen, t0, now, *look < end ? *look : end);
		if (r)
			return r;
	}
}

/* ---- create, open, close ---- */

static int attach(struct brg_stream *h, const char *name)
{
	char cname[BRG_NAME_MAX + 1];
	int r = ctl_name(cname, name);
	if (r)
		return r;
	if ((r = brg__segment_open(&h->ctl, cname, BRG_OPEN_WRITE, -1)))
		return r;
	struct stream_state *s = h->ctl->data;
	size_t nbytes = h->ctl->meta.lay.nbytes;
	if (h->ctl->meta.kind != BRG_KIND_STREAM)
		return BRG_EWRONGKIND;
	if (nbytes < sizeof *s)
		return BRG_EMISMATCH;
	if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) != READY)
		return BRG_EINCOMPLETE;
	if (s->nslots < 1 || s->nslots > BRG_STREAM_MAX_SLOTS || nbytes != ctl_bytes(s->nslots) ||
	    s->mode > BRG_STREAM_BROADCAST || s->policy > BRG_STREAM_OVERWRITE)
		return BRG_EMISMATCH;
	if ((r = brg_array_open(&h->ring, name, BRG_OPEN_WRITE)))
		return r;
	if (brg_array_shape(h->ring)[0] != s->nslots ||
	    brg_array_nbytes(h->ring) != s->nslots * s->frame_bytes)
		return BRG_EMISMATCH;
	h->s = s;
	h->data = brg_array_data(h->ring);
	return 0;
}

static struct brg_stream *handle_new(void)
{
	struct brg_stream *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->pid = brg__self_pid();
	h->tok = brg__token();
	h->sub = -1;
	return h;
}

/* Subscribes the handle: 0, or -EMFILE.  Mutex held. */
static int subscribe(struct brg_stream *h)
{
	struct stream_state *s = h->s;
	reap(s);
	for (int i = 0; i < BRG_STREAM_MAX_SUBSCRIBERS; i++) {
		struct sub *u = &s->sub[i];
		if (u->used)
			continue;
		u->pid = h->pid;
		u->since_ns = brg__boot_ns();
		u->tok = h->tok;
		u->next_seq = s->next_seq;
		u->lost = 0;
		u->used = 1;
		h->sub = i;
		return 0;
	}
	h->sub = -1;
	return -EMFILE;
}

/* A handle copied into a forked child becomes the child's own at its first use there: a
 * token of its own (what it loans and holds is the child's, given back when the child
 * dies), and a subscription of its own from now on (the parent keeps its). */
static int adopt(struct brg_stream *h)
{
	if (h->pid == brg__self_pid())
		return 0;
	h->pid = brg__self_pid();
	h->tok = brg__token();
	h->listed = 0;
	if (h->s->mode == BRG_STREAM_QUEUE)
		h->sub = -1; /* the parent's listing: the child lists itself at its first receive */
	if (h->sub < 0)
		return 0;
	lock(h->s);
	int r = subscribe(h);
	unlock(h->s);
	return r;
}

static void handle_free(struct brg_stream *h)
{
	brg_array_close(h->ring);
	brg_array_close(h->ctl);
	free(h);
}

int brg_stream_create(brg_stream **out, const char *name, brg_dtype dtype, int ndim,
		      const size_t *frame_shape, size_t slots, brg_stream_mode mode,
		      brg_stream_policy policy, const brg_array_opts *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	char cname[BRG_NAME_MAX + 1];
	int r = ctl_name(cname, name);
	if (r)
		return r;
	if (ndim < 1 || ndim >= BRG_MAX_NDIM || !frame_shape || slots < 1 ||
	    slots > BRG_STREAM_MAX_SLOTS || (mode != BRG_STREAM_QUEUE && mode != BRG_STREAM_BROADCAST) ||
	    (policy != BRG_STREAM_BLOCK && policy != BRG_STREAM_OVERWRITE) ||
	    (policy == BRG_STREAM_OVERWRITE && mode != BRG_STREAM_BROADCAST))
		return -EINVAL;
	size_t shape[BRG_MAX_NDIM];
	shape[0] = slots;
	memcpy(shape + 1, frame_shape, (size_t)ndim * sizeof *shape);
	struct brg_stream *h = handle_new();
	if (!h)
		return -ENOMEM;
	if ((r = brg_array_create(&h->ring, name, dtype, ndim + 1, shape, opts))) {
		free(h);
		return r;
	}
	if (brg_array_nbytes(h->ring) == 0) {
		r = -EINVAL; /* a frame of no bytes */
		goto err;
	}
	size_t bytes = ctl_bytes(slots);
	if ((r = brg__segment_create(&h->ctl, cname, BRG_U8, 1, &bytes, opts, BRG_KIND_STREAM)))
		goto err;
	struct stream_state *s = h->s = h->ctl->data;
	h->data = brg_array_data(h->ring);
	s->mode = (uint32_t)mode;
	s->policy = (uint32_t)policy;
	s->nslots = (uint32_t)slots;
	s->frame_bytes = brg_array_nbytes(h->ring) / slots;
	s->next_seq = 1;
	if ((r = brg__robust_mutex_init(&s->m, PTHREAD_MUTEX_NORMAL))) {
		brg_segment_unlink(cname);
		goto err;
	}
	__atomic_store_n(&s->ready, READY, __ATOMIC_RELEASE);
	*out = h;
	return 0;
err:
	brg_segment_unlink(name);
	handle_free(h);
	return r;
}

int brg_stream_open(brg_stream **out, const char *name, unsigned flags)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (flags & ~(unsigned)BRG_STREAM_SUBSCRIBE)
		return BRG_EBADFLAGS;
	struct brg_stream *h = handle_new();
	if (!h)
		return -ENOMEM;
	int r = attach(h, name);
	if (!r && (flags & BRG_STREAM_SUBSCRIBE)) {
		struct stream_state *s = h->s;
		if (s->mode != BRG_STREAM_BROADCAST)
			r = -EINVAL;
		else {
			lock(s);
			r = subscribe(h);
			unlock(s);
		}
	}
	if (r) {
		handle_free(h);
		return r;
	}
	*out = h;
	return 0;
}

void brg_stream_close(brg_stream *h)
{
	if (!h)
		return;
	/* A copy of the handle in a forked child gives back nothing of its parent's. */
	if (h->s && h->pid == brg__self_pid()) {
		struct stream_state *s = h->s;
		lock(s);
		for (uint32_t k = 0; k < s->nslots; k++) {
			struct slot *sl = &s->slot[k];
			if (sl->tok != h->tok)
				continue;
			if (sl->state == S_LOANED) {
				slot_free(s, sl);
			} else if (sl->state == S_HELD) {
				sl->state = S_READY;
				wake(&s->pub_word);
			}
		}
		if (h->sub >= 0 && s->sub[h->sub].used && s->sub[h->sub].tok == h->tok)
			sub_drop(s, h->sub);
		unlock(s);
	}
	handle_free(h);
}

int brg_stream_unlink(const char *name)
{
	char cname[BRG_NAME_MAX + 1];
	int r = ctl_name(cname, name);
	if (r)
		return r;
	int a = brg_segment_unlink(cname), b = brg_segment_unlink(name);
	return a ? a : b;
}

brg_array *brg_stream_ring(const brg_stream *h)
{
	return h ? h->ring : NULL;
}

/* ---- frames ---- */

int brg_stream_loan(brg_stream *h, brg_frame *f, int timeout_ms)
{
	if (!h || !f || timeout_ms < -1)
		return -EINVAL;
	int r = adopt(h);
	if (r)
		return r;
	struct stream_state *s = h->s;
	uint64_t t0 = brg__mono_ns(), end = brg__deadline_ns(t0, timeout_ms), look = t0 + BRG__LOOK_NS;
	for (;;) {
		lock(s);
		uint32_t seen = __atomic_load_n(&s->free_word, __ATOMIC_ACQUIRE);
		struct slot *best = NULL;
		for (uint32_t k = 0; k < s->nslots && !best; k++)
			if (s->slot[k].state == S_FREE)
				best = &s->slot[k];
		if (!best && s->policy == BRG_STREAM_OVERWRITE) {
			/* The oldest frame nobody is reading: its subscribers lose it. */
			for (uint32_t k = 0; k < s->nslots; k++) {
				struct slot *sl = &s->slot[k];
				if (sl->state == S_READY && !sl->held && (!best || sl->seq < best->seq))
					best = sl;
			}
			if (best) { /* each subscriber that had not received it is told */
				s->lost += (uint64_t)__builtin_popcountll(best->pending);
				for (int i = 0; i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
					if ((best->pending >> i) & 1)
						s->sub[i].lost++;
			}
		}
		if (best) {
			best->pending = best->held = 0;
			take(h, best, S_LOANED);
			frame_out(h, (size_t)(best - s->slot), f, 0);
			unlock(s);
			return 0;
		}
		unlock(s);
		if ((r = await(s, &s->free_word, seen, t0, end, &look)))
			return r;
	}
}

static struct slot *mine(brg_stream *h, const brg_frame *f, uint32_t state)
{
	if (f->slot >= h->s->nslots)
		return NULL;
	struct slot *sl = &h->s->slot[f->slot];
	return sl->state == state && sl->tok == h->tok ? sl : NULL;
}

int brg_stream_discard(brg_stream *h, brg_frame *f)
{
	if (!h || !f || adopt(h))
		return -EINVAL;
	lock(h->s);
	struct slot *sl = mine(h, f, S_LOANED);
	if (sl)
		slot_free(h->s, sl);
	unlock(h->s);
	return sl ? 0 : -EINVAL;
}

int brg_stream_publish(brg_stream *h, brg_frame *f)
{
	if (!h || !f || adopt(h))
		return -EINVAL;
	struct stream_state *s = h->s;
	lock(s);
	struct slot *sl = mine(h, f, S_LOANED);
	if (!sl) {
		unlock(s);
		return -EINVAL;
	}
	sl->seq = s->next_seq++;
	FAULT();
	sl->stamp_ns = brg__now_ns();
	s->last_ns = sl->stamp_ns;
	s->published++;
	if (s->mode == BRG_STREAM_BROADCAST) {
		uint64_t subs = 0;
		for (int i = 0; i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
			if (s->sub[i].used)
				subs |= 1ull << i;
		sl->pending = subs;
		sl->held = 0;
		if (!subs) { /* nobody to owe it to */
			slot_free(s, sl);
			unlock(s);
			f->seq = sl->seq;
			return 0;
		}
	}
	FAULT();
	sl->state = S_READY;
	f->seq = sl->seq;
	f->stamp_ns = sl->stamp_ns;
	FAULT();
	__atomic_add_fetch(&s->pub_word, 1, __ATOMIC_RELEASE); /* before the unlock: a death
								 * after it costs a wake only */
	unlock(s);
	brg__futex_wake(&s->pub_word, INT32_MAX);
	return 0;
}

int brg_stream_receive(brg_stream *h, brg_frame *f, int timeout_ms)
{
	if (!h || !f || timeout_ms < -1)
		return -EINVAL;
	int r = adopt(h);
	if (r)
		return r;
	struct stream_state *s = h->s;
	int broadcast = s->mode == BRG_STREAM_BROADCAST;
	if (broadcast && h->sub < 0)
		return -EINVAL;
	uint64_t bit = broadcast ? 1ull << h->sub : 0;
	uint64_t t0 = brg__mono_ns(), end = brg__deadline_ns(t0, timeout_ms), look = t0 + BRG__LOOK_NS;
	for (;;) {
		lock(s);
		if (!broadcast && !h->listed) { /* a queue consumer lists itself, for status */
			h->listed = 1;
			subscribe(h);
		}
		if (broadcast && (!s->sub[h->sub].used || s->sub[h->sub].pid != h->pid)) {
			unlock(s); /* its subscription ended (taken for dead: it was not running) */
			return -EINVAL;
		}
		uint32_t seen = __atomic_load_n(&s->pub_word, __ATOMIC_ACQUIRE);
		struct slot *best = NULL;
		for (uint32_t k = 0; k < s->nslots; k++) {
			struct slot *sl = &s->slot[k];
			if (sl->state == S_READY && (!broadcast || ((sl->pending & bit) &&
								     !(sl->held & bit))) &&
			    (!best || sl->seq < best->seq))
				best = sl;
		}
		if (best) {
			uint64_t lost = 0;
			if (broadcast) {
				struct sub *u = &s->sub[h->sub];
				lost = u->lost;
				u->lost = 0;
				u->next_seq = best->seq + 1;
				FAULT();
				best->held |= bit;
			} else {
				take(h, best, S_HELD);
			}
			s->received++;
			frame_out(h, (size_t)(best - s->slot), f, lost);
			unlock(s);
			return 0;
		}
		unlock(s);
		if ((r = await(s, &s->pub_word, seen, t0, end, &look)))
			return r;
	}
}

int brg_stream_release(brg_stream *h, brg_frame *f)
{
	if (!h || !f || h->pid != brg__self_pid())
		return -EINVAL; /* a frame received in another process is not this one's */
	struct stream_state *s = h->s;
	lock(s);
	int r = 0;
	if (s->mode == BRG_STREAM_QUEUE) {
		struct slot *sl = mine(h, f, S_HELD);
		if (sl)
			slot_free(s, sl);
		else
			r = -EINVAL;
	} else {
		uint64_t bit = h->sub >= 0 ? 1ull << h->sub : 0;
		struct slot *sl = f->slot < s->nslots ? &s->slot[f->slot] : NULL;
		if (sl && bit && sl->state == S_READY && (sl->held & bit)) {
			slot_let_go(s, sl, bit);
		} else {
			r = -EINVAL;
		}
	}
	unlock(s);
	return r;
}

/* ---- status ---- */

int brg_stream_status(const char *name, brg_stream_info *info, brg_stream_subscriber *subs,
		      size_t sub_size, int max)
{
	char cname[BRG_NAME_MAX + 1];
	int r = ctl_name(cname, name);
	if (r)
		return r;
	if (max < 0 || (max && (!subs || sub_size < sizeof *subs)) ||
	    (info && info->size < BRG_STREAM_INFO_SIZE_VER0))
		return -EINVAL;
	brg_array *seg;
	if ((r = brg__segment_open(&seg, cname, 0, -1)))
		return r;
	const struct stream_state *s = seg->data;
	size_t nbytes = seg->meta.lay.nbytes;
	r = seg->meta.kind != BRG_KIND_STREAM ? BRG_EWRONGKIND
	    : nbytes < sizeof *s ? BRG_EMISMATCH
	    : __atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) != READY ? BRG_EINCOMPLETE
	    : s->nslots < 1 || s->nslots > BRG_STREAM_MAX_SLOTS || nbytes != ctl_bytes(s->nslots)
		? BRG_EMISMATCH
		: 0;
	if (r) {
		brg_array_close(seg);
		return r;
	}
	brg_stream_info in = {.size = sizeof in};
	in.mode = (brg_stream_mode)s->mode;
	in.policy = (brg_stream_policy)s->policy;
	in.slots = s->nslots;
	in.frame_bytes = (size_t)s->frame_bytes;
	uint64_t next_seq = __atomic_load_n(&s->next_seq, __ATOMIC_RELAXED);
	size_t reading[BRG_STREAM_MAX_SUBSCRIBERS] = {0};
	int queue = s->mode == BRG_STREAM_QUEUE;
	for (uint32_t k = 0; k < s->nslots; k++) {
		const struct slot *sl = &s->slot[k];
		uint32_t st = __atomic_load_n(&sl->state, __ATOMIC_RELAXED);
		in.free += st == S_FREE;
		in.loaned += st == S_LOANED;
		in.ready += st == S_READY;
		in.held += st == S_HELD;
		if (st == S_READY && sl->stamp_ns > in.last_ns)
			in.last_ns = sl->stamp_ns;
		uint64_t held = st == S_READY && !queue ? sl->held : 0;
		for (int i = 0; held && i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
			reading[i] += (held >> i) & 1;
		for (int i = 0; st == S_HELD && i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
			reading[i] += s->sub[i].used && s->sub[i].tok == sl->tok;
	}
	in.published = s->published;
	in.received = s->received;
	in.lost = s->lost;
	in.reclaimed = s->reclaimed;
	if (s->last_ns > in.last_ns)
		in.last_ns = s->last_ns;
	int n = 0;
	for (int i = 0; i < BRG_STREAM_MAX_SUBSCRIBERS; i++) {
		const struct sub *u = &s->sub[i];
		if (!__atomic_load_n(&u->used, __ATOMIC_RELAXED))
			continue;
		if (n < max) {
			brg_stream_subscriber *o = (brg_stream_subscriber *)((char *)subs +
									     (size_t)n * sub_size);
			memset(o, 0, sub_size);
			o->pid = u->pid;
			o->alive = brg__pid_alive_since(u->pid, u->since_ns);
			/* A queue's frames are anyone's: each consumer's lag is what waits. */
			o->lag = queue ? in.ready : next_seq > u->next_seq ? next_seq - u->next_seq : 0;
			o->reading = reading[i];
		}
		n++;
	}
	in.subscribers = n;
	brg_array_close(seg);
	if (info)
		brg__struct_out(info, info->size, &in, sizeof in, BRG_STREAM_INFO_SIZE_VER0);
	return n;
}
