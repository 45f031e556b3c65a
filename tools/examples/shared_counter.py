#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""shared_counter.py - N processes increment one shared counter, M times each: brigade's
atomic add on an element of a brigade array, and the element updated under a brigade.Lock
(robust: a holder killed holding it is reported to the next one), beside multiprocessing's
Value (with its lock, ``with v.get_lock(): v.value += 1``, the seeds' recipe) and a Value
updated without the lock (what goes wrong).  Every side starts its processes the same way (multiprocessing, fork),
attaches, then waits at a barrier, so only the increments are timed.

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
       /usr/bin/python3 tools/examples/shared_counter.py [--procs N] [--adds M] [--json]

Exits 1 when a side that should be exact is not.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

import brigade


def brigade_adder(name, adds, ready, go, out):
    a = brigade.open(name, write=True)  # attached by name: nothing inherited
    ready.wait()
    go.wait()
    t0 = time.perf_counter()
    for _ in range(adds):
        brigade.atomic_add(a, 0)
    out.put(time.perf_counter() - t0)
    a.close()


def brigade_locker(name, lock_name, adds, ready, go, out):
    a = brigade.open(name, write=True)
    lock = brigade.Lock(lock_name)
    ready.wait()
    go.wait()
    t0 = time.perf_counter()
    for _ in range(adds):
        with lock:
            a[0] += 1
    out.put(time.perf_counter() - t0)
    lock.close()
    a.close()


def value_adder(v, locked, adds, ready, go, out):
    ready.wait()
    go.wait()
    t0 = time.perf_counter()
    if locked:
        for _ in range(adds):
            with v.get_lock():
                v.value += 1
    else:
        for _ in range(adds):
            v.value += 1  # a read, then a write: increments get lost
    out.put(time.perf_counter() - t0)


def run(target, args, procs):
    """Starts procs processes of target(*args, ready, go, out); returns the wall time from the
    moment all are attached until the last one is done."""
    ctx = mp.get_context("fork")
    ready, go, out = ctx.Barrier(procs + 1), ctx.Barrier(procs + 1), ctx.Queue()
    ps = [ctx.Process(target=target, args=(*args, ready, go, out)) for _ in range(procs)]
    for p in ps:
        p.start()
    ready.wait()
    t0 = time.perf_counter()
    go.wait()
    for p in ps:
        p.join()
    t = time.perf_counter() - t0
    if any(p.exitcode for p in ps):
        raise SystemExit("shared_counter: a process failed")
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--adds", type=int, default=200000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n, m = args.procs, args.adds
    want = n * m
    name = "brg-shared-counter-%d" % os.getpid()
    lock_name = name + "-lock"
    res = {}
    try:
        with brigade.create(name, 1, "i64") as c:
            t = run(brigade_adder, (name, m), n)
            res["brigade atomic_add"] = dict(seconds=t, count=int(c[0]))
            c[0] = 0
            brigade.Lock(lock_name, create=True).close()
            t = run(brigade_locker, (name, lock_name, m), n)
            res["brigade Lock"] = dict(seconds=t, count=int(c[0]))
    finally:
        for made in (name, lock_name):
            try:
                brigade.unlink(made)
            except FileNotFoundError:
                pass
    v = mp.get_context("fork").Value("q", 0)
    t = run(value_adder, (v, True, m), n)
    res["multiprocessing Value, locked"] = dict(seconds=t, count=v.value)
    v.value = 0
    t = run(value_adder, (v, False, m), n)
    res["multiprocessing Value, unlocked"] = dict(seconds=t, count=v.value)
    ref = res["multiprocessing Value, locked"]["seconds"]
    bad = 0
    for side, r in res.items():
        r["ns_per_add"] = 1e9 * r["seconds"] * n / want
        r["speedup_vs_locked_value"] = ref / r["seconds"]
        r["exact"] = r["count"] == want
        if not r["exact"] and "unlocked" not in side:
            bad = 1
        if not args.json:
            print("%-32s %8.1f ms  %6.0f ns/add a process  %5.2fx the locked Value  count %d "
                  "of %d%s" % (side, 1e3 * r["seconds"], r["ns_per_add"],
                               r["speedup_vs_locked_value"], r["count"], want,
                               "" if r["exact"] else " (lost %d)" % (want - r["count"])))
    if args.json:
        print(json.dumps(dict(procs=n, adds=m, results=res)))
    return bad


if __name__ == "__main__":
    sys.exit(main())
