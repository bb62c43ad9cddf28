"""The grader's side of a sandbox: start a confined process, send it requests with a deadline,
and say how it ended when it dies.

The grader talks to the process over a socket with framed plain data (``channel``,
``wire``), never blocking without a deadline.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time

from autograder.boundary import channel, wire
from autograder.sandbox import cgroups, forkserver, settings
from autograder.sandbox.process import _child_main
from autograder.sandbox.settings import CGROUP, ENVIRONMENT, FILESYSTEM, Limits


class Timeout(Exception):
    """The sandboxed process did not answer in time (it has been killed)."""


class Crashed(Exception):
    """The sandboxed process ended, or sent something that is not plain data."""


class Unavailable(Exception):
    """No sandbox could be started (a broken interpreter, a refused confinement, no
    process or cgroup to be had): a fault of the grader or its machine, never of a
    submission, since no student code runs in a process before it is ready."""


def _remove_scratch(folder: str) -> None:
    """Remove a sandbox's host scratch folder, once its processes are gone."""
    shutil.rmtree(folder, ignore_errors=True)


class Sandbox:
    """One sandboxed process at a time for one submission (restarted after a hang or
    a crash with :meth:`start`)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.protections = settings.protections()
        self.process = None
        self.sock = None
        self.cgroup = None
        self.scratch = None  # a host folder, for a sandbox without a filesystem of its own
        self.isolation: list = []
        self.ready = False  # the process said it is confined and waits for cells

    def start(self) -> None:
        """A fresh, confined process, ready for cells; raises :class:`Unavailable` when
        none can be had."""
        self.stop()
        self.ready = False
        try:
            reply = self._launch()
        except (Crashed, Timeout, OSError) as exc:
            self.stop()
            raise Unavailable(str(exc) or type(exc).__name__) from exc
        if "refused" in reply:
            self.stop()
            raise Unavailable(str(reply["refused"]))
        self.isolation = [str(name) for name in reply.get("ready", [])]
        self.ready = True

    def _launch(self) -> dict:
        ctx = forkserver.process_context()
        here, there = socket.socketpair()
        self.sock = here
        off = self.protections.off
        if CGROUP not in off:
            self.cgroup = cgroups.create(self.limits.memory_mb * 2**20, self.limits.processes)
        if self.protections.route == "none" or FILESYSTEM in off:
            self.scratch = tempfile.mkdtemp(prefix="tfkit-")
        grader = dict(os.environ) if ENVIRONMENT in off else None
        self.process = ctx.Process(target=_child_main, daemon=True,
                                   args=(there, self.limits, self.protections, self.cgroup,
                                         self.scratch, grader))
        try:
            self.process.start()
        finally:
            there.close()
        here.setblocking(False)
        return self._receive(120.0)

    def request(self, message: dict, timeout: float, answer_call=None) -> dict:
        """Send one request and wait for its reply (plain data) for ``timeout`` seconds.
        Meanwhile, each ``{"op": "call"}`` message the process sends (a stand-in asking
        for the reference) is answered with ``answer_call(message)``, when given."""
        deadline = time.monotonic() + timeout
        self._send(message, timeout, deadline)
        while True:
            reply = self._receive(timeout, deadline)
            if answer_call is None or reply.get("op") != "call":
                return reply
            self._send(answer_call(reply), timeout, deadline)

    def _send(self, message: dict, timeout: float, deadline: float) -> None:
        try:
            channel.send(self.sock.fileno(), wire.dumps(message), deadline)
        except channel.ChannelTimeout:
            self.stop()
            raise Timeout(f"no answer within {timeout:g} s") from None
        except channel.ChannelError:
            raise Crashed(self._death_reason()) from None

    def _receive(self, timeout: float, deadline: float | None = None) -> dict:
        deadline = deadline or time.monotonic() + timeout
        try:
            reply = wire.loads(channel.receive(self.sock.fileno(), deadline, wire.MAX_MESSAGE_BYTES))
        except channel.ChannelTimeout:
            self.stop()
            raise Timeout(f"no answer within {timeout:g} s") from None
        except channel.ChannelClosed:
            raise Crashed(self._death_reason()) from None
        except (channel.ChannelError, wire.WireError) as exc:
            self.stop()
            raise Crashed(f"the process sent a malformed message and was stopped ({exc})") from None
        if not isinstance(reply, dict):
            self.stop()
            raise Crashed("the process sent a malformed message and was stopped (not a mapping)")
        return reply

    def _death_reason(self) -> str:
        """Why the sandboxed process ended, from its exit status and its cgroup."""
        process = self.process
        if process is not None:
            process.join(5)
        code = process.exitcode if process is not None else None
        oom_kills = self.cgroup.oom_kills() if self.cgroup is not None else 0
        self.stop()
        if oom_kills:
            return f"the process went over its memory cap ({self.limits.memory_mb} MB) and was killed"
        if code is None:
            return "the connection to the process broke"
        if not self.ready:  # no student code has run in it: the grader's side failed
            return f"the sandbox process ended before it was ready (exit status {code})"
        if code >= 0:
            return f"the process exited with status {code} (sys.exit or os._exit in student code?)"
        name = signal.Signals(-code).name
        if name == "SIGKILL":
            who = ("not for its memory: another process or the system sent it" if self.cgroup
                   else "by the system's out-of-memory killer or another process")
            return f"the process was killed by SIGKILL ({who})"
        if name == "SIGABRT":
            return "native code aborted the process (SIGABRT), as it does when an allocation fails"
        return f"the process was killed by {name}"

    def stop(self) -> None:
        """Kill the sandboxed process and everything it started, and wait until they
        are gone (the cgroup, where there is one, is only removed once empty)."""
        process, self.process = self.process, None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if process is not None:
            if process.pid:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                process.kill()
                process.join(10)
                process.close()
            except (ValueError, AttributeError):  # never started, or already closed
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.scratch is not None:
            _remove_scratch(self.scratch)
            self.scratch = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
