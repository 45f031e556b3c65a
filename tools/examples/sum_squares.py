#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sum_squares.py - the sum of squares 1^2 + 2^2 + ... + n^2 in parallel: brigade beside
multiprocessing and a single process, in one run, on the same blocks.

Two problems:

exact integers (``--n``, default 10^7)
    The answer, 333333383333335000000 for n = 10^7, does not fit in 64 bits.  Every method
    cuts its range into sub-blocks small enough that a numpy int64 dot product of the
    sub-block with itself cannot overflow (``sub * hi**2 < 2**63``), and adds the dot
    products as Python ints, so each result is exact: single process (one call over
    [1, n]), multiprocessing (``Pool.map`` over blocks, each task returning its exact
    partial) and brigade (``Pool.reduce_ranges``, the partials folded by the caller).
float64 (``--float-n``, default 10^8, 800 MB; 0 skips it)
    x = 1, 2, ..., n as float64.  Single process: ``np.dot(x, x)`` on a private array.
    multiprocessing: the best recipe, x in a ``multiprocessing.shared_memory.SharedMemory``
    that each worker maps once (its pool initializer) and ``Pool.map`` of
    ``np.dot(x[lo:hi], x[lo:hi])`` over blocks.  brigade: x in a brigade segment
    (`brigade.create`) and ``reduce_ranges`` over the same blocks; also the library's own C
    kernel, ``Pool.sumsq``.  The result is compared with the closed form
    n (n + 1) (2n + 1) / 6 rounded once to float64; a relative difference above 1e-10 is
    wrong (rounding alone gives some 1e-13 here, a lost or doubled block far more than
    1e-10).

Fairness:

- Both pools have ``--workers`` processes at work: a brigade pool of N is the caller and
  N - 1 workers, a multiprocessing pool of N is N workers while the caller waits.
- Both see the same blocks: [0, n) cut into 256 (brigade's default), handed out about four
  ranges per process (brigade's "auto"; multiprocessing's chunksize chosen to match).  The
  partials are folded in block order, so the two float results have the same bits.
- Startup (creating the pool) is timed apart; the times compared are each method's best of
  ``--repeat`` calls on a started pool.  Filling the arrays is not timed.
- numpy's BLAS is held to one thread per process (``OPENBLAS_NUM_THREADS=1`` unless set):
  OpenBLAS's ddot threads by itself, which would make the baseline use every core and the
  workers of the parallel methods start threads on each other's cores.
- The methods run one after the other, each pool closed before the next starts: while a
  brigade pool is alive its caller is bound to one core, and a process forked from it then
  (multiprocessing's workers) would inherit that binding.

Prints each method's time, its ratio to the single process and to multiprocessing
(``single/this``: how many times faster than the single process), and whether its result
is right; ``--json`` prints the same as one JSON object.  Exits 1 when a result is wrong, 2
when the float64 array does not fit (MemAvailable below 4x its bytes, or /dev/shm below 2x).

Run from a build tree::

    PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
        python3 tools/examples/sum_squares.py --workers 2
"""

from __future__ import annotations

import os

# Before numpy is imported, so that it holds in this process and in every worker.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import shared_memory  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

import brigade  # noqa: E402

INT64_MAX = 2**63 - 1
SUB_MAX = 1 << 15  # 256 KiB of int64 a dot product: in cache, and numpy's call cost spread thin
BLOCKS = 256  # brigade's default number of reduction blocks
FLOAT_RTOL = 1e-10

# ---- kernels: top level, so that workers find them by module and name (fork and spawn) ----


def int_partial(lo: int, hi: int, sub: int) -> int:
    """Exact sum of i*i for the integers i in (lo, hi]: int64 dot products of at most sub
    values each, which cannot overflow, added as Python ints."""
    total = 0
    for k in range(lo, hi, sub):
        v = np.arange(k + 1, min(hi, k + sub) + 1, dtype=np.int64)
        total += int(np.dot(v, v))
    return total


def float_partial(lo: int, hi: int, x: np.ndarray) -> float:
    """Sum of squares of x[lo:hi]."""
    return float(np.dot(x[lo:hi], x[lo:hi]))


def mp_int_task(task: tuple[int, int, int]) -> int:
    return int_partial(*task)


_mp_shm: shared_memory.SharedMemory | None = None
_mp_x: np.ndarray | None = None


def mp_attach(name: str | None, n: int) -> None:
    """multiprocessing's pool initializer: maps the float64 array once per worker."""
    global _mp_shm, _mp_x
    mp_worker_init()
    if name is not None:
        _mp_shm = shared_memory.SharedMemory(name=name)
        _mp_x = np.ndarray((n,), np.float64, buffer=_mp_shm.buf)


def mp_float_task(task: tuple[int, int]) -> float:
    assert _mp_x is not None
    return float_partial(task[0], task[1], _mp_x)


# ---- the caller ----


def sum_squares(n: int) -> int:
    """1^2 + ... + n^2, the closed form."""
    return n * (n + 1) * (2 * n + 1) // 6


def sub_block(n: int) -> int:
    """The longest sub-block whose int64 dot product stays below 2^63 for values up to n."""
    return max(1, min(SUB_MAX, INT64_MAX // (n * n)))


def blocks(n: int) -> tuple[int, list[tuple[int, int]]]:
    """reduce_ranges' default block length for [0, n), and the blocks."""
    block = max(1, math.ceil(n / BLOCKS))
    return block, [(lo, min(n, lo + block)) for lo in range(0, n, block)]


def best_of(repeat: int, fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """The shortest of repeat calls, in seconds, and the last call's value."""
    best, value = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, value


def mem_available() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 when it cannot be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def fold(parts: list[Any]) -> Any:
    """Partials folded in block order, as reduce_ranges folds them."""
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def remove_segment(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        brigade.unlink(name)


def remove_shm(name: str, made: list[shared_memory.SharedMemory]) -> None:
    """Unlinks multiprocessing's segment: the object made, else by name (made but the
    interrupt came before the object was kept)."""
    with contextlib.suppress(FileNotFoundError):
        shm = made[0] if made else shared_memory.SharedMemory(name=name)
        shm.unlink()  # first: close refuses while a view of the buffer lives
        with contextlib.suppress(BufferError):
            shm.close()


def interruption(e: BaseException) -> str | None:
    """"interrupted" or "terminated" when e comes from Ctrl-C or SIGTERM, else None.

    In a Python kernel (the caller runs its share too) the KeyboardInterrupt is caught and
    comes back as the job's `brigade.KernelError`, with the worker's traceback.
    """
    if isinstance(e, Terminated):
        return "terminated"
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    if isinstance(e, brigade.KernelError):
        last = (e.traceback.strip().splitlines()[-1:] or [""])[0].split(":")[0]
        if last.endswith("Terminated"):
            return "terminated"
        if last.endswith("KeyboardInterrupt"):
            return "interrupted"
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the caller so that the same cleanup runs as for Ctrl-C."""


def on_sigterm(main_pid: int) -> None:
    """SIGTERM to this process: Ctrl-C's cleanup.  multiprocessing's workers get a SIGINT
    first, so that they unwind as on Ctrl-C: one killed while it writes a result to its pipe
    would keep the pipe's lock, and ``Pool.terminate`` would wait for it for ever."""
    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:  # a forked worker: die as if no handler were set
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        for child in multiprocessing.active_children():
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGINT)
        raise Terminated()
    signal.signal(signal.SIGTERM, handler)


def mp_worker_init() -> None:
    """In multiprocessing's workers: SIGINT raises KeyboardInterrupt (even where the
    caller was started with it ignored) and SIGTERM kills."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run(opts: argparse.Namespace) -> dict[str, Any]:
    pid = os.getpid()
    n, fn, workers, repeat = opts.n, opts.float_n, opts.workers, opts.repeat
    sub = sub_block(n)
    iblock, iranges = blocks(n)
    fblock, franges = blocks(fn)
    tasks_per_proc = 4
    ichunk = max(1, math.ceil(len(iranges) / (tasks_per_proc * workers)))
    fchunk = max(1, math.ceil(len(franges) / (tasks_per_proc * workers))) if fn else 0
    exact = sum_squares(n)
    fref = float(sum_squares(fn))
    res: dict[str, Any] = {
        "workers": workers, "start": opts.start, "bind": opts.bind, "repeat": repeat,
        "cpus": os.cpu_count(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "int": {"n": n, "exact": exact, "sub_block": sub, "block": iblock,
                "blocks": len(iranges), "methods": {}},
        "float": None,
    }
    im = res["int"]["methods"]
    fm: dict[str, Any] = {}
    if fn:
        res["float"] = {"n": fn, "bytes": 8 * fn, "reference": fref, "rtol": FLOAT_RTOL,
                        "block": fblock, "blocks": len(franges), "methods": fm}

    def int_entry(t: float, value: int, **extra: Any) -> dict[str, Any]:
        return {"time_s": t, "result": value, "ok": value == exact, **extra}

    def float_entry(t: float, value: float, **extra: Any) -> dict[str, Any]:
        rel = abs(value - fref) / fref
        return {"time_s": t, "result": value, "rel_diff": rel, "ok": rel <= FLOAT_RTOL,
                **extra}

    with contextlib.ExitStack() as stack:
        base = None
        shm = bx = None
        if fn:
            base = np.arange(1, fn + 1, dtype=np.float64)
            # Each removal is set up before its segment is made: an interrupt that lands
            # between the two must not leave it behind.
            made: list[shared_memory.SharedMemory] = []
            stack.callback(remove_shm, "sumsq-%d-mp" % pid, made)
            shm = shared_memory.SharedMemory(name="sumsq-%d-mp" % pid, create=True,
                                             size=base.nbytes)
            made.append(shm)
            view = np.ndarray(base.shape, base.dtype, buffer=shm.buf)
            view[...] = base
            del view  # shm.close() refuses while a view of its buffer lives
            bname = "sumsq-%d-brigade" % pid
            stack.callback(remove_segment, bname)
            bx = brigade.create(bname, fn, "f64")
            stack.callback(bx.close)
            bx[...] = base

        # single process
        t, v = best_of(repeat, int_partial, 0, n, sub)
        im["single"] = int_entry(t, v)
        if fn:
            t, v = best_of(repeat, lambda: float(np.dot(base, base)))
            fm["single"] = float_entry(t, v)
        base = None  # only the shared copies are needed from here on

        # multiprocessing
        ctx = multiprocessing.get_context(opts.start)
        t0 = time.perf_counter()
        with ctx.Pool(workers, initializer=mp_attach,
                      initargs=(shm.name if shm is not None else None, fn)) as mp:
            mp.map(mp_int_task, [(0, 1, 1)] * workers, 1)  # a first job, as for brigade
            startup = time.perf_counter() - t0
            tasks = [(lo, hi, sub) for lo, hi in iranges]
            t, v = best_of(repeat, lambda: fold(mp.map(mp_int_task, tasks, ichunk)))
            im["multiprocessing"] = int_entry(t, v, startup_s=startup, chunksize=ichunk)
            if fn:
                t, v = best_of(repeat, lambda: fold(mp.map(mp_float_task, franges, fchunk)))
                fm["multiprocessing"] = float_entry(t, v, startup_s=startup, chunksize=fchunk)

        # brigade
        t0 = time.perf_counter()
        with brigade.Pool(workers, start=opts.start, bind=opts.bind) as pool:
            pool.reduce_ranges(int_partial, workers, (), (1,), block=1)  # a first job
            startup = time.perf_counter() - t0
            t, v = best_of(repeat, pool.reduce_ranges, int_partial, n, (), (sub,))
            im["brigade"] = int_entry(t, v, startup_s=startup)
            if fn:
                t, v = best_of(repeat, pool.reduce_ranges, float_partial, fn, [bx])
                fm["brigade"] = float_entry(t, v, startup_s=startup)
                t, v = best_of(repeat, pool.sumsq, bx)
                fm["brigade-sumsq"] = float_entry(t, v, startup_s=startup)

    for part in (res["int"], res["float"]):
        if part is None:
            continue
        ms = part["methods"]
        for m in ms.values():
            m["single/this"] = ms["single"]["time_s"] / m["time_s"]
            m["mp/this"] = ms["multiprocessing"]["time_s"] / m["time_s"]
    if fn:
        res["float"]["brigade_equals_mp"] = fm["brigade"]["result"] == \
            fm["multiprocessing"]["result"]
    res["ok"] = all(m["ok"] for part in (res["int"], res["float"]) if part
                    for m in part["methods"].values())
    return res


def report(res: dict[str, Any]) -> None:
    print("sum of squares: %d workers (%s, brigade bound %s), %d cpus, best of %d"
          % (res["workers"], res["start"], res["bind"], res["cpus"], res["repeat"]))
    i = res["int"]
    print("\nexact integers 1..%d: %d  (sub-blocks of %d, %d blocks)"
          % (i["n"], i["exact"], i["sub_block"], i["blocks"]))
    head = "  %-22s %9s %10s %12s %8s  %s" % ("method", "startup s", "time s", "single/this",
                                              "mp/this", "result")
    print(head)
    for name, m in i["methods"].items():
        print("  %-22s %9s %10.4f %12.2f %8.2f  %s" % (
            name, "%.3f" % m["startup_s"] if "startup_s" in m else "-", m["time_s"],
            m["single/this"], m["mp/this"],
            "exact" if m["ok"] else "WRONG: %d" % m["result"]))
    f = res["float"]
    if f is None:
        return
    print("\nfloat64 1..%d (%d MB): reference %.17g, blocks of %d"
          % (f["n"], f["bytes"] // 10**6, f["reference"], f["block"]))
    print(head)
    for name, m in f["methods"].items():
        print("  %-22s %9s %10.4f %12.2f %8.2f  %.17g rel. diff %.1e%s" % (
            name, "%.3f" % m["startup_s"] if "startup_s" in m else "-", m["time_s"],
            m["single/this"], m["mp/this"], m["result"], m["rel_diff"],
            "" if m["ok"] else " WRONG"))
    print("  brigade and multiprocessing give the same bits: %s"
          % ("yes" if f["brigade_equals_mp"] else "no"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes at work in each pool (default: %(default)s)")
    ap.add_argument("--n", type=integer, default=10**7,
                    help="exact integers: 1..N (default: 10**7)")
    ap.add_argument("--float-n", type=integer, default=10**8,
                    help="float64: an array of N elements, 8 N bytes (default: 10**8; "
                         "0: skip)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R calls (default: 3)")
    ap.add_argument("--start", choices=("fork", "spawn"), default="fork",
                    help="how both pools start their workers (default: fork)")
    ap.add_argument("--bind", choices=("compact", "scatter", "none"), default="compact",
                    help="how the brigade pool binds its processes to cores (default: "
                         "compact)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    opts = ap.parse_args(argv)
    if opts.workers < 1 or opts.repeat < 1:
        ap.error("--workers and --repeat must be at least 1")
    if not 1 <= opts.n <= math.isqrt(INT64_MAX):
        ap.error("--n must be in 1..%d (a square must fit in int64)" % math.isqrt(INT64_MAX))
    if not 0 <= opts.float_n < 2**53:
        ap.error("--float-n must be in 0..2**53 - 1")
    nbytes = 8 * opts.float_n
    if nbytes:
        avail = mem_available()
        if avail < 4 * nbytes:
            print("sum_squares: the float64 part needs %d MB (three copies of the array and "
                  "room); MemAvailable is %d MB, under 4x the array's %d MB: use a smaller "
                  "--float-n, or 0" % (3 * nbytes >> 20, avail >> 20, nbytes >> 20),
                  file=sys.stderr)
            return 2
        shm_free = shutil.disk_usage("/dev/shm").free
        if shm_free < 2 * nbytes:
            print("sum_squares: /dev/shm has %d MB free; the float64 part puts two arrays of "
                  "%d MB there: use a smaller --float-n, or 0"
                  % (shm_free >> 20, nbytes >> 20), file=sys.stderr)
            return 2
    on_sigterm(os.getpid())
    try:
        res = run(opts)
    except (KeyboardInterrupt, brigade.KernelError) as e:
        why = interruption(e)
        if why is None:
            raise
        print("sum_squares: %s; segments removed" % why, file=sys.stderr)
        return 130
    if opts.json:
        print(json.dumps(res, indent=1))
    else:
        report(res)
    return 0 if res["ok"] else 1


def integer(text: str) -> int:
    """An integer written as 10000000, 10**7, 1e7 or 10_000_000."""
    text = text.strip()
    if "**" in text:
        b, e = text.split("**", 1)
        return int(b) ** int(e)
    if "e" in text.lower():
        v = float(text)
        if v != int(v):
            raise ValueError(text)
        return int(v)
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
