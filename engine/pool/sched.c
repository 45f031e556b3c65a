/* SPDX-License-Identifier: MIT */
/* sched.c - the schedules: which range a participant gets next, claimed under the lock. */
#include <string.h>

#include "pool.h"

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

static void lease(struct brg__wrec *w, uint64_t b, uint64_t e, uint32_t kills, uint64_t now)
{
	w->lease.begin = b;
	w->lease.end = e;
	w->lease.kills = kills;
	w->lease.since_ns = now;
	/* valid last: a holder dying before it leaves no lease, dying after leaves a lease
	 * for a range that may also still be unclaimed; re-running it is the safe side. */
	__atomic_store_n(&w->lease.valid, 1, __ATOMIC_RELEASE);
}

static uint64_t *taken_word(struct brg__ctl *ctl, uint32_t j)
{
	return j < 64 ? &ctl->hot.taken0 : &ctl->h.taken[j / 64];
}

int brg__claim(struct brg__ctl *ctl, uint32_t who, struct brg__range *r, uint64_t now)
{
	const struct brg__jobdesc *job = &ctl->job;
	struct brg__wrec *me = &ctl->w[who];
	if (ctl->hot.error)
		return 0;
	/* Ranges of dead workers go to workers only: one that kills a process must not get
	 * the chance to kill the caller. */
	if (who != 0 && ctl->hot.nretry > 0 && ctl->hot.nretry <= BRG__MAX_RETRY) {
		struct brg__retry *t = &ctl->h.retry[ctl->hot.nretry - 1];
		r->begin = t->begin;
		r->end = t->end;
		r->kills = t->kills;
		lease(me, r->begin, r->end, r->kills, now);
		*t = (struct brg__retry){0}; /* unused entries are zero (status checks it) */
		ctl->hot.nretry--;
		return 1;
	}
	if (job->sched_kind == BRG_SCHED_STATIC) {
		uint32_t p = job->participants;
		if (p > BRG__MAX_WORKERS)
			p = BRG__MAX_WORKERS; /* never index past the taken bits, whatever is here */
		for (uint32_t k = 0; k < p; k++) {
			/* Own range first, then any range a slower participant has not taken. */
			uint32_t j = (who + k) % p;
			uint64_t *word = taken_word(ctl, j), bit = 1ull << (j % 64);
			if (*word & bit)
				continue;
			uint64_t b, e;
			brg__static_range(job->n, p, j, &b, &e);
			if (b == e) {
				*word |= bit;
				continue;
			}
			r->begin = b;
			r->end = e;
			r->kills = 0;
			/* The lease before the taken bit: dying between them re-runs the range. */
			lease(me, b, e, 0, now);
			*word |= bit;
			return 1;
		}
		return 0;
	}
	uint64_t next = ctl->hot.next;
	if (next >= job->n)
		return 0;
	uint64_t c = brg__sched_chunk(job->sched_kind, job->chunk, job->n - next,
				      job->participants);
	r->begin = next;
	r->end = next + c;
	r->kills = 0;
	lease(me, r->begin, r->end, 0, now);
	ctl->hot.next = r->end;
	return 1;
}
