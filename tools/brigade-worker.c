/* SPDX-License-Identifier: MIT */
/* brigade-worker.c - a spawned pool worker: attaches to the control block and runs kernels
 * from the pool's plugin (see brg_pool_opts.start = BRG_START_SPAWN). */
#include "brigade.h"

int main(int argc, char **argv)
{
	return brg_worker_main(argc, argv);
}
