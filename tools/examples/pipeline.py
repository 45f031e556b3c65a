#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pipeline.py - a producer, N workers and a collector: frames of float64 go to the workers
through one queue and their results to the collector through another.  brigade's streams (the
frames written and read in place in shared memory) beside the multiprocessing.Queue version
(every frame pickled and piped twice).  With --kill, one brigade worker is SIGKILLed mid-run:
the frame it held goes back to the queue and another worker redoes it.

Each frame is [id, x0 .. x(n-1)] with x = id + arange(n); a worker writes [id, sqrt(x) * 2];
the collector checks every result and that no id is missing.  A worker killed after it
published a result and before it released the frame makes that result come twice: the
collector keeps the first and counts the other ("duplicates").

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
       /usr/bin/python3 tools/examples/pipeline.py [--frames F] [--size N] [--workers W]
                                                   [--kill] [--json]
Exits 1 when a result is wrong, missing or duplicated.
"""
import argparse
import json
import multiprocessing as mp
import os
import signal
import sys
import time

import numpy as np

import brigade

END = -1.0


def expected(fid, n):
    return np.sqrt(fid + np.arange(n, dtype=np.float64)) * 2


# ---- brigade: two streams ----
def b_producer(jobs, frames, n, go):
    s = brigade.Stream(jobs)
    go.wait()
    base = np.arange(n, dtype=np.float64)
    for fid in range(frames):
        with s.loan() as f:  # written in place: the only copy of the frame
            f.array[0] = fid
            np.add(base, fid, out=f.array[1:])
    s.close()


def b_worker(jobs, results, ready):
    src, dst = brigade.Stream(jobs), brigade.Stream(results)
    ready.put(os.getpid())
    for f in src:
        fid = f.array[0]
        if fid == END:
            break
        with dst.loan() as r:
            r.array[0] = fid
            np.sqrt(f.array[1:], out=r.array[1:])
            r.array[1:] *= 2
    src.close()
    dst.close()


def run_brigade(frames, n, workers, kill):
    tag = "brg-pipeline-%d" % os.getpid()
    jobs, results = tag + "-jobs", tag + "-results"
    ctx = mp.get_context("fork")
    made = []
    try:
        js = brigade.Stream(jobs, "f64", n + 1, slots=8, create=True)
        made.append(jobs)
        rs = brigade.Stream(results, "f64", n + 1, slots=8, create=True)
        made.append(results)
        ready, go = ctx.Queue(), ctx.Event()
        ws = [ctx.Process(target=b_worker, args=(jobs, results, ready)) for _ in range(workers)]
        for w in ws:
            w.start()
        pids = [ready.get(timeout=60) for _ in ws]
        prod = ctx.Process(target=b_producer, args=(jobs, frames, n, go))
        prod.start()
        t0 = time.perf_counter()
        go.set()
        seen = np.zeros(frames, np.int64)
        bad = killed = 0
        got = 0
        while got < frames:
            with rs.receive(timeout=60) as r:
                fid = int(r.array[0])
                if seen[fid] == 0:
                    got += 1
                    bad += not np.array_equal(r.array[1:], expected(fid, n))
                seen[fid] += 1
            if kill and not killed and got == frames // 3:
                os.kill(pids[0], signal.SIGKILL)  # it may hold a frame: it is redone
                killed = 1
        t = time.perf_counter() - t0
        for _ in range(workers - killed):
            js.send(np.full(n + 1, END))
        prod.join()
        for w in ws:
            w.join()
        js.close()
        rs.close()
        return dict(seconds=t, frames_per_s=frames / t, wrong=int(bad),
                    missing=int((seen == 0).sum()), duplicates=int((seen > 1).sum()),
                    killed=killed)
    finally:
        for name in made:
            brigade.unlink_stream(name)


# ---- multiprocessing.Queue ----
def q_producer(q, frames, n, workers, go):
    go.wait()
    base = np.arange(n, dtype=np.float64)
    for fid in range(frames):
        q.put((fid, base + fid))  # pickled, piped
    for _ in range(workers):
        q.put(None)


def q_worker(q, out):
    while True:
        item = q.get()
        if item is None:
            break
        fid, x = item
        out.put((fid, np.sqrt(x) * 2))


def run_queue(frames, n, workers):
    ctx = mp.get_context("fork")
    q, out, go = ctx.Queue(maxsize=8), ctx.Queue(maxsize=8), ctx.Event()
    ws = [ctx.Process(target=q_worker, args=(q, out)) for _ in range(workers)]
    for w in ws:
        w.start()
    prod = ctx.Process(target=q_producer, args=(q, frames, n, workers, go))
    prod.start()
    t0 = time.perf_counter()
    go.set()
    seen = np.zeros(frames, np.int64)
    bad = 0
    for _ in range(frames):
        fid, y = out.get(timeout=60)
        seen[fid] += 1
        bad += not np.array_equal(y, expected(fid, n))
    t = time.perf_counter() - t0
    prod.join()
    for w in ws:
        w.join()
    return dict(seconds=t, frames_per_s=frames / t, wrong=int(bad),
                missing=int((seen == 0).sum()), duplicates=int((seen > 1).sum()), killed=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--size", type=int, default=131072, help="float64 per frame (1 MiB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.kill and args.workers < 2:
        ap.error("--kill needs a worker left to redo the frame")
    res = {"brigade streams": run_brigade(args.frames, args.size, args.workers, args.kill),
           "multiprocessing.Queue": run_queue(args.frames, args.size, args.workers)}
    ref = res["multiprocessing.Queue"]["frames_per_s"]
    fail = 0
    for side, r in res.items():
        r["vs_queue"] = r["frames_per_s"] / ref
        fail |= r["wrong"] > 0 or r["missing"] > 0
        if not args.json:
            print("%-22s %d workers, %d frames of %d KiB: %8.0f frames/s  %5.2fx the Queue  "
                  "wrong %d missing %d%s" % (side, args.workers, args.frames,
                                             args.size * 8 // 1024, r["frames_per_s"],
                                             r["vs_queue"], r["wrong"], r["missing"],
                                             "  (a worker killed mid-run; %d result(s) "
                                             "came twice)" % r["duplicates"]
                                             if r["killed"] else ""))
    if args.json:
        print(json.dumps(dict(frames=args.frames, size=args.size, workers=args.workers,
                              results=res)))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
