#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# check_readme.py - the error table of the manual (tools/man/brigade.7.md) lists every code of
# include/brigade.h's BRG_ERRNO_MAP, with the same value and text, in the same order.
# usage: check_readme.py HEADER README [--print]   (--print writes the table it expects)
import re
import sys


def header_codes(path):
    text = open(path, encoding="utf-8").read()
    block = text[text.index("#define BRG_ERRNO_MAP(X)"):]
    block = block[:block.index("\n\n")]
    rows = re.findall(r'X\((\w+),\s*(-\d+),\s*"((?:[^"\\]|\\.)*)"\)', block)
    if len(rows) != block.count("X("):
        sys.exit("check_readme: could not parse every X() entry of BRG_ERRNO_MAP")
    return [("BRG_E" + n, int(v), m.replace('\\"', '"')) for n, v, m in rows]


def table(codes):
    return ["| `%s` | %d | %s |" % (n, v, m.replace("|", "\\|")) for n, v, m in codes]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: check_readme.py HEADER README [--print]")
    want = table(header_codes(sys.argv[1]))
    if sys.argv[3:] == ["--print"]:
        print("\n".join(want))
        return 0
    have = [l for l in open(sys.argv[2], encoding="utf-8").read().splitlines()
            if l.startswith("| `BRG_E")]
    failed = 0
    for i in range(max(len(want), len(have))):
        w = want[i] if i < len(want) else "(nothing)"
        h = have[i] if i < len(have) else "(nothing)"
        if w != h:
            print("README error table row %d: has %s, header says %s" % (i + 1, h, w))
            failed += 1
    print("%d codes checked, %d rows differ" % (len(want), failed))
    return 1 if failed else 0


sys.exit(main())
