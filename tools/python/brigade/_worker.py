# SPDX-License-Identifier: MIT
"""brigade._worker - a spawned worker of a Python pool (``Pool(start="spawn")``).

The pool starts the interpreter with arguments that put the caller's ``sys.path`` first, name
the caller's libbrigade and call `main`, which hands the Python kernels' dispatcher to
``brg_worker_run``: it pins this process, attaches to the control block and runs jobs until
the pool ends.
"""

from __future__ import annotations

import ctypes
import sys

from . import _kernels, _lib


def main() -> None:
    argv = (ctypes.c_char_p * 5)(b"brigade-py-worker", *[a.encode() for a in sys.argv[-3:]],
                                 None)
    rc = _lib.lib().brg_worker_run(4, argv, _kernels.TABLE, len(_kernels.TABLE),
                                   ctypes.sizeof(_lib.Kernel))
    sys.exit(rc)
