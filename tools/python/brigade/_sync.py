# SPDX-License-Identifier: MIT
"""Named locks, events and barriers shared by processes (``brg_lock``, ``brg_event``,
``brg_barrier``): what multiprocessing's Lock, Event and Barrier do, by name, for any
process, and safe when a party is killed.

Each is a small brigade segment of its own kind: ``brigade ls`` lists it, `brigade.unlink`
removes it, ``gc`` collects it once its creator is gone (unless persistent).  An object
pickles as its name, so passing one to another process opens the same one there.  Blocking
calls release the GIL.
"""

from __future__ import annotations

import ctypes
import errno
import math
import threading
import time
import weakref
from typing import Any

from . import _lib
from ._lib import BrigadeError, check

__all__ = ["Lock", "Event", "Barrier", "BrokenBarrierError", "OwnerDiedError"]

_CREATE_PERSISTENT = 0x1
_CREATE_SHARED = 0x2
_EOWNERDEAD = -4042
_EBROKEN = -4043


class BrokenBarrierError(BrigadeError):
    """``BRG_EBROKEN``: a member of the barrier died, a waiter timed out, or it was reset
    while this one waited.  It stays broken until `Barrier.reset`."""


class OwnerDiedError(BrigadeError):
    """``BRG_EOWNERDEAD``, raised by `Lock.acquire` with ``strict=True``: the lock is now
    held by this thread, but its last holder died holding it."""


def _ms(block: bool, timeout: float | None) -> int:
    if not block:
        return 0
    if timeout is None or timeout < 0:
        return -1
    return min(int(timeout * 1000 + 0.999), 2**31 - 1)


#: A wait with no timeout is made of waits this long (ms), so that Ctrl-C is seen between
#: them: a signal does not end a wait inside the library.
SLICE_MS = 200


def _sliced(fn: Any, ptr: Any, *args: Any, timeout_ms: int) -> int:
    """fn(ptr, *args, timeout) with the GIL released; timeout -1 in SLICE_MS slices."""
    if timeout_ms >= 0:
        return int(fn(ptr, *args, timeout_ms))
    while True:
        rc = int(fn(ptr, *args, SLICE_MS))
        if rc != -errno.ETIMEDOUT:
            return rc


def _opts(persistent: bool, mode: int) -> Any:
    flags = (_CREATE_PERSISTENT if persistent else 0) | (_CREATE_SHARED if mode & 0o077 else 0)
    return ctypes.byref(_lib.ArrayOpts(size=ctypes.sizeof(_lib.ArrayOpts), flags=flags,
                                       mode=mode))


class _Named:
    """A handle to a named object, closed once (close, the with block, or when freed)."""

    _close_fn = ""

    def __init__(self, name: str, ptr: int) -> None:
        self.name = name
        self._ptr: int | None = ptr
        self._fin = weakref.finalize(self, getattr(_lib.lib(), self._close_fn), ptr)

    def _p(self) -> int:
        if self._ptr is None:
            raise ValueError("%s %r is closed" % (type(self).__name__.lower(), self.name))
        return self._ptr

    def close(self) -> None:
        """Closes this handle (the object stays, for others, until unlinked)."""
        self._ptr = None
        self._fin()

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name,))

    def __repr__(self) -> str:
        return "<brigade.%s %r%s>" % (type(self).__name__, self.name,
                                      " closed" if self._ptr is None else "")


_hot: tuple[Any, Any] | None = None


def _hot_fns() -> tuple[Any, Any]:
    """brg_lock_acquire and brg_lock_release called with the GIL held and no argument
    conversion (a prebuilt c_void_p): a ctypes call costs about 0.5 us, its conversions as
    much again.  Only for calls that do not block: a try, and a release."""
    global _hot
    if _hot is None:
        dll = ctypes.PyDLL(_lib.library_path())
        acquire, release = dll.brg_lock_acquire, dll.brg_lock_release
        acquire.restype = release.restype = ctypes.c_int
        _hot = (acquire, release)
    return _hot


def _make(create_fn: str, open_fn: str, name: str, create: bool, *args: Any) -> int:
    out = ctypes.c_void_p()
    if create:
        check(getattr(_lib.lib(), create_fn)(ctypes.byref(out), name.encode(), *args), name)
    else:
        check(getattr(_lib.lib(), open_fn)(ctypes.byref(out), name.encode()), name)
    return int(out.value)


class Lock(_Named):
    """A named lock, robust: a holder killed while it holds the lock hands it to the next
    acquirer, who is told (`owner_died`) and finds the lock whole again.

    ``Lock(name, create=True)`` makes it (FileExistsError when the name is taken);
    ``Lock(name)`` opens it.  Held by a thread, as ``threading.Lock`` is: only the thread
    that acquired it releases it (RuntimeError otherwise), and acquiring it twice from that
    thread raises RuntimeError rather than hanging.  A wait with no timeout can be
    interrupted (Ctrl-C).  Close a Lock no thread is waiting on.

    Attributes
    ----------
    owner_died : bool
        True when the last acquire through this handle took the lock from a holder that had
        died holding it: whatever it guarded may be half-updated.
    """

    _close_fn = "brg_lock_close"

    def __init__(self, name: str, create: bool = False, *, persistent: bool = False,
                 mode: int = 0o600) -> None:
        args = (_opts(persistent, mode),) if create else ()
        super().__init__(name, _make("brg_lock_create", "brg_lock_open", name, create, *args))
        self.owner_died = False
        self._h = ctypes.c_void_p(self._ptr)
        self._try, self._release = _hot_fns()

    def close(self) -> None:
        self._h = None
        super().close()

    def acquire(self, block: bool = True, timeout: float | None = None, *,
                strict: bool = False) -> bool:
        """Takes the lock: True, or False when it was not free in time (block=False: at
        once).  With strict, a lock whose holder died is taken and `OwnerDiedError` raised
        (the lock then held: release it when the repair is done)."""
        ptr = self._p()
        rc = self._try(self._h, 0)  # free: taken without letting go of the GIL
        if rc == -errno.ETIMEDOUT and block and timeout != 0:
            rc = _sliced(_lib.lib().brg_lock_acquire, ptr, timeout_ms=_ms(block, timeout))
        self.owner_died = rc == _EOWNERDEAD
        if rc == 0 or rc == _EOWNERDEAD:
            if rc and strict:
                raise OwnerDiedError(rc, self.name)
            return True
        if rc == -errno.ETIMEDOUT:
            return False
        if rc == -errno.EDEADLK:
            raise RuntimeError("lock %r is already held by this thread" % self.name)
        check(rc, self.name)
        return False

    def release(self) -> None:
        """Frees the lock; RuntimeError when this thread does not hold it."""
        self._p()
        rc = self._release(self._h)
        if rc == -errno.EPERM:
            raise RuntimeError("release of lock %r, which this thread does not hold"
                               % self.name)
        check(rc, self.name)

    @property
    def holder(self) -> int:
        """The pid that holds it, 0 when free (a snapshot)."""
        return int(_lib.lib().brg_lock_holder(self._p()))

    def __enter__(self) -> Lock:
        rc = -errno.ETIMEDOUT if self._h is None else self._try(self._h, 0)
        if rc == 0 or rc == _EOWNERDEAD:  # taken
            self.owner_died = rc != 0
        else:
            self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._h is None or self._release(self._h) != 0:
            self.release()  # says why


class Event(_Named):
    """A named event: ``set`` wakes every waiter, in any process; it stays set until
    ``clear``.  ``Event(name, create=True, set=False)`` makes it; ``Event(name)`` opens it."""

    _close_fn = "brg_event_close"

    def __init__(self, name: str, create: bool = False, *, set: bool = False,  # noqa: A002
                 persistent: bool = False, mode: int = 0o600) -> None:
        args = (int(bool(set)), _opts(persistent, mode)) if create else ()
        super().__init__(name, _make("brg_event_create", "brg_event_open", name, create,
                                     *args))

    def set(self) -> None:
        check(_lib.lib().brg_event_set(self._p()), self.name)

    def clear(self) -> None:
        check(_lib.lib().brg_event_clear(self._p()), self.name)

    def is_set(self) -> bool:
        return bool(check(_lib.lib().brg_event_is_set(self._p()), self.name))

    def wait(self, timeout: float | None = None) -> bool:
        """True once the event is set; False when timeout seconds passed first."""
        rc = _sliced(_lib.lib().brg_event_wait, self._p(), timeout_ms=_ms(True, timeout))
        if rc == -errno.ETIMEDOUT:
            return False
        check(rc, self.name)
        return True

    def __enter__(self) -> Event:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Barrier(_Named):
    """A named barrier for ``parties`` waits a round.

    ``Barrier(name, parties, create=True)`` makes it; ``Barrier(name)`` opens it.  Every
    open handle is a member: a member process that dies breaks the barrier, so the others'
    `wait` raises `BrokenBarrierError` instead of hanging.  A timed-out `wait` raises
    TimeoutError and breaks it too (as ``threading.Barrier`` does); an interrupted one
    (Ctrl-C, in the main thread) breaks its round and makes the barrier whole again.  One
    thread waits through a Barrier object at a time: threads that wait together open one
    each.
    """

    _close_fn = "brg_barrier_close"

    def __init__(self, name: str, parties: int | None = None, create: bool = False, *,
                 persistent: bool = False, mode: int = 0o600) -> None:
        if create and parties is None:
            raise TypeError("a new barrier needs its number of parties")
        args = (int(parties or 0), _opts(persistent, mode)) if create else ()
        super().__init__(name, _make("brg_barrier_create", "brg_barrier_open", name, create,
                                     *args))

    @property
    def parties(self) -> int:
        return int(check(_lib.lib().brg_barrier_parties(self._p()), self.name))

    def wait(self, timeout: float | None = None) -> int:
        """Waits for the round to fill; returns this wait's place in it, 0 .. parties-1.

        In the main thread a wait longer than a moment can be interrupted (Ctrl-C): the
        interrupt resets the barrier, so the round's other waiters get BrokenBarrierError
        instead of waiting for a party that left, and the barrier is whole for the next.
        """
        ms = _ms(True, timeout)
        if 0 <= ms <= SLICE_MS or threading.current_thread() is not threading.main_thread():
            rc = int(_lib.lib().brg_barrier_wait(self._p(), ms))
        else:
            rc = self._wait_in_slices(ms)
        if rc == _EBROKEN:
            raise BrokenBarrierError(rc, self.name)
        return check(rc, self.name)

    def _wait_in_slices(self, ms: int) -> int:
        """The C wait in slices of SLICE_MS, which leave this wait arrived in its round:
        between them Python runs its signal handlers.  An exception they raise gives the wait
        up on its way out: its round, if still in progress, is broken and the barrier made
        whole (a round that ended is left alone).  A `reset` (from a handler, or another
        thread) breaks the round as for any waiter: the next slice says so."""
        L, ptr = _lib.lib(), self._p()
        end = None if ms < 0 else time.monotonic() + ms / 1000
        try:
            while True:
                if end is None:
                    rc = int(L.brg_barrier_wait_slice(ptr, SLICE_MS))
                else:
                    left = math.ceil((end - time.monotonic()) * 1000)
                    if left <= 0:  # goes on in the round, and breaks it if it is not over
                        return int(L.brg_barrier_wait(ptr, 0))
                    rc = int(L.brg_barrier_wait_slice(ptr, min(SLICE_MS, left)))
                if rc != -errno.EAGAIN:
                    return rc
        except BaseException:
            L.brg_barrier_abandon(ptr)
            raise

    def reset(self) -> None:
        """Breaks the round in progress and makes the barrier whole again."""
        check(_lib.lib().brg_barrier_reset(self._p()), self.name)

    def __enter__(self) -> Barrier:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
