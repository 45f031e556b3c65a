/* SPDX-License-Identifier: MIT */
/* libomp_probe.c - configure-time check that clang compiles and links an OpenMP program against
 * LLVM's libomp, before the bench's libomp peer is built with it. */
#include <omp.h>

int main(void)
{
	int threads = 0;
#pragma omp parallel
#pragma omp single
	threads = omp_get_num_threads();
	return threads < 1;
}
