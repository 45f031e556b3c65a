# SPDX-License-Identifier: MIT
"""brigade._pool - the worker pool and its built-in kernels."""

from __future__ import annotations

import atexit
import ctypes
import errno
import functools
import itertools
import operator
import os
import pickle
import struct
import sys
import weakref
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:  # annotations only: numpy.typing takes a while to import
    import numpy.typing as npt

from . import _kernels, _lib
from ._array import Array
from ._array import create as _create
from ._array import unlink as _unlink
from ._lib import BrigadeError, check

__all__ = ["Job", "Pool", "status"]

_EKERNEL = -4034
_board_counter = itertools.count()
_serial = itertools.count(1)
_live: weakref.WeakSet[Pool] = weakref.WeakSet()


class _Anchor:
    pass


def _close_live_pools() -> None:
    """At exit, before the arrays' handles go: a pool's destroy waits for a job still in
    flight, whose kernels (the caller's share among them) may still use them."""
    for pool in list(_live):
        pool.close()


# Arrays release their handles from weakref.finalize's exit hook, registered with atexit at
# the first finalize; atexit runs the last registered first, so this one is registered after
# it (the anchor makes sure that one exists).
_anchor = _Anchor()
weakref.finalize(_anchor, int)
atexit.register(_close_live_pools)

_BIND = {"default": 0, "compact": 1, "scatter": 2, "none": 3}
_START = {"default": 0, "fork": 1, "spawn": 2}
_OPS = {"add": 0, "sub": 1, "mul": 2, "div": 3}
_BORDERS = {"clamp": 0}
_SCHED = ("static", "dynamic", "guided", "auto")
_FLOAT, _SIGNED, _UNSIGNED = {1, 2}, {3, 4, 5, 6}, {7, 8, 9, 10}


def _ptr(a: Any, what: str) -> int:
    """The ``brg_array *`` of a kernel argument; refuses what is not a brigade Array."""
    if isinstance(a, Array):
        return a._ptr()
    raise TypeError("%s must be a brigade.Array, not %s: make one with brigade.create(name, "
                    "shape, dtype, fill=...) or brigade.open(name)" % (what, type(a).__name__))


def _value(s: _lib.Scalar) -> float | int:
    """A reduction's value in the Python type of the array's dtype."""
    if s.dtype in _FLOAT:
        return float(s.f)
    if s.dtype in _SIGNED:
        return int(s.i)
    if s.dtype in _UNSIGNED:
        return int(s.u)
    raise _lib.BrigadeError(-4025)  # BRG_EDTYPE: a dtype this package does not know


class Pool:
    """The calling process and its pinned worker processes (``brg_pool``).

    Parameters
    ----------
    workers : int, optional
        Participants including the caller; None: ``$BRG_WORKERS``, else one per physical core.
    bind : {"compact", "scatter", "none", "default"}
        Binding policy; "default" follows ``$BRG_BIND`` (else compact).
    start : {"fork", "spawn"}
        How workers start.  "fork": copies of the caller, made when the pool is created (and
        when a dead worker is replaced); a Python kernel must exist then, at the top level of
        its module.  "spawn": fresh interpreters (``sys.executable``) with the caller's
        ``sys.path``; a kernel must be importable by module and name, as with
        multiprocessing's spawn, and a main script is run again as ``__mp_main__`` in each
        worker (guard its work with ``if __name__ == "__main__":``).
    name : str, optional
        Control block name; None: ``brg-pool-<pid>-<n>``.
    spin_us : int, optional
        How long a waiter spins before it sleeps; None: ``$BRG_WAIT``, else the library's.

    Notes
    -----
    Create a pool before starting threads: workers are forked from the caller.  Every kernel
    takes `Array` arguments (outputs first, as in C), checks them before any work starts, and
    raises `BrigadeError` (``BRG_EDTYPE``, ``BRG_ESHAPE``, ``BRG_EREADONLY``, ``BRG_EALIAS``)
    when they are wrong.  Reductions give the same bits for any worker count.  Python kernels
    (`for_ranges`, `reduce_ranges`, `submit`) run in the workers and in the caller.  Every
    call keeps the GIL while it runs: any job may fork a worker to replace a dead one.
    """

    _ptr: int | None = None  # set once brg_pool_create succeeded

    def __init__(self, workers: int | None = None, bind: str = "compact", start: str = "fork",
                 name: str | None = None, spin_us: int | None = None) -> None:
        if start not in ("fork", "spawn", "default"):
            raise ValueError("start must be 'fork' or 'spawn', not %r" % (start,))
        if bind not in _BIND:
            raise ValueError("bind must be one of %s, not %r" % (", ".join(_BIND), bind))
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1 (the caller), not %r" % (workers,))
        self._name_bytes = None if name is None else name.encode()
        self._start = "spawn" if start == "spawn" else "fork"
        self._pid = os.getpid()  # a copy of this object in a forked child closes nothing
        self._board: _kernels.Board | None = None
        self._job: Job | None = None
        self._kernels: dict[Any, Any] = {}
        self._plan: tuple[Any, ...] | None = None  # the last job's descriptor, for reuse
        opts = _lib.PoolOpts(size=ctypes.sizeof(_lib.PoolOpts), workers=workers or 0,
                             bind=_BIND[bind], start=_START[self._start], spin_us=spin_us or 0,
                             name=self._name_bytes, kernels=_kernels.TABLE,
                             nkernels=len(_kernels.TABLE), after_fork=_kernels.AFTER_FORK)
        if self._start == "spawn":
            # The worker: this interpreter, with this sys.path and this libbrigade.
            code = ("import os, sys; sys.path[:0] = %r; os.environ['BRIGADE_LIBRARY'] = %r; "
                    "from brigade._worker import main; main()"
                    % ([p for p in sys.path if isinstance(p, str)], _lib.library_path()))
            self._keep = [sys.executable.encode(), b"-c", code.encode()]
            args = (ctypes.c_char_p * 3)(self._keep[1], self._keep[2], None)
            self._keep.append(args)
            opts.worker_path = self._keep[0]
            opts.worker_args = args
        out = ctypes.c_void_p()
        check(_lib.pylib().brg_pool_create(ctypes.byref(out), ctypes.byref(opts)), name)
        self._ptr = out.value
        _live.add(self)
        self._size = _lib.pylib().brg_pool_size(self._ptr)
        self._name = _lib.pylib().brg_pool_name(self._ptr).decode()

    # ---- lifetime ----
    def close(self) -> None:
        """Stops the workers and removes the control block (``brg_pool_destroy``); idempotent."""
        ptr, self._ptr = self._ptr, None
        if getattr(self, "_pid", None) != os.getpid():
            self._board = self._plan = self._job = None  # a copy in a forked child: not ours
            return
        if ptr is not None:
            _lib.pylib().brg_pool_destroy(ptr)  # waits for a job in flight first
            if self._job is not None:
                self._job._gone()
        board, self._board = self._board, None
        self._plan = None
        if board is not None:
            board.array.close()
            try:
                _unlink(board.array_name)
            except FileNotFoundError:
                pass

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_name", None) is not None:
            self.close()

    @property
    def closed(self) -> bool:
        return self._ptr is None

    @property
    def size(self) -> int:
        """Participants, the caller included."""
        return self._size

    @property
    def name(self) -> str:
        """The control block's segment name (``brigade status NAME``)."""
        return self._name

    @property
    def replaced(self) -> int:
        """Workers started to replace dead ones since the pool was created."""
        return _lib.pylib().brg_pool_replaced(self._p())

    @property
    def start(self) -> str:
        """How the workers start: "fork" or "spawn"."""
        return self._start

    def worker_pids(self) -> list[int]:
        """The pids of the workers (participants 1 .. size-1), as they are now."""
        return [_lib.pylib().brg_pool_worker_pid(self._p(), i) for i in range(1, self._size)]

    def status(self) -> dict[str, Any]:
        """This pool's `status`."""
        return status(self._name)

    def __repr__(self) -> str:
        return "brigade.Pool(%r, size=%d%s)" % (self._name, self._size,
                                                ", closed" if self.closed else "")

    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("the pool %r is closed" % (self._name,))
        return self._ptr

    # ---- elementwise ----
    def fill(self, out: Array, value: float) -> None:
        """``out[...] = value`` (integers: value must be representable)."""
        check(_lib.pylib().brg_vec_fill(self._p(), _ptr(out, "out"), float(value)))

    def copy(self, dst: Array, src: Array) -> None:
        """``dst[...] = src``: same dtype and size; dst must not be src."""
        check(_lib.pylib().brg_vec_copy(self._p(), _ptr(dst, "dst"), _ptr(src, "src")))

    def scale(self, x: Array, a: float) -> None:
        """``x *= a`` (f32, f64)."""
        check(_lib.pylib().brg_vec_scale(self._p(), _ptr(x, "x"), float(a)))

    def axpy(self, y: Array, a: float, x: Array) -> None:
        """``y += a * x`` (f32, f64); y must not be x."""
        check(_lib.pylib().brg_vec_axpy(self._p(), _ptr(y, "y"), float(a), _ptr(x, "x")))

    def triad(self, a: Array, b: Array, s: float, c: Array) -> None:
        """``a[...] = b + s * c`` (f32, f64), the STREAM triad; a must not be b or c."""
        check(_lib.pylib().brg_vec_triad(self._p(), _ptr(a, "a"), _ptr(b, "b"), float(s),
                                       _ptr(c, "c")))

    def binop(self, out: Array, x: Array, op: str, y: Array) -> None:
        """``out[...] = x op y``, op one of "add", "sub", "mul", "div"; one dtype, any.

        Integer add, sub and mul wrap; integer division by zero gives 0 (numpy's too).
        """
        if op not in _OPS:
            raise ValueError("op must be one of %s, not %r" % (", ".join(_OPS), op))
        check(_lib.pylib().brg_vec_binop(self._p(), _ptr(out, "out"), _ptr(x, "x"), _OPS[op],
                                       _ptr(y, "y")))

    def add(self, out: Array, x: Array, y: Array) -> None:
        """``out[...] = x + y``."""
        self.binop(out, x, "add", y)

    def sub(self, out: Array, x: Array, y: Array) -> None:
        """``out[...] = x - y``."""
        self.binop(out, x, "sub", y)

    def mul(self, out: Array, x: Array, y: Array) -> None:
        """``out[...] = x * y``."""
        self.binop(out, x, "mul", y)

    def div(self, out: Array, x: Array, y: Array) -> None:
        """``out[...] = x / y`` (floats: IEEE)."""
        self.binop(out, x, "div", y)

    # ---- reductions ----
    def _reduce(self, fn: str, *arrays: Array) -> _lib.Scalar:
        s = _lib.Scalar()
        pool = self._p()
        ptrs = [_ptr(a, "x" if i == 0 else "y") for i, a in enumerate(arrays)]
        rc = getattr(_lib.pylib(), fn)(pool, ctypes.byref(s), *ptrs)
        if rc == -errno.ERANGE:
            raise OverflowError("the sum does not fit in 64 bits (it is about %.17g): "
                                "pool.reduce_ranges gives it exactly, as a Python int" % s.f)
        check(rc)
        return s

    def sum(self, x: Array) -> float | int:
        """Sum: floats accumulated in double; integers exactly.

        Raises
        ------
        OverflowError
            An integer sum that does not fit the 64-bit type (int64, or uint64 for unsigned
            dtypes); the message gives it rounded to a float.
        """
        return _value(self._reduce("brg_reduce_sum", x))

    def sumsq(self, x: Array) -> float:
        """Sum of squares (f32, f64)."""
        return float(self._reduce("brg_reduce_sumsq", x).f)

    def dot(self, x: Array, y: Array) -> float:
        """Dot product (f32, f64; same dtype and size)."""
        return float(self._reduce("brg_reduce_dot", x, y).f)

    def norm2(self, x: Array) -> float:
        """Euclidean norm, scaled so it neither overflows nor underflows (f32, f64)."""
        return float(self._reduce("brg_reduce_norm2", x).f)

    def min(self, x: Array) -> float | int:
        """Minimum (any dtype; NaN propagates as numpy's)."""
        return _value(self._reduce("brg_reduce_min", x))

    def max(self, x: Array) -> float | int:
        """Maximum (any dtype; NaN propagates as numpy's)."""
        return _value(self._reduce("brg_reduce_max", x))

    def argmin(self, x: Array) -> int:
        """Flat index of the first minimum (f32, f64)."""
        return int(self._reduce("brg_reduce_argmin", x).index)

    def argmax(self, x: Array) -> int:
        """Flat index of the first maximum (f32, f64)."""
        return int(self._reduce("brg_reduce_argmax", x).index)

    # ---- stencils ----
    def stencil_box(self, out: Array, inp: Array, r: int, border: str = "clamp") -> None:
        """Box blur of a 2-D image (u8, f32): mean over the (2r+1)^2 window, r = 1 or 2."""
        check(_lib.pylib().brg_stencil_box(self._p(), _ptr(out, "out"), _ptr(inp, "inp"), int(r),
                                         _border(border)))

    def stencil_conv(self, out: Array, inp: Array, weights: npt.ArrayLike,
                     border: str = "clamp") -> None:
        """Correlation of a 2-D image (u8, f32) with a k x k kernel (k = 3 or 5, no flip).

        weights is copied to float32; u8 results are rounded and saturated to 0..255.
        """
        w = np.ascontiguousarray(weights, dtype=np.float32)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError("weights must be k x k, not of shape %r" % (w.shape,))
        check(_lib.pylib().brg_stencil_conv(self._p(), _ptr(out, "out"), _ptr(inp, "inp"),
                                          w.shape[0],
                                          w.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                          _border(border)))

    # ---- BLAS ----
    def gemm(self, c: Array, a: Array, b: Array, alpha: float = 1.0, beta: float = 0.0,
             trans_a: bool = False, trans_b: bool = False) -> None:
        """``c[...] = alpha op(a) @ op(b) + beta c`` (2-D, one dtype: f32, f64)."""
        check(_lib.pylib().brg_blas_gemm(self._p(), _ptr(c, "c"), float(alpha), int(trans_a),
                                       _ptr(a, "a"), int(trans_b), _ptr(b, "b"), float(beta)))

    def gemv(self, y: Array, a: Array, x: Array, alpha: float = 1.0, beta: float = 0.0,
             trans: bool = False) -> None:
        """``y[...] = alpha op(a) @ x + beta y`` (a 2-D, x and y 1-D)."""
        check(_lib.pylib().brg_blas_gemv(self._p(), _ptr(y, "y"), float(alpha), int(trans),
                                       _ptr(a, "a"), _ptr(x, "x"), float(beta)))


    # ---- Python kernels ----
    def for_ranges(self, fn: Callable[..., Any], n: int, arrays: Sequence[Array] = (),
                   args: Sequence[Any] = (), schedule: str = "auto", chunk: int = 0,
                   idempotent: bool = False) -> None:
        """Runs ``fn(begin, end, *arrays, *args)`` over ranges of [0, n) in the workers.

        Parameters
        ----------
        fn : callable
            A function defined at the top level of a module (it travels by reference, as
            pickle sends functions); under start="fork" it must exist when the pool is made.
        n : int
            The index space [0, n); fn decides what an index means.
        arrays : sequence of Array, at most 7
            Passed to fn as numpy arrays over the same shared memory (never copied), with
            their dtype, shape and writability.
        args : sequence
            Extra arguments; pickled, with fn, into the job's 1 KiB argument block.
        schedule : {"auto", "static", "dynamic", "guided"}
            How ranges are handed out; chunk as in C.  "auto" hands out about four ranges
            per participant (a Python call costs microseconds, so ranges stay long); a pool
            of one runs [0, n) in one call.
        idempotent : bool
            fn may run again over a range whose worker died (it writes only what it reads
            from elsewhere); else such a death raises ``BRG_EWORKERDIED`` naming the range.

        Raises
        ------
        KernelError
            fn raised: the range, the participant and the worker's traceback.
        BrigadeError
            A worker died (see idempotent), or the pool is busy with a submitted job.
        """
        self.submit(fn, n, arrays, args, schedule, chunk, idempotent).result()

    def reduce_ranges(self, fn: Callable[..., Any], n: int, arrays: Sequence[Array] = (),
                      args: Sequence[Any] = (), combine: Callable[[Any, Any], Any] = operator.add,
                      initial: Any = 0, block: int | None = None,
                      schedule: str = "auto", chunk: int = 0) -> Any:
        """Reduces ``fn(begin, end, *arrays, *args)`` over fixed blocks of [0, n).

        [0, n) is cut into blocks of ``block`` indices (None: n / 256, so the blocks depend
        on n alone); fn returns each block's partial (a number or any object that pickles
        into 124 bytes: an int below some 2^900, a float, a small tuple), and the caller folds
        the partials with combine in block order.  So the result has the same bits for any
        worker count and schedule.  Returns initial when n is 0.  Raises as `for_ranges`.
        """
        return self.submit(fn, n, arrays, args, schedule, chunk, True, reduce=True,
                           combine=combine, initial=initial, block=block).result()

    def submit(self, fn: Callable[..., Any], n: int, arrays: Sequence[Array] = (),
               args: Sequence[Any] = (), schedule: str = "auto", chunk: int = 0,
               idempotent: bool = False, reduce: bool = False,
               combine: Callable[[Any, Any], Any] = operator.add, initial: Any = 0,
               block: int | None = None) -> Job:
        """Starts `for_ranges` (or, with reduce=True, `reduce_ranges`) and returns at once.

        The workers start on it; the caller's share runs in `Job.wait` / `Job.result`.  One
        job at a time: another call on this pool before the job was waited for raises
        ``BRG_EBUSY``.
        """
        pool = self._p()
        if not callable(fn):
            raise TypeError("fn must be callable, not %s" % type(fn).__name__)
        n = operator.index(n)
        if n < 0:
            raise ValueError("n must not be negative, not %d" % n)
        arrays = list(arrays)
        if len(arrays) > 7:
            raise ValueError("a Python kernel takes at most 7 arrays, not %d" % len(arrays))
        ptrs = [_ptr(a, "arrays[%d]" % i) for i, a in enumerate(arrays)]
        if self._job is not None and not self._job._done:
            check(-4028, "a submitted job was not waited for")  # BRG_EBUSY
        args = tuple(args)
        try:  # the arguments' bytes, not their values: 2 and 2.0, a changed object differ
            akey: bytes | None = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL) \
                if args else _kernels.NO_ARGS
        except Exception:  # _make_plan says what does not pickle
            akey = None
        key = (fn, akey, tuple(map(id, arrays)), n, schedule, chunk, bool(idempotent),
               bool(reduce), block)
        plan = None
        if akey is not None and self._plan is not None:
            try:
                plan = self._plan if self._plan[0] == key else None
            except Exception:  # a function that cannot be compared: no reuse
                plan = None
        if plan is None:
            plan = self._make_plan(key, fn, n, arrays, ptrs, args, schedule, chunk,
                                   idempotent, reduce, block)
            self._plan = plan if akey is not None else None
        _, desc, keep, bsize, nblocks = plan
        board = keep[4]
        # A serial of its own: workers unpickle each job's arguments afresh.
        serial = next(_serial)
        struct.pack_into("<Q", keep[2], _kernels.SERIAL_AT, serial)
        if akey is not None:  # the caller's share starts from the plan, not the block
            _kernels.seed(serial, keep[6], akey)
        if board.dirty:
            board.clear_errors()
        out = ctypes.c_void_p()
        check(_lib.pylib().brg_pool_submit(pool, ctypes.byref(desc), ctypes.byref(out)))
        job = Job(self, out.value, keep, getattr(fn, "__qualname__", None) or repr(fn), n,
                  bsize, nblocks, combine, initial, reduce)
        self._job = job
        return job

    def _make_plan(self, key: Any, fn: Callable[..., Any], n: int, arrays: list[Array],
                   ptrs: list[int], args: tuple[Any, ...], schedule: str, chunk: int,
                   idempotent: bool, reduce: bool, block: int | None) -> tuple[Any, ...]:
        """The job descriptor of a Python kernel's job, and what it points to."""
        if schedule not in _SCHED:
            raise ValueError("schedule must be one of %s, not %r" % (", ".join(_SCHED),
                                                                      schedule))
        kind, nblocks, bsize = _kernels.KIND_FOR, 0, 0
        units = n
        if reduce:
            kind = _kernels.KIND_REDUCE
            bsize = block if block is not None else max(1, -(-n // _kernels.BLOCKS_DEFAULT))
            bsize = operator.index(bsize)
            if bsize < 1:
                raise ValueError("block must be at least 1, not %d" % bsize)
            nblocks = -(-n // bsize)
            if nblocks > _kernels.BLOCKS_MAX:
                raise ValueError("block %d cuts [0, %d) into %d blocks; at most %d"
                                 % (bsize, n, nblocks, _kernels.BLOCKS_MAX))
            units = nblocks
        head = _kernels.pack(kind, fn, args, arrays, n, bsize, nblocks, self._size)
        board = self._board_get()
        sched = _lib.Schedule(_SCHED.index(schedule), chunk)
        if schedule == "auto":  # alone, the caller runs it all in one call
            sched = _lib.Schedule(_SCHED.index("dynamic"), max(1, -(-units // (4 * self._size)))
                                  if self._size > 1 else max(1, units))
        kkey = (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None),
                bool(idempotent or reduce))
        kernel = self._kernels.get(kkey)
        if kernel is None:
            if len(self._kernels) >= 64:
                self._kernels.clear()
            kernel = self._kernels[kkey] = _kernels.kernel_for(bool(idempotent or reduce))
        handles = (ctypes.c_void_p * (1 + len(ptrs)))(board.array._ptr(), *ptrs)
        argbuf = ctypes.create_string_buffer(head, len(head))
        desc = _lib.JobDesc(size=ctypes.sizeof(_lib.JobDesc), kernel=ctypes.pointer(kernel),
                            n=units, sched=sched,
                            args=ctypes.cast(argbuf, ctypes.c_void_p), args_size=len(head),
                            arrays=handles, narrays=len(handles))
        res = _lib.JobResult(size=ctypes.sizeof(_lib.JobResult))
        views = tuple(_kernels.view(p, _kernels.layout(a)) for p, a in zip(ptrs, arrays))
        setup = (kind, n, bsize, self._size, fn, views, board.mv if reduce else None)
        return (key, desc, (kernel, handles, argbuf, arrays, board, res, setup), bsize, nblocks)

    def _board_get(self) -> _kernels.Board:
        if self._board is None:
            # Named after the pool, so that whatever removes the pool's segments by prefix
            # (brigade gc, a bench's guard) finds it too.
            name = self._name + "-py"
            if len(name) > 200:
                name = "brg-py-%d-%d" % (os.getpid(), next(_board_counter))
            arr = _create(name, (_kernels.board_bytes(self._size),), "u8")
            self._board = _kernels.Board(arr, self._size)
            self._board.array_name = name
        return self._board


class Job:
    """A Python kernel's job in flight (`Pool.submit`); wait for it with `wait` or `result`."""

    def __init__(self, pool: Pool, handle: int, keep: tuple[Any, ...], name: str, n: int,
                 block: int, nblocks: int, combine: Callable[[Any, Any], Any], initial: Any,
                 reduce: bool) -> None:
        self._pool, self._h, self._keep = pool, handle, keep
        self._name, self._n, self._block, self._nblocks = name, n, block, nblocks
        self._combine, self._initial, self._reduce = combine, initial, reduce
        self._done = False
        self._res = keep[5]  # the plan's: one job at a time per pool
        self._error: BaseException | None = None
        self._value: Any = None

    @property
    def done(self) -> bool:
        """True once waited for to the end."""
        return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Takes part in the job and waits for it: True when it ended (well or not), False
        when timeout seconds passed first (the job goes on; wait again)."""
        if self._done:
            return True
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        res = self._res
        rc = _lib.pylib().brg_job_wait(self._h, ms, ctypes.byref(res))
        if rc == -errno.ETIMEDOUT:
            return False
        self._done = True
        try:
            self._finish(rc, res)
        except BaseException as err:  # noqa: B036 - combine or a partial's unpickling
            self._error = err
            self._value = None
        return True

    def result(self, timeout: float | None = None) -> Any:
        """The job's result (None for `Pool.for_ranges`, the folded partials for
        `Pool.reduce_ranges`), or the exception it ended with; TimeoutError when timeout
        seconds pass first."""
        if not self.wait(timeout):
            raise TimeoutError("the job of %s over [0, %d) is still running"
                               % (self._name, self._n))
        if self._error is not None:
            raise self._error
        return self._value

    def _gone(self) -> None:
        """The pool was destroyed, which waited for the job: its outcome is unknown."""
        if not self._done:
            self._done = True
            self._error = ValueError("the pool was closed before the job was waited for")

    def _range(self, b: int, e: int) -> tuple[int, int]:
        if self._reduce:
            return b * self._block, min(self._n, e * self._block)
        return b, e

    def _finish(self, rc: int, res: _lib.JobResult) -> None:
        board = self._keep[4]
        if rc == 0:
            if self._reduce:
                parts = board.partials(self._nblocks)
                self._value = functools.reduce(self._combine, parts) if parts else self._initial
            return
        board.dirty = True
        b, e = self._range(res.err_begin, res.err_end)
        text = board.error(res.err_worker) if rc == _EKERNEL else ""
        if text.rstrip().endswith("KeyboardInterrupt"):
            self._error = KeyboardInterrupt()  # Ctrl-C reached the process running it
            return
        if text:
            self._error = _lib.KernelError(rc, b, e, res.err_worker, text, self._name)
            return
        try:
            check(rc, "%s over [%d, %d)" % (self._name, b, e) if res.err_end else self._name)
        except BaseException as err:  # noqa: B036
            self._error = err


def _border(border: str) -> int:
    if border not in _BORDERS:
        raise ValueError("border must be one of %s, not %r" % (", ".join(_BORDERS), border))
    return _BORDERS[border]


def status(name: str) -> dict[str, Any]:
    """A pool's state read from its control block (``brg_pool_status``), by name; or a
    stream's (`brigade.stream_status`), when name is one.

    For a pool, the dict has the fields of ``brigade status NAME --json``: name,
    participants, parent_pid, parent_alive, start, job_in_flight, job_id, job_n, job_sched,
    spin_us and workers (index, pid, core, pu, state, alive, range, range_age_ns,
    chunks_done, busy_ns).
    """
    from ._stream import stream_status  # _stream imports this module's neighbours
    try:
        return stream_status(name)
    except FileNotFoundError:
        pass  # no stream of that name: a pool's control block, then
    except BrigadeError as e:
        # BRG_EBADNAME: too long for a stream, maybe a pool's; BRG_EWRONGKIND: NAME.stream
        # is some other segment
        if e.code not in (-4000, -4041):
            raise
    info = _lib.PoolInfo(size=ctypes.sizeof(_lib.PoolInfo))
    recs = (_lib.WorkerStatus * 256)()
    n = check(_lib.lib().brg_pool_status(name.encode(), ctypes.byref(info), recs,
                                         ctypes.sizeof(_lib.WorkerStatus), 256), name)
    workers = []
    for w in recs[:min(n, 256)]:
        workers.append({
            "index": w.index, "pid": w.pid, "core": w.core, "pu": w.pu,
            "state": w.state.decode() if w.state else "?", "alive": bool(w.alive),
            "range": [w.range_begin, w.range_end] if w.has_range else None,
            "range_age_ns": w.range_age_ns if w.has_range else None,
            "chunks_done": w.chunks_done, "busy_ns": w.busy_ns,
        })
    return {
        "name": name, "participants": info.nworkers, "parent_pid": info.parent_pid,
        "parent_alive": bool(info.parent_alive),
        "start": "spawn" if info.start_method == _START["spawn"] else "fork",
        "job_in_flight": bool(info.job_in_flight), "job_id": info.job_id, "job_n": info.job_n,
        "job_sched": _SCHED[info.job_sched] if 0 <= info.job_sched < 4 else "?",
        "spin_us": info.spin_us, "workers": workers,
    }
