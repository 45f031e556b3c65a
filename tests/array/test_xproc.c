/* SPDX-License-Identifier: MIT */
/* test_xproc.c - two unrelated processes share an array by name: the parent's writes reach an
 * exec'd child and the child's reach the parent's existing mapping.  Usage: test_xproc CHILD. */
#include <errno.h>
#include <sys/wait.h>

#include "arrayutil.h"
#include "xproc.h"

/* Runs argv to completion; its exit status, or -1 when it did not exit normally. */
static int run_child(char *const argv[])
{
	fflush(NULL);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "execv %s: %s\n", argv[0], strerror(errno));
		_exit(127); /* not exit(): the parent's cleanup must not run here */
	}
	int status;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	REQUIRE(w == pid);
	if (WIFSIGNALED(status))
		TEST_FAIL_("child killed by signal %d", WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_exec_child(const char *child)
{
	const char *name_i64 = test_name("xp-i64"), *name_f32 = test_name("xp-f32");
	size_t shape_i64[2] = {10, 100}, shape_f32[1] = {N_F32};
	brg_array *a = NULL, *b = NULL;
	REQUIRE_EQ(brg_array_create(&a, name_i64, BRG_I64, 2, shape_i64, NULL), 0);
	REQUIRE_EQ(brg_array_create(&b, name_f32, BRG_F32, 1, shape_f32, NULL), 0);
	int64_t *x = brg_array_data(a);
	float *y = brg_array_data(b);
	for (size_t i = 0; i < N_I64; i++)
		x[i] = parent_i64(i);
	for (size_t i = 0; i < N_F32; i++)
		y[i] = parent_f32(i);

	char *argv[] = {(char *)child, (char *)name_i64, (char *)name_f32, NULL};
	CHECK_EQ(run_child(argv), 0);

	/* Seen through the mappings made before the child ran: no reopen. */
	size_t bad_x = 0, bad_y = 0;
	for (size_t i = 0; i < N_I64; i++)
		bad_x += x[i] != child_i64(i);
	for (size_t i = 0; i < N_F32; i++)
		bad_y += y[i] != child_f32(i);
	CHECK_EQ(bad_x, 0);
	CHECK_EQ(bad_y, 0);
	CHECK_EQ(brg_array_generation(a), 2);
	CHECK_EQ(brg_array_generation(b), 1);
	/* The child's failed create left the segment whole. */
	brg_segment_info info = {.size = sizeof info};
	CHECK_EQ(brg_segment_stat(name_i64, 0, &info), 0);
	CHECK_EQ(info.creator_pid, getpid());
	CHECK_EQ(info.generation, 2);

	brg_array_close(a);
	brg_array_close(b);
	CHECK_EQ(brg_segment_unlink(name_i64), 0);
	CHECK_EQ(brg_segment_unlink(name_f32), 0);
}

/* A segment outlives its creator, and stat says the creator is gone. */
static void test_dead_creator(void)
{
	const char *name = test_name("xp-orphan");
	fflush(NULL);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		size_t shape[1] = {64};
		brg_array *a = NULL;
		int r = brg_array_create(&a, name, BRG_U32, 1, shape, NULL);
		if (r == 0) {
			((uint32_t *)brg_array_data(a))[63] = 0xfeedu;
			brg_array_close(a);
		}
		_exit(r == 0 ? 0 : 1);
	}
	int status;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	REQUIRE(w == pid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	brg_segment_info info = {.size = sizeof info};
	REQUIRE_EQ(brg_segment_stat(name, 0, &info), 0);
	CHECK_EQ(info.creator_pid, pid);
	CHECK_EQ(info.creator_alive, 0);
	brg_array *a = NULL;
	REQUIRE_EQ(brg_array_open(&a, name, 0), 0);
	CHECK_EQ(((const uint32_t *)brg_array_data(a))[63], 0xfeedu);
	brg_array_close(a);
	CHECK_EQ(brg_segment_unlink(name), 0);
}

int main(int argc, char **argv)
{
	test_init();
	if (argc != 2) {
		fprintf(stderr, "usage: %s XPROC_CHILD\n", argv[0]);
		return 2;
	}
	test_exec_child(argv[1]);
	test_dead_creator();
	CHECK_EQ(au_count_prefix(au_prefix()), 0);
	return test_done();
}
