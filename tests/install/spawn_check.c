/* SPDX-License-Identifier: MIT */
/* spawn_check.c - built against an installed brigade: a spawn pool whose workers are the
 * installed brigade-worker, found beside the installed library with no path given; prints
 * the executable its worker runs.
 * usage: spawn_check PLUGIN */
#include <brigade.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 2;
	o.start = BRG_START_SPAWN;
	o.plugin = argv[1];
	brg_pool *pool;
	int r = brg_pool_create(&pool, &o);
	if (r) {
		fprintf(stderr, "spawn pool: %s (%s)\n", brg_strerror(r), brg_err_name(r));
		return 1;
	}
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%d/exe", brg_pool_worker_pid(pool, 1));
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	brg_pool_destroy(pool);
	if (n <= 0)
		return 1;
	exe[n] = 0;
	printf("%s\n", exe);
	return 0;
}
