#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_peer.py - the command protocol of the bench's serving peers (brigade-bench-peer, its
# libomp build brigade-bench-peer-libomp, and peers.py's numpy: KERNEL REPEAT, drop), and what
# `brigade bench` does when a peer goes away between its turns.
# usage: check_peer.py BRIGADE PEER_HELPER PEERS_PY [LIBOMP_PEER_HELPER]
import json
import os
import stat
import subprocess
import sys
import tempfile

brigade, helper, peers_py = sys.argv[1:4]
libomp_helper = sys.argv[4] if len(sys.argv) > 4 else None
failed = 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what)
    failed += not cond


def serve(argv, commands, env=None):
    """Runs a peer with the commands on its stdin; returns its exit status and JSON lines."""
    p = subprocess.run(argv, input="".join(c + "\n" for c in commands), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    return p.returncode, [json.loads(line) for line in p.stdout.splitlines()]


def tri(i):  # bench/loops.h: b = 1 + 0.5 (i % 7), c = 2 - 0.25 (i % 5), a = b + 3 c
    return 1.0 + 0.5 * (i % 7) + 3.0 * (2.0 - 0.25 * (i % 5))


n = 1000
want_triad = sum(tri(i) for i in range(n))
want_dot = sum((1.0 + 0.5 * (i % 7)) * (2.0 - 0.25 * (i % 5)) for i in range(n))

# ---- brigade-bench-peer ----
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
for impl in ("serial", "openmp", "openblas"):
    rc, lines = serve([helper, "--impl", impl, "--workers", "1", "--n", str(n), "--rows", "8",
                       "--cols", "16", "--gemm-n", "8", "--claim-n", "100", "--empty-batch", "2"],
                      ["dot 3", "triad 2", "dot 1", "bogus 1", "dot 0", "dot", "stencil3 1",
                       "empty 2", "claim 1", "drop", "dot 1", "drop", "drop"],
                      env)
    check(rc == 0, "%s: exits 0 at the end of its stdin" % impl)
    check(len(lines) == 14 and lines[0].get("ready") is True,
          "%s: a ready line, then one line per command (%d lines)" % (impl, len(lines)))
    if len(lines) != 14:
        continue
    ans = lines[1:]
    check(all(ans[i].get("dropped") is True for i in (9, 11, 12)),
          "%s: 'drop' answers {\"dropped\": true}, with data or without" % impl)
    if "skipped" not in ans[10]:
        check(abs(ans[10].get("value", 0) - want_dot) <= 1e-9 * want_dot,
              "%s: dot after a drop makes its data again" % impl)
    if "OpenMP" in ans[0].get("skipped", ""):
        # Built without OpenMP: every well-formed command is skipped, none is an error.
        check(all("skipped" in ans[i] for i in (0, 1, 2, 3, 6, 7, 8)),
              "openmp without OpenMP: every well-formed command is skipped")
        continue
    if impl == "openmp":
        check(ans[7].get("kernel") == "empty" and len(ans[7].get("samples", [])) == 2
              and ans[8].get("kernel") == "claim" and len(ans[8].get("samples", [])) == 1,
              "openmp: empty and claim answer their samples")
    else:
        check("error" in ans[7] and "error" in ans[8],
              "%s: empty and claim are the OpenMP peer's only (error lines)" % impl)
    check(ans[0].get("kernel") == "dot" and len(ans[0].get("samples", [])) == 3
          and abs(ans[0]["value"] - want_dot) <= 1e-9 * want_dot,
          "%s: 'dot 3' answers three samples and the dot product" % impl)
    if impl == "openblas":
        check("skipped" in ans[1], "openblas: triad is skipped (OpenBLAS has none)")
        check("skipped" in ans[6], "openblas: stencil3 is skipped")
    else:
        check(ans[1].get("kernel") == "triad" and len(ans[1]["samples"]) == 2
              and abs(ans[1]["value"] - want_triad) <= 1e-9 * want_triad,
              "%s: 'triad 2' answers two samples and the sum of a" % impl)
        check(ans[6].get("kernel") == "stencil3" and len(ans[6].get("samples", [])) == 1,
              "%s: stencil3 after the stream kernels (other data)" % impl)
    check(abs(ans[2].get("value", 0) - want_dot) <= 1e-9 * want_dot,
          "%s: dot again, on the same data, gives the same value" % impl)
    check(ans[3].get("kernel") == "bogus" and "error" in ans[3],
          "%s: an unknown kernel is an error line, and the peer goes on" % impl)
    check("error" in ans[4] and "error" in ans[5],
          "%s: a repeat of 0 and a missing repeat are error lines" % impl)



def mix_sum(n, cost=4):
    """bench/loops.h's imbalance loop: the sum of its outputs over indices [0, n)."""
    mask, total = (1 << 64) - 1, 0
    for i in range(n):
        x = 0x9E3779B97F4A7C15 ^ i
        for _ in range(cost * i):
            x = ((x ^ (x >> 31)) * 0xBF58476D1CE4E5B9) & mask
        total += 1 + (x >> 44)
    return total


# ---- the EPCC overheads and the imbalance loops: the OpenMP peers' alone ----
imb_n = 64
want_imb = mix_sum(imb_n)
epcc = ["barrier 2", "pfor 2", "imb-dynamic 2", "imb-guided 1", "imb-static 2", "imb-auto 1"]
omp_peers = [(helper, "openmp")]
if libomp_helper:
    omp_peers.append((libomp_helper, "openmp-llvm"))
else:
    print("skip openmp-llvm: brigade was built without the libomp peer")
for path, impl in omp_peers:
    rc, lines = serve([path, "--impl", impl, "--workers", "2", "--empty-batch", "5",
                       "--pfor-batch", "3", "--imb-n", str(imb_n)], epcc, env)
    check(rc == 0 and len(lines) == 1 + len(epcc), "%s: one line per command" % impl)
    if len(lines) != 1 + len(epcc):
        continue
    ans = lines[1:]
    if "OpenMP" in ans[0].get("skipped", ""):
        check(all("skipped" in a for a in ans), "%s without OpenMP: every command skipped" % impl)
        continue
    check(ans[0].get("kernel") == "barrier" and len(ans[0].get("samples", [])) == 2
          and ans[1].get("kernel") == "pfor" and ans[1].get("n") == 128 * 2,
          "%s: barrier and pfor answer (pfor: 128 iterations a thread)" % impl)
    check(all(ans[i].get("n") == imb_n and ans[i].get("value") == want_imb for i in (2, 3, 4)),
          "%s: dynamic, guided and static imbalance loops give the sum of the serial loop"
          % impl)
    check("error" in ans[5], "%s: imb-auto is brigade's alone (an error line)" % impl)
rc, lines = serve([helper, "--impl", "serial", "--workers", "1"], epcc[:3], env)
check(rc == 0 and len(lines) == 4 and all("error" in a for a in lines[1:]),
      "serial: barrier, pfor and the imbalance loops are the OpenMP peers' (error lines)")
if libomp_helper:
    rc, lines = serve([libomp_helper, "--impl", "openmp-llvm", "--workers", "1", "--n", str(n),
                       "--rows", "8", "--cols", "16"],
                      ["dot 1", "triad 1", "stencil3 1", "empty 1", "claim 1", "dgemm 1"], env)
    check(rc == 0 and len(lines) == 7 and lines[0].get("impl") == "openmp-llvm",
          "openmp-llvm: a ready line, one line per command")
    if len(lines) == 7:
        check(abs(lines[1].get("value", 0) - want_dot) <= 1e-9 * want_dot
              and abs(lines[2].get("value", 0) - want_triad) <= 1e-9 * want_triad
              and len(lines[3].get("samples", [])) == 1,
              "openmp-llvm: dot, triad and stencil3 as the libgomp peer answers them")
        check(all(len(lines[i].get("samples", [])) == 1 for i in (4, 5))
              and "error" in lines[6], "openmp-llvm: empty and claim answer; dgemm is an error")
    for path, impl in ((libomp_helper, "openmp"), (libomp_helper, "serial"),
                       (helper, "openmp-llvm")):
        p = subprocess.run([path, "--impl", impl, "--workers", "1"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 2 and p.stdout == b"",
              "%s --impl %s: exit 2 (each build serves its own)" % (os.path.basename(path), impl))

rc, lines = serve([helper, "--impl", "openmp", "--workers", "1"], [], env)
check(rc == 0 and len(lines) == 1 and lines[0].get("ready") is True,
      "an empty stdin: the ready line, then exit 0")
p = subprocess.run([helper, "--impl", "nope", "--workers", "1"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
check(p.returncode == 2 and p.stdout == b"", "an unknown --impl: exit 2, nothing on stdout")

# ---- peers.py numpy ----
try:
    import numpy  # noqa: F401
    have_numpy = True
except ImportError:
    have_numpy = False
if have_numpy:
    rc, lines = serve(["/usr/bin/python3", peers_py, "--impl", "numpy", "--workers", "1",
                       "--n", str(n), "--gemm-n", "8"],
                      ["sumsq 2", "triad 1", "dgemm 1", "stencil3 1", "x", "drop",
                       "dot 1"], env)
    check(rc == 0 and len(lines) == 8 and lines[0].get("ready") is True,
          "numpy: a ready line, one line per command, exit 0")
    if len(lines) == 8:
        check(lines[6].get("dropped") is True
              and abs(lines[7].get("value", 0) - want_dot) <= 1e-9 * want_dot,
              "numpy: 'drop' answers, and dot after it makes its data again")
        check(len(lines[1].get("samples", [])) == 2, "numpy: 'sumsq 2' answers two samples")
        check(abs(lines[2].get("value", 0) - want_triad) <= 1e-9 * want_triad,
              "numpy: triad's value is the sum of a")
        check(lines[3].get("kernel") == "dgemm" and lines[3].get("n") == 8,
              "numpy: dgemm on its own data")
        check("error" in lines[4] and "error" in lines[5],
              "numpy: a kernel it has not and a bad command are error lines")
else:
    print("skip numpy: not installed")

# ---- a peer that goes away after its first answer ----
FAKE = r"""#!/usr/bin/python3
# Says it is ready, answers one dot command rightly, then exits.
import json, sys
args = sys.argv[1:]
n = int(args[args.index("--n") + 1])
per = [(1.0 + 0.5 * (i % 7)) * (2.0 - 0.25 * (i % 5)) for i in range(35)]
dot = sum(per) * (n // 35) + sum(per[: n % 35])  # exact: multiples of 1/8
print(json.dumps({"ready": True}), flush=True)
words = sys.stdin.readline().split()
print(json.dumps({"kernel": words[0], "impl": args[args.index("--impl") + 1], "workers": 1,
                  "n": n, "samples": [0.001], "value": dot}), flush=True)
"""
with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "short-lived-peer")
    with open(fake, "w") as f:
        f.write(FAKE)
    os.chmod(fake, stat.S_IRWXU)
    p = subprocess.run([brigade, "bench", "--quick", "--json", "--workers", "1", "--kernels",
                        "dot", "--rounds", "1", "--repeat", "3"],
                       env=dict(os.environ, BRG_BENCH_PEER=fake), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=240)
    check(p.returncode == 1, "a peer gone mid-round: the bench exits 1 (%d)" % p.returncode)
    try:
        recs = json.loads(p.stdout)["records"]
    except (ValueError, KeyError):
        recs = []
    by = {r["impl"]: r for r in recs if r["kernel"] == "dot"}
    check(by.get("brigade", {}).get("status") == "ok",
          "a peer gone mid-round: brigade's own dot is still measured")
    gone = [i for i in ("serial", "openmp", "openblas")
            if by.get(i, {}).get("status") == "failed" and "gone" in by[i].get("note", "")]
    check(len(gone) == 3, "a peer gone mid-round: each C peer's record says it is gone (%s)"
          % ", ".join(gone))

# ---- the bench run with its stdin closed: the peers' stdin pipe must still reach them ----
p = subprocess.run([brigade, "bench", "--quick", "--json", "--workers", "1", "--kernels", "dot",
                    "--rounds", "1"], preexec_fn=lambda: os.close(0), stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True, timeout=240)
try:
    recs = json.loads(p.stdout)["records"]
except (ValueError, KeyError):
    recs = []
ok = [r["impl"] for r in recs if r["kernel"] == "dot" and r["status"] in ("ok", "skipped")]
check(p.returncode == 0 and {"serial", "openmp", "openblas"} <= set(ok),
      "stdin closed: the bench exits 0 and the C peers answer (%s)" % ", ".join(ok))

print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
