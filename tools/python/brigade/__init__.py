# SPDX-License-Identifier: MIT
"""brigade - named shared-memory arrays and a pinned worker pool, from Python.

Arrays are numpy arrays over brigade segments (``/dev/shm/NAME``, each a valid ``.npy`` file)
mapped by libbrigade; a `Pool` runs the library's built-in kernels over them in pinned worker
processes.  `brigade.shm` reads and writes the same segments without libbrigade.

>>> import brigade
>>> with brigade.Pool(workers=2) as pool, brigade.create("x", 1000, "f64", fill=1.0) as x:
...     pool.scale(x, 3.0)
...     pool.sum(x)
3000.0
>>> brigade.unlink("x")
"""

from . import shm
from ._array import (Array, atomic_add, atomic_cas, atomic_load, atomic_store, create, dtype_code,
                     gc, info, ls, open, unlink)
from ._lib import BrigadeError, KernelError, library_path
from ._pool import Job, Pool, status
from ._stream import Frame, Stream, stream_status, unlink_stream
from ._sync import Barrier, BrokenBarrierError, Event, Lock, OwnerDiedError

__all__ = ["Array", "Barrier", "BrigadeError", "BrokenBarrierError", "Event", "Frame", "Job",
           "KernelError", "Lock", "OwnerDiedError", "Pool", "atomic_add", "atomic_cas",
           "atomic_load", "atomic_store", "create", "dtype_code", "gc", "info", "library_path",
           "ls", "open", "shm", "status", "Stream", "stream_status", "unlink",
           "unlink_stream"]
__version__ = "1.1.0"
