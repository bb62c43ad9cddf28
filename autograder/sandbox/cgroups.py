"""Per-sandbox control groups: a memory cap and a process cap that name themselves.

A sandbox's processes join a fresh cgroup before any student code runs. The kernel
then caps the memory they charge (page cache and ``/tmp`` writes included) and the
number of processes and threads, and counts the OOM kills it makes, so that a process
killed for memory is recorded as such instead of guessed at. Removing the group kills
whatever is still in it.

Both hierarchies are handled: v1 (one mount per controller, as on this project's
machines) and v2 (one unified tree, where the grader's own group must be able to
delegate the ``memory`` and ``pids`` controllers to a child). Where neither can be
written (no root, no delegation), :func:`create` returns None and the sandbox keeps its
rlimits only.
"""
from __future__ import annotations

import os
import signal
import time
import uuid

ROOT = "/sys/fs/cgroup"


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def _field(text: str, key: str) -> int:
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


class Cgroup:
    """The cgroup folders of one sandbox (one per controller on v1, one on v2)."""

    def __init__(self, folders: list, version: int):
        self.folders, self.version = folders, version

    def join(self) -> None:
        """Move the calling process (and so everything it starts) into the group."""
        for folder in self.folders:
            _write(os.path.join(folder, "cgroup.procs"), str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for going over the cap."""
        if self.version == 2:
            return _field(_read(os.path.join(self.folders[0], "memory.events")), "oom_kill")
        return sum(_field(_read(os.path.join(f, "memory.oom_control")), "oom_kill")
                   for f in self.folders)

    def pids(self) -> set:
        found = set()
        for folder in self.folders:
            found |= {int(p) for p in _read(os.path.join(folder, "cgroup.procs")).split()}
        return found

    def remove(self, seconds: float = 10.0) -> None:
        """Kill every process left in the group, then delete it."""
        deadline = time.monotonic() + seconds
        while True:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for folder in list(self.folders):
                try:
                    os.rmdir(folder)
                    self.folders.remove(folder)
                except FileNotFoundError:
                    self.folders.remove(folder)
                except OSError:
                    pass
            if not self.folders or time.monotonic() > deadline:
                return
            time.sleep(0.02)


def _v1(name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
    memory, pids = os.path.join(ROOT, "memory"), os.path.join(ROOT, "pids")
    if not (os.path.isfile(os.path.join(memory, "cgroup.procs"))
            and os.path.isfile(os.path.join(pids, "cgroup.procs"))):
        return None
    group = Cgroup([os.path.join(memory, "tfkit", name), os.path.join(pids, "tfkit", name)], 1)
    try:
        for folder in group.folders:
            os.makedirs(folder)
        _write(os.path.join(group.folders[0], "memory.limit_in_bytes"), str(memory_bytes))
        swap = os.path.join(group.folders[0], "memory.memsw.limit_in_bytes")
        if os.path.exists(swap):  # no swapping past the cap either
            _write(swap, str(memory_bytes))
        _write(os.path.join(group.folders[1], "pids.max"), str(max_pids))
    except OSError:
        group.remove(0)
        return None
    return group


def _v2_parent() -> str:
    """The grader's own group on a v2 hierarchy: sandbox groups are made under it."""
    own = _read("/proc/self/cgroup").strip().partition("0::")[2].strip()
    return os.path.join(ROOT, own.lstrip("/"))


def _v2(name: str, memory_bytes: int, max_pids: int) -> Cgroup | None:
    parent = _v2_parent()
    try:
        wanted = {"memory", "pids"}
        if not wanted <= set(_read(os.path.join(parent, "cgroup.subtree_control")).split()):
            _write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
        folder = os.path.join(parent, f"tfkit-{name}")
        os.makedirs(folder)
    except OSError:
        return None
    group = Cgroup([folder], 2)
    try:
        _write(os.path.join(folder, "memory.max"), str(memory_bytes))
        _write(os.path.join(folder, "memory.swap.max"), "0")
        _write(os.path.join(folder, "pids.max"), str(max_pids))
    except OSError:
        group.remove(0)
        return None
    return group


# A group is joined within seconds of being made; one untouched for this long was left
# by a grader that was killed before it could remove it (kill -9 skips every cleanup).
STALE_SECONDS = 600
_swept = False


def _parents() -> list:
    if os.path.isfile(os.path.join(ROOT, "cgroup.controllers")):
        return [_v2_parent()]
    return [os.path.join(ROOT, "memory", "tfkit"), os.path.join(ROOT, "pids", "tfkit")]


def sweep_stale() -> list:
    """Remove this kit's groups that are empty and older than :data:`STALE_SECONDS`;
    returns their paths. A group still holding a process is never removed (the kernel
    refuses), and a recent one may be about to be joined, so it is left alone."""
    removed, now = [], time.time()
    for parent in _parents():
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            folder = os.path.join(parent, name)
            if not (name.startswith("tfkit-") or parent.endswith("/tfkit")) or not os.path.isdir(folder):
                continue
            try:
                if now - os.stat(folder).st_mtime > STALE_SECONDS and not _read(
                        os.path.join(folder, "cgroup.procs")).split():
                    os.rmdir(folder)
                    removed.append(folder)
            except OSError:
                pass
    return removed


def create(memory_bytes: int, max_pids: int) -> Cgroup | None:
    """A fresh group with both caps, or None where this process cannot make one. The
    first call in a process also sweeps groups a killed grader left behind."""
    global _swept
    if not _swept:
        _swept = True
        sweep_stale()
    name = uuid.uuid4().hex[:12]
    if os.path.isfile(os.path.join(ROOT, "cgroup.controllers")):
        return _v2(name, memory_bytes, max_pids)
    return _v1(name, memory_bytes, max_pids)
