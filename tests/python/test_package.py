# SPDX-License-Identifier: MIT
"""test_package.py - the brigade Python package (tools/python/brigade) against libbrigade.

Run by pytest from tests/python/meson.build with BRIGADE_LIBRARY = the build tree's
libbrigade.so.1, PYTHONPATH = tools/python and BRIGADE_HEADER = include/brigade.h.  Every
segment is named brgt-<pid>-pkg-<n> and removed by the test that made it; a test that leaves
one behind fails.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import pickle
import re
import signal
import subprocess
import struct
import sys
import threading
import time
from typing import Any, Iterator

import numpy as np
import pytest

import brigade
import pykernels as pk
from brigade import _lib

HEADER = os.environ.get("BRIGADE_HEADER",
                        os.path.join(os.path.dirname(__file__), "..", "..", "include",
                                     "brigade.h"))
PREFIX = "brgt-%d-pkg-" % os.getpid()
_counter = itertools.count()


def _ours() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if n.startswith(PREFIX)}


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Fails a test that leaves one of its segments in /dev/shm."""
    before = _ours()
    yield
    left = _ours() - before
    for n in left:
        os.unlink("/dev/shm/" + n)
    assert not left, "segments left behind: %s" % sorted(left)


@pytest.fixture
def names() -> Iterator[Any]:
    """names() gives a unique segment name, unlinked at teardown."""
    made: list[str] = []

    def make() -> str:
        n = PREFIX + str(next(_counter))
        made.append(n)
        return n

    yield make
    for n in made:
        for seg in (n, n + ".stream"):  # a stream's control segment too
            try:
                brigade.unlink(seg)
            except FileNotFoundError:
                pass


# ---- signatures against the header ----
_BASE = {
    "void": None, "int": ctypes.c_int, "unsigned": ctypes.c_uint, "long": ctypes.c_long,
    "double": ctypes.c_double, "float": ctypes.c_float, "size_t": ctypes.c_size_t,
    "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64, "uint32_t": ctypes.c_uint32,
    "int32_t": ctypes.c_int32,
}
_ENUMS = {"brg_dtype", "brg_op", "brg_border", "brg_trans", "brg_bind", "brg_start",
          "brg_sched_kind", "brg_stream_mode", "brg_stream_policy"}
_OPAQUE = {"brg_array", "brg_pool", "brg_job", "brg_lock", "brg_event", "brg_barrier",
           "brg_stream"}


def _ctype(decl: str) -> Any:
    """The ctypes type a C declaration (a parameter or a return type) maps to."""
    decl = decl.strip()
    if "(*" in decl:  # a function pointer: the only one the package passes
        assert decl.startswith("int (*fn)(const brg_segment_info *info, void *userdata)"), decl
        return _lib.SEGMENT_FN
    toks = re.findall(r"[A-Za-z_]\w*|\*", decl)
    toks = [t for t in toks if t != "const"]
    if len(toks) > 1 and toks[-1] != "*" and (toks[-2] == "*" or toks[-2] in _BASE
                                               or toks[-2] in _ENUMS or toks[-2].startswith(
                                                   "brg_")):
        toks = toks[:-1]  # drop the parameter's name
    base, stars = toks[0], toks.count("*")
    if stars == 0:
        return ctypes.c_int if base in _ENUMS else _BASE[base]
    if base == "char" and stars == 1:
        return ctypes.c_char_p
    if base == "char" and stars == 2:
        return ctypes.POINTER(ctypes.c_char_p)
    if base in ("void",) + tuple(_OPAQUE) and stars == 1:
        return ctypes.c_void_p
    if base in _OPAQUE and stars == 2:
        return ctypes.POINTER(ctypes.c_void_p)
    if stars == 1 and base in _lib.STRUCTS:
        return ctypes.POINTER(_lib.STRUCTS[base])
    if stars == 1 and base in _BASE:
        return ctypes.POINTER(_BASE[base])
    raise AssertionError("no ctypes mapping for %r" % decl)


def _split_params(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    out.append(cur)
    return [p.strip() for p in out if p.strip() and p.strip() != "void"]


def header_prototypes() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, parameter declarations) of every BRG_EXPORT prototype."""
    text = open(HEADER).read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"\\\n", " ", text)
    protos = {}
    for m in re.finditer(r"BRG_EXPORT\s+([\w\s*]+?)\b(brg_\w+)\s*\(", text):
        i, depth = m.end(), 1
        while depth:
            depth += (text[i] == "(") - (text[i] == ")")
            i += 1
        protos[m.group(2)] = (m.group(1), _split_params(text[m.end():i - 1]))
    return protos


def test_signatures_match_header() -> None:
    protos = header_prototypes()
    assert len(protos) > 60
    bad = []
    for name, (restype, argtypes) in _lib.SIGNATURES.items():
        if name not in protos:
            bad.append("%s: not in brigade.h" % name)
            continue
        ret, params = protos[name]
        want = (_ctype(ret), tuple(_ctype(p) for p in params))
        if want != (restype, argtypes):
            bad.append("%s: table %r, header %r" % (name, (restype, argtypes), want))
    assert not bad, "\n".join(bad)


def test_struct_sizes() -> None:
    text = open(HEADER).read()
    for cname, cls, macro in [("brg_array_opts", _lib.ArrayOpts, "BRG_ARRAY_OPTS_SIZE_VER0"),
                              ("brg_segment_info", _lib.SegmentInfo,
                               "BRG_SEGMENT_INFO_SIZE_VER0"),
                              ("brg_pool_opts", _lib.PoolOpts, "BRG_POOL_OPTS_SIZE_VER1"),
                              ("brg_worker_status", _lib.WorkerStatus,
                               "BRG_WORKER_STATUS_SIZE_VER0")]:
        ver0 = int(re.search(r"#define %s (\d+)" % macro, text).group(1))
        assert ctypes.sizeof(cls) >= ver0, cname
    assert ctypes.sizeof(_lib.ArrayOpts) == 16
    assert ctypes.sizeof(_lib.SegmentInfo) == 344
    assert ctypes.sizeof(_lib.PoolOpts) == 88  # VER1
    assert ctypes.sizeof(_lib.Kernel) == 24 and ctypes.sizeof(_lib.Task) == 48
    assert ctypes.sizeof(_lib.JobDesc) == 80 and ctypes.sizeof(_lib.JobResult) == 104
    assert ctypes.sizeof(_lib.PoolInfo) == 64  # VER0 56 + the 1.0 spin_us
    assert ctypes.sizeof(_lib.WorkerStatus) == 72
    assert ctypes.sizeof(_lib.Scalar) == 40
    ver0 = int(re.search(r"#define BRG_STREAM_INFO_SIZE_VER0 (\d+)", text).group(1))
    assert ctypes.sizeof(_lib.StreamInfo) == ver0 == 112
    assert ctypes.sizeof(_lib.StreamSubscriber) == 24


def test_loaded_library() -> None:
    if os.environ.get("BRIGADE_LIBRARY"):
        assert brigade.library_path() == os.environ["BRIGADE_LIBRARY"]
    assert _lib.lib().brg_version().decode().startswith("1.")


# ---- arrays ----
def test_create_open_ls_unlink(names: Any) -> None:
    n = names()
    with brigade.create(n, (6, 4), "u16", fill=np.arange(24).reshape(6, 4)) as a:
        assert isinstance(a, brigade.Array) and isinstance(a, np.ndarray)
        assert a.name == n and a.dtype == np.uint16 and a.shape == (6, 4)
        assert a.flags.writeable and not a.closed
        a[0, 0] = 100
        b = brigade.open(n)
        assert not b.flags.writeable and np.array_equal(a, b) and b[0, 0] == 100
        w = brigade.open(n, write=True)
        w[5, 3] = 7
        assert a[5, 3] == 7  # one segment, no copy
        assert np.array_equal(brigade.shm.open(n), a)  # the pure-Python reader agrees
        row = [r for r in brigade.ls() if r["name"] == n]
        assert len(row) == 1 and row[0] == brigade.info(n)
        assert row[0]["kind"] == "array" and row[0]["dtype"] == "u16"
        assert row[0]["shape"] == [6, 4] and row[0]["nbytes"] == 48
        assert row[0]["creator_pid"] == os.getpid() and row[0]["alive"]
        assert not row[0]["persistent"] and row[0]["mode"] == "0600"
        assert float(np.mean(a)) == float(np.mean(np.asarray(a)))  # numpy takes it
        b.close()
        w.close()
    assert a.closed
    brigade.unlink(n)
    assert n not in [r["name"] for r in brigade.ls()]
    assert a[0, 0] == 100  # the mapping outlives the unlink and the close


def test_views_are_plain_and_keep_the_data(names: Any) -> None:
    n = names()
    a = brigade.create(n, 100, "f64", fill=np.arange(100.0))
    v = a[10:20]
    assert type(v) is np.ndarray and type(a + 1) is np.ndarray and type(a.sum()) is np.float64
    a.close()
    del a
    assert v[0] == 10.0  # the view still holds the mapping
    brigade.unlink(n)


def test_persistent_and_dtypes(names: Any) -> None:
    for dt, want in [("i8", np.int8), ("u8", np.uint8), (np.float32, np.float32),
                     ("float64", np.float64), (np.dtype("<i8"), np.int64)]:
        n = names()
        with brigade.create(n, 3, dt, persistent=True) as a:
            assert a.dtype == want and brigade.info(n)["persistent"]
        brigade.unlink(n)


def test_errors(names: Any) -> None:
    n = names()
    with pytest.raises(FileNotFoundError):
        brigade.open(n)
    with pytest.raises(FileNotFoundError):
        brigade.unlink(n)
    with brigade.create(n, 4, "f32"):
        with pytest.raises(FileExistsError):
            brigade.create(n, 4, "f32")
    for bad in ("bool", np.complex128, ">f8"):
        with pytest.raises(brigade.BrigadeError) as e:
            brigade.create(names(), 4, bad)
        assert e.value.name == "BRG_EBADDTYPE" and e.value.code == -4001
        assert e.value.message == "unknown dtype"
    with pytest.raises(brigade.BrigadeError) as e:
        brigade.create("no/slash", 4, "f64")
    assert e.value.name == "BRG_EBADNAME"
    with pytest.raises(brigade.BrigadeError) as e:
        brigade.create(names(), (1,) * 9, "f64")
    assert e.value.name == "BRG_EBADNDIM"
    assert _lib.check(0) == 0
    with pytest.raises(PermissionError):
        _lib.check(-13)
    brigade.unlink(n)


# ---- the pool ----
@pytest.fixture(scope="module", params=[1, 2, 3])
def pool(request: Any) -> Iterator[brigade.Pool]:
    with brigade.Pool(workers=request.param) as p:
        yield p


def _rand(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def test_pool_basics(pool: brigade.Pool) -> None:
    assert pool.size in (1, 2, 3) and pool.name.startswith("brg-pool-")
    st = brigade.status(pool.name)
    assert st["participants"] == pool.size and len(st["workers"]) == pool.size
    assert st["parent_pid"] == os.getpid() and st["start"] == "fork"


def test_elementwise(pool: brigade.Pool, names: Any) -> None:
    n = 10007
    xs, ys = _rand(n, 1), _rand(n, 2)
    with brigade.create(names(), n, "f64", fill=xs) as x, \
            brigade.create(names(), n, "f64", fill=ys) as y, \
            brigade.create(names(), n, "f64") as out:
        pool.fill(out, 2.5)
        assert np.all(out == 2.5)
        pool.copy(out, x)
        assert np.array_equal(out, xs)
        pool.scale(out, 3.0)
        assert np.array_equal(out, xs * 3.0)
        pool.copy(out, y)
        pool.axpy(out, 0.5, x)
        np.testing.assert_allclose(out, ys + 0.5 * xs, rtol=1e-14, atol=1e-15)
        pool.triad(out, x, 1.5, y)
        np.testing.assert_allclose(out, xs + 1.5 * ys, rtol=1e-14, atol=1e-15)
        for op, fn in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                       ("div", np.divide)]:
            pool.binop(out, x, op, y)
            assert np.array_equal(out, fn(xs, ys)), op
            getattr(pool, op)(out, y, x)
            assert np.array_equal(out, fn(ys, xs)), op
    with brigade.create(names(), n, "i32", fill=np.arange(n) * 100003) as a, \
            brigade.create(names(), n, "i32", fill=7) as b, \
            brigade.create(names(), n, "i32") as c:
        pool.mul(c, a, a)
        assert np.array_equal(c, np.asarray(a) * np.asarray(a))  # wraps as numpy does
        pool.add(c, a, b)
        assert np.array_equal(c, np.asarray(a) + 7)


def test_reductions(pool: brigade.Pool, names: Any) -> None:
    n = 100003
    xs, ys = _rand(n, 3), _rand(n, 4)
    with brigade.create(names(), n, "f64", fill=xs) as x, \
            brigade.create(names(), n, "f64", fill=ys) as y, \
            brigade.create(names(), n, "i64", fill=np.arange(n) - 5) as k, \
            brigade.create(names(), n, "u8", fill=np.arange(n) % 251) as u:
        assert pool.sum(x) == pytest.approx(float(np.sum(xs)), rel=1e-12)
        assert pool.sumsq(x) == pytest.approx(float(np.sum(xs * xs)), rel=1e-12)
        assert pool.dot(x, y) == pytest.approx(float(np.dot(xs, ys)), rel=1e-10)
        assert pool.norm2(x) == pytest.approx(float(np.linalg.norm(xs)), rel=1e-12)
        assert pool.min(x) == float(xs.min()) and pool.max(x) == float(xs.max())
        assert pool.argmin(x) == int(xs.argmin()) and pool.argmax(x) == int(xs.argmax())
        s = pool.sum(k)
        assert type(s) is int and s == int(np.sum(np.arange(n) - 5))
        # Exact: never a wrap; past the 64-bit type, an OverflowError.
        k[...] = np.iinfo(np.int64).max
        k[1::2] = -np.iinfo(np.int64).max
        k[0] -= 5  # the sums on the way pass 2^63 many times; the total fits
        want = sum(int(v) for v in k)
        assert pool.sum(k) == want
        k[...] = 1 << 62
        with pytest.raises(OverflowError, match="reduce_ranges"):
            pool.sum(k)
        k[...] = np.arange(n) - 5
        assert pool.min(k) == -5 and pool.max(u) == 250 and type(pool.max(u)) is int
        assert type(pool.sum(x)) is float and type(pool.argmax(x)) is int


def test_reductions_same_bits_for_any_worker_count(names: Any) -> None:
    n = 1 << 17
    with brigade.create(names(), n, "f32", fill=_rand(n, 5)) as x, \
            brigade.create(names(), n, "f32", fill=_rand(n, 6)) as y:
        seen = []
        for w in (1, 2, 3):
            with brigade.Pool(workers=w) as p:
                seen.append((p.sum(x), p.sumsq(x), p.dot(x, y), p.norm2(x), p.min(x),
                             p.max(x), p.argmin(x), p.argmax(x)))
        assert seen[0] == seen[1] == seen[2]


def _window_ref(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    r = k // 2
    pad = np.pad(img.astype(np.float64), r, mode="edge")
    out = np.zeros(img.shape)
    for i in range(k):
        for j in range(k):
            out += w[i, j] * pad[i:i + img.shape[0], j:j + img.shape[1]]
    return out


def test_stencils(pool: brigade.Pool, names: Any) -> None:
    img = np.random.default_rng(7).random((67, 53)).astype(np.float32)
    with brigade.create(names(), img.shape, "f32", fill=img) as src, \
            brigade.create(names(), img.shape, "f32") as out:
        for r in (1, 2):
            pool.stencil_box(out, src, r)
            k = 2 * r + 1
            np.testing.assert_allclose(out, _window_ref(img, np.full((k, k), 1.0 / k / k)),
                                       rtol=1e-5, atol=1e-6)
        for k in (3, 5):
            w = np.random.default_rng(k).standard_normal((k, k)).astype(np.float32)
            pool.stencil_conv(out, src, w)
            np.testing.assert_allclose(out, _window_ref(img, w), rtol=1e-4, atol=1e-5)


def test_blas(pool: brigade.Pool, names: Any) -> None:
    rng = np.random.default_rng(8)
    am, bm, cm = rng.random((37, 29)), rng.random((29, 41)), rng.random((37, 41))
    with brigade.create(names(), am.shape, "f64", fill=am) as a, \
            brigade.create(names(), bm.shape, "f64", fill=bm) as b, \
            brigade.create(names(), cm.shape, "f64", fill=cm) as c:
        pool.gemm(c, a, b, alpha=2.0, beta=0.5)
        np.testing.assert_allclose(c, 2.0 * am @ bm + 0.5 * cm, rtol=1e-12)
        with brigade.create(names(), (29, 37), "f64", fill=am.T) as at:
            pool.gemm(c, at, b, trans_a=True)
            np.testing.assert_allclose(c, am @ bm, rtol=1e-12)
        xv, yv = rng.random(29), rng.random(37)
        with brigade.create(names(), 29, "f64", fill=xv) as x, \
                brigade.create(names(), 37, "f64", fill=yv) as y:
            pool.gemv(y, a, x, alpha=1.5, beta=2.0)
            np.testing.assert_allclose(y, 1.5 * am @ xv + 2.0 * yv, rtol=1e-12)
            pool.gemv(x, a, y, trans=True)
            np.testing.assert_allclose(x, am.T @ np.asarray(y), rtol=1e-12)


def test_refusals(pool: brigade.Pool, names: Any) -> None:
    with brigade.create(names(), 8, "f64") as x, brigade.create(names(), 9, "f64") as y, \
            brigade.create(names(), 8, "i32") as k:
        with pytest.raises(TypeError, match=r"brigade\.create"):
            pool.scale(np.zeros(8), 2.0)
        with pytest.raises(TypeError, match=r"brigade\.create"):
            pool.scale(x[1:], 2.0)  # a slice is a plain ndarray
        with pytest.raises(TypeError, match="derived"):
            pool.fill(np.asarray(x).view(brigade.Array), 0)
        with pytest.raises(brigade.BrigadeError) as e:
            pool.copy(x, y)
        assert e.value.name == "BRG_ESHAPE"
        with pytest.raises(brigade.BrigadeError) as e:
            pool.scale(k, 2.0)
        assert e.value.name == "BRG_EDTYPE"
        with pytest.raises(brigade.BrigadeError) as e:
            pool.axpy(x, 1.0, x)
        assert e.value.name == "BRG_EALIAS"
        with pytest.raises(ValueError):
            pool.binop(x, x, "pow", x)
        r = brigade.open(x.name)
        with pytest.raises(brigade.BrigadeError) as e:
            pool.fill(r, 1.0)
        assert e.value.name == "BRG_EREADONLY"
        r.close()
    with pytest.raises(ValueError, match="closed"):
        pool.fill(x, 1.0)


def test_pool_options() -> None:
    with pytest.raises(ValueError, match="spawn"):
        brigade.Pool(start="forkserver")
    with pytest.raises(ValueError):
        brigade.Pool(bind="sideways")
    p = brigade.Pool(workers=2, bind="none", name=PREFIX + "pool")
    assert p.name == PREFIX + "pool" and not p.closed
    p.close()
    p.close()
    assert p.closed
    with pytest.raises(ValueError, match="closed"):
        p.sum(None)  # type: ignore[arg-type]


# ---- Python kernels ----
@pytest.fixture(scope="module", params=[(1, "fork"), (2, "fork"), (3, "fork"), (2, "spawn"),
                                        (3, "spawn")], ids=lambda p: "%d-%s" % p)
def pypool(request: Any) -> Iterator[brigade.Pool]:
    with brigade.Pool(workers=request.param[0], start=request.param[1]) as p:
        yield p


def test_for_ranges_against_numpy(pypool: brigade.Pool, names: Any) -> None:
    n = 100003
    x0 = _rand(n, 1)
    with brigade.create(names(), n, "f64", fill=x0) as x, \
            brigade.create(names(), n, "f64") as out, \
            brigade.create(names(), n, "i32") as hits:
        for sched, chunk in [("auto", 0), ("static", 0), ("dynamic", 1000), ("guided", 7)]:
            out[...] = 0
            pypool.for_ranges(pk.square, n, [x, out], schedule=sched, chunk=chunk)
            assert np.array_equal(out, x0 * x0), sched
            hits[...] = 0
            pypool.for_ranges(pk.count, n, [hits], schedule=sched, chunk=chunk)
            assert np.all(hits == 1), sched
        pypool.for_ranges(pk.axpb, n, [x, out], args=(2.5, -1.0))
        assert np.array_equal(out, 2.5 * x0 - 1.0)
        # The built-in kernels run on the same pool (spawned workers find them by name).
        pypool.triad(out, x, 0.5, x)
        assert np.array_equal(out, x0 + 0.5 * x0) and pypool.sum(x) == pytest.approx(
            float(np.sum(x0)), rel=1e-12)
        pypool.for_ranges(pk.square, 0, [x, out])  # nothing to do
        # The arrays are the segments themselves: a worker's writes are the caller's data.
        with brigade.create(names(), 4 * pypool.size, "i64") as pids:
            pypool.for_ranges(pk.pid_of, 4 * pypool.size, [pids], schedule="static")
            # (whether the caller ran a range depends on timing: a worker may take its
            # range whole before it starts)
            assert set(pids.tolist()) <= {os.getpid(), *pypool.worker_pids()}


def test_reduce_ranges(pypool: brigade.Pool, names: Any) -> None:
    assert pypool.reduce_ranges(pk.squares_exact, 10**7) == 333333383333335000000
    assert pypool.reduce_ranges(pk.squares_exact, 0) == 0
    assert pypool.reduce_ranges(pk.squares_exact, 0, initial=None) is None
    n = 50001
    x0 = _rand(n, 2)
    with brigade.create(names(), n, "f64", fill=x0) as x:
        assert pypool.reduce_ranges(pk.pair, n, [x], combine=pk.pair_max, block=1000) == \
            (float(np.max(x0)), n)
        with pytest.raises(ValueError, match="blocks"):
            pypool.reduce_ranges(pk.total, n, [x], block=1)
        with pytest.raises(brigade.KernelError, match="124 bytes"):
            pypool.reduce_ranges(pk.big_partial, 10)


def test_reduce_ranges_partials_as_returned(pypool: brigade.Pool) -> None:
    """Each block's partial reaches combine as fn returned it: a float (numpy's as Python's)
    with its bits, whatever the number of blocks; an int past 64 bits and a tuple among
    floats as they were."""
    def bits(v: object) -> object:
        return struct.pack("<d", v) if isinstance(v, float) else v

    for n in (2, 7, 15, 16, 40, 333):
        for mixed in (False, True):
            want = [pk.special(b, b + 1, mixed) for b in range(n)]
            got = pypool.reduce_ranges(pk.special, n, args=(mixed,), combine=pk.collect,
                                       block=1)
            assert [type(v) for v in got] == \
                [float if isinstance(v, float) else type(v) for v in want]
            assert [bits(v) for v in got] == [bits(v) for v in want], (n, mixed)


def test_kernel_objects_are_copies(pypool: brigade.Pool, names: Any) -> None:
    """A bound method travels by value: each process running a job, the caller too, calls a
    copy of its own, made afresh for the job; the object passed is left alone.  Arguments
    that do not unpickle fail the job as any kernel's exception does."""
    tally = pk.Tally()
    with brigade.create(names(), 64, "f64") as out:
        for _ in range(3):
            pypool.for_ranges(tally.run, 64, [out], schedule="static")
            assert 1 <= out.min() and out.max() <= pypool.size, out
    assert tally.calls == 0
    with pytest.raises(brigade.KernelError, match="does not unpickle"):
        pypool.for_ranges(pk.fail_at, 10, args=(pk.Unpicklable(),))
    pypool.for_ranges(pk.fail_at, 10, args=(-1,))


def test_reduce_ranges_same_bits_for_any_worker_count(names: Any) -> None:
    n = 1 << 20
    x0 = _rand(n, 3) * np.exp(_rand(n, 4) * 20)  # magnitudes far apart: order matters
    with brigade.create(names(), n, "f64", fill=x0) as x:
        got = set()
        for workers, start in [(1, "fork"), (2, "fork"), (3, "fork"), (2, "spawn")]:
            with brigade.Pool(workers=workers, start=start) as p:
                for sched in ("auto", "dynamic", "guided", "static"):
                    got.add(p.reduce_ranges(pk.total, n, [x], schedule=sched).hex())
        assert len(got) == 1, got


def test_kernel_exception(pypool: brigade.Pool) -> None:
    for bad in (0, 54321, 99999):
        with pytest.raises(brigade.KernelError) as ei:
            pypool.for_ranges(pk.fail_at, 100000, args=(bad,), schedule="dynamic", chunk=100)
        e = ei.value
        assert e.begin <= bad < e.end and e.end - e.begin <= 100
        assert 0 <= e.worker < pypool.size and e.code == -4034 and e.kernel == "fail_at"
        assert "ZeroDivisionError: index %d" % bad in e.traceback
        assert 'pykernels.py", line' in e.traceback and "in fail_at" in e.traceback
        assert "fail_at raised over [%d, %d)" % (e.begin, e.end) in str(e)
    pypool.for_ranges(pk.fail_at, 100000, args=(-1,))  # and the pool goes on


def test_submit(pypool: brigade.Pool, names: Any) -> None:
    n = 4000
    with brigade.create(names(), n, "f64", fill=1.5) as x, \
            brigade.create(names(), n, "f64") as out:
        job = pypool.submit(pk.slow_square, n, [x, out], args=(0.02,), schedule="dynamic",
                            chunk=n // 8)
        with pytest.raises(brigade.BrigadeError, match="BRG_EBUSY"):
            pypool.for_ranges(pk.nothing, 10)
        with pytest.raises(brigade.BrigadeError, match="BRG_EBUSY"):
            pypool.submit(pk.nothing, 10)
        job.wait()
        assert job.done and job.result() is None and np.all(out == 2.25)
        job = pypool.submit(pk.squares_exact, 1000, reduce=True)
        assert job.result() == sum(i * i for i in range(1, 1001))
        job = pypool.submit(pk.fail_at, 10, args=(3,))
        assert job.wait()
        with pytest.raises(brigade.KernelError):
            job.result()
        with pytest.raises(brigade.KernelError):
            job.result()  # the same outcome again


def test_python_kernel_refusals(names: Any) -> None:
    with brigade.Pool(workers=2) as p, brigade.create(names(), 10, "f64") as x:
        with pytest.raises(TypeError, match="brigade.Array"):
            p.for_ranges(pk.square, 10, [np.zeros(10), x])
        with pytest.raises(TypeError, match="lambda|pickle"):
            p.for_ranges(lambda b, e: None, 10)
        with pytest.raises(TypeError, match="pickle"):
            p.for_ranges(pk.nothing, 10, args=(threading_lock(),))
        with pytest.raises(ValueError, match="argument block|at most"):
            p.for_ranges(pk.nothing, 10, args=(b"x" * 2000,))
        with pytest.raises(ValueError, match="at most 7"):
            p.for_ranges(pk.nothing, 10, [x] * 8)
        with pytest.raises(ValueError, match="schedule"):
            p.for_ranges(pk.nothing, 10, schedule="sometimes")
        with pytest.raises(ValueError, match="negative"):
            p.for_ranges(pk.nothing, -1)
        with pytest.raises(TypeError, match="callable"):
            p.for_ranges(42, 10)  # type: ignore[arg-type]
        x2 = brigade.open(x.name)
        x2.close()
        with pytest.raises(ValueError, match="closed"):
            p.for_ranges(pk.nothing, 10, [x2])
        # A function the workers cannot find: a clear error from the worker, not a hang.
        with pytest.raises(brigade.KernelError, match="defined_later|AttributeError"):
            p.for_ranges(_defined_after_the_pool(), 100, schedule="dynamic", chunk=1)
    with brigade.Pool(workers=2, start="spawn") as p:
        with pytest.raises(TypeError, match="pickle"):
            p.for_ranges(lambda b, e: None, 10)
        p.for_ranges(pk.nothing, 10)


def threading_lock() -> Any:
    import threading
    return threading.Lock()


def _defined_after_the_pool() -> Any:
    """A module function made after the workers were forked: they do not have it."""
    ns: dict[str, Any] = {}
    # slow enough (1 ms an index) that the workers surely take some of it
    exec("def defined_later(b, e):\n    import time\n    time.sleep(0.001)\n", ns)
    fn = ns["defined_later"]
    fn.__module__ = "pykernels"
    fn.__qualname__ = "defined_later"
    pk.defined_later = fn  # the caller has it now; the workers' copies of pykernels do not
    return fn


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_worker_killed_in_a_job(start: str, names: Any) -> None:
    n = 3000
    with brigade.Pool(workers=3, start=start) as p, \
            brigade.create(names(), n, "i32") as hits, brigade.create(names(), 1, "i32") as flag:
        # Idempotent: the range is run again elsewhere; every index exactly once.
        p.for_ranges(pk.die_once, n, [hits, flag], args=(os.getpid(),), idempotent=True,
                     schedule="dynamic", chunk=10)
        assert flag[0] == 1 and np.all(hits == 1) and p.replaced >= 1
        # Not idempotent: BRG_EWORKERDIED naming the range; every index outside it ran once.
        hits[...] = 0
        flag[0] = 0
        with pytest.raises(brigade.BrigadeError, match="BRG_EWORKERDIED") as ei:
            p.for_ranges(pk.die_once, n, [hits, flag], args=(os.getpid(),),
                         schedule="dynamic", chunk=10)
        m = re.search(r"over \[(\d+), (\d+)\)", str(ei.value))
        assert m, str(ei.value)
        b, e = int(m.group(1)), int(m.group(2))
        assert 0 <= b < e <= n
        assert np.all(hits[:b] == 1) and np.all(hits[e:] == 1) and np.all(hits[b:e] <= 1)
        hits[...] = 0
        p.for_ranges(pk.count, n, [hits])  # the pool lives on
        assert np.all(hits == 1) and len(p.worker_pids()) == 2


KILLER = r"""
import os, signal, sys, time
import brigade
name, kills = sys.argv[1], int(sys.argv[2])
done = 0
while done < kills:
    time.sleep(0.2)
    try:
        st = brigade.status(name)
    except OSError:
        break
    busy = [w["pid"] for w in st["workers"][1:] if w["alive"] and w["state"] == "busy"]
    if busy:
        os.kill(busy[0], signal.SIGKILL)
        done += 1
print(done)
"""


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_killed_from_outside(start: str, names: Any) -> None:
    n = 400
    x0 = np.arange(n, dtype=np.float64)
    with brigade.Pool(workers=3, start=start) as p, \
            brigade.create(names(), n, "f64", fill=x0) as x, \
            brigade.create(names(), n, "f64") as out:
        killer = subprocess.Popen([sys.executable, "-c", KILLER, p.name, "4"],
                                  stdout=subprocess.PIPE, text=True)
        for _ in range(50):
            out[...] = 0
            try:
                p.for_ranges(pk.slow_square, n, [x, out], args=(0.002,), idempotent=True,
                             schedule="dynamic", chunk=5)
            except brigade.BrigadeError as e:
                # Two kills on one range (its retry killed too) stop the job, by design.
                assert e.name == "BRG_ERANGEKILLED" and re.search(r"over \[\d+, \d+\)",
                                                                   str(e)), str(e)
                p.for_ranges(pk.slow_square, n, [x, out], args=(0.002,), idempotent=True)
            assert np.array_equal(out, x0 * x0)
        replaced = p.replaced
        pids = p.worker_pids()
    killed = int(killer.communicate(timeout=60)[0] or 0)  # it ends with the pool
    assert killed >= 1 and replaced >= killed
    for pid in pids:  # the pool's workers are gone with it
        assert not os.path.exists("/proc/%d" % pid) or \
            open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z"


def test_python_pool_leaves_nothing() -> None:
    with brigade.Pool(workers=2) as p:
        p.for_ranges(pk.nothing, 10)
        made = [p.name, p.name + "-py"]  # the control block, the board
        assert all(os.path.exists("/dev/shm/" + n) for n in made)
        pids = p.worker_pids()
    assert not any(os.path.exists("/dev/shm/" + n) for n in made)
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z"


EXIT_WITH_A_JOB = r"""
import sys
import brigade
import pykernels as pk
p = brigade.Pool(workers=2)
x = brigade.create(sys.argv[1], 1000, "f64", fill=1.0)
out = brigade.create(sys.argv[2], 1000, "f64")
p.submit(pk.slow_square, 1000, [x, out], args=(0.001,), schedule="dynamic", chunk=10)
print(p.name)
"""


def test_exit_with_a_job_in_flight(names: Any) -> None:
    """The interpreter exits with a submitted job never waited for: the pool is closed
    (its job finished) before the arrays' handles go."""
    a, b = names(), names()
    r = subprocess.run([sys.executable, "-c", EXIT_WITH_A_JOB, a, b], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                           [os.path.dirname(os.path.abspath(__file__)),
                            os.environ.get("PYTHONPATH", "")])))
    assert r.returncode == 0, r.stderr[-2000:]
    pool = r.stdout.strip()
    assert not os.path.exists("/dev/shm/" + pool) and not os.path.exists(
        "/dev/shm/" + pool + "-py")
    out = brigade.open(b)
    assert np.all(out == 1.0)  # the job ran to its end
    out.close()
    brigade.unlink(a)
    brigade.unlink(b)


def test_fork_workers_are_new_processes(names: Any) -> None:
    """A fork worker runs the interpreter's after-fork steps: random is reseeded."""
    with brigade.Pool(workers=3) as p:
        n = 300
        with brigade.create(names(), n, "f64") as out, brigade.create(names(), n, "i64") as pids:
            p.for_ranges(pk.first_random, n, [out, pids], schedule="dynamic", chunk=1)
            first = {}
            for v, pid in zip(out.tolist(), pids.tolist()):
                first.setdefault(pid, v)
            assert len(set(first.values())) == len(first)


def test_arguments_are_each_jobs_own(names: Any) -> None:
    with brigade.Pool(workers=2) as p, brigade.create(names(), 4, "i64") as out, \
            brigade.create(names(), 4, "i64") as pids:
        p.for_ranges(pk.show_arg, 4, [out], args=(2,))
        assert np.all(out == 2)
        p.for_ranges(pk.show_arg, 4, [out], args=(2.0,))  # equal, but a float
        assert np.all(out == 1)
        for _ in range(3):  # a dict mutated by a job is not the next job's
            p.for_ranges(pk.count_ranges, 4, [out, pids], args=({"n": 0},), schedule="static")
            # each process's first range of the job saw n = 0 (a thief may run a second)
            for pid in set(pids.tolist()):
                assert out[pids == pid].min() == 1, (out, pids)


def test_reduce_ranges_large_n() -> None:
    with brigade.Pool(workers=2) as p:
        for n in (2**53 + 1, 2**60 + 1, 10**17 + 3):
            assert p.reduce_ranges(pk.length, n, block=-(-n // 1000)) == n
        job = p.submit(pk.length, 100, reduce=True, combine=pk.bad_combine)
        for _ in range(2):
            with pytest.raises(RuntimeError, match="combine refuses"):
                job.result()


def test_replacement_with_another_thread_running(names: Any) -> None:
    """A dead worker replaced while another Python thread runs: the new worker can still
    run Python kernels: the fork happened with the GIL held by the forking thread, and the
    other thread's request for it (made within a switch interval) must not follow the worker
    into its first bytecode, where it would wait forever for a thread that is not there."""
    import threading
    stop = threading.Event()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the request is then pending at nearly every fork

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    with brigade.Pool(workers=2) as p, brigade.create(names(), 1 << 16, "f64") as x, \
            brigade.create(names(), 1 << 16, "f64") as y:
        t = threading.Thread(target=spin)
        t.start()
        try:
            os.kill(p.worker_pids()[0], signal.SIGKILL)
            for _ in range(20):
                p.triad(y, x, 1.0, x)  # replaces it
            job = p.submit(pk.nothing, 100, schedule="static")
            if not job.wait(30):
                for pid in p.worker_pids():  # so that closing the pool ends
                    os.kill(pid, signal.SIGKILL)
                pytest.fail("the replaced worker hangs")
            job.result()
            assert p.replaced >= 1
        finally:
            stop.set()
            t.join()
            sys.setswitchinterval(interval)


# ---- atomic counters ----
ADDER = r"""
import sys
import brigade
a = brigade.open(sys.argv[1], write=True)
for _ in range(int(sys.argv[2])):
    brigade.atomic_add(a, 0)
    ok, seen = False, brigade.atomic_load(a, 1)
    while not ok:
        ok, seen = brigade.atomic_cas(a, 1, seen, seen + 3)
"""


def test_atomic_counters(names: Any) -> None:
    with brigade.create(names(), (2, 3), "u64") as u, brigade.create(names(), 4, "i32") as i:
        assert brigade.atomic_add(u, (1, 2), 5) == 0 and u[1, 2] == 5
        assert brigade.atomic_add(u, 5, -6) == 5 and u[1, 2] == 2**64 - 1  # flat index
        assert brigade.atomic_load(u, (1, 2)) == 2**64 - 1
        brigade.atomic_store(u, 0, 2**63 + 1)
        assert u[0, 0] == 2**63 + 1 and brigade.atomic_cas(u, 0, 2**63 + 1, 7) == (True, 2**63 + 1)
        assert brigade.atomic_cas(u, 0, 8, 9) == (False, 7)
        brigade.atomic_store(i, 3, 2**31 - 1)
        assert brigade.atomic_add(i, 3) == 2**31 - 1 and i[3] == -2**31  # wraps at 32 bits
        with pytest.raises(IndexError):
            brigade.atomic_add(i, 4)
        with pytest.raises(OverflowError):
            brigade.atomic_add(i, 0, 2**64)
        r = brigade.open(i.name)
        with pytest.raises(brigade.BrigadeError, match="BRG_EREADONLY"):
            brigade.atomic_add(r, 0)
        assert brigade.atomic_load(r, 3) == -2**31
        r.close()
    with brigade.create(names(), 4, "f64") as f:
        with pytest.raises(brigade.BrigadeError, match="BRG_EDTYPE"):
            brigade.atomic_add(f, 0)
    with pytest.raises(TypeError, match="brigade.Array"):
        brigade.atomic_add(np.zeros(3, np.int64), 0)
    # Processes at once, each attached by name: exact.
    with brigade.create(names(), 2, "i64") as c:
        procs = [subprocess.Popen([sys.executable, "-c", ADDER, c.name, "3000"])
                 for _ in range(3)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
        assert c[0] == 9000 and c[1] == 27000


# ---- locks, events, barriers ----
LOCKER = r"""
import sys, time
import brigade
lk = brigade.Lock(sys.argv[1])
a = brigade.open(sys.argv[2], write=True)
if sys.argv[3] == "die":
    lk.acquire()
    a[0] += 10**6  # half an update: the next holder must repair it
    print("holding", flush=True)
    time.sleep(60)
for _ in range(int(sys.argv[3])):
    with lk:
        if lk.owner_died:
            a[0] -= 10**6
            a[1] += 1
        x = a[0]
        a[0] = x + 1
"""


def test_lock(names: Any) -> None:
    n = names()
    with pytest.raises(FileNotFoundError):
        brigade.Lock(n)
    lk = brigade.Lock(n, create=True)
    with pytest.raises(FileExistsError):
        brigade.Lock(n, create=True)
    other = brigade.Lock(n)
    assert lk.acquire() and lk.holder == os.getpid() and not lk.owner_died
    with pytest.raises(RuntimeError, match="already held"):
        other.acquire(timeout=0.01)
    lk.release()
    with pytest.raises(RuntimeError, match="does not hold"):
        lk.release()
    assert other.acquire(timeout=1) and other.holder == os.getpid()
    other.close()  # closing a held handle frees the lock
    assert lk.acquire(block=False)
    lk.release()
    assert pickle.loads(pickle.dumps(lk)).name == n
    with pytest.raises(brigade.BrigadeError, match="BRG_EWRONGKIND"):
        brigade.Event(n)
    with pytest.raises(brigade.BrigadeError, match="BRG_ENOTARRAY"):
        brigade.open(n)
    assert [s["kind"] for s in brigade.ls() if s["name"] == n] == ["lock"]
    # Another process holds it, then dies half-way through an update: the next acquirer is
    # told and repairs it, and the counting processes lose nothing.
    with brigade.create(names(), 2, "i64") as c:
        killer = subprocess.Popen([sys.executable, "-c", LOCKER, n, c.name, "die"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert killer.stdout is not None and killer.stdout.readline() == "holding\n"
            assert lk.holder == killer.pid
            assert not lk.acquire(timeout=0.05)
        finally:
            killer.kill()
            killer.wait()
        procs = [subprocess.Popen([sys.executable, "-c", LOCKER, n, c.name, "2000"])
                 for _ in range(3)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
        assert c[0] == 6000 and c[1] == 1
        with pytest.raises(brigade.OwnerDiedError):  # strict: told by an exception
            killer = subprocess.Popen([sys.executable, "-c", LOCKER, n, c.name, "die"],
                                      stdout=subprocess.PIPE, text=True)
            assert killer.stdout is not None and killer.stdout.readline() == "holding\n"
            killer.kill()
            killer.wait()
            lk.acquire(strict=True)
        assert lk.holder == os.getpid()
        lk.release()
    lk.close()
    with pytest.raises(ValueError, match="closed"):
        lk.acquire()


def test_event(names: Any) -> None:
    n = names()
    with brigade.Event(n, create=True) as e, brigade.Event(n) as o:
        assert not o.is_set() and not o.wait(0) and not o.wait(0.02)
        waiter = subprocess.Popen([sys.executable, "-c",
                                   "import sys, brigade; "
                                   "sys.exit(0 if brigade.Event(sys.argv[1]).wait(60) else 3)",
                                   n])
        time.sleep(0.2)
        assert waiter.poll() is None
        e.set()
        assert waiter.wait(timeout=60) == 0
        assert o.is_set() and o.wait()
        o.clear()
        assert not e.is_set()
    m = names()
    with brigade.Event(m, create=True, set=True) as s:
        assert s.is_set()


BARRIER = r"""
import sys, os, signal
import brigade
b = brigade.Barrier(sys.argv[1])
for r in range(int(sys.argv[2])):
    if r == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
    try:
        b.wait(60)
    except brigade.BrokenBarrierError:
        sys.exit(5)
"""


def test_barrier(names: Any) -> None:
    n = names()
    with pytest.raises(TypeError, match="parties"):
        brigade.Barrier(n, create=True)
    with brigade.Barrier(n, 3, create=True) as b:
        assert b.parties == 3
        kids = [subprocess.Popen([sys.executable, "-c", BARRIER, n, "20", "-1"])
                for _ in range(2)]
        places = [b.wait(60) for _ in range(20)]
        assert [k.wait(timeout=120) for k in kids] == [0, 0]
        assert all(0 <= p < 3 for p in places)
        # A party killed before its second round: the others are told, nobody hangs.
        kids = [subprocess.Popen([sys.executable, "-c", BARRIER, n, "3", str(r)])
                for r in (1, -1)]
        b.wait(60)
        with pytest.raises(brigade.BrokenBarrierError):
            b.wait(60)
        assert sorted(k.wait(timeout=120) for k in kids) == [-signal.SIGKILL, 5]
        with pytest.raises(brigade.BrokenBarrierError):
            b.wait(0)
        b.reset()
        # A timeout breaks it: TimeoutError here, BrokenBarrierError for the other.
        kid = subprocess.Popen([sys.executable, "-c", BARRIER, n, "1", "-1"])
        with pytest.raises(TimeoutError):
            b.wait(0.2)
        assert kid.wait(timeout=120) == 5
        b.reset()


INTERRUPTED = r"""
import sys
import brigade
b = brigade.Barrier(sys.argv[1])
print("waiting", flush=True)
try:
    b.wait()  # no timeout: only Ctrl-C ends it
except KeyboardInterrupt:
    sys.exit(7)
"""


LATE = r"""
import sys, time
import brigade
b = brigade.Barrier(sys.argv[1])
print("open", flush=True)
time.sleep(float(sys.argv[2]))
print(b.wait(60), flush=True)
"""


def test_barrier_wait_in_slices(names: Any) -> None:
    """In the main thread a long wait runs in slices of 0.2 s, arrived once in its round
    throughout: a party that comes after several slices completes it, second."""
    n = names()
    with brigade.Barrier(n, 2, create=True) as b:
        for timeout in (None, 60):
            kid = subprocess.Popen([sys.executable, "-c", LATE, n, "0.7"],
                                   stdout=subprocess.PIPE, text=True)
            assert kid.stdout is not None and kid.stdout.readline() == "open\n"
            assert b.wait(timeout) == 0
            assert kid.stdout.readline() == "1\n" and kid.wait(timeout=60) == 0
            kid.stdout.close()
        # A reset between slices (here from a signal handler) breaks the round for this
        # wait too, as for any waiter.
        old = signal.signal(signal.SIGALRM, lambda *_: b.reset())
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            with pytest.raises(brigade.BrokenBarrierError):
                b.wait()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        # A timeout longer than a slice still breaks the round when it passes.
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            b.wait(0.5)
        assert time.monotonic() - t0 >= 0.5
        with pytest.raises(brigade.BrokenBarrierError):
            b.wait(0)
        b.reset()


def test_barrier_wait_interrupted(names: Any) -> None:
    """Ctrl-C ends a wait with no timeout; the round's other waiters are told; the barrier is
    whole again."""
    n = names()
    with brigade.Barrier(n, 3, create=True) as b:
        kid = subprocess.Popen([sys.executable, "-c", INTERRUPTED, n], stdout=subprocess.PIPE,
                               text=True)
        assert kid.stdout is not None and kid.stdout.readline() == "waiting\n"
        told: list[BaseException] = []

        def other() -> None:  # not the main thread: the C wait, as it is
            try:
                b.wait(60)
            except BaseException as e:  # noqa: B036
                told.append(e)
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)  # both in their wait
        kid.send_signal(signal.SIGINT)
        try:
            assert kid.wait(timeout=20) == 7
        finally:
            if kid.poll() is None:
                kid.kill()
                b.reset()  # the other waiter, then
        t.join(30)
        assert not t.is_alive() and [type(e) for e in told] == [brigade.BrokenBarrierError]
        kids = [subprocess.Popen([sys.executable, "-c", BARRIER, n, "1", "-1"])
                for _ in range(2)]
        assert 0 <= b.wait(60) < 3
        assert [k.wait(timeout=120) for k in kids] == [0, 0]


# ---- streams ----
CONSUMER = r"""
import sys, os, signal
import numpy as np
import brigade
s = brigade.Stream(sys.argv[1])
out = brigade.open(sys.argv[2], write=True)
if sys.argv[3] == "die":
    f = s.receive(60)
    print(f.seq, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
for f in s:
    v = int(f.array[0])
    if v < 0:
        break
    assert (f.array == v).all(), "a torn frame"
    brigade.atomic_add(out, v)
"""


def test_stream_queue(names: Any) -> None:
    n, seen = names(), names()
    with brigade.Stream(n, "i64", 8, slots=4, create=True) as s, \
            brigade.create(seen, 64, "i64") as out:
        assert s.ring.shape == (4, 8) and brigade.info(n)["kind"] == "array"
        assert brigade.info(n + ".stream")["kind"] == "stream"
        with pytest.raises(TimeoutError):
            s.receive(0)
        # A consumer killed holding a frame: the frame is received again by another.
        assert s.send(np.full(8, 5)) == 1
        victim = subprocess.Popen([sys.executable, "-c", CONSUMER, n, seen, "die"],
                                  stdout=subprocess.PIPE, text=True)
        assert victim.stdout is not None and victim.stdout.readline() == "1\n"
        victim.wait()
        kids = [subprocess.Popen([sys.executable, "-c", CONSUMER, n, seen, "-"])
                for _ in range(2)]
        for v in range(6, 64):
            with s.loan(30) as f:  # written in place, published at the end of the block
                f.array[:] = v
        for _ in kids:
            s.send(np.full(8, -1))
        assert [k.wait(timeout=120) for k in kids] == [0, 0]
        assert out[5:].tolist() == [1] * 59 and not out[:5].any()  # each frame once
        with pytest.raises(ValueError):
            with s.loan(0) as f:
                raise ValueError("a write that failed: the loan goes back unpublished")
        with pytest.raises(TimeoutError):
            s.receive(0)
        with pytest.raises(OSError):
            brigade.Stream(n, subscribe=True)  # a queue has no subscribers
    brigade.unlink_stream(n)
    with pytest.raises(FileNotFoundError):
        brigade.Stream(n)
    with pytest.raises(OSError):  # a queue made to subscribe to: nothing is left of it
        brigade.Stream(n, "u8", 4, create=True, subscribe=True)
    with pytest.raises(FileNotFoundError):
        brigade.info(n)


def test_stream_broadcast(names: Any) -> None:
    n = names()
    with brigade.Stream(n, "f32", (2, 3), slots=4, create=True, mode="broadcast") as p, \
            brigade.Stream(n, subscribe=True) as a, brigade.Stream(n, subscribe=True) as b:
        for i in range(3):
            p.send(np.full((2, 3), i))
        for sub in (a, b):
            got = []
            for f in sub:
                got.append((f.seq, float(f.array[1, 2]), f.lost))
                assert not f.array.flags.writeable
                if len(got) == 3:
                    break
            assert got == [(1, 0.0, 0), (2, 1.0, 0), (3, 2.0, 0)]
        with pytest.raises(TimeoutError):
            a.receive(0)
    brigade.unlink_stream(n)
    m = names()
    with brigade.Stream(m, "u8", 16, slots=2, create=True, mode="broadcast",
                        policy="overwrite") as p, brigade.Stream(m, subscribe=True) as a:
        for i in range(10):
            p.send(np.full(16, i))  # never waits: the oldest unread frame is reused
        f = a.receive(0)
        assert (f.seq, f.lost, int(f.array[0])) == (9, 8, 8)
        a.release(f)
    brigade.unlink_stream(m)


def test_stream_status(names: Any) -> None:
    n, m = names(), names()
    me = os.getpid()
    with brigade.Stream(n, "f64", 8, slots=4, create=True) as p, brigade.Stream(n) as c:
        for i in range(3):
            p.send(np.full(8, i))
        st = brigade.stream_status(n)
        assert (st["mode"], st["free"], st["ready"], st["consumers"]) == ("queue", 1, 3, [])
        f = c.receive(0)  # a consumer is listed once it has received
        st = brigade.status(n + ".stream")
        assert st["name"] == n and (st["ready"], st["held"], st["published"]) == (2, 1, 3)
        assert st["consumers"] == [{"pid": me, "alive": True, "lag": 2, "reading": 1}]
        c.release(f)
        r = _cli("status", n)
        d = json.loads(r.stdout)
        assert r.returncode == 0 and d["consumers"][0]["reading"] == 0, r.stderr
        assert d["frames_per_s"] == 0.0 and d["kind"] == "stream"
    brigade.unlink_stream(n)
    with brigade.Stream(m, "u8", 4, slots=2, create=True, mode="broadcast") as p, \
            brigade.Stream(m, subscribe=True) as a:
        p.send(np.zeros(4))
        st = brigade.status(m)
        assert st["subscribers"] == [{"pid": me, "alive": True, "lag": 1, "reading": 0}]
    brigade.unlink_stream(m)
    with pytest.raises(FileNotFoundError):
        brigade.stream_status(m)


# ---- python3 -m brigade ----
def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "brigade", *args], capture_output=True,
                          text=True, timeout=30)


def test_cli(names: Any) -> None:
    n = names()
    with brigade.create(n, (2, 3), "f32"), brigade.Pool(workers=2) as p:
        r = _cli("ls")
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)
        assert [x for x in rows if x["name"] == n] == [brigade.info(n)]
        assert any(x["name"] == p.name and x["kind"] == "pool" for x in rows)
        r = _cli("info", n)
        assert r.returncode == 0 and json.loads(r.stdout)["shape"] == [2, 3]
        r = _cli("status", p.name)
        st = json.loads(r.stdout)
        assert r.returncode == 0 and st["participants"] == 2 and len(st["workers"]) == 2
        r = _cli("info", n + "-missing")
        assert r.returncode == 1 and "No such file" in r.stderr
    brigade.unlink(n)
    # gc: a segment whose creator exited goes; a live one's and a persistent one stay.
    dead = names()
    subprocess.run([sys.executable, "-c", "import brigade; brigade.create(%r, 4, 'f32')" % dead],
                   check=True, timeout=30)
    live = names()
    with brigade.create(live, 4, "f32"):
        r = _cli("gc", "--dry-run")
        assert r.returncode == 0 and [x["name"] for x in json.loads(r.stdout)
                                      if x["name"].startswith(PREFIX)] == [dead]
        assert os.path.exists("/dev/shm/" + dead)
        r = _cli("gc")
        assert r.returncode == 0 and dead in [x["name"] for x in json.loads(r.stdout)]
        assert not os.path.exists("/dev/shm/" + dead) and os.path.exists("/dev/shm/" + live)
        assert live not in [x["name"] for x in brigade.gc(dry_run=True)]
    brigade.unlink(live)
