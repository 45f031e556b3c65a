# SPDX-License-Identifier: MIT
"""brigade._lib - libbrigade.so.1 through ctypes: the loader, the signatures, the error check.

Every C function the package calls is declared once, in ``SIGNATURES`` (name -> (restype,
argtypes)); tests/python/test_package.py checks each entry against the ``BRG_EXPORT``
prototypes of include/brigade.h.  The library is loaded on first use, so ``import brigade``
(and ``brigade.shm``, which needs no library) works where libbrigade is not installed.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any

__all__ = ["BrigadeError", "KernelError", "SIGNATURES", "STRUCTS", "lib", "pylib", "check",
           "library_path"]

c_size_p = ctypes.POINTER(ctypes.c_size_t)


class ArrayOpts(ctypes.Structure):
    """``brg_array_opts``."""

    _fields_ = [("size", ctypes.c_size_t), ("flags", ctypes.c_uint), ("mode", ctypes.c_uint)]


class SegmentInfo(ctypes.Structure):
    """``brg_segment_info``."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("name", ctypes.c_char * 201),
        ("kind", ctypes.c_int),
        ("dtype", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("shape", ctypes.c_size_t * 8),
        ("nbytes", ctypes.c_size_t),
        ("file_bytes", ctypes.c_size_t),
        ("flags", ctypes.c_uint),
        ("mode", ctypes.c_uint),
        ("creator_uid", ctypes.c_uint32),
        ("creator_pid", ctypes.c_int32),
        ("creator_alive", ctypes.c_int),
        ("created_ns", ctypes.c_uint64),
        ("generation", ctypes.c_uint64),
    ]


class Task(ctypes.Structure):
    """``brg_task``: what a kernel is handed for one range."""

    _fields_ = [
        ("begin", ctypes.c_size_t),
        ("end", ctypes.c_size_t),
        ("args", ctypes.c_void_p),
        ("scratch", ctypes.c_void_p),
        ("arrays", ctypes.POINTER(ctypes.c_void_p)),
        ("narrays", ctypes.c_int),
        ("worker", ctypes.c_int),
    ]


#: ``brg_kernel_fn``: ``int (*)(const brg_task *task)``.
KERNEL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Task))


class Kernel(ctypes.Structure):
    """``brg_kernel``."""

    _fields_ = [("name", ctypes.c_char_p), ("fn", KERNEL_FN), ("flags", ctypes.c_uint)]


class Schedule(ctypes.Structure):
    """``brg_schedule``."""

    _fields_ = [("kind", ctypes.c_int), ("chunk", ctypes.c_size_t)]


class JobDesc(ctypes.Structure):
    """``brg_job_desc``."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("kernel", ctypes.POINTER(Kernel)),
        ("n", ctypes.c_size_t),
        ("sched", Schedule),
        ("args", ctypes.c_void_p),
        ("args_size", ctypes.c_size_t),
        ("arrays", ctypes.POINTER(ctypes.c_void_p)),
        ("narrays", ctypes.c_int),
        ("combine", ctypes.c_void_p),
    ]


class JobResult(ctypes.Structure):
    """``brg_job_result``."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("status", ctypes.c_int),
        ("err_begin", ctypes.c_size_t),
        ("err_end", ctypes.c_size_t),
        ("err_worker", ctypes.c_int),
        ("partial", ctypes.c_ubyte * 64),
    ]


class PoolOpts(ctypes.Structure):
    """``brg_pool_opts``."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("workers", ctypes.c_int),
        ("bind", ctypes.c_int),
        ("start", ctypes.c_int),
        ("spin_us", ctypes.c_long),
        ("name", ctypes.c_char_p),
        ("plugin", ctypes.c_char_p),
        ("worker_path", ctypes.c_char_p),
        ("kernels", ctypes.POINTER(Kernel)),
        ("nkernels", ctypes.c_size_t),
        ("worker_args", ctypes.POINTER(ctypes.c_char_p)),
        ("after_fork", ctypes.c_void_p),
    ]


class PoolInfo(ctypes.Structure):
    """``brg_pool_info``."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("nworkers", ctypes.c_int),
        ("parent_pid", ctypes.c_int),
        ("parent_alive", ctypes.c_int),
        ("start_method", ctypes.c_int),
        ("job_in_flight", ctypes.c_int),
        ("job_id", ctypes.c_uint64),
        ("job_n", ctypes.c_size_t),
        ("job_sched", ctypes.c_int),
        ("spin_us", ctypes.c_long),
    ]


class WorkerStatus(ctypes.Structure):
    """``brg_worker_status``."""

    _fields_ = [
        ("index", ctypes.c_int),
        ("pid", ctypes.c_int),
        ("core", ctypes.c_int),
        ("pu", ctypes.c_int),
        ("state", ctypes.c_char_p),
        ("alive", ctypes.c_int),
        ("has_range", ctypes.c_int),
        ("range_begin", ctypes.c_size_t),
        ("range_end", ctypes.c_size_t),
        ("range_age_ns", ctypes.c_uint64),
        ("chunks_done", ctypes.c_uint64),
        ("busy_ns", ctypes.c_uint64),
    ]


class Scalar(ctypes.Structure):
    """``brg_scalar``: a reduction's result."""

    _fields_ = [
        ("dtype", ctypes.c_int),
        ("f", ctypes.c_double),
        ("i", ctypes.c_int64),
        ("u", ctypes.c_uint64),
        ("index", ctypes.c_size_t),
    ]


#: C struct name -> ctypes class (the signature test maps ``brg_x *`` through it).
class Frame(ctypes.Structure):
    """``brg_frame``: a stream's frame, loaned or received."""

    _fields_ = [("data", ctypes.c_void_p), ("slot", ctypes.c_size_t),
                ("seq", ctypes.c_uint64), ("stamp_ns", ctypes.c_uint64),
                ("lost", ctypes.c_uint64)]


class StreamInfo(ctypes.Structure):
    """``brg_stream_info``."""

    _fields_ = [("size", ctypes.c_size_t), ("mode", ctypes.c_int), ("policy", ctypes.c_int),
                ("slots", ctypes.c_size_t), ("frame_bytes", ctypes.c_size_t),
                ("free", ctypes.c_size_t), ("loaned", ctypes.c_size_t),
                ("ready", ctypes.c_size_t), ("held", ctypes.c_size_t),
                ("published", ctypes.c_uint64), ("received", ctypes.c_uint64),
                ("lost", ctypes.c_uint64), ("reclaimed", ctypes.c_uint64),
                ("last_ns", ctypes.c_uint64), ("subscribers", ctypes.c_int)]


class StreamSubscriber(ctypes.Structure):
    """``brg_stream_subscriber``."""

    _fields_ = [("pid", ctypes.c_int), ("alive", ctypes.c_int), ("lag", ctypes.c_uint64),
                ("reading", ctypes.c_size_t)]


STRUCTS: dict[str, type[ctypes.Structure]] = {
    "brg_frame": Frame,
    "brg_stream_info": StreamInfo,
    "brg_stream_subscriber": StreamSubscriber,
    "brg_array_opts": ArrayOpts,
    "brg_segment_info": SegmentInfo,
    "brg_pool_opts": PoolOpts,
    "brg_task": Task,
    "brg_kernel": Kernel,
    "brg_job_desc": JobDesc,
    "brg_job_result": JobResult,
    "brg_pool_info": PoolInfo,
    "brg_worker_status": WorkerStatus,
    "brg_scalar": Scalar,
}

#: ``int (*fn)(const brg_segment_info *info, void *userdata)`` of brg_segment_foreach.
SEGMENT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(SegmentInfo), ctypes.c_void_p)

# Opaque handles (brg_array *, brg_pool *) and enums travel as c_void_p and c_int.
_H = ctypes.c_void_p
_I = ctypes.c_int
_D = ctypes.c_double
_S = ctypes.c_char_p
_SC = ctypes.POINTER(Scalar)

#: The oldest libbrigade with every function of SIGNATURES.
NEEDS = "1.1"

#: Every C function the package calls: name -> (restype, argtypes).
SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "brg_version": (_S, ()),
    "brg_strerror": (_S, (_I,)),
    "brg_err_name": (_S, (_I,)),
    "brg_dtype_size": (ctypes.c_size_t, (_I,)),
    "brg_dtype_name": (_S, (_I,)),
    "brg_dtype_parse": (_I, (_S,)),
    "brg_array_create": (_I, (ctypes.POINTER(_H), _S, _I, _I, c_size_p,
                              ctypes.POINTER(ArrayOpts))),
    "brg_array_open": (_I, (ctypes.POINTER(_H), _S, ctypes.c_uint)),
    "brg_array_close": (None, (_H,)),
    "brg_array_data": (ctypes.c_void_p, (_H,)),
    "brg_array_dtype": (_I, (_H,)),
    "brg_array_ndim": (_I, (_H,)),
    "brg_array_shape": (c_size_p, (_H,)),
    "brg_array_nbytes": (ctypes.c_size_t, (_H,)),
    "brg_array_name": (_S, (_H,)),
    "brg_array_writable": (_I, (_H,)),
    "brg_array_generation": (ctypes.c_uint64, (_H,)),
    "brg_atomic_fetch_add": (_I, (_H, ctypes.c_size_t, ctypes.c_int64,
                                  ctypes.POINTER(ctypes.c_int64))),
    "brg_atomic_cas": (_I, (_H, ctypes.c_size_t, ctypes.c_int64, ctypes.c_int64,
                            ctypes.POINTER(ctypes.c_int64))),
    "brg_atomic_load": (_I, (_H, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int64))),
    "brg_atomic_store": (_I, (_H, ctypes.c_size_t, ctypes.c_int64)),
    "brg_lock_create": (_I, (ctypes.POINTER(_H), _S, ctypes.POINTER(ArrayOpts))),
    "brg_lock_open": (_I, (ctypes.POINTER(_H), _S)),
    "brg_lock_acquire": (_I, (_H, _I)),
    "brg_lock_release": (_I, (_H,)),
    "brg_lock_holder": (_I, (_H,)),
    "brg_lock_close": (None, (_H,)),
    "brg_event_create": (_I, (ctypes.POINTER(_H), _S, _I, ctypes.POINTER(ArrayOpts))),
    "brg_event_open": (_I, (ctypes.POINTER(_H), _S)),
    "brg_event_set": (_I, (_H,)),
    "brg_event_clear": (_I, (_H,)),
    "brg_event_is_set": (_I, (_H,)),
    "brg_event_wait": (_I, (_H, _I)),
    "brg_event_close": (None, (_H,)),
    "brg_barrier_create": (_I, (ctypes.POINTER(_H), _S, _I, ctypes.POINTER(ArrayOpts))),
    "brg_barrier_open": (_I, (ctypes.POINTER(_H), _S)),
    "brg_barrier_wait": (_I, (_H, _I)),
    "brg_barrier_wait_slice": (_I, (_H, _I)),
    "brg_barrier_abandon": (_I, (_H,)),
    "brg_barrier_reset": (_I, (_H,)),
    "brg_barrier_parties": (_I, (_H,)),
    "brg_barrier_close": (None, (_H,)),
    "brg_stream_create": (_I, (ctypes.POINTER(_H), _S, _I, _I, c_size_p, ctypes.c_size_t, _I,
                               _I, ctypes.POINTER(ArrayOpts))),
    "brg_stream_open": (_I, (ctypes.POINTER(_H), _S, ctypes.c_uint)),
    "brg_stream_loan": (_I, (_H, ctypes.POINTER(Frame), _I)),
    "brg_stream_discard": (_I, (_H, ctypes.POINTER(Frame))),
    "brg_stream_publish": (_I, (_H, ctypes.POINTER(Frame))),
    "brg_stream_receive": (_I, (_H, ctypes.POINTER(Frame), _I)),
    "brg_stream_release": (_I, (_H, ctypes.POINTER(Frame))),
    "brg_stream_ring": (_H, (_H,)),
    "brg_stream_close": (None, (_H,)),
    "brg_stream_unlink": (_I, (_S,)),
    "brg_stream_status": (_I, (_S, ctypes.POINTER(StreamInfo), ctypes.POINTER(StreamSubscriber),
                               ctypes.c_size_t, _I)),
    "brg_segment_unlink": (_I, (_S,)),
    "brg_segment_stat": (_I, (_S, ctypes.c_uint, ctypes.POINTER(SegmentInfo))),
    "brg_segment_foreach": (_I, (ctypes.c_uint, SEGMENT_FN, ctypes.c_void_p)),
    "brg_pool_create": (_I, (ctypes.POINTER(_H), ctypes.POINTER(PoolOpts))),
    "brg_pool_destroy": (None, (_H,)),
    "brg_pool_size": (_I, (_H,)),
    "brg_pool_name": (_S, (_H,)),
    "brg_pool_replaced": (_I, (_H,)),
    "brg_pool_worker_pid": (_I, (_H, _I)),
    "brg_pool_status": (_I, (_S, ctypes.POINTER(PoolInfo), ctypes.POINTER(WorkerStatus),
                             ctypes.c_size_t, _I)),
    "brg_pool_submit": (_I, (_H, ctypes.POINTER(JobDesc), ctypes.POINTER(_H))),
    "brg_job_wait": (_I, (_H, ctypes.c_long, ctypes.POINTER(JobResult))),
    "brg_pool_run": (_I, (_H, ctypes.POINTER(JobDesc), ctypes.POINTER(JobResult))),
    "brg_worker_run": (_I, (_I, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(Kernel),
                            ctypes.c_size_t, ctypes.c_size_t)),
    "brg_vec_fill": (_I, (_H, _H, _D)),
    "brg_vec_copy": (_I, (_H, _H, _H)),
    "brg_vec_scale": (_I, (_H, _H, _D)),
    "brg_vec_axpy": (_I, (_H, _H, _D, _H)),
    "brg_vec_triad": (_I, (_H, _H, _H, _D, _H)),
    "brg_vec_binop": (_I, (_H, _H, _H, _I, _H)),
    "brg_reduce_sum": (_I, (_H, _SC, _H)),
    "brg_reduce_sumsq": (_I, (_H, _SC, _H)),
    "brg_reduce_dot": (_I, (_H, _SC, _H, _H)),
    "brg_reduce_norm2": (_I, (_H, _SC, _H)),
    "brg_reduce_min": (_I, (_H, _SC, _H)),
    "brg_reduce_max": (_I, (_H, _SC, _H)),
    "brg_reduce_argmin": (_I, (_H, _SC, _H)),
    "brg_reduce_argmax": (_I, (_H, _SC, _H)),
    "brg_stencil_conv": (_I, (_H, _H, _H, _I, ctypes.POINTER(ctypes.c_float), _I)),
    "brg_stencil_box": (_I, (_H, _H, _H, _I, _I)),
    "brg_blas_gemm": (_I, (_H, _H, _D, _I, _H, _I, _H, _D)),
    "brg_blas_gemv": (_I, (_H, _H, _D, _I, _H, _H, _D)),
}

# Codes brigade itself defines (include/brigade.h, BRG_ERRNO_MAP).
_BRG_CODE_MIN, _BRG_CODE_MAX = -4999, -4000

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_path: str | None = None


def _candidates() -> list[str]:
    env = os.environ.get("BRIGADE_LIBRARY")
    if env:
        return [env]  # an explicit choice is not second-guessed
    import ctypes.util  # here: it takes a while to import, and a path needs none of it
    found = ctypes.util.find_library("brigade")
    return ([found] if found else []) + ["libbrigade.so.1"]


def lib() -> ctypes.CDLL:
    """The loaded libbrigade, its functions declared from ``SIGNATURES``.

    Looked for in order: ``$BRIGADE_LIBRARY`` (a path; the tests point it at the build
    tree), ``ctypes.util.find_library("brigade")``, then ``libbrigade.so.1`` on the
    dynamic loader's path.

    Raises
    ------
    OSError
        When no candidate loads.
    """
    global _lib, _path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        errors = []
        for cand in _candidates():
            try:
                handle = ctypes.CDLL(cand)
            except OSError as e:
                errors.append(str(e))
                continue
            missing = [name for name in SIGNATURES if not hasattr(handle, name)]
            if missing:  # an older library than this package
                errors.append("%s lacks %s: this package needs libbrigade %s or later"
                              % (cand, ", ".join(missing), NEEDS))
                continue
            for name, (restype, argtypes) in SIGNATURES.items():
                fn = getattr(handle, name)
                fn.restype = restype
                fn.argtypes = argtypes
            _path = cand
            _lib = handle
            return handle
        raise OSError("no usable libbrigade.so.1 (set BRIGADE_LIBRARY to its path): "
                      + "; ".join(errors))


_pylib: ctypes.PyDLL | None = None


def pylib() -> ctypes.PyDLL:
    """libbrigade again, its functions called with the GIL held (``ctypes.PyDLL``).

    Every call that takes a pool goes through it: any of them may fork (a pool's workers at
    create, a dead worker's replacement in any job), and a child forked while another thread
    holds the GIL could never take it; and a job's share in the caller may run Python
    kernels.
    """
    global _pylib
    if _pylib is None:
        handle = ctypes.PyDLL(library_path())
        for name, (restype, argtypes) in SIGNATURES.items():
            fn = getattr(handle, name)
            fn.restype, fn.argtypes = restype, argtypes
        _pylib = handle
    return _pylib


def library_path() -> str:
    """The path or soname libbrigade was loaded from (loads it when not yet loaded)."""
    lib()
    assert _path is not None
    return _path


class BrigadeError(Exception):
    """A failure brigade itself defines (codes -4999..-4000 of include/brigade.h).

    Attributes
    ----------
    code : int
        The negative code (``-4001``).
    name : str
        Its symbolic name from ``brg_err_name`` (``"BRG_EBADDTYPE"``).
    message : str
        Its description from ``brg_strerror``.
    """

    def __init__(self, code: int, context: str | None = None) -> None:
        self.code = code
        self.name = lib().brg_err_name(code).decode()
        self.message = lib().brg_strerror(code).decode()
        self.context = context
        text = "%s: %s" % (self.name, self.message)
        super().__init__(text if context is None else "%s: %s" % (context, text))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.context))


class KernelError(BrigadeError):
    """A Python kernel raised (``BRG_EKERNEL``): where, and the worker's traceback.

    Attributes
    ----------
    begin, end : int
        The range [begin, end) of the index space the failing call was given.
    worker : int
        The participant it ran on (0: the calling process).
    traceback : str
        The traceback, as the worker formatted it.
    """

    def __init__(self, code: int, begin: int, end: int, worker: int, tb: str,
                 kernel: str = "the kernel") -> None:
        self.begin, self.end, self.worker, self.traceback = begin, end, worker, tb
        self.kernel = kernel
        super().__init__(code)
        last = tb.strip().splitlines()[-1] if tb.strip() else "(no traceback)"
        self.args = ("%s raised over [%d, %d) on participant %d: %s\n\n%s"
                     % (kernel, begin, end, worker, last, tb.rstrip()),)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.begin, self.end, self.worker, self.traceback,
                             self.kernel))


def check(rc: int, context: str | None = None) -> int:
    """Returns rc when it is not negative; raises the exception for a negative code.

    brigade's own codes raise `BrigadeError`; ``-errno`` raises ``OSError(errno, strerror)``,
    which is the matching subclass (FileNotFoundError for -ENOENT, FileExistsError for -EEXIST,
    PermissionError for -EACCES...), with context (a segment name) as its filename.
    """
    if rc >= 0:
        return rc
    if _BRG_CODE_MIN <= rc <= _BRG_CODE_MAX:
        raise BrigadeError(rc, context)
    if context is None:
        raise OSError(-rc, os.strerror(-rc))
    raise OSError(-rc, os.strerror(-rc), context)
