#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""image_blur.py - an image processor, a directory of PNG files each blurred and halved into
another directory: brigade beside multiprocessing and a single process, in one run.

Each image is read as 8-bit RGB, blurred with a 3x3 box and downscaled 2x, and written as a
PNG file of the same name.  The arithmetic is integers, the same in every method
(`blur_down`): the 3x3 sum of each channel with the edge pixels repeated (clamp), divided
by 9 rounding to nearest, ``(s + 4) // 9``; then each 2x2 block of that averaged the same
way, ``(a + b + c + d + 2) // 4`` (an odd last row or column is dropped).

The methods:

single
    One process: for each file, decode, blur, downscale, encode, write.
multiprocessing
    ``Pool.map`` over the file list, one file per task: each worker decodes, filters,
    encodes and writes its files; only names travel.
brigade
    The images pass through shared memory, in three parallel stages over image indices
    (``Pool.for_ranges``): the workers and the caller decode their images into one segment
    of shape (count, H, W, 3) uint8; blur and downscale it into a second, (count, H/2, W/2,
    3); then encode and write their images from it.  The file names reach the workers in a
    third segment (a kernel's arguments are limited to 1 KiB).

What is fair:

- The times compared are end to end, files in to files out, each method's best of
  ``--repeat``.  Starting a pool (and its first job) is timed apart and not included:
  either pool would serve many batches.  brigade's end to end includes creating and
  removing its segments once (`brigade.create` allocates the whole segment and collapses
  it into huge pages: some milliseconds a MB); its time a batch with segments made once for
  many batches is printed as well.
- Decoding and encoding, which cost more than the filter, are parallel in both: the brigade
  caller could decode everything itself into the segment, but then it would be measured
  against multiprocessing's workers decoding in parallel.
- Both hand out one image at a time (``chunksize=1``; brigade's dynamic schedule, chunk 1):
  an image costs milliseconds, so handing out costs nothing next to it, and the balance is
  best.  Both pools have ``--workers`` processes at work (brigade's caller is one of them).
- Compute only: brigade's blur stage (images already in shared memory) beside the single
  process's filter over decoded images and multiprocessing's ``map`` of the filter over the
  decoded arrays, which pickles each image to a worker and its result back.
- numpy's BLAS is held to one thread per process; the filter does not use it, but a
  process pool should not start thread pools in every worker.

The three outputs are decoded and compared pixel for pixel (and the filter checked once
against a plain loop); the run exits 1 when anything differs, 2 when Pillow is missing or
the images do not fit.  Test images are generated (``--count`` of ``--size``: gradients,
rectangles and a little noise, so they compress as photographs do, some 2:1) in a
temporary directory, or in ``--dir`` when it holds no PNG file; a ``--dir`` with PNG files
is used as it is (the first ``--count`` in name order, all of one size).

Run from a build tree::

    PYTHONPATH=tools/python BRIGADE_LIBRARY=build/engine/libbrigade.so.1 \\
        python3 tools/examples/image_blur.py --workers 2
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
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any, Iterator  # noqa: E402

import numpy as np  # noqa: E402

import brigade  # noqa: E402

try:
    from PIL import Image
except ImportError:  # main() says so
    Image = None

# ---- the filter and the file work, shared by every method ----


def blur_down(img: np.ndarray) -> np.ndarray:
    """3x3 box blur (edge clamp, rounded) of an (H, W, 3) uint8 image, then 2x2 mean
    (rounded): an (H // 2, W // 2, 3) uint8 image."""
    p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge").astype(np.uint16)
    rows = p[:-2] + p[1:-1] + p[2:]
    s = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]  # at most 9 * 255: fits uint16
    b = (s + 4) // 9
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    d = b[0:h:2, 0:w:2] + b[0:h:2, 1:w:2] + b[1:h:2, 0:w:2] + b[1:h:2, 1:w:2]
    return ((d + 2) >> 2).astype(np.uint8)


def decode(path: str) -> np.ndarray:
    """A PNG file as an (H, W, 3) uint8 array."""
    with Image.open(path) as im:
        return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def encode(img: np.ndarray, path: str) -> None:
    Image.fromarray(img).save(path, format="PNG")  # Pillow's default compression


def process_file(paths: tuple[str, str]) -> None:
    """One file in, one file out: the single process's loop body and multiprocessing's task."""
    encode(blur_down(decode(paths[0])), paths[1])


# ---- brigade's kernels: over image indices [lo, hi) ----


def name_at(names: np.ndarray, i: int) -> str:
    return names[i].tobytes().rstrip(b"\0").decode()


def bg_decode(lo: int, hi: int, names: np.ndarray, images: np.ndarray, src: str) -> None:
    for i in range(lo, hi):
        img = decode(os.path.join(src, name_at(names, i)))
        if img.shape != images.shape[1:]:
            raise ValueError("%s is %dx%d, the batch %dx%d" % (
                name_at(names, i), img.shape[1], img.shape[0], images.shape[2],
                images.shape[1]))
        images[i] = img


def bg_blur(lo: int, hi: int, images: np.ndarray, out: np.ndarray) -> None:
    for i in range(lo, hi):
        out[i] = blur_down(images[i])


def bg_encode(lo: int, hi: int, names: np.ndarray, out: np.ndarray, dst: str) -> None:
    for i in range(lo, hi):
        encode(out[i], os.path.join(dst, name_at(names, i)))


# ---- the caller ----


def make_images(where: str, count: int, width: int, height: int, seed: int) -> None:
    """count test images: smooth colour gradients, a few flat rectangles, a little noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        img = np.empty((height, width, 3), np.float32)
        for c in range(3):
            fx, fy, ph = rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(0, 6.3)
            img[..., c] = 127.5 + 100 * np.sin(x / fx + ph) * np.cos(y / fy)
        for _ in range(12):
            x0, y0 = rng.integers(0, width), rng.integers(0, height)
            x1 = min(width, x0 + rng.integers(1, max(2, width // 4)))
            y1 = min(height, y0 + rng.integers(1, max(2, height // 4)))
            img[y0:y1, x0:x1] = rng.integers(0, 256, 3)
        img += rng.integers(0, 4, img.shape)
        # zlib's fastest level: the default takes most of a second on the noise
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            os.path.join(where, "img%04d.png" % i), format="PNG", compress_level=1)


def check_blur() -> bool:
    """blur_down against a plain loop over a small odd-sized image."""
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    h, w = img.shape[:2]
    b = np.empty(img.shape, np.int64)
    for r in range(h):
        for c in range(w):
            s = sum(img[min(h - 1, max(0, r + dr)), min(w - 1, max(0, c + dc))].astype(np.int64)
                    for dr in (-1, 0, 1) for dc in (-1, 0, 1))
            b[r, c] = (s + 4) // 9
    want = np.empty((h // 2, w // 2, 3), np.int64)
    for r in range(h // 2):
        for c in range(w // 2):
            want[r, c] = (b[2 * r:2 * r + 2, 2 * c:2 * c + 2].sum(axis=(0, 1)) + 2) // 4
    return bool(np.array_equal(blur_down(img), want))


@contextlib.contextmanager
def mp_pool(ctx: Any, workers: int) -> Iterator[Any]:
    """``ctx.Pool(workers)`` that, on an exception (Ctrl-C), gives ``terminate`` 10 s.

    Its task thread may be writing a large task (a pickled image) to a pipe that no worker
    reads any more; ``Pool.terminate`` joins that thread, which then waits for ever.  The
    thread is a daemon: the process can exit without it.
    """
    pool = ctx.Pool(workers, initializer=mp_worker_init)
    try:
        yield pool
    except BaseException:
        t = threading.Thread(target=pool.terminate, daemon=True)
        t.start()
        t.join(10)
        raise
    pool.terminate()


def run_brigade(pool: brigade.Pool, names: list[str], shape: tuple[int, int, int], src: str,
                dst: str, repeat: int) -> dict[str, float]:
    """brigade's runs: segments made once, the three stages run repeat times, segments
    removed; the times of the best run."""
    count, (height, width, _) = len(names), shape
    raw = [n.encode() for n in names]
    runs = []
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        def segment(suffix: str, shape: tuple[int, ...]) -> brigade.Array:
            name = "blur-%d-%s" % (os.getpid(), suffix)
            stack.callback(remove_segment, name)  # first: an interrupt may come in between
            arr = brigade.create(name, shape, "u8")
            stack.callback(arr.close)
            return arr

        nm = segment("names", (count, max(map(len, raw))))
        for i, r in enumerate(raw):
            nm[i, :len(r)] = np.frombuffer(r, np.uint8)
        inp = segment("in", (count, height, width, 3))
        out = segment("out", (count, height // 2, width // 2, 3))
        setup = time.perf_counter() - t0
        for _ in range(repeat):
            t1 = time.perf_counter()
            pool.for_ranges(bg_decode, count, [nm, inp], (src,), schedule="dynamic", chunk=1)
            t2 = time.perf_counter()
            pool.for_ranges(bg_blur, count, [inp, out], schedule="dynamic", chunk=1)
            t3 = time.perf_counter()
            pool.for_ranges(bg_encode, count, [nm, out], (dst,), schedule="dynamic", chunk=1)
            t4 = time.perf_counter()
            runs.append({"batch_s": t4 - t1, "decode_s": t2 - t1, "compute_s": t3 - t2,
                         "encode_s": t4 - t3})
        t5 = time.perf_counter()
    best = min(runs, key=lambda r: r["batch_s"])
    best["setup_s"] = setup
    best["teardown_s"] = time.perf_counter() - t5
    best["e2e_s"] = setup + best["batch_s"] + best["teardown_s"]
    return best


def image_size(path: str) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def run(opts: argparse.Namespace, work: str) -> dict[str, Any]:
    workers, repeat = opts.workers, opts.repeat
    src = opts.dir or os.path.join(work, "in")
    os.makedirs(src, exist_ok=True)
    t0 = time.perf_counter()
    generated = not any(f.endswith(".png") for f in os.listdir(src))
    if generated:
        make_images(src, opts.count, opts.size[0], opts.size[1], opts.seed)
    gen_s = time.perf_counter() - t0
    names = sorted(f for f in os.listdir(src) if f.endswith(".png"))[:opts.count]
    sizes = {image_size(os.path.join(src, f)) for f in names}
    if len(sizes) != 1:
        raise Refused("the images of %s are not all of one size: %s"
                         % (src, sorted(sizes)))
    ((width, height),) = sizes
    count = len(names)
    need = count * height * width * 3 * 4
    if need > mem_available():
        raise Refused("%d images of %dx%d need some %d MB; MemAvailable is "
                         "less" % (count, width, height, need >> 20))
    dirs = {m: os.path.join(work, "out-" + m) for m in ("single", "multiprocessing", "brigade")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)

    def pairs(method: str) -> list[tuple[str, str]]:
        return [(os.path.join(src, f), os.path.join(dirs[method], f)) for f in names]

    res: dict[str, Any] = {
        "workers": workers, "start": opts.start, "bind": opts.bind, "repeat": repeat,
        "cpus": os.cpu_count(),
        "count": count, "size": [width, height], "dir": src, "generated": generated,
        "generate_s": gen_s if generated else None,
        "input_bytes": sum(os.path.getsize(p) for p, _ in pairs("single")),
        "blur_checked": check_blur(), "methods": {},
    }
    ms = res["methods"]

    # single process
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        for p in pairs("single"):
            process_file(p)
        best = min(best, time.perf_counter() - t)
    decoded = [decode(p) for p, _ in pairs("single")]
    ctime = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        for img in decoded:
            blur_down(img)
        ctime = min(ctime, time.perf_counter() - t)
    ms["single"] = {"e2e_s": best, "compute_s": ctime}

    # multiprocessing
    ctx = multiprocessing.get_context(opts.start)
    t = time.perf_counter()
    with mp_pool(ctx, workers) as mp:
        mp.map(check_name, range(workers), 1)  # a first job, as for brigade
        startup = time.perf_counter() - t
        best = ctime = math.inf
        for _ in range(repeat):
            t = time.perf_counter()
            mp.map(process_file, pairs("multiprocessing"), 1)
            best = min(best, time.perf_counter() - t)
        for _ in range(repeat):
            t = time.perf_counter()
            mp.map(blur_down, decoded, 1)
            ctime = min(ctime, time.perf_counter() - t)
    ms["multiprocessing"] = {"startup_s": startup, "e2e_s": best, "compute_s": ctime,
                             "compute_note": "images pickled to the workers and back"}
    del decoded

    # brigade
    t = time.perf_counter()
    with brigade.Pool(workers, start=opts.start, bind=opts.bind) as pool:
        pool.for_ranges(check_name, workers)  # a first job
        startup = time.perf_counter() - t
        ms["brigade"] = run_brigade(pool, names, (height, width, 3), src, dirs["brigade"],
                                    repeat)
    ms["brigade"]["startup_s"] = startup

    for m in ms.values():
        for k in ("e2e_s", "compute_s"):
            m["single/this_" + k[:-2]] = ms["single"][k] / m[k]
            m["mp/this_" + k[:-2]] = ms["multiprocessing"][k] / m[k]

    # the outputs, pixel for pixel
    ref = [decode(os.path.join(dirs["single"], f)) for f in names]
    res["identical"] = {}
    for m in ("multiprocessing", "brigade"):
        same = all(os.path.exists(os.path.join(dirs[m], f)) for f in names) and \
            all(np.array_equal(r, decode(os.path.join(dirs[m], f))) for r, f in zip(ref, names))
        res["identical"][m] = same
    res["output_shape"] = list(ref[0].shape) if ref else None
    res["ok"] = res["blur_checked"] and all(res["identical"].values())
    return res


def check_name(*args: Any) -> None:
    """A first job that does nothing: the workers are up and have imported this module."""


def report(res: dict[str, Any]) -> None:
    w, h = res["size"]
    print("image blur: %d images of %dx%d RGB (%d MB of PNG) from %s%s" % (
        res["count"], w, h, res["input_bytes"] >> 20, res["dir"],
        " (generated)" if res["generated"] else ""))
    print("3x3 box blur + 2x downscale; %d workers (%s, brigade bound %s), %d cpus, best of %d"
          % (res["workers"], res["start"], res["bind"], res["cpus"], res["repeat"]))
    print("  %-16s %9s %9s %12s %8s %10s %12s %8s" % (
        "method", "startup s", "e2e s", "single/this", "mp/this", "compute s", "single/this",
        "mp/this"))
    for name, m in res["methods"].items():
        print("  %-16s %9s %9.3f %12.2f %8.2f %10.4f %12.2f %8.2f" % (
            name, "%.3f" % m["startup_s"] if "startup_s" in m else "-", m["e2e_s"],
            m["single/this_e2e"], m["mp/this_e2e"], m["compute_s"], m["single/this_compute"],
            m["mp/this_compute"]))
    b = res["methods"]["brigade"]
    print("  brigade's e2e: segments made %.3f + decode %.3f + blur %.4f + encode %.3f + "
          "removed %.4f s" % (b["setup_s"], b["decode_s"], b["compute_s"], b["encode_s"],
                              b["teardown_s"]))
    print("  brigade, segments made once for many batches: %.3f s a batch, single/this %.2f, "
          "mp/this %.2f" % (b["batch_s"], res["methods"]["single"]["e2e_s"] / b["batch_s"],
                            res["methods"]["multiprocessing"]["e2e_s"] / b["batch_s"]))
    print("  multiprocessing's compute pickles each image to a worker and back")
    print("filter against a plain loop: %s; outputs equal to the single process's: %s" % (
        "right" if res["blur_checked"] else "WRONG",
        ", ".join("%s %s" % (m, "identical" if s else "DIFFERENT")
                  for m, s in res["identical"].items())))


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


def remove_segment(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        brigade.unlink(name)


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


class Refused(Exception):
    """Input this run cannot take."""


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


def size(text: str) -> tuple[int, int]:
    """WxH, as 1024x768."""
    w, h = (int(v) for v in text.lower().split("x"))
    if w < 2 or h < 2:
        raise ValueError(text)
    return w, h


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes at work in each pool (default: %(default)s)")
    ap.add_argument("--count", type=int, default=32, help="images (default: 32)")
    ap.add_argument("--size", type=size, default=(1024, 768),
                    help="generated images' WxH (default: 1024x768)")
    ap.add_argument("--dir", help="the input images; generated there when it has no PNG "
                                  "(default: a temporary directory)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the working directory (generated images, outputs)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs (default: 3)")
    ap.add_argument("--seed", type=int, default=1, help="generated images' seed (default: 1)")
    ap.add_argument("--start", choices=("fork", "spawn"), default="fork",
                    help="how both pools start their workers (default: fork)")
    ap.add_argument("--bind", choices=("compact", "scatter", "none"), default="compact",
                    help="how the brigade pool binds its processes to cores (default: "
                         "compact)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    opts = ap.parse_args(argv)
    if opts.workers < 1 or opts.repeat < 1 or opts.count < 1:
        ap.error("--workers, --repeat and --count must be at least 1")
    if Image is None:
        print("image_blur: needs Pillow (Debian: apt-get install python3-pil)",
              file=sys.stderr)
        return 2
    on_sigterm(os.getpid())
    work = tempfile.mkdtemp(prefix="image_blur-")
    try:
        res = run(opts, work)
    except Refused as e:
        print("image_blur: %s" % e, file=sys.stderr)
        return 2
    except (KeyboardInterrupt, brigade.KernelError) as e:
        why = interruption(e)
        if why is None:
            raise
        print("image_blur: %s; segments removed" % why, file=sys.stderr)
        return 130
    finally:
        if opts.keep:
            print("image_blur: kept %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["work"] = work if opts.keep else None
    if opts.json:
        print(json.dumps(res, indent=1))
    else:
        report(res)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
