# SPDX-License-Identifier: MIT
"""brigade._pool - the worker pool and its built-in kernels."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _lib
from ._array import Array
from ._lib import check

__all__ = ["Pool", "status"]

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
    start : {"fork"}
        How workers start.  Only "fork" is there yet.
    name : str, optional
        Control block name; None: ``brg-pool-<pid>-<n>``.
    spin_us : int, optional
        How long a waiter spins before it sleeps; None: ``$BRG_WAIT``, else the library's.

    Notes
    -----
    Create a pool before starting threads: workers are forked from the caller.  Every kernel
    takes `Array` arguments (outputs first, as in C), checks them before any work starts, and
    raises `BrigadeError` (``BRG_EDTYPE``, ``BRG_ESHAPE``, ``BRG_EREADONLY``, ``BRG_EALIAS``)
    when they are wrong.  Reductions give the same bits for any worker count.
    """

    _ptr: int | None = None  # set once brg_pool_create succeeded

    def __init__(self, workers: int | None = None, bind: str = "compact", start: str = "fork",
                 name: str | None = None, spin_us: int | None = None) -> None:
        if start == "spawn":
            raise NotImplementedError("spawned workers (start='spawn') are not there yet in "
                                      "the Python package: use start='fork'")
        if start not in ("fork", "default"):
            raise ValueError("start must be 'fork', not %r" % (start,))
        if bind not in _BIND:
            raise ValueError("bind must be one of %s, not %r" % (", ".join(_BIND), bind))
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1 (the caller), not %r" % (workers,))
        self._name_bytes = None if name is None else name.encode()
        opts = _lib.PoolOpts(size=ctypes.sizeof(_lib.PoolOpts), workers=workers or 0,
                             bind=_BIND[bind], start=_START["fork"], spin_us=spin_us or 0,
                             name=self._name_bytes)
        out = ctypes.c_void_p()
        check(_lib.lib().brg_pool_create(ctypes.byref(out), ctypes.byref(opts)), name)
        self._ptr = out.value
        self._size = _lib.lib().brg_pool_size(self._ptr)
        self._name = _lib.lib().brg_pool_name(self._ptr).decode()

    # ---- lifetime ----
    def close(self) -> None:
        """Stops the workers and removes the control block (``brg_pool_destroy``); idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _lib.lib().brg_pool_destroy(ptr)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
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
        check(_lib.lib().brg_vec_fill(self._p(), _ptr(out, "out"), float(value)))

    def copy(self, dst: Array, src: Array) -> None:
        """``dst[...] = src``: same dtype and size; dst must not be src."""
        check(_lib.lib().brg_vec_copy(self._p(), _ptr(dst, "dst"), _ptr(src, "src")))

    def scale(self, x: Array, a: float) -> None:
        """``x *= a`` (f32, f64)."""
        check(_lib.lib().brg_vec_scale(self._p(), _ptr(x, "x"), float(a)))

    def axpy(self, y: Array, a: float, x: Array) -> None:
        """``y += a * x`` (f32, f64); y must not be x."""
        check(_lib.lib().brg_vec_axpy(self._p(), _ptr(y, "y"), float(a), _ptr(x, "x")))

    def triad(self, a: Array, b: Array, s: float, c: Array) -> None:
        """``a[...] = b + s * c`` (f32, f64), the STREAM triad; a must not be b or c."""
        check(_lib.lib().brg_vec_triad(self._p(), _ptr(a, "a"), _ptr(b, "b"), float(s),
                                       _ptr(c, "c")))

    def binop(self, out: Array, x: Array, op: str, y: Array) -> None:
        """``out[...] = x op y``, op one of "add", "sub", "mul", "div"; one dtype, any.

        Integer add, sub and mul wrap; integer division by zero gives 0 (numpy's too).
        """
        if op not in _OPS:
            raise ValueError("op must be one of %s, not %r" % (", ".join(_OPS), op))
        check(_lib.lib().brg_vec_binop(self._p(), _ptr(out, "out"), _ptr(x, "x"), _OPS[op],
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
        check(getattr(_lib.lib(), fn)(pool, ctypes.byref(s), *ptrs))
        return s

    def sum(self, x: Array) -> float | int:
        """Sum: floats accumulated in double; integers in 64 bits, wrapping."""
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
        check(_lib.lib().brg_stencil_box(self._p(), _ptr(out, "out"), _ptr(inp, "inp"), int(r),
                                         _border(border)))

    def stencil_conv(self, out: Array, inp: Array, weights: npt.ArrayLike,
                     border: str = "clamp") -> None:
        """Correlation of a 2-D image (u8, f32) with a k x k kernel (k = 3 or 5, no flip).

        weights is copied to float32; u8 results are rounded and saturated to 0..255.
        """
        w = np.ascontiguousarray(weights, dtype=np.float32)
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ValueError("weights must be k x k, not of shape %r" % (w.shape,))
        check(_lib.lib().brg_stencil_conv(self._p(), _ptr(out, "out"), _ptr(inp, "inp"),
                                          w.shape[0],
                                          w.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                          _border(border)))

    # ---- BLAS ----
    def gemm(self, c: Array, a: Array, b: Array, alpha: float = 1.0, beta: float = 0.0,
             trans_a: bool = False, trans_b: bool = False) -> None:
        """``c[...] = alpha op(a) @ op(b) + beta c`` (2-D, one dtype: f32, f64)."""
        check(_lib.lib().brg_blas_gemm(self._p(), _ptr(c, "c"), float(alpha), int(trans_a),
                                       _ptr(a, "a"), int(trans_b), _ptr(b, "b"), float(beta)))

    def gemv(self, y: Array, a: Array, x: Array, alpha: float = 1.0, beta: float = 0.0,
             trans: bool = False) -> None:
        """``y[...] = alpha op(a) @ x + beta y`` (a 2-D, x and y 1-D)."""
        check(_lib.lib().brg_blas_gemv(self._p(), _ptr(y, "y"), float(alpha), int(trans),
                                       _ptr(a, "a"), _ptr(x, "x"), float(beta)))


def _border(border: str) -> int:
    if border not in _BORDERS:
        raise ValueError("border must be one of %s, not %r" % (", ".join(_BORDERS), border))
    return _BORDERS[border]


def status(name: str) -> dict[str, Any]:
    """A pool's state read from its control block (``brg_pool_status``), by name.

    The dict has the fields of ``brigade status NAME --json``: name, participants,
    parent_pid, parent_alive, start, job_in_flight, job_id, job_n, job_sched, spin_us and
    workers (index, pid, core, pu, state, alive, range, range_age_ns, chunks_done, busy_ns).
    """
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
