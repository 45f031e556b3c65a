/* SPDX-License-Identifier: MIT */
/* xproc_child.c - exec'd by test_xproc: opens the parent's arrays by name, checks the parent's
 * data, writes its own pattern back.  Usage: xproc_child I64_NAME F32_NAME; exits 0 or 1. */
#include <errno.h>

#include "testutil.h"
#include "xproc.h"

int main(int argc, char **argv)
{
	test_init();
	REQUIRE_EQ(argc, 3);
	const char *name_i64 = argv[1], *name_f32 = argv[2];
	brg_array *a = NULL, *b = NULL;
	REQUIRE_EQ(brg_array_open(&a, name_i64, BRG_OPEN_WRITE), 0);
	REQUIRE_EQ(brg_array_open(&b, name_f32, BRG_OPEN_WRITE), 0);
	REQUIRE_EQ(brg_array_dtype(a), BRG_I64);
	REQUIRE_EQ(brg_array_count(a), N_I64);
	REQUIRE_EQ(brg_array_dtype(b), BRG_F32);
	REQUIRE_EQ(brg_array_count(b), N_F32);
	CHECK_EQ(brg_array_generation(a), 1);

	int64_t *x = brg_array_data(a);
	float *y = brg_array_data(b);
	size_t bad = 0;
	for (size_t i = 0; i < N_I64; i++)
		bad += x[i] != parent_i64(i);
	for (size_t i = 0; i < N_F32; i++)
		bad += y[i] != parent_f32(i);
	CHECK_EQ(bad, 0);

	/* The parent made them and still runs. */
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(name_i64, 0, &info), 0);
	CHECK_EQ(info.creator_pid, getppid());
	CHECK_EQ(info.creator_alive, 1);

	/* The name is taken, and a failed create must not disturb it. */
	brg_array *c = (brg_array *)&info;
	size_t shape[1] = {4};
	CHECK_EQ(brg_array_create(&c, name_i64, BRG_I64, 1, shape, NULL), -EEXIST);
	CHECK(c == NULL);

	for (size_t i = 0; i < N_I64; i++)
		x[i] = child_i64(i);
	for (size_t i = 0; i < N_F32; i++)
		y[i] = child_f32(i);
	CHECK_EQ(brg_array_generation_bump(a), 2);
	brg_array_close(a);
	brg_array_close(b);
	return test_done();
}
