/* SPDX-License-Identifier: MIT */
/* test_schedule.c - every schedule against a serial reference: each index visited exactly
 * once, kernel errors with their range, the argument block, submit/wait, a job of more
 * units than a range word counts, and the schedule's pure functions.  Usage: test_schedule units | P (participants, 1..). */
#include <math.h>
#include <sched.h>
#include <stddef.h>
#include <sys/mman.h>

#include "pool.h"
#include "poolutil.h"

#define ARGS_MAGIC 0x5343484544554c45ull /* "SCHEDULE" */

struct fill_args {
	uint64_t magic;
	uint64_t n;
	int64_t offset;
	int32_t participants;
	int32_t pad;
};

static double ref_f(size_t i, int64_t offset) { return (double)i * 0.5 + (double)offset; }

/* out[i] = f(i), visits[i] += 1; every argument it relies on is checked first, so a job whose
 * arguments did not arrive fails with -EPROTO instead of writing nonsense. */
static int fill_kernel(const brg_task *t)
{
	const struct fill_args *a = t->args;
	if (!a || a->magic != ARGS_MAGIC || t->narrays != 2 || t->begin >= t->end ||
	    t->end > a->n || t->worker < 0 || t->worker >= a->participants)
		return -EPROTO;
	if (brg_array_count(t->arrays[0]) < t->end || brg_array_count(t->arrays[1]) < t->end)
		return -EPROTO;
	double *out = brg_array_data(t->arrays[0]);
	int32_t *visits = brg_array_data(t->arrays[1]);
	for (size_t i = t->begin; i < t->end; i++) {
		out[i] = ref_f(i, a->offset);
		__atomic_fetch_add(&visits[i], 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static const brg_kernel fill = {"fill", fill_kernel, 0}; /* not idempotent: += */

struct sched_case {
	brg_schedule s;
	const char *name;
};
static const struct sched_case scheds[] = {
	{{BRG_SCHED_STATIC, 0}, "static"},   {{BRG_SCHED_DYNAMIC, 1}, "dynamic/1"},
	{{BRG_SCHED_DYNAMIC, 7}, "dynamic/7"}, {{BRG_SCHED_GUIDED, 1}, "guided/1"},
	{{BRG_SCHED_GUIDED, 5}, "guided/5"}, {{BRG_SCHED_AUTO, 0}, "auto"},
};
#define NSCHED ((int)(sizeof scheds / sizeof scheds[0]))

/* Runs fill over [0, n) and compares with the serial reference: every index written with
 * the right value and visited exactly once. */
static void run_fill(brg_pool *pool, brg_array *out, brg_array *visits, size_t n,
		     const struct sched_case *sc, int64_t offset)
{
	double *o = brg_array_data(out);
	int32_t *v = brg_array_data(visits);
	for (size_t i = 0; i < n; i++) {
		o[i] = -1.0;
		v[i] = 0;
	}
	struct fill_args a = {ARGS_MAGIC, n, offset, brg_pool_size(pool), 0};
	brg_array *arrays[2] = {out, visits};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &fill,
		.n = n,
		.sched = sc->s,
		.args = &a,
		.args_size = sizeof a,
		.arrays = arrays,
		.narrays = 2,
	};
	brg_job_result res = {.size = sizeof res};
	int r = brg_pool_run(pool, &d, &res);
	if (r)
		TEST_FAIL_("P=%d n=%zu %s: job returned %d (%s), range [%zu, %zu) worker %d",
			   brg_pool_size(pool), n, sc->name, r, brg_err_name(r), res.err_begin,
			   res.err_end, res.err_worker);
	CHECK_EQ(res.status, r);
	size_t bad_val = 0, bad_visit = 0, first = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		int bv = o[i] != ref_f(i, offset), bc = v[i] != 1;
		bad_val += bv;
		bad_visit += bc;
		if ((bv || bc) && first == SIZE_MAX)
			first = i;
	}
	if (bad_val || bad_visit)
		TEST_FAIL_("P=%d n=%zu %s: %zu wrong values, %zu indices not visited exactly once; "
			   "first at %zu: value %g visits %d",
			   brg_pool_size(pool), n, sc->name, bad_val, bad_visit, first, o[first],
			   (int)v[first]);
}

static void test_schedules(brg_pool *pool)
{
	int P = brg_pool_size(pool);
	size_t ns[] = {0, 1, (size_t)(P - 1), 7919, 104729, 10000000};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		size_t n = ns[k];
		/* Made after the pool started: the workers must open them by name. */
		brg_array *out = test_array_new("sch-out", BRG_F64, n ? n : 1);
		brg_array *visits = test_array_new("sch-visits", BRG_I32, n ? n : 1);
		for (int s = 0; s < NSCHED; s++) {
			uint64_t t0 = pu_mono_ns();
			run_fill(pool, out, visits, n, &scheds[s], (int64_t)(k * 10 + (size_t)s));
			if (n >= 10000000)
				printf("P=%d n=%zu %-10s %.3f s\n", P, n, scheds[s].name,
				       (double)(pu_mono_ns() - t0) / 1e9);
		}
		/* The auto schedule again, now with a measured cost. */
		run_fill(pool, out, visits, n, &scheds[NSCHED - 1], 3);
		test_array_drop(out);
		test_array_drop(visits);
	}
}

/* The same name made again with another size: workers must not keep the old mapping. */
static void test_recreated_array(brg_pool *pool)
{
	brg_array *out = test_array_new("sch-re-out", BRG_F64, 5000);
	brg_array *visits = test_array_new("sch-re-visits", BRG_I32, 5000);
	run_fill(pool, out, visits, 5000, &scheds[1], 1);
	test_array_drop(out);
	test_array_drop(visits);
	out = test_array_new("sch-re-out", BRG_F64, 20011);
	visits = test_array_new("sch-re-visits", BRG_I32, 20011);
	run_fill(pool, out, visits, 20011, &scheds[1], 2);
	run_fill(pool, out, visits, 20011, &scheds[0], 3);
	test_array_drop(out);
	test_array_drop(visits);
}

/* ---- a kernel that fails on one range ---- */
struct err_args {
	uint64_t bad;
	int code;
	int pad;
};

static int err_kernel(const brg_task *t)
{
	const struct err_args *a = t->args;
	if (t->begin <= a->bad && a->bad < t->end)
		return a->code;
	return 0;
}

static const brg_kernel errk = {"err", err_kernel, 0};

static void test_errors(brg_pool *pool)
{
	int P = brg_pool_size(pool);
	size_t n = 104729;
	brg_array *out = test_array_new("sch-err-out", BRG_F64, n);
	brg_array *visits = test_array_new("sch-err-visits", BRG_I32, n);
	for (int s = 0; s < NSCHED; s++) {
		for (int c = 0; c < 2; c++) {
			struct err_args a = {test_rand() % n, c ? 7 : -EDOM, 0};
			int want = c ? BRG_EKERNEL : -EDOM;
			brg_job_desc d = {
				.size = sizeof d,
				.kernel = &errk,
				.n = n,
				.sched = scheds[s].s,
				.args = &a,
				.args_size = sizeof a,
			};
			brg_job_result res = {.size = sizeof res};
			int r = brg_pool_run(pool, &d, &res);
			CHECK_EQ(r, want);
			CHECK_EQ(res.status, want);
			if (!(res.err_begin <= a.bad && a.bad < res.err_end))
				TEST_FAIL_("P=%d %s: error range [%zu, %zu) does not hold bad index "
					   "%llu",
					   P, scheds[s].name, res.err_begin, res.err_end,
					   (unsigned long long)a.bad);
			CHECK(res.err_worker >= 0 && res.err_worker < P);
			/* The pool runs the next job fine. */
			run_fill(pool, out, visits, n, &scheds[s], 11);
		}
	}
	test_array_drop(out);
	test_array_drop(visits);
}

/* ---- the argument block ---- */
struct big_args {
	unsigned char bytes[BRG_ARGS_MAX];
};

static int args_kernel(const brg_task *t)
{
	const unsigned char *b = t->args;
	for (int i = 0; i < BRG_ARGS_MAX; i++)
		if (b[i] != (unsigned char)(i * 31 + 7))
			return -EPROTO;
	return 0;
}

static const brg_kernel argsk = {"args", args_kernel, BRG_KERNEL_IDEMPOTENT};

static void test_args(brg_pool *pool)
{
	static unsigned char block[BRG_ARGS_MAX + 1];
	for (int i = 0; i <= BRG_ARGS_MAX; i++)
		block[i] = (unsigned char)(i * 31 + 7);
	brg_schedule dyn = {BRG_SCHED_DYNAMIC, 1};
	/* A full block arrives whole in every participant. */
	CHECK_EQ(brg_pool_for(pool, &argsk, 1000, dyn, NULL, 0, block, BRG_ARGS_MAX), 0);
	CHECK_EQ(brg_pool_for(pool, &argsk, 1000, dyn, NULL, 0, block, BRG_ARGS_MAX + 1),
		 BRG_EARGSIZE);
	CHECK_EQ(brg_pool_for(pool, &argsk, 1000, dyn, NULL, 0, block, (size_t)-1), BRG_EARGSIZE);
	CHECK_EQ(brg_pool_for(pool, &argsk, 1000, dyn, NULL, 0, NULL, 16), -EINVAL);
	/* A refused job left no job in flight. */
	CHECK_EQ(brg_pool_for(pool, &argsk, 1000, dyn, NULL, 0, block, BRG_ARGS_MAX), 0);

	/* The block is copied at submit: changing ours afterwards changes nothing. */
	size_t n = 30011;
	brg_array *out = test_array_new("sch-args-out", BRG_F64, n);
	brg_array *visits = test_array_new("sch-args-visits", BRG_I32, n);
	double *o = brg_array_data(out);
	struct fill_args a = {ARGS_MAGIC, n, 42, brg_pool_size(pool), 0};
	brg_array *arrays[2] = {out, visits};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &fill,
		.n = n,
		.sched = {BRG_SCHED_DYNAMIC, 64},
		.args = &a,
		.args_size = sizeof a,
		.arrays = arrays,
		.narrays = 2,
	};
	brg_job *job = NULL;
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	a.offset = 99;
	a.magic = 0;
	CHECK_EQ(brg_job_wait(job, 20000, NULL), 0);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += o[i] != ref_f(i, 42);
	CHECK_EQ(bad, 0);
	test_array_drop(out);
	test_array_drop(visits);
}

/* ---- submit / wait ---- */

/* Workers hold their range until the caller opens the gate (ctl[1]); the caller's range
 * waits until every worker holds one (ctl[0]).  Bounded: 20 s, then -ETIMEDOUT. */
static int gate_kernel(const brg_task *t)
{
	int64_t *g = brg_array_data(t->arrays[0]);
	const int32_t *participants = t->args;
	uint64_t t0 = pu_mono_ns();
	if (t->worker != 0) {
		__atomic_fetch_add(&g[0], 1, __ATOMIC_SEQ_CST);
		while (!__atomic_load_n(&g[1], __ATOMIC_SEQ_CST))
			if (pu_mono_ns() - t0 > 20000000000ull)
				return -ETIMEDOUT;
			else
				sched_yield();
	} else {
		while (__atomic_load_n(&g[0], __ATOMIC_SEQ_CST) < *participants - 1)
			if (pu_mono_ns() - t0 > 20000000000ull)
				return -ETIMEDOUT;
			else
				sched_yield();
	}
	return 0;
}

static const brg_kernel gatek = {"gate", gate_kernel, 0};

static void test_async(brg_pool *pool)
{
	int P = brg_pool_size(pool);
	size_t n = 50000;
	brg_array *out = test_array_new("sch-async-out", BRG_F64, n);
	brg_array *visits = test_array_new("sch-async-visits", BRG_I32, n);
	int32_t *v = brg_array_data(visits);
	struct fill_args a = {ARGS_MAGIC, n, 5, P, 0};
	brg_array *arrays[2] = {out, visits};
	brg_job_desc d = {
		.size = sizeof d,
		.kernel = &fill,
		.n = n,
		.sched = {BRG_SCHED_GUIDED, 3},
		.args = &a,
		.args_size = sizeof a,
		.arrays = arrays,
		.narrays = 2,
	};
	brg_job *job = NULL, *job2 = (brg_job *)&d;
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	REQUIRE(job != NULL);
	CHECK_EQ(brg_pool_submit(pool, &d, &job2), BRG_EBUSY);
	CHECK(job2 == NULL);
	CHECK_EQ(brg_pool_for(pool, &fill, n, d.sched, NULL, 0, &a, sizeof a), BRG_EBUSY);
	brg_job_result res = {.size = sizeof res};
	CHECK_EQ(brg_job_wait(job, 20000, &res), 0);
	CHECK_EQ(res.status, 0);
	CHECK_EQ(res.err_worker, -1);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += v[i] != 1;
	CHECK_EQ(bad, 0);
	/* The handle is gone: waiting again is refused, a new submit is accepted. */
	CHECK_EQ(brg_job_wait(job, 0, NULL), -EINVAL);
	brg_job_result shortres = {.size = 8};
	REQUIRE_EQ(brg_pool_submit(pool, &d, &job), 0);
	CHECK_EQ(brg_job_wait(job, 20000, &shortres), -EINVAL);
	CHECK_EQ(brg_job_wait(job, 20000, NULL), 0);
	test_array_drop(out);
	test_array_drop(visits);

	if (P < 2)
		return;
	/* A job the workers cannot finish yet: waiting with a limit times out and leaves it
	 * in flight; waiting again after the gate opens collects it. */
	brg_array *gate = test_array_new("sch-gate", BRG_I64, 2);
	int64_t *g = brg_array_data(gate);
	int32_t participants = P;
	brg_array *garr[1] = {gate};
	brg_job_desc gd = {
		.size = sizeof gd,
		.kernel = &gatek,
		.n = (size_t)P * 1000,
		.sched = {BRG_SCHED_STATIC, 0},
		.args = &participants,
		.args_size = sizeof participants,
		.arrays = garr,
		.narrays = 1,
	};
	REQUIRE_EQ(brg_pool_submit(pool, &gd, &job), 0);
	CHECK_EQ(brg_job_wait(job, 0, NULL), -ETIMEDOUT);
	CHECK_EQ(__atomic_load_n(&g[0], __ATOMIC_SEQ_CST), P - 1);
	CHECK_EQ(brg_job_wait(job, 5, NULL), -ETIMEDOUT);
	CHECK_EQ(brg_pool_submit(pool, &gd, &job2), BRG_EBUSY);
	__atomic_store_n(&g[1], 1, __ATOMIC_SEQ_CST);
	CHECK_EQ(brg_job_wait(job, 20000, &res), 0);
	CHECK_EQ(res.status, 0);
	test_array_drop(gate);
}

/* ---- pure functions ---- */
static void test_static_range(void)
{
	uint64_t ns[] = {0, 1, 2, 3, 7, 63, 64, 65, 1000, 7919, 104729, 10000000,
			 (1ull << 40) + 12345, UINT64_MAX / 2};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0] + 200; k++) {
		uint64_t n = k < sizeof ns / sizeof ns[0] ? ns[k] : test_rand() % 100000;
		for (uint32_t p = 1; p <= BRG__MAX_WORKERS; p = p < 9 ? p + 1 : p * 2 + 1) {
			uint64_t prev_end = 0, lo = UINT64_MAX, hi = 0;
			int ok = 1;
			for (uint32_t i = 0; i < p; i++) {
				uint64_t b, e;
				brg__static_range(n, p, i, &b, &e);
				if (b != prev_end || e < b) {
					TEST_FAIL_("static_range(%llu, %u, %u) = [%llu, %llu), "
						   "previous ended at %llu",
						   (unsigned long long)n, p, i, (unsigned long long)b,
						   (unsigned long long)e,
						   (unsigned long long)prev_end);
					ok = 0;
					break;
				}
				prev_end = e;
				lo = e - b < lo ? e - b : lo;
				hi = e - b > hi ? e - b : hi;
			}
			if (!ok)
				continue;
			if (prev_end != n)
				TEST_FAIL_("static_range(%llu, %u): ranges end at %llu",
					   (unsigned long long)n, p, (unsigned long long)prev_end);
			if (hi - lo > 1)
				TEST_FAIL_("static_range(%llu, %u): sizes %llu..%llu differ by more "
					   "than one",
					   (unsigned long long)n, p, (unsigned long long)lo,
					   (unsigned long long)hi);
		}
	}
}

static void test_sched_chunk(void)
{
	for (int k = 0; k < 300; k++) {
		uint64_t n = k < 10 ? (uint64_t)k + 1 : 1 + test_rand() % 10000000;
		uint32_t p = 1 + (uint32_t)(test_rand() % 64);
		uint64_t min = test_rand() % 4 == 0 ? 0 : 1 + test_rand() % 100;
		uint64_t eff_min = min ? min : 1;
		/* Guided: chunks never grow, each is at least the minimum (or what is left) and
		 * at least remaining / (2p); together they cover n exactly. */
		uint64_t rem = n, prev = UINT64_MAX, steps = 0;
		while (rem) {
			uint64_t c = brg__sched_chunk(BRG_SCHED_GUIDED, min, rem, p);
			uint64_t want_lo = eff_min < rem ? eff_min : rem;
			uint64_t g = (rem + 2ull * p - 1) / (2ull * p);
			if (c < want_lo || c > rem || c < (g < rem ? g : rem) || c > prev) {
				TEST_FAIL_("guided chunk(min %llu, rem %llu, p %u) = %llu (previous "
					   "%llu)",
					   (unsigned long long)min, (unsigned long long)rem, p,
					   (unsigned long long)c, (unsigned long long)prev);
				break;
			}
			/* Shrinking: once well above the minimum, a chunk is about 1/(2p) of
			 * what is left, never all of it while others could share. */
			if (p > 1 && rem > 4 * p * eff_min && c > rem / 2)
				TEST_FAIL_("guided chunk %llu of %llu with p %u does not shrink",
					   (unsigned long long)c, (unsigned long long)rem, p);
			prev = c;
			rem -= c;
			steps++;
		}
		if (p > 1 && n > 1000 * eff_min * p)
			CHECK(steps > 2 * p);
		/* Dynamic: the chunk as asked (0 means 1), cut at what is left. */
		rem = n;
		uint64_t c = brg__sched_chunk(BRG_SCHED_DYNAMIC, min, rem, p);
		CHECK_EQ(c, eff_min < rem ? eff_min : rem);
		CHECK_EQ(brg__sched_chunk(BRG_SCHED_DYNAMIC, min, 1, p), 1);
	}
}

static void test_auto_chunk(void)
{
	for (int k = 0; k < 2000; k++) {
		uint64_t n = 1 + test_rand() % (k % 2 ? 100000000 : 100000);
		uint32_t p = 1 + (uint32_t)(test_rand() % 16);
		double claim = 20.0 + (double)(test_rand() % 2000);
		/* From 0.01 ns to 10 ms per index (and 0: nothing measured). */
		double ns = k % 7 == 0 ? 0.0 : pow(10.0, -2.0 + 9.0 * (double)(test_rand() % 1000) / 1000.0);
		uint64_t c = brg__auto_chunk(n, p, ns, claim);
		uint64_t cap = n / (4ull * p) ? n / (4ull * p) : 1;
		if (c < 1 || c > n) {
			TEST_FAIL_("auto_chunk(n %llu, p %u, %g ns, claim %g) = %llu out of [1, n]",
				   (unsigned long long)n, p, ns, claim, (unsigned long long)c);
			continue;
		}
		double want = 100.0 * claim / (ns > 0 ? ns : 1);
		if (ns > 0 && want + 1 <= (double)cap) {
			/* It fits (a whole chunk above the 1% bound is within n/(4P)): the claim
			 * is under 1% of the chunk's work, and every participant still gets at
			 * least 4 chunks. */
			if (100.0 * claim > (double)c * ns || c > cap)
				TEST_FAIL_("auto_chunk(n %llu, p %u, %g ns, claim %g) = %llu: want "
					   ">= %g and <= %llu",
					   (unsigned long long)n, p, ns, claim, (unsigned long long)c,
					   want, (unsigned long long)cap);
		} else if (ns > 0) {
			/* It does not fit: the 1% rule as far as every participant keeps work. */
			uint64_t share = (n + p - 1) / p;
			if (c > share || (want <= (double)share && 100.0 * claim > (double)c * ns))
				TEST_FAIL_("auto_chunk(n %llu, p %u, %g ns, claim %g) = %llu (share "
					   "%llu)",
					   (unsigned long long)n, p, ns, claim, (unsigned long long)c,
					   (unsigned long long)share);
		} else {
			CHECK_EQ(c, cap); /* nothing measured: the coarsest that still balances */
		}
	}
	/* A large per-index cost: at least 4 chunks per participant. */
	for (uint32_t p = 1; p <= 8; p++) {
		uint64_t n = 100000;
		uint64_t c = brg__auto_chunk(n, p, 1e6, 50);
		CHECK((n + c - 1) / c >= 4ull * p);
		/* A cheap kernel: chunks big enough to pay for the claim. */
		c = brg__auto_chunk(10000000, p, 1.0, 100.0);
		CHECK(c >= 10000 && c <= 10000000 / (4ull * p));
	}
}

/* A job of more units than a range word counts (BRG__POS_MAX): handed out in grains of
 * several units, every chunk starts on a grain and the chunks tile [0, n).  Each chunk is
 * recorded in memory shared with the workers (mapped before the pool forks them). */
#define GRAIN_CHUNKS (1u << 18)
struct grain_map {
	uint64_t n, grain, count, misaligned;
	struct {
		uint64_t begin, end;
	} chunk[GRAIN_CHUNKS];
};
static struct grain_map *gmap;

static int grain_kernel(const brg_task *t)
{
	struct grain_map *m = gmap;
	if (t->begin % m->grain || (t->end != m->n && t->end % m->grain))
		__atomic_add_fetch(&m->misaligned, 1, __ATOMIC_RELAXED);
	uint64_t i = __atomic_fetch_add(&m->count, 1, __ATOMIC_RELAXED);
	if (i < GRAIN_CHUNKS) {
		m->chunk[i].begin = t->begin;
		m->chunk[i].end = t->end;
	}
	return 0;
}

static int by_begin(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_grains(brg_pool *pool)
{
	static const brg_kernel k = {"grains", grain_kernel, 0};
	const uint64_t n = 3 * BRG__POS_MAX + 7;
	CHECK_EQ(brg__grain(n), 4);
	static const brg_schedule kinds[] = {{BRG_SCHED_STATIC, 0}, {BRG_SCHED_DYNAMIC, 4096},
					     {BRG_SCHED_GUIDED, 4096}};
	for (size_t s = 0; s < sizeof kinds / sizeof kinds[0]; s++) {
		memset(gmap, 0, offsetof(struct grain_map, chunk));
		gmap->n = n;
		gmap->grain = brg__grain(n);
		CHECK_EQ(brg_pool_for(pool, &k, n, kinds[s], NULL, 0, NULL, 0), 0);
		CHECK_EQ(gmap->misaligned, 0);
		uint64_t count = gmap->count;
		REQUIRE(count > 0 && count <= GRAIN_CHUNKS);
		qsort(gmap->chunk, count, sizeof gmap->chunk[0], by_begin);
		CHECK_EQ(gmap->chunk[0].begin, 0);
		CHECK_EQ(gmap->chunk[count - 1].end, n);
		for (uint64_t i = 0; i + 1 < count; i++)
			if (gmap->chunk[i].end != gmap->chunk[i + 1].begin) {
				TEST_FAIL_("chunk %llu ends at %llu, the next begins at %llu",
					   (unsigned long long)i,
					   (unsigned long long)gmap->chunk[i].end,
					   (unsigned long long)gmap->chunk[i + 1].begin);
				break;
			}
	}
}

int main(int argc, char **argv)
{
	test_init_pools();
	if (argc != 2) {
		fprintf(stderr, "usage: %s units | PARTICIPANTS\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "units")) {
		test_static_range();
		test_sched_chunk();
		test_auto_chunk();
		return pu_done();
	}
	int P = atoi(argv[1]);
	REQUIRE(P >= 1 && P <= 64);
	gmap = mmap(NULL, sizeof *gmap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(gmap != MAP_FAILED);
	brg_pool *pool = test_pool_new(P, BRG_BIND_COMPACT, "sch-pool");
	test_args(pool);
	test_async(pool);
	test_errors(pool);
	test_recreated_array(pool);
	test_schedules(pool);
	test_grains(pool);
	brg_pool_destroy(pool);
	munmap(gmap, sizeof *gmap);
	return pu_done();
}
