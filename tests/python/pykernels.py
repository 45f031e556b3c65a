# SPDX-License-Identifier: MIT
"""pykernels.py - Python kernels for test_package.py, in a module of their own so that
spawned workers import them by name (and not the test module, with pytest)."""

from __future__ import annotations

import math
import os
import signal
import struct
import time

import numpy as np


def square(b: int, e: int, x: np.ndarray, out: np.ndarray) -> None:
    out[b:e] = x[b:e] * x[b:e]


def axpb(b: int, e: int, x: np.ndarray, out: np.ndarray, a: float, c: float) -> None:
    out[b:e] = a * x[b:e] + c


def count(b: int, e: int, hits: np.ndarray) -> None:
    """hits[i] += 1 for each index: every index exactly once shows as all ones."""
    hits[b:e] += 1


def total(b: int, e: int, x: np.ndarray) -> float:
    return float(np.sum(x[b:e]))


def squares_exact(b: int, e: int) -> int:
    """Sum of i*i for i in (b, e], exact: each square fits in 64 bits, the sums in Python."""
    v = np.arange(b + 1, e + 1, dtype=np.int64)
    return sum(int(np.dot(v[k:k + 4096], v[k:k + 4096])) for k in range(0, len(v), 4096))


def pair(b: int, e: int, x: np.ndarray) -> tuple[float, int]:
    return float(np.max(x[b:e])), e - b


def pair_max(p: tuple[float, int], q: tuple[float, int]) -> tuple[float, int]:
    return max(p[0], q[0]), p[1] + q[1]


def fail_at(b: int, e: int, bad: int) -> None:
    if b <= bad < e:
        raise ZeroDivisionError("index %d" % bad)


def big_partial(b: int, e: int) -> bytes:
    return bytes(1000)


def pid_of(b: int, e: int, pids: np.ndarray) -> None:
    pids[b:e] = os.getpid()


def die_once(b: int, e: int, hits: np.ndarray, flag: np.ndarray, caller: int) -> None:
    """Counts its range; the first worker (never the caller) to get here kills itself.  The
    caller is slowed down, so the workers surely get ranges."""
    if os.getpid() == caller:
        time.sleep(0.002)
    elif flag[0] == 0:
        flag[0] = 1
        os.kill(os.getpid(), signal.SIGKILL)
    hits[b:e] += 1


def slow_square(b: int, e: int, x: np.ndarray, out: np.ndarray, delay: float) -> None:
    time.sleep(delay)
    out[b:e] = x[b:e] * x[b:e]


def nothing(b: int, e: int) -> None:
    pass


def first_random(b: int, e: int, out: np.ndarray, pids: np.ndarray) -> None:
    import random
    for i in range(b, e):
        pids[i] = os.getpid()
        out[i] = random.random()


def show_arg(b: int, e: int, out: np.ndarray, v: object) -> None:
    """out[b:e] = 1 when v is a float, 2 when an int; v["n"] += 1 for a dict (per range)."""
    if isinstance(v, dict):
        v["n"] += 1
        out[b:e] = v["n"]
    else:
        out[b:e] = 1 if isinstance(v, float) else 2


def count_ranges(b: int, e: int, out: np.ndarray, pids: np.ndarray, v: dict) -> None:
    """out[b:e] = how many ranges of this job this process has run (v["n"] += 1 per range)."""
    v["n"] += 1
    out[b:e] = v["n"]
    pids[b:e] = os.getpid()


def length(b: int, e: int) -> int:
    return e - b


def bad_combine(p: object, q: object) -> object:
    raise RuntimeError("combine refuses")


#: Floats whose bits a reduction's partials must keep: signed zeros, infinities, the least
#: subnormal, the largest float and a NaN with a payload.
SPECIAL = [0.0, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308,
           struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]]


def special(b: int, e: int, mixed: bool) -> object:
    """Block b's partial: a float of SPECIAL (a numpy one every third block); with mixed,
    every fifth an int past 64 bits or a tuple instead."""
    if mixed and b % 5 == 4:
        return 2**70 + b if b % 2 else (b, 0.5)
    v = SPECIAL[b % len(SPECIAL)]
    return np.float64(v) if b % 3 == 2 else v


def collect(p: object, q: object) -> list[object]:
    return (p if isinstance(p, list) else [p]) + [q]


class Tally:
    """A kernel with state of its own: its bound method pickles by value, so every process
    that runs a job gets a copy of its own, the caller too, and the object stays as it was."""

    def __init__(self) -> None:
        self.calls = 0

    def run(self, b: int, e: int, out: np.ndarray) -> None:
        self.calls += 1
        out[b:e] = self.calls


def _refuse() -> None:
    raise RuntimeError("this argument does not unpickle")


class Unpicklable:
    """Pickles, but does not unpickle."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse, ()
