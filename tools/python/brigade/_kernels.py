# SPDX-License-Identifier: MIT
"""brigade._kernels - Python functions run by the pool's workers over index ranges.

One C kernel, the dispatcher `_run` (a ctypes callback), runs every Python kernel.  Each pool
is given it in ``brg_pool_opts.kernels``, so fork workers accept its address (it lies in no
loaded object) and spawned ones find it by name.  A job's argument block carries a header
and the pickle of (function by reference, its extra arguments, the arrays' layouts); the
arrays themselves travel as brigade arrays (the job's, mapped by each worker: never
pickled).  The job's first array is the pool's *board*, a segment of its own where each
participant writes the traceback of a failing call and each reduction block its partial.
"""

from __future__ import annotations

import ctypes
import math
import os
import pickle
import struct
import sys
import traceback
from typing import Any, Callable

import numpy as np

from . import _lib

__all__ = ["TABLE", "Board", "pack", "kernel_for", "current", "layout", "seed", "view",
           "BLOCKS_DEFAULT", "BLOCKS_MAX"]

MAGIC = b"BRPY"
#: magic, kind, arrays, participants, bytes of fn's pickle, of args', n, block, blocks,
#: job serial
HEAD = struct.Struct("<4sBBHIIQQQQ")
SERIAL_AT = HEAD.size - 8
NO_ARGS = pickle.dumps((), protocol=pickle.HIGHEST_PROTOCOL)
KIND_FOR, KIND_REDUCE = 0, 1
ARGS_MAX = 1024  # BRG_ARGS_MAX
ERR_BYTES = 8192  # a participant's traceback: u32 length, then UTF-8
SLOT_BYTES = 128  # a reduction block's partial: u32 length, then its pickle; or a float
F64_TAG = 0xFFFFFFFF  # in the length's place: the partial is a float, its 8 bytes at +8
BLOCKS_DEFAULT = 256  # a reduction's blocks when the caller names no block size
BLOCKS_MAX = 4096
NAMES = (b"brigade.py", b"brigade.py.idem")


def board_bytes(participants: int) -> int:
    return participants * ERR_BYTES + BLOCKS_MAX * SLOT_BYTES


def slot_offset(participants: int, block: int) -> int:
    return participants * ERR_BYTES + block * SLOT_BYTES


# ---- in the workers (and the caller's own share) ----
_views: dict[tuple[Any, ...], np.ndarray] = {}
_fns: dict[bytes, tuple[Callable[..., Any], list[Any]]] = {}
_args: tuple[int, tuple[Any, ...]] = (0, ())  # the job serial, and its arguments
_main_path: str | None = None


def view(handle: int, layout: tuple[str, tuple[int, ...], bool]) -> np.ndarray:
    """A numpy view of a job's array (a ``brg_array *`` of this process) in its layout."""
    data = _lib.lib().brg_array_data(handle)
    key = (data, layout)
    v = _views.get(key)
    if v is None:
        dtype, shape, writable = layout
        dt = np.dtype(dtype)
        nbytes = math.prod(shape) * dt.itemsize
        if nbytes == 0 or not data:
            v = np.empty(shape, dt)
        else:
            v = np.frombuffer((ctypes.c_char * nbytes).from_address(data), dt).reshape(shape)
        v.flags.writeable = writable
        if len(_views) >= 64:
            _views.clear()
        _views[key] = v
    return v


def _load_main(path: str) -> None:
    """In a spawned worker: the caller's main script, run as ``__mp_main__`` (its
    ``if __name__ == "__main__":`` part does not run), so functions of ``__main__`` unpickle."""
    global _main_path
    if _main_path == path:
        return
    import runpy
    import types
    mod = types.ModuleType("__mp_main__")
    mod.__dict__.update(runpy.run_path(path, run_name="__mp_main__"))
    sys.modules["__main__"] = sys.modules["__mp_main__"] = mod
    _main_path = path


def current(fn: Any) -> bool:
    """Whether fn is still what its module and name say (a function defined again, in a
    notebook or a reloaded module, is looked up again)."""
    mod = sys.modules.get(getattr(fn, "__module__", None) or "")
    name = getattr(fn, "__qualname__", "<>")
    if "." not in name:  # the common case, a dict lookup
        return mod is not None and mod.__dict__.get(name) is fn
    obj: Any = mod
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj is fn


def _fn(body: bytes) -> tuple[Callable[..., Any], list[Any]]:
    """fn and the arrays' layouts of a job, unpickled once in each process while its module
    still has it under its name (a fork worker inherits the caller's entries)."""
    job = _fns.get(body)
    if job is None or not current(job[0]):
        main_path, payload = pickle.loads(body)
        if main_path and sys.modules.get("__main__") is not None and \
                getattr(sys.modules["__main__"], "__file__", None) != main_path:
            _load_main(main_path)
        job = pickle.loads(payload)
        if len(_fns) >= 16:
            _fns.clear()
        _fns[body] = job
    return job


def _extra(serial: int, body: bytes) -> tuple[Any, ...]:
    """A job's extra arguments, unpickled once per job in each process: no job sees what
    another did to them."""
    global _args
    if _args[0] != serial:
        _args = (serial, () if body == NO_ARGS else pickle.loads(body))
    return _args[1]


def _write_error(board: memoryview, worker: int, text: str) -> None:
    raw = text.encode("utf-8", "replace")[:ERR_BYTES - 4]
    off = worker * ERR_BYTES
    board[off + 4:off + 4 + len(raw)] = raw
    _LEN.pack_into(board, off, len(raw))


#: The job this process last ran a range of: (serial, what _run needs of it).  Its views
#: are this process's mappings, which a forked worker does not have (they are not
#: inherited): forgotten in the child.
_job: tuple[int, Any] = (0, None)
_LEN = struct.Struct("<I")
_F64 = struct.Struct("<I4xd")  # F64_TAG, then the float's bits, aligned for a strided view
_FLOATS = (float, np.float64)


def _forget_job() -> None:
    global _job
    _job = (0, None)


os.register_at_fork(after_in_child=_forget_job)  # run by AFTER_FORK in fork workers too


def seed(serial: int, setup: tuple[Any, ...], args: bytes) -> None:
    """In the caller, before it submits job serial: what `_setup` would read back from the
    argument block (fn, the views of the arrays, the arguments unpickled, the board), where
    that is the same: fn found under its module and name (a bound method or a partial would
    come back a copy of its own, as in the workers) and args that unpickle (else the job's
    own reading of them says why not, as a KernelError)."""
    global _job
    fn = setup[4]
    if not current(fn):
        return
    if args != NO_ARGS:
        try:
            extra = pickle.loads(args)
        except Exception:
            return
        setup = (*setup[:5], (*setup[5], *extra), setup[6])
    _job = (serial, setup)


def _board(handle: int, participants: int) -> memoryview:
    return memoryview(view(handle, ("u1", (board_bytes(participants),), True)))


def _setup(t: Any, raw: bytes) -> tuple[Any, ...]:
    """What a job's ranges need, from its argument block: once per job in each process."""
    _, kind, narrays, participants, plen, elen, n, block, _nblocks, serial = HEAD.unpack_from(raw)
    raw = ctypes.string_at(t.args, HEAD.size + plen + elen)
    handles = t.arrays
    fn, layouts = _fn(raw[HEAD.size:HEAD.size + plen])
    extra = _extra(serial, raw[HEAD.size + plen:])
    views = [view(handles[i + 1], layouts[i]) for i in range(narrays)]
    board = _board(handles[0], participants) if kind == KIND_REDUCE else None
    return kind, n, block, participants, fn, (*views, *extra), board


def _run(tp: Any) -> int:
    """The C kernel behind every Python kernel: 0, or 1 (BRG_EKERNEL) after writing the
    traceback to the board.  Never lets an exception through (ctypes would print and
    return 0)."""
    global _job
    board_at = None
    worker = participants = -1
    try:
        t = tp.contents
        worker = t.worker
        head = ctypes.string_at(t.args, HEAD.size)
        if head[:4] != MAGIC:
            return -22  # -EINVAL: not a job of this package
        board_at = t.arrays[0]
        participants = HEAD.unpack(head)[3]
        serial = int.from_bytes(head[SERIAL_AT:], "little")
        job = _job
        if job[0] != serial:
            _job = (0, None)
            _job = job = (serial, _setup(t, head))
        kind, n, block, participants, fn, rest, board = job[1]
        if kind == KIND_FOR:
            fn(t.begin, t.end, *rest)
            return 0
        at = participants * ERR_BYTES  # slot_offset(participants, 0)
        pack_f64, pack_len, floats = _F64.pack_into, _LEN.pack_into, _FLOATS
        for b in range(t.begin, t.end):
            lo = b * block
            v = fn(lo, min(n, lo + block), *rest)
            off = at + b * SLOT_BYTES
            if type(v) in floats:  # the common partial, without pickle: its bits as they are
                pack_f64(board, off, F64_TAG, v)
                continue
            if isinstance(v, np.generic):
                v = v.item()
            raw = pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)
            k = len(raw)
            if k > SLOT_BYTES - 4:
                raise ValueError("a reduction's partial must pickle into %d bytes; %r takes %d"
                                 % (SLOT_BYTES - 4, type(v).__name__, k))
            board[off + 4:off + 4 + k] = raw
            pack_len(board, off, k)
        return 0
    except BaseException as e:  # noqa: B036 - everything goes back to the caller
        try:
            if board_at is not None and participants > 0 and worker >= 0:
                board = _board(board_at, participants)
                tb = e.__traceback__
                if tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next  # from the kernel's frame on: this one says nothing
                _write_error(board, worker, "".join(traceback.format_exception(type(e), e, tb)))
        except BaseException:  # noqa: B036
            pass
        return 1


# ---- fork ----
#: What every pool's fork workers run first (brg_pool_opts.after_fork): the library forks
#: with fork(2), not os.fork(), so the interpreter's own after-fork steps (a new GIL that
#: this thread holds, threading's and the imports' locks, the at-fork hooks: random's reseed,
#: logging's locks...) are this C function's to run, before any Python code: the first
#: bytecode a worker ran without it could wait forever for a GIL another thread of the
#: parent had asked for.  The library forks only inside calls made with the GIL held
#: (``_lib.pylib()``), as PyOS_AfterFork_Child requires.
AFTER_FORK = ctypes.cast(ctypes.pythonapi.PyOS_AfterFork_Child, ctypes.c_void_p)


_DISPATCH = _lib.KERNEL_FN(_run)
#: The table every pool is created with: the dispatcher, not idempotent and idempotent.
TABLE = (_lib.Kernel * 2)(_lib.Kernel(NAMES[0], _DISPATCH, 0),
                          _lib.Kernel(NAMES[1], _DISPATCH, 1))


def kernel_for(idempotent: bool) -> Any:
    """A ``brg_kernel`` of its own for one function: the pool learns each kernel's cost
    under its address, so two Python functions do not share what was measured."""
    return _lib.Kernel(NAMES[1] if idempotent else NAMES[0], _DISPATCH, int(idempotent))


# ---- in the caller ----
def layout(a: Any) -> tuple[str, tuple[int, ...], bool]:
    """How a job's array is viewed where its ranges run: dtype, shape, writable."""
    return a.dtype.str, tuple(a.shape), bool(a.flags.writeable)


def pack(kind: int, fn: Callable[..., Any], extra: tuple[Any, ...], arrays: list[Any], n: int,
         block: int, nblocks: int, participants: int) -> bytes:
    """The argument block of a Python kernel's job."""
    try:
        payload = pickle.dumps((fn, [layout(a) for a in arrays]),
                               protocol=pickle.HIGHEST_PROTOCOL)
        args = pickle.dumps(tuple(extra), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise TypeError("fn and args must pickle, fn by reference (a function defined at the "
                        "top level of a module; not a lambda, a nested function or a bound "
                        "method of an object that does not pickle): %s" % e) from None
    main = sys.modules.get("__main__")
    main_path = getattr(main, "__file__", None) if getattr(fn, "__module__", None) == \
        "__main__" else None
    body = pickle.dumps((main_path, payload), protocol=pickle.HIGHEST_PROTOCOL)
    if HEAD.size + len(body) + len(args) > ARGS_MAX:
        raise ValueError("fn and args pickle into %d bytes; a job carries at most %d: pass "
                         "data in arrays" % (len(body) + len(args), ARGS_MAX - HEAD.size))
    return HEAD.pack(MAGIC, kind, len(arrays), participants, len(body), len(args), n, block,
                     nblocks, 0) + body + args


class Board:
    """The pool's board segment, on the caller's side."""

    def __init__(self, array: Any, participants: int) -> None:
        self.array = array
        self.participants = participants
        self.bytes = np.asarray(array).view(np.uint8).reshape(-1)
        self.mv = memoryview(self.bytes)
        self.array_name = ""
        self.dirty = False  # a job failed since the errors were last cleared

    def clear_errors(self) -> None:
        for w in range(self.participants):
            self.bytes[w * ERR_BYTES:w * ERR_BYTES + 4] = 0
        self.dirty = False

    def error(self, worker: int) -> str:
        if not 0 <= worker < self.participants:
            return ""
        off = worker * ERR_BYTES
        (length,) = struct.unpack("<I", self.bytes[off:off + 4].tobytes())
        return self.bytes[off + 4:off + 4 + min(length, ERR_BYTES - 4)].tobytes().decode(
            "utf-8", "replace")

    def partial(self, block: int) -> Any:
        off = slot_offset(self.participants, block)
        (length,) = _LEN.unpack_from(self.mv, off)
        if length == F64_TAG:
            return _F64.unpack_from(self.mv, off)[1]
        return pickle.loads(self.mv[off + 4:off + 4 + length])

    def partials(self, nblocks: int) -> list[Any]:
        """The partials of blocks 0 .. nblocks-1, in block order."""
        at = slot_offset(self.participants, 0)
        if nblocks < 16:  # fewer than numpy's own cost
            return [self.partial(b) for b in range(nblocks)]
        tags = self.bytes[at:at + nblocks * SLOT_BYTES].view("<u4")[::SLOT_BYTES // 4]
        if (tags == F64_TAG).all():  # all floats: read in one strided view
            return self.bytes[at + 8:at + nblocks * SLOT_BYTES].view("<f8")[
                ::SLOT_BYTES // 8].tolist()
        return [self.partial(b) for b in range(nblocks)]
