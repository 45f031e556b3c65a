/* SPDX-License-Identifier: MIT */
/* test_plan.c - the bench's sizing rule (bench/plan.c) on made-up machines: every plan keeps
 * what the run holds at once under its budget, picks the largest arrays that fit up to 4x the
 * last-level cache (at most the cap), says why when it picked less, and refuses what cannot
 * fit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "testutil.h"

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

static void config_init(struct bench_config *cfg, int max_workers)
{
	memset(cfg, 0, sizeof *cfg);
	for (int k = 0; k < BK_COUNT; k++)
		cfg->kernels[k] = 1;
	cfg->pool_peers = 1;
	cfg->libomp = 1; /* both OpenMP peers: the most a run holds */
	cfg->gemm_n = 4096;
	cfg->max_workers = max_workers;
}

static struct bench_facts machine(size_t llc, size_t mem)
{
	/* MemAvailable a little under the total; /dev/shm is tmpfs's default half. */
	struct bench_facts f = {.llc = llc, .mem_total = mem, .mem_avail = mem / 20 * 19,
				.shm_free = mem / 2};
	return f;
}

static int any_note(const struct bench_config *cfg, const char *text)
{
	for (int i = 0; i < cfg->nplan_notes; i++)
		if (strstr(cfg->plan_notes[i], text))
			return 1;
	return 0;
}

/* What must hold for any plan that was accepted without --force. */
static void check_plan(const struct bench_config *cfg, const struct bench_facts *f,
		       const char *label)
{
	size_t mem, shm, need[BP_COUNT], need_shm[BP_COUNT];
	bench_need_peak(cfg, &mem, &shm);
	CHECK_MSG(cfg->budget_mem == f->mem_avail / 2, "%s: budget", label);
	CHECK_MSG(mem <= cfg->budget_mem, "%s: peak %zu over the budget %zu", label, mem,
		  cfg->budget_mem);
	CHECK_MSG(shm <= cfg->budget_shm && cfg->budget_shm <= f->shm_free,
		  "%s: /dev/shm %zu over %zu", label, shm, cfg->budget_shm);
	bench_need(cfg, need, need_shm);
	for (int p = 0; p < BP_COUNT; p++)
		CHECK_MSG(need[p] + bench_fixed_bytes(cfg->max_workers) <= cfg->budget_mem &&
				  need_shm[p] <= need[p],
			  "%s: phase %s", label, bench_phase_names[p]);
	/* Every side's data are counted: the stream phase holds 17 arrays, 6 of them segments
	 * (brigade's and py-brigade's), and 3 more with the second OpenMP peer; the stencil 6,
	 * or 8. */
	size_t arrays = cfg->libomp ? 20 : 17, images = cfg->libomp ? 8 : 6;
	if (cfg->kernels[BK_TRIAD])
		CHECK_MSG(need[BP_STREAM] == arrays * cfg->n * 8 &&
				  need_shm[BP_STREAM] == 6 * cfg->n * 8,
			  "%s: stream phase", label);
	if (cfg->kernels[BK_STENCIL3])
		CHECK_MSG(need[BP_STENCIL] == images * cfg->rows * cfg->cols * 4 &&
				  need_shm[BP_STENCIL] == 2 * cfg->rows * cfg->cols * 4,
			  "%s: stencil phase", label);
	CHECK_MSG(cfg->rows * cfg->cols * 4 == cfg->n * 8, "%s: the image has an array's bytes",
		  label);
	CHECK_MSG(cfg->pickle_n * 8 <= BENCH_PICKLE_CAP && cfg->pickle_n <= cfg->n &&
			  cfg->shm_n <= cfg->n && cfg->pickle_n >= 1024,
		  "%s: Python Pools' sizes", label);
	CHECK_MSG(cfg->gemm_n >= 64 && cfg->gemm_n <= 4096, "%s: gemm n %zu", label, cfg->gemm_n);
}

/* The arrays a default plan picks on a machine, and what it must say. */
static void check_default(size_t llc, size_t mem, int workers, size_t want_bytes)
{
	char label[96], err[600] = "";
	snprintf(label, sizeof label, "LLC %zu MiB, %zu GiB, %d workers", llc / MiB, mem / GiB,
		 workers);
	struct bench_config cfg;
	config_init(&cfg, workers);
	struct bench_facts f = machine(llc, mem);
	int r = bench_plan(&cfg, &f, err, sizeof err);
	CHECK_MSG(r == 0, "%s: refused: %s", label, err);
	if (r)
		return;
	check_plan(&cfg, &f, label);
	size_t got = cfg.n * 8;
	CHECK_MSG(got == want_bytes, "%s: arrays of %zu MiB, expected %zu MiB", label, got / MiB,
		  want_bytes / MiB);
	/* The largest that fits: twice as large would not (unless at the cap or at 4x LLC). */
	size_t target = BENCH_SIZE_FLOOR;
	while (target < 4 * llc)
		target *= 2;
	size_t top = target < BENCH_SIZE_CAP ? target : BENCH_SIZE_CAP;
	if (got < top) {
		struct bench_config twice = cfg;
		twice.n *= 2;
		twice.rows *= 2;
		size_t m2, s2;
		bench_need_peak(&twice, &m2, &s2);
		CHECK_MSG(m2 > cfg.budget_mem || s2 > cfg.budget_shm,
			  "%s: twice the arrays would have fitted", label);
		CHECK_MSG(any_note(&cfg, "over the run's budget"),
			  "%s: no note says the budget made the arrays smaller", label);
	}
	if (target > BENCH_SIZE_CAP)
		CHECK_MSG(any_note(&cfg, "4x the last-level cache") && any_note(&cfg, "cap"),
			  "%s: no note on the cap", label);
	CHECK_MSG(any_note(&cfg, "cache-resident") == (got < 2 * llc),
		  "%s: the cache-resident note (arrays %.2fx the LLC)", label,
		  (double)got / (double)llc);
}

/* ---- bench_facts_probe on a made-up /proc and /sys under a temporary root ---- */

static char root[64];

/* Writes text into root/path, making the folders. */
static void put(const char *path, const char *text)
{
	char full[512];
	snprintf(full, sizeof full, "%s/%s", root, path);
	for (char *p = full + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		if (mkdir(full, 0700) && errno != EEXIST)
			TEST_FAIL_("mkdir %s: %s", full, strerror(errno));
		*p = '/';
	}
	FILE *f = fopen(full, "w");
	REQUIRE(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void check_probe(const char *label, size_t want_avail, int want_cgroup,
			const char *usage_tail)
{
	struct bench_facts f;
	int r = bench_facts_probe(&f, 32 * MiB, root);
	CHECK_MSG(r == 0, "%s: probe %d", label, r);
	CHECK_MSG(f.mem_total == 24 * GiB && f.llc == 32 * MiB, "%s: total %zu", label,
		  f.mem_total);
	CHECK_MSG(f.mem_avail == want_avail && f.cgroup == want_cgroup,
		  "%s: available %zu MiB (cgroup %d), expected %zu MiB (%d)", label,
		  f.mem_avail / MiB, f.cgroup, want_avail / MiB, want_cgroup);
	size_t tl = usage_tail ? strlen(usage_tail) : 0, ul = strlen(f.cg_usage);
	CHECK_MSG(usage_tail ? ul >= tl && !strcmp(f.cg_usage + ul - tl, usage_tail) : !ul,
		  "%s: usage file '%s'", label, f.cg_usage);
}

static void test_probe(void)
{
	snprintf(root, sizeof root, "/tmp/brgt-%d-plan", (int)getpid());
	REQUIRE(mkdir(root, 0700) == 0);
	put("proc/meminfo", "MemTotal:       25165824 kB\nMemFree:        20000000 kB\n"
			    "MemAvailable:   20971520 kB\n");
	put("dev/shm/.keep", "");
	/* No cgroup file: MemAvailable (20 GiB). */
	check_probe("no cgroup", 20 * GiB, 0, NULL);
	/* v2, limited two levels up from ours: 4 GiB less 1 GiB used. */
	put("proc/self/cgroup", "0::/a/b\n");
	put("sys/fs/cgroup/a/b/memory.max", "max\n");
	put("sys/fs/cgroup/a/b/memory.current", "104857600\n");
	put("sys/fs/cgroup/a/memory.max", "4294967296\n");
	put("sys/fs/cgroup/a/memory.current", "1073741824\n");
	check_probe("cgroup v2", 3 * GiB, 1, "/sys/fs/cgroup/a/memory.current");
	/* v2 with a limit above what is available: MemAvailable. */
	put("sys/fs/cgroup/a/memory.max", "68719476736\n");
	check_probe("cgroup v2, a high limit", 20 * GiB, 0, NULL);
	/* v1 in a container: the path names a cgroup above the mount, whose root has the
	 * limit (2 GiB, 512 MiB used). */
	put("proc/self/cgroup", "12:cpu,cpuacct:/docker/x\n5:blkio,memory:/docker/x\n1:name=systemd:/\n");
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "2147483648\n");
	put("sys/fs/cgroup/memory/memory.usage_in_bytes", "536870912\n");
	check_probe("cgroup v1", 1536 * MiB, 1, "/sys/fs/cgroup/memory/memory.usage_in_bytes");
	/* v1 with no limit: the number near 2^63 it shows. */
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	check_probe("cgroup v1, no limit", 20 * GiB, 0, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	CHECK_EQ(system(cmd), 0);
}

int main(void)
{
	test_probe();
	/* The nine machines of the rule, and a 16-core one. */
	const size_t llcs[] = {32 * MiB, 480 * MiB, 2 * GiB};
	const size_t mems[] = {4 * GiB, 24 * GiB, 128 * GiB};
	const size_t want[3][3] = {
		/* 4 GiB    24 GiB     128 GiB */
		{64 * MiB, 128 * MiB, 128 * MiB}, /* LLC 32 MiB: 4x is 128 MiB */
		{64 * MiB, 512 * MiB, 1 * GiB},	  /* LLC 480 MiB: 4x is 2 GiB, capped */
		{64 * MiB, 512 * MiB, 1 * GiB},	  /* LLC 2 GiB: 4x is 8 GiB, capped */
	};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			check_default(llcs[i], mems[j], 2, want[i][j]);
	check_default(480 * MiB, 24 * GiB, 16, 256 * MiB);
	check_default(0, 24 * GiB, 2, 128 * MiB); /* LLC unknown: the floor */

	char err[600];
	struct bench_config cfg;
	struct bench_facts f = machine(480 * MiB, 24 * GiB);

	/* --size within the budget: that size, rounded down to whole image rows. */
	config_init(&cfg, 2);
	cfg.size_asked = 200 * MiB + 5;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	CHECK_EQ(cfg.n * 8, 200 * MiB);
	check_plan(&cfg, &f, "--size 200M");

	/* --size over the budget: refused, naming what fits and --force. */
	config_init(&cfg, 2);
	cfg.size_asked = 2 * GiB;
	err[0] = 0;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), -1);
	CHECK_MSG(strstr(err, "over its budget") && strstr(err, "--size 512 MiB fits") &&
			  strstr(err, "--force"),
		  "--size 2G refused: '%s'", err);

	/* --force: run all the same, with a note; the other sizes still fit by themselves. */
	cfg.force = 1;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	CHECK_EQ(cfg.n * 8, 2 * GiB);
	CHECK(any_note(&cfg, "--force"));
	CHECK(cfg.gemm_n == 4096 && cfg.pickle_n * 8 == BENCH_PICKLE_CAP);

	/* Too small a --size. */
	config_init(&cfg, 2);
	cfg.size_asked = 1000;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), -1);

	/* A machine that cannot hold even the smallest arrays. */
	config_init(&cfg, 2);
	f = machine(32 * MiB, 256 * MiB);
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), -1);
	CHECK_MSG(strstr(err, "too little memory") != NULL, "tiny machine: '%s'", err);

	/* A cgroup's limit is the budget's base when it is the smaller. */
	config_init(&cfg, 2);
	f = machine(32 * MiB, 128 * GiB);
	f.mem_avail = 6 * GiB;
	f.cgroup = 1;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	check_plan(&cfg, &f, "cgroup of 6 GiB");
	CHECK_MSG(cfg.n * 8 == 128 * MiB, "cgroup of 6 GiB: arrays of %zu MiB", cfg.n * 8 / MiB);

	/* A small /dev/shm limits brigade's segments, not the peers' memory. */
	config_init(&cfg, 2);
	f = machine(32 * MiB, 24 * GiB);
	f.shm_free = 200 * MiB;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	check_plan(&cfg, &f, "/dev/shm of 200 MiB");
	CHECK_MSG(cfg.n * 8 == 16 * MiB, "/dev/shm of 200 MiB: arrays of %zu MiB", cfg.n * 8 / MiB);

	/* Without the libomp peer the run holds less, and a plan may take larger arrays: a
	 * budget of 9.5 GiB holds 512 MiB arrays with 17 of them (8.94 GiB with the processes),
	 * not with 20 (10.4 GiB). */
	f = machine(480 * MiB, 24 * GiB);
	f.mem_avail = 19 * GiB;
	config_init(&cfg, 2);
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	check_plan(&cfg, &f, "19 GiB available, both OpenMP peers");
	CHECK_MSG(cfg.n * 8 == 256 * MiB, "both OpenMP peers: arrays of %zu MiB", cfg.n * 8 / MiB);
	config_init(&cfg, 2);
	cfg.libomp = 0;
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	check_plan(&cfg, &f, "19 GiB available, no libomp peer");
	CHECK_MSG(cfg.n * 8 == 512 * MiB, "no libomp peer: arrays of %zu MiB", cfg.n * 8 / MiB);

	/* Only dgemm selected: the stream arrays need nothing, dgemm shrinks to fit. */
	config_init(&cfg, 2);
	memset(cfg.kernels, 0, sizeof cfg.kernels);
	cfg.kernels[BK_DGEMM] = 1;
	f = machine(32 * MiB, 2 * GiB);
	CHECK_EQ(bench_plan(&cfg, &f, err, sizeof err), 0);
	CHECK_MSG(cfg.gemm_n < 4096 && any_note(&cfg, "dgemm at n ="), "2 GiB: dgemm n = %zu",
		  cfg.gemm_n);
	check_plan(&cfg, &f, "dgemm alone, 2 GiB");
	return test_done();
}
