"""Framed messages over the socket between the grader and a sandboxed process.

Each message is an 8-byte big-endian length followed by that many bytes of ``wire``
data. The grader's side never blocks without a deadline: it waits for the socket with
``poll`` before every read and write, and checks a declared length against the cap
before reading a byte of the body. Anything else (a bogus header, a body cut short, a
peer that stops mid-frame) raises :class:`ChannelError` or :class:`ChannelTimeout`, and
the sandbox that sent it is killed by the caller.
"""
from __future__ import annotations

import os
import select
import struct
import time

HEADER = struct.Struct("!Q")
MAX_FRAME_BYTES = 64 * 1024 * 1024


class ChannelError(Exception):
    """The peer closed the channel or sent something that is not a frame."""


class ChannelClosed(ChannelError):
    """The peer closed its end (it has most likely ended)."""


class ChannelTimeout(ChannelError):
    """The deadline passed before a whole frame came (or could be sent)."""


def _wait(fd: int, events: int, deadline: float) -> None:
    poller = select.poll()
    poller.register(fd, events)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ChannelTimeout("deadline passed")
        ready = poller.poll(left * 1000)
        if ready:
            return


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    parts, missing = [], size
    while missing:
        _wait(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, min(missing, 1 << 20))
        except BlockingIOError:
            continue
        except OSError as exc:
            raise ChannelClosed(f"the channel broke ({exc.strerror})") from None
        if not chunk:
            raise ChannelClosed("the channel was closed" + (" mid-frame" if parts else ""))
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def receive(fd: int, deadline: float, limit: int = MAX_FRAME_BYTES) -> bytes:
    """One frame's body, read from the non-blocking ``fd`` by ``deadline``
    (``time.monotonic()`` seconds)."""
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if size > limit:
        raise ChannelError(f"a frame declared {size} bytes, over the {limit}-byte cap")
    return _read_exactly(fd, size, deadline)


def send(fd: int, body: bytes, deadline: float) -> None:
    """Write one frame to the non-blocking ``fd`` by ``deadline``."""
    view = memoryview(HEADER.pack(len(body)) + body)
    while view:
        _wait(fd, select.POLLOUT, deadline)
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise ChannelClosed(f"the channel broke ({exc.strerror})") from None
        view = view[written:]


def blocking_endpoint(fd: int):
    """The sandbox's side: (receive, send) functions that block, without deadlines
    (only the grader needs them: it is the one that must not hang)."""
    os.set_blocking(fd, True)

    def receive_one() -> bytes:
        (size,) = HEADER.unpack(_read_blocking(fd, HEADER.size))
        return _read_blocking(fd, size)

    def send_one(body: bytes) -> None:
        view = memoryview(HEADER.pack(len(body)) + body)
        while view:
            view = view[os.write(fd, view):]

    return receive_one, send_one


def _read_blocking(fd: int, size: int) -> bytes:
    parts, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError("the grader closed the channel")
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)
