#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check_py_examples.py - the Python examples (tools/examples/*.py) run at small sizes, under
both start methods, give right results and leave nothing in /dev/shm.

usage: check_py_examples.py EXAMPLES_DIR

Runs each example as a user would, in a child process with this environment (meson sets
BRIGADE_LIBRARY and PYTHONPATH), and checks its exit status, the exact integer it prints,
its JSON figures' verdicts, and that no /dev/shm entry names its pid afterwards.  Times are
printed by the examples but never checked.  Prints one line per check; exits 0, 1 on any
failure, 77 when numpy or brigade cannot be imported (the image example alone is skipped
when Pillow is missing).
"""

import json
import os
import subprocess
import sys

try:
    import numpy  # noqa: F401
    import brigade  # noqa: F401
except ImportError as e:
    print("SKIP: %s" % e)
    sys.exit(77)

failures = []


def check(label, cond, detail=""):
    print("%s %s%s" % ("ok  " if cond else "FAIL", label,
                       ": %s" % (detail,) if detail and not cond else ""))
    if not cond:
        failures.append(label)


def run(label, argv, status=0):
    """Runs an example, checks its exit status and that it left nothing in /dev/shm;
    returns its stdout."""
    proc = subprocess.Popen([sys.executable] + argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += "\n(killed after 240 s)"
    left = [f for f in os.listdir("/dev/shm") if str(proc.pid) in f.split("-")]
    if proc.returncode != status:
        print("---- %s: stdout\n%s---- stderr\n%s----" % (label, out, err))
    check("%s: exit status %d" % (label, status), proc.returncode == status, proc.returncode)
    check("%s: nothing left in /dev/shm" % label, not left, left)
    return out


def sum_squares(n):
    return n * (n + 1) * (2 * n + 1) // 6


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_py_examples.py EXAMPLES_DIR")
    where = sys.argv[1]
    sumsq = os.path.join(where, "sum_squares.py")
    blur = os.path.join(where, "image_blur.py")
    n = 10**6 + 3  # not a multiple of the blocks: the last block is short
    fn = 10**6
    exact = sum_squares(n)

    out = run("sum_squares fork", [sumsq, "--workers", "2", "--n", str(n),
                                       "--float-n", str(fn), "--repeat", "1"])
    check("sum_squares fork: prints %d as exact" % exact,
          (": %d " % exact) in out and "WRONG" not in out, out)

    out = run("sum_squares spawn --json", [sumsq, "--workers", "2", "--n", str(n),
                                               "--float-n", str(fn), "--repeat", "1",
                                               "--start", "spawn", "--json"])
    try:
        res = json.loads(out)
    except ValueError as e:
        res = None
        check("sum_squares --json: one JSON object", False, e)
    if res is not None:
        im, fm = res["int"]["methods"], res["float"]["methods"]
        check("sum_squares --json: the exact integer", res["int"]["exact"] == exact,
              res["int"]["exact"])
        for m in ("single", "multiprocessing", "brigade"):
            check("sum_squares --json: %s gives %d" % (m, exact),
                  im.get(m, {}).get("result") == exact and im[m]["ok"], im.get(m))
        for m in ("single", "multiprocessing", "brigade", "brigade-sumsq"):
            check("sum_squares --json: float64 %s within rtol" % m,
                  fm.get(m, {}).get("ok") is True, fm.get(m))
        check("sum_squares --json: brigade's float64 sum has multiprocessing's bits",
              res["float"]["brigade_equals_mp"] is True)
        check("sum_squares --json: ok", res["ok"] is True)

    run("sum_squares --n 0 is refused", [sumsq, "--n", "0"], status=2)

    out = run("shared_counter", [os.path.join(where, "shared_counter.py"), "--procs", "3",
                                 "--adds", "2000", "--json"])
    try:
        res = json.loads(out)["results"]
        check("shared_counter: brigade's atomic add is exact",
              res["brigade atomic_add"]["count"] == 6000, res["brigade atomic_add"])
        check("shared_counter: the count under brigade's Lock is exact",
              res["brigade Lock"]["count"] == 6000, res["brigade Lock"])
        check("shared_counter: the locked Value is exact",
              res["multiprocessing Value, locked"]["count"] == 6000)
    except (ValueError, KeyError) as e:
        check("shared_counter: one JSON object with each side", False, e)

    out = run("pipeline", [os.path.join(where, "pipeline.py"), "--frames", "300", "--size",
                           "1024", "--workers", "2", "--kill", "--json"])
    try:
        res = json.loads(out)["results"]
        for side in ("brigade streams", "multiprocessing.Queue"):
            check("pipeline: %s, every result right, none missing" % side,
                  res[side]["wrong"] == 0 and res[side]["missing"] == 0, res[side])
        check("pipeline: a brigade worker was killed mid-run",
              res["brigade streams"]["killed"] == 1)
    except (ValueError, KeyError) as e:
        check("pipeline: one JSON object with each side", False, e)

    try:
        import PIL  # noqa: F401
    except ImportError as e:
        print("skip image_blur: Pillow cannot be imported (%s); Debian: python3-pil" % e)
        return 1 if failures else 0
    for start in ("fork", "spawn"):
        label = "image_blur %s" % start
        out = run(label, [blur, "--workers", "2", "--count", "4", "--size", "64x48",
                              "--repeat", "1", "--start", start, "--json"])
        try:
            res = json.loads(out)
        except ValueError as e:
            check("%s: one JSON object" % label, False, e)
            continue
        check("%s: the filter agrees with a plain loop" % label, res["blur_checked"] is True)
        for m in ("multiprocessing", "brigade"):
            check("%s: %s's files are pixel-equal to the single process's" % (label, m),
                  res["identical"].get(m) is True)
        check("%s: 32x24 outputs" % label, res["output_shape"] == [24, 32, 3],
              res["output_shape"])
        check("%s: ok" % label, res["ok"] is True)
    out = run("image_blur odd size", [blur, "--workers", "2", "--count", "3", "--size",
                                          "33x21", "--repeat", "1"])
    check("image_blur odd size: identical outputs",
          "multiprocessing identical, brigade identical" in out, out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
