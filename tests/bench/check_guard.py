#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_guard.py - what `brigade bench` owes the machine: a --size over the budget is refused;
# Ctrl-C or SIGTERM stop the peers and remove every segment of the run (the Python Pool's
# SharedMemory too); a peer killed from outside is reported with its cause and the run goes
# on; under the memory floor the bench stops its peers itself.
# usage: check_guard.py BRIGADE
import json
import os
import signal
import subprocess
import sys
import time

brigade = sys.argv[1]
failed = 0
have_numpy = subprocess.run(["/usr/bin/python3", "-c", "import numpy"],
                            capture_output=True).returncode == 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    failed += not cond


def wait_for(pred, timeout, step=0.01):
    """Polls pred until it returns something true or timeout seconds pass; returns it."""
    end = time.monotonic() + timeout
    while True:
        got = pred()
        if got or time.monotonic() > end:
            return got
        time.sleep(step)


def segments(pid, prefix=""):
    names = ("brg-bench-%d-%s" % (pid, prefix), "brg-pool-%d-" % pid)
    return sorted(n for n in os.listdir("/dev/shm") if n.startswith(names))


def children():
    """{pid: (ppid, cmdline)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(d)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return out


def descendants(pid):
    procs = children()
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for c, (pp, _) in procs.items():
            if pp == p and c not in found:
                found.add(c)
                todo.append(c)
    return found


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def bench(*args):
    return subprocess.Popen([brigade, "bench", "--quick", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(b):
    """Waits for a --json bench; its records by (kernel, impl) and its document."""
    out, _ = b.communicate(timeout=240)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {"records": [], "notes": []}
    return {(r["kernel"], r["impl"]): r for r in doc["records"]}, doc


# ---- sizes ----
p = subprocess.run([brigade, "bench", "--size", "64T"], capture_output=True, text=True,
                   timeout=60)
check(p.returncode == 1 and "--force" in p.stderr and "budget" in p.stderr,
      "--size over the budget: exit 1, the budget and --force named (%r)" % p.stderr[-200:])
for bad in (["--size", "12X"], ["--size", "0"], ["--size", "-5M"], ["--force"],
            ["--llc", "M"]):
    p = subprocess.run([brigade, "bench", *bad], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2, "%s: a usage error (exit %d)" % (" ".join(bad), p.returncode))

# ---- an interrupt while brigade's arrays and the peers are alive ----
for sig in (signal.SIGINT, signal.SIGTERM):
    b = bench("--workers", "1", "--kernels", "triad,dot,sumsq,stencil3", "--rounds", "3")
    # Arrays made (not only the pool's control block), and the peers started.
    got = wait_for(lambda: [n for n in segments(b.pid) if "-pool-" not in n]
                   and len(descendants(b.pid)) >= 3 and segments(b.pid), 120)
    kids = descendants(b.pid)
    check(bool(got) and len(kids) >= 2,
          "%s: the run made segments (%s) and peers (%d processes)"
          % (sig.name, ", ".join(got), len(kids)))
    b.send_signal(sig)
    try:
        out, err = b.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        b.kill()
        out, err = b.communicate()
    check(b.returncode == -sig, "%s: the bench dies of it (%s)" % (sig.name, b.returncode))
    check("segments removed" in err, "%s: it says what it cleaned" % sig.name)
    check(not segments(b.pid), "%s: no segment of the run is left (%s)"
          % (sig.name, ", ".join(segments(b.pid))))
    left = wait_for(lambda: not [k for k in kids if alive(k)], 10)
    check(left, "%s: no peer or worker outlives it (%s)"
          % (sig.name, [k for k in kids if alive(k)]))

# ---- SIGTERM while py-pool-shm's SharedMemory exists ----
if have_numpy:
    # Many repeats keep its segments alive long enough to be caught.
    b = bench("--workers", "1", "--kernels", "triad", "--rounds", "1", "--repeat", "40")
    # All three (a, b, c): the peer makes them one after another.
    got = wait_for(lambda: len(segments(b.pid, "py-")) == 3 and segments(b.pid, "py-"), 180,
                   0.002)
    kids = descendants(b.pid)
    there = segments(b.pid, "py-")
    b.send_signal(signal.SIGTERM)
    out, err = b.communicate(timeout=60)
    check(bool(got) and len(there) == 3,
          "py-pool-shm's SharedMemory carries the run's prefix, and is there as the signal "
          "is sent (%s)" % ", ".join(there))
    check(b.returncode == -signal.SIGTERM and not segments(b.pid),
          "SIGTERM during py-pool-shm: dies of it, nothing left (%s)"
          % ", ".join(segments(b.pid)))
    check(wait_for(lambda: not [k for k in kids if alive(k)], 10),
          "SIGTERM during py-pool-shm: the Pool's workers are gone")
else:
    print("skip py-pool-shm: numpy is not installed for /usr/bin/python3")

# ---- a peer killed from outside: its cause, and the run goes on ----
# The serial peer (built whatever the options), kept busy by many repeats.
b = bench("--json", "--workers", "1", "--kernels", "triad,dot", "--rounds", "1", "--repeat",
          "30")


def serial_peer_with_data():
    kids = descendants(b.pid)
    for pid, (_, cmd) in children().items():
        if pid in kids and "--impl serial" in cmd:
            try:
                with open("/proc/%d/status" % pid) as f:
                    rss = [int(x.split()[1]) for x in f if x.startswith("VmRSS:")]
            except OSError:
                continue
            if rss and rss[0] > 64 * 1024:  # its arrays are made: it is serving
                return pid
    return None


victim = wait_for(serial_peer_with_data, 120)
check(victim is not None, "the serial peer was found with its data")
if victim:
    os.kill(victim, signal.SIGKILL)
recs, doc = finish(b)
check(b.returncode == 1, "a peer killed from outside: the bench exits 1 (%d)" % b.returncode)
check(all(recs.get((k, "brigade"), {}).get("status") == "ok" for k in ("triad", "dot")),
      "a peer killed from outside: brigade's kernels are still measured")
cause = "killed by SIGKILL from outside the bench"
said = [r.get("note", "") for (k, i), r in recs.items() if i == "serial"] + \
       [n for n in doc["notes"] if n.startswith("serial ")]
check(any(cause in x for x in said), "the serial peer's records or notes name the cause (%s)"
      % said)
check(recs.get(("dot", "openblas"), {}).get("status") == "ok",
      "the other peers go on (OpenBLAS's dot)")

# ---- under the memory floor, the bench stops its peers itself ----
b = bench("--json", "--workers", "1", "--kernels", "dot", "--rounds", "1", "--mem-floor", "64T")
recs, doc = finish(b)
check(b.returncode == 1, "memory floor: the bench exits 1 (%d)" % b.returncode)
check(recs.get(("dot", "brigade"), {}).get("status") == "ok",
      "memory floor: brigade's dot is still measured")
# Stopped before it said it was ready (a note), or while serving (its record).
stopped = [i for i in ("serial", "openmp", "openblas", "numpy")
           if "available memory" in recs.get(("dot", i), {}).get("note", "")
           or any(n.startswith(i + " ") and "available memory" in n for n in doc["notes"])]
want = ["serial", "openmp", "openblas"]
if not doc.get("machine", {}).get("numpy", "unavailable").startswith("unavailable"):
    want.append("numpy")
check(stopped == want, "memory floor: each peer was stopped, and says so (%s)"
      % ", ".join(stopped))
check(any("floor" in n for n in doc["notes"]), "memory floor: a note says so")
check(not segments(b.pid), "memory floor: nothing left")

print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
