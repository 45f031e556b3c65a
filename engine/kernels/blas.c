/* SPDX-License-Identifier: MIT */
/* blas.c - OpenBLAS as each worker uses it: one BLAS thread per process. */
#include "kernels.h"

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

void brg__blas_single_thread(void)
{
	/* Workers are the parallelism; BLAS threads inside them would oversubscribe cores. */
	openblas_set_num_threads(1);
}

int brg__blas_threads_enter(void)
{
	/* The caller may run a threaded OpenBLAS for its own calls: while it is one participant
	 * of a pool job, its BLAS threads would compete with the workers for their cores. */
	int saved = openblas_get_num_threads();
	if (saved != 1)
		openblas_set_num_threads(1);
	return saved;
}

void brg__blas_threads_restore(int saved)
{
	if (saved > 1)
		openblas_set_num_threads(saved);
}
