"""Grading one submission: notebook -> sandboxed process -> checks -> :class:`Result`.

The grader reads the notebook with nbformat, runs its code cells (not the test,
check and demonstration cells) in a sandboxed process, then asks that process to
probe each exercise on inputs drawn from the submission's case seed (the course seed
combined with a digest of the cells it runs: :func:`derive_case_seed`), with the
reference versions of what the exercise builds on. Every answer is judged here,
outside the sandbox.

A cell that hangs or ends the process is skipped on a restart (it costs what it
defines, not the whole notebook); an exercise that hangs or crashes scores 0 with the
reason, and grading goes on with the next one in a fresh process.

Nothing from the submission is trusted: the notebook is read only if it is a regular
file (no symbolic link is followed, no FIFO or device is opened for reading); every
reply of the sandbox is validated (``replies``) before it is judged, and one that does
not fit gets the sandbox killed and the exercise (or cell) recorded as crashed; cells
are named by their position, and by their grade id only when it is the instructor's.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import stat
import time
from dataclasses import dataclass, field

import nbformat

from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.boundary import replies
from autograder.checking.compare import Check
from autograder.checking.judge import MALFORMED, ExerciseResult, judge, render_feedback
from autograder.course import case_key, cell_role, grade_id
from autograder.exercises import EXERCISES, TOTAL_POINTS, cases_for
from autograder.grading.reference import Reference, ReferenceFailed
from autograder.sandbox.client import Crashed, Sandbox, Timeout, Unavailable
from autograder.sandbox.settings import Limits

SKIPPED_ROLES = {"test", "check", "demo"}
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]*$")  # nbgrader's rule for a grade_id


class Ungradable(Exception):
    """The submission cannot be graded at all (the reason is for the instructor)."""



@dataclass
class Result:
    """The grade of one submission (the contents of result.json)."""

    student_id: str
    submitted_as: str = ""  # the name the submission came with, before it was made safe
    score: float = 0.0
    max_score: float = TOTAL_POINTS
    status: str = "graded"  # graded | incomplete | ungradable | grader error (GRADER_ERROR)
    reason: str = ""
    seed: int = 0  # the course seed (--seed)
    case_seed: int | None = None  # the seed the inputs were drawn from (None: nothing graded)
    assignment: str = ASSIGNMENT
    exercises: dict = field(default_factory=dict)
    isolation: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"student_id": self.student_id, "submitted_as": self.submitted_as or self.student_id,
                "assignment": self.assignment,
                "score": self.score, "max_score": self.max_score, "status": self.status,
                "reason": self.reason, "seed": self.seed, "case_seed": self.case_seed,
                "exercises": {k: v.to_dict() for k, v in self.exercises.items()},
                "isolation": self.isolation, "output": self.output,
                "seconds": round(self.seconds, 3)}


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def cell_label(cell, position: int) -> str:
    """How a cell is named in reasons and feedback: its position in the notebook, and
    its grade id only when that id is the instructor's (an exercise of the contract,
    which also satisfies nbgrader's ``^[a-zA-Z0-9_-]*$``). Any other submitted metadata
    is never shown: a student can write anything there."""
    name = grade_id(cell)
    if GRADE_ID.match(name) and name in EXERCISES:
        return f"{position} ({name})"
    return str(position)


def labelled_exercise(label: str) -> str | None:
    """The exercise a label from :func:`cell_label` names, or None."""
    match = re.fullmatch(r"\d+ \((\w+)\)", label)
    return match.group(1) if match and match.group(1) in EXERCISES else None


def _file_kind(mode: int) -> str:
    for test, name in [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")]:
        if test(mode):
            return name
    return "not a regular file"


def read_notebook(path) -> nbformat.NotebookNode:
    """The notebook at ``path``, read only if it is a regular file of at most
    ``MAX_NOTEBOOK_BYTES``. A symbolic link, FIFO, device or socket raises
    :class:`Ungradable` and nothing of it is read: the file is checked with ``lstat``,
    opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO cannot block the open) and checked
    again with ``fstat`` on what was opened."""
    def refuse(why: str):
        return Ungradable(f"the notebook cannot be read: {why}")
    try:
        if not stat.S_ISREG(mode := os.lstat(path).st_mode):
            raise refuse(f"it is {_file_kind(mode)}, not a regular file (not followed, not read)")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise refuse(exc.strerror or type(exc).__name__) from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise refuse(f"it is {_file_kind(opened.st_mode)}, not a regular file (not read)")
        if opened.st_size > MAX_NOTEBOOK_BYTES:
            raise refuse(f"it is larger than {MAX_NOTEBOOK_BYTES // 2 ** 20} MB")
        raw = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise refuse(f"it is larger than {MAX_NOTEBOOK_BYTES // 2 ** 20} MB")
    try:
        return parse_notebook(raw.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same verdict
        raise refuse(f"{type(exc).__name__}: {str(exc)[:300]}") from None


def parse_notebook(text: str) -> nbformat.NotebookNode:
    """``text`` as a version-4 notebook, as ``nbformat.reads(text, as_version=4)`` gives
    it, without its console noise: a cell lacking the id nbformat 4.5 requires (an older
    tool wrote it, or the ids were stripped), or repeating an earlier cell's id, gets
    ``cell-<position>`` here, where nbformat would warn (``MissingIDFieldWarning``,
    ``DuplicateCellId``) and give it a random one; an invalid notebook is graded anyway,
    as nbformat does, without nbformat logging the student's JSON on the instructor's
    console. Ids play no part in grading."""
    notebook = nbformat.convert(nbformat.reader.reads(text), 4)
    cells = notebook.get("cells")
    if notebook.get("nbformat_minor", 0) >= 5 and isinstance(cells, list):
        cells = [cell for cell in cells if isinstance(cell, dict)]
        taken, seen = {cell.get("id") for cell in cells}, set()
        for position, cell in enumerate(cells, start=1):
            if "id" not in cell or cell["id"] in seen:
                name = f"cell-{position}"
                while name in taken:
                    name += "-x"
                cell["id"] = name
                taken.add(name)
            seen.add(cell["id"])
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError:
        pass
    return notebook


def code_cells(path) -> list:
    """The (cell label, source) pairs the grader runs from the notebook at ``path``."""
    return runnable_cells(read_notebook(path))


def runnable_cells(notebook) -> list:
    """The (cell label, source) pairs the grader runs: every code cell except nbgrader's
    test cells and the kit's check and demonstration cells."""
    cells = []
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        if _mapping(cell).get("cell_type") != "code" or cell_role(cell) in SKIPPED_ROLES:
            continue
        cells.append((cell_label(cell, index), cell.get("source", "")))
    return cells


def derive_case_seed(seed: int, cells, key: bytes | None = None) -> int:
    """The seed one submission's inputs are drawn from (``cases_for``): a keyed hash
    (HMAC-SHA256) of the course seed and exactly what is graded, the sources of the
    notebook's runnable cells in order (:func:`runnable_cells`; labels, markdown and
    outputs play no part), under the course's secret key (``course.case_key``, or
    ``key``). Any change to the code that runs, even a comment or a space, draws other
    inputs, so values hard-coded from one grading's feedback (the expected values of
    its cases, keyed by shape) do not match the cases of the notebook that holds them;
    and since no sandbox holds the key, a submission cannot compute the inputs of an
    exercise before its probe hands them over (a stand-in of an earlier exercise is no
    oracle for a later one). The same cells, course seed and key always give the same
    case seed, so grading the same notebook again replays its grading exactly; the
    result records both seeds.

    Every route derives it here: ``tfgrade grade`` (local threads and Dask workers,
    through :func:`_grade`), nbgrader's pipeline (``nbgrader_sandbox``) and the hidden
    tests run in a kernel (``kernel``), so they agree on the same cells. A number in
    ``[0, 2**32)``, like a course seed."""
    message = f"tfkit case seed 2\0{int(seed)}\0".encode() + json.dumps(
        [str(source) for _label, source in cells]).encode()
    digest = hmac.new(key if key is not None else case_key(), message, hashlib.sha256)
    return int.from_bytes(digest.digest()[:4], "big")


# On a restart, the cells that already ran are run again, in order, as long as their
# first runs add up to at most this much (scaled with --time-scale); a cell that does not
# fit is left out. The cheap ones (imports, definitions, data) restore the notebook's
# state, and a slow one is not paid again.
RERUN_SECONDS = 2.0


class _Clock:
    """Where one exercise's grading time went: ``student`` (the sandbox's side: the
    student's code, with the probe and the channel around it), ``reference`` (the time
    grading waited for the reference: its answers to stand-ins, and expected values not
    ready yet), ``grader`` (judging, less the reference's part) and ``ahead`` (the
    reference's seconds on expected values computed ahead, beside the sandbox:
    ``Reference.ahead``)."""

    def __init__(self):
        self.totals = {"sandbox": 0.0, "reference": 0.0, "judging": 0.0}
        self.ahead = 0.0
        self._reference_in = {"sandbox": 0.0, "judging": 0.0}
        self._current = None

    @contextlib.contextmanager
    def measure(self, part: str):
        started, self._current = time.monotonic(), part
        try:
            yield
        finally:
            self.totals[part] += time.monotonic() - started
            self._current = None

    def timed(self, part: str, function):
        def wrapper(*args, **kwargs):
            started, within = time.monotonic(), self._current
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.monotonic() - started
                self.totals[part] += spent
                if within in self._reference_in:
                    self._reference_in[within] += spent
        return wrapper

    def split(self) -> dict:
        return {"student": round(max(self.totals["sandbox"] - self._reference_in["sandbox"], 0.0), 4),
                "reference": round(self.totals["reference"], 4),
                "grader": round(max(self.totals["judging"] - self._reference_in["judging"], 0.0), 4),
                "ahead": round(self.ahead, 4)}


class BudgetSpent(Exception):
    """The submission's total time budget ran out (the message says which)."""


class _Run:
    """The state of grading one submission: the sandbox, what each cell cost, the
    cells that must be skipped on a restart, the time budget, and what went wrong
    along the way.

    Its cost is bounded: a slow cell runs once (a restart re-runs only the cells whose
    first runs fit in :data:`RERUN_SECONDS` together), and the whole submission gets one pass
    of its cells plus every exercise's limit (``Limits.submission_seconds`` instead,
    when set); what the budget does not reach is recorded as not graded."""

    def __init__(self, cells, limits: Limits, reference):
        self.cells, self.limits, self.reference = cells, limits, reference
        self.sandbox = Sandbox(limits)
        self.skipped: dict = {}
        self.cell_errors: dict = {}
        self.notes: list = []
        self.output: list = []
        self.cell_seconds: dict = {}  # cell id -> seconds of its first run
        self.not_rerun: set = set()
        self.started = time.monotonic()
        self.deadline: float | None = None  # set once the first pass of the cells is done
        self.cases: dict = {}  # exercise -> its cases (``look_ahead``)
        self.ahead: dict = {}  # exercise -> the future of its expected values

    def look_ahead(self, seed: int) -> None:
        """Draw every exercise's cases, and have the reference start computing their
        expected values now (``Reference.ahead``), while the sandbox starts and runs the
        cells. Not for an exercise whose cell still holds the released stub (it raises
        ``NotImplementedError``): that one will not need them, and if it does,
        :meth:`expected` asks on the spot."""
        stubs = {labelled_exercise(label) for label, source in self.cells
                 if "NotImplementedError" in source}
        for name, exercise in EXERCISES.items():
            self.cases[name] = cases_for(exercise, seed)
            if name not in stubs:
                future = self.reference.ahead(name, self.cases[name])
                if future is not None:
                    self.ahead[name] = future

    def drop_ahead(self) -> None:
        """Cancel what the reference has not started computing ahead for this submission."""
        for future in self.ahead.values():
            future.cancel()
        self.ahead.clear()

    def boot(self) -> None:
        """Start a fresh process and run the notebook's cells in it, skipping any cell
        that hung or ended the process before, and, after the first pass, any cell too
        slow to run again."""
        for _attempt in range(len(self.cells) + 2):
            self.sandbox.start()
            if self._run_cells():
                if self.deadline is None:
                    self.deadline = time.monotonic() + self._budget_after_cells()
                return
        raise Ungradable("the notebook's cells could not be run (every restart failed)")

    def _budget_after_cells(self) -> float:
        if self.limits.submission_seconds is not None:
            return self.limits.submission_seconds - (time.monotonic() - self.started)
        return sum(e.time_limit for e in EXERCISES.values()) * self.limits.time_scale

    def _run_cells(self) -> bool:
        rerun_allowance = RERUN_SECONDS * self.limits.time_scale
        for cell_id, source in self.cells:
            if cell_id in self.skipped:
                continue
            if cell_id in self.cell_seconds:  # ran before this restart
                if self.cell_seconds[cell_id] > rerun_allowance:
                    self._not_rerun(cell_id)
                    continue
                rerun_allowance -= self.cell_seconds[cell_id]
            started = time.monotonic()
            try:
                raw = self.sandbox.request({"op": "cell", "id": cell_id, "source": source},
                                           self.limits.cell_seconds)
                reply = replies.cell_reply(raw)
            except (Timeout, Crashed, replies.Malformed) as exc:
                if isinstance(exc, replies.Malformed):
                    self.sandbox.stop()
                    exc = f"{MALFORMED} ({exc})"
                self.skipped[cell_id] = str(exc)
                self.notes.append(f"cell {cell_id} was skipped: {exc}")
                return False
            self.cell_seconds.setdefault(cell_id, time.monotonic() - started)
            self._keep_output(raw)
            if "error" in reply:
                first_line = (reply["error"].splitlines() or [""])[0]
                self.cell_errors[cell_id] = f"cell {cell_id} raised {first_line}"
        return True

    def _not_rerun(self, cell_id: str) -> None:
        if cell_id not in self.not_rerun:
            self.not_rerun.add(cell_id)
            self.notes.append(f"cell {cell_id} was not run again after a restart (its first run "
                              f"took {self.cell_seconds[cell_id]:.1f} s)")

    def time_left(self) -> float:
        """Seconds of the submission's budget left (after the first pass of the cells)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def _keep_output(self, reply) -> None:
        printed = replies.output(reply, self.limits.output_chars)
        if printed:
            self.output.append(printed)

    def exercise(self, name: str, seed: int) -> ExerciseResult:
        exercise = EXERCISES[name]
        cases = self.cases.get(name) or cases_for(exercise, seed)
        left = self.time_left()
        if left <= 0:
            raise BudgetSpent(self.budget_text())
        limit = min(exercise.time_limit * self.limits.time_scale, left)
        clock = _Clock()
        try:
            with clock.measure("sandbox"):
                reply = self.sandbox.request({"op": "exercise", "name": name, "cases": cases}, limit,
                                             answer_call=clock.timed("reference", self._answerer(exercise)))
        except (Timeout, Crashed) as exc:
            status = "timeout" if isinstance(exc, Timeout) else "crashed"
            reason = f"grading {exercise.signature} stopped: {exc}"
            self.notes.append(f"{name}: {exc}")
            if name in self.ahead:
                self.ahead.pop(name).cancel()
            self.boot()
            return judge(name, cases, [{"error": str(exc)}] * len(cases), status, reason)
        self._keep_output(reply)
        with clock.measure("judging"):
            result = judge_reply(name, cases, reply, self.expected(name, cases, clock))
        result.seconds = clock.split()
        if result.status == "crashed":  # it sent what no probe sends: do not trust it again
            self.notes.append(f"{name}: the process's answer was refused, and the process replaced")
            self.sandbox.stop()
            self.boot()
        return result

    def budget_text(self) -> str:
        where = (f"{self.limits.submission_seconds:g} s" if self.limits.submission_seconds is not None
                 else "one pass of its cells plus every exercise's time limit")
        return f"the submission's time budget ({where}) ran out"

    @staticmethod
    def not_graded(name: str, why: str) -> ExerciseResult:
        """An exercise the budget did not reach: 0, recorded as a time-out, saying why."""
        exercise = EXERCISES[name]
        result = ExerciseResult(name, 0.0, exercise.points, "timeout", [
            Check(f"{exercise.signature} was graded", False, f"not graded: {why}",
                  "Earlier cells or exercises used the notebook's whole time budget: make the "
                  "slow or crashing ones finish, and submit again.")])
        result.feedback = render_feedback(result, f"{exercise.signature} was not graded: {why}.")
        return result

    def expected(self, name: str, cases: list, clock: _Clock):
        """``expected(case)`` for the judge: from the values computed ahead, waited for
        on first use (the wait is the reference's time), or from the reference on the
        spot when none were asked ahead or their computation has not started yet."""
        future = self.ahead.pop(name, None)
        on_the_spot = clock.timed("reference", lambda case: self.reference.expected(name, case))
        if future is None or future.cancel():
            return on_the_spot
        table: dict = {}

        def lookup(case):
            if not table:
                values, seconds = clock.timed("reference", future.result)()
                clock.ahead += seconds
                table.update(zip(map(id, cases), values))
            return table[id(case)] if id(case) in table else on_the_spot(case)
        return lookup

    def _answerer(self, exercise):
        return answerer(self.reference, exercise)


def answerer(reference, exercise):
    """Answers the stand-ins of what ``exercise`` uses (``replies.allowed_calls``), and
    nothing else: ``message -> {"value": ...}`` or ``{"error": text}``. A call over the
    reply caps is refused before the reference computes anything, with the cap in its
    text. Both graders answer through it (``local`` too)."""
    def answer(message) -> dict:
        try:
            name, args, cotangent = replies.reference_call(message, exercise)
        except replies.Malformed as exc:
            return {"error": f"refused: {exc}"}
        try:
            return {"value": reference.call(name, args, cotangent)}
        except ReferenceFailed as exc:
            if exc.kind == replies.TooLarge.__name__:
                return {"error": f"refused: {replies.RESULT_OVER_CAP}"}
            # Only the kind of failure: the reference's messages could describe its code.
            return {"error": f"the reference rejected these arguments ({exc.kind})"}
    return answer


def judge_reply(name: str, cases: list, reply, expected=None) -> ExerciseResult:
    """The grade of one exercise from the sandbox's decoded reply, whatever it holds:
    a reply that does not fit the exercise's schema is graded ``crashed`` with the
    reason. Never raises for anything the sandbox can send."""
    try:
        outcomes = replies.exercise_reply(EXERCISES[name], cases, reply)
    except replies.Malformed as exc:
        reason = str(exc) if isinstance(exc, replies.Failed) else f"{MALFORMED} ({exc})"
        return judge(name, cases, [{"error": reason}] * len(cases), "crashed", reason)
    return judge(name, cases, outcomes, expected=expected)


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit} characters dropped]"
    return text[: max(0, limit - len(note))] + note


def grade_submission(path, student_id: str, seed: int, limits: Limits | None = None,
                     reference=None, case_seed: int | None = None) -> Result:
    """Grade the notebook at ``path`` against ``reference`` (by default the course's,
    found from the current folder), on inputs drawn from its case seed (derived from
    ``seed`` and its cells, :func:`derive_case_seed`; ``case_seed`` replaces it, to
    replay a recorded grading). Never raises for a bad submission: the reason is
    recorded."""
    return _grade(lambda: code_cells(path), student_id, seed, limits, reference, case_seed)


def grade_notebook(notebook, student_id: str, seed: int, limits: Limits | None = None,
                   reference=None, case_seed: int | None = None) -> Result:
    """Grade a notebook already read (nbgrader's pipeline hands one over)."""
    return _grade(lambda: runnable_cells(notebook), student_id, seed, limits, reference,
                  case_seed)


def grade_cells(cells, student_id: str, seed: int, limits: Limits | None = None,
                reference=None, case_seed: int | None = None) -> Result:
    """Grade a notebook's runnable cells, (label, source) pairs read elsewhere (a
    cluster's task carries them: ``cluster.Task``)."""
    return _grade(lambda: [(str(label), str(source)) for label, source in cells], student_id,
                  seed, limits, reference, case_seed)


def _grade(load_cells, student_id: str, seed: int, limits: Limits | None, reference,
           case_seed: int | None = None) -> Result:
    started = time.monotonic()
    result = Result(student_id=student_id, seed=seed)
    run = None
    try:
        cells = load_cells()
        result.case_seed = derive_case_seed(seed, cells) if case_seed is None else int(case_seed)
        run = _Run(cells, limits or Limits(), reference or Reference.from_course())
        run.look_ahead(result.case_seed)
        run.boot()
        result.isolation = [item[:200] for item in run.sandbox.isolation if isinstance(item, str)]
        spent = ""
        for name in EXERCISES:
            try:
                result.exercises[name] = (run.not_graded(name, spent) if spent
                                          else run.exercise(name, result.case_seed))
            except BudgetSpent as exc:
                spent = str(exc)
                result.exercises[name] = run.not_graded(name, spent)
                run.notes.append(f"{spent}: {name} and the exercises after it were not graded")
    except Ungradable as exc:
        result.status, result.reason = "ungradable", str(exc)
    except Unavailable as exc:
        result.status, result.reason = GRADER_ERROR, f"grader error: the sandbox could not start: {exc}"
    finally:
        if run is not None:
            run.drop_ahead()
            run.sandbox.stop()
            result.output = _bounded("\n".join(run.output), run.limits.output_chars)
            notes = list(run.cell_errors.values()) + run.notes
            if result.status not in ("ungradable", GRADER_ERROR) and notes:
                result.reason = "; ".join(notes)
                if any(e.status in ("timeout", "crashed") for e in result.exercises.values()) \
                        or run.skipped:
                    result.status = "incomplete"
    result.score = round(sum(e.score for e in result.exercises.values()), 2)
    result.seconds = time.monotonic() - started
    return result
