/* SPDX-License-Identifier: MIT */
/* test_abi.c - the ABI promises: the structs as version 0.1 laid them out (abi01.h) keep
 * their layout, and a struct of that size handed in or filled works (1.0 changed the values
 * of some constants, which the soname's bump to 1 covers; the sizes are what this tests); a
 * longer struct from a later header is accepted while the bytes this library does not know
 * are zero, refused with -E2BIG otherwise, and refused over 4096 bytes (an unset size); a
 * struct the library fills gets no byte written past the caller's size and has what the
 * library does not know zeroed; brg_pool_info grew in 1.0 and serves both sizes; the version
 * calls and BRIGADE_CHECK_VERSION agree with the header. */
#include <errno.h>
#include <string.h>

#include "abi01.h"
#include "testutil.h"

/* The fields of the 0.1 struct sit where they sat. */
#define SAME(cur, old, f) _Static_assert(offsetof(cur, f) == offsetof(old, f), #cur "." #f)
SAME(brg_array_opts, abi01_array_opts, flags);
SAME(brg_array_opts, abi01_array_opts, mode);
_Static_assert(sizeof(abi01_array_opts) == BRG_ARRAY_OPTS_SIZE_VER0, "array opts VER0");
SAME(brg_segment_info, abi01_segment_info, name);
SAME(brg_segment_info, abi01_segment_info, kind);
SAME(brg_segment_info, abi01_segment_info, shape);
SAME(brg_segment_info, abi01_segment_info, flags);
SAME(brg_segment_info, abi01_segment_info, creator_alive);
SAME(brg_segment_info, abi01_segment_info, generation);
_Static_assert(sizeof(abi01_segment_info) == BRG_SEGMENT_INFO_SIZE_VER0, "segment info VER0");
SAME(brg_pool_opts, abi01_pool_opts, workers);
SAME(brg_pool_opts, abi01_pool_opts, bind);
SAME(brg_pool_opts, abi01_pool_opts, start);
SAME(brg_pool_opts, abi01_pool_opts, spin_us);
SAME(brg_pool_opts, abi01_pool_opts, worker_path);
_Static_assert(sizeof(abi01_pool_opts) == BRG_POOL_OPTS_SIZE_VER0, "pool opts VER0");
SAME(brg_job_desc, abi01_job_desc, kernel);
SAME(brg_job_desc, abi01_job_desc, sched);
SAME(brg_job_desc, abi01_job_desc, narrays);
SAME(brg_job_desc, abi01_job_desc, combine);
_Static_assert(sizeof(abi01_job_desc) == BRG_JOB_DESC_SIZE_VER0, "job desc VER0");
SAME(brg_job_result, abi01_job_result, status);
SAME(brg_job_result, abi01_job_result, err_worker);
SAME(brg_job_result, abi01_job_result, partial);
_Static_assert(sizeof(abi01_job_result) == BRG_JOB_RESULT_SIZE_VER0, "job result VER0");
SAME(brg_pool_info, abi01_pool_info, start_method);
SAME(brg_pool_info, abi01_pool_info, job_sched);
_Static_assert(sizeof(abi01_pool_info) == BRG_POOL_INFO_SIZE_VER0, "pool info VER0");
SAME(brg_worker_status, abi01_worker_status, state);
SAME(brg_worker_status, abi01_worker_status, busy_ns);
_Static_assert(sizeof(abi01_worker_status) == BRG_WORKER_STATUS_SIZE_VER0, "status VER0");
SAME(brg_place, abi01_place, cpuset);
_Static_assert(sizeof(abi01_place) == BRG_PLACE_SIZE_VER0, "place VER0");
SAME(brg_kernel, abi01_kernel, fn);
SAME(brg_kernel, abi01_kernel, flags);
_Static_assert(sizeof(abi01_kernel) == BRG_KERNEL_SIZE_VER0, "kernel VER0");

/* 1 when the n bytes at p are all zero. */
static int zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

static int sum_kernel(const brg_task *t)
{
	const double *x = brg_array_data(t->arrays[0]);
	double s = 0;
	for (size_t i = t->begin; i < t->end; i++)
		s += x[i];
	memcpy(t->scratch, &s, sizeof s);
	return 0;
}

static void sum_combine(void *into, const void *from, const void *args)
{
	double a, b;
	memcpy(&a, into, sizeof a);
	memcpy(&b, from, sizeof b);
	a += b;
	memcpy(into, &a, sizeof a);
}

static const brg_kernel sum_k = {"abi-sum", sum_kernel, BRG_KERNEL_IDEMPOTENT};

static void test_version(void)
{
	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", BRG_VERSION_MAJOR, BRG_VERSION_MINOR,
		 BRG_VERSION_PATCH);
	CHECK(!strcmp(brg_version(), want));
	CHECK_EQ(brg_version_major(), BRG_VERSION_MAJOR);
	CHECK_EQ(brg_version_minor(), BRG_VERSION_MINOR);
	CHECK_EQ(brg_version_patch(), BRG_VERSION_PATCH);
	CHECK(BRIGADE_CHECK_VERSION(BRG_VERSION_MAJOR, BRG_VERSION_MINOR, BRG_VERSION_PATCH));
	CHECK(!BRIGADE_CHECK_VERSION(BRG_VERSION_MAJOR, BRG_VERSION_MINOR, BRG_VERSION_PATCH + 1));
	CHECK(!BRIGADE_CHECK_VERSION(BRG_VERSION_MAJOR, BRG_VERSION_MINOR + 1, 0));
	CHECK(!BRIGADE_CHECK_VERSION(BRG_VERSION_MAJOR + 1, 0, 0));
	CHECK(BRIGADE_CHECK_VERSION(BRG_VERSION_MAJOR - 1, 99, 99));
	CHECK(BRIGADE_CHECK_VERSION(0, 1, 0));
}

/* Arrays: 0.1 options in, 0.1 info out; later, longer structs both ways. */
static brg_array *test_arrays(const char *name, size_t n)
{
	abi01_array_opts ao = {sizeof ao, BRG_CREATE_PERSISTENT, 0};
	brg_array *a = NULL;
	REQUIRE_EQ(brg_array_create(&a, name, BRG_F64, 1, &n, (const brg_array_opts *)&ao), 0);
	double *x = brg_array_data(a);
	for (size_t i = 0; i < n; i++)
		x[i] = (double)(i % 13);

	abi01_segment_info si;
	memset(&si, 0xa5, sizeof si);
	si.size = sizeof si;
	CHECK_EQ(brg_segment_stat(name, 0, (brg_segment_info *)&si), 0);
	CHECK(si.size == sizeof si && !strcmp(si.name, name) && si.kind == BRG_KIND_ARRAY &&
	      si.dtype == BRG_F64 && si.ndim == 1 && si.shape[0] == n && si.shape[1] == 0 &&
	      (si.flags & BRG_CREATE_PERSISTENT) && si.generation == 1 && si.creator_alive == 1);

	struct {
		abi01_segment_info i;
		uint64_t later[4];
	} big;
	memset(&big, 0xa5, sizeof big);
	big.i.size = sizeof big;
	CHECK_EQ(brg_segment_stat(name, 0, (brg_segment_info *)&big), 0);
	CHECK(big.i.size == sizeof big && big.i.shape[0] == n);
	CHECK(zero(big.later, sizeof big.later)); /* what this library does not know: zeroed */
	big.i.size = BRG_SEGMENT_INFO_SIZE_VER0 - 8;
	CHECK_EQ(brg_segment_stat(name, 0, (brg_segment_info *)&big), -EINVAL);

	/* Longer options: zero tail accepted, anything else -E2BIG; shorter than 0.1: -EINVAL. */
	const char *other = test_name("abi-arr-b");
	struct {
		abi01_array_opts o;
		uint64_t later[2];
	} fut = {{sizeof fut, 0, 0}, {0, 0}};
	brg_array *b = NULL;
	CHECK_EQ(brg_array_create(&b, other, BRG_U8, 1, &n, (const brg_array_opts *)&fut), 0);
	if (b)
		test_array_drop(b);
	fut.later[1] = 1;
	CHECK_EQ(brg_array_create(&b, other, BRG_U8, 1, &n, (const brg_array_opts *)&fut), -E2BIG);
	ao.size = 8;
	CHECK_EQ(brg_array_create(&b, other, BRG_U8, 1, &n, (const brg_array_opts *)&ao), -EINVAL);
	brg_segment_info gone = {.size = sizeof gone};
	CHECK_EQ(brg_segment_stat(other, 0, &gone), -ENOENT); /* refused: nothing made */
	return a;
}

/* A pool from 0.1 options, a reduction from a 0.1 descriptor and result, its status into
 * 0.1 records, and all of them longer. */
static void test_pool(brg_array *a, size_t n, const char *pname)
{
	abi01_pool_opts po = {.size = sizeof po, .workers = 2, .name = pname};
	brg_pool *pool = NULL;
	struct {
		abi01_pool_opts o;
		uint64_t later[5]; /* 1.1's four fields, then one this library does not know */
	} fut = {{.size = sizeof fut, .workers = 2, .name = pname}, {0, 0, 0, 0, 7}};
	CHECK_EQ(brg_pool_create(&pool, (const brg_pool_opts *)&fut), -E2BIG);
	CHECK(pool == NULL);
	po.size = BRG_POOL_OPTS_SIZE_VER0 - 8;
	CHECK_EQ(brg_pool_create(&pool, (const brg_pool_opts *)&po), -EINVAL);
	fut.later[4] = 0;
	REQUIRE_EQ(brg_pool_create(&pool, (const brg_pool_opts *)&fut), 0);
	CHECK_EQ(brg_pool_size(pool), 2);
	brg_pool_destroy(pool);
	po.size = sizeof po;
	REQUIRE_EQ(brg_pool_create(&pool, (const brg_pool_opts *)&po), 0);

	double want = 0;
	for (size_t i = 0; i < n; i++)
		want += (double)(i % 13); /* small integers: exact in any order */
	brg_array *arrays[] = {a};
	abi01_job_desc jd = {
		.size = sizeof jd,
		.kernel = &sum_k,
		.n = n,
		.sched = {BRG_SCHED_DYNAMIC, 3},
		.arrays = arrays,
		.narrays = 1,
		.combine = sum_combine,
	};
	abi01_job_result jr;
	memset(&jr, 0xa5, sizeof jr);
	jr.size = sizeof jr;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jd, (brg_job_result *)&jr), 0);
	double got;
	memcpy(&got, jr.partial, sizeof got);
	CHECK(jr.size == sizeof jr && jr.status == 0 && jr.err_worker == -1 && got == want);

	struct {
		abi01_job_desc d;
		uint64_t later[2];
	} jfut = {jd, {0, 0}};
	jfut.d.size = sizeof jfut;
	struct {
		abi01_job_result r;
		uint64_t later[3];
	} rfut;
	memset(&rfut, 0xa5, sizeof rfut);
	rfut.r.size = sizeof rfut;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jfut, (brg_job_result *)&rfut), 0);
	memcpy(&got, rfut.r.partial, sizeof got);
	CHECK(got == want && rfut.r.size == sizeof rfut && zero(rfut.later, sizeof rfut.later));
	jfut.later[0] = 1;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jfut, NULL), -E2BIG);
	jd.size = BRG_JOB_DESC_SIZE_VER0 - 8;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jd, NULL), -EINVAL);
	jd.size = sizeof jd;
	jr.size = BRG_JOB_RESULT_SIZE_VER0 - 8;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jd, (brg_job_result *)&jr), -EINVAL);
	/* The refusals left no job behind: the pool still runs one. */
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jd, NULL), 0);

	abi01_pool_info pi;
	memset(&pi, 0xa5, sizeof pi);
	pi.size = sizeof pi;
	abi01_worker_status ws[2];
	CHECK_EQ(brg_pool_status(pname, (brg_pool_info *)&pi, (brg_worker_status *)ws,
				 sizeof ws[0], 2),
		 2);
	CHECK(pi.size == sizeof pi && pi.nworkers == 2 && pi.start_method == BRG_START_FORK);
	CHECK(ws[0].index == 0 && ws[1].index == 1 && ws[1].pid == brg_pool_worker_pid(pool, 1) &&
	      ws[1].state && ws[1].alive == 1);
	struct wfut {
		abi01_worker_status w;
		uint64_t later[2];
	} fw[2];
	memset(fw, 0xa5, sizeof fw);
	CHECK_EQ(brg_pool_status(pname, NULL, (brg_worker_status *)fw, sizeof fw[0], 2), 2);
	CHECK(fw[1].w.index == 1 && fw[1].w.pid == ws[1].pid);
	CHECK(zero(fw[0].later, sizeof fw[0].later) && zero(fw[1].later, sizeof fw[1].later));
	CHECK_EQ(brg_pool_status(pname, NULL, (brg_worker_status *)ws, BRG_WORKER_STATUS_SIZE_VER0 - 8,
				 2),
		 -EINVAL);
	pi.size = BRG_POOL_INFO_SIZE_VER0 - 8;
	CHECK_EQ(brg_pool_status(pname, (brg_pool_info *)&pi, NULL, 0, 0), -EINVAL);
	pi.size = 5000; /* no struct: a size left unset */
	CHECK_EQ(brg_pool_status(pname, (brg_pool_info *)&pi, NULL, 0, 0), -E2BIG);
	/* brg_pool_info grew in 1.0 (spin_us): the 0.1 size got all but it, above; this one
	 * gets it. */
	_Static_assert(sizeof(brg_pool_info) > BRG_POOL_INFO_SIZE_VER0, "pool info grew");
	brg_pool_info now = {.size = sizeof now};
	CHECK_EQ(brg_pool_status(pname, &now, NULL, 0, 0), 2);
	CHECK_EQ(now.spin_us, 50);
	CHECK(now.nworkers == pi.nworkers && now.job_id == pi.job_id);
	jd.size = 5000;
	CHECK_EQ(brg_pool_run(pool, (const brg_job_desc *)&jd, NULL), -E2BIG);
	jd.size = sizeof jd;
	brg_pool_destroy(pool);
}

int main(void)
{
	test_init_pools();
	test_version();
	size_t n = 100003;
	const char *name = test_name("abi-arr");
	brg_array *a = test_arrays(name, n);
	test_pool(a, n, test_name("abi-pool"));
	test_array_drop(a);
	return test_done();
}
