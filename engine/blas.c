/* SPDX-License-Identifier: MIT */
/* blas.c - OpenBLAS as each worker uses it: one BLAS thread per process. */
#include "ctl.h"

void openblas_set_num_threads(int num_threads);

void brg__blas_single_thread(void)
{
	/* Workers are the parallelism; BLAS threads inside them would oversubscribe cores. */
	openblas_set_num_threads(1);
}
