# SPDX-License-Identifier: MIT
"""python3 -m brigade ls | info NAME | status POOL|STREAM | gc [--dry-run]: what ``brigade ...
--json`` prints."""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import gc, info, ls, status, stream_status
from ._lib import BrigadeError


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the exit status (0, 1 on failure, 2 on a usage error)."""
    ap = argparse.ArgumentParser(prog="python3 -m brigade",
                                 description="brigade segments and pools, as JSON")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("ls", help="the caller's brigade segments")
    sub.add_parser("info", help="one segment").add_argument("name")
    sub.add_parser("status", help="a pool's participants, or a stream's state").add_argument(
        "pool")
    sub.add_parser("gc", help="remove the segments of exited creators").add_argument(
        "--dry-run", action="store_true")
    args = ap.parse_args(argv)
    try:
        if args.command in ("ls", "gc"):
            rows = ls() if args.command == "ls" else gc(args.dry_run)
            print("[" + ",".join("\n " + json.dumps(r) for r in rows) + ("\n]" if rows else "]"))
        elif args.command == "info":
            print(json.dumps(info(args.name)))
        else:
            d = status(args.pool)
            if d.get("kind") == "stream":  # the rate, over 0.1 s as the CLI watches
                time.sleep(0.1)
                d2 = stream_status(args.pool)
                d2["frames_per_s"] = (d2["published"] - d["published"]) / 0.1
                d = d2
            print(json.dumps(d))
    except (OSError, BrigadeError) as e:
        print("python3 -m brigade %s: %s" % (args.command, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
