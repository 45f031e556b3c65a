/* SPDX-License-Identifier: MIT */
/* cmd_pool.c - `brigade topo` (where a pool would run) and `brigade status` (a live pool or
 * stream). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { OPT_JSON = 256, OPT_WORKERS, OPT_BIND, OPT_SYNTHETIC };

static const char *bind_name(brg_bind bind)
{
	return bind == BRG_BIND_SCATTER ? "scatter" : bind == BRG_BIND_NONE ? "none" : "compact";
}

static const char topo_usage[] =
	"usage: brigade topo [--workers N] [--bind compact|scatter|none] [--synthetic DESC] "
	"[--json]\n"
	"\n"
	"Prints the hwloc topology summary and the placement a pool would use: participant 0 is\n"
	"the calling process, the others are worker processes.  --synthetic takes an hwloc\n"
	"synthetic description such as \"pack:2 numa:2 core:8 pu:2\" instead of this machine.\n"
	"BRG_WORKERS and BRG_BIND apply as they do to a pool.\n";

int brg_cli_topo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"bind", required_argument, NULL, OPT_BIND},
		{"synthetic", required_argument, NULL, OPT_SYNTHETIC},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	int json = 0, c;
	brg_bind bind = BRG_BIND_COMPACT;
	size_t workers = 0;
	const char *synthetic = NULL, *env;
	/* The defaults a pool takes from the environment, refused as a pool refuses them. */
	if ((env = getenv("BRG_BIND")) && *env) {
		if (!strcmp(env, "compact"))
			bind = BRG_BIND_COMPACT;
		else if (!strcmp(env, "scatter"))
			bind = BRG_BIND_SCATTER;
		else if (!strcmp(env, "none"))
			bind = BRG_BIND_NONE;
		else {
			brg_cli_error("topo: BRG_BIND='%s': compact, scatter or none", env);
			return BRG_CLI_FAIL;
		}
	}
	if ((env = getenv("BRG_WORKERS")) && *env &&
	    (brg_cli_parse_size(env, &workers) < 0 || workers < 1 || workers > 256)) {
		brg_cli_error("topo: BRG_WORKERS='%s': 1 to 256", env);
		return BRG_CLI_FAIL;
	}
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_WORKERS:
			if (brg_cli_parse_size(optarg, &workers) < 0 || workers < 1 || workers > 256)
				return brg_cli_usage_error("topo", topo_usage,
							   "--workers wants 1 to 256");
			break;
		case OPT_BIND:
			if (!strcmp(optarg, "compact"))
				bind = BRG_BIND_COMPACT;
			else if (!strcmp(optarg, "scatter"))
				bind = BRG_BIND_SCATTER;
			else if (!strcmp(optarg, "none"))
				bind = BRG_BIND_NONE;
			else
				return brg_cli_usage_error("topo", topo_usage, "unknown --bind '%s'",
							   optarg);
			break;
		case OPT_SYNTHETIC:
			synthetic = optarg;
			break;
		case 'h':
			return brg_cli_help(topo_usage);
		default:
			return brg_cli_bad_option("topo", topo_usage, c, argv);
		}
	}
	if (optind != argc)
		return brg_cli_usage_error("topo", topo_usage, "unexpected argument '%s'",
					   argv[optind]);
	char summary[256];
	int r = brg_topo_summary(synthetic, summary, sizeof summary);
	if (r < 0) {
		brg_cli_error_code(synthetic ? synthetic : "topology", r);
		return BRG_CLI_FAIL;
	}
	int n = brg_topo_placement(synthetic, (int)workers, bind, NULL, sizeof(brg_place), 0);
	if (n < 0) {
		brg_cli_error_code("placement", n);
		return BRG_CLI_FAIL;
	}
	brg_place *p = calloc((size_t)n, sizeof *p);
	if (!p) {
		brg_cli_error("out of memory");
		return BRG_CLI_FAIL;
	}
	brg_topo_placement(synthetic, (int)workers, bind, p, sizeof(brg_place), n);
	if (json) {
		printf("{\"topology\": ");
		brg_cli_json_string(stdout, summary);
		printf(", \"bind\": \"%s\", \"workers\": %d, \"placement\": [", bind_name(bind), n);
		for (int i = 0; i < n; i++) {
			printf("%s{\"participant\": %d, \"core\": %d, \"pu\": %d, \"cpuset\": ",
			       i ? ", " : "", i, p[i].core, p[i].pu);
			brg_cli_json_string(stdout, p[i].cpuset);
			printf("}");
		}
		printf("]}\n");
	} else {
		printf("topology: %s\n", summary);
		printf("pool: %d participant%s, bind %s (participant 0 is the caller)\n", n,
		       n == 1 ? "" : "s", bind_name(bind));
		printf("%-12s %-6s %-6s %s\n", "PARTICIPANT", "CORE", "PU", "CPUSET");
		for (int i = 0; i < n; i++) {
			char core[16] = "-", pu[16] = "-";
			if (p[i].core >= 0)
				snprintf(core, sizeof core, "%d", p[i].core);
			if (p[i].pu >= 0)
				snprintf(pu, sizeof pu, "%d", p[i].pu);
			printf("%-12d %-6s %-6s %s\n", i, core, pu, p[i].cpuset);
		}
	}
	free(p);
	return BRG_CLI_OK;
}

static const char status_usage[] =
	"usage: brigade status POOL|STREAM [--json]\n"
	"\n"
	"Shows each participant of a running pool (participant 0 is the process that made it):\n"
	"pid, core, state, the range it holds and for how long, chunks done and busy time.\n"
	"POOL is the control block's name as `brigade ls` lists it.\n"
	"Of a stream (its name, or its control segment NAME.stream): mode and policy, slots by\n"
	"state, frames published, received, lost and given back from dead processes, the rate\n"
	"of publishing over the 0.1 s the command watches, and each subscriber's pid, lag and\n"
	"frames held (in a queue, each consumer that has received: its lag is the frames that\n"
	"wait for any consumer).\n";

static const char *const slot_word[] = {"free", "loaned", "ready", "held"};

/* `brigade status STREAM`: 0, or -ENOENT when name is no stream (a pool, then). */
static int stream_status(const char *arg, int json)
{
	char name[BRG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", arg);
	size_t len = strlen(name);
	if (len > 7 && !strcmp(name + len - 7, ".stream"))
		name[len - 7] = 0;
	brg_stream_info a = {.size = sizeof a}, b = {.size = sizeof b};
	brg_stream_subscriber subs[BRG_STREAM_MAX_SUBSCRIBERS];
	int r = brg_stream_status(name, &a, NULL, sizeof subs[0], 0);
	if (r < 0)
		return r;
	struct timespec nap = {0, 100000000};
	nanosleep(&nap, NULL);
	int n = brg_stream_status(name, &b, subs, sizeof subs[0], BRG_STREAM_MAX_SUBSCRIBERS);
	if (n < 0)
		return n;
	double rate = (double)(b.published - a.published) / 0.1;
	size_t counts[4] = {b.free, b.loaned, b.ready, b.held};
	const char *mode = b.mode == BRG_STREAM_BROADCAST ? "broadcast" : "queue";
	const char *policy = b.policy == BRG_STREAM_OVERWRITE ? "overwrite" : "block";
	const char *parties = b.mode == BRG_STREAM_BROADCAST ? "subscribers" : "consumers";
	if (json) {
		printf("{\"name\": ");
		brg_cli_json_string(stdout, name);
		printf(", \"kind\": \"stream\", \"mode\": \"%s\", \"policy\": \"%s\", "
		       "\"slots\": %zu, \"frame_bytes\": %zu", mode, policy, b.slots,
		       b.frame_bytes);
		for (int i = 0; i < 4; i++)
			printf(", \"%s\": %zu", slot_word[i], counts[i]);
		printf(", \"published\": %llu, \"received\": %llu, \"lost\": %llu, "
		       "\"reclaimed\": %llu, \"last_ns\": %llu, \"frames_per_s\": %.1f, "
		       "\"%s\": [",
		       (unsigned long long)b.published, (unsigned long long)b.received,
		       (unsigned long long)b.lost, (unsigned long long)b.reclaimed,
		       (unsigned long long)b.last_ns, rate, parties);
		for (int i = 0; i < n && i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
			printf("%s{\"pid\": %d, \"alive\": %s, \"lag\": %llu, \"reading\": %zu}",
			       i ? ", " : "", subs[i].pid, subs[i].alive ? "true" : "false",
			       (unsigned long long)subs[i].lag, subs[i].reading);
		printf("]}\n");
		return 0;
	}
	printf("stream %s: %s, %s; %zu slots of %zu bytes: %zu free, %zu loaned, %zu ready, "
	       "%zu held\n", name, mode, policy, b.slots, b.frame_bytes, b.free, b.loaned, b.ready,
	       b.held);
	printf("published %llu, received %llu, lost %llu, given back from the dead %llu; "
	       "%.0f frames/s\n", (unsigned long long)b.published, (unsigned long long)b.received,
	       (unsigned long long)b.lost, (unsigned long long)b.reclaimed, rate);
	printf("%d %s\n", n, n == 1 ? parties[0] == 's' ? "subscriber" : "consumer" : parties);
	if (n > 0)
		printf("%-8s %-6s %-10s %s\n", "PID", "ALIVE", "LAG", "READING");
	for (int i = 0; i < n && i < BRG_STREAM_MAX_SUBSCRIBERS; i++)
		printf("%-8d %-6s %-10llu %zu\n", subs[i].pid, subs[i].alive ? "yes" : "no",
		       (unsigned long long)subs[i].lag, subs[i].reading);
	return 0;
}

static const char *sched_name(int s)
{
	static const char *const names[] = {"static", "dynamic", "guided", "auto"};
	return s >= 0 && s < 4 ? names[s] : "?";
}

int brg_cli_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		BRG_CLI_OPT_HELP,
		BRG_CLI_OPT_END,
	};
	int json = 0, c;
	while ((c = getopt_long(argc, argv, BRG_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			return brg_cli_help(status_usage);
		default:
			return brg_cli_bad_option("status", status_usage, c, argv);
		}
	}
	if (argc - optind != 1)
		return brg_cli_usage_error("status", status_usage, "expected one POOL");
	const char *name = argv[optind];
	int sr = stream_status(name, json);
	if (sr == 0)
		return BRG_CLI_OK;
	if (sr != -ENOENT && sr != BRG_EBADNAME) {
		brg_cli_error_code(name, sr);
		return BRG_CLI_FAIL;
	}
	brg_pool_info info = {.size = sizeof info};
	brg_worker_status w[256];
	int n = brg_pool_status(name, &info, w, sizeof w[0], 256);
	if (n < 0) {
		brg_cli_error_code(name, n);
		return BRG_CLI_FAIL;
	}
	if (json) {
		printf("{\"name\": ");
		brg_cli_json_string(stdout, name);
		printf(", \"participants\": %d, \"parent_pid\": %d, \"parent_alive\": %s, "
		       "\"start\": \"%s\", \"job_in_flight\": %s, \"job_id\": %llu, \"job_n\": %zu, "
		       "\"job_sched\": \"%s\", \"spin_us\": %ld, \"workers\": [",
		       info.nworkers, info.parent_pid, info.parent_alive ? "true" : "false",
		       info.start_method == BRG_START_SPAWN ? "spawn" : "fork",
		       info.job_in_flight ? "true" : "false", (unsigned long long)info.job_id,
		       info.job_n, sched_name(info.job_sched), info.spin_us);
		for (int i = 0; i < n && i < 256; i++) {
			printf("%s{\"index\": %d, \"pid\": %d, \"core\": %d, \"pu\": %d, \"state\": "
			       "\"%s\", \"alive\": %s, \"range\": ",
			       i ? ", " : "", w[i].index, w[i].pid, w[i].core, w[i].pu, w[i].state,
			       w[i].alive ? "true" : "false");
			if (w[i].has_range)
				printf("[%zu, %zu], \"range_age_ns\": %llu", w[i].range_begin,
				       w[i].range_end, (unsigned long long)w[i].range_age_ns);
			else
				printf("null, \"range_age_ns\": null");
			printf(", \"chunks_done\": %llu, \"busy_ns\": %llu}",
			       (unsigned long long)w[i].chunks_done, (unsigned long long)w[i].busy_ns);
		}
		printf("]}\n");
		return BRG_CLI_OK;
	}
	printf("pool %s: %d participant%s, %s workers, parent %d (%s)\n", name, info.nworkers,
	       info.nworkers == 1 ? "" : "s", info.start_method == BRG_START_SPAWN ? "spawned" : "forked",
	       info.parent_pid, info.parent_alive ? "alive" : "dead");
	if (info.job_in_flight)
		printf("job %llu in flight: n %zu, %s schedule\n", (unsigned long long)info.job_id,
		       info.job_n, sched_name(info.job_sched));
	else
		printf("no job in flight (%llu run)\n", (unsigned long long)info.job_id);
	printf("%-3s %-8s %-5s %-9s %-6s %-24s %-10s %-12s %s\n", "#", "PID", "CORE", "STATE",
	       "ALIVE", "RANGE", "HELD", "CHUNKS", "BUSY");
	for (int i = 0; i < n && i < 256; i++) {
		char range[48] = "-", held[24] = "-", core[12] = "-";
		if (w[i].has_range) {
			snprintf(range, sizeof range, "[%zu, %zu)", w[i].range_begin, w[i].range_end);
			snprintf(held, sizeof held, "%.3f ms", (double)w[i].range_age_ns / 1e6);
		}
		if (w[i].core >= 0)
			snprintf(core, sizeof core, "%d", w[i].core);
		printf("%-3d %-8d %-5s %-9s %-6s %-24s %-10s %-12llu %.3f s\n", i, w[i].pid, core,
		       w[i].state, w[i].alive ? "yes" : "no", range, held,
		       (unsigned long long)w[i].chunks_done, (double)w[i].busy_ns / 1e9);
	}
	return BRG_CLI_OK;
}
