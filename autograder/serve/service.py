"""The service: submissions found -> queue -> grading threads -> recorded, handed out.

:class:`Service` keeps the forkserver and the course's reference warm (``batch.warm_reference``,
as ``tfgrade grade`` does before its first student), and runs:

- the :class:`watch.Watcher`, which queues each complete submission once;
- ``jobs`` grading threads, each taking the oldest claimable submission from the queue
  (or, with a Dask scheduler, handing it to the cluster: ``cluster.grade_task``);
- a thread that rewrites the round's grades.csv and report.html at most every two seconds.

A grading thread applies the per-student limit first: a student who already had
``limit`` gradings in the last ``window`` seconds has the submission deferred to the
moment the oldest of them leaves the window, and their feedback page says so. A grader
error (``GRADER_ERROR``: the sandbox could not start, the reference failed, recording
failed) is never a grade: the submission is retried after ``backoff`` seconds, doubling,
at most ``retries`` times, then reported as failed (and queued again at the next start).

Student code runs only in the sandbox (``autograder.sandbox``), which confines each
notebook in its own namespaces under a uid of its own (``isolation``); the service's own
user never runs it. Run as root, the sandbox drops to that uid itself; without root it
needs unprivileged user namespaces, and the service warns at start when neither works.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.grading import batch, grade
from autograder.integrations.nbgrader import autograde
from autograder.results import adjust, escape, files

from . import exchange, watch
from .queue import Queue
from .record import Recorder, when_text

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0


@dataclass
class Options:
    """What ``tfgrade serve`` was asked (see ``command``)."""

    assignments: tuple = (ASSIGNMENT,)
    out: Path = Path("grades")
    state: Path = Path(".tfkit/serve")
    use_exchange: bool = True
    folders: list = field(default_factory=list)
    jobs: int | None = None
    scheduler: str | None = None
    settle: float = 0.5
    rescan: float = 30.0
    limit: int | None = None  # gradings per student per window; None: no limit
    window: float = 3600.0
    feedback: dict = field(default_factory=dict)  # assignment -> full | brief
    counts: str = "latest"
    retries: int = 5
    backoff: float = 30.0
    round_settings: dict = field(default_factory=dict)  # due, late_policy, roster, ...
    extra: list = field(default_factory=list)  # nbgrader options (--SandboxedGrading.seed=...)


class LocalGrader:
    """Grades on this machine's warm forkserver."""

    def __init__(self, seed: int, limits):
        self.seed, self.limits = seed, limits

    def grade_read(self, notebook, student: str):
        return grade.grade_notebook(notebook, student, self.seed, self.limits)


class DaskGrader:
    """Grades on a Dask cluster (``cluster.Cluster``): the notebook is read here and its
    cells travel as data, as for ``tfgrade grade --scheduler``."""

    def __init__(self, connected, seed: int, limits):
        self.cluster, self.seed, self.limits = connected, seed, limits

    def grade_read(self, notebook, student: str):
        from autograder.grading import cluster
        task = self.cluster.task_of(student, student, grade.runnable_cells(notebook), self.seed,
                                    self.limits)
        future = self.cluster.client.submit(cluster.grade_task, task, pure=False,
                                            key=f"tfgrade-serve-{os.urandom(6).hex()}")
        try:
            return future.result()
        finally:
            future.release()


def grade_job(grader, job):
    """The ``grade.Result`` of ``job``; a failure of the grader is a ``GRADER_ERROR``
    result, never an exception."""
    safe = escape.safe_student_id(job.student)
    if not job.notebook:
        return grade.Result(student_id=safe, status="ungradable", seed=grader.seed,
                            reason=f"no notebook in the submission to grade (submit "
                                   f"{job.assignment}.ipynb, and only one notebook)")
    try:
        notebook = grade.read_notebook(job.notebook_path)
    except grade.Ungradable as exc:
        return grade.Result(student_id=safe, status="ungradable", reason=str(exc), seed=grader.seed)
    try:
        result = grader.grade_read(notebook, safe)
    except Exception as exc:  # noqa: BLE001 - the grader's failure, never the student's
        log.exception("grader error while grading %s", escape.terminal(job.student))
        return grade.Result(student_id=safe, status=GRADER_ERROR, seed=grader.seed,
                            reason=f"grader error: {type(exc).__name__}: {str(exc)[:300]}")
    result.submitted_as = job.student
    return result


class Service:
    """One course's grading service, run from the course root ``root``."""

    def __init__(self, options: Options, root: Path | None = None, clock=time.time):
        self.options = options
        self.root = Path(root or Path.cwd()).resolve()
        self.clock = clock
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.threads: list = []
        self.started_at = clock()
        self.watcher = None
        self.cluster = None
        self.recorders: dict = {}
        self.sources: list = []
        self.place = None
        self.known: set = set()
        self._rates: tuple = (None, {})  # (what they were computed from, the pass rates)

    # --- start-up -------------------------------------------------------------------------

    def round_folder(self, assignment: str) -> Path:
        out = self.root / self.options.out
        return out if len(self.options.assignments) == 1 else out / assignment

    def prepare(self) -> None:
        """Load the course (nbgrader's config, the gradebook's assignments), open the queue,
        put back what a stopped service left half done. Raises ``autograde.CourseError``."""
        from autograder.integrations.nbgrader.sandboxed import SandboxedGrading
        state = self.root / self.options.state
        self.queue = Queue(state / "queue.sqlite", clock=self.clock)
        for assignment in self.options.assignments:
            app = autograde.course_app(assignment, None, False, self.options.extra)
            settings = SandboxedGrading(config=app.config)
            self.seed, self.limits = settings.seed, settings.limits()
            if self.place is None and self.options.use_exchange:
                self.place = exchange.place_of(app)
            out = self.round_folder(assignment)
            self._settle_round(out, assignment)
            self.recorders[assignment] = Recorder(
                self.root, assignment, out, state, self.seed, self.limits,
                app_for=self._app_factory(assignment), place=self.place, counts=self.options.counts)
        if self.place is not None:
            if not self.place.inbound.is_dir():
                raise autograde.CourseError(
                    f"the exchange has no inbound folder {self.place.inbound}: create the course's "
                    "exchange first (see the README's 'Grade as they submit')")
            self.sources.append(watch.Source(self.place.inbound, "exchange", self.options.assignments))
        for folder in self.options.folders:
            self.sources.append(watch.Source(Path(folder).resolve(), "folder", self.options.assignments))
        for key in self.queue.recover():
            log.warning("graded again after a stop: submission %s", key[:12])

    def _app_factory(self, assignment: str):
        extra = [*self.options.extra, "--log-level=WARN"]
        return lambda student: autograde.course_app(assignment, student, True, extra)

    def _settle_round(self, out: Path, assignment: str) -> None:
        """The round's settings (round.json): what was stored, with this command's on top;
        nbgrader's feedback folder is the course's ``feedback/``."""
        out.mkdir(parents=True, exist_ok=True)
        stored = adjust.Settings.load(out)
        wanted = {**self.options.round_settings,
                  "feedback": self.options.feedback.get(assignment) or self.options.feedback.get("")}
        if stored.nbgrader_feedback is None and self.place is not None:
            wanted.setdefault("nbgrader_feedback", str(self.root / "feedback"))
        for key, value in wanted.items():
            if value is not None:
                setattr(stored, key, value)
        files.write_atomic(out / adjust.SETTINGS_FILE, stored.to_json())
        adjust.ensure_overrides_file(out)

    def warm(self) -> None:
        """Start the forkserver and the reference processes now (or connect to Dask)."""
        if self.options.scheduler:
            from autograder.grading import cluster
            self.cluster = cluster.Cluster(scheduler=self.options.scheduler)
            self.grader = DaskGrader(self.cluster, self.seed, self.limits)
            return
        from autograder.grading.reference import ReferenceFailed, read_reference
        from autograder.sandbox.forkserver import start_forkserver
        start_forkserver()
        try:
            batch.warm_reference(read_reference(self.root), self.jobs)
        except (OSError, ReferenceFailed) as exc:
            log.error("the reference cannot start yet: %s", exc)
        self.grader = LocalGrader(self.seed, self.limits)

    @property
    def jobs(self) -> int:
        if self.cluster is not None:
            return self.options.jobs or self.cluster.threads
        return self.options.jobs or os.cpu_count() or 1

    def start(self) -> None:
        for number in range(self.jobs):
            self._thread(self._grading_loop, f"tfgrade-grade-{number}")
        self._thread(self._sheets_loop, "tfgrade-sheets")
        self.known.update(self.queue.known_sources())  # folders a rescan need not read again
        self.watcher = watch.Watcher(self.sources, self.found, settle=self.options.settle,
                                     rescan=self.options.rescan, skip=self.known.__contains__)
        self.watcher.start()

    def _thread(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, wait: float = 10.0) -> None:
        """Stop finding and claiming; wait up to ``wait`` seconds for gradings under way (a
        grading cut short is graded again at the next start)."""
        self.stopping.set()
        self.wake.set()
        if self.watcher is not None:
            self.watcher.stop()
        deadline = time.monotonic() + wait
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for recorder in self.recorders.values():
            recorder.write_sheets()
        if self.cluster is not None:
            self.cluster.close()

    # --- the loop -------------------------------------------------------------------------

    def found(self, job) -> bool:
        """A complete submission: queued once (by its content key)."""
        if job.assignment not in self.recorders:
            return False
        new = self.queue.add(job)
        self.known.add(job.source)
        if new:
            log.info("queued %s (%s)", escape.terminal(job.student), job.submitted_at)
            self.wake.set()
        return new

    def _grading_loop(self) -> None:
        while not self.stopping.is_set():
            job = self.queue.claim()
            if job is None:
                wake_at = self.queue.next_wake()
                timeout = 1.0 if wake_at is None else min(1.0, max(0.01, wake_at - self.clock()))
                self.wake.wait(timeout)
                self.wake.clear()
                continue
            try:
                self.process(job)
            except Exception as exc:  # noqa: BLE001 - the loop must go on; the job is retried
                log.exception("grader error on %s", escape.terminal(job.student))
                self.grader_error(job, f"grader error: {type(exc).__name__}: {str(exc)[:300]}")

    def process(self, job) -> None:
        recorder = self.recorders[job.assignment]
        until = self.queue.admit(job, self.options.limit, self.options.window)
        if until is not None:
            self.defer(job, until)
            return
        started = time.monotonic()
        outcome = grade_job(self.grader, job)
        if outcome.status == GRADER_ERROR:
            self.grader_error(job, outcome.reason)
            return
        self.queue.graded(job, time.monotonic() - started)
        try:
            result, counted = recorder.record(job, outcome, self.queue)
        except Exception as exc:  # noqa: BLE001 - nbgrader's pipeline or a write failed
            log.exception("grader error while recording %s", escape.terminal(job.student))
            self.grader_error(job, f"grader error: recording failed: {type(exc).__name__}: "
                                   f"{str(exc)[:300]}")
            return
        self.queue.done(job, result, counted)
        log.info("graded %s: %s / %s (%s) in %.1f s%s", escape.terminal(job.student),
                    result.get("score"), result.get("max_score"), result.get("status"),
                    time.monotonic() - started, "" if counted else " (not of record)")

    def defer(self, job, until: float) -> None:
        limit, hours = self.options.limit, self.options.window / 3600
        why = (f"over the limit of {limit} graded submissions per {hours:g} h: graded at "
               f"{when_text(until)}")
        self.queue.defer(job, until, why)
        self.recorders[job.assignment].interim(job, "Your submission is queued", [
            f"Your submission of {job.submitted_at or 'unknown time'} was received.",
            f"Your course grades at most {limit} submission{'s' * (limit != 1)} per student "
            f"every {hours:g} hour{'s' * (hours != 1)}, and you have reached that limit.",
            f"It will be graded at {when_text(until)} (or soon after). Fetch your feedback "
            "again then: this page will be replaced by it."])
        log.warning("deferred %s until %s (over the limit)", escape.terminal(job.student),
                    when_text(until))

    def grader_error(self, job, reason: str) -> None:
        """Retry with backoff, or report as failed: never a grade."""
        attempts = job.attempts + 1
        if attempts >= self.options.retries:
            until = None
        else:
            until = self.clock() + min(self.options.backoff * 2 ** (attempts - 1), MAX_BACKOFF)
        state = self.queue.retry(job, until, reason)
        log.error("grader error for %s (attempt %d of %d): %s; %s", escape.terminal(job.student),
                  attempts, self.options.retries, escape.terminal(reason),
                  f"retried at {when_text(until)}" if until else
                  "given up until the service starts again")
        later = (f"It will be graded again automatically at {when_text(until)}." if until else
                 "It will be graded again when your instructor has fixed the problem.")
        self.recorders[job.assignment].interim(job, "Your submission is not graded yet", [
            f"Your submission of {job.submitted_at or 'unknown time'} was received.",
            "The grader had a problem on its side, not in your work: nothing was charged to "
            "you, and your instructor has been told.", later])
        if state == "failed":
            self.wake.set()

    def _sheets_loop(self) -> None:
        while not self.stopping.wait(2.0):
            for recorder in self.recorders.values():
                if recorder.sheets_due.is_set():
                    recorder.write_sheets()

    # --- what the status page shows --------------------------------------------------------

    def status(self) -> dict:
        """The queue, recent results, errors and per-exercise pass rates, as plain data."""
        queue = self.queue
        waiting = queue.rows("state IN ('queued', 'grading', 'deferred', 'retry')", order="found_at")
        recent = queue.rows("state = 'done'", order="finished_at DESC", limit=50)
        errors = queue.rows("state IN ('retry', 'failed')", order="finished_at DESC", limit=50)
        return {"now": self.clock(), "started_at": self.started_at, "counts": queue.counts(),
                "watching": bool(self.watcher and self.watcher.watching),
                "jobs": self.jobs, "assignments": list(self.options.assignments),
                "queue": [_row(r) for r in waiting], "recent": [_row(r) for r in recent],
                "errors": [_row(r) for r in errors], "pass_rates": self.pass_rates()}

    def pass_rates(self) -> dict:
        """Per exercise: of the students' submissions of record, how many earned full points
        (computed again only when a submission was recorded since)."""
        mark = self.queue.counts()["done"], self.queue.rows("state = 'done'", order="finished_at DESC",
                                                             limit=1)
        mark = (mark[0], mark[1][0]["finished_at"] if mark[1] else None)
        if self._rates[0] == mark:
            return self._rates[1]
        rates: dict = {}
        for row in self.queue.rows("counted = 1 AND state = 'done'", limit=100000):
            try:
                exercises = json.loads(row["result"] or "{}").get("exercises") or {}
            except ValueError:
                continue
            for name, exercise in exercises.items():
                full = exercise.get("score") == exercise.get("max_score")
                passed, total = rates.get(name, (0, 0))
                rates[name] = (passed + bool(full), total + 1)
        self._rates = (mark, {name: {"passed": p, "of": n} for name, (p, n) in rates.items()})
        return self._rates[1]


_SHOWN = ("key", "student", "assignment", "state", "submitted_at", "found_at", "started_at",
          "finished_at", "feedback_at", "graded_seconds", "score", "max_score", "status", "reason",
          "attempts", "next_at", "counted", "kind")


def _row(row: dict) -> dict:
    return {name: row.get(name) for name in _SHOWN}
