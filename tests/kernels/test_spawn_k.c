/* SPDX-License-Identifier: MIT */
/* test_spawn_k.c - the kernel calls on a pool of spawned workers (another program, which
 * finds the kernels by name in brigade's table) give the bits a fork pool of the same size
 * gives (GEMM's bits may depend on the size: OpenBLAS runs other edge kernels on panels of
 * other heights); vec_map, whose function pointer means nothing there, says -ENOTSUP.
 * Usage: test_spawn_k WORKER PLUGIN */
#include <errno.h>

#include "kutil.h"

static brg_pool *spawn_pool(int workers, const char *worker, const char *plugin)
{
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = workers;
	o.start = BRG_START_SPAWN;
	o.worker_path = worker;
	o.plugin = plugin;
	o.name = test_name(workers == 2 ? "spawn2" : "spawn3");
	brg_pool *p = NULL;
	int r = brg_pool_create(&p, &o);
	if (r == -ENOENT || r == -ENOEXEC) {
		printf("cannot spawn %s: %s\n", worker, brg_strerror(r));
		exit(TEST_SKIP);
	}
	REQUIRE_EQ(r, 0);
	return p;
}

static double twice(double v, const void *ud)
{
	return 2 * v;
}

/* Runs every kind of kernel in pool; results land in out[] (the caller compares). */
static void run_all(brg_pool *pool, brg_array **in, brg_array **out, brg_scalar *s)
{
	CHECK_EQ(brg_vec_triad(pool, out[0], in[0], 0.3, in[1]), 0);
	CHECK_EQ(brg_vec_binop(pool, out[1], in[0], BRG_OP_DIV, in[1]), 0);
	CHECK_EQ(brg_reduce_sum(pool, &s[0], in[0]), 0);
	CHECK_EQ(brg_reduce_argmax(pool, &s[1], in[0]), 0);
	CHECK_EQ(brg_reduce_norm2(pool, &s[2], in[1]), 0);
	CHECK_EQ(brg_stencil_box(pool, out[2], in[2], 2, BRG_BORDER_CLAMP), 0);
	CHECK_EQ(brg_blas_gemm(pool, out[3], 1.0, BRG_NOTRANS, in[3], BRG_TRANS, in[3], 0.0), 0);
}

int main(int argc, char **argv)
{
	test_init_pools();
	if (argc != 3) {
		fprintf(stderr, "usage: %s WORKER PLUGIN\n", argv[0]);
		return 2;
	}
	const size_t n = 100003, img[2] = {67, 45}, mat[2] = {150, 70}, sq[2] = {150, 150};
	brg_array *in[4] = {test_array_new("x", BRG_F64, n), test_array_new("y", BRG_F64, n),
			    test_array_new_nd("img", BRG_U8, 2, img), test_array_new_nd("m", BRG_F64, 2, mat)};
	for (int i = 0; i < 4; i++)
		ku_fill_random(in[i], 1.0);
	brg_array *ref[4] = {test_array_new("r0", BRG_F64, n), test_array_new("r1", BRG_F64, n),
			     test_array_new_nd("r2", BRG_U8, 2, img), test_array_new_nd("r3", BRG_F64, 2, sq)};
	brg_array *got[4] = {test_array_new("g0", BRG_F64, n), test_array_new("g1", BRG_F64, n),
			     test_array_new_nd("g2", BRG_U8, 2, img), test_array_new_nd("g3", BRG_F64, 2, sq)};
	brg_scalar sref[3], sgot[3];

	for (int w = 2; w <= 3; w++) {
		brg_pool *fp = ku_pool(w);
		for (int i = 0; i < 4; i++)
			ku_poison(ref[i]);
		run_all(fp, in, ref, sref);
		brg_pool_destroy(fp);
		brg_pool *sp = spawn_pool(w, argv[1], argv[2]);
		for (int i = 0; i < 4; i++)
			ku_poison(got[i]);
		run_all(sp, in, got, sgot);
		for (int i = 0; i < 4; i++)
			CHECK_SAME_ELEMS(brg_array_data(got[i]), brg_array_data(ref[i]),
					 brg_array_count(ref[i]),
					 brg_dtype_size(brg_array_dtype(ref[i])),
					 "output %d of the spawn pool of %d against the fork pool's", i,
					 w);
		for (int i = 0; i < 3; i++)
			CHECK(ku_same_bits(sgot[i].f, sref[i].f) && sgot[i].index == sref[i].index);
		CHECK_EQ(brg_vec_map(sp, got[0], in[0], twice, NULL, 0), -ENOTSUP);
		/* first touch by spawned workers */
		brg_array *a = NULL;
		CHECK_EQ(brg_pool_array_create(sp, &a, test_name("spawn-ft"), BRG_F32, 1, &n, NULL), 0);
		if (a) {
			CHECK_EQ(brg_vec_fill(sp, a, 1.5), 0);
			brg_scalar s;
			CHECK_EQ(brg_reduce_sum(sp, &s, a), 0);
			CHECK(s.f == 1.5 * (double)n);
			test_array_drop(a);
		}
		brg_pool_destroy(sp);
	}
	for (int i = 0; i < 4; i++) {
		test_array_drop(in[i]);
		test_array_drop(ref[i]);
		test_array_drop(got[i]);
	}
	return test_done();
}
