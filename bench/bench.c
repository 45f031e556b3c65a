/* SPDX-License-Identifier: MIT */
/* bench.c - `brigade bench`: options, sizes, and the order of the measurements. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

const struct bench_kernel_info bench_kernels[BK_COUNT] = {
	[BK_TRIAD] = {"triad", BM_BYTES, 24, "a[i] = b[i] + s*c[i] on f64"},
	[BK_DOT] = {"dot", BM_BYTES, 16, "sum of x[i]*y[i] on f64"},
	[BK_SUMSQ] = {"sumsq", BM_BYTES, 8, "sum of x[i]^2 on f64"},
	[BK_STENCIL3] = {"stencil3", BM_BYTES, 8,
			 "3x3 correlation of an f32 image, clamped borders"},
	[BK_DGEMM] = {"dgemm", BM_FLOPS, 0, "C = A B, f64, row-major n x n"},
	[BK_EMPTY] = {"empty", BM_US, 0,
		      "round trip of a job that does nothing, one range per worker"},
	[BK_CLAIM] = {"claim", BM_NS, 0,
		      "one chunk claimed: empty kernel, dynamic schedule, chunk 1"},
	[BK_BARRIER] = {"barrier", BM_US, 0,
			"a barrier of every participant (brigade: its empty job; OpenMP: a "
			"region of barriers, per barrier)"},
	[BK_PFOR] = {"pfor", BM_US, 0,
		     "a whole parallel for of 128 empty iterations per participant, dynamic "
		     "schedule, chunk 1"},
	[BK_IMB_DYNAMIC] = {"imb-dynamic", BM_STEPS, 0,
			    "a loop whose index i costs 4i steps, dynamic schedule, chunk 1"},
	[BK_IMB_GUIDED] = {"imb-guided", BM_STEPS, 0,
			   "a loop whose index i costs 4i steps, guided schedule, chunk 1"},
	[BK_IMB_AUTO] = {"imb-auto", BM_STEPS, 0,
			 "a loop whose index i costs 4i steps, brigade's auto schedule"},
	[BK_IMB_STATIC] = {"imb-static", BM_STEPS, 0,
			   "a loop whose index i costs 4i steps, static schedule (the reference)"},
	[BK_START] = {"start", BM_US, 0, "creating a pool (brg_pool_create; destroy not timed)"},
};

const char *const bench_impl_names[BI_COUNT] = {
	[BI_BRIGADE] = "brigade",	  [BI_PYBRIGADE] = "py-brigade", [BI_SERIAL] = "serial",     [BI_OPENMP] = "openmp",
	[BI_OPENMP_LLVM] = "openmp-llvm", [BI_OPENBLAS] = "openblas", [BI_NUMPY] = "numpy",
	[BI_PICKLE] = "py-pool-pickle",	  [BI_SHM] = "py-pool-shm",	 [BI_PYFN] = "py-brigade-fn",
};

int bench_kernel_find(const char *name)
{
	for (int k = 0; k < BK_COUNT; k++)
		if (!strcmp(name, bench_kernels[k].name))
			return k;
	return -1;
}

const char *bench_metric_unit(enum bench_metric m)
{
	static const char *const units[] = {"GB/s", "GFLOP/s", "us", "ns", "Gstep/s"};
	return units[m];
}

static const char bench_usage[] =
	"usage: brigade bench [--quick] [--json] [--workers 1,2,...] [--kernels triad,dot,...]\n"
	"                     [--out DIR] [--repeat N] [--rounds N] [--time-limit S]\n"
	"                     [--size BYTES [--force]] [--llc BYTES] [--mem-floor BYTES]\n"
	"\n"
	"Measures brigade's kernels and pool against peers on the same data, pinned to the same\n"
	"cores: a serial C loop, OpenMP (GCC's libgomp, and clang with LLVM's libomp:\n"
	"openmp-llvm), OpenBLAS, numpy and Python multiprocessing Pools (the OpenMP and OpenBLAS\n"
	"peers in processes of their own, the Python ones via /usr/bin/python3 and peers.py).\n"
	"brigade and the serial, OpenMP, OpenBLAS and numpy peers take turns run by run on each\n"
	"kernel (each run after a warm-up run, and after every other side has gone quiet), so\n"
	"their runs sit milliseconds apart and see the same load.  Each number is the median of\n"
	"the timed runs of every round, with min-max; every result is checked against a serial\n"
	"loop (a wrong one fails).  A ratio to brigade is the median of the ratios of runs taken\n"
	"in the same turn (dgemm takes one turn of 3 runs a side, so its pairs are seconds\n"
	"apart).  Rounds repeat the whole sequence; the first two run everything, later ones skip\n"
	"dgemm, the imbalance loops and the Python Pools (which run alone, once through, and are\n"
	"compared by their medians).\n"
	"\n"
	"kernels: triad dot sumsq (f64 arrays), stencil3 (3x3 on an f32 image of the same bytes),\n"
	"         dgemm (n = 4096), empty (empty-job round trip), claim (one dynamic chunk),\n"
	"         barrier (EPCC's barrier), pfor (EPCC's parallel for: 128 chunks a worker),\n"
	"         imb-dynamic imb-guided imb-auto imb-static (a loop whose cost grows with the\n"
	"         index, by schedule), start (pool creation)\n"
	"\n"
	"Sizes: arrays of 4x the last-level cache (a power of two, at least 128 MiB, at most\n"
	"1 GiB), halved until everything the run keeps at once (every peer's data) fits half of\n"
	"the memory available when it starts, and its segments 90% of /dev/shm's free space;\n"
	"dgemm's n and the Python Pools' arrays likewise (py-pool-pickle: at most 32 MiB).\n"
	"A thread watches the available memory and stops the peers should it run short.  Ctrl-C\n"
	"or SIGTERM stops the peers and removes every segment of the run.\n"
	"\n"
	"  --quick          small sizes (arrays of 32 MiB, dgemm n = 1024), 2 runs: a smoke test\n"
	"  --json           one JSON document on stdout (tables go to stderr)\n"
	"  --workers LIST   worker counts (default: 1 to the number of cores)\n"
	"  --kernels LIST   kernels to run (default: all)\n"
	"  --out DIR        results.csv, results.md, results.png (gnuplot) (default: results)\n"
	"  --repeat N       timed runs per measurement and round (default 3, --quick 2)\n"
	"  --rounds N       rounds, 1 to 8 (default 6, --quick 1)\n"
	"  --time-limit S   start no round that would end more than S seconds after the start\n"
	"                   (default 360 with the default rounds, none with --rounds; 0: none)\n"
	"  --size BYTES     bytes per array (K, M, G, T suffixes: 512M), refused over the budget\n"
	"  --force          run a --size over the budget all the same\n"
	"  --llc BYTES      the last-level cache the sizing rule assumes (default: hwloc's)\n"
	"  --mem-floor BYTES  stop the peers when the available memory falls under BYTES\n"
	"                   (default: 5% of the machine's memory, at most a quarter of what\n"
	"                   is available at the start)\n"
	"  -h, --help\n"
	"\n"
	"Environment: BRG_BENCH_PEER (brigade-bench-peer), BRG_BENCH_PEER_LIBOMP\n"
	"(brigade-bench-peer-libomp), BRG_BENCH_PEERS (peers.py).\n"
	"Exit status: 0, or 1 when a brigade kernel failed or computed a wrong result, a peer\n"
	"broke or was lost, or the machine cannot hold the run (missing Python or numpy only\n"
	"skips those peers).\n";

enum {
	OPT_QUICK = 256,
	OPT_JSON,
	OPT_WORKERS,
	OPT_KERNELS,
	OPT_OUT,
	OPT_REPEAT,
	OPT_ROUNDS,
	OPT_TIME_LIMIT,
	OPT_SIZE,
	OPT_FORCE,
	OPT_LLC,
	OPT_MEM_FLOOR,
};

/* "512M", "1G", "4096", "2GiB": bytes (K, M, G, T are powers of 1024), at most 1 PiB (so that
 * sums of a few dozen of them cannot wrap); 0, or -1 for junk. */
static int parse_bytes(const char *text, size_t *out)
{
	char *end;
	if (!*text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno)
		return -1;
	static const char units[] = "KMGT";
	const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
	if (*end && !u)
		return -1;
	if (u) {
		for (const char *k = units; k <= u; k++)
			if (__builtin_mul_overflow(v, 1024ULL, &v))
				return -1;
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || v > (1ULL << 50))
		return -1;
	*out = (size_t)v;
	return 0;
}

/* "1,2,4" into v (at most max); returns the count or -1. */
static int parse_int_list(const char *text, int *v, int max, int lo, int hi)
{
	int n = 0;
	const char *p = text;
	while (*p) {
		char field[24];
		size_t len = strcspn(p, ","), val;
		if (n == max || len == 0 || len >= sizeof field)
			return -1;
		memcpy(field, p, len);
		field[len] = 0;
		if (brg_cli_parse_size(field, &val) || val < (size_t)lo || val > (size_t)hi)
			return -1;
		v[n++] = (int)val;
		p += len + (p[len] == ',');
	}
	return n ? n : -1;
}

static int parse_kernel_list(const char *text, int *sel)
{
	memset(sel, 0, BK_COUNT * sizeof *sel);
	const char *p = text;
	while (*p) {
		char field[32];
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof field)
			return -1;
		memcpy(field, p, len);
		field[len] = 0;
		int k = bench_kernel_find(field);
		if (k < 0)
			return -1;
		sel[k] = 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* Repeats and the sizes that do not depend on the machine; plan.c sets the others. */
static void configure(struct bench_config *cfg, int repeat, int rounds)
{
	cfg->rounds = rounds ? rounds : cfg->quick ? 1 : 6;
	cfg->pool_peers = 1;
	cfg->repeat = repeat ? repeat : cfg->quick ? 2 : 3;
	cfg->gemm_n = cfg->quick ? 1024 : 4096;
	/* One full-size dgemm takes seconds at one core: three runs are enough for a median. */
	cfg->repeat_gemm = cfg->gemm_n >= 2048 && cfg->repeat > 3 ? 3 : cfg->repeat;
	cfg->repeat_pool = cfg->repeat > 3 ? 3 : cfg->repeat;
	cfg->claim_n = 1000000;
	/* Short enough that the loops of a turn, a dozen a side or so, stay a small part of a
	 * round (bench/README.md has their time). */
	cfg->imb_n = 2048;
	cfg->empty_batch = cfg->quick ? 200 : 1000;
	cfg->pfor_batch = cfg->quick ? 20 : 100;
	cfg->start_batch = cfg->quick ? 3 : 10;
	cfg->scalar = BENCH_TRIAD_SCALAR;
	cfg->max_workers = 1;
	for (int i = 0; i < cfg->nworkers; i++)
		cfg->max_workers = cfg->workers[i] > cfg->max_workers ? cfg->workers[i]
								       : cfg->max_workers;
}

/* Whether the openmp-llvm peer runs (cfg->libomp), with a note when it would have had a kernel
 * and does not. */
static void note_libomp(struct bench_config *cfg, struct bench_results *res)
{
	int wanted = 0;
	for (int k = 0; k < BK_COUNT; k++) {
		const char *why;
		wanted |= cfg->kernels[k] && bench_peer_supports(BI_OPENMP_LLVM, k, &why);
	}
	cfg->libomp = wanted && bench_peer_libomp_path() != NULL;
	if (!wanted || cfg->libomp)
		return;
#ifdef BRG_BENCH_HAVE_LIBOMP
	bench_note(res, "openmp-llvm peer skipped: brigade-bench-peer-libomp not found (set "
			"BRG_BENCH_PEER_LIBOMP to its path)");
	res->failures++;
#else
	bench_note(res, "openmp-llvm peer not run: brigade was built without it (meson -Dlibomp: "
			"clang and LLVM's libomp, Debian's clang and libomp-dev)");
#endif
}

/* Runs the rounds, each unless the time limit says it would end too late; returns how many
 * ran. */
static int run_all(const struct bench_config *cfg, const struct bench_refs *refs,
		   struct bench_results *res, double t0)
{
	if (cfg->kernels[BK_START]) {
		bench_run_pool_first(cfg->workers[0], res);
		/* Pool creation first, in a process that has not used BLAS yet: fork() copies
		 * the page tables of the caller's private memory, and OpenBLAS's buffers, once
		 * allocated by a GEMM, would be timed as part of every pool start after it. */
		for (int w = 0; w < cfg->nworkers; w++)
			bench_run_pool_start(cfg, cfg->workers[w], res);
	}
	/* Every round runs the sequence again; bench_results_add merges a round's samples to the
	 * first round's records and keeps each round's rate, so a spell of load on the machine
	 * falls on every side and ratios can be taken within a round.  After the full rounds,
	 * dgemm (seconds a run, and steady) and the Python Pools (100x off) stay out. */
	static struct bench_config late;
	late = *cfg;
	late.kernels[BK_DGEMM] = 0;
	/* The imbalance loops compute, as dgemm does: the load of the machine hardly moves them,
	 * and the later rounds are for those it moves. */
	for (int k = BK_IMB_DYNAMIC; k <= BK_IMB_STATIC; k++)
		late.kernels[k] = 0;
	late.pool_peers = 0;
	double last = 0, last_full_only = 0;
	for (int round = 0; round < cfg->rounds; round++) {
		const struct bench_config *c = round < BENCH_FULL_ROUNDS ? cfg : &late;
		/* The next round takes as long as the last, less what only a full round runs. */
		double guess = round < BENCH_FULL_ROUNDS ? last : last - last_full_only;
		double at = bench_now() - t0;
		if (round && cfg->time_limit > 0 && at + guess > cfg->time_limit) {
			bench_note(res,
				   "rounds %d to %d of %d not run: at %.0f s, another round of about "
				   "%.0f s would have ended past the time limit of %.0f s "
				   "(--time-limit, --rounds)",
				   round + 1, cfg->rounds, cfg->rounds, at, guess, cfg->time_limit);
			return round;
		}
		double r0 = bench_now();
		last_full_only = 0;
		for (int w = 0; w < cfg->nworkers; w++) {
			bench_progress("---- %d worker%s, round %d of %d (at %.0f s) ----",
				       cfg->workers[w], cfg->workers[w] == 1 ? "" : "s", round + 1,
				       cfg->rounds, bench_now() - t0);
			last_full_only += bench_run_round(c, refs, cfg->workers[w], w == 0, res);
		}
		last = bench_now() - r0;
	}
	return cfg->rounds;
}

/* The notes on memory: the budget, the plan's peak and what the watch saw. */
static void note_memory(const struct bench_config *cfg, const struct bench_facts *f,
			const struct bench_watch *w, struct bench_results *res)
{
	char budget[32], avail[32], total[32], peak[32], rise[32], lowest[32];
	size_t mem, shm;
	int phase = bench_need_peak(cfg, &mem, &shm);
	bench_format_bytes(budget, sizeof budget, cfg->budget_mem);
	bench_format_bytes(avail, sizeof avail, f->mem_avail);
	bench_format_bytes(total, sizeof total, f->mem_total);
	bench_format_bytes(peak, sizeof peak, mem);
	bench_note(res,
		   "memory: the run may keep %s at once (half of the %s available of %s at the "
		   "start%s); its plan keeps at most %s (%s, with %s for the processes)",
		   budget, avail, total, f->cgroup ? ", under the cgroup's limit" : "", peak,
		   bench_phase_names[phase],
		   (bench_format_bytes(rise, sizeof rise, bench_fixed_bytes(cfg->max_workers)),
		    rise));
	if (!w->start)
		return;
	size_t fell = w->start > w->lowest ? w->start - w->lowest : 0;
	bench_format_bytes(rise, sizeof rise, fell);
	bench_format_bytes(lowest, sizeof lowest, w->lowest);
	bench_note(res,
		   "memory: measured, the machine's available memory fell by at most %s (%.0f%% of "
		   "its %s), to %s at %.0f s (MemAvailable every %d ms)",
		   rise, 100.0 * (double)fell / (double)f->mem_total, total, lowest, w->lowest_at,
		   BENCH_WATCH_PERIOD_MS);
	if (w->stops) {
		bench_format_bytes(lowest, sizeof lowest, w->floor);
		bench_note(res,
			   "memory: the available memory fell under the floor of %s %d time%s; the "
			   "peers were stopped (their records say so) and the run went on",
			   lowest, w->stops, w->stops == 1 ? "" : "s");
		res->failures++;
	}
}

int brg_cli_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quick", no_argument, NULL, OPT_QUICK},
		{"json", no_argument, NULL, OPT_JSON},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"kernels", required_argument, NULL, OPT_KERNELS},
		{"out", required_argument, NULL, OPT_OUT},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{"rounds", required_argument, NULL, OPT_ROUNDS},
		{"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
		{"size", required_argument, NULL, OPT_SIZE},
		{"force", no_argument, NULL, OPT_FORCE},
		{"llc", required_argument, NULL, OPT_LLC},
		{"mem-floor", required_argument, NULL, OPT_MEM_FLOOR},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	static struct bench_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.out_dir = "results";
	for (int k = 0; k < BK_COUNT; k++)
		cfg.kernels[k] = 1;
	int repeat = 0, rounds = 0, c;
	size_t v, llc = 0, floor = 0;
	double time_limit = -1;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_QUICK:
			cfg.quick = 1;
			break;
		case OPT_JSON:
			cfg.json = 1;
			break;
		case OPT_WORKERS:
			cfg.nworkers = parse_int_list(optarg, cfg.workers, BENCH_MAX_WORKERS, 1,
						      BENCH_MAX_WORKERS);
			if (cfg.nworkers < 0)
				return brg_cli_usage_error(
					"bench", bench_usage,
					"bad worker list '%s' (1,2,... up to %d)", optarg,
					BENCH_MAX_WORKERS);
			break;
		case OPT_KERNELS:
			if (parse_kernel_list(optarg, cfg.kernels))
				return brg_cli_usage_error("bench", bench_usage,
							   "bad kernel list '%s'", optarg);
			break;
		case OPT_OUT:
			if (!*optarg)
				return brg_cli_usage_error("bench", bench_usage, "empty --out");
			cfg.out_dir = optarg;
			break;
		case OPT_REPEAT:
			if (brg_cli_parse_size(optarg, &v) || v < 1 || v > BENCH_MAX_SAMPLES)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --repeat '%s' (1 to %d)", optarg,
							   BENCH_MAX_SAMPLES);
			repeat = (int)v;
			break;
		case OPT_ROUNDS:
			if (brg_cli_parse_size(optarg, &v) || v < 1 || v > 8)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --rounds '%s' (1 to 8)", optarg);
			rounds = (int)v;
			break;
		case OPT_TIME_LIMIT:
			if (brg_cli_parse_size(optarg, &v) || v > 86400)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --time-limit '%s' (seconds, 0 to "
							   "86400)",
							   optarg);
			time_limit = (double)v;
			break;
		case OPT_SIZE:
			if (parse_bytes(optarg, &cfg.size_asked) || !cfg.size_asked)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --size '%s' (bytes: 512M, 1G, ...)",
							   optarg);
			break;
		case OPT_FORCE:
			cfg.force = 1;
			break;
		case OPT_LLC:
			if (parse_bytes(optarg, &llc) || !llc)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --llc '%s' (bytes: 32M, 480M, ...)",
							   optarg);
			break;
		case OPT_MEM_FLOOR:
			if (parse_bytes(optarg, &floor) || !floor)
				return brg_cli_usage_error("bench", bench_usage,
							   "bad --mem-floor '%s' (bytes: 1G, ...)",
							   optarg);
			break;
		case 'h':
			return brg_cli_help(bench_usage);
		default:
			return brg_cli_bad_option("bench", bench_usage, c, argv);
		}
	}
	if (optind < argc)
		return brg_cli_usage_error("bench", bench_usage, "unexpected argument '%s'",
					   argv[optind]);
	if (cfg.force && !cfg.size_asked)
		return brg_cli_usage_error("bench", bench_usage, "--force goes with --size");

	struct bench_results res;
	memset(&res, 0, sizeof res);
	/* The pool's defaults from the environment would change what is measured behind our
	 * back (the bench leaves binding and spinning at their defaults). */
	static const char *const overrides[] = {"BRG_WORKERS", "BRG_BIND", "BRG_WAIT"};
	for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++) {
		if (getenv(overrides[i])) {
			bench_note(&res,
				   "%s was set and is ignored: pools get --workers, the compact "
				   "binding and the default spin",
				   overrides[i]);
			unsetenv(overrides[i]);
		}
	}
	/* Loads (and caches) the topology, so no creation below pays for it. */
	int cores = brg_topo_placement(NULL, 0, BRG_BIND_COMPACT, NULL, sizeof(brg_place), 0);
	if (cores < 1) {
		brg_cli_error_code("hwloc topology", cores < 0 ? cores : -ENODEV);
		return BRG_CLI_FAIL;
	}
	if (!cfg.nworkers) {
		cfg.nworkers = cores < BENCH_MAX_WORKERS ? cores : BENCH_MAX_WORKERS;
		for (int i = 0; i < cfg.nworkers; i++)
			cfg.workers[i] = i + 1;
	}
	struct bench_machine m;
	bench_machine_probe(&m);
	cfg.llc_bytes = llc ? llc : m.llc_bytes;
	configure(&cfg, repeat, rounds);
	note_libomp(&cfg, &res);
	/* The default rounds stop in time; rounds asked for run unless a limit is asked too. */
	cfg.time_limit = time_limit >= 0 ? time_limit : rounds ? 0 : 360;
	cfg.tables = cfg.json ? stderr : stdout;

	struct bench_facts facts;
	char why[600];
	int r = bench_facts_probe(&facts, cfg.llc_bytes, NULL);
	if (r) {
		brg_cli_error_code("bench: reading /proc/meminfo and /dev/shm", r);
		bench_results_free(&res);
		return BRG_CLI_FAIL;
	}
	if (bench_plan(&cfg, &facts, why, sizeof why)) {
		brg_cli_error("bench: %s", why);
		bench_results_free(&res);
		return BRG_CLI_FAIL;
	}
	for (int i = 0; i < cfg.nplan_notes; i++) {
		bench_progress("%s", cfg.plan_notes[i]);
		bench_note(&res, "%s", cfg.plan_notes[i]);
	}
	r = bench_guard_init();
	if (r) {
		brg_cli_error_code("bench: /dev/shm and the signal handlers", r);
		bench_results_free(&res);
		return BRG_CLI_FAIL;
	}
	/* Under the floor the OOM killer is near: the peers go first, chosen by us. */
	if (!floor) {
		floor = facts.mem_total / 20;
		floor = floor > facts.mem_avail / 4 ? facts.mem_avail / 4 : floor;
	}
	if (bench_watch_start(floor, &facts))
		bench_note(&res, "memory: the watch could not start; no lowest reading");

	double t0 = bench_now();
	struct bench_refs refs;
	bench_refs_compute(&cfg, &refs);
	cfg.rounds = run_all(&cfg, &refs, &res, t0);
	bench_watch_stop(&res.watch);
	note_memory(&cfg, &facts, &res.watch, &res);
	int left = bench_guard_sweep();
	if (left)
		bench_note(&res, "%d segment%s a lost peer left behind in /dev/shm removed", left,
			   left == 1 ? "" : "s");
	bench_loadavg(m.load_end, sizeof m.load_end);
	bench_derive(&cfg, &res);
	/* Files first: a chart that could not be drawn is a note in the tables. */
	int w = bench_write_files(&cfg, &m, &res);
	bench_print_tables(cfg.tables, &cfg, &m, &res);
	if (cfg.json)
		bench_print_json(stdout, &cfg, &m, &res);
	bench_progress("done in %.0f s", bench_now() - t0);
	int failures = res.failures;
	bench_results_free(&res);
	if (failures) {
		brg_cli_error("bench: %d measurement%s failed or computed a wrong result (see the "
			      "tables)",
			      failures, failures == 1 ? "" : "s");
		return BRG_CLI_FAIL;
	}
	return w ? BRG_CLI_FAIL : BRG_CLI_OK;
}
