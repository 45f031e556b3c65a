/* SPDX-License-Identifier: MIT */
/* test_hugepage.c - arrays on 2 MiB pages: mappings are 2 MiB-aligned, creation collapses the
 * data into huge pages (in the creator, in every pool participant, and in a later opener),
 * BRG_CREATE_SMALL_PAGES keeps 4 KiB pages and is not recorded, and contents survive. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "testutil.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HUGE ((size_t)2 << 20)

/* kB of the named segment mapped through PMD entries in process pid, summed over its
 * mappings of /dev/shm/<name>; -1 when /proc cannot be read. */
static long pmd_kib(int pid, const char *name)
{
	char path[64], want[BRG_NAME_MAX + 16], line[1024];
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	snprintf(want, sizeof want, "/dev/shm/%s", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long total = 0;
	int in = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char *end = line + strspn(line, "0123456789abcdef");
		if (*end == '-' && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			line[strcspn(line, "\n")] = 0;
			size_t n = strlen(line), w = strlen(want);
			in = n >= w && strcmp(line + n - w, want) == 0;
		} else if (in && strncmp(line, "ShmemPmdMapped:", 15) == 0) {
			total += strtol(line + 15, NULL, 10);
		}
	}
	fclose(f);
	return total;
}

/* 1 when this kernel turns a shared-memory file into huge pages on MADV_COLLAPSE (Linux
 * 6.1+, and memory to spare); what follows is only asserted where it can happen. */
static int collapse_works(void)
{
	const char *name = test_name("probe");
	char path[BRG_NAME_MAX + 2];
	snprintf(path, sizeof path, "/%s", name);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0);
	int ok = 0;
	unsigned char *r = MAP_FAILED;
	if (ftruncate(fd, (off_t)HUGE) == 0 && posix_fallocate(fd, 0, (off_t)HUGE) == 0)
		r = mmap(NULL, 2 * HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r != MAP_FAILED) {
		unsigned char *a = (unsigned char *)(((uintptr_t)r + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
		if (mmap(a, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED)
			ok = madvise(a, HUGE, MADV_COLLAPSE) == 0 && pmd_kib(getpid(), name) == 2048;
		munmap(r, 2 * HUGE);
	}
	close(fd);
	shm_unlink(path);
	return ok;
}

/* 1 when this system gives shared memory huge pages with no collapse asked for: /dev/shm
 * mounted with huge= other than never, or shmem_enabled = force.  Small pages cannot then
 * be promised, and the checks for them are left out. */
static int huge_unasked(void)
{
	char line[512];
	int yes = 0;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
	if (f) {
		yes = fgets(line, sizeof line, f) && strstr(line, "[force]");
		fclose(f);
	}
	if ((f = fopen("/proc/mounts", "r"))) {
		while (!yes && fgets(line, sizeof line, f)) {
			char *h = strstr(line, "huge=");
			yes = strstr(line, " /dev/shm ") && h && strncmp(h, "huge=never", 10) != 0;
		}
		fclose(f);
	}
	return yes;
}

/* Lines of /proc/self/maps: a mapping left behind shows as one more. */
static int map_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	REQUIRE(f != NULL);
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Huge pages are best effort: under memory pressure some 2 MiB pages may stay small.  At
 * least one must be huge; fewer than all is worth a line, not a failure. */
static void check_huge(long got, long full, const char *what)
{
	CHECK(got >= 2048);
	if (got < full)
		printf("note: %s: %ld of %ld kB on huge pages (memory pressure?)\n", what, got,
		       full);
}

static int is_aligned(const brg_array *a)
{
	return ((uintptr_t)brg_array_data(a) - BRG_DATA_OFFSET) % HUGE == 0;
}

/* kB of huge pages an array of file_bytes can hold: its whole 2 MiB pages. */
static long full_kib(const char *name)
{
	brg_segment_info info = {.size = sizeof info};
	REQUIRE_EQ(brg_segment_stat(name, 0, &info), 0);
	return (long)(info.file_bytes / HUGE * HUGE / 1024);
}

/* Every mapping of an object of 2 MiB or more starts on a 2 MiB boundary; smaller ones are
 * not held to it. */
static void test_alignment(void)
{
	/* data bytes: the file is data + header page + trailer page */
	static const size_t counts[] = {1, HUGE / 8 - 1024, HUGE / 8, 3 * HUGE / 8 + 17};
	int maps_before = map_count();
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		char tag[32];
		snprintf(tag, sizeof tag, "align%zu", i);
		const char *name = test_name(tag);
		brg_array *a, *r, *w;
		REQUIRE_EQ(brg_array_create(&a, name, BRG_F64, 1, &counts[i], NULL), 0);
		REQUIRE_EQ(brg_array_open(&r, name, 0), 0);
		REQUIRE_EQ(brg_array_open(&w, name, BRG_OPEN_WRITE), 0);
		brg_segment_info info = {.size = sizeof info};
		REQUIRE_EQ(brg_segment_stat(name, 0, &info), 0);
		if (info.file_bytes >= HUGE) {
			CHECK(is_aligned(a));
			CHECK(is_aligned(r));
			CHECK(is_aligned(w));
		}
		/* the mappings are whole and distinct: a write through one shows in the others */
		double *wd = brg_array_data(w);
		wd[counts[i] - 1] = 42.5;
		CHECK_FEQ(((double *)brg_array_data(a))[counts[i] - 1], 42.5);
		CHECK_FEQ(((const double *)brg_array_data(r))[counts[i] - 1], 42.5);
		brg_array_close(r);
		brg_array_close(w);
		brg_array_close(a);
		CHECK_EQ(brg_segment_unlink(name), 0);
	}
	/* the address space reserved to find an aligned start is all given back */
	CHECK_EQ(map_count(), maps_before);
}

/* brg_array_create collapses; BRG_CREATE_SMALL_PAGES does not, and is not recorded. */
static void test_create(int can, int unasked)
{
	size_t n = 4 * HUGE / 8 + 5; /* four whole huge pages of data and a bit */
	const char *big = test_name("create"), *small = test_name("small");
	brg_array *a, *s;
	REQUIRE_EQ(brg_array_create(&a, big, BRG_F64, 1, &n, NULL), 0);
	brg_array_opts o = {.size = sizeof o, .flags = BRG_CREATE_SMALL_PAGES};
	REQUIRE_EQ(brg_array_create(&s, small, BRG_F64, 1, &n, &o), 0);
	if (can)
		check_huge(pmd_kib(getpid(), big), full_kib(big), "brg_array_create");
	if (!unasked)
		CHECK_EQ(pmd_kib(getpid(), small), 0);

	brg_segment_info info = {.size = sizeof info};
	REQUIRE_EQ(brg_segment_stat(small, 0, &info), 0);
	CHECK_EQ(info.flags, 0u);

	/* zero-filled, and what is written reads back through a later opener's mapping,
	 * which maps the same huge pages */
	double *d = brg_array_data(a);
	for (size_t i = 0; i < n; i++) {
		if (d[i] != 0.0) {
			CHECK_FEQ(d[i], 0.0);
			break;
		}
		d[i] = (double)i * 0.25;
	}
	brg_array *r;
	REQUIRE_EQ(brg_array_open(&r, big, 0), 0);
	const double *rd = brg_array_data(r);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += rd[i] != (double)i * 0.25;
	CHECK_EQ(bad, (size_t)0);
	if (can) /* both mappings now */
		check_huge(pmd_kib(getpid(), big), 2 * full_kib(big), "a later opener");
	brg_array_close(r);

	/* an unknown creation flag is still refused */
	brg_array *x = NULL;
	o.flags = 0x8;
	CHECK_EQ(brg_array_create(&x, test_name("badflag"), BRG_F64, 1, &n, &o), BRG_EBADFLAGS);
	CHECK(x == NULL);

	brg_array_close(a);
	brg_array_close(s);
	CHECK_EQ(brg_segment_unlink(big), 0);
	CHECK_EQ(brg_segment_unlink(small), 0);
}

/* brg_pool_array_create: every participant ends up mapping its part through huge pages,
 * the creator all of it; with BRG_CREATE_SMALL_PAGES nobody does. */
static void test_pool(int can, int unasked)
{
	brg_pool_opts po = {.size = sizeof po, .workers = 2};
	brg_pool *pool;
	REQUIRE_EQ(brg_pool_create(&pool, &po), 0);
	int wpid = brg_pool_worker_pid(pool, 1);
	REQUIRE(wpid > 0);
	size_t n = 8 * HUGE / 8 + 3;
	for (int small = 0; small < 2; small++) {
		const char *name = test_name(small ? "pool-small" : "pool");
		brg_array_opts o = {.size = sizeof o, .flags = small ? BRG_CREATE_SMALL_PAGES : 0};
		brg_array *a;
		REQUIRE_EQ(brg_pool_array_create(pool, &a, name, BRG_F64, 1, &n, &o), 0);
		CHECK(is_aligned(a));
		long mine = pmd_kib(getpid(), name), worker = pmd_kib(wpid, name);
		if (small) {
			if (!unasked) {
				CHECK_EQ(mine, 0);
				CHECK_EQ(worker, 0);
			}
		} else if (can) {
			check_huge(mine, full_kib(name), "brg_pool_array_create, creator");
			/* the worker populated and collapsed the second half of the elements */
			CHECK(worker >= 2048);
		}
		/* contents: zero, then the pool's own writes */
		brg_scalar s;
		REQUIRE_EQ(brg_reduce_sumsq(pool, &s, a), 0);
		CHECK_FEQ(s.f, 0.0);
		REQUIRE_EQ(brg_vec_fill(pool, a, 2.0), 0);
		REQUIRE_EQ(brg_reduce_sum(pool, &s, a), 0);
		CHECK_FEQ(s.f, 2.0 * (double)n);
		brg_array_close(a);
		CHECK_EQ(brg_segment_unlink(name), 0);
	}
	brg_pool_destroy(pool);
}

int main(void)
{
	test_init();
	int can = collapse_works();
	if (!can)
		printf("note: this kernel does not collapse shared memory into huge pages "
		       "(MADV_COLLAPSE, Linux 6.1+); only alignment and contents are checked\n");
	int unasked = huge_unasked();
	if (unasked)
		printf("note: this system makes shared memory huge by itself; small pages are "
		       "not checked\n");
	test_alignment();
	test_create(can, unasked);
	test_pool(can, unasked);
	return test_done();
}
