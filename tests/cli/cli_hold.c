/* SPDX-License-Identifier: MIT */
/* cli_hold.c - creates an array (or, with "pool", a pool of 2 that has run one job; with
 * "queue" or "broadcast", a stream of 4 slots of 8 doubles with 3 frames published and one
 * of them received and held) and stays alive until stdin closes, so test_cli.sh can watch
 * `brigade` treat a segment whose creator runs, then one whose creator exited. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "brigade.h"

static int nothing(const brg_task *t)
{
	(void)t;
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc == 3 ? argv[2] : "";
	int stream = !strcmp(mode, "queue") || !strcmp(mode, "broadcast");
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(mode, "pool") && !stream)) {
		fprintf(stderr, "usage: cli_hold NAME [pool|queue|broadcast]\n");
		return 2;
	}
	brg_array *a = NULL;
	brg_pool *pool = NULL;
	brg_stream *prod = NULL, *cons = NULL;
	int r;
	if (stream) {
		size_t frame[1] = {8};
		int bc = !strcmp(mode, "broadcast");
		brg_frame f;
		r = brg_stream_create(&prod, argv[1], BRG_F64, 1, frame, 4,
				      bc ? BRG_STREAM_BROADCAST : BRG_STREAM_QUEUE, BRG_STREAM_BLOCK,
				      NULL);
		if (r == 0)
			r = brg_stream_open(&cons, argv[1], bc ? BRG_STREAM_SUBSCRIBE : 0);
		for (int i = 0; i < 3 && r == 0; i++)
			if ((r = brg_stream_loan(prod, &f, 1000)) == 0)
				r = brg_stream_publish(prod, &f);
		if (r == 0)
			r = brg_stream_receive(cons, &f, 1000);
	} else if (argc == 3) {
		brg_pool_opts o;
		brg_pool_opts_init(&o);
		o.workers = 2;
		o.name = argv[1];
		static const brg_kernel k = {"nothing", nothing, BRG_KERNEL_IDEMPOTENT};
		r = brg_pool_create(&pool, &o);
		if (r == 0)
			r = brg_pool_for(pool, &k, 1000, (brg_schedule){BRG_SCHED_DYNAMIC, 10},
					 NULL, 0, NULL, 0);
	} else {
		size_t shape[1] = {16};
		r = brg_array_create(&a, argv[1], BRG_F32, 1, shape, NULL);
		brg_array_close(a);
	}
	if (r < 0) {
		fprintf(stderr, "cli_hold: %s: %s (%s)\n", argv[1], brg_strerror(r), brg_err_name(r));
		brg_pool_destroy(pool);
		brg_stream_close(cons);
		brg_stream_close(prod);
		if (stream)
			brg_stream_unlink(argv[1]);
		return 1;
	}
	/* The test waits for this line, then for our exit once it closes our stdin. */
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0)
		;
	brg_pool_destroy(pool);
	brg_stream_close(cons);
	brg_stream_close(prod);
	if (stream)
		brg_stream_unlink(argv[1]);
	return 0;
}
