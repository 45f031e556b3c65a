# SPDX-License-Identifier: MIT
"""peers.py - the Python peers of `brigade bench`: numpy in one process, brigade's own kernels
called through its Python package, and multiprocessing Pools that move data by pickling slices
or share it through multiprocessing.shared_memory.

usage: peers.py --probe [--impl py-brigade]
       peers.py --impl numpy --workers N [--n N] [--gemm-n N]
       peers.py --impl py-brigade --workers N [--n N] [--shm-prefix P]
       peers.py --impl py-pool-pickle|py-pool-shm|py-brigade-fn --workers N --kernels K1,K2...
                [--n N] [--repeat R] [--repeat-pool R] [--empty-batch B] [--shm-prefix P]

numpy and py-brigade serve commands as brigade-bench-peer does: a line {"ready": true}, then for each line
"KERNEL REPEAT" of stdin (triad dot sumsq dgemm) one warm-up run, REPEAT timed ones and one
JSON line; "drop" frees its data and answers {"dropped": true}.  py-brigade finds the package
and libbrigade through PYTHONPATH and BRIGADE_LIBRARY, which the bench sets.  The Pools run the kernels listed, each once untimed and `--repeat-pool` times
timed (empty and start: `--repeat`), a JSON line each, and exit.  A line holds kernel, impl,
workers, n, samples (seconds per operation), value (the result, or the sum of the output, for
the caller's check); or kernel and error.  The data are the formulas of bench/loops.h.  The
caller sets the CPU affinity and OPENBLAS_NUM_THREADS.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import traceback

try:
    import numpy as np
except ImportError:  # reported by --probe; the bench then skips the Python peers
    np = None

SCALAR = 3.0  # BENCH_TRIAD_SCALAR


def init_b(idx):
    return 1.0 + 0.5 * (idx % 7)


def init_c(idx):
    return 2.0 - 0.25 * (idx % 5)


BASE = {}  # impl and workers, added to every record


def emit(rec):
    sys.stdout.write(json.dumps({**BASE, **rec}) + "\n")
    sys.stdout.flush()


def timed(fn, repeat):
    """One warm-up call, then `repeat` timed calls; returns (samples, last result)."""
    out = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t0)
    return samples, out


def run_stream(kernels, fns, repeat, a, n):
    """Times each selected (name, fn) of the bandwidth kernels and emits its record; the
    triad's value is the sum of its output a, the reductions' their result."""
    for name, fn in fns:
        if name not in kernels:
            continue
        samples, value = timed(fn, repeat)
        if name == "triad":
            value = float(a.sum())
        emit(dict(kernel=name, n=n, samples=samples, value=value))


CHUNK = 1 << 20  # elements filled at a time: temporaries stay small whatever n is


def fill_stream(b, c, lo, hi):
    """b[lo:hi] and c[lo:hi] from the formulas, a chunk at a time."""
    for s in range(lo, hi, CHUNK):
        idx = np.arange(s, min(s + CHUNK, hi), dtype=np.int64)
        b[s - lo:s - lo + len(idx)] = init_b(idx)
        c[s - lo:s - lo + len(idx)] = init_c(idx)


def stream_arrays(n):
    """a (zero), b and c of n elements, with no temporary larger than a chunk (the bench's
    memory budget counts three arrays)."""
    a, b, c = np.zeros(n), np.empty(n), np.empty(n)
    fill_stream(b, c, 0, n)
    return a, b, c


def ranges(n, parts):
    return [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


# ---- numpy: one process; elementwise work is single-threaded, np.dot and @ call OpenBLAS ----

class NumpyPeer:
    """Serves "KERNEL REPEAT" commands, as brigade-bench-peer does: the data a kernel needs are
    made on its first command and kept until a command needs other data."""

    def __init__(self, args):
        self.args = args
        self.kind = None
        self.data = None

    def need(self, kind):
        if self.kind == kind:
            return self.data
        self.drop()  # the old data go before the new are made
        if kind == "stream":
            self.data = stream_arrays(self.args.n)
        else:
            g = self.args.gemm_n
            A, B = np.empty((g, g)), np.empty((g, g))
            j = np.arange(g, dtype=np.int64)
            for i in range(g):  # a row at a time: no g x g temporaries
                A[i] = 0.125 * (((3 * i + j) % 7) - 3)
                B[i] = 0.25 * (((i + 2 * j) % 5) - 2)
            self.data = (A, B)
        self.kind = kind
        return self.data

    def drop(self):
        self.kind = self.data = None

    def run(self, kernel, repeat):
        if kernel in ("triad", "dot", "sumsq"):
            a, b, c = self.need("stream")

            def triad():
                # Two passes (five streams); STREAM counting stays at 24 bytes per element.
                np.multiply(c, SCALAR, out=a)
                np.add(a, b, out=a)

            fn = {"triad": triad,
                  "dot": lambda: float(np.dot(b, c)),
                  "sumsq": lambda: float(np.dot(b, b))}[kernel]
            samples, value = timed(fn, repeat)
            if kernel == "triad":
                value = float(a.sum())
            emit(dict(kernel=kernel, n=self.args.n, samples=samples, value=value))
        elif kernel == "dgemm":
            A, B = self.need("gemm")
            samples, C = timed(lambda: A @ B, repeat)
            emit(dict(kernel=kernel, n=self.args.gemm_n, samples=samples,
                      value=float(C.sum())))
        else:
            emit(dict(kernel=kernel, error="the numpy peer has no %s" % kernel))


# ---- py-brigade: brigade.Pool's built-in kernels on brigade.create's arrays ----

class BrigadePeer:
    """Serves triad, dot and sumsq as NumpyPeer does, through the brigade package: a
    brigade.Pool of the same size and binding as the bench's, and three arrays made by
    brigade.create under the bench's names (which it removes should this process be killed),
    kept until "drop"."""

    def __init__(self, args):
        import brigade
        self.brigade = brigade
        self.args = args
        self.data = None
        prefix = args.shm_prefix or "brg-bench-py-%d-" % os.getpid()
        self.names = [prefix + x for x in "abc"]
        # Made before any array, as the package asks (workers are forked from this process).
        self.pool = brigade.Pool(workers=args.workers, bind="compact", name=prefix + "pool")

    def need(self):
        if self.data is None:
            n = self.args.n
            arrays = []
            try:
                for name in self.names:
                    arrays.append(self.brigade.create(name, n, "f64"))
                # First touch by the pool's participants, over the ranges they compute on,
                # then the formulas (the pages stay where the pool placed them).
                for x in arrays:
                    self.pool.fill(x, 0.0)
                fill_stream(arrays[1], arrays[2], 0, n)
            except BaseException:
                self.close_arrays(arrays)
                raise
            self.data = arrays
        return self.data

    def close_arrays(self, arrays):
        for x in arrays:
            name = x.name
            x.close()
            try:
                self.brigade.unlink(name)
            except FileNotFoundError:
                pass

    def drop(self):
        if self.data is not None:
            arrays, self.data = self.data, None
            self.close_arrays(arrays)

    def close(self):
        self.drop()
        self.pool.close()

    def run(self, kernel, repeat):
        if kernel not in ("triad", "dot", "sumsq"):
            emit(dict(kernel=kernel, error="the py-brigade peer has no %s" % kernel))
            return
        a, b, c = self.need()
        pool = self.pool
        fn = {"triad": lambda: pool.triad(a, b, SCALAR, c),
              "dot": lambda: pool.dot(b, c),
              "sumsq": lambda: pool.sumsq(b)}[kernel]
        samples, value = timed(fn, repeat)
        if kernel == "triad":
            value = float(np.sum(a))
        emit(dict(kernel=kernel, n=self.args.n, samples=samples, value=value))


def serve_numpy(args):
    return serve(NumpyPeer(args))


def serve(peer):
    emit(dict(ready=True))
    for line in iter(sys.stdin.readline, ""):
        words = line.split()
        if words == ["drop"]:
            peer.drop()
            emit(dict(dropped=True))
            continue
        if len(words) != 2 or not words[1].isdigit() or not 1 <= int(words[1]) <= 64:
            emit(dict(kernel="?", error="bad command (want: KERNEL REPEAT, REPEAT 1 to 64)"))
            continue
        try:
            peer.run(words[0], int(words[1]))
        except Exception as e:  # this command's record says what broke; the next may run
            traceback.print_exc()
            emit(dict(kernel=words[0], error="%s: %s" % (type(e).__name__, e)))
    return 0


def serve_brigade(args):
    try:
        peer = BrigadePeer(args)
    except Exception as e:  # the bench reports it; --probe has said the package imports
        traceback.print_exc()
        emit(dict(error="brigade.Pool: %s: %s" % (type(e).__name__, e)))
        return 1
    try:
        return serve(peer)
    finally:
        peer.close()


# ---- py-pool-pickle: slices travel to the workers and results back, pickled ----

def pk_triad(job):
    b, c, s = job
    a = np.multiply(c, s)
    a += b
    return a


def pk_dot(job):
    b, c = job
    return float(np.dot(b, c))


def pk_sumsq(b):
    return float(np.dot(b, b))


def noop():
    return None


def run_pickle(args, kernels, pool):
    n, N = args.n, args.workers
    if {"triad", "dot", "sumsq"} & kernels:
        a, b, c = stream_arrays(n)
        parts = ranges(n, N)

        def triad():
            out = pool.map(pk_triad, [(b[lo:hi], c[lo:hi], SCALAR) for lo, hi in parts],
                           chunksize=1)
            np.concatenate(out, out=a)

        def dot():
            return sum(pool.map(pk_dot, [(b[lo:hi], c[lo:hi]) for lo, hi in parts], chunksize=1))

        def sumsq():
            return sum(pool.map(pk_sumsq, [b[lo:hi] for lo, hi in parts], chunksize=1))

        run_stream(kernels, (("triad", triad), ("dot", dot), ("sumsq", sumsq)),
                   args.repeat_pool, a, n)
        del a, b, c
    if "empty" in kernels:
        batch = args.empty_batch

        def apply_batch():
            for _ in range(batch):
                pool.apply(noop)

        samples, _ = timed(apply_batch, args.repeat)
        emit(dict(kernel="empty", n=N, samples=[t / batch for t in samples], value=0.0))


def run_start(args):
    """Pool(N) creation; terminate and join are not timed.  Pool() returns once the worker
    processes are forked, without waiting for them to be ready."""
    samples = []
    for k in range(args.repeat + 1):
        t0 = time.perf_counter()
        p = mp.Pool(args.workers)
        t = time.perf_counter() - t0
        p.terminate()
        p.join()
        if k:
            samples.append(t)
    emit(dict(kernel="start", n=args.workers, samples=samples, value=0.0))


# ---- py-brigade-fn: the same numpy on each range, as Python kernels in brigade's pool ----

def fn_init(lo, hi, a, b, c):
    a[lo:hi] = 0.0
    fill_stream(b[lo:hi], c[lo:hi], lo, hi)


def fn_triad(lo, hi, a, b, c):
    x = a[lo:hi]
    np.multiply(c[lo:hi], SCALAR, out=x)
    x += b[lo:hi]


def fn_dot(lo, hi, b, c):
    return float(np.dot(b[lo:hi], c[lo:hi]))


def fn_sumsq(lo, hi, b):
    x = b[lo:hi]
    return float(np.dot(x, x))


def fn_noop(lo, hi):
    return None


def run_fn(args, kernels):
    """Pool(N) of brigade, three brigade.create arrays under the bench's names, first touched
    by the pool's participants over the ranges they compute on (static), then triad as
    for_ranges (static: one range per participant, as py-pool-shm's map) and dot and sumsq
    as reduce_ranges over 32 blocks (the same bits at any worker count)."""
    import brigade
    n, N = args.n, args.workers
    prefix = args.shm_prefix or "brg-bench-pyf-%d-" % os.getpid()
    if "start" in kernels:
        samples = []
        for k in range(args.repeat + 1):
            t0 = time.perf_counter()
            p = brigade.Pool(workers=N, bind="compact")
            t = time.perf_counter() - t0
            p.close()
            if k:
                samples.append(t)
        emit(dict(kernel="start", n=N, samples=samples, value=0.0))
    with brigade.Pool(workers=N, bind="compact", name=prefix + "pool") as pool:
        if {"triad", "dot", "sumsq"} & kernels:
            arrays = []
            try:
                for name in "abc":
                    arrays.append(brigade.create(prefix + name, n, "f64"))
                a, b, c = arrays
                pool.for_ranges(fn_init, n, [a, b, c], schedule="static")
                block = -(-n // 32)
                run_stream(kernels,
                           (("triad", lambda: pool.for_ranges(fn_triad, n, [a, b, c],
                                                              schedule="static")),
                            ("dot", lambda: pool.reduce_ranges(fn_dot, n, [b, c],
                                                               block=block)),
                            ("sumsq", lambda: pool.reduce_ranges(fn_sumsq, n, [b],
                                                                 block=block))),
                           args.repeat_pool, a, n)
            finally:
                for x in arrays:
                    x.close()
                    brigade.unlink(x.name)
        if "empty" in kernels:
            batch = args.empty_batch

            def empty_batch():
                for _ in range(batch):
                    pool.for_ranges(fn_noop, N, schedule="static")

            samples, _ = timed(empty_batch, args.repeat)
            emit(dict(kernel="empty", n=N, samples=[t / batch for t in samples], value=0.0))


# ---- py-pool-shm: arrays in SharedMemory, workers attach by name and compute in place ----

SHM = {}


def shm_attach(names, n):
    from multiprocessing import shared_memory
    blocks = [shared_memory.SharedMemory(name=name) for name in names]
    SHM["blocks"] = blocks  # keep the mappings alive
    SHM["a"], SHM["b"], SHM["c"] = (np.ndarray((n,), np.float64, buffer=blk.buf)
                                    for blk in blocks)


def sh_init(rng):
    lo, hi = rng
    SHM["a"][lo:hi] = 0.0
    fill_stream(SHM["b"][lo:hi], SHM["c"][lo:hi], lo, hi)


def sh_triad(rng):
    lo, hi = rng
    a = SHM["a"][lo:hi]
    np.multiply(SHM["c"][lo:hi], SCALAR, out=a)
    a += SHM["b"][lo:hi]


def sh_dot(rng):
    lo, hi = rng
    return float(np.dot(SHM["b"][lo:hi], SHM["c"][lo:hi]))


def sh_sumsq(rng):
    lo, hi = rng
    x = SHM["b"][lo:hi]
    return float(np.dot(x, x))


def run_shm(args, kernels):
    from multiprocessing import shared_memory
    n, N = args.n, args.workers
    blocks = []
    try:
        for name in "abc":  # under the bench's names, which it removes should we be killed
            blocks.append(shared_memory.SharedMemory(
                name=args.shm_prefix + name if args.shm_prefix else None, create=True,
                size=n * 8))
        a = np.ndarray((n,), np.float64, buffer=blocks[0].buf)
        with mp.Pool(N, initializer=shm_attach, initargs=([blk.name for blk in blocks], n)) as pool:
            parts = ranges(n, N)
            # First touch by the workers, over the ranges they compute on.
            pool.map(sh_init, parts, chunksize=1)
            run_stream(kernels,
                       (("triad", lambda: pool.map(sh_triad, parts, chunksize=1)),
                        ("dot", lambda: sum(pool.map(sh_dot, parts, chunksize=1))),
                        ("sumsq", lambda: sum(pool.map(sh_sumsq, parts, chunksize=1)))),
                       args.repeat_pool, a, n)
        del a
    finally:
        for blk in blocks:
            blk.close()
            blk.unlink()


def probe_brigade():
    """Whether the brigade package and its library load: a line with the package's path and
    the library's, or the reason."""
    if np is None:
        emit(dict(error="numpy is not installed for %s" % sys.executable))
        return 1
    try:
        import brigade
        from brigade import _lib
        _lib.lib()
    except Exception as e:  # ImportError, or OSError from the library's loader
        emit(dict(error="the brigade package cannot be used from %s: %s: %s"
                  % (sys.executable, type(e).__name__, e)))
        return 1
    emit(dict(brigade=os.path.dirname(brigade.__file__),
              library=os.environ.get("BRIGADE_LIBRARY", "the loader's path")))
    return 0


def probe():
    if np is None:
        emit(dict(error="numpy is not installed for %s" % sys.executable))
        return 1
    np.dot(np.ones(4), np.ones(4))
    blas = "?"
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "blas" in line.lower()})
        blas = ", ".join(x for x in libs if "libopenblas" in x) or ", ".join(libs) or "?"
    except OSError:
        pass
    emit(dict(numpy=np.__version__, blas=blas, python=sys.version.split()[0]))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--impl", choices=["numpy", "py-brigade", "py-pool-pickle", "py-pool-shm",
                                       "py-brigade-fn"])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--kernels", default="triad,dot,sumsq")
    ap.add_argument("--n", type=int, default=1 << 22)
    ap.add_argument("--gemm-n", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--repeat-pool", type=int, default=2)
    ap.add_argument("--empty-batch", type=int, default=200)
    ap.add_argument("--shm-prefix", default="",
                    help="py-pool-shm, py-brigade: name its segments PREFIX + a, b, c")
    args = ap.parse_args()
    if args.probe:
        return probe_brigade() if args.impl in ("py-brigade", "py-brigade-fn") else probe()
    if np is None or not args.impl:
        ap.error("--impl is required, and numpy must be installed")
    kernels = set(k for k in args.kernels.split(",") if k)
    BASE.update(impl=args.impl, workers=args.workers)
    if args.impl == "numpy":
        return serve_numpy(args)
    if args.impl == "py-brigade":
        return serve_brigade(args)
    try:
        if args.impl == "py-pool-pickle":
            if "start" in kernels:
                run_start(args)
            if kernels - {"start"}:
                with mp.Pool(args.workers) as pool:
                    run_pickle(args, kernels, pool)
        elif args.impl == "py-brigade-fn":
            run_fn(args, kernels)
        else:
            run_shm(args, kernels)
    except Exception as e:  # one record says what broke; the bench reports it
        traceback.print_exc()
        emit(dict(kernel=",".join(sorted(kernels)), error="%s: %s" % (type(e).__name__, e)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
