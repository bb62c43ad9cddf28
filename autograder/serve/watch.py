"""Finding complete submissions: in nbgrader's exchange inbound folder, or a plain folder.

A submission is complete when its notebook and ``timestamp.txt`` (and, in the exchange,
``submission_secret.txt``, which ``nbgrader submit`` writes last) are there and nothing in
its folder changed for ``settle`` seconds. "Changed" is read from each entry's ctime,
which every copy, write and chmod sets to now (``nbgrader submit`` copies notebooks with
their old mtimes). Nothing is followed through a symbolic link.

:class:`Watcher` runs two threads: watchfiles (inotify) marks folders as they change, and
a scanner checks the marked folders once they may have settled, and every folder on a
periodic rescan, which catches whatever an event missed (a network filesystem, a full
inotify queue, submissions that arrived while the service was down). Each complete
submission is handed to ``found``, which queues it by its content key (a folder found
twice is queued once: ``queue.Queue.add``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.submissions import choose_notebook

from . import exchange
from .queue import Job

log = logging.getLogger(__name__)
MAX_ENTRIES = 200  # a submission folder with more entries than this is read no further
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # = grade.MAX_NOTEBOOK_BYTES


@dataclass(frozen=True)
class Source:
    """A folder to watch: ``kind`` ``exchange`` (nbgrader's inbound folder, holding
    ``student+assignment+timestamp+random`` folders) or ``folder`` (``<student>/<assignment>/``
    folders, as nbgrader's ``submitted/``)."""

    path: Path
    kind: str
    assignments: tuple


def _newest_change(folder: Path) -> float | None:
    """The latest ctime of ``folder`` and its entries (one level, and the assignment
    folder below a student's), or None if it cannot be read."""
    try:
        newest = os.lstat(folder).st_ctime
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count > MAX_ENTRIES:
                    break
                newest = max(newest, entry.stat(follow_symlinks=False).st_ctime)
    except OSError:
        return None
    return newest


def _notebook(folder: Path, assignment: str) -> str | None:
    """The notebook to grade in ``folder``: the one named after the assignment, else
    the only one (``submissions.choose_notebook``), among its regular files; None if there
    is none or the choice is ambiguous (then grading says why)."""
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".ipynb")
                       and not e.name.startswith(".") and e.is_file(follow_symlinks=False))
    except OSError:
        return None
    return choose_notebook(names, assignment)


class _nothing:
    """An empty file, for a submission without a notebook to grade."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def read(self, _size) -> bytes:
        return b""

    def close(self) -> None:
        pass


def content_key(folder: Path, notebook: str | None, kind: str, student: str) -> str | None:
    """The submission's content hash: the notebook's bytes, ``timestamp.txt`` and
    ``submission_secret.txt``, with the student's id and the kind of source. The same
    folder always gives the same key; a resubmission (another timestamp and secret)
    another one."""
    digest = hashlib.sha256(f"tfkit serve 1\0{kind}\0{student}\0{notebook or ''}\0".encode())
    try:
        handle = _nothing()
        if notebook:  # a regular file only, never followed, never a FIFO to block on
            fd = os.open(folder / notebook, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            handle = os.fdopen(fd, "rb")
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                handle.close()
                return None
        with handle:
            left = MAX_NOTEBOOK_BYTES + 1  # grading refuses a larger one anyway
            for block in iter(lambda: handle.read(min(1 << 20, left)), b""):
                digest.update(block)
                left -= len(block)
                if left <= 0:
                    break
    except OSError:
        return None
    for name in (exchange.TIMESTAMP_FILE, exchange.SECRET_FILE):
        digest.update(b"\0" + (exchange.read_small(folder / name) or "").encode())
    return digest.hexdigest()


def complete(source: Source, folder: Path, settle: float, now: float | None = None):
    """``(Job or None, wait)``: the job of a complete submission in ``folder``, or None
    and how many seconds to wait before looking again (None: not a submission, or not
    one to serve)."""
    now = time.time() if now is None else now
    if source.kind == "exchange":
        parsed = exchange.parse_name(folder.name)
        if parsed is None or parsed[1] not in source.assignments:
            return None, None
        student, assignment, _ = parsed
        submission, needed = folder, (exchange.TIMESTAMP_FILE, exchange.SECRET_FILE)
    else:
        student, assignment = folder.parent.name, folder.name
        if assignment not in source.assignments or student.startswith("."):
            return None, None
        submission, needed = folder, (exchange.TIMESTAMP_FILE,)
    if submission.is_symlink() or not submission.is_dir():
        return None, None
    newest = _newest_change(submission)
    notebook = _notebook(submission, assignment)
    if newest is None or not all(exchange.read_small(submission / name) for name in needed):
        return None, settle  # not complete yet: look again
    if now - newest < settle:
        return None, settle - (now - newest) + 0.01
    key = content_key(submission, notebook, source.kind, student)
    if key is None:
        return None, settle
    timestamp = (exchange.read_small(submission / exchange.TIMESTAMP_FILE) or "").strip()
    # no notebook (or several, none named after the assignment): queued all the same, and
    # graded "ungradable" with the reason, so the student hears of it
    return Job(key=key, student=student, assignment=assignment, source=str(submission),
               notebook=notebook or "", submitted_at=timestamp or None, kind=source.kind), None


def candidates(source: Source) -> list:
    """Every folder of ``source`` that may hold a submission."""
    try:
        if source.kind == "exchange":
            return [source.path / e.name for e in os.scandir(source.path)
                    if e.is_dir(follow_symlinks=False)]
        found = []
        for student in os.scandir(source.path):
            if student.is_dir(follow_symlinks=False) and not student.name.startswith("."):
                found.extend(Path(student.path) / a for a in source.assignments)
        return found
    except OSError:
        return []


def folder_of(source: Source, path: Path) -> Path | None:
    """The submission folder a changed ``path`` belongs to, or None."""
    try:
        parts = Path(path).relative_to(source.path).parts
    except ValueError:
        return None
    if source.kind == "exchange":
        return source.path / parts[0] if parts else None
    return source.path / parts[0] / parts[1] if len(parts) >= 2 else None


class Watcher:
    """Finds complete submissions in ``sources`` and hands each to ``found(job)`` (which
    returns whether it was new). ``settle``: seconds without change before a submission
    counts as complete; ``rescan``: seconds between full rescans."""

    def __init__(self, sources: list, found, settle: float = 2.0, rescan: float = 30.0,
                 skip=None):
        self.sources, self.found = sources, found
        self.settle, self.rescan_every = settle, rescan
        self.skip = skip or (lambda folder: False)  # folders already queued
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._due: dict = {}  # (source index, folder) -> when to look
        self._threads: list = []
        self.watching = False  # whether watchfiles runs (else only rescans)

    def start(self) -> None:
        self.rescan()
        self._threads = [threading.Thread(target=self._scan_loop, name="tfgrade-scan", daemon=True)]
        try:
            import watchfiles  # noqa: F401
            self._threads.append(threading.Thread(target=self._watch_loop, name="tfgrade-watch",
                                                  daemon=True))
            self.watching = True
        except ImportError:
            log.warning("watchfiles is not installed (pip install 'tfkit[serve]'): new "
                        "submissions are found by the rescan every %g s only", self.rescan_every)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def mark(self, index: int, folder: Path, when: float) -> None:
        with self._lock:
            key = (index, folder)
            self._due[key] = min(self._due.get(key, when), when)
        self._wake.set()

    def rescan(self) -> None:
        """Look at every folder of every source now (queued ones are skipped)."""
        now = time.time()
        for index, source in enumerate(self.sources):
            for folder in candidates(source):
                if not self.skip(str(folder)):
                    self.mark(index, folder, now)

    def _watch_loop(self) -> None:
        import watchfiles
        paths = [str(s.path) for s in self.sources if s.path.is_dir()]
        while not self.stop_event.is_set() and paths:
            try:
                for changes in watchfiles.watch(*paths, stop_event=self.stop_event, debounce=50,
                                                step=20, rust_timeout=1000, yield_on_timeout=False,
                                                raise_interrupt=False):
                    now = time.time()
                    for _change, path in changes:
                        for index, source in enumerate(self.sources):
                            folder = folder_of(source, Path(path))
                            if folder is not None:
                                self.mark(index, folder, now + self.settle)
            except Exception:  # noqa: BLE001 - the rescan still finds everything
                log.exception("the file watcher failed; it restarts in %g s", self.settle)
                self.stop_event.wait(max(self.settle, 1.0))

    def _scan_loop(self) -> None:
        next_rescan = time.monotonic() + self.rescan_every
        while not self.stop_event.is_set():
            if time.monotonic() >= next_rescan:
                self.rescan()
                next_rescan = time.monotonic() + self.rescan_every
            now = time.time()
            with self._lock:
                ready = [k for k, when in self._due.items() if when <= now]
                for key in ready:
                    del self._due[key]
            for index, folder in ready:
                self._look(index, folder)
            with self._lock:
                soonest = min(self._due.values(), default=None)
            timeout = next_rescan - time.monotonic()
            if soonest is not None:
                timeout = min(timeout, soonest - time.time())
            self._wake.clear()
            if timeout > 0:
                self._wake.wait(timeout)

    def _look(self, index: int, folder: Path) -> None:
        try:
            job, wait = complete(self.sources[index], folder, self.settle)
            if job is not None:
                self.found(job)
            elif wait is not None:
                self.mark(index, folder, time.time() + wait)
        except Exception:  # noqa: BLE001 - one odd folder must not stop the scanner
            log.exception("cannot look at %r", str(folder))
