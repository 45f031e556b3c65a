#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_symbols.py - the library exports exactly what include/brigade.h declares, each name
# listed in engine/libbrigade.map under a version node (no globs), nothing internal (brg__),
# and the header's version is the project's.
# usage: check_symbols.py LIBRARY HEADER MAP PROJECT_VERSION
import re
import subprocess
import sys

lib, header, mapfile, version = sys.argv[1:5]
failed = 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what)
    failed += not cond


# Declarations: BRG_EXPORT ... name(, outside preprocessor lines (a macro may write a
# plugin's function, which the library does not export).
text, skip = [], False
for line in open(header):
    if skip or line.lstrip().startswith("#"):
        skip = line.rstrip().endswith("\\")
        continue
    text.append(line)
text = re.sub(r"/\*.*?\*/", " ", "".join(text), flags=re.S)
declared = set(re.findall(r"BRG_EXPORT\b[^;{]*?\b(brg_\w+)\s*\(", text))
check(len(declared) > 50, "the header declares %d exported functions" % len(declared))

m = re.sub(r"/\*.*?\*/", " ", open(mapfile).read(), flags=re.S)
nodes = re.findall(r"(BRIGADE_[0-9.]+)\s*\{(.*?)\}", m, flags=re.S)
check(len(nodes) >= 1, "the map has version nodes (%s)" % ", ".join(n for n, _ in nodes))
listed = {}
for node, body in nodes:
    glob = body.split("local:")[0]
    check("*" not in glob, "%s: no glob among its global names" % node)
    for name in re.findall(r"\b(brg_\w+)\s*;", glob):
        check(name not in listed, "%s listed once" % name)
        listed[name] = node

out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions", lib],
                     capture_output=True, text=True, check=True).stdout
exported = {}
for line in out.splitlines():
    f = line.split()
    if len(f) == 3 and f[1] in "TtDdBbRrWwVv" and f[2].startswith("brg"):
        name, _, ver = f[2].partition("@")
        exported[name] = ver.lstrip("@")

check(not [s for s in exported if s.startswith("brg__")],
      "no internal brg__ symbol exported (%s)" % [s for s in exported if s.startswith("brg__")])
check(declared == set(listed), "header and map list the same names (only in the header: %s; "
      "only in the map: %s)" % (sorted(declared - set(listed)), sorted(set(listed) - declared)))
check(declared == set(exported), "the library exports what the header declares (missing: %s; "
      "extra: %s)" % (sorted(declared - set(exported)), sorted(set(exported) - declared)))
wrong = [s for s in exported if s in listed and exported[s] != listed[s]]
check(not wrong, "each symbol carries its map node's version (%s)" % wrong)

h = open(header).read()
parts = [re.search(r"#define BRG_VERSION_%s (\d+)" % k, h).group(1)
         for k in ("MAJOR", "MINOR", "PATCH")]
check(".".join(parts) == version, "the header's version %s is the project's %s"
      % (".".join(parts), version))

print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
