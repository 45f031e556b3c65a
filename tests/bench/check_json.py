#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_json.py - `brigade bench --json` prints one JSON document with the documented shape.
# usage: check_json.py BRIGADE
import json
import subprocess
import sys

IMPLS = {"brigade", "openmp", "openblas", "serial", "numpy", "py-pool-pickle", "py-pool-shm"}
UNITS = {"GB/s", "GFLOP/s", "us", "ns"}
KERNELS = {"triad", "dot", "sumsq", "stencil3", "dgemm", "empty", "claim", "start"}

out = subprocess.run([sys.argv[1], "bench", "--quick", "--json", "--workers", "1",
                      "--kernels", "triad,empty,claim,start"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
doc = json.loads(out)  # one document, nothing else on stdout
failed = 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what)
    failed += not cond


check(isinstance(doc.get("machine"), dict) and doc["machine"].get("cores", 0) >= 1,
      "machine: an object with cores")
recs = doc.get("records", [])
check(len(recs) > 0, "records: not empty")
for r in recs:
    ok = (r.get("kernel") in KERNELS and r.get("impl", "").split(" ")[0] in IMPLS
          and r.get("workers") == 1 and r.get("unit") in UNITS
          and all(isinstance(r.get(k), (int, float)) for k in ("n", "median_s", "min_s",
                                                                "max_s", "rate"))
          and r["min_s"] <= r["median_s"] <= r["max_s"])
    check(ok, "record %s/%s: fields and min <= median <= max" % (r.get("kernel"),
                                                                  r.get("impl")))
kinds = {(r["kernel"], r["impl"]) for r in recs}
for k in ("triad", "empty", "claim", "start"):
    check((k, "brigade") in kinds, "a brigade record for " + k)
check(("triad", "openmp") in kinds or ("triad", "serial") in kinds, "a peer record for triad")
print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
