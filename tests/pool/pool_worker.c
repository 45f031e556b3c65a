/* SPDX-License-Identifier: MIT */
/* pool_worker.c - a brigade-worker for the tests: spawned workers exec this. */
#include "brigade.h"

int main(int argc, char **argv)
{
	return brg_worker_main(argc, argv);
}
