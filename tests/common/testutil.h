/* SPDX-License-Identifier: MIT */
/* testutil.h - assertion macros and helpers shared by every test program. */
#ifndef BRG_TESTUTIL_H
#define BRG_TESTUTIL_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "brigade.h"

#define TEST_SKIP 77

/* Segments a test made, removed at exit even when an assertion fails. */
#define TEST_MAX_SEGMENTS 256
static char test_segments[TEST_MAX_SEGMENTS][BRG_NAME_MAX + 1];
static int test_nsegments;
static int test_failures;
static unsigned long long test_seed;  /* the generator's state */
static unsigned long long test_seed0; /* where it started: what reproduces a run */

static void test_cleanup(void)
{
	for (int i = 0; i < test_nsegments; i++) {
		char path[BRG_NAME_MAX + 16];
		snprintf(path, sizeof path, "/dev/shm/%.200s", test_segments[i]);
		unlink(path); /* may already be gone; raw unlink also removes corrupted ones */
	}
	test_nsegments = 0;
}

/* A unique segment name "brgt-<pid>-<test>-<tag>", remembered for cleanup. */
static inline const char *test_name(const char *tag)
{
	static char buf[TEST_MAX_SEGMENTS][BRG_NAME_MAX + 1];
	static int next;
	char *out = buf[next++ % TEST_MAX_SEGMENTS];
	/* The result is checked, which also tells gcc the truncation is handled. */
	if (snprintf(out, BRG_NAME_MAX + 1, "brgt-%d-%s", (int)getpid(), tag) > BRG_NAME_MAX)
		out[BRG_NAME_MAX] = 0;
	/* Remembered once however often a tag is reused (the list is finite). */
	for (int i = 0; i < test_nsegments; i++)
		if (!strcmp(test_segments[i], out))
			return out;
	if (test_nsegments < TEST_MAX_SEGMENTS)
		snprintf(test_segments[test_nsegments++], BRG_NAME_MAX + 1, "%.200s", out);
	return out;
}

static inline void test_init(void)
{
	const char *s = getenv("BRG_TEST_SEED");
	test_seed = s ? strtoull(s, NULL, 0) : (unsigned long long)getpid() * 2654435761ull;
	test_seed0 = test_seed;
	atexit(test_cleanup);
}

/* xorshift64*: reproducible from test_seed, printed on failure. */
static inline uint64_t test_rand(void)
{
	test_seed ^= test_seed >> 12;
	test_seed ^= test_seed << 25;
	test_seed ^= test_seed >> 27;
	return test_seed * 2685821657736338717ull;
}

#define TEST_FAIL_(...)                                                                    \
	do {                                                                               \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                            \
		fprintf(stderr, __VA_ARGS__);                                              \
		fprintf(stderr, " (BRG_TEST_SEED=%llu)\n", test_seed0);                    \
		test_failures++;                                                           \
	} while (0)

/* Integers only (a float passed to CHECK_EQ fails to compile: CHECK_FEQ compares floats);
 * each side keeps its signedness, so -1 never equals SIZE_MAX. */
#define TEST_IS_FLOAT_(x) _Generic((x), float: 1, double: 1, long double: 1, default: 0)
#define TEST_IS_UNSIGNED_(x)                                                                   \
	_Generic((x), _Bool: 1, unsigned char: 1, unsigned short: 1, unsigned int: 1,          \
		 unsigned long: 1, unsigned long long: 1, default: 0)

struct test_int_ {
	long long s;
	unsigned long long u;
	int is_unsigned;
};

static inline int test_int_eq_(struct test_int_ a, struct test_int_ b)
{
	if (a.is_unsigned && b.is_unsigned)
		return a.u == b.u;
	if (!a.is_unsigned && !b.is_unsigned)
		return a.s == b.s;
	const struct test_int_ *sg = a.is_unsigned ? &b : &a, *un = a.is_unsigned ? &a : &b;
	return sg->s >= 0 && (unsigned long long)sg->s == un->u;
}

static inline const char *test_int_text_(struct test_int_ v, char *buf, size_t len)
{
	if (v.is_unsigned)
		snprintf(buf, len, "%llu", v.u);
	else
		snprintf(buf, len, "%lld (%s)", v.s, brg_err_name((int)v.s));
	return buf;
}

/* x, evaluated once (it may be a call), with its signedness. */
#define TEST_INT_(x, v)                                                                        \
	__typeof__(x) v##x_ = (x);                                                             \
	struct test_int_ v = {(long long)v##x_, (unsigned long long)v##x_, TEST_IS_UNSIGNED_(x)}

/* Integer equality; prints both values and, for signed ones (brigade codes), their names.
 * Each side is evaluated once. */
#define CHECK_EQ(a, b)                                                                         \
	do {                                                                                   \
		_Static_assert(!TEST_IS_FLOAT_(a) && !TEST_IS_FLOAT_(b),                       \
			       "CHECK_EQ compares integers; CHECK_FEQ compares floats");        \
		TEST_INT_(a, va_);                                                             \
		TEST_INT_(b, vb_);                                                             \
		if (!test_int_eq_(va_, vb_)) {                                                 \
			char ta_[64], tb_[64];                                                 \
			TEST_FAIL_("CHECK_EQ(%s, %s): %s != %s", #a, #b,                       \
				   test_int_text_(va_, ta_, sizeof ta_),                       \
				   test_int_text_(vb_, tb_, sizeof tb_));                      \
		}                                                                              \
	} while (0)

/* Floating-point equality: the same value (== , so -0.0 equals 0.0), or both NaN. */
#define CHECK_FEQ(a, b)                                                                        \
	do {                                                                                   \
		double fa_ = (double)(a), fb_ = (double)(b);                                   \
		if (!(fa_ == fb_ || (fa_ != fa_ && fb_ != fb_)))                               \
			TEST_FAIL_("CHECK_FEQ(%s, %s): %.17g != %.17g", #a, #b, fa_, fb_);     \
	} while (0)

/* The first index where n elements of `size` bytes at a and b differ, or n when none does. */
static inline size_t test_first_diff(const void *a, const void *b, size_t n, size_t size)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (memcmp(x + i * size, y + i * size, size))
			return i;
	return n;
}

/* Two arrays of n elements of `size` bytes the same, byte for byte; on a mismatch prints the
 * first index that differs and both elements' bytes. */
#define CHECK_SAME_ELEMS(a, b, n, size, ...)                                                   \
	do {                                                                                   \
		size_t n_ = (n), sz_ = (size);                                                 \
		size_t at_ = test_first_diff((a), (b), n_, sz_);                               \
		if (at_ < n_) {                                                                \
			char what_[160], ea_[40], eb_[40];                                     \
			snprintf(what_, sizeof what_, __VA_ARGS__);                            \
			test_hex_(ea_, sizeof ea_, (const unsigned char *)(a) + at_ * sz_, sz_); \
			test_hex_(eb_, sizeof eb_, (const unsigned char *)(b) + at_ * sz_, sz_); \
			TEST_FAIL_("%s: element %zu of %zu differs: %s != %s", what_, at_, n_,  \
				   ea_, eb_);                                                  \
		}                                                                              \
	} while (0)

static inline void test_hex_(char *buf, size_t len, const unsigned char *p, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = n; i-- > 0 && k + 3 < len;) /* little-endian: most significant first */
		k += (size_t)snprintf(buf + k, len - k, "%02x", p[i]);
}

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond))                                                               \
			TEST_FAIL_("CHECK(%s) failed", #cond);                             \
	} while (0)

/* A condition, and the message (printf format and arguments) when it does not hold. */
#define CHECK_MSG(cond, ...)                                                               \
	do {                                                                               \
		if (!(cond))                                                               \
			TEST_FAIL_(__VA_ARGS__);                                           \
	} while (0)

/* Like CHECK_EQ but gives up on the test at once (later steps depend on it). */
#define REQUIRE_EQ(a, b)                                                                   \
	do {                                                                               \
		int before_ = test_failures;                                               \
		CHECK_EQ(a, b);                                                            \
		if (test_failures != before_)                                              \
			exit(1);                                                           \
	} while (0)

#define REQUIRE(cond)                                                                      \
	do {                                                                               \
		if (!(cond)) {                                                             \
			TEST_FAIL_("REQUIRE(%s) failed", #cond);                           \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* Reaps a child that must have exited with 0 (what: for the message). */
static inline void test_reap_ok(pid_t pid, const char *what)
{
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		TEST_FAIL_("%s: child status 0x%x", what, st);
}

/* Reaps a child that must have died of SIGKILL. */
static inline void test_reap_killed(pid_t pid)
{
	int st = 0;
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Closes an array and removes its segment (the name is copied first: closing frees it). */
static inline void test_array_drop(brg_array *a)
{
	if (!a)
		return;
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", brg_array_name(a));
	brg_array_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

/* Exit status of a test program: 0 when every check held. */
static inline int test_done(void)
{
	if (test_failures)
		fprintf(stderr, "%d check(s) failed\n", test_failures);
	return test_failures ? 1 : 0;
}

/* ---- tests that make pools ---- */

/* The hang guard fired: say so, remove our segments, and exit (our workers follow through
 * PDEATHSIG).  Not strictly async-signal-safe (snprintf in the cleanup), but the process is
 * stuck anyway and this is its last act. */
static void test_on_alarm(int sig)
{
	static const char msg[] = "test still running after 100 s: giving up\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
	}
	test_cleanup();
	_exit(1);
}

/* test_init, a clean environment (the pool's overrides would change what a test asks for),
 * a hang guard, no core files from workers a test crashes, and the seed printed. */
static inline void test_init_pools(void)
{
	test_init();
	unsetenv("BRG_WORKERS");
	unsetenv("BRG_BIND");
	unsetenv("BRG_WAIT");
	/* Last resort: a hang fails the test instead of blocking CI.  Not inherited by fork. */
	signal(SIGALRM, test_on_alarm);
	alarm(100);
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* TEST_FAIL_ prints the generator's state at the failure; this is the seed to rerun. */
	printf("BRG_TEST_SEED=%llu\n", test_seed);
}

/* A fork pool of `workers` participants under a unique control block name (bind
 * BRG_BIND_DEFAULT: the default). */
static inline brg_pool *test_pool_new(int workers, brg_bind bind, const char *tag)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.bind = bind;
	o.name = test_name(tag);
	brg_pool *p = NULL;
	REQUIRE_EQ(brg_pool_create(&p, &o), 0);
	REQUIRE_EQ(brg_pool_size(p), workers);
	return p;
}

/* An array under a unique name (a dimension may be 0). */
static inline brg_array *test_array_new_nd(const char *tag, brg_dtype dt, int ndim,
					   const size_t *shape)
{
	brg_array *a = NULL;
	REQUIRE_EQ(brg_array_create(&a, test_name(tag), dt, ndim, shape, NULL), 0);
	return a;
}

static inline brg_array *test_array_new(const char *tag, brg_dtype dt, size_t n)
{
	return test_array_new_nd(tag, dt, 1, &n);
}

#endif
