/* SPDX-License-Identifier: MIT */
/* sched.c - the hand-out: each participant claims chunks from its own range without a lock, and
 * one whose range is empty steals part of another's; a dead participant's share is recovered
 * under the lock, exactly.
 *
 * A job starts with the static split of its positions over the participants (struct brg__slot,
 * ctl.h); the schedules differ only in the chunk an owner claims: its whole range (static), a
 * fixed chunk (dynamic, auto), or a 2P-th of what it has left, at least the chunk (guided: as
 * a shared guided loop's remaining/2P when every range is as full as the others).  A
 * static range is stolen whole (it is one chunk), so its bounds never depend on timing.
 *
 * Owner claim: store cur = [next, next + c), then CAS the own range word from next to next + c;
 * completion stores cur = 0.  Only the owner moves next; a thief only lowers end.  So for a
 * participant that died, cur names a claimed chunk exactly when cur.begin < next: with
 * cur.begin == next the CAS never happened and the chunk is still in the range.
 *
 * Steal, by a participant whose range word is empty and unmarked:
 *   1. intent = (victim, split, victim's end) in its own slot;
 *   2. CAS the victim's word from (next, end, 0) to (next, split, thief): the tail
 *      [split, end) is cut off and the word marked;
 *   3. store its own word = (split, end, PENDING);
 *   4. clear the mark on the victim (a CAS loop: the victim's owner may be claiming);
 *   5. clear the intent;
 *   6. store its own word = (split, end, 0): now it claims from it, and others may steal.
 * Nobody steals from a marked or pending word, so a victim has at most one mark, and the mark
 * says step 2 is done and step 4 is not.  The victim keeps its chunk in flight (cur is outside
 * its range) and the head of what it had left.
 *
 * THE INVARIANT.  At any instant of a job, every position not yet finished is in exactly one
 * of: the unclaimed range of one slot (next..end of its word), the cur of one slot whose claim
 * is done, one intent in flight (steps 2..3: cut from the victim, not yet installed), or the
 * list of chunks to run again (h.retry).  A position leaves all of them only when the kernel
 * that ran it returned.  Between an owner's store of cur and its CAS the chunk is also named by
 * cur, which recovery tells apart by cur.begin == next.
 *
 * Recovery of a dead participant D (brg__handout_recover, under the lock, while the others go
 * on), each step safe to repeat:
 *   - D's intent, if any: when the victim still carries D's mark, the cut is done, so the
 *     stolen tail is installed in D's word (pending) unless it already is, and the mark is
 *     cleared; otherwise the cut never happened, or D got as far as step 4.  The intent is
 *     cleared; a pending word of D's is released.
 *   - D's cur, if its claim is done, is returned to the caller (pool.c), which queues it for a
 *     worker or fails the job; cur is cleared.
 *   - What D's word still holds is unclaimed work: others steal it, or D's replacement (which
 *     takes over the slot) claims it as its own.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

/* Of what a victim has left, a thief takes 1/2^BRG__STEAL_SHIFT, rounded up: a half (LLVM's
 * static stealing takes a quarter; bench/README.md compares both). */
#ifndef BRG__STEAL_SHIFT
#define BRG__STEAL_SHIFT 1
#endif
/* How long a participant waits for a marked or pending word (a steal in progress) to settle
 * before it leaves the job to the others: a steal takes nanoseconds, unless its thief was
 * preempted or died (then the recovery of its death settles it). */
#define SETTLE_SPINS 4096

#ifdef BRG_FAULT_INJECTION
struct brg__fault *brg__fault;

void brg__fault_hit(uint32_t step, uint32_t who, const struct brg__slot *me)
{
	struct brg__fault *f = brg__fault;
	if (!f || who == 0 || __atomic_load_n(&f->step, __ATOMIC_ACQUIRE) != step)
		return;
	if (f->who && f->who != who)
		return;
	if (__atomic_exchange_n(&f->armed, 0, __ATOMIC_SEQ_CST) != 1)
		return;
	f->fired_who = who;
	f->fired_cur = __atomic_load_n(&me->cur, __ATOMIC_RELAXED);
	if (!f->fired)
		f->first_cur = f->fired_cur;
	f->fired_step = step;
	if (f->then) { /* a second fault, at another step */
		f->step = f->then;
		f->then = 0;
		__atomic_store_n(&f->armed, 1, __ATOMIC_SEQ_CST);
	}
	f->fired++;
	raise(SIGKILL);
}
#endif

void brg__static_range(uint64_t n, uint32_t p, uint32_t i, uint64_t *begin, uint64_t *end)
{
	/* Remainder spread over the first participants: sizes differ by at most one. */
	uint64_t q = n / p, rem = n % p;
	*begin = i * q + (i < rem ? i : rem);
	*end = *begin + q + (i < rem ? 1 : 0);
}

uint64_t brg__sched_chunk(uint32_t kind, uint64_t chunk, uint64_t remaining, uint32_t p)
{
	if (chunk == 0)
		chunk = 1;
	if (kind == BRG_SCHED_GUIDED) {
		uint64_t g = (remaining + 2ull * p - 1) / (2ull * p);
		chunk = g > chunk ? g : chunk;
	}
	return chunk < remaining ? chunk : remaining;
}

uint64_t brg__auto_chunk(uint64_t n, uint32_t p, double ns_per_index, double claim_ns)
{
	uint64_t cap = n / (4ull * p);
	if (cap == 0)
		cap = 1;
	if (!(ns_per_index > 0))
		return cap; /* nothing measured yet: the coarsest chunk that still balances */
	double want = 100.0 * claim_ns / ns_per_index;
	uint64_t min = want >= (double)n ? n : (uint64_t)want + 1;
	if (min <= cap)
		return min;
	/* The 1% rule wins over balance, but every participant still gets a chunk. */
	uint64_t share = (n + p - 1) / p;
	return min < share ? min : (share ? share : 1);
}

uint64_t brg__grain(uint64_t n)
{
	return n <= BRG__POS_MAX ? 1 : (n + BRG__POS_MAX - 1) / BRG__POS_MAX;
}

void brg__handout_view(struct brg__handout *h, uint64_t n, uint32_t kind, uint64_t chunk,
		       uint32_t participants)
{
	uint64_t g = brg__grain(n);
	h->n = n;
	h->grain = g;
	h->npos = (n + g - 1) / g;
	h->kind = kind;
	h->chunk = chunk ? (chunk + g - 1) / g : 1;
	h->participants = participants;
}

void brg__handout_start(struct brg__ctl *ctl, const struct brg__handout *h)
{
	for (uint32_t i = 0; i < h->participants; i++) {
		struct brg__slot *s = &ctl->w[i].slot;
		uint64_t b, e;
		brg__static_range(h->npos, h->participants, i, &b, &e);
		s->cur = 0;
		s->intent = 0;
		__atomic_store_n(&s->range, brg__rng(b, e, 0), __ATOMIC_RELEASE);
	}
}

/* A chunk that killed a worker, for a worker (never the caller); under the lock. */
static struct brg__range claim_retry(struct brg__ctl *ctl, struct brg__slot *me,
				     const struct brg__handout *h, uint32_t who, uint64_t stamp)
{
	struct brg__range r = {0, 0};
	if (brg__ctl_lock(ctl, who))
		return r;
	uint32_t k = ctl->hot.nretry;
	if (!ctl->hot.stop && k > 0 && k <= BRG__MAX_RETRY) {
		struct brg__retry *t = &ctl->h.retry[k - 1];
		if (t->begin < t->end && t->end <= h->npos) {
			/* cur first: dying before the entry goes runs the chunk twice, never
			 * not at all (only idempotent kernels have retries); a death from here
			 * to the unlock counts as a death running the chunk. */
			__atomic_store_n(&me->cur, brg__cur(t->begin, t->end, t->kills, 1),
					 __ATOMIC_RELEASE);
			me->since_ns = stamp;
			brg__fault_point(BRG__F_RETRY, who, me);
			r = brg__to_units(h, t->begin, t->end);
		}
		*t = (struct brg__retry){0}; /* unused entries are zero (status checks it) */
		ctl->hot.nretry = k - 1;
	}
	brg__ctl_unlock(ctl);
	return r;
}

/* Steals part of another participant's range into the own one; 1 when done, 0 when there is
 * nothing to steal, -1 when the only work left is behind a mark or pending (try again). */
static int steal(struct brg__ctl *ctl, struct brg__slot *me, const struct brg__handout *h,
		 uint32_t who)
{
	uint64_t mine = __atomic_load_n(&me->range, __ATOMIC_ACQUIRE);
	/* A thief of ours still holds its mark on our (now empty) word: installing over it
	 * would hide its cut from the recovery of its death. */
	if (brg__rng_thief(mine))
		return -1;
	for (;;) {
		uint32_t victim = UINT32_MAX;
		uint64_t vw = 0, most = 0;
		int blocked = 0;
		for (uint32_t v = 0; v < h->participants; v++) {
			if (v == who)
				continue;
			uint64_t w = __atomic_load_n(&ctl->w[v].slot.range, __ATOMIC_ACQUIRE);
			uint64_t left = brg__rng_end(w) - brg__rng_next(w);
			if (brg__rng_next(w) >= brg__rng_end(w))
				continue;
			if (brg__rng_thief(w)) {
				blocked = 1;
				continue;
			}
			if (left > most) {
				most = left;
				victim = v;
				vw = w;
			}
		}
		if (victim == UINT32_MAX)
			return blocked ? -1 : 0;
		uint64_t nx = brg__rng_next(vw), en = brg__rng_end(vw);
		/* A static range goes whole, or a kernel whose bits depend on where a range
		 * starts (GEMM's panels) would not give the same bits run after run. */
		uint64_t take = h->kind == BRG_SCHED_STATIC
					? most
					: (most + (1u << BRG__STEAL_SHIFT) - 1) >> BRG__STEAL_SHIFT;
		uint64_t split = en - take;
		struct brg__slot *vs = &ctl->w[victim].slot;
		__atomic_store_n(&me->intent, brg__intent(victim, split, en), __ATOMIC_SEQ_CST);
		brg__fault_point(BRG__F_STEAL_INTENT, who, me);
		if (!__atomic_compare_exchange_n(&vs->range, &vw, brg__rng(nx, split, who + 1), 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			/* The owner claimed, or another thief came first: look again. */
			__atomic_store_n(&me->intent, 0, __ATOMIC_RELEASE);
			continue;
		}
		brg__fault_point(BRG__F_STEAL_CUT, who, me);
		__atomic_store_n(&me->range, brg__rng(split, en, BRG__THIEF_PENDING), __ATOMIC_SEQ_CST);
		brg__fault_point(BRG__F_STEAL_INSTALL, who, me);
		uint64_t w = __atomic_load_n(&vs->range, __ATOMIC_ACQUIRE);
		while (brg__rng_thief(w) == who + 1 &&
		       !__atomic_compare_exchange_n(&vs->range, &w, brg__rng_unmarked(w), 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
		brg__fault_point(BRG__F_STEAL_UNMARK, who, me);
		__atomic_store_n(&me->intent, 0, __ATOMIC_SEQ_CST);
		brg__fault_point(BRG__F_STEAL_CLEAR, who, me);
		__atomic_store_n(&me->range, brg__rng(split, en, 0), __ATOMIC_RELEASE);
		return 1;
	}
}

struct brg__range brg__next(struct brg__ctl *ctl, uint32_t who, const struct brg__handout *h,
			    uint64_t stamp)
{
	struct brg__slot *me = &ctl->w[who].slot;
	struct brg__range r = {0, 0};
	unsigned waited = 0;
	for (;;) {
		if (__atomic_load_n(&ctl->hot.stop, __ATOMIC_RELAXED))
			return (struct brg__range){0, 0};
		r = brg__claim_own(me, h, who, stamp);
		if (r.begin < r.end)
			return r;
		/* Chunks of dead workers go to workers only: one that kills a process must not
		 * get the chance to kill the caller. */
		if (who != 0 && __atomic_load_n(&ctl->hot.nretry, __ATOMIC_RELAXED)) {
			r = claim_retry(ctl, me, h, who, stamp);
			if (r.begin < r.end)
				return r;
		}
		int s = steal(ctl, me, h, who);
		if (s > 0)
			continue;
		if (s == 0 || ++waited > SETTLE_SPINS)
			return (struct brg__range){0, 0};
		brg__pause(ctl);
	}
}

int brg__handout_recover(struct brg__ctl *ctl, uint32_t dead, uint32_t participants,
			 struct brg__retry *lost)
{
	struct brg__slot *d = &ctl->w[dead].slot;
	uint64_t in = __atomic_load_n(&d->intent, __ATOMIC_ACQUIRE);
	if (brg__intent_valid(in)) {
		uint32_t victim = brg__intent_victim(in);
		uint64_t split = brg__intent_split(in), end = brg__intent_end(in);
		if (victim < participants && victim != dead && split < end) {
			struct brg__slot *vs = &ctl->w[victim].slot;
			uint64_t w = __atomic_load_n(&vs->range, __ATOMIC_ACQUIRE);
			if (brg__rng_thief(w) == dead + 1) {
				/* Cut, maybe not installed: install it (pending until below). */
				if (brg__rng_thief(__atomic_load_n(&d->range, __ATOMIC_ACQUIRE)) !=
				    BRG__THIEF_PENDING)
					__atomic_store_n(&d->range,
							 brg__rng(split, end, BRG__THIEF_PENDING),
							 __ATOMIC_SEQ_CST);
				while (brg__rng_thief(w) == dead + 1 &&
				       !__atomic_compare_exchange_n(&vs->range, &w,
								    brg__rng_unmarked(w), 0,
								    __ATOMIC_ACQ_REL,
								    __ATOMIC_ACQUIRE))
					;
			}
		}
		__atomic_store_n(&d->intent, 0, __ATOMIC_SEQ_CST);
	}
	uint64_t w = __atomic_load_n(&d->range, __ATOMIC_ACQUIRE);
	if (brg__rng_thief(w) == BRG__THIEF_PENDING)
		__atomic_store_n(&d->range, brg__rng_unmarked(w), __ATOMIC_SEQ_CST);

	uint64_t c = __atomic_load_n(&d->cur, __ATOMIC_ACQUIRE);
	int in_flight = 0;
	if (c) {
		uint64_t b = brg__cur_begin(c), e = brg__cur_end(c);
		if (b < e && (brg__cur_retry(c) || b < brg__rng_next(w))) {
			*lost = (struct brg__retry){b, e, brg__cur_kills(c), 0};
			in_flight = 1;
		}
		__atomic_store_n(&d->cur, 0, __ATOMIC_SEQ_CST);
	}
	return in_flight;
}

void brg__retry_repair(struct brg__ctl *ctl)
{
	uint32_t k = ctl->hot.nretry, kept = 0;
	if (k > BRG__MAX_RETRY)
		k = BRG__MAX_RETRY;
	for (uint32_t i = 0; i < k; i++)
		if (ctl->h.retry[i].begin < ctl->h.retry[i].end)
			ctl->h.retry[kept++] = ctl->h.retry[i];
	memset(&ctl->h.retry[kept], 0, (BRG__MAX_RETRY - kept) * sizeof ctl->h.retry[0]);
	ctl->hot.nretry = kept;
}

int brg__handout_left(const struct brg__ctl *ctl, uint32_t participants)
{
	for (uint32_t i = 0; i < participants; i++) {
		uint64_t w = __atomic_load_n(&ctl->w[i].slot.range, __ATOMIC_ACQUIRE);
		if (brg__rng_next(w) < brg__rng_end(w))
			return 1;
	}
	return 0;
}
