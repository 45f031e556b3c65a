# SPDX-License-Identifier: MIT
"""Streams (``brg_stream``): frames of a typed array passed between processes in place.

What ``multiprocessing.Queue`` and ``Pipe`` do for arrays, without pickling or copying: a
producer loans a slot of the ring, writes the frame in it and publishes it; a consumer
receives it as a numpy view of the same memory and releases it.  ``mode="queue"`` gives each
frame to one consumer, ``mode="broadcast"`` to every subscriber.  A process killed holding a
loan or a frame costs nobody a frame or a hang (brigade(7), "Streams").
"""

from __future__ import annotations

import ctypes
import errno
from typing import Any, Iterator

import numpy as np
import numpy.typing as npt

from . import _lib
from ._array import dtype_code, open as _open_array
from ._lib import check
from ._sync import _Named, _ms, _opts, _sliced

__all__ = ["Stream", "Frame", "unlink_stream"]

_MODES = {"queue": 0, "broadcast": 1}
_POLICIES = {"block": 0, "overwrite": 1}
_SUBSCRIBE = 0x1


class Frame:
    """A frame loaned (to write, then `Stream.publish`) or received (to read, then
    `Stream.release`); a ``with`` block does the one or the other at its end.

    Attributes
    ----------
    array : numpy.ndarray or None
        The frame in the ring, in place: writable when loaned, read-only when received; None
        once published, released or discarded (a view taken from it before must not be
        used after: the slot is then someone else's).
    seq : int
        1, 2, ... in publish order (0 while loaned).
    stamp_ns : int
        CLOCK_REALTIME when it was published.
    lost : int
        Broadcast: frames this subscriber missed just before this one (overwritten).
    slot : int
        Its index in the ring.
    """

    def __init__(self, stream: Stream, desc: _lib.Frame, loaned: bool) -> None:
        self._stream, self._desc, self.loaned = stream, desc, loaned
        self.slot, self.seq, self.stamp_ns, self.lost = desc.slot, desc.seq, desc.stamp_ns, \
            desc.lost
        a = stream._ring[desc.slot]
        if not loaned:
            a = a.view()
            a.flags.writeable = False
        self.array = a
        self.done = False

    def __enter__(self) -> Frame:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self.done:
            return
        if self.loaned and exc_type is None:
            self._stream.publish(self)
        elif self.loaned:
            self._stream.discard(self)  # an exception while it was written
        else:
            self._stream.release(self)

    def __repr__(self) -> str:
        return "<brigade.Frame %s slot %d seq %d>" % ("loaned" if self.loaned else "received",
                                                      self.slot, self.seq)


class Stream(_Named):
    """A named stream of frames.

    ``Stream(name, dtype, frame_shape, slots=8, create=True, mode="queue", policy="block")``
    makes one: a ring of ``slots`` frames, the array ``name`` of shape (slots, *frame_shape)
    (``brigade.open(name)`` sees it whole) and its control segment ``name.stream``.
    ``Stream(name)`` opens it to produce and, in a queue, consume; ``Stream(name,
    subscribe=True)`` opens a broadcast stream as a subscriber.

    Iterating receives frames for ever, each released when the next is asked for (or when
    the loop ends): ``for frame in stream: use(frame.array)``; a producer sends an end
    frame of its choosing to stop its consumers.
    """

    _close_fn = "brg_stream_close"

    def __init__(self, name: str, dtype: npt.DTypeLike | str | None = None,
                 frame_shape: Any = None, slots: int = 8, create: bool = False, *,
                 mode: str = "queue", policy: str = "block", subscribe: bool = False,
                 persistent: bool = False, access: int = 0o600) -> None:
        out = ctypes.c_void_p()
        lib = _lib.lib()
        made = False
        if create:
            if dtype is None or frame_shape is None:
                raise TypeError("a new stream needs its dtype and frame_shape")
            if mode not in _MODES or policy not in _POLICIES:
                raise ValueError("mode is queue or broadcast, policy block or overwrite")
            shape = (frame_shape,) if isinstance(frame_shape, int) else tuple(frame_shape)
            cs = (ctypes.c_size_t * max(1, len(shape)))(*shape)
            check(lib.brg_stream_create(ctypes.byref(out), name.encode(), dtype_code(dtype),
                                        len(shape), cs, slots, _MODES[mode], _POLICIES[policy],
                                        _opts(persistent, access)), name)
            made = True
            if subscribe:
                lib.brg_stream_close(out)
                out = ctypes.c_void_p()
        try:
            if not create or subscribe:
                check(lib.brg_stream_open(ctypes.byref(out), name.encode(),
                                          _SUBSCRIBE if subscribe else 0), name)
            super().__init__(name, int(out.value))
            try:
                self._ring = _open_array(name, write=True)
            except BaseException:
                self.close()
                raise
        except BaseException:
            if made:  # nothing is left of a stream this call made
                lib.brg_stream_unlink(name.encode())
            raise
        self.subscribed = subscribe
        self._last: Frame | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reopen, (self.name, self.subscribed))

    def close(self) -> None:
        """Closes the handle: its loans go back, its frames are released."""
        super().close()
        ring = getattr(self, "_ring", None)
        if ring is not None:
            ring.close()

    @property
    def ring(self) -> np.ndarray:
        """The whole ring, (slots, *frame_shape) (read what is published; write a loan)."""
        return self._ring

    def loan(self, timeout: float | None = None) -> Frame:
        """A free slot to write a frame in; TimeoutError when none came free in time."""
        d = _lib.Frame()
        rc = _sliced(_lib.lib().brg_stream_loan, self._p(), ctypes.byref(d),
                     timeout_ms=_ms(True, timeout))
        if rc == -errno.ETIMEDOUT:
            raise TimeoutError("no free slot in stream %r" % self.name)
        check(rc, self.name)
        return Frame(self, d, True)

    def publish(self, frame: Frame) -> None:
        """Publishes a loaned frame (which is then no longer this handle's)."""
        check(_lib.lib().brg_stream_publish(self._p(), ctypes.byref(frame._desc)), self.name)
        frame.seq, frame.stamp_ns, frame.done = frame._desc.seq, frame._desc.stamp_ns, True
        frame.array = None  # the slot is the consumers' now

    def send(self, data: npt.ArrayLike, timeout: float | None = None) -> int:
        """Loans, copies data in (the one copy: data was not in the ring), publishes; the
        frame's seq."""
        f = self.loan(timeout)
        try:
            f.array[...] = data  # numpy's assignment: broadcasting and casting as a[...] = x
        except BaseException:
            self.discard(f)
            raise
        self.publish(f)
        return f.seq

    def discard(self, frame: Frame) -> None:
        """Gives a loaned frame back unpublished."""
        if frame.done:
            return
        check(_lib.lib().brg_stream_discard(self._p(), ctypes.byref(frame._desc)), self.name)
        frame.done = True
        frame.array = None

    def receive(self, timeout: float | None = None) -> Frame:
        """The next frame; TimeoutError when none came in time."""
        d = _lib.Frame()
        rc = _sliced(_lib.lib().brg_stream_receive, self._p(), ctypes.byref(d),
                     timeout_ms=_ms(True, timeout))
        if rc == -errno.ETIMEDOUT:
            raise TimeoutError("no frame in stream %r" % self.name)
        check(rc, self.name)
        return Frame(self, d, False)

    def release(self, frame: Frame) -> None:
        """Gives a received frame back (its array must not be used after)."""
        if frame.done:
            return
        check(_lib.lib().brg_stream_release(self._p(), ctypes.byref(frame._desc)), self.name)
        frame.done = True
        frame.array = None  # the slot may be reused: views taken from it must not be kept

    def __iter__(self) -> Iterator[Frame]:
        while True:
            f = self.receive()
            try:
                yield f
            finally:
                self.release(f)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _reopen(name: str, subscribe: bool) -> Stream:
    return Stream(name, subscribe=subscribe)


def unlink_stream(name: str) -> None:
    """Removes both segments of stream name (its ring and ``name.stream``); handles open
    stay valid until closed.  FileNotFoundError when there is none."""
    check(_lib.lib().brg_stream_unlink(name.encode()), name)


def stream_status(name: str) -> dict[str, Any]:
    """A stream's state, read without its lock (``brg_stream_status``), by name (or its
    control segment's, ``name.stream``).

    The dict has the fields of ``brigade status NAME --json`` but the rate: name, kind,
    mode, policy, slots, frame_bytes, free, loaned, ready, held, published, received, lost,
    reclaimed, last_ns, and "subscribers" (broadcast) or "consumers" (queue: each handle that
    has received), a list of {pid, alive, lag, reading}.
    """
    base = name[:-7] if name.endswith(".stream") and len(name) > 7 else name
    info = _lib.StreamInfo(size=ctypes.sizeof(_lib.StreamInfo))
    subs = (_lib.StreamSubscriber * 64)()  # BRG_STREAM_MAX_SUBSCRIBERS
    n = check(_lib.lib().brg_stream_status(base.encode(), ctypes.byref(info), subs,
                                           ctypes.sizeof(_lib.StreamSubscriber), 64), name)
    broadcast = info.mode == 1
    return {
        "name": base, "kind": "stream", "mode": "broadcast" if broadcast else "queue",
        "policy": "overwrite" if info.policy == 1 else "block", "slots": info.slots,
        "frame_bytes": info.frame_bytes, "free": info.free, "loaned": info.loaned,
        "ready": info.ready, "held": info.held, "published": info.published,
        "received": info.received, "lost": info.lost, "reclaimed": info.reclaimed,
        "last_ns": info.last_ns,
        "subscribers" if broadcast else "consumers": [
            {"pid": u.pid, "alive": bool(u.alive), "lag": u.lag, "reading": u.reading}
            for u in subs[:min(n, 64)]],
    }
