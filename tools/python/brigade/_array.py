# SPDX-License-Identifier: MIT
"""brigade._array - brigade arrays through libbrigade: create, open, unlink, list, describe."""

from __future__ import annotations

import ctypes
import operator
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # annotations only: numpy.typing takes a while to import
    import numpy.typing as npt

from . import _lib
from ._lib import check

__all__ = ["Array", "create", "open", "unlink", "ls", "info", "gc", "dtype_code", "atomic_add",
           "atomic_cas", "atomic_load", "atomic_store"]

_OPEN_WRITE = 0x1
_CREATE_PERSISTENT = 0x1
_CREATE_SHARED = 0x2
_KINDS = {0: "array", 1: "pool", 2: "lock", 3: "event", 4: "barrier", 5: "stream"}


def dtype_code(dtype: npt.DTypeLike | str) -> int:
    """brigade's code for dtype (``BRG_F64``...).

    A string is read as brigade reads it (``"f64"``, ``"float64"``, ``"<f8"``; **``"i8"`` and
    ``"u8"`` are one-byte types**, as in C); anything else goes through ``numpy.dtype``.

    Raises
    ------
    BrigadeError
        ``BRG_EBADDTYPE`` for a type brigade has no code for (big-endian, bool, complex...).
    """
    if isinstance(dtype, str):
        text = dtype
    else:
        try:
            text = np.dtype(dtype).str
        except TypeError:
            text = "?"
    return check(_lib.lib().brg_dtype_parse(text.encode()), repr(dtype))


class _Handle:
    """Owns one ``brg_array *``; brg_array_close runs when the last ndarray over it is freed."""

    def __init__(self, ptr: int, name: str) -> None:
        self.ptr: int | None = ptr
        self.name = name
        self.closed = False
        self.unsigned = _lib.lib().brg_array_dtype(ptr) == 10  # BRG_U64: atomics' bits

    def release(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            _lib.lib().brg_array_close(ptr)


class Array(np.ndarray):
    """A numpy array over a brigade segment's data, mapped by libbrigade (no copy).

    Made by `create` and `open`; any numpy function takes it.  It holds the ``brg_array``
    handle that the pool's kernels need.  `close` (or leaving a ``with`` block) ends its use
    with kernels at once; the mapping itself is released when the last array over the data
    (this one and every view of it) is freed, so a view can never point at unmapped memory.
    Views and results derived from it are plain numpy arrays to the pool: only the Array
    `create` or `open` returned is accepted by a kernel.

    Attributes
    ----------
    name : str or None
        The segment's name; None for views and results derived from the array.
    closed : bool
        True after `close` (and for derived arrays, which have no handle).
    """

    _handle: _Handle | None = None

    def __array_finalize__(self, obj: Any) -> None:
        self._handle = None  # views and results carry no handle

    def __array_wrap__(self, arr: np.ndarray, context: Any = None) -> Any:
        # As numpy.memmap: a ufunc's result is a plain ndarray (a scalar when 0-d).
        arr = super().__array_wrap__(arr, context)
        if arr is self or type(arr) is not Array:
            return arr
        if arr.shape == ():
            return arr[()]
        return arr.view(np.ndarray)

    def __getitem__(self, index: Any) -> Any:
        # As numpy.memmap: a slice is a plain ndarray view (it has no handle of its own).
        res = super().__getitem__(index)
        if type(res) is Array and res._handle is None:
            return res.view(np.ndarray)
        return res

    @property
    def name(self) -> str | None:
        return None if self._handle is None else self._handle.name

    @property
    def closed(self) -> bool:
        return self._handle is None or self._handle.closed

    def close(self) -> None:
        """Ends the array's use with pool kernels (idempotent).

        The data stay readable through this array and its views; libbrigade unmaps them when
        the last of those is freed.  The segment itself stays (see `unlink`).
        """
        if self._handle is not None:
            self._handle.closed = True

    def __enter__(self) -> Array:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ptr(self) -> int:
        """The ``brg_array *`` for a C call."""
        h = self._handle
        if h is None:
            raise TypeError("a view or result derived from a brigade array has no handle: pass "
                            "the Array that brigade.create() or brigade.open() returned")
        if h.closed or h.ptr is None:
            raise ValueError("brigade array %r is closed" % (h.name,))
        return h.ptr

    def __repr__(self) -> str:
        body = np.asarray(self).__repr__()
        if self._handle is None:
            return body
        state = ", closed" if self.closed else ""
        return "brigade.Array(%r%s, %s)" % (self._handle.name, state, body)

    def __reduce__(self) -> Any:
        # Pickling copies: the copy is a plain ndarray, not a second handle.
        return np.asarray(self).copy().__reduce__()


def _wrap(ptr: int, name: str) -> Array:
    """An Array over an open ``brg_array *``; takes ownership of ptr."""
    L = _lib.lib()
    handle = _Handle(ptr, name)
    try:
        dt = np.dtype(_np_descr(L.brg_array_dtype(ptr)))
        ndim = L.brg_array_ndim(ptr)
        cshape = L.brg_array_shape(ptr)
        shape = tuple(cshape[i] for i in range(ndim))
        nbytes = L.brg_array_nbytes(ptr)
        data = L.brg_array_data(ptr)
        buf = (ctypes.c_char * max(nbytes, 1)).from_address(data)
        raw = np.frombuffer(buf, dtype=dt, count=nbytes // dt.itemsize).reshape(shape)
        if not L.brg_array_writable(ptr):
            raw.flags.writeable = False
    except BaseException:
        handle.release()
        raise
    # Every ndarray over the data keeps raw alive (numpy's base chain), so raw's end is the
    # moment no view is left: only then is the mapping released.
    weakref.finalize(raw, handle.release)
    arr = raw.view(Array)
    arr._handle = handle
    return arr


def _np_descr(code: int) -> str:
    name = _lib.lib().brg_dtype_name(code).decode()
    return {"f32": "<f4", "f64": "<f8", "i8": "|i1", "i16": "<i2", "i32": "<i4", "i64": "<i8",
            "u8": "|u1", "u16": "<u2", "u32": "<u4", "u64": "<u8"}[name]


def create(name: str, shape: int | tuple[int, ...], dtype: npt.DTypeLike | str,
           fill: Any = None, persistent: bool = False, *, mode: int = 0o600,
           shared: bool = False) -> Array:
    """Creates the named segment (zero-filled) with libbrigade and maps it read-write.

    Parameters
    ----------
    name : str
        1-200 of ``[A-Za-z0-9._-]``.
    shape : int or tuple of int
        1 to 8 extents.
    dtype : dtype-like or str
        f32 f64 i8 i16 i32 i64 u8 u16 u32 u64, little-endian (see `dtype_code`: the string
        ``"i8"`` is brigade's one-byte integer).
    fill : scalar or array-like, optional
        Assigned to the whole array after creation (numpy broadcasting).
    persistent : bool
        ``BRG_CREATE_PERSISTENT``: ``brigade gc`` keeps it after its creator died.
    mode : int
        Permission bits (0600 by default); group or other bits need ``shared=True``.
    shared : bool
        ``BRG_CREATE_SHARED``.

    Returns
    -------
    Array

    Raises
    ------
    FileExistsError
        When the name exists.
    BrigadeError
        ``BRG_EBADNAME``, ``BRG_EBADDTYPE``, ``BRG_EBADNDIM``, ``BRG_EOVERFLOW``, ``BRG_EMODE``.
    """
    L = _lib.lib()
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(int(d) < 0 for d in dims):
        raise ValueError("negative dimensions are not allowed: %r" % (dims,))
    code = dtype_code(dtype)
    cshape = (ctypes.c_size_t * max(len(dims), 1))(*[int(d) for d in dims])
    opts = _lib.ArrayOpts(size=ctypes.sizeof(_lib.ArrayOpts), mode=mode,
                          flags=(_CREATE_PERSISTENT if persistent else 0)
                          | (_CREATE_SHARED if shared else 0))
    out = ctypes.c_void_p()
    handed = False  # the handle is _wrap's, which releases it on failure
    # From the call on: a KeyboardInterrupt between it and the next line would leave the
    # segment; out is set once it exists.
    try:
        check(L.brg_array_create(ctypes.byref(out), name.encode(), code, len(dims), cshape,
                                 ctypes.byref(opts)), name)
        handed = True
        arr = _wrap(out.value, name)
        if fill is not None:
            arr[...] = fill
    except BaseException:
        if out.value:
            if not handed:
                L.brg_array_close(out.value)
            L.brg_segment_unlink(name.encode())
        raise
    return arr


def open(name: str, write: bool = False) -> Array:  # noqa: A001 - mirrors brg_array_open
    """Opens the named segment after libbrigade validated it; read-only unless write.

    Raises
    ------
    FileNotFoundError
        When it does not exist.
    BrigadeError
        When it fails validation (``BRG_ECHECKSUM``, ``BRG_ENOTARRAY``...) or the name is bad.
    """
    out = ctypes.c_void_p()
    check(_lib.lib().brg_array_open(ctypes.byref(out), name.encode(),
                                    _OPEN_WRITE if write else 0), name)
    return _wrap(out.value, name)


def unlink(name: str) -> None:
    """Removes the named brigade segment (never a non-brigade file); open arrays stay valid.

    Raises
    ------
    FileNotFoundError
        When it does not exist.
    BrigadeError
        When it is not a brigade segment, or the name is bad.
    """
    check(_lib.lib().brg_segment_unlink(name.encode()), name)


def _info_dict(si: _lib.SegmentInfo) -> dict[str, Any]:
    """A segment's description with the fields and names of ``brigade ls --json``."""
    return {
        "name": si.name.decode(),
        "kind": _KINDS.get(si.kind, "?"),
        "dtype": _lib.lib().brg_dtype_name(si.dtype).decode(),
        "shape": [si.shape[i] for i in range(si.ndim)],
        "nbytes": si.nbytes,
        "file_bytes": si.file_bytes,
        "mode": "%04o" % si.mode,
        "creator_pid": si.creator_pid,
        "creator_uid": si.creator_uid,
        "alive": bool(si.creator_alive),
        "persistent": bool(si.flags & _CREATE_PERSISTENT),
        "shared": bool(si.flags & _CREATE_SHARED),
        "created_ns": si.created_ns,
        "generation": si.generation,
    }


def info(name: str) -> dict[str, Any]:
    """The segment's description (``brg_segment_stat``), as ``brigade info NAME --json``.

    Raises
    ------
    FileNotFoundError, BrigadeError
        As `open`.
    """
    si = _lib.SegmentInfo(size=ctypes.sizeof(_lib.SegmentInfo))
    check(_lib.lib().brg_segment_stat(name.encode(), 0, ctypes.byref(si)), name)
    return _info_dict(si)


def ls() -> list[dict[str, Any]]:
    """The caller's valid brigade segments in name order (``brg_segment_foreach``).

    Each is a dict with the fields of ``brigade ls --json``: name, kind ("array", "pool", "lock", "event", "barrier" or "stream"),
    dtype, shape, nbytes, file_bytes, mode, creator_pid, creator_uid, alive, persistent,
    shared, created_ns, generation.
    """
    found: list[dict[str, Any]] = []
    failure: list[BaseException] = []

    def each(p: Any, _userdata: Any) -> int:
        try:
            found.append(_info_dict(p.contents))
        except BaseException as e:  # noqa: BLE001 - carried out of the C callback
            failure.append(e)
            return 1
        return 0

    rc = _lib.lib().brg_segment_foreach(0, _lib.SEGMENT_FN(each), None)
    if failure:
        raise failure[0]
    check(rc, "/dev/shm")
    return found


def gc(dry_run: bool = False) -> list[dict[str, Any]]:
    """Removes the caller's segments whose creating process has exited, unless they were
    created persistent, as ``brigade gc --json`` does; returns what it removed (or, with
    dry_run, would remove), each as `ls` describes it.

    A name made again since the listing (another creator, another time) is left alone.
    """
    removed = []
    for seg in ls():
        if seg["alive"] or seg["persistent"]:
            continue
        if not dry_run:
            try:
                now = info(seg["name"])
            except (OSError, _lib.BrigadeError):
                continue  # gone, or no longer a brigade segment
            if now["creator_pid"] != seg["creator_pid"] or \
                    now["created_ns"] != seg["created_ns"]:
                continue
            try:
                unlink(seg["name"])
            except FileNotFoundError:
                continue  # someone else collected it
        removed.append(seg)
    return removed


# ---- atomic counters ----
def _flat(a: Array, index: Any) -> tuple[int, int]:
    """The handle and the flat C-order index of a[index] (an int, or a tuple of ints)."""
    ptr = a._ptr() if isinstance(a, Array) else None
    if ptr is None:
        raise TypeError("a must be a brigade.Array, not %s" % type(a).__name__)
    idx = index if isinstance(index, tuple) else (index,)
    if len(idx) == 1:
        flat = operator.index(idx[0])
    else:
        try:
            flat = int(np.ravel_multi_index(tuple(operator.index(i) for i in idx), a.shape))
        except ValueError:
            raise IndexError("index %r is out of range for shape %r" % (index, a.shape)) \
                from None
    if flat < 0:
        raise IndexError("index %r is negative" % (index,))
    return ptr, flat


def _u64(a: Array, v: int) -> int:
    """A value as the C call returns it (int64 bits), in the array's own terms."""
    return v & 0xFFFFFFFFFFFFFFFF if a.dtype == np.uint64 else v


def atomic_add(a: Array, index: Any, delta: int = 1) -> int:
    """a[index] += delta atomically across processes (i32, u32, i64, u64; wraps at the
    element's width); returns the value before.  index is flat or a tuple.

    Raises
    ------
    BrigadeError
        ``BRG_EDTYPE`` for another dtype, ``BRG_EREADONLY`` for an array opened read-only.
    IndexError
        An index out of range.
    """
    h = a._handle if type(a) is Array else None
    if h is not None and h.ptr is not None and not h.closed and type(index) is int and \
            index >= 0 and type(delta) is int and -(1 << 63) <= delta < (1 << 63):
        # the common case, without the checks' calls (a counter is hit in tight loops)
        old = ctypes.c_int64()
        rc = _lib.lib().brg_atomic_fetch_add(h.ptr, index, delta, ctypes.byref(old))
        if rc == 0:
            return old.value if old.value >= 0 or not h.unsigned else old.value + (1 << 64)
    ptr, i = _flat(a, index)
    old = ctypes.c_int64()
    _check_index(_lib.lib().brg_atomic_fetch_add(ptr, i, _wrap64(delta), ctypes.byref(old)),
                 index)
    return _u64(a, old.value)


def atomic_cas(a: Array, index: Any, expected: int, desired: int) -> tuple[bool, int]:
    """Compare-exchange: when a[index] == expected, stores desired.  Returns (whether it
    did, the value found)."""
    ptr, i = _flat(a, index)
    seen = ctypes.c_int64()
    done = _check_index(_lib.lib().brg_atomic_cas(ptr, i, _wrap64(expected), _wrap64(desired),
                                                  ctypes.byref(seen)), index)
    return bool(done), _u64(a, seen.value)


def atomic_load(a: Array, index: Any) -> int:
    """a[index], read atomically."""
    ptr, i = _flat(a, index)
    v = ctypes.c_int64()
    _check_index(_lib.lib().brg_atomic_load(ptr, i, ctypes.byref(v)), index)
    return _u64(a, v.value)


def atomic_store(a: Array, index: Any, value: int) -> None:
    """a[index] = value, written atomically."""
    ptr, i = _flat(a, index)
    _check_index(_lib.lib().brg_atomic_store(ptr, i, _wrap64(value)), index)


def _wrap64(v: int) -> int:
    """An int as int64 bits (so u64 values past 2^63 travel too)."""
    v = operator.index(v)
    if not -(1 << 63) <= v < (1 << 64):
        raise OverflowError("%d does not fit in 64 bits" % v)
    return v - (1 << 64) if v >= (1 << 63) else v


def _check_index(rc: int, index: Any) -> int:
    if rc == -34:  # -ERANGE: the index is past the end
        raise IndexError("index %r is out of range" % (index,))
    return check(rc)
