"""Grading one submission: notebook -> sandboxed process -> checks -> :class:`Result`.

The grader reads the notebook with nbformat, runs its code cells (not the test,
check and demonstration cells) in a sandboxed process, then asks that process to
probe each exercise on inputs drawn from the seed, with the reference versions of
what the exercise builds on. Every answer is judged here, outside the sandbox.

A cell that hangs or ends the process is skipped on a restart (it costs what it
defines, not the whole notebook); an exercise that hangs or crashes scores 0 with the
reason, and grading goes on with the next one in a fresh process.
"""
from __future__ import annotations

import functools
import inspect
import threading
import time
from dataclasses import dataclass, field

import nbformat

from . import ASSIGNMENT
from .exercises import EXERCISES, TOTAL_POINTS, cases_for
from .judge import ExerciseResult, judge
from .sandbox import Crashed, Limits, Sandbox, Timeout

SKIPPED_ROLES = {"test", "check", "demo"}


class Ungradable(Exception):
    """The submission cannot be graded at all (the reason is for the instructor)."""


@dataclass
class Result:
    """The grade of one submission (the contents of result.json)."""

    student_id: str
    score: float = 0.0
    max_score: float = TOTAL_POINTS
    status: str = "graded"  # graded | incomplete | ungradable
    reason: str = ""
    seed: int = 0
    assignment: str = ASSIGNMENT
    exercises: dict = field(default_factory=dict)
    isolation: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"student_id": self.student_id, "assignment": self.assignment,
                "score": self.score, "max_score": self.max_score, "status": self.status,
                "reason": self.reason, "seed": self.seed,
                "exercises": {k: v.to_dict() for k, v in self.exercises.items()},
                "isolation": self.isolation, "output": self.output,
                "seconds": round(self.seconds, 3)}


def cell_role(cell) -> str:
    """'test' for nbgrader's graded test cells, else the kit's role tag ('setup',
    'demo', 'check') or ''."""
    grading = cell.get("metadata", {}).get("nbgrader", {})
    if grading.get("grade") and not grading.get("solution"):
        return "test"
    return cell.get("metadata", {}).get("tfkit", {}).get("role", "")


def code_cells(path) -> list:
    """The (cell id, source) pairs the grader runs: every code cell except nbgrader's
    test cells and the kit's check and demonstration cells."""
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same verdict
        raise Ungradable(f"the notebook cannot be read: {type(exc).__name__}: {exc}") from None
    cells = []
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        if cell_role(cell) in SKIPPED_ROLES:
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        cells.append((str(grade_id or index), cell.get("source", "")))
    return cells


_sources_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _reference_source(name: str) -> str:
    from . import reference
    return inspect.getsource(getattr(reference, name))


def reference_sources(names) -> dict:
    """The source text of the reference definitions an exercise is graded with. Read
    once, under a lock: inspect parses classes with ``ast``, and CPython 3.11's parser
    is not safe to run from several grading threads at once ("AST constructor
    recursion depth mismatch")."""
    with _sources_lock:
        return {name: _reference_source(name) for name in names}


class _Run:
    """The state of grading one submission: the sandbox, the cells that must be
    skipped on a restart, and what went wrong along the way."""

    def __init__(self, cells, limits: Limits):
        self.cells, self.limits = cells, limits
        self.sandbox = Sandbox(limits)
        self.skipped: dict = {}
        self.cell_errors: dict = {}
        self.notes: list = []
        self.output: list = []

    def boot(self) -> None:
        """Start a fresh process and run the notebook's cells in it, skipping any cell
        that hung or ended the process before."""
        for _attempt in range(len(self.cells) + 2):
            self.sandbox.start()
            if self._run_cells():
                return
        raise Ungradable("the notebook's cells could not be run (every restart failed)")

    def _run_cells(self) -> bool:
        for cell_id, source in self.cells:
            if cell_id in self.skipped:
                continue
            try:
                reply = self.sandbox.request({"op": "cell", "id": cell_id, "source": source},
                                             self.limits.cell_seconds)
            except (Timeout, Crashed) as exc:
                self.skipped[cell_id] = str(exc)
                self.notes.append(f"cell {cell_id} was skipped: {exc}")
                return False
            self._keep_output(reply)
            if "error" in reply:
                self.cell_errors[cell_id] = f"cell {cell_id} raised {reply['error'].splitlines()[0]}"
        return True

    def _keep_output(self, reply: dict) -> None:
        if reply.get("output"):
            self.output.append(reply["output"])

    def exercise(self, name: str, seed: int) -> ExerciseResult:
        exercise = EXERCISES[name]
        cases = cases_for(exercise, seed)
        limit = exercise.time_limit * self.limits.time_scale
        try:
            reply = self.sandbox.request({"op": "exercise", "name": name, "cases": cases,
                                          "definitions": reference_sources(exercise.uses)}, limit)
        except (Timeout, Crashed) as exc:
            status = "timeout" if isinstance(exc, Timeout) else "crashed"
            reason = f"grading {exercise.signature} stopped: {exc}"
            self.notes.append(f"{name}: {exc}")
            self.boot()
            return judge(name, cases, [{"error": str(exc)}] * len(cases), status, reason)
        self._keep_output(reply)
        outcomes = reply.get("outcomes")
        if not isinstance(outcomes, list) or len(outcomes) != len(cases) or not all(
                isinstance(o, dict) and len(o.keys() & {"ok", "error", "missing"}) == 1 for o in outcomes):
            reason = reply.get("failed", "the grading process sent a malformed answer")
            return judge(name, cases, [{"error": reason}] * len(cases), "crashed", reason)
        return judge(name, cases, outcomes)


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit} characters dropped]"
    return text[: max(0, limit - len(note))] + note


def grade_submission(path, student_id: str, seed: int, limits: Limits | None = None) -> Result:
    """Grade one notebook. Never raises for a bad submission: the reason is recorded."""
    started = time.monotonic()
    result = Result(student_id=student_id, seed=seed)
    run = None
    try:
        cells = code_cells(path)
        run = _Run(cells, limits or Limits())
        run.boot()
        result.isolation = run.sandbox.isolation
        for name in EXERCISES:
            result.exercises[name] = run.exercise(name, seed)
    except Ungradable as exc:
        result.status, result.reason = "ungradable", str(exc)
    except Crashed as exc:
        result.status, result.reason = "ungradable", f"the sandbox could not start: {exc}"
    finally:
        if run is not None:
            run.sandbox.stop()
            result.output = _bounded("\n".join(run.output), run.limits.output_chars)
            notes = list(run.cell_errors.values()) + run.notes
            if result.status != "ungradable" and notes:
                result.reason = "; ".join(notes)
                if any(e.status in ("timeout", "crashed") for e in result.exercises.values()) \
                        or run.skipped:
                    result.status = "incomplete"
    result.score = round(sum(e.score for e in result.exercises.values()), 2)
    result.seconds = time.monotonic() - started
    return result
