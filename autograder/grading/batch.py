"""Grading a class: finding submissions, grading them in parallel, writing results.

A submission that cannot be graded still gets a row, with its reason. A re-run grades
a student again unless their result is current: graded from the same notebook bytes
(sha256), seed, assignment, submission time and kit (version and grading code), and,
for an incomplete result, the same time limits (:func:`stale`). ``--force`` grades
everyone again. With a roster, a rostered student with nothing submitted is recorded
``missing``; a submission from someone not on it is graded and flagged, never dropped.
Each run ends by rebuilding grades.csv and every feedback with the instructor's
overrides (``results.views.rebuild``), and by counting what it did (:class:`Summary`).

One student never costs the others: any exception while grading, judging or writing a
student is caught at that student, logged with its traceback for the instructor, and
recorded as ``ungradable`` with the reason "grader error: ..."; grades.csv is written
at the end whatever happened. Names come from the submissions, so they are made safe
before they name a folder or a row (:func:`safe_student_id`), and the walk over the
submitted folders never follows a symbolic link.
"""
from __future__ import annotations

import json
import logging
import textwrap
import time
from collections import Counter
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder import ASSIGNMENT, GRADER_ERROR  # noqa: F401
from autograder.grading.grade import Result, grade_submission  # noqa: F401
from autograder.grading.submissions import (NotASubmission, Submission, find_submissions, inside,
                                            unique_ids)  # noqa: F401
from autograder.results import adjust, escape, files, grades_csv, kit, records, views  # noqa: F401
from autograder.sandbox.settings import Limits  # noqa: F401

log = logging.getLogger(__name__)
MAX_ID_CHARS = escape.MAX_ID_CHARS
safe_student_id = escape.safe_student_id  # kept here: the name every caller knows


def grader_error(submission: Submission, seed: int, stage: str, exc: BaseException) -> dict:
    """The result of a student whose grading failed in the grader itself: logged with
    the traceback for the instructor, recorded as a grader error with the reason (never
    a grade: see ``autograder.GRADER_ERROR``)."""
    log.error("grader error while %s %s", stage, escape.terminal(submission.student_id),
              exc_info=(type(exc), exc, exc.__traceback__))
    reason = f"grader error: {type(exc).__name__}: {str(exc)[:300]} (while {stage})"
    return Result(student_id=submission.student_id, submitted_as=submission.submitted_as,
                  status=GRADER_ERROR, reason=reason, seed=seed).to_dict()


def grade_one(submission: Submission, seed: int, limits: Limits) -> dict:
    """One student's result as plain data. Never raises (see :func:`grader_error`)."""
    try:
        if submission.notebook is None:
            result = Result(student_id=submission.student_id, status="ungradable",
                            reason=submission.reason, seed=seed)
        else:
            result = grade_submission(submission.notebook, submission.student_id, seed, limits)
        result.submitted_as = submission.submitted_as
        return result.to_dict()
    except Exception as exc:  # noqa: BLE001 - one student's failure is their row
        return grader_error(submission, seed, "grading", exc)


def warm_reference(cells, processes: int | None = None):
    """The shared reference for ``cells`` (``reference.shared``, which grading uses),
    its first trusted processes started now, in the background (``Reference.start``):
    they start while the first sandbox starts too, not when the first student's first
    exercise asks. ``processes``: at most that many reference processes per pool (one
    per grading thread), since a student's call that arrives while the first still
    starts would start another."""
    from autograder.grading import reference
    shared = reference.shared(cells, processes)
    try:
        shared.start()  # the answers are not needed
    except Exception:  # noqa: BLE001 - the first real call starts it again, and says why
        pass
    return shared


def grade_locally(todo: list, seed: int, limits: Limits, jobs=None):
    """Grade ``todo`` (``(submission, key)`` pairs) on ``jobs`` threads of this process;
    yield ``(submission, key, result)`` as each finishes."""
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(grade_one, s, seed, limits): (s, key) for s, key in todo}
        for future in as_completed(futures):
            submission, key = futures[future]
            yield submission, key, future.result()


def fingerprint(submission: Submission, seed: int, limits: Limits) -> dict:
    """What a result must have been graded from to be current for ``submission``."""
    folder = submission.notebook.parent if submission.notebook is not None else None
    submitted_at, _ = adjust.read_timestamp(folder) if folder is not None else (None, "")
    content = submission.content_hash() or f"none: {submission.reason}"
    return {"notebook_sha256": content, "seed": seed, "assignment": ASSIGNMENT,
            "kit": kit.kit_fingerprint(), "submitted_at": submitted_at,
            "limits": {"time_scale": limits.time_scale, "cell_seconds": limits.cell_seconds,
                       **({"submission_seconds": limits.submission_seconds}
                          if limits.submission_seconds is not None else {})},
            "submitted_from": str(folder) if folder is not None else None}


def stale(previous: dict | None, key: dict) -> str:
    """'' when ``previous`` is current for ``key``; else why it must be graded (again)."""
    if previous is None:
        return "new"
    if previous.get("status") == "missing":
        return "submitted after being recorded missing"
    if previous.get("status") == GRADER_ERROR or str(previous.get("reason", "")).startswith("grader error"):
        return "the grader failed last time"
    for field_, why in [("notebook_sha256", "notebook changed"), ("seed", "seed changed"),
                        ("assignment", "assignment changed"), ("kit", "kit changed"),
                        ("submitted_at", "submission time changed")]:
        if previous.get(field_) != key[field_]:
            return why if field_ in previous else "graded by an older kit"
    if previous.get("status") == "incomplete" and previous.get("limits") != key["limits"]:
        return "time limits changed (was incomplete)"
    return ""


def _previous(out_dir: Path, student_id: str) -> dict | None:
    path = out_dir / student_id / records.RESULT_FILE
    if path.is_symlink() or not path.is_file():
        return None
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def record(out_dir: Path, submission: Submission, result: dict, seed: int, formats) -> dict:
    """Write one student's files and return what was recorded: the result, or, if
    writing it failed, a grader-error result in its place. Never raises."""
    try:
        views.write_result(out_dir, result, formats)
        return result
    except Exception as exc:  # noqa: BLE001
        fallback = grader_error(submission, seed, "writing the result of", exc)
    try:
        records.write_bare_result(out_dir, fallback)
    except Exception:  # noqa: BLE001 - even the bare fallback cannot be written (disk full?)
        log.exception("cannot write any result for %s", escape.terminal(submission.student_id))
    return fallback


def _write_grades(out_dir: Path) -> None:
    try:
        grades_csv.write_grades(out_dir)
    except Exception:  # noqa: BLE001 - retried after the last student
        log.exception("cannot write %s yet", grades_csv.GRADES_FILE)


EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_ALL_GRADED = 0, 1, 2, 3
EXIT_CODES = {EXIT_OK: "every student with a submission was graded",
              EXIT_ERROR: "tfgrade itself failed (a traceback, or a grader error in some "
                          "students' reason, says where): nothing was charged to them",
              EXIT_USAGE: "nothing was graded: a bad argument, a path, or no submissions",
              EXIT_NOT_ALL_GRADED: "grades.csv was written, but some students are incomplete "
                                   "or ungradable (see their reason)"}


@dataclass
class Summary:
    """What a run did and what the class looks like after it."""

    graded: int = 0  # graded for the first time
    regraded: list = field(default_factory=list)  # (student, why): graded again
    skipped: int = 0  # current: not graded again
    missing: list = field(default_factory=list)  # rostered, nothing submitted
    not_on_roster: list = field(default_factory=list)
    ignored: list = field(default_factory=list)  # (path, why)
    problems: list = field(default_factory=list)  # overrides.csv lines not applied
    statuses: Counter = field(default_factory=Counter)
    late: int = 0

    @property
    def exit_code(self) -> int:
        if self.statuses[GRADER_ERROR]:
            return EXIT_ERROR
        return EXIT_NOT_ALL_GRADED if self.statuses["incomplete"] or self.statuses["ungradable"] \
            else EXIT_OK

    def grader_errors(self, results: list) -> str:
        """One line for the instructor when the grader failed some students, or ''."""
        failed = [r for r in results if r.get("status") == GRADER_ERROR]
        if not failed:
            return ""
        names = ", ".join(escape.terminal(r["student_id"]) for r in failed[:5]) + (
            f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        cause = escape.terminal(str(failed[0].get("reason", "")).removeprefix("grader error: "))
        return (f"grader error for {len(failed)} student{'s' * (len(failed) != 1)} ({names}), "
                f"not charged to them: {textwrap.shorten(cause, 160)}; fix it and run again")

    def lines(self) -> list:
        shown = lambda items: ", ".join(escape.terminal(i) for i in items[:20]) + (  # noqa: E731
            f" and {len(items) - 20} more" if len(items) > 20 else "")
        lines = [f"this run: {self.graded} graded, {len(self.regraded)} re-graded because changed, "
                 f"{self.skipped} skipped as current, {len(self.missing)} newly recorded missing"]
        whys = Counter(why for _, why in self.regraded)
        if whys:
            lines.append("  re-graded: " + ", ".join(f"{n} {why}" for why, n in whys.most_common()))
        lines.append(f"class ({sum(self.statuses.values())} rows): " + ", ".join(
            f"{self.statuses[s]} {s}" for s in ("graded", "incomplete", "ungradable", "missing")
            + ((GRADER_ERROR,) if self.statuses[GRADER_ERROR] else ()))
            + (f"; {self.late} late" if self.late else ""))
        if self.not_on_roster:
            lines.append(f"not on the roster (graded; on_roster=no in grades.csv): "
                         f"{shown(self.not_on_roster)}")
        if self.ignored:
            lines.append(f"ignored ({len(self.ignored)}): "
                         + shown([f"{Path(p).name} ({why})" for p, why in self.ignored]))
        lines.extend(escape.terminal(p) for p in self.problems)
        lines.append(f"exit {self.exit_code}: {EXIT_CODES[self.exit_code]}")
        return lines


def _settle(out_dir: Path, settings: dict | None) -> adjust.Settings:
    """The round's settings: what was stored, with what this run was given on top."""
    stored = adjust.Settings.load(out_dir)
    for key, value in (settings or {}).items():
        if value is not None:
            setattr(stored, key, value)
    files.write_atomic(out_dir / adjust.SETTINGS_FILE, stored.to_json())
    return stored


def _record_missing(out_dir: Path, roster: list, submitted: set, seed: int, formats, summary) -> None:
    for student in roster:
        if student in submitted or _previous(out_dir, student) is not None:
            continue
        result = Result(student_id=student, status="missing", reason=records.MISSING_REASON,
                        seed=seed).to_dict()
        record(out_dir, Submission(student, None, records.MISSING_REASON, student), result, seed,
               formats)
        summary.missing.append(student)


def run_round(paths, out_dir, *, seed: int, jobs: int | None = None, force: bool = False,
              formats=("tfkit",), limits: Limits | None = None, progress: bool = True,
              submissions: list | None = None, settings: dict | None = None,
              nbgrader_feedback=None, cluster=None) -> tuple:
    """Grade every submission under ``paths`` that has no current result in ``out_dir``
    (all of them with ``force``), record rostered students with nothing submitted as
    missing, then rebuild grades.csv and every feedback with the instructor's overrides.
    ``settings`` updates the round's stored settings (roster, due, late_policy,
    feedback). With ``cluster`` (a :class:`cluster.Cluster`), students are graded on
    its workers and written here as their results arrive. Returns ``(results,
    summary)``: every result in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale_tmp in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:  # left by a killed run
        if not stale_tmp.parent.is_symlink():
            stale_tmp.unlink(missing_ok=True)
    summary = Summary()
    if submissions is None:
        submissions = find_submissions(paths)
    # the output folder is never a student (tfgrade grade refuses it before starting)
    submissions = [s for s in submissions if s.notebook is None or not inside(s.notebook, out_dir)]
    stored = _settle(out_dir, settings)
    adjust.ensure_overrides_file(out_dir)
    limits = limits or Limits()
    todo = []
    for submission in submissions:
        key = fingerprint(submission, seed, limits)
        why = "forced" if force else stale(_previous(out_dir, submission.student_id), key)
        if not why:
            summary.skipped += 1
            continue
        if why == "new":
            summary.graded += 1
        else:
            summary.regraded.append((submission.student_id, why))
        todo.append((submission, key))
    if stored.roster is not None:
        submitted = {s.student_id for s in submissions}
        summary.not_on_roster = sorted(submitted - set(stored.roster))
    try:
        if stored.roster is not None:
            _record_missing(out_dir, stored.roster, submitted, seed, formats, summary)
        if cluster is not None:
            graded = cluster.grade_class(todo, seed, limits)
        else:
            graded = grade_locally(todo, seed, limits, jobs)
        _write_all(out_dir, graded, len(todo), seed, formats, progress)
    finally:
        summary.problems = views.rebuild(out_dir, formats, nbgrader_feedback)
    results = records.read_results(out_dir)
    summary.statuses = Counter(r.get("status", "") for r in results)
    overrides, _ = adjust.read_overrides(out_dir)
    summary.late = sum(1 for r in results if (adjust.final_grade(r, overrides, stored).late_seconds
                                               or 0) > 0)
    return results, summary


class Progress:
    """What a run shows while it grades, on stderr: tqdm's bar on a terminal; elsewhere
    (cron, CI, a log file) a line when it starts and one per student graded, so that a
    log shows the run moving. Nothing when not ``enabled``."""

    def __init__(self, count: int, enabled: bool = True, stream=None, what: str = "grading"):
        self.stream = stream or sys.stderr
        terminal = getattr(self.stream, "isatty", lambda: False)()
        self.lines = enabled and not terminal and count > 0
        self.bar = tqdm(total=count, unit="student", desc=what, file=self.stream,
                        disable=not enabled or not terminal)
        self.count, self.done, self.started = count, 0, time.monotonic()
        if self.lines:
            self._line(f"{what} {count} student{'s' * (count != 1)}")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def update(self, label: str) -> None:
        """One more student done; ``label`` (e.g. "ann: 87.5") is shown escaped."""
        self.done += 1
        label = escape.terminal(label)
        self.bar.set_postfix_str(label)
        self.bar.update()
        if self.lines:
            minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
            self._line(f"graded {self.done}/{self.count}: {label} ({minutes:02d}:{seconds:02d} elapsed)")

    def close(self) -> None:
        self.bar.close()


def _write_all(out_dir: Path, graded, count: int, seed: int, formats, progress) -> None:
    """Write each student's files as their result arrives from ``graded`` (``(submission,
    key, result)`` triples), and grades.csv at most every two seconds (and once at
    the end, by the caller)."""
    last_sheet = 0.0
    shown = Progress(count, progress)
    try:
        for submission, key, result in graded:
            result = {**result, **key, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            result = record(out_dir, submission, result, seed, formats)
            if time.monotonic() - last_sheet > 2:
                _write_grades(out_dir)
                last_sheet = time.monotonic()
            score = result.get("score")
            shown.update(f"{submission.student_id}: {score:g}" if isinstance(score, (int, float))
                         else submission.student_id)
    finally:
        shown.close()


def grade_class(paths, out_dir, *, seed: int, jobs: int | None = None, force: bool = False,
                formats=("tfkit",), limits: Limits | None = None, progress: bool = True) -> list:
    """Grade every submission under ``paths`` into ``out_dir``; returns all results
    in ``out_dir`` (including students graded by an earlier run). See :func:`run_round`."""
    results, _ = run_round(paths, out_dir, seed=seed, jobs=jobs, force=force, formats=formats,
                           limits=limits, progress=progress)
    return results
