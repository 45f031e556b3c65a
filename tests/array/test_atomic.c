/* SPDX-License-Identifier: MIT */
/* test_atomic.c - atomic counters on integer array elements: values and wrapping at each
 * width, compare-exchange, refusals, and processes adding to one counter at once (each opens
 * the array by name: handles do not cross fork). */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "arrayutil.h"

static brg_array *make(const char *tag, brg_dtype dt, size_t n)
{
	brg_array *a = NULL;
	size_t shape[1] = {n};
	REQUIRE_EQ(brg_array_create(&a, test_name(tag), dt, 1, shape, NULL), 0);
	return a;
}

static void test_widths(void)
{
	int64_t v = 0, seen = 0;
	brg_array *u32 = make("at-u32", BRG_U32, 4), *i32 = make("at-i32", BRG_I32, 4);
	brg_array *u64 = make("at-u64", BRG_U64, 4), *i64 = make("at-i64", BRG_I64, 4);

	/* u32: zero-extended, wraps at 2^32 */
	CHECK_EQ(brg_atomic_store(u32, 1, UINT32_MAX), 0);
	CHECK_EQ(brg_atomic_fetch_add(u32, 1, 1, &v), 0);
	CHECK_EQ(v, (int64_t)UINT32_MAX);
	CHECK_EQ(brg_atomic_load(u32, 1, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(brg_atomic_fetch_add(u32, 1, -1, NULL), 0);
	CHECK_EQ(((uint32_t *)brg_array_data(u32))[1], UINT32_MAX);
	/* i32: sign-extended, wraps at 2^31 */
	CHECK_EQ(brg_atomic_store(i32, 3, INT32_MAX), 0);
	CHECK_EQ(brg_atomic_fetch_add(i32, 3, 1, &v), 0);
	CHECK_EQ(v, INT32_MAX);
	CHECK_EQ(brg_atomic_load(i32, 3, &v), 0);
	CHECK_EQ(v, INT32_MIN);
	CHECK_EQ(((int32_t *)brg_array_data(i32))[2], 0); /* the neighbours untouched */
	/* u64 and i64: the bits */
	CHECK_EQ(brg_atomic_store(u64, 0, -1), 0);
	CHECK(((uint64_t *)brg_array_data(u64))[0] == UINT64_MAX);
	CHECK_EQ(brg_atomic_fetch_add(u64, 0, 2, &v), 0);
	CHECK_EQ(v, -1);
	CHECK_EQ(((uint64_t *)brg_array_data(u64))[0], 1);
	CHECK_EQ(brg_atomic_fetch_add(i64, 0, INT64_MIN, NULL), 0);
	CHECK_EQ(brg_atomic_fetch_add(i64, 0, -1, &v), 0);
	CHECK_EQ(v, INT64_MIN);
	CHECK_EQ(brg_atomic_load(i64, 0, &v), 0);
	CHECK_EQ(v, INT64_MAX);

	/* compare-exchange */
	CHECK_EQ(brg_atomic_cas(i64, 1, 0, 7, &seen), 1);
	CHECK_EQ(seen, 0);
	CHECK_EQ(brg_atomic_cas(i64, 1, 0, 9, &seen), 0);
	CHECK_EQ(seen, 7);
	CHECK_EQ(brg_atomic_cas(i64, 1, 7, 9, NULL), 1);
	CHECK_EQ(brg_atomic_cas(i32, 0, 0, -5, &seen), 1);
	CHECK_EQ(brg_atomic_cas(i32, 0, -5, 6, &seen), 1);
	CHECK_EQ(seen, -5);
	/* a value the element cannot hold never matches, even when its low bits would */
	CHECK_EQ(brg_atomic_cas(i32, 0, 6 + (1ll << 32), 8, &seen), 0);
	CHECK_EQ(seen, 6);
	CHECK_EQ(brg_atomic_store(u32, 0, UINT32_MAX), 0);
	CHECK_EQ(brg_atomic_cas(u32, 0, -1, 0, &seen), 0);
	CHECK_EQ(seen, (int64_t)UINT32_MAX);
	CHECK_EQ(brg_atomic_cas(u32, 0, UINT32_MAX, 0, &seen), 1);

	test_array_drop(u32);
	test_array_drop(i32);
	test_array_drop(u64);
	test_array_drop(i64);
}

static void test_refusals(void)
{
	int64_t v = 0;
	brg_array *f = make("at-f64", BRG_F64, 4), *b = make("at-u8", BRG_U8, 4);
	brg_array *c = make("at-ro", BRG_I64, 4);
	CHECK_EQ(brg_atomic_fetch_add(NULL, 0, 1, &v), -EINVAL);
	CHECK_EQ(brg_atomic_load(c, 0, NULL), -EINVAL);
	CHECK_EQ(brg_atomic_fetch_add(f, 0, 1, &v), BRG_EDTYPE);
	CHECK_EQ(brg_atomic_cas(b, 0, 0, 1, &v), BRG_EDTYPE);
	CHECK_EQ(brg_atomic_load(f, 0, &v), BRG_EDTYPE);
	CHECK_EQ(brg_atomic_fetch_add(c, 4, 1, &v), -ERANGE);
	CHECK_EQ(brg_atomic_store(c, SIZE_MAX, 1), -ERANGE);
	CHECK_EQ(brg_atomic_store(c, 3, 42), 0);
	brg_array *ro = NULL;
	REQUIRE_EQ(brg_array_open(&ro, brg_array_name(c), 0), 0);
	CHECK_EQ(brg_atomic_fetch_add(ro, 3, 1, &v), BRG_EREADONLY);
	CHECK_EQ(brg_atomic_cas(ro, 3, 42, 1, &v), BRG_EREADONLY);
	CHECK_EQ(brg_atomic_store(ro, 3, 1), BRG_EREADONLY);
	CHECK_EQ(brg_atomic_load(ro, 3, &v), 0); /* reading is fine */
	CHECK_EQ(v, 42);
	brg_array_close(ro);
	test_array_drop(f);
	test_array_drop(b);
	test_array_drop(c);
}

/* Processes adding to one counter with fetch-add, and to another with a compare-exchange
 * loop, at once: both exact.  A process killed among them leaves each counter at a count of
 * whole additions. */
#define PROCS 4
#define ADDS 50000
static void test_processes(void)
{
	brg_array *a = make("at-procs", BRG_I64, 3);
	const char *name = brg_array_name(a);
	pid_t pids[PROCS + 1];
	for (int p = 0; p <= PROCS; p++) {
		pids[p] = fork();
		REQUIRE(pids[p] >= 0);
		if (pids[p])
			continue;
		brg_array *mine = NULL;
		if (brg_array_open(&mine, name, BRG_OPEN_WRITE))
			_exit(2);
		if (p == PROCS) { /* the victim: adds 1 to both counters until killed */
			for (;;) {
				brg_atomic_fetch_add(mine, 2, 1, NULL);
				brg_atomic_fetch_add(mine, 2, -1, NULL);
			}
		}
		for (int i = 0; i < ADDS; i++) {
			if (brg_atomic_fetch_add(mine, 0, 1, NULL))
				_exit(3);
			int64_t seen = 0;
			if (brg_atomic_load(mine, 1, &seen))
				_exit(3);
			while (brg_atomic_cas(mine, 1, seen, seen + 2, &seen) == 0)
				;
		}
		_exit(0);
	}
	for (int p = 0; p < PROCS; p++) {
		int st = 0;
		REQUIRE_EQ(waitpid(pids[p], &st, 0), pids[p]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	kill(pids[PROCS], SIGKILL);
	REQUIRE_EQ(waitpid(pids[PROCS], NULL, 0), pids[PROCS]);
	int64_t v = -1;
	CHECK_EQ(brg_atomic_load(a, 0, &v), 0);
	CHECK_EQ(v, PROCS * ADDS);
	CHECK_EQ(brg_atomic_load(a, 1, &v), 0);
	CHECK_EQ(v, 2 * PROCS * ADDS);
	CHECK_EQ(brg_atomic_load(a, 2, &v), 0); /* killed between +1 and -1, or after: 0 or 1 */
	CHECK(v == 0 || v == 1);
	test_array_drop(a);
}

int main(void)
{
	test_init();
	test_widths();
	test_refusals();
	test_processes();
	return test_done();
}
