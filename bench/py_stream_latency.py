#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""py_stream_latency.py - one-way latency of a frame from one Python process to another: a
brigade stream against multiprocessing.Queue and Pipe, producer and consumer pinned to
different cores.

The producer makes a frame (a stream: in its loaned slot; Queue and Pipe: a new array) and
says so through a word of shared memory; the consumer, done with the last frame, answers
through another that it is about to receive; the producer then writes time.perf_counter_ns()
into the frame's first 8 bytes and sends it, and the consumer reads the clock as soon as it
holds the frame as an array.  So nothing queues, and every message finds the consumer
waiting in its receive (the stream's spins 20 us, then sleeps on a futex; Queue's
and Pipe's sleep in read(2)).  Gap 0: sent as soon as the last one was had (the stream's
consumer still spinning); gap 1000 us: the producer sleeps 1 ms first (every consumer asleep).
Median and p99 in us, the first tenth of the messages left out; the last column is the
median over the stream's.
Exits 1 when a consumer saw a frame out of order or with a wrong fill.

usage: PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
       /usr/bin/python3 bench/py_stream_latency.py [--messages N] [--json]
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np

import brigade

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_stream_rate import mp_channel  # noqa: E402

SIZES = [64, 64 << 10, 4 << 20]  # bytes a frame


def cpus():
    """The producer's and the consumer's cpu: two different ones where there are two."""
    c = sorted(os.sched_getaffinity(0))
    return c[0], c[1 % len(c)]


def spin_until(word, i, other=None, gil=False):
    """Spins until word[0] >= i (letting other threads have the GIL, if gil); RuntimeError if
    the other process is gone."""
    k = 0
    while word[0] < i:
        if gil:
            time.sleep(0)
        k += 1
        if k & 0xFFFF == 0 and other is not None and not other.is_alive():
            raise RuntimeError("the consumer exited with %s" % other.exitcode)


def consume(recv, n, ack, out, cpu):
    """Receives n frames; each one's latency in ns, or None for a frame out of order."""
    os.sched_setaffinity(0, [cpu])
    lat = np.empty(n, np.int64)
    ok = True
    for i in range(n):
        spin_until(ack[1:], i + 1)  # the producer has frame i made
        ack[0] = i + 1  # and can send it: this process is about to wait in its receive
        a, done = recv()
        t = time.perf_counter_ns()
        lat[i] = t - int(a[:8].view(np.int64)[0])
        ok &= int(a[8]) == i & 0xFF and int(a[-1]) == i & 0xFF
        done()
    out.put((ok, lat.tolist()))


def b_consumer(name, ackname, n, out, cpu):
    s = brigade.Stream(name)
    ack = brigade.open(ackname, write=True)

    def recv():
        f = s.receive()
        return f.array, lambda: s.release(f)
    consume(recv, n, ack, out, cpu)
    ack.close()
    s.close()


def mp_consumer(recv, ackname, n, out, cpu):
    ack = brigade.open(ackname, write=True)
    consume(lambda: (recv(), lambda: None), n, ack, out, cpu)
    ack.close()


def run(side, size, n, gap):
    pid = os.getpid()
    name, ackname = "brg-lat-%d" % pid, "brg-lat-ack-%d" % pid
    pcpu, ccpu = cpus()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    ack = brigade.create(ackname, (2,), np.int64, fill=0)
    s = None
    try:
        if side == "brigade stream":
            s = brigade.Stream(name, "u8", size, slots=4, create=True)
            c = ctx.Process(target=b_consumer, args=(name, ackname, n, out, ccpu))
        else:
            send, recv = mp_channel(ctx, "queue" if side.endswith("Queue") else "pipe", 4)
            c = ctx.Process(target=mp_consumer, args=(recv, ackname, n, out, ccpu))
        c.start()
        old = os.sched_getaffinity(0)
        os.sched_setaffinity(0, [pcpu])
        try:
            for i in range(n):
                if s is not None:  # the frame made, then sent once the last one is had
                    f = s.loan()
                    f.array.fill(i & 0xFF)
                    ack[1] = i + 1
                    spin_until(ack, i + 1, c)
                    if gap:
                        time.sleep(gap)
                    f.array[:8].view(np.int64)[0] = time.perf_counter_ns()
                    s.publish(f)
                else:
                    a = np.full(size, i & 0xFF, np.uint8)
                    # A Queue's put leaves the pickling and the write to its feeder thread,
                    # which needs the GIL the spin would hold for 5 ms at a time.
                    ack[1] = i + 1
                    spin_until(ack, i + 1, c, side == "multiprocessing.Queue")
                    if gap:
                        time.sleep(gap)
                    a[:8].view(np.int64)[0] = time.perf_counter_ns()
                    send(a)
            ok, lat = out.get(timeout=300)
        finally:
            os.sched_setaffinity(0, old)
        c.join()
    finally:
        if s is not None:
            s.close()
            brigade.unlink_stream(name)
        ack.close()
        brigade.unlink(ackname)
    lat = np.array(lat[n // 10:], np.float64) / 1000.0  # the first tenth warms up
    return ok, float(np.median(lat)), float(np.percentile(lat, 99))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    bad = False
    for gap in (0.0, 0.001):
        for size in SIZES:
            n = args.messages if size < (1 << 20) else max(20, args.messages // 10)
            if gap:
                n = min(n, 500)
            res = {}
            for side in ("brigade stream", "multiprocessing.Queue", "multiprocessing.Pipe"):
                ok, med, p99 = run(side, size, n, gap)
                bad |= not ok
                res[side] = (med, p99)
            for side, (med, p99) in res.items():
                vs = med / res["brigade stream"][0]
                rows.append(dict(size=size, gap_us=gap * 1e6, messages=n, side=side,
                                 median_us=med, p99_us=p99, over_stream=vs))
                if not args.json:
                    print("gap %4d us  %-22s %8d B  median %9.1f us  p99 %9.1f us  %7.1fx" %
                          (gap * 1e6, side, size, med, p99, vs))
    if args.json:
        print(json.dumps(rows))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
