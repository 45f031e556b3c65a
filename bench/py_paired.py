# SPDX-License-Identifier: MIT
"""py_paired.py - Python kernels in brigade's pool against the seeds' best recipe
(multiprocessing.Pool + SharedMemory + numpy on slices) and Pool.map over pickled slices,
in paired turns: each turn times one call of each side, one after the other (each side first
in turn), so a spell of load on the machine falls on all; the ratio is the median of the turns'
ratios.  The pickling side, 100x slower, takes part in every turn up to 16 MiB arrays and in
one turn of five above.

The kernels are bench/peers.py's (the same numpy on each range on every side): triad
a = b + s c (for_ranges, static: one range per participant, as the Pools' map of one range
per worker) and the sum of squares of b (reduce_ranges over 32 fixed blocks, the same bits at
any worker count; the Pools sum one partial per worker).

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build-release/engine/libbrigade.so.1 \\
       /usr/bin/python3 bench/py_paired.py [--workers 1,2] [--sizes 4M,128M] [--turns 15]
"""
import os

# One OpenBLAS thread in every process, as `brigade bench` gives its Python peers (each worker
# is one core): set before numpy is imported, which is when OpenBLAS reads it.  More would
# leave each side's BLAS threads spinning (some 0.1 s after a call) into the next side's turn.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import shared_memory  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brigade  # noqa: E402
import peers  # noqa: E402


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(workers, n, turns):
    parts = peers.ranges(n, workers)
    avail = int(open("/proc/meminfo").read().split("MemAvailable:")[1].split()[0]) << 10
    if 12 * n * 8 > avail // 2:
        raise SystemExit("py_paired: %d elements need %d MiB; %d MiB available"
                         % (n, 12 * n * 8 >> 20, avail >> 20))
    blocks, arrays = [], []
    try:
        for _ in "abc":
            blocks.append(shared_memory.SharedMemory(create=True, size=n * 8))
        # The Pools first: while a brigade pool lives its caller is pinned to one core, and
        # so would be the processes it starts.
        with mp.Pool(workers, initializer=peers.shm_attach,
                     initargs=([b.name for b in blocks], n)) as shm_pool, \
                mp.Pool(workers) as pk_pool, \
                brigade.Pool(workers=workers, bind="compact") as pool:
            for name in "abc":
                arrays.append(brigade.create("brg-paired-%d-%s" % (os.getpid(), name), n,
                                             "f64"))
            a, b, c = arrays
            pool.for_ranges(peers.fn_init, n, [a, b, c], schedule="static")
            shm_pool.map(peers.sh_init, parts, chunksize=1)
            pb, pc = np.array(b), np.array(c)  # the pickling side's own copies
            block = -(-n // 32)
            every = 1 if n * 8 <= 16 << 20 else 5
            sides = {
                "triad": {
                    "brigade": lambda: pool.for_ranges(peers.fn_triad, n, [a, b, c],
                                                       schedule="static"),
                    "shm": lambda: shm_pool.map(peers.sh_triad, parts, chunksize=1),
                    "pickle": lambda: np.concatenate(pk_pool.map(
                        peers.pk_triad, [(pb[lo:hi], pc[lo:hi], peers.SCALAR)
                                         for lo, hi in parts], chunksize=1)),
                },
                "sumsq": {
                    "brigade": lambda: pool.reduce_ranges(peers.fn_sumsq, n, [b], block=block),
                    "shm": lambda: sum(shm_pool.map(peers.sh_sumsq, parts, chunksize=1)),
                    "pickle": lambda: sum(pk_pool.map(peers.pk_sumsq,
                                                      [pb[lo:hi] for lo, hi in parts],
                                                      chunksize=1)),
                },
            }
            out = {}
            for kernel, fns in sides.items():
                for f in fns.values():
                    f()  # warm-up
                t = {side: [] for side in fns}
                order = list(fns)
                for k in range(turns):
                    # Each side first in turn, so that none always follows the same other
                    # (the pickling side leaves the caches full of its copies).
                    for side in order[k % 3:] + order[:k % 3]:
                        if side == "pickle" and k % every:
                            continue  # 100x slower: at large sizes, one turn in five
                        t[side].append(timed(fns[side]))
                shm_ratio = statistics.median(s / m for s, m in zip(t["shm"], t["brigade"]))
                pk_ratio = statistics.median(p / t["brigade"][every * i]
                                             for i, p in enumerate(t["pickle"]))
                out[kernel] = dict(brigade_ms=1e3 * statistics.median(t["brigade"]),
                                   shm_ms=1e3 * statistics.median(t["shm"]),
                                   pickle_ms=1e3 * statistics.median(t["pickle"]),
                                   shm_over_brigade=shm_ratio, pickle_over_brigade=pk_ratio)
                print("%d workers, %s MiB arrays, %-5s brigade %.3f ms, shm %.3f ms, pickle "
                      "%.2f ms: brigade is %.2fx the shm recipe, %.0fx pickle"
                      % (workers, n * 8 >> 20, kernel, out[kernel]["brigade_ms"],
                         out[kernel]["shm_ms"], out[kernel]["pickle_ms"], shm_ratio, pk_ratio),
                      flush=True)
            return out
    finally:
        for x in arrays:
            x.close()
            brigade.unlink(x.name)
        for blk in blocks:
            blk.close()
            blk.unlink()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--sizes", default="4M,128M", help="bytes per array")
    ap.add_argument("--turns", type=int, default=15)
    args = ap.parse_args()
    res = {}
    for size in args.sizes.split(","):
        for w in (int(x) for x in args.workers.split(",")):
            res["%s/%d" % (size, w)] = run(w, parse_size(size) // 8, args.turns)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
