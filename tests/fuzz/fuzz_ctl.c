/* SPDX-License-Identifier: MIT */
/* fuzz_ctl.c - a pool's control block read from outside, as `brigade status` reads it
 * (brg_pool_status): a live pool's control block is copied to a segment of this process's,
 * whose data the input then overwrites (the bytes the input does not reach keep the live
 * ones).  Whatever the bytes, the call answers a status or BRG_EPOOLSTATE, and never reads or
 * writes out of bounds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "fuzz.h"

static char copy_name[BRG_NAME_MAX + 1];
static unsigned char *live; /* the live control block's data */
static size_t nbytes;
static int fd = -1;

static void drop_copy(void)
{
	char path[BRG_NAME_MAX + 16];
	snprintf(path, sizeof path, "/dev/shm/%s", copy_name);
	unlink(path);
}

static void init(void)
{
	if (fd >= 0)
		return;
	char pool_name[BRG_NAME_MAX + 1], path[BRG_NAME_MAX + 16];
	snprintf(pool_name, sizeof pool_name, "brg-fuzz-%d-pool", (int)getpid());
	snprintf(copy_name, sizeof copy_name, "brg-fuzz-%d-ctl", (int)getpid());
	brg_pool_opts o;
	brg_pool_opts_init(&o);
	o.workers = 1;
	o.name = pool_name;
	brg_pool *pool;
	FUZZ_ASSERT(brg_pool_create(&pool, &o) == 0);
	brg_segment_info si = {.size = sizeof si};
	FUZZ_ASSERT(brg_segment_stat(pool_name, 0, &si) == 0);
	unsigned char *file = malloc(si.file_bytes);
	snprintf(path, sizeof path, "/dev/shm/%s", pool_name);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	FUZZ_ASSERT(file && in >= 0 && pread(in, file, si.file_bytes, 0) == (ssize_t)si.file_bytes);
	close(in);
	brg_pool_destroy(pool);
	snprintf(path, sizeof path, "/dev/shm/%s", copy_name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0 && pwrite(fd, file, si.file_bytes, 0) == (ssize_t)si.file_bytes);
	atexit(drop_copy);
	nbytes = si.nbytes;
	live = malloc(nbytes);
	FUZZ_ASSERT(live);
	memcpy(live, file + BRG_DATA_OFFSET, nbytes);
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	size_t n = size < nbytes ? size : nbytes;
	FUZZ_ASSERT(pwrite(fd, data, n, BRG_DATA_OFFSET) == (ssize_t)n);
	FUZZ_ASSERT(pwrite(fd, live + n, nbytes - n, (off_t)(BRG_DATA_OFFSET + n)) ==
		    (ssize_t)(nbytes - n));
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status ws[8];
	int r = brg_pool_status(copy_name, &info, ws, sizeof ws[0], 8);
	if (r < 0) {
		FUZZ_ASSERT(r == BRG_EPOOLSTATE);
		return 0;
	}
	FUZZ_ASSERT(r >= 1 && r <= BRG__MAX_WORKERS && info.nworkers == r);
	for (int i = 0; i < r && i < 8; i++)
		FUZZ_ASSERT(ws[i].index == i && ws[i].state && ws[i].state[0]);
	return 0;
}

void brg_fuzz_seeds(brg_fuzz_emit_fn emit, void *ctx)
{
	init();
	/* The live block, and the first lines only (the rest kept live): where the magic, the
	 * version, the participant count and the first records are. */
	emit(live, nbytes, ctx);
	emit(live, nbytes < 4096 ? nbytes : 4096, ctx);
	emit(live, nbytes < 512 ? nbytes : 512, ctx);
}
