#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_docs.py - the documents stay true to the code: README's code is taken from the
# examples (each C block names its example, and is an excerpt of it, in order, "/* ... */"
# marking what it leaves out),
# README stays a short page, and the manual has a page for every exported function and public
# type, each of which groff reads without a warning (where groff is installed).
# usage: check_docs.py SOURCE_ROOT BUILT_MAN_DIR
import os
import re
import shutil
import subprocess
import sys
import tempfile

root, built = sys.argv[1:3]
failed = 0


def check(cond, what):
    global failed
    print(("ok   " if cond else "FAIL ") + what)
    failed += not cond


readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
check(len(readme.splitlines()) < 250, "README.md is under 250 lines (%d)"
      % len(readme.splitlines()))
blocks = re.findall(r"```c\n(.*?)```", readme, flags=re.S)
check(len(blocks) >= 2, "README has C code (%d blocks)" % len(blocks))
for block in blocks:
    lines = block.splitlines()
    m = re.match(r"/\* (tools/examples/\w+\.c) \*/$", lines[0])
    check(m is not None, "a README C block names its example (%r)" % lines[0])
    if not m:
        continue
    # In the file's order: lines that follow each other in README follow each other in the
    # file; a "/* ... */" line marks where README leaves some out.
    src = [l.strip() for l in open(os.path.join(root, m.group(1)), encoding="utf-8")
           if l.strip()]
    pos, together, wrong = 0, False, None
    for line in (l.strip() for l in lines[1:] if l.strip()):
        if line == "/* ... */":
            together = False
            continue
        at = src.index(line, pos) if line in src[pos:] else -1
        if at < 0 or (together and at != pos):
            wrong = line
            break
        pos, together = at + 1, True
    check(wrong is None, "README's lines from %s are its lines, in its order (not: %r)"
          % (m.group(1), wrong))

header = os.path.join(root, "include", "brigade.h")
mapfile = os.path.join(root, "engine", "libbrigade.map")
exported = set(re.findall(r"^\s+(brg_\w+);", open(mapfile).read(), flags=re.M))
types = set(re.findall(r"\}\s*(brg_\w+)\s*;|typedef struct \w+ (brg_\w+);|\(\*(brg_\w+)\)",
                       open(header).read()))
types = {t for group in types for t in group if t}
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, os.path.join(root, "tools", "man", "mkman.py"), header, tmp,
                    "0"], check=True)
    pages = set(os.listdir(tmp))
    check(not {s + ".3" for s in exported} - pages,
          "a page for every exported function (none for %s)"
          % sorted({s + ".3" for s in exported} - pages))
    check(not {t + ".3" for t in types} - pages,
          "a page for every public type (none for %s)" % sorted({t + ".3" for t in types} - pages))
    check({"brigade.1", "brigade.7", "brigade-segment.5"} <= pages,
          "the pages of sections 1, 5 and 7")
    check(set(os.listdir(built)) >= pages,
          "the build made them all (reconfigure after adding to the header: missing %s)"
          % sorted(pages - set(os.listdir(built))))
    groff = shutil.which("groff")
    if groff:
        bad = []
        for p in sorted(pages):
            r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", os.path.join(tmp, p)],
                               capture_output=True, text=True)
            if r.returncode or r.stderr:
                bad.append("%s: %s" % (p, r.stderr.strip()[:120]))
        check(not bad, "groff reads every page without a warning (%s)" % bad[:5])
    else:
        print("skip groff: not installed")

print("%d checks failed" % failed)
sys.exit(1 if failed else 0)
