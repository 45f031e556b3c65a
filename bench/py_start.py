# SPDX-License-Identifier: MIT
"""py_start.py - how long a 2-worker Python pool takes to be ready, brigade's against
multiprocessing's, with the same start method, in alternating turns.

brigade.Pool(N) returns with its workers ready (attached, pinned, idle); multiprocessing's
Pool(N) returns once it started them, so it is timed to the end of a first apply() of a
no-op, when a worker has surely run something.  Closing is not timed.

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
       /usr/bin/python3 bench/py_start.py [--workers N] [--turns T]
"""
import argparse
import json
import multiprocessing as mp
import statistics
import time

import brigade


def noop():
    return None


def brigade_ready(workers, start):
    t0 = time.perf_counter()
    p = brigade.Pool(workers=workers, start=start)
    t = time.perf_counter() - t0
    p.close()
    return t


def mp_ready(workers, start):
    t0 = time.perf_counter()
    p = mp.get_context(start).Pool(workers)
    p.apply(noop)
    t = time.perf_counter() - t0
    p.terminate()
    p.join()
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--turns", type=int, default=15)
    args = ap.parse_args()
    out = {}
    for start in ("fork", "spawn"):
        b, m = [], []
        brigade_ready(args.workers, start)  # warm-up: imports, page cache
        mp_ready(args.workers, start)
        for _ in range(args.turns):
            b.append(brigade_ready(args.workers, start))
            m.append(mp_ready(args.workers, start))
        ratios = sorted(x / y for x, y in zip(b, m))
        out[start] = dict(brigade_ms=1e3 * statistics.median(b),
                          multiprocessing_ms=1e3 * statistics.median(m),
                          ratio_median=statistics.median(ratios),
                          ratio_min=ratios[0], ratio_max=ratios[-1])
        print("%-5s brigade %.2f ms, multiprocessing %.2f ms (median); brigade/mp %.2f "
              "(turns %.2f-%.2f)" % (start, out[start]["brigade_ms"],
                                     out[start]["multiprocessing_ms"], out[start]["ratio_median"],
                                     ratios[0], ratios[-1]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
