/* SPDX-License-Identifier: MIT */
/* error.c - names and descriptions of every code brigade returns, from the one X-macro table. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* errno values a caller of brigade can meet; the names are what strerrorname_np would give,
 * kept here because glibc < 2.32 lacks it and its strerror is not guaranteed static. */
#define BRG__SYS_ERRNO(X)                                                     \
	X(EPERM, "operation not permitted")                                   \
	X(ENOENT, "no such segment")                                          \
	X(ESRCH, "no such process")                                           \
	X(EINTR, "interrupted system call")                                   \
	X(EIO, "input/output error")                                          \
	X(E2BIG, "argument list too long")                                    \
	X(EBADF, "bad file descriptor")                                       \
	X(ECHILD, "no child processes")                                       \
	X(EAGAIN, "resource temporarily unavailable")                         \
	X(ENOMEM, "out of memory")                                            \
	X(EACCES, "permission denied")                                        \
	X(EFAULT, "bad address")                                              \
	X(EBUSY, "device or resource busy")                                   \
	X(EEXIST, "segment already exists")                                   \
	X(ENXIO, "no such device or address")                                 \
	X(ENODEV, "no such device")                                           \
	X(ENOTDIR, "not a directory")                                         \
	X(EISDIR, "is a directory")                                           \
	X(EINVAL, "invalid argument")                                         \
	X(ENFILE, "too many open files in system")                            \
	X(EMFILE, "too many open files")                                      \
	X(EFBIG, "file too large")                                            \
	X(ENOSPC, "no space left in /dev/shm")                                \
	X(EROFS, "read-only file system")                                     \
	X(ERANGE, "result out of range")                                      \
	X(EDEADLK, "resource deadlock would occur")                           \
	X(ENAMETOOLONG, "name too long")                                      \
	X(ENOSYS, "function not implemented")                                 \
	X(ELOOP, "too many levels of symbolic links")                         \
	X(EOVERFLOW, "value too large for defined data type")                 \
	X(ENOTSUP, "operation not supported")                                 \
	X(ETIMEDOUT, "timed out")                                             \
	X(ECANCELED, "operation canceled")                                    \
	X(EOWNERDEAD, "owner died")                                           \
	X(ENOTRECOVERABLE, "state not recoverable")

const char *brg_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define BRG__ERR_MSG(name, value, msg) \
	case value:                    \
		return msg;
		BRG_ERRNO_MAP(BRG__ERR_MSG)
#undef BRG__ERR_MSG
#define BRG__SYS_MSG(name, msg) \
	case -name:             \
		return msg;
		BRG__SYS_ERRNO(BRG__SYS_MSG)
#undef BRG__SYS_MSG
	default:
		return "unknown error";
	}
}

const char *brg_err_name(int code)
{
	switch (code) {
	case 0:
		return "OK";
#define BRG__ERR_NAME(name, value, msg) \
	case value:                     \
		return "BRG_E" #name;
		BRG_ERRNO_MAP(BRG__ERR_NAME)
#undef BRG__ERR_NAME
#define BRG__SYS_NAME(name, msg) \
	case -name:              \
		return #name;
		BRG__SYS_ERRNO(BRG__SYS_NAME)
#undef BRG__SYS_NAME
	default:
		return "UNKNOWN";
	}
}
