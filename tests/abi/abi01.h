/* SPDX-License-Identifier: MIT */
/* abi01.h - the structs of brigade.h as version 0.1 published them, under names of their own:
 * what a program built then hands the library today.  Never edit: a struct of the library
 * may only grow at its end, and test_abi.c checks that its fields still sit where these do. */
#ifndef BRG_TEST_ABI01_H
#define BRG_TEST_ABI01_H

#include <stddef.h>
#include <stdint.h>

#include "brigade.h"

typedef struct abi01_array_opts {
	size_t size;
	unsigned flags;
	unsigned mode;
} abi01_array_opts;

typedef struct abi01_segment_info {
	size_t size;
	char name[BRG_NAME_MAX + 1];
	int kind;
	brg_dtype dtype;
	int ndim;
	size_t shape[BRG_MAX_NDIM];
	size_t nbytes;
	size_t file_bytes;
	unsigned flags;
	unsigned mode;
	uint32_t creator_uid;
	int32_t creator_pid;
	int creator_alive;
	uint64_t created_ns;
	uint64_t generation;
} abi01_segment_info;

typedef struct abi01_pool_opts {
	size_t size;
	int workers;
	int bind;
	int start;
	long spin_us;
	const char *name;
	const char *plugin;
	const char *worker_path;
} abi01_pool_opts;

typedef struct abi01_schedule {
	int kind;
	size_t chunk;
} abi01_schedule;

typedef struct abi01_job_desc {
	size_t size;
	const brg_kernel *kernel;
	size_t n;
	abi01_schedule sched;
	const void *args;
	size_t args_size;
	brg_array *const *arrays;
	int narrays;
	brg_combine_fn combine;
} abi01_job_desc;

typedef struct abi01_job_result {
	size_t size;
	int status;
	size_t err_begin;
	size_t err_end;
	int err_worker;
	unsigned char partial[BRG_SCRATCH_BYTES];
} abi01_job_result;

typedef struct abi01_pool_info {
	size_t size;
	int nworkers;
	int parent_pid;
	int parent_alive;
	int start_method;
	int job_in_flight;
	uint64_t job_id;
	size_t job_n;
	int job_sched;
} abi01_pool_info;

typedef struct abi01_worker_status {
	int index;
	int pid;
	int core, pu;
	const char *state;
	int alive;
	int has_range;
	size_t range_begin, range_end;
	uint64_t range_age_ns;
	uint64_t chunks_done;
	uint64_t busy_ns;
} abi01_worker_status;

typedef struct abi01_place {
	int core;
	int pu;
	char cpuset[64];
} abi01_place;

typedef struct abi01_kernel {
	const char *name;
	brg_kernel_fn fn;
	unsigned flags;
} abi01_kernel;

#endif
