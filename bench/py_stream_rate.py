#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""py_stream_rate.py - frames a second from one Python process to another: a brigade stream
(each frame loaned, filled in place, published; received and read where it lies) against
multiprocessing.Queue and Pipe (the same frame made with the same fill, then pickled, piped,
unpickled).  Exits 1 when a consumer's checksum is wrong.

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
       /usr/bin/python3 bench/py_stream_rate.py [--frames N] [--json]
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np

import brigade

SIZES = [64, 64 << 10, 4 << 20]  # bytes a frame


def b_consumer(name, frames, out):
    s = brigade.Stream(name)
    total = 0.0
    for _ in range(frames):
        with s.receive() as f:
            total += float(f.array[0])
    out.put(total)
    s.close()


def run_stream(size, frames):
    name = "brg-rate-%d" % os.getpid()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    with brigade.Stream(name, "u8", size, slots=8, create=True) as s:
        try:
            c = ctx.Process(target=b_consumer, args=(name, frames, out))
            c.start()
            t0 = time.perf_counter()
            for i in range(frames):
                with s.loan() as f:
                    f.array.fill(i & 0xFF)  # the frame made where it is sent from
            total = out.get(timeout=120)
            t = time.perf_counter() - t0
            c.join()
        finally:
            brigade.unlink_stream(name)
    return t, total


def mp_consumer(recv, frames, out):
    total = 0.0
    for _ in range(frames):
        a = recv()
        total += float(a[0])
    out.put(total)


def mp_channel(ctx, kind, slots):
    """send and recv of a multiprocessing Queue ("queue", at most slots items) or Pipe."""
    if kind == "queue":
        q = ctx.Queue(maxsize=slots)
        return q.put, q.get
    r, w = ctx.Pipe(duplex=False)
    return w.send, r.recv


def run_mp(size, frames, kind):
    """multiprocessing's Queue or Pipe: each frame a new array (a Queue's put pickles it
    later, from its feeder thread)."""
    ctx = mp.get_context("fork")
    send, recv = mp_channel(ctx, kind, 8)
    out = ctx.Queue()
    c = ctx.Process(target=mp_consumer, args=(recv, frames, out))
    c.start()
    t0 = time.perf_counter()
    for i in range(frames):
        send(np.full(size, i & 0xFF, np.uint8))
    total = out.get(timeout=120)
    t = time.perf_counter() - t0
    c.join()
    return t, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    bad = 0
    for size in SIZES:
        n = args.frames if size < (1 << 20) else max(10, args.frames // 10)
        want = float(sum(i & 0xFF for i in range(n)))
        res = {}
        for side, fn in (("brigade stream", run_stream),
                         ("multiprocessing.Queue", lambda z, k: run_mp(z, k, "queue")),
                         ("multiprocessing.Pipe", lambda z, k: run_mp(z, k, "pipe"))):
            t, total = fn(size, n)
            bad |= total != want
            res[side] = n / t
        for side, rate in res.items():
            rows.append(dict(size=size, frames=n, side=side, frames_per_s=rate,
                             stream_vs=res["brigade stream"] / rate))
            if not args.json:
                print("%-22s %8d B  %10.0f frames/s   stream %7.1fx" %
                      (side, size, rate, res["brigade stream"] / rate))
    if args.json:
        print(json.dumps(rows))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
