#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_json.py - `brigade bench --json` prints one JSON document with the documented shape.
# usage: check_json.py BRIGADE
import json
import subprocess
import sys

IMPLS = {"brigade", "py-brigade", "openmp", "openmp-llvm", "openblas", "serial", "numpy",
         "py-pool-pickle", "py-pool-shm", "py-brigade-fn"}
UNITS = {"GB/s", "GFLOP/s", "us", "ns", "Gstep/s"}
KERNELS = {"triad", "dot", "sumsq", "stencil3", "dgemm", "empty", "claim", "barrier", "pfor",
           "imb-dynamic", "imb-guided", "imb-auto", "imb-static", "start"}

# Three rounds: the third skips the Python Pools, so both paired and unpaired ratios appear.
out = subprocess.run([sys.argv[1], "bench", "--quick", "--json", "--workers", "1",
                      "--kernels", "triad,empty,claim,start", "--rounds", "3"],
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
seen = set()
for r in recs:
    ident = (r.get("kernel"), r.get("impl"), r.get("first"), r.get("status"))
    check(ident not in seen, "record %s/%s (%s): once" % (ident[0], ident[1], ident[3]))
    seen.add(ident)
    if r.get("status") == "skipped":  # e.g. the OpenMP peer of a build without OpenMP
        check(r.get("kernel") in KERNELS and bool(r.get("note")),
              "skipped record %s/%s: says why" % (r.get("kernel"), r.get("impl")))
        continue
    ok = (r.get("kernel") in KERNELS and r.get("impl", "").split(" ")[0] in IMPLS
          and r.get("workers") == 1 and r.get("unit") in UNITS
          and all(isinstance(r.get(k), (int, float)) for k in ("n", "median_s", "min_s",
                                                                "max_s", "rate"))
          and r["min_s"] <= r["median_s"] <= r["max_s"])
    check(ok, "record %s/%s: fields and min <= median <= max" % (r.get("kernel"),
                                                                  r.get("impl")))
cfg = doc.get("config", {})
check(cfg.get("rounds") == 3 and cfg.get("full_rounds") == 2, "config: rounds 3, full_rounds 2")


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


by = {(r["kernel"], r["impl"]): r for r in recs if not r.get("first")}
for (k, impl), r in sorted(by.items()):
    if r.get("status") != "ok" or k == "start":
        continue
    pools = impl.startswith("py-pool") or impl == "py-brigade-fn"  # run once, after a round
    want = 2 if pools else 3
    check(len(r.get("round_rates", [])) == want,
          "%s/%s: one rate per round it ran in (%d)" % (k, impl, want))
    if impl == "brigade":
        continue
    b = by[(k, "brigade")]
    pairs = r.get("vs_brigade_pairs")
    if not pools:
        # brigade and the peer took turns: run i of one and run i of the other are a pair.
        exp = [p / q for p, q in zip(r["samples"], b["samples"])]
        check(r.get("vs_brigade_pairing") == "turns" and len(r["samples"]) == len(b["samples"])
              and isinstance(pairs, list) and len(pairs) == len(exp)
              and all(abs(x - y) <= 1e-3 * abs(y) for x, y in zip(pairs, exp))
              and abs(r["vs_brigade"] - median(exp)) <= 1e-3 * median(exp),
              "%s/%s: vs_brigade is the median of the ratios of runs of the same turn"
              % (k, impl))
    else:
        exp = r["median_s"] / b["median_s"] if r["unit"] in ("us", "ns") else b["rate"] / r["rate"]
        check(r.get("vs_brigade_pairing") == "none" and pairs == []
              and abs(r["vs_brigade"] - exp) <= 1e-3 * exp,
              "%s/%s: unpaired, vs_brigade from the medians" % (k, impl))
kinds = {(r["kernel"], r["impl"]) for r in recs}
for k in ("triad", "empty", "claim", "start"):
    check((k, "brigade") in kinds, "a brigade record for " + k)
check(("triad", "openmp") in kinds or ("triad", "serial") in kinds, "a peer record for triad")

# The EPCC overheads and the imbalance loops, in one round: every record checked, and brigade's
# imbalance loops set beside the better OpenMP peer.
out = subprocess.run([sys.argv[1], "bench", "--quick", "--json", "--workers", "1", "--kernels",
                      "barrier,pfor,imb-dynamic,imb-auto", "--rounds", "1"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
doc = json.loads(out)
recs = [r for r in doc.get("records", []) if r.get("status") != "skipped"]
check(recs and all(r.get("status") == "ok" for r in recs), "EPCC and imbalance: every record ok")
omp = {"openmp", "openmp-llvm"} if doc["config"].get("libomp") else {"openmp"}
by = {(r["kernel"], r["impl"]): r for r in recs}
for k in ("barrier", "pfor", "imb-dynamic"):
    check({"brigade"} | omp <= {i for (kk, i) in by if kk == k},
          "%s: brigade and the OpenMP peers (%s)" % (k, ", ".join(sorted(omp))))
check(not {i for (kk, i) in by if kk == "imb-auto"} - {"brigade"},
      "imb-auto: brigade's alone (OpenMP's auto is another schedule)")
for k in ("imb-dynamic", "imb-auto"):
    b = by.get((k, "brigade"), {})
    best = b.get("best_openmp", "")
    check(isinstance(b.get("vs_best_openmp"), (int, float)) and best.split(" ")[0] in omp
          and (k != "imb-auto" or best.split(" ")[1:] in (["dynamic"], ["guided"])),
          "%s: brigade's record names the better OpenMP peer (%s)" % (k, best))
    check(b.get("unit") == "Gstep/s" and b.get("n") == doc["config"].get("imb_n"),
          "%s: a rate in Gstep/s over imb_n indices" % k)
print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
