/* SPDX-License-Identifier: MIT */
/* brigade.h - public API of brigade: named shared-memory arrays and the worker pool. */
#ifndef BRIGADE_H
#define BRIGADE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BRG_EXPORT __attribute__((visibility("default")))
#else
#define BRG_EXPORT
#endif

#define BRG_VERSION_MAJOR 0
#define BRG_VERSION_MINOR 1
#define BRG_VERSION_PATCH 0

/** Version string of the library actually loaded ("0.1.0"). */
BRG_EXPORT const char *brg_version(void);

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
	X(NOTPOOL, -4035, "segment is not a pool control block")

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
 * Arrays: named POSIX shared-memory segments, each a valid NPY 1.0 file
 * ---------------------------------------------------------------------------------------- */
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

typedef struct brg_array brg_array;

/* Creation flags (brg_array_opts.flags). */
#define BRG_CREATE_PERSISTENT 0x1u /* `brigade gc` keeps it after its creator died */
#define BRG_CREATE_SHARED 0x2u     /* honour group/other bits of opts.mode */

typedef struct brg_array_opts {
	size_t size;   /* sizeof(brg_array_opts): lets the struct grow */
	unsigned flags; /* BRG_CREATE_* */
	unsigned mode;  /* permission bits; 0 means 0600; beyond 0600 needs BRG_CREATE_SHARED */
} brg_array_opts;

/**
 * Creates the named array (zero-filled), reserves its memory and maps it read-write.
 * opts may be NULL (private 0600, not persistent).
 * Returns 0; -EINVAL for a NULL argument or a short opts.size; BRG_EBADNAME, BRG_EBADDTYPE,
 * BRG_EBADNDIM, BRG_EOVERFLOW, BRG_EBADFLAGS, BRG_EMODE for bad arguments; -EEXIST when the
 * name exists; -ENOSPC / -ENOMEM when /dev/shm cannot hold it; other -errno from the system.
 * On failure nothing is left in /dev/shm.
 */
BRG_EXPORT int brg_array_create(brg_array **out, const char *name, brg_dtype dtype, int ndim,
				const size_t *shape, const brg_array_opts *opts);

/* Open flags. */
#define BRG_OPEN_WRITE 0x1u     /* map read-write (default read-only) */
#define BRG_OPEN_ANY_OWNER 0x2u /* accept a segment of another uid or writable by others */

/**
 * Attaches to an existing array after validating every header and trailer field.
 * Returns 0; -EINVAL (NULL), BRG_EBADNAME, BRG_EBADFLAGS; -ENOENT when missing; -EACCES;
 * BRG_ENOTREG, BRG_EOWNER, BRG_EEXPOSED, BRG_EEMPTY, BRG_ETRUNCATED, BRG_EOVERSIZE,
 * BRG_ENOTNPY, BRG_ENPYVERSION, BRG_EHEADER, BRG_EDESCR, BRG_EFORTRAN, BRG_EDATAOFFSET,
 * BRG_EOVERFLOW, BRG_EBADNDIM, BRG_ENOTBRIGADE, BRG_ETRAILERVERSION, BRG_ECHECKSUM,
 * BRG_EMISMATCH, BRG_EINCOMPLETE for a segment that fails validation.
 */
BRG_EXPORT int brg_array_open(brg_array **out, const char *name, unsigned flags);

/** Unmaps the array and frees the handle (the segment stays); NULL is accepted. */
BRG_EXPORT void brg_array_close(brg_array *array);

BRG_EXPORT void *brg_array_data(const brg_array *array);
BRG_EXPORT brg_dtype brg_array_dtype(const brg_array *array);
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
BRG_EXPORT int64_t brg_array_bump(brg_array *array);

/**
 * Removes a brigade segment by name (array or pool control block) after checking that it is
 * one; mappings that are open stay valid until closed.  Never removes a non-brigade file.
 * Returns 0; -EINVAL, BRG_EBADNAME, -ENOENT, or any validation error of brg_array_open.
 */
BRG_EXPORT int brg_segment_unlink(const char *name);

/* What a segment is. */
#define BRG_KIND_ARRAY 0
#define BRG_KIND_POOL 1

/** A segment's description, read without mapping its data. */
typedef struct brg_segment_info {
	size_t size; /* set by the caller to sizeof(brg_segment_info) */
	char name[BRG_NAME_MAX + 1];
	int kind;        /* BRG_KIND_* */
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
 * Validates the named segment (as brg_array_open with flags) and fills info.
 * Returns 0, or the errors of brg_array_open; -EINVAL when info->size is too small.
 */
BRG_EXPORT int brg_segment_stat(const char *name, unsigned flags, brg_segment_info *info);

/**
 * Calls fn for every brigade segment in /dev/shm that validates with flags (others, and
 * non-brigade files, are skipped silently), in name order.  Stops when fn returns non-zero
 * and returns that value; 0 after the last; -errno when /dev/shm cannot be read.
 */
BRG_EXPORT int brg_segment_foreach(unsigned flags,
				   int (*fn)(const brg_segment_info *info, void *userdata),
				   void *userdata);

#ifdef __cplusplus
}
#endif
#endif /* BRIGADE_H */
