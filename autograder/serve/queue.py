"""The service's persistent queue: every submission once, nothing lost, nothing twice.

One SQLite file (write-ahead log, synchronous commits) holds a row per submission, keyed
by its content hash (:func:`watch.content_key`: the notebook's bytes with the
submission's timestamp and secret, so a rescan of the same folder finds the same key and
a resubmission a new one). A row moves through these states:

- ``queued``: found, waiting for a grading thread;
- ``grading``: claimed by a thread (a service that dies here leaves the row ``grading``,
  and the next start puts it back to ``queued``: :meth:`Queue.recover`);
- ``deferred``: over the student's limit, claimable again at ``next_at``;
- ``retry``: the grader failed (never the student), claimable again at ``next_at``;
- ``failed``: the grader failed ``max_attempts`` times: reported, never a grade;
- ``done``: graded and recorded.

The exactly-once rule: a row becomes ``done`` in the same transaction that logs its
``recorded`` event, after everything it records was written (each write idempotent: a
file replaced atomically, nbgrader's autograde of that student with ``--force``); and a
row is claimed by one ``UPDATE ... WHERE state IN (claimable)``, so two threads never
get the same row. The ``events`` table is the history (what the status page and the
tests read).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLAIMABLE = ("queued", "deferred", "retry")
STATES = ("queued", "grading", "deferred", "retry", "failed", "done")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,          -- content hash of the submission
    student TEXT NOT NULL,         -- the student's id as the exchange names them
    assignment TEXT NOT NULL,
    source TEXT NOT NULL,          -- the submission's folder
    notebook TEXT NOT NULL,        -- the notebook's file name in it
    submitted_at TEXT,             -- timestamp.txt
    kind TEXT NOT NULL,            -- exchange | folder
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,   -- grader errors so far
    next_at REAL NOT NULL DEFAULT 0,       -- deferred/retry: not before this time
    found_at REAL NOT NULL,
    started_at REAL,
    admitted_at REAL,              -- when it last passed the per-student limit
    finished_at REAL,
    feedback_at REAL,              -- when the feedback became available
    graded_seconds REAL,
    score REAL,
    max_score REAL,
    status TEXT,                   -- the result's status (graded, incomplete, ...)
    reason TEXT,
    counted INTEGER NOT NULL DEFAULT 0,    -- 1: this submission is the one of record
    result TEXT                    -- the result (JSON) of the last grading
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, next_at, found_at);
CREATE INDEX IF NOT EXISTS jobs_student ON jobs (student, assignment);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    event TEXT NOT NULL,           -- queued, started, graded, deferred, retry, failed, recorded, interrupted
    at REAL NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_key ON events (key);
"""


@dataclass
class Job:
    """One submission as the queue holds it."""

    key: str
    student: str
    assignment: str
    source: str
    notebook: str
    submitted_at: str | None
    kind: str
    state: str = "queued"
    attempts: int = 0
    next_at: float = 0.0
    found_at: float = 0.0

    @property
    def folder(self) -> Path:
        return Path(self.source)

    @property
    def notebook_path(self) -> Path:
        return Path(self.source) / self.notebook


_JOB_FIELDS = ("key", "student", "assignment", "source", "notebook", "submitted_at", "kind",
               "state", "attempts", "next_at", "found_at")


class Queue:
    """The queue in the SQLite file ``path`` (created with its folder if absent). Safe to
    use from several threads: one connection, every transaction under one lock."""

    def __init__(self, path, clock=time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self):
        return _Transaction(self._db, self._lock)

    def _event(self, key: str, event: str, detail: str = "") -> None:
        self._db.execute("INSERT INTO events (key, event, at, detail) VALUES (?, ?, ?, ?)",
                         (key, event, self.clock(), detail))

    # --- finding and claiming --------------------------------------------------------

    def add(self, job: Job) -> bool:
        """Record ``job`` as queued unless its key is known (then nothing changes: a
        rescan, a restart or a second watcher event never queues it again). Returns
        whether it was new."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO jobs (key, student, assignment, source, notebook, "
                "submitted_at, kind, state, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                (job.key, job.student, job.assignment, job.source, job.notebook,
                 job.submitted_at, job.kind, self.clock()))
            if cursor.rowcount:
                self._event(job.key, "queued")
            return bool(cursor.rowcount)

    def known(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM jobs WHERE key = ?", (key,)).fetchone() is not None

    def known_sources(self) -> set:
        """The folders of every submission already queued (a rescan skips them)."""
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT source FROM jobs")}

    def recover(self) -> list:
        """At start: rows a dead service left ``grading`` are queued again (their grading
        never reached ``done``), and so are those the grader gave up on (``failed``: a
        restart is how an instructor says the cause is fixed). Returns their keys."""
        with self._transaction():
            keys = [row[0] for row in self._db.execute("SELECT key FROM jobs WHERE state = 'grading'")]
            for key in keys:
                self._db.execute("UPDATE jobs SET state = 'queued' WHERE key = ?", (key,))
                self._event(key, "interrupted", "the service stopped while grading it")
            failed = [row[0] for row in self._db.execute("SELECT key FROM jobs WHERE state = 'failed'")]
            for key in failed:
                self._db.execute("UPDATE jobs SET state = 'queued', attempts = 0, next_at = 0 "
                                 "WHERE key = ?", (key,))
                self._event(key, "requeued", "the grader gave up before this start")
            return keys

    def claim(self) -> Job | None:
        """The oldest claimable job whose time has come, now ``grading``; or None."""
        with self._transaction():
            row = self._db.execute(
                f"SELECT {', '.join(_JOB_FIELDS)} FROM jobs WHERE state IN ('queued', 'deferred', "
                "'retry') AND next_at <= ? ORDER BY next_at, found_at LIMIT 1",
                (self.clock(),)).fetchone()
            if row is None:
                return None
            job = Job(*row)
            claimed = self._db.execute(
                "UPDATE jobs SET state = 'grading', started_at = ? WHERE key = ? AND state IN "
                "('queued', 'deferred', 'retry')", (self.clock(), job.key)).rowcount
            if not claimed:
                return None
            self._event(job.key, "started")
            job.state = "grading"
            return job

    def next_wake(self) -> float | None:
        """When the earliest deferred or retried job becomes claimable (None: none)."""
        with self._lock:
            row = self._db.execute("SELECT MIN(next_at) FROM jobs WHERE state IN "
                                   "('queued', 'deferred', 'retry')").fetchone()
        return row[0] if row and row[0] is not None else None

    # --- outcomes --------------------------------------------------------------------

    def defer(self, job: Job, until: float, why: str) -> None:
        with self._transaction():
            self._db.execute("UPDATE jobs SET state = 'deferred', next_at = ?, reason = ? "
                             "WHERE key = ?", (until, why, job.key))
            self._event(job.key, "deferred", why)

    def retry(self, job: Job, until: float | None, why: str) -> str:
        """A grader error: ``retry`` at ``until``, or ``failed`` when ``until`` is None.
        Returns the new state. No score is stored: a grader error is never a grade."""
        state = "failed" if until is None else "retry"
        with self._transaction():
            self._db.execute("UPDATE jobs SET state = ?, attempts = attempts + 1, next_at = ?, "
                             "reason = ?, status = 'grader error', score = NULL, finished_at = ? "
                             "WHERE key = ?", (state, until or 0, why, self.clock(), job.key))
            self._event(job.key, state, why)
        return state

    def graded(self, job: Job, seconds: float) -> None:
        """The grading finished (its recording has not yet)."""
        with self._transaction():
            self._event(job.key, "graded", f"{seconds:.3f}")

    def done(self, job: Job, result: dict, counted: bool) -> None:
        """Graded and recorded: one transaction with its ``recorded`` event."""
        now = self.clock()
        with self._transaction():
            if counted:
                self._db.execute("UPDATE jobs SET counted = 0 WHERE student = ? AND assignment = ?",
                                 (job.student, job.assignment))
            self._db.execute(
                "UPDATE jobs SET state = 'done', finished_at = ?, feedback_at = ?, "
                "graded_seconds = ?, score = ?, max_score = ?, status = ?, reason = ?, "
                "counted = ?, result = ? WHERE key = ?",
                (now, now, result.get("seconds"), result.get("score"), result.get("max_score"),
                 result.get("status"), str(result.get("reason", ""))[:2000], int(counted),
                 json.dumps(result), job.key))
            self._event(job.key, "recorded")

    # --- reading -----------------------------------------------------------------------

    def admit(self, job: Job, limit: int | None, window: float) -> float | None:
        """Apply the per-student limit to ``job`` (claimed): admitted (None) when fewer than
        ``limit`` of the student's submissions were admitted in the last ``window``
        seconds and are graded or being graded; else the time a slot frees. Checking and
        admitting are one transaction, so two threads cannot both take the last slot."""
        with self._transaction():
            now = self.clock()
            if limit:
                times = [row[0] for row in self._db.execute(
                    "SELECT admitted_at FROM jobs WHERE student = ? AND assignment = ? AND key != ? "
                    "AND state IN ('done', 'grading') AND admitted_at >= ? ORDER BY admitted_at",
                    (job.student, job.assignment, job.key, now - window))]
                if len(times) >= limit:
                    return times[len(times) - limit] + window
            self._db.execute("UPDATE jobs SET admitted_at = ? WHERE key = ?", (now, job.key))
            return None

    def counted(self, student: str, assignment: str) -> dict | None:
        """The submission of record of ``student`` (its submitted_at and score), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT key, submitted_at, score FROM jobs WHERE student = ? AND assignment = ? "
                "AND counted = 1", (student, assignment)).fetchone()
        return None if row is None else {"key": row[0], "submitted_at": row[1], "score": row[2]}

    def rows(self, where: str = "1", args=(), order: str = "found_at DESC", limit: int = 200) -> list:
        with self._lock:
            cursor = self._db.execute(f"SELECT * FROM jobs WHERE {where} ORDER BY {order} LIMIT ?",
                                      (*args, limit))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def counts(self) -> dict:
        with self._lock:
            found = dict(self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        return {state: found.get(state, 0) for state in STATES}

    def events(self, key: str | None = None) -> list:
        with self._lock:
            if key is None:
                rows = self._db.execute("SELECT key, event, at, detail FROM events ORDER BY id").fetchall()
            else:
                rows = self._db.execute("SELECT key, event, at, detail FROM events WHERE key = ? "
                                        "ORDER BY id", (key,)).fetchall()
        return [{"key": k, "event": e, "at": a, "detail": d} for k, e, a, d in rows]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception), under the
    queue's lock."""

    def __init__(self, db, lock):
        self.db, self.lock = db, lock

    def __enter__(self):
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self

    def __exit__(self, kind, value, traceback):
        try:
            self.db.execute("ROLLBACK" if kind else "COMMIT")
        finally:
            self.lock.release()
        return False
