/* SPDX-License-Identifier: MIT */
/* internal.h - declarations shared between engine/ files; nothing here is public ABI. */
#ifndef BRG_INTERNAL_H
#define BRG_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "brigade.h"

#define BRG__XSTR(x) #x
#define BRG__STR(x) BRG__XSTR(x)

#define BRG__PAGE 4096u
#define BRG__TRAILER_BYTES 256u
#define BRG__TRAILER_VERSION 1u
#define BRG__NPY_HEADER_LEN (BRG_DATA_OFFSET - 10u) /* magic 6 + version 2 + length 2 */

/* Trailer flag bits beyond the public BRG_CREATE_* ones are not defined yet. */
#define BRG__TRAILER_FLAGS (BRG_CREATE_PERSISTENT | BRG_CREATE_SHARED)

/* ---- abi.c: structs that grow ---- */
/* 1 when the n bytes at p are all zero (reserved bytes, padding, unused entries). */
int brg__all_zero(const void *p, size_t n);
/* A struct longer than this is no struct of ours but a size field left unset: refused before a
 * byte of it is read (the kernel's rule stops at a page too). */
#define BRG__STRUCT_MAX 4096u
/* A struct the caller hands in (their_size bytes, at least min_size, at most 4096) into ours:
 * fields they lack read as zero; bytes of theirs beyond ours must be zero.  0, -EINVAL,
 * -E2BIG (over 4096 bytes too). */
int brg__struct_in(void *ours, size_t our_size, const void *theirs, size_t their_size,
		   size_t min_size);
/* A struct the library fills (its first field the caller's size, left as it is): the bytes
 * both know are copied, the caller's bytes beyond ours zeroed.  0, -EINVAL when their_size <
 * min_size, -E2BIG when it is over 4096. */
int brg__struct_out(void *theirs, size_t their_size, const void *ours, size_t our_size,
		    size_t min_size);
/* A record with no size field of its own, their_size bytes long (an element of an array whose
 * stride the caller gave): the bytes both know, the rest of theirs zeroed. */
void brg__record_out(void *theirs, size_t their_size, const void *ours, size_t our_size);

/* ---- dtype.c ---- */
/* The NPY descr of a dtype ("<f8", "|u1"), NULL when unknown. */
const char *brg__dtype_descr(brg_dtype dtype);
/* The dtype of an NPY descr, or BRG_EDESCR. */
int brg__dtype_from_descr(const char *descr, size_t len);

/* ---- npy.c: the NPY 1.0 header page ---- */
struct brg__layout {
	brg_dtype dtype;
	int ndim;
	size_t shape[BRG_MAX_NDIM];
	size_t count;
	size_t nbytes;
	size_t trailer_offset; /* 4096 + nbytes rounded up to a page */
	size_t file_bytes;     /* trailer_offset + one page */
};
/* Fills a layout from dtype/ndim/shape: 0, BRG_EBADDTYPE, BRG_EBADNDIM, BRG_EOVERFLOW. */
int brg__layout_make(struct brg__layout *lay, brg_dtype dtype, int ndim, const size_t *shape);
/* Writes the 4096-byte NPY header page for lay into page. */
void brg__npy_write(unsigned char *page, const struct brg__layout *lay);
/* Parses a 4096-byte header page: 0 or BRG_ENOTNPY, BRG_ENPYVERSION, BRG_EDATAOFFSET,
 * BRG_EHEADER, BRG_EDESCR, BRG_EFORTRAN, BRG_EBADNDIM, BRG_EOVERFLOW. */
int brg__npy_parse(const unsigned char *page, struct brg__layout *lay);

/* ---- trailer.c: the brigade trailer page ---- */
struct brg__trailer {
	uint32_t flags;
	uint32_t kind;
	uint32_t creator_uid;
	int32_t creator_pid;
	uint64_t created_ns;
	uint64_t generation;
	struct brg__layout lay;
};
/* Offset of the generation counter inside the trailer (8-byte aligned, for atomics). */
#define BRG__TRAILER_GENERATION_OFFSET 40u
/* Writes the trailer (and its checksum over header page + trailer) except its magic. */
void brg__trailer_write(unsigned char *trailer, const unsigned char *header_page,
			const struct brg__trailer *t);
/* Writes the magic last so a reader never takes a half-written trailer for a whole one. */
void brg__trailer_seal(unsigned char *trailer);
/* Validates a trailer page against the header page and its parsed layout: 0 or
 * BRG_EINCOMPLETE, BRG_ENOTBRIGADE, BRG_ETRAILERVERSION, BRG_ECHECKSUM, BRG_EMISMATCH. */
int brg__trailer_parse(const unsigned char *trailer, const unsigned char *header_page,
		       const struct brg__layout *lay, struct brg__trailer *t);
/* 1 when page starts with the trailer magic. */
bool brg__trailer_has_magic(const unsigned char *page);
uint32_t brg__crc32(uint32_t crc, const void *data, size_t len);

/* ---- segment.c ---- */
struct brg_array {
	void *base;          /* mapping of the whole object */
	size_t map_bytes;
	void *data;          /* base + 4096 */
	unsigned char *trailer;
	struct brg__trailer meta; /* validated copy; never re-read from shared memory */
	bool writable;
	bool any_owner; /* opened with BRG_OPEN_ANY_OWNER: workers open it the same way */
	bool no_fork;	/* an array's mapping: a forked child does not inherit it */
	pid_t map_pid;	/* the process that mapped it */
	char name[BRG_NAME_MAX + 1];
};
/* Creates a segment of the given kind (arrays and pool control blocks share the format). */
int brg__segment_create(brg_array **out, const char *name, brg_dtype dtype, int ndim,
			const size_t *shape, const brg_array_opts *opts, uint32_t kind);
/* As brg__segment_create; internal flags: */
#define BRG__CREATE_LAZY_DATA 0x1u /* reserve header and trailer only; data populated later */
int brg__segment_create_ex(brg_array **out, const char *name, brg_dtype dtype, int ndim,
			   const size_t *shape, const brg_array_opts *opts, uint32_t kind,
			   unsigned internal);
/* Opens, validates and maps; when kind >= 0 the trailer's kind must equal it (BRG_ENOTPOOL). */
int brg__segment_open(brg_array **out, const char *name, unsigned flags, int kind);
/* "/name" into buf (BRG_NAME_MAX + 2 bytes). */
void brg__shm_path(char *buf, const char *name);

/* ---- hugepage.c ---- */
#define BRG__HUGE_PAGE ((size_t)2 << 20)
/* mmap(MAP_SHARED) of len bytes of fd; with huge, at a 2 MiB-aligned address when len is at
 * least that, so the kernel can map the object's huge pages whole.  MAP_FAILED + errno. */
void *brg__map_segment(int fd, size_t len, int prot, bool huge);
/* Turns the 2 MiB pages of the object that lie wholly inside [lo, hi) (offsets from base)
 * into huge pages, shared by every process that maps them.  Best effort, so nothing to
 * report: an unaligned base, a kernel without MADV_COLLAPSE or no free 2 MiB block leave
 * 4 KiB pages, as valid as before. */
void brg__huge_collapse(void *base, size_t lo, size_t hi);

/* ---- pool/futex.c: waiting on 32-bit words in shared memory, robust mutexes (pool, sync) */
void brg__cpu_relax(void);
/* Sleeps while *word == expect, at most timeout_ns (< 0: no limit); 0 (woken, a changed
 * word, a signal or the time up: the caller looks again) or -errno. */
int brg__futex_wait(uint32_t *word, uint32_t expect, int64_t timeout_ns);
void brg__futex_wake(uint32_t *word, int count);
/* A process-shared robust mutex of type (PTHREAD_MUTEX_*) at m: 0 or -errno. */
int brg__robust_mutex_init(pthread_mutex_t *m, int type);

/* The sync objects' waits: spin this long, then sleep; look again (for the dead, for a wake
 * that never came) this often. */
#define BRG__SPIN_NS 20000
#define BRG__LOOK_NS 20000000
/* One turn of a wait that began at t0 on *word, then == seen: a pause while the wait is
 * younger than BRG__SPIN_NS, else a sleep until the word moves or CLOCK_MONOTONIC reaches
 * until.  0 (the caller looks again) or -errno. */
int brg__wait_turn(uint32_t *word, uint32_t seen, uint64_t t0, uint64_t now, uint64_t until);
/* The CLOCK_MONOTONIC end of a wait of timeout_ms (-1: none) begun at t0. */
static inline uint64_t brg__deadline_ns(uint64_t t0, int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : t0 + (uint64_t)timeout_ms * 1000000;
}

/* ---- proc.c ---- */
#ifdef BRG_FAULT_INJECTION
/* Test builds: $BRG_SYNC_FAULT=N kills the process at the Nth of the sync objects' and the
 * streams' fault points it passes (tests/sync/test_*_faults.c kill a party at each in turn). */
void brg__sync_fault(void);
#define BRG__SYNC_FAULT() brg__sync_fault()
#else
#define BRG__SYNC_FAULT() ((void)0)
#endif
/* 1 when pid runs and started no later than created_ns (CLOCK_REALTIME; so it is the same
 * process), else 0.  Seconds apart, and fooled by a wall clock set back or forth. */
int brg__pid_alive(int32_t pid, uint64_t created_ns);
/* The same for a stamp the process took itself, brg__boot_ns(): exact to a clock tick, and
 * blind to the wall clock.  What brigade's own records of live parties use. */
int brg__pid_alive_since(int32_t pid, uint64_t boot_ns);
/* CLOCK_BOOTTIME: ns since boot, counting suspends (the scale of /proc's start times). */
uint64_t brg__boot_ns(void);
/* getpid(), without a system call (refreshed in a forked child). */
int32_t brg__self_pid(void);
/* A token unique among this machine's processes: the pid, and a count within it. */
uint64_t brg__token(void);
uint64_t brg__now_ns(void);
uint64_t brg__mono_ns(void);
/* CLOCK_MONOTONIC_COARSE: cheap, millisecond resolution. */
uint64_t brg__coarse_ns(void);

#endif
