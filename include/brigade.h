/* SPDX-License-Identifier: MIT */
/* brigade.h - public API of brigade: named shared-memory arrays and the worker pool. */
#ifndef BRIGADE_H
#define BRIGADE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BRG_EXPORT __attribute__((visibility("default")))
#else
#define BRG_EXPORT
#endif

/* The version of this header.  The library a program runs with may be newer (never older
 * than the one it was linked against: the symbol versions see to that); ask it with
 * brg_version_major() and friends. */
#define BRG_VERSION_MAJOR 1
#define BRG_VERSION_MINOR 1
#define BRG_VERSION_PATCH 0

/** 1 when this header is version maj.min.pat or later: `#if BRIGADE_CHECK_VERSION(1, 1, 0)`. */
#define BRIGADE_CHECK_VERSION(maj, min, pat)                                                   \
	(BRG_VERSION_MAJOR > (maj) ||                                                          \
	 (BRG_VERSION_MAJOR == (maj) &&                                                        \
	  (BRG_VERSION_MINOR > (min) || (BRG_VERSION_MINOR == (min) && BRG_VERSION_PATCH >= (pat)))))

/** Version string of the library actually loaded ("1.0.0"). */
BRG_EXPORT const char *brg_version(void);
/** The loaded library's major, minor and patch numbers. */
BRG_EXPORT int brg_version_major(void);
BRG_EXPORT int brg_version_minor(void);
BRG_EXPORT int brg_version_patch(void);

/* ------------------------------------------------------------------------------------------
 * Errors
 *
 * Every function that can fail returns 0 (or a non-negative value) on success and a negative
 * code on failure.  System failures are -errno (-ENOENT, -EEXIST, -ENOSPC, -EINVAL for a NULL
 * argument...).  brigade's own failures sit in [-4999, -4000] and come from this table.
 * ---------------------------------------------------------------------------------------- */
#define BRG_ERRNO_MAP(X)                                                                      \
	X(BADNAME, -4000, "invalid name: 1-200 of [A-Za-z0-9._-], not \".\" or \"..\"")          \
	X(BADDTYPE, -4001, "unknown dtype")                                                   \
	X(BADNDIM, -4002, "ndim must be 1 to 8")                                              \
	X(OVERFLOW, -4003, "shape product or byte size overflows")                            \
	X(BADFLAGS, -4004, "unknown flag bits")                                               \
	X(MODE, -4005, "mode grants access beyond the owner without BRG_CREATE_SHARED")       \
	X(NOTREG, -4006, "not a regular shared-memory object")                                \
	X(OWNER, -4007, "segment is owned by another user")                                   \
	X(EXPOSED, -4008, "segment is writable by group or others")                          \
	X(EMPTY, -4009, "segment is a zero-length file")                                      \
	X(TRUNCATED, -4010, "segment is smaller than its header says")                        \
	X(OVERSIZE, -4011, "segment is larger than its header says")                          \
	X(NOTNPY, -4012, "not an NPY file (bad magic)")                                       \
	X(NPYVERSION, -4013, "unsupported NPY format version")                                \
	X(HEADER, -4014, "malformed NPY header")                                              \
	X(DESCR, -4015, "unsupported descr in NPY header")                                    \
	X(FORTRAN, -4016, "Fortran-ordered arrays are not supported")                         \
	X(DATAOFFSET, -4017, "NPY data does not start at byte 4096")                          \
	X(NOTBRIGADE, -4018, "no brigade trailer (not a brigade segment)")                    \
	X(TRAILERVERSION, -4019, "unsupported brigade trailer version")                       \
	X(CHECKSUM, -4020, "header or trailer checksum mismatch")                             \
	X(MISMATCH, -4021, "NPY header disagrees with brigade trailer")                       \
	X(INCOMPLETE, -4022, "segment is still being created")                                \
	X(READONLY, -4023, "array is read-only")                                              \
	X(SHAPE, -4024, "array shapes do not match")                                          \
	X(DTYPE, -4025, "array dtype not supported here or dtypes differ")                    \
	X(ALIAS, -4026, "output aliases an input where the kernel forbids it")                \
	X(ARGSIZE, -4027, "argument block too large")                                         \
	X(BUSY, -4028, "a job is already in flight on this pool")                            \
	X(WORKERDIED, -4029, "a worker died holding a range of a non-idempotent kernel")     \
	X(RANGEKILLED, -4030, "the same range killed its worker twice")                       \
	X(NOKERNEL, -4031, "kernel not registered (by name) in the worker")                   \
	X(POOLSTATE, -4032, "pool control block is inconsistent")                             \
	X(NOARRAY, -4033, "array handle not known to the pool")                               \
	X(KERNEL, -4034, "kernel failed (returned a positive or unknown code)")               \
	X(NOTPOOL, -4035, "segment is not a pool control block")                              \
	X(NODATA, -4036, "reduction of an empty array has no value")                          \
	X(BADARG, -4037, "kernel argument out of range")                                      \
	X(NOTARRAY, -4038, "segment is not an array (a pool control block, a lock...)")     \
	X(PADDING, -4039, "bytes the format keeps zero are not (trailer page, data padding)") \
	X(GENERATION, -4040, "generation counter is 0 (it starts at 1)")                     \
	X(WRONGKIND, -4041, "segment is another kind of brigade object")                     \
	X(OWNERDEAD, -4042, "acquired a lock whose last holder died holding it")             \
	X(BROKEN, -4043, "barrier is broken: a party died or timed out, or it was reset")

enum brg_errno {
#define BRG__ERR_ENUM(name, code, msg) BRG_E##name = (code),
	BRG_ERRNO_MAP(BRG__ERR_ENUM)
#undef BRG__ERR_ENUM
};

/** A static description of code (any int, unknown ones included); never NULL, never allocates. */
BRG_EXPORT const char *brg_strerror(int code);
/** The code's symbolic name ("BRG_ECHECKSUM", "ENOENT", "UNKNOWN"); never NULL. */
BRG_EXPORT const char *brg_err_name(int code);

/* ------------------------------------------------------------------------------------------
 * Threads and processes
 *
 * - Calls that take no handle (errors, dtypes, names, brg_segment_*, brg_topo_*,
 *   brg_pool_status, versions) are safe from any thread at any time.
 * - A brg_array handle may be read by several threads at once (its data pointer and
 *   accessors, as an array of jobs); brg_array_close must not overlap any other use of it.
 *   brg_array_generation_bump is atomic across threads and processes.  The data themselves
 *   are the program's to synchronize.
 * - A brg_pool, and its brg_job, are used by one thread at a time: every call on it (jobs,
 *   kernels, destroy), since the calling thread takes part in each job.  Two pools may be
 *   used from two threads at once.  Create pools before starting threads: a fork pool forks
 *   its workers at create, and fork() copies only the calling thread.
 * - Handles do not cross fork(): a child opens arrays by name (their mappings are not
 *   inherited) and creates pools of its own.
 * ---------------------------------------------------------------------------------------- */

/* ------------------------------------------------------------------------------------------
 * Arrays: named POSIX shared-memory segments, each a valid NPY 1.0 file
 * ---------------------------------------------------------------------------------------- */
/* Element types, little-endian, with fixed codes (the trailer's dtype field); NPY descr:
 * f32 '<f4', f64 '<f8', i8 '|i1', i16 '<i2', i32 '<i4', i64 '<i8', u8 '|u1', u16 '<u2',
 * u32 '<u4', u64 '<u8' (brigade's i8 is one byte, numpy's 'i8' eight). */
typedef enum brg_dtype {
	BRG_F32 = 1,
	BRG_F64 = 2,
	BRG_I8 = 3,
	BRG_I16 = 4,
	BRG_I32 = 5,
	BRG_I64 = 6,
	BRG_U8 = 7,
	BRG_U16 = 8,
	BRG_U32 = 9,
	BRG_U64 = 10,
} brg_dtype;

#define BRG_MAX_NDIM 8
#define BRG_NAME_MAX 200
/** Byte offset of the data in every segment (one page of NPY header in front). */
#define BRG_DATA_OFFSET 4096

/** Bytes per element of dtype; 0 for an unknown dtype. */
BRG_EXPORT size_t brg_dtype_size(brg_dtype dtype);
/** "f64", "u8"...; "?" for an unknown dtype. */
BRG_EXPORT const char *brg_dtype_name(brg_dtype dtype);
/** Parses "f64", "float64", "<f8" and friends; returns the dtype or BRG_EBADDTYPE. */
BRG_EXPORT int brg_dtype_parse(const char *text);

/** Checks a segment name: 0, BRG_EBADNAME, or -EINVAL for NULL. */
BRG_EXPORT int brg_name_check(const char *name);

/* An open array: this process's mapping of a segment (opaque; brg_array_create, brg_array_open,
 * brg_array_close). */
typedef struct brg_array brg_array;

/* Creation flags (brg_array_opts.flags, or'ed). */
typedef enum brg_create_flags {
	BRG_CREATE_PERSISTENT = 0x1, /* `brigade gc` keeps it after its creator died */
	BRG_CREATE_SHARED = 0x2,     /* honour group/other bits of opts.mode */
	/* Keep the data on 4 KiB pages.  By default an array of 2 MiB or more is turned into
	 * 2 MiB pages when created (Linux 6.1+, best effort; see brigade(7), "Huge pages"); this
	 * flag skips that, for a faster create of an array that is read once.  Where the
	 * administrator made shared memory huge unconditionally (tmpfs huge=always or
	 * within_size, shmem_enabled = force) pages may be 2 MiB all the same.  Not recorded in
	 * the segment. */
	BRG_CREATE_SMALL_PAGES = 0x4,
} brg_create_flags;

/*
 * Extensible structs.  Every struct a caller hands in or gets filled starts with `size`,
 * which the caller sets to sizeof the struct as its header declares it; later versions only
 * append fields.  The library takes any size from the first published one (BRG_*_SIZE_VER0)
 * up: fields a shorter struct lacks read as zero (which always means "default"), and a
 * longer struct is accepted when the bytes the library does not know are zero, refused with
 * -E2BIG otherwise (the rule of the Linux kernel's openat2 and clone3).  A struct the library
 * fills gets the fields both sides know; its size is left as the caller set it.
 */
#define BRG_ARRAY_OPTS_SIZE_VER0 16

/* Options of brg_array_create and brg_pool_array_create (NULL: every default). */
typedef struct brg_array_opts {
	size_t size;	/* sizeof(brg_array_opts) */
	unsigned flags; /* brg_create_flags, or'ed */
	unsigned mode;	/* permission bits; 0 means 0600; beyond 0600 needs BRG_CREATE_SHARED */
} brg_array_opts;

/** Options with every field at its default; writes sizeof(*opts) as the caller knows it. */
static inline void brg_array_opts_init(brg_array_opts *opts)
{
	memset(opts, 0, sizeof *opts); /* padding too: a later size's tail must be zero */
	opts->size = sizeof *opts;
}

/**
 * Creates the named array (zero-filled), reserves its memory and maps it read-write; an
 * array of 2 MiB or more is mapped 2 MiB-aligned and its data turned into 2 MiB pages
 * where the kernel allows (unless BRG_CREATE_SMALL_PAGES).
 * opts may be NULL (private 0600, not persistent).
 * Returns 0; -EINVAL for a NULL argument or an opts.size under BRG_ARRAY_OPTS_SIZE_VER0;
 * -E2BIG for a longer opts whose fields unknown to this library are not zero; BRG_EBADNAME,
 * BRG_EBADDTYPE, BRG_EBADNDIM, BRG_EOVERFLOW, BRG_EBADFLAGS, BRG_EMODE for bad arguments;
 * -EEXIST when the name exists; -ENOSPC / -ENOMEM when /dev/shm cannot hold it; other -errno
 * from the system.
 * On failure nothing is left in /dev/shm.
 */
BRG_EXPORT int brg_array_create(brg_array **out, const char *name, brg_dtype dtype, int ndim,
				const size_t *shape, const brg_array_opts *opts);

/* Open flags (or'ed). */
typedef enum brg_open_flags {
	BRG_OPEN_WRITE = 0x1,	  /* map read-write (default read-only) */
	BRG_OPEN_ANY_OWNER = 0x2, /* accept a segment of another uid or writable by others */
} brg_open_flags;

/**
 * Attaches to an existing array after validating every header and trailer field.
 * Returns 0; -EINVAL (NULL), BRG_EBADNAME, BRG_EBADFLAGS; -ENOENT when missing; -EACCES;
 * BRG_ENOTREG, BRG_EOWNER, BRG_EEXPOSED, BRG_EEMPTY, BRG_ETRUNCATED, BRG_EOVERSIZE,
 * BRG_ENOTNPY, BRG_ENPYVERSION, BRG_EHEADER, BRG_EDESCR, BRG_EFORTRAN, BRG_EDATAOFFSET,
 * BRG_EOVERFLOW, BRG_EBADNDIM, BRG_ENOTBRIGADE, BRG_ETRAILERVERSION, BRG_ECHECKSUM,
 * BRG_EMISMATCH, BRG_EINCOMPLETE, BRG_EPADDING, BRG_EGENERATION for a segment that fails
 * validation.
 */
BRG_EXPORT int brg_array_open(brg_array **out, const char *name, unsigned flags);

/** Unmaps the array and frees the handle (the segment stays); NULL is accepted. */
BRG_EXPORT void brg_array_close(brg_array *array);

/** The data, page aligned, C order; valid until brg_array_close. */
BRG_EXPORT void *brg_array_data(const brg_array *array);
/** The element type. */
BRG_EXPORT brg_dtype brg_array_dtype(const brg_array *array);
/** The number of dimensions (1 to 8). */
BRG_EXPORT int brg_array_ndim(const brg_array *array);
/** ndim extents, C order; valid while the array is open. */
BRG_EXPORT const size_t *brg_array_shape(const brg_array *array);
/** Number of elements (product of the shape; 0 when a dimension is 0). */
BRG_EXPORT size_t brg_array_count(const brg_array *array);
/** Bytes of data (count x dtype size). */
BRG_EXPORT size_t brg_array_nbytes(const brg_array *array);
/** The name, without the leading slash. */
BRG_EXPORT const char *brg_array_name(const brg_array *array);
/** 1 when mapped read-write, 0 when read-only. */
BRG_EXPORT int brg_array_writable(const brg_array *array);
/** The trailer's generation counter (starts at 1). */
BRG_EXPORT uint64_t brg_array_generation(const brg_array *array);
/** Atomically adds one to the generation counter (tell readers the contents changed);
 * returns the new value, or BRG_EREADONLY. */
BRG_EXPORT int64_t brg_array_generation_bump(brg_array *array);

/*
 * Atomic counters (since 1.1): any element of an array of i32, u32, i64 or u64, shared by
 * every process that maps it, updated with sequentially consistent atomics (no lock: a
 * process killed in the middle leaves the element either before or after its update).
 * Values travel as int64_t: a u64 element's bits, a 32-bit element sign- or zero-extended;
 * arithmetic wraps at the element's width.  Each returns 0 (brg_atomic_cas: 1 or 0), or
 * -EINVAL (NULL), BRG_EDTYPE (another dtype), -ERANGE (index >= count) or BRG_EREADONLY (a
 * write to an array mapped read-only).
 */
/** *old = x[index]; x[index] += delta.  old may be NULL. */
BRG_EXPORT int brg_atomic_fetch_add(brg_array *x, size_t index, int64_t delta, int64_t *old);
/** When x[index] == expected, stores desired and returns 1; else returns 0.  Either way
 * *seen (may be NULL) gets the value found. */
BRG_EXPORT int brg_atomic_cas(brg_array *x, size_t index, int64_t expected, int64_t desired,
			      int64_t *seen);
/** *value = x[index]. */
BRG_EXPORT int brg_atomic_load(const brg_array *x, size_t index, int64_t *value);
/** x[index] = value. */
BRG_EXPORT int brg_atomic_store(brg_array *x, size_t index, int64_t value);

/*
 * Locks, events and barriers (since 1.1): named, process-shared objects, each a small brigade
 * segment of its own kind (created, validated, listed, collected and unlinked as arrays are:
 * opts and names as brg_array_create's; brg_segment_unlink removes them).  Any process of
 * the owner opens one by name.  A handle is used by one thread at a time; close it in the
 * process that opened it.  timeout_ms: -1 waits for ever, 0 only tries.  Each call returns 0
 * or a negative code: -EINVAL (NULL, a bad timeout), BRG_EWRONGKIND (open of a segment of
 * another kind), BRG_EINCOMPLETE (open while its creator is still making it), -ETIMEDOUT, or
 * any error of brg_array_create / brg_array_open.
 */
typedef struct brg_lock brg_lock;
typedef struct brg_event brg_event;
typedef struct brg_barrier brg_barrier;

/** A new lock, free.  Robust: a holder that dies (killed, or exiting holding it) hands it to
 * the next acquirer with BRG_EOWNERDEAD. */
BRG_EXPORT int brg_lock_create(brg_lock **out, const char *name, const brg_array_opts *opts);
BRG_EXPORT int brg_lock_open(brg_lock **out, const char *name);
/** Takes the lock: 0; BRG_EOWNERDEAD (taken, but its last holder died holding it: what it
 * guarded may be half-updated; the lock is whole again); -ETIMEDOUT; -EDEADLK when this
 * thread holds it already. */
BRG_EXPORT int brg_lock_acquire(brg_lock *lock, int timeout_ms);
/** Frees the lock: 0, or -EPERM when this thread does not hold it. */
BRG_EXPORT int brg_lock_release(brg_lock *lock);
/** The pid of the holder, 0 when free (a snapshot, for status). */
BRG_EXPORT int brg_lock_holder(const brg_lock *lock);
/** Closes the handle; a lock this thread holds through it is released first (one another
 * thread holds through it keeps its mapping until the process ends).  NULL is accepted. */
BRG_EXPORT void brg_lock_close(brg_lock *lock);

/** A new event, clear (or set, when set is 1). */
BRG_EXPORT int brg_event_create(brg_event **out, const char *name, int set,
				const brg_array_opts *opts);
BRG_EXPORT int brg_event_open(brg_event **out, const char *name);
/** Sets it and wakes every waiter; it stays set until cleared. */
BRG_EXPORT int brg_event_set(brg_event *event);
BRG_EXPORT int brg_event_clear(brg_event *event);
/** 1 when set, 0 when clear, or a negative code. */
BRG_EXPORT int brg_event_is_set(const brg_event *event);
/** Returns 0 once the event is set (at once when it is), or -ETIMEDOUT. */
BRG_EXPORT int brg_event_wait(brg_event *event, int timeout_ms);
BRG_EXPORT void brg_event_close(brg_event *event);

#define BRG_BARRIER_MAX 256 /* parties, and handles open at once */

/**
 * A new barrier for parties (1 to BRG_BARRIER_MAX) waits a round.  Every open handle, the
 * creator's too, is a member until closed (a handle inherited by fork, from the child's
 * first wait): a member process that dies breaks the barrier, so no waiter hangs on a
 * party that will never come.
 */
BRG_EXPORT int brg_barrier_create(brg_barrier **out, const char *name, int parties,
				  const brg_array_opts *opts);
/** Opens it and joins as a member; -EMFILE when BRG_BARRIER_MAX handles are open. */
BRG_EXPORT int brg_barrier_open(brg_barrier **out, const char *name);
/**
 * Waits until parties waits have arrived in this round, then all return: 0 .. parties-1,
 * the order of arrival.  BRG_EBROKEN when the barrier is or becomes broken (a member died, a
 * waiter timed out, a reset came): it stays broken until brg_barrier_reset.  -ETIMEDOUT
 * breaks it (as Python's threading.Barrier does), so the others do not wait for ever.
 */
BRG_EXPORT int brg_barrier_wait(brg_barrier *barrier, int timeout_ms);
/**
 * brg_barrier_wait in slices, for a caller with something to do between them (a Python main
 * thread runs its signal handlers): waits at most slice_ms (0 or more) and then returns
 * -EAGAIN with this handle still arrived in the round, which is not broken.  The next
 * brg_barrier_wait or brg_barrier_wait_slice through the handle, in the same process, goes
 * on waiting in that round and returns its place, or BRG_EBROKEN if the round broke
 * meanwhile; brg_barrier_wait's timeout then breaks it as usual.  To give up instead, call
 * brg_barrier_abandon.  One waiter per handle at a time; closing the handle leaves its
 * arrival counted.
 */
BRG_EXPORT int brg_barrier_wait_slice(brg_barrier *barrier, int slice_ms);
/**
 * Gives up the wait this handle left pending (brg_barrier_wait_slice): if its round is still
 * in progress, breaks it as brg_barrier_reset does (the round's other waiters get
 * BRG_EBROKEN; the barrier is whole again) and returns 1; else (nothing pending, or its
 * round ended meanwhile, its outcome then dropped) returns 0 and changes nothing.
 */
BRG_EXPORT int brg_barrier_abandon(brg_barrier *barrier);
/** Breaks the round in progress (its waiters get BRG_EBROKEN, a wait pending in it through
 * brg_barrier_wait_slice at its next wait), drops the members that died and makes the
 * barrier whole again for the next round. */
BRG_EXPORT int brg_barrier_reset(brg_barrier *barrier);
/** Parties a round waits for. */
BRG_EXPORT int brg_barrier_parties(const brg_barrier *barrier);
/** Closes the handle and leaves the members (not breaking it).  NULL is accepted. */
BRG_EXPORT void brg_barrier_close(brg_barrier *barrier);

/*
 * Streams (since 1.1): frames of a typed array passed between processes in place, never
 * copied.  A stream NAME is two segments: NAME, an array of shape (slots, *frame) (numpy sees
 * the whole ring), and NAME.stream, its control state (kind BRG_KIND_STREAM), guarded by a
 * robust mutex.  A producer loans a free slot, writes the frame in place and publishes it (a
 * sequence number and a time stamp); a consumer receives a frame, reads it in place and
 * releases it.  A slot is written only while loaned and read only while held, so nobody sees
 * a torn frame.
 * - BRG_STREAM_QUEUE: each frame goes to exactly one consumer, in publish order.
 * - BRG_STREAM_BROADCAST: each frame goes to every subscriber (a handle opened with
 *   BRG_STREAM_SUBSCRIBE), from the first frame published after it subscribed.  When the
 *   ring is full of frames a subscriber still owes a release, the policy decides:
 *   BRG_STREAM_BLOCK, the producer waits; BRG_STREAM_OVERWRITE, the oldest frame nobody is
 *   reading is reused and the subscribers that had not received it are told how many they
 *   lost (brg_frame.lost).
 * Crash safety, without a daemon: a process that dies holding a loan gives the slot back; a
 * queue consumer that dies holding a frame puts it back at the head of the queue (received
 * again by another); a subscriber that dies is unsubscribed and its frames released.  Waiters
 * look for the dead every 20 ms, so nobody waits for a dead party.
 * Handles are used by one thread at a time; timeouts in milliseconds (-1 for ever, 0 a try).
 */
typedef struct brg_stream brg_stream;

typedef enum brg_stream_mode {
	BRG_STREAM_QUEUE = 0,
	BRG_STREAM_BROADCAST = 1,
} brg_stream_mode;

typedef enum brg_stream_policy {
	BRG_STREAM_BLOCK = 0,
	BRG_STREAM_OVERWRITE = 1, /* broadcast only */
} brg_stream_policy;

/* brg_stream_open flags. */
typedef enum brg_stream_flags {
	BRG_STREAM_SUBSCRIBE = 0x1, /* broadcast: this handle receives every frame from now on */
} brg_stream_flags;

#define BRG_STREAM_MAX_SLOTS 1024
#define BRG_STREAM_MAX_SUBSCRIBERS 64

/* A frame loaned or received: where it is, and what the producer stamped on it. */
typedef struct brg_frame {
	void *data;	   /* the frame in the ring: frame_bytes, writable when loaned */
	size_t slot;	   /* its index in the ring (the array's first dimension) */
	uint64_t seq;	   /* 1, 2, ... in publish order (0 while loaned) */
	uint64_t stamp_ns; /* CLOCK_REALTIME when published */
	uint64_t lost;	   /* broadcast: frames overwritten before this subscriber received them,
			    * since the last it received */
} brg_frame;

/**
 * Creates stream name: a ring of slots (1 to BRG_STREAM_MAX_SLOTS) frames of dtype and
 * frame_shape (ndim 1 to 7), delivered by mode, the producer held back by policy.  Names are
 * at most BRG_NAME_MAX - 7 characters (".stream" is added).  Returns 0; -EINVAL,
 * BRG_EBADNAME, -EEXIST, or any error of brg_array_create.
 */
BRG_EXPORT int brg_stream_create(brg_stream **out, const char *name, brg_dtype dtype, int ndim,
				 const size_t *frame_shape, size_t slots, brg_stream_mode mode,
				 brg_stream_policy policy, const brg_array_opts *opts);
/** Opens stream name (flags: brg_stream_flags, BRG_EBADFLAGS for others; BRG_STREAM_SUBSCRIBE
 * needs a broadcast stream, -EINVAL otherwise; -EMFILE past BRG_STREAM_MAX_SUBSCRIBERS).  A
 * handle copied into a forked child becomes the child's at its first use there (a
 * subscription of its own from then on). */
BRG_EXPORT int brg_stream_open(brg_stream **out, const char *name, unsigned flags);
/** A free slot to write a frame into: 0, or -ETIMEDOUT. */
BRG_EXPORT int brg_stream_loan(brg_stream *stream, brg_frame *frame, int timeout_ms);
/** Gives a loaned frame back unpublished: 0, or -EINVAL for a frame this handle has not
 * loaned. */
BRG_EXPORT int brg_stream_discard(brg_stream *stream, brg_frame *frame);
/** Publishes a loaned frame (it is no longer this handle's): 0, or -EINVAL for a frame
 * this handle has not loaned. */
BRG_EXPORT int brg_stream_publish(brg_stream *stream, brg_frame *frame);
/** The next frame: 0, or -ETIMEDOUT; -EINVAL for a broadcast handle that did not
 * subscribe (or whose subscription ended: taken for dead, it had stopped running). */
BRG_EXPORT int brg_stream_receive(brg_stream *stream, brg_frame *frame, int timeout_ms);
/** Gives a received frame back: 0, or -EINVAL for a frame this handle does not hold. */
BRG_EXPORT int brg_stream_release(brg_stream *stream, brg_frame *frame);
/** The ring: an array of shape (slots, *frame_shape), owned by the handle. */
BRG_EXPORT brg_array *brg_stream_ring(const brg_stream *stream);
/** Closes the handle: its loans are given back, its held frames put back (queue) or
 * released (broadcast), its subscription ended.  NULL is accepted. */
BRG_EXPORT void brg_stream_close(brg_stream *stream);
#define BRG_STREAM_INFO_SIZE_VER0 112

/* A stream's state, read without taking its lock (a snapshot: counts may be a frame apart). */
typedef struct brg_stream_info {
	size_t size; /* set by the caller to sizeof(brg_stream_info) */
	brg_stream_mode mode;
	brg_stream_policy policy;
	size_t slots;
	size_t frame_bytes;
	size_t free, loaned, ready, held; /* slots in each state (held: by a queue consumer) */
	uint64_t published;		  /* frames published since the stream was made */
	uint64_t received;		  /* frames received (by each subscriber, in broadcast) */
	uint64_t lost;			  /* overwritten before a subscriber received them */
	uint64_t reclaimed;		  /* loans and frames given back from dead processes */
	uint64_t last_ns;		  /* CLOCK_REALTIME of the last publish; 0: none yet */
	int subscribers;		  /* broadcast subscribers, or queue consumers listed */
} brg_stream_info;

/* A broadcast subscriber, or a queue consumer (a handle that has received: listed until it
 * closes or dies, up to BRG_STREAM_MAX_SUBSCRIBERS), as brg_stream_status reports it. */
typedef struct brg_stream_subscriber {
	int pid;
	int alive;	  /* the process runs (else it is dropped at the next look) */
	uint64_t lag;	  /* frames published that it has not received; a queue consumer:
			   * frames that wait for any consumer */
	size_t reading;	  /* frames its handle holds now */
} brg_stream_subscriber;

/**
 * The state of stream name: info (may be NULL) and up to max subscribers (or queue
 * consumers) into subs (each sub_size bytes, at least sizeof(brg_stream_subscriber)).
 * Returns how many there are (which may exceed max), or -ENOENT, BRG_EWRONGKIND,
 * BRG_EMISMATCH, BRG_EINCOMPLETE or any error of brg_array_open.  Needs read access only.
 */
BRG_EXPORT int brg_stream_status(const char *name, brg_stream_info *info,
				 brg_stream_subscriber *subs, size_t sub_size, int max);
/** Removes both segments of stream name; 0, or the first error (-ENOENT...). */
BRG_EXPORT int brg_stream_unlink(const char *name);

/**
 * Removes a brigade segment by name (array or pool control block) after checking that it is
 * one (its identity: header, trailer and checksum; a segment whose padding or generation is
 * damaged is removed all the same); mappings that are open stay valid until closed.  Never
 * removes a non-brigade file.
 * Returns 0; -EINVAL, BRG_EBADNAME, -ENOENT, or any validation error of brg_array_open but
 * BRG_EPADDING and BRG_EGENERATION.
 */
BRG_EXPORT int brg_segment_unlink(const char *name);

/* What a segment is (the trailer's kind field). */
typedef enum brg_segment_kind {
	BRG_KIND_ARRAY = 0,
	BRG_KIND_POOL = 1,
	BRG_KIND_LOCK = 2,    /* since 1.1 */
	BRG_KIND_EVENT = 3,   /* since 1.1 */
	BRG_KIND_BARRIER = 4, /* since 1.1 */
	BRG_KIND_STREAM = 5,  /* since 1.1: a stream's control state (its ring is an array) */
} brg_segment_kind;

#define BRG_SEGMENT_INFO_SIZE_VER0 344

/** A segment's description, read without mapping its data. */
typedef struct brg_segment_info {
	size_t size; /* set by the caller to sizeof(brg_segment_info) */
	char name[BRG_NAME_MAX + 1];
	brg_segment_kind kind;
	brg_dtype dtype;
	int ndim;
	size_t shape[BRG_MAX_NDIM];
	size_t nbytes;       /* logical data bytes */
	size_t file_bytes;   /* size of the shared-memory object */
	unsigned flags;      /* BRG_CREATE_PERSISTENT... as created */
	unsigned mode;       /* permission bits of the object */
	uint32_t creator_uid;
	int32_t creator_pid;
	int creator_alive;   /* 1 when the creating process still runs, 0 when not */
	uint64_t created_ns; /* CLOCK_REALTIME at creation, in ns */
	uint64_t generation;
} brg_segment_info;

/**
 * Validates the named segment (as brg_array_open with flags, but for the content's padding
 * and generation, which it reports rather than refuses) and fills info.
 * Returns 0, or the errors of brg_array_open; -EINVAL when info->size is under
 * BRG_SEGMENT_INFO_SIZE_VER0.
 */
BRG_EXPORT int brg_segment_stat(const char *name, unsigned flags, brg_segment_info *info);

/**
 * Calls fn for every brigade segment in /dev/shm that validates with flags (others, and
 * non-brigade files, are skipped silently), in name order.  info is the library's own struct
 * (info->size says how much of it there is: read no field beyond it).  Stops when fn returns
 * non-zero and returns that value; 0 after the last; -errno when /dev/shm cannot be read.
 */
BRG_EXPORT int brg_segment_foreach(unsigned flags,
				   int (*fn)(const brg_segment_info *info, void *userdata),
				   void *userdata);

/* ------------------------------------------------------------------------------------------
 * Worker pool: pinned worker processes, index ranges handed out through a control block
 *
 * A pool is the calling process plus (workers - 1) worker processes, each bound to its own
 * core.  Work is a job over the index space [0, n), cut into one range per participant in a
 * control block (a brigade segment of kind BRG_KIND_POOL): each claims chunks of its own
 * range without a lock and steals from others when it runs out; a robust process-shared mutex
 * guards the rest (errors, recovery of a dead worker's share).  The caller takes part in every
 * job.  One job is in flight per pool at a time.
 * ---------------------------------------------------------------------------------------- */
/* A pool: the calling process and its pinned worker processes (opaque; brg_pool_create,
 * brg_pool_destroy). */
typedef struct brg_pool brg_pool;
/* A job in flight, from brg_pool_submit to brg_job_wait (opaque). */
typedef struct brg_job brg_job;

/* Binding policies. */
typedef enum brg_bind {
	BRG_BIND_DEFAULT = 0, /* $BRG_BIND (compact|scatter|none), else compact */
	BRG_BIND_COMPACT = 1, /* consecutive cores, SMT siblings only after every core has one */
	BRG_BIND_SCATTER = 2, /* spread over packages and NUMA nodes first */
	BRG_BIND_NONE = 3,    /* no binding at all */
} brg_bind;

/* Start methods. */
typedef enum brg_start {
	BRG_START_DEFAULT = 0, /* fork */
	BRG_START_FORK = 1,    /* fork(): workers inherit the caller's code and kernels */
	BRG_START_SPAWN = 2,   /* exec brigade-worker, which loads opts.plugin with dlopen, or
				* a program of one's own (opts.worker_path, opts.worker_args)
				* that calls brg_worker_run with its kernels */
} brg_start;

/* brg_pool_opts.spin_us: sleep on the futex at once, with no spinning first. */
#define BRG_SPIN_NONE (-1L)

#define BRG_POOL_OPTS_SIZE_VER0 56
#define BRG_POOL_OPTS_SIZE_VER1 88 /* 1.1: kernels, nkernels, worker_args, after_fork */

/* Every field left zero means its default; for workers, bind and spin_us the default is the
 * environment's BRG_WORKERS, BRG_BIND and BRG_WAIT when set (as OMP_NUM_THREADS is for
 * OpenMP): the environment never overrides a value the program chose. */
typedef struct brg_pool_opts {
	size_t size;	/* sizeof(brg_pool_opts) */
	int workers;	/* participants including the caller; 0: $BRG_WORKERS, else one per
			 * physical core */
	brg_bind bind;	/* BRG_BIND_* */
	brg_start start; /* BRG_START_* */
	long spin_us;	/* spin this long before sleeping on a futex; 0: $BRG_WAIT, else 50;
			 * BRG_SPIN_NONE: no spinning */
	const char *name;   /* control block name; NULL: "brg-pool-<pid>-<n>" */
	const char *plugin; /* spawn: shared object exporting brg_plugin_kernels() */
	const char *worker_path; /* spawn: brigade-worker executable; NULL: $BRG_WORKER_PATH,
				  * else the installed one */
	/* Since 1.1. */
	const struct brg_kernel *kernels; /* fork: kernels whose code lies in no loaded object
					   * (a JIT's, an interpreter's callbacks), which
					   * workers then accept by address; copied at create */
	size_t nkernels;		   /* entries in kernels; at most 4096 */
	const char *const *worker_args; /* spawn: a program of one's own (worker_path, which
					 * must be set), with these arguments before the
					 * worker's three: NULL terminated, at most 16 ({NULL}:
					 * none; {"-m", "mod", NULL} for an interpreter) */
	void (*after_fork)(void); /* fork: run first in each new worker, on the thread that
				   * forked it, before any kernel (an interpreter's own
				   * after-fork step, e.g. PyOS_AfterFork_Child); NULL: none */
} brg_pool_opts;

/** Options with every field at its default; writes sizeof(*opts) as the caller knows it. */
static inline void brg_pool_opts_init(brg_pool_opts *opts)
{
	memset(opts, 0, sizeof *opts); /* padding too: a later size's tail must be zero */
	opts->size = sizeof *opts;
}

/**
 * Starts a pool (opts may be NULL: every default).  Create it before starting threads.
 * Returns 0; -EINVAL for bad options (opts.size under BRG_POOL_OPTS_SIZE_VER0 among them) or
 * a bad value of an environment variable that was consulted; -E2BIG for a longer opts whose
 * unknown fields are not zero; BRG_EBADNAME for a bad opts.name; -EEXIST when the
 * control block name is taken; -ENOEXEC / -ENOENT when the spawn worker cannot start;
 * -errno from fork, hwloc or shared memory.  Nothing is left behind on failure.
 */
BRG_EXPORT int brg_pool_create(brg_pool **out, const brg_pool_opts *opts);

/** Stops and reaps every worker, unlinks the control block, restores the caller's binding,
 * frees the pool.  A job still in flight is waited for first.  NULL is accepted; so is a
 * copy of the handle in a forked child, where it does nothing. */
BRG_EXPORT void brg_pool_destroy(brg_pool *pool);

/** Participants (caller included); -EINVAL for NULL. */
BRG_EXPORT int brg_pool_size(const brg_pool *pool);
/** Name of the control block segment; NULL for NULL. */
BRG_EXPORT const char *brg_pool_name(const brg_pool *pool);
/** Workers started to replace dead ones since the pool was created. */
BRG_EXPORT int brg_pool_replaced(const brg_pool *pool);
/** Pid of worker i (1 .. size-1); the caller is participant 0.  -EINVAL when out of range. */
BRG_EXPORT int brg_pool_worker_pid(const brg_pool *pool, int i);

/* What a kernel is handed for one range. */
#define BRG_SCRATCH_BYTES 64
#define BRG_JOB_MAX_ARRAYS 8
#define BRG_ARGS_MAX 1024

/* What a kernel is handed for one range of a job. */
typedef struct brg_task {
	size_t begin, end;       /* the range [begin, end) of the index space */
	const void *args;        /* the job's argument block (a copy in the control block) */
	void *scratch;           /* BRG_SCRATCH_BYTES, 64-byte aligned: the reduction partial
				  * of this block, or per-range scratch in a for-job */
	brg_array *const *arrays; /* the job's arrays, mapped in this process */
	int narrays;
	int worker;              /* participant index; 0 is the caller */
} brg_task;

/** A kernel returns 0, or a negative code that stops the job (positive codes become
 * BRG_EKERNEL). */
typedef int (*brg_kernel_fn)(const brg_task *task);

/* Kernel flags (or'ed). */
typedef enum brg_kernel_flags {
	BRG_KERNEL_IDEMPOTENT = 0x1, /* outputs never alias inputs: a range may be re-run */
} brg_kernel_flags;

/* A kernel: its function, its flags, and its name (how spawned workers find it).  Final: it
 * will not grow (what a later job needs goes in brg_job_desc); a plugin's table of them says
 * its entries' size all the same (brg_plugin_kernels_fn). */
typedef struct brg_kernel {
	const char *name; /* spawn workers find the kernel by this name in the plugin */
	brg_kernel_fn fn;
	unsigned flags; /* brg_kernel_flags, or'ed */
} brg_kernel;

/**
 * What a plugin for spawned workers exports as brg_plugin_kernels: its table of kernels,
 * *count entries of *entry_size bytes each (sizeof(brg_kernel) as the plugin was built; the
 * library reads each entry under the extensible-struct rule, so a table of an older or newer
 * brg_kernel still loads).  BRG_PLUGIN_TABLE(table) writes this function.
 */
typedef const brg_kernel *(*brg_plugin_kernels_fn)(size_t *count, size_t *entry_size);
#define BRG_KERNEL_SIZE_VER0 24
/* Writes a plugin's brg_plugin_kernels() for a static table of brg_kernel. */
#define BRG_PLUGIN_TABLE(table)                                                                \
	BRG_EXPORT const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size);    \
	const brg_kernel *brg_plugin_kernels(size_t *count, size_t *entry_size)                \
	{                                                                                      \
		*count = sizeof(table) / sizeof((table)[0]);                                   \
		*entry_size = sizeof((table)[0]);                                              \
		return (table);                                                                \
	}

/* Schedules. */
typedef enum brg_sched_kind {
	BRG_SCHED_STATIC = 0,  /* one contiguous range per participant */
	BRG_SCHED_DYNAMIC = 1, /* chunks of `chunk` (default 1), each participant's from its
				* own range first, then from others' (half of what is left) */
	BRG_SCHED_GUIDED = 2,  /* shrinking chunks: a participant's remaining/(2 x
				* participants), >= chunk */
	BRG_SCHED_AUTO = 3,    /* claim cost under 1% of a chunk's measured work, >= 4 chunks
				* per participant */
} brg_sched_kind;

/* How a job's index space is handed out: the kind, and its chunk. */
typedef struct brg_schedule {
	brg_sched_kind kind;
	size_t chunk; /* dynamic: chunk size; guided: minimum chunk; 0 means 1 */
} brg_schedule;

/** Combines the partial `from` into `into` (both BRG_SCRATCH_BYTES). */
typedef void (*brg_combine_fn)(void *into, const void *from, const void *args);

#define BRG_JOB_DESC_SIZE_VER0 80

/* A job: the kernel over [0, n), its schedule, its copied argument block and its arrays; with
 * combine set, a reduction (brg_pool_reduce). */
typedef struct brg_job_desc {
	size_t size;              /* sizeof(brg_job_desc) */
	const brg_kernel *kernel;
	size_t n;                 /* index space [0, n) */
	brg_schedule sched;
	const void *args;         /* copied into the control block */
	size_t args_size;         /* <= BRG_ARGS_MAX */
	brg_array *const *arrays; /* <= BRG_JOB_MAX_ARRAYS arrays, by handle */
	int narrays;
	brg_combine_fn combine;   /* non-NULL makes it a reduction (see brg_pool_reduce) */
} brg_job_desc;

#define BRG_JOB_RESULT_SIZE_VER0 104

/* What brg_job_wait reports: the status, the range and participant an error came from, and a
 * reduction's combined partial. */
typedef struct brg_job_result {
	size_t size;          /* sizeof(brg_job_result) */
	int status;           /* 0 or the job's first error */
	size_t err_begin;     /* range the error came from (when status < 0) */
	size_t err_end;
	int err_worker;       /* participant that reported it, -1 when none */
	unsigned char partial[BRG_SCRATCH_BYTES]; /* reduction: the combined result */
} brg_job_result;

/**
 * Starts a job and returns at once; the caller's share runs in brg_job_wait.
 * Returns 0; -EINVAL for a bad descriptor (desc->size under BRG_JOB_DESC_SIZE_VER0 among
 * them); BRG_EARGSIZE; -E2BIG for more than BRG_JOB_MAX_ARRAYS arrays or a longer descriptor
 * whose unknown fields are not zero; BRG_EBUSY when a job is in flight.
 */
BRG_EXPORT int brg_pool_submit(brg_pool *pool, const brg_job_desc *desc, brg_job **job);

/**
 * Takes part in the job, then waits for it (timeout_ms < 0: no limit) and frees the handle.
 * Returns the job's status: 0; the kernel's error; BRG_EWORKERDIED / BRG_ERANGEKILLED for
 * a worker death it could not repair; BRG_ENOKERNEL; -ETIMEDOUT (the job stays in flight and
 * the handle stays valid: wait again); -EINVAL for a res->size under
 * BRG_JOB_RESULT_SIZE_VER0 (likewise: the job is still in flight).  res (may be NULL) gets
 * the range of the error and a reduction's combined partial.
 */
BRG_EXPORT int brg_job_wait(brg_job *job, long timeout_ms, brg_job_result *res);

/** Submit and wait; returns what brg_pool_submit or brg_job_wait returns (a res of a bad
 * size is refused before the job starts). */
BRG_EXPORT int brg_pool_run(brg_pool *pool, const brg_job_desc *desc, brg_job_result *res);

/**
 * Parallel-for over [0, n): kernel is called on ranges handed out by sched, with the arrays
 * (narrays of them, at most BRG_JOB_MAX_ARRAYS; NULL and 0 for none) as task->arrays and a
 * copy of the argument block (args_size bytes, at most BRG_ARGS_MAX) as task->args.  The
 * built-in elementwise kernels run through it too.  Returns what brg_pool_run returns.
 */
BRG_EXPORT int brg_pool_for(brg_pool *pool, const brg_kernel *kernel, size_t n, brg_schedule sched,
			    brg_array *const *arrays, int narrays, const void *args,
			    size_t args_size);

/**
 * Reduction over [0, n): the index space is cut into fixed blocks (their size depends on n
 * only); the kernel is called once per block and writes the block's partial into
 * task->scratch; the caller combines the partials pairwise in block order.  So the result
 * has the same bits for any worker count and any schedule.  desc->combine must be set.
 * The combined partial is copied to result (result_size <= BRG_SCRATCH_BYTES).
 */
BRG_EXPORT int brg_pool_reduce(brg_pool *pool, const brg_job_desc *desc, void *result,
			       size_t result_size);

/** Elements per reduction block for an index space of n (same value in every process). */
BRG_EXPORT size_t brg_reduce_block_size(size_t n);

/* ------------------------------------------------------------------------------------------
 * Kernels: one call each, run by a pool over brigade arrays, no data copied.
 *
 * Arrays are used as flat C-order element sequences unless a kernel says otherwise.  Before
 * any work starts every call checks its arguments and writes nothing when they are wrong:
 * -EINVAL (NULL), BRG_EDTYPE (dtype not supported, or operands' dtypes differ), BRG_ESHAPE
 * (element counts / shapes differ), BRG_EREADONLY (output mapped read-only), BRG_EALIAS (an
 * output that is also an input where the kernel forbids it).  Empty arrays (count 0) are
 * valid for elementwise kernels and sums (nothing to do, sum 0) and rejected with
 * BRG_ENODATA by the reductions that have no identity (min, max, argmin, argmax).
 * ---------------------------------------------------------------------------------------- */

/** out[i] = value (converted to out's dtype; integers: value must be representable). */
BRG_EXPORT int brg_vec_fill(brg_pool *pool, brg_array *out, double value);
/** dst[i] = src[i]; same dtype and count; dst must not be src. */
BRG_EXPORT int brg_vec_copy(brg_pool *pool, brg_array *dst, const brg_array *src);
/** x[i] *= a (f32, f64). */
BRG_EXPORT int brg_vec_scale(brg_pool *pool, brg_array *x, double a);
/** y[i] += a * x[i] (f32, f64); y must not be x. */
BRG_EXPORT int brg_vec_axpy(brg_pool *pool, brg_array *y, double a, const brg_array *x);
/** a[i] = b[i] + s * c[i] (f32, f64), the STREAM triad; a must not be b or c. */
BRG_EXPORT int brg_vec_triad(brg_pool *pool, brg_array *a, const brg_array *b, double s,
			     const brg_array *c);

/* Binary operations. */
typedef enum brg_op {
	BRG_OP_ADD = 0,
	BRG_OP_SUB = 1,
	BRG_OP_MUL = 2,
	BRG_OP_DIV = 3, /* floats: IEEE; integers: x / 0 gives 0 and INT_MIN / -1 wraps */
} brg_op;

/** out[i] = x[i] op y[i]; all three the same dtype and count (any dtype; integer add, sub and
 * mul wrap modulo 2^bits); out may be x or y (elementwise, so aliasing is safe). */
BRG_EXPORT int brg_vec_binop(brg_pool *pool, brg_array *out, const brg_array *x, brg_op op,
			     const brg_array *y);

/** A user element function: out[i] = fn(in[i], userdata) for f64 arrays (f32 arrays are
 * converted through double).  fn must be safe to call from any worker process; in spawn
 * pools it is not available (-ENOTSUP). */
typedef double (*brg_map_fn)(double x, const void *userdata);
BRG_EXPORT int brg_vec_map(brg_pool *pool, brg_array *out, const brg_array *in, brg_map_fn fn,
			   const void *userdata, size_t userdata_size);

/** A reduction result: floats in f (accumulated in double), signed integers in i, unsigned
 * in u; index is the flat index for argmin/argmax (first occurrence).  This struct is final:
 * it will not grow (a later result that needs more gets a call of its own). */
typedef struct brg_scalar {
	brg_dtype dtype; /* the array's dtype */
	double f;
	int64_t i;
	uint64_t u;
	size_t index;
} brg_scalar;

/** Sum: f32/f64 in double; integers exactly (in 128 bits): -ERANGE when the sum does not fit
 * in int64 (signed dtypes) or uint64 (unsigned), with out->f the sum rounded to double and
 * out->i, out->u zero (since 1.1; 1.0 wrapped modulo 2^64). */
BRG_EXPORT int brg_reduce_sum(brg_pool *pool, brg_scalar *out, const brg_array *x);
/** Sum of squares (f32, f64). */
BRG_EXPORT int brg_reduce_sumsq(brg_pool *pool, brg_scalar *out, const brg_array *x);
/** Dot product (f32, f64; same dtype and count). */
BRG_EXPORT int brg_reduce_dot(brg_pool *pool, brg_scalar *out, const brg_array *x,
			      const brg_array *y);
/** Euclidean norm, scaled so it neither overflows nor underflows (f32, f64). */
BRG_EXPORT int brg_reduce_norm2(brg_pool *pool, brg_scalar *out, const brg_array *x);
/** Min / max (every dtype; floats: NaN is propagated like numpy's min/max). */
BRG_EXPORT int brg_reduce_min(brg_pool *pool, brg_scalar *out, const brg_array *x);
BRG_EXPORT int brg_reduce_max(brg_pool *pool, brg_scalar *out, const brg_array *x);
/** Index of the first min / max (f32, f64; first NaN wins, like numpy). */
BRG_EXPORT int brg_reduce_argmin(brg_pool *pool, brg_scalar *out, const brg_array *x);
BRG_EXPORT int brg_reduce_argmax(brg_pool *pool, brg_scalar *out, const brg_array *x);

/* Stencil borders. */
typedef enum brg_border {
	BRG_BORDER_CLAMP = 0, /* outside pixels repeat the nearest edge pixel */
} brg_border;

/** 2-D convolution of an image (ndim 2: rows x cols, u8 or f32) with a k x k kernel
 * (k = 3 or 5, row-major weights, applied as correlation, no flip); out has in's shape and
 * dtype, must not be in; u8 results are rounded to nearest and saturated to 0..255. */
BRG_EXPORT int brg_stencil_conv(brg_pool *pool, brg_array *out, const brg_array *in, int k,
				const float *weights, brg_border border);
/** Box blur: mean over the (2r+1) x (2r+1) window, r = 1 or 2. */
BRG_EXPORT int brg_stencil_box(brg_pool *pool, brg_array *out, const brg_array *in, int r,
			       brg_border border);

/* Transposes. */
typedef enum brg_trans {
	BRG_NOTRANS = 0,
	BRG_TRANS = 1,
} brg_trans;

/** C = alpha op(A) op(B) + beta C, row-major 2-D arrays of one dtype (f32, f64); each
 * participant calls single-threaded OpenBLAS on its panel of rows of C.  C must not be A
 * or B. */
BRG_EXPORT int brg_blas_gemm(brg_pool *pool, brg_array *c, double alpha, brg_trans trans_a,
			     const brg_array *a, brg_trans trans_b, const brg_array *b,
			     double beta);
/** y = alpha op(A) x + beta y (A 2-D, x and y 1-D); y must not be x. */
BRG_EXPORT int brg_blas_gemv(brg_pool *pool, brg_array *y, double alpha, brg_trans trans,
			     const brg_array *a, const brg_array *x, double beta);

/**
 * Creates an array for use by pool: its pages are reserved and first touched by the
 * participant that works on them under the static schedule (bound to that participant's
 * NUMA node where the machine has several), so memory lands where it is used.  Unless
 * opts asks for BRG_CREATE_SMALL_PAGES, each participant then turns its part into 2 MiB
 * pages (best effort).
 * Returns what brg_array_create returns, and -ENOMEM when /dev/shm cannot hold it.
 */
BRG_EXPORT int brg_pool_array_create(brg_pool *pool, brg_array **out, const char *name,
				     brg_dtype dtype, int ndim, const size_t *shape,
				     const brg_array_opts *opts);

/* ---- placement and status (for tools; each call loads what it needs) ---- */
#define BRG_PLACE_SIZE_VER0 72

/* Where one participant is placed: its core, first PU and cpuset.  No size field:
 * brg_topo_placement takes the size of the caller's records (their stride). */
typedef struct brg_place {
	int core;        /* logical index of the core (or PU where hwloc has no cores) */
	int pu;          /* OS index of the first PU of the cpuset */
	char cpuset[64]; /* hwloc list syntax, e.g. "0-1" */
} brg_place;

/**
 * The placement a pool of `workers` participants (0: one per core) under `bind`
 * (BRG_BIND_DEFAULT: compact) would get on this machine, or on the hwloc synthetic topology
 * `synthetic` ("pack:2 core:4 pu:2") when not NULL.  The environment (BRG_WORKERS, BRG_BIND)
 * is not consulted: a caller that follows it, as `brigade topo` does, passes its values.
 * Writes min(count, max) records of out_size bytes each (sizeof(brg_place) as the caller knows
 * it, at least BRG_PLACE_SIZE_VER0); returns count, -EINVAL, -E2BIG (out_size over 4096) or
 * -errno.
 */
BRG_EXPORT int brg_topo_placement(const char *synthetic, int workers, brg_bind bind,
				  brg_place *out, size_t out_size, int max);
/** "1 package, 1 NUMA node, 2 cores, 2 PUs" into buf; returns 0, -EINVAL, -ERANGE. */
BRG_EXPORT int brg_topo_summary(const char *synthetic, char *buf, size_t len);

#define BRG_POOL_INFO_SIZE_VER0 56

/* A pool as brg_pool_status reads it from its control block. */
typedef struct brg_pool_info {
	size_t size;      /* sizeof(brg_pool_info) */
	int nworkers;     /* participants, caller included */
	int parent_pid;
	int parent_alive;
	brg_start start_method; /* BRG_START_FORK or BRG_START_SPAWN */
	int job_in_flight;
	uint64_t job_id;
	size_t job_n;
	int job_sched;
	/* 1.0 */
	long spin_us; /* how long a waiter spins before it sleeps: the option as resolved */
} brg_pool_info;

#define BRG_WORKER_STATUS_SIZE_VER0 72

/* One participant's record.  It has no size field: brg_pool_status takes the size of the
 * caller's records as an argument (their stride in the array). */
typedef struct brg_worker_status {
	int index;       /* 0 is the caller */
	int pid;
	int core, pu;    /* -1 when unbound */
	const char *state; /* "idle", "busy", "dead", "starting", "failed" (static string) */
	int alive;
	int has_range;
	size_t range_begin, range_end; /* the chunk it runs (hand-out units) */
	uint64_t range_age_ns;
	uint64_t chunks_done;
	uint64_t busy_ns;
} brg_worker_status;

/**
 * Reads a pool's control block by name (any process of the owner; nothing is locked, so a
 * busy pool gives a snapshot that may be a moment old).  info may be NULL.  Writes up to max
 * records into out, each of out_size bytes (sizeof(brg_worker_status) as the caller knows
 * it, at least BRG_WORKER_STATUS_SIZE_VER0).  Returns the participant count, or the errors of
 * brg_array_open and BRG_ENOTPOOL / BRG_EPOOLSTATE; -EINVAL for a bad size.  Every field is
 * checked against what the pool ever writes before anything is reported: a control block that
 * is damaged (or of another brigade version) answers BRG_EPOOLSTATE, never a record made of its
 * bytes.  A snapshot caught between two writes of a live pool is taken again (a few times,
 * 0.2 ms apart).
 */
BRG_EXPORT int brg_pool_status(const char *name, brg_pool_info *info, brg_worker_status *out,
			       size_t out_size, int max);

/** Entry point of a spawned worker (brigade-worker POOL INDEX PARENT_PID); returns only on
 * failure, with an exit status. */
BRG_EXPORT int brg_worker_main(int argc, char **argv);

/**
 * brg_worker_main for a worker program of one's own (opts.worker_path): argv is
 * {program, POOL, INDEX, PARENT_PID} (what the pool passed after opts.worker_args), and the
 * kernels (nkernels entries of entry_size bytes, read as a plugin's table is) are looked up
 * by name before the plugin's and brigade's own.  Returns only on failure, with an exit
 * status.  Since 1.1.
 */
BRG_EXPORT int brg_worker_run(int argc, char **argv, const brg_kernel *kernels, size_t nkernels,
			      size_t entry_size);

#ifdef __cplusplus
}
#endif
#endif /* BRIGADE_H */
