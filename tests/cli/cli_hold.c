/* SPDX-License-Identifier: MIT */
/* cli_hold.c - creates an array and stays alive until stdin closes, so that test_cli.sh can
 * watch `brigade` treat a segment whose creator runs, and then one whose creator exited. */
#include <stdio.h>
#include <unistd.h>

#include "brigade.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cli_hold NAME\n");
		return 2;
	}
	size_t shape[1] = {16};
	brg_array *a;
	int r = brg_array_create(&a, argv[1], BRG_F32, 1, shape, NULL);
	if (r < 0) {
		fprintf(stderr, "cli_hold: %s: %s (%s)\n", argv[1], brg_strerror(r), brg_err_name(r));
		return 1;
	}
	brg_array_close(a);
	/* The test waits for this line, then for our exit once it closes our stdin. */
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0)
		;
	return 0;
}
