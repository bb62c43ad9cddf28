"""Grading a class: finding submissions, grading them in parallel, writing results.

A submission that cannot be graded still gets a row, with its reason; a re-run skips
the students who already have a result.json unless told to regrade.

One student never costs the others: any exception while grading, judging or writing a
student is caught at that student, logged with its traceback for the instructor, and
recorded as ``ungradable`` with the reason "grader error: ..."; grades.csv is written
at the end whatever happened. Names come from the submissions, so they are made safe
before they name a folder or a row (:func:`safe_student_id`), and the walk over the
submitted folders never follows a symbolic link.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from . import ASSIGNMENT, escape, report
from .grade import Result, grade_submission
from .sandbox import Limits

log = logging.getLogger(__name__)
MAX_ID_CHARS = 56  # with a "~N" suffix, at most 240 bytes of UTF-8: a valid file name


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path | None  # None: nothing to grade (the reason says why)
    reason: str = ""
    submitted_as: str = ""  # the name as found (folder or file name), before safe_student_id


def safe_student_id(name: str) -> str:
    """``name`` made safe as a folder name and a grade-sheet cell: path separators and
    control, format or unassigned characters become ``_``, and so do leading dots,
    spaces and the characters a spreadsheet reads as a formula (``= + - @``); at most
    ``MAX_ID_CHARS`` characters, never empty."""
    chars = "".join("_" if c in "/\\" or escape.invisible(c) else c for c in str(name))
    chars = re.sub(r"^[\s.=+\-@]+", lambda m: "_" * len(m.group()), chars)
    return chars[:MAX_ID_CHARS] or "_"


def unique_ids(names) -> dict:
    """A safe, unique student id for each name (sorted, so a re-run gives the same ids):
    a clash gets ``~2``, ``~3``, ..."""
    ids, taken = {}, set()
    for name in sorted(names):
        base = candidate = safe_student_id(name)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{base}~{number}"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _real_dir(path: Path) -> bool:
    """A folder that is not a symbolic link: the walk never follows one."""
    return path.is_dir() and not path.is_symlink()


def _notebook_in(folder: Path) -> tuple:
    if folder.is_symlink():
        return None, f"{folder.name} is a symbolic link (not followed)"
    try:
        notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    except OSError as exc:
        return None, f"{folder.name} cannot be listed: {exc.strerror or type(exc).__name__}"
    preferred = [p for p in notebooks if p.stem == ASSIGNMENT]
    if preferred or len(notebooks) == 1:
        return (preferred or notebooks)[0], ""  # not read here: grade.read_notebook checks it
    if not notebooks:
        return None, f"no notebook in {folder.name}"
    return None, f"several notebooks in {folder.name} and none named {ASSIGNMENT}.ipynb"


def _in_folder(path: Path, found: dict) -> None:
    """The submissions in a folder the instructor named: nbgrader's ``submitted/`` layout
    or loose notebooks. Entries are looked at without following symbolic links."""
    for child in sorted(path.iterdir()):
        if child.is_symlink():
            found[child.stem if child.suffix == ".ipynb" else child.name] = Submission(
                "", None, f"{child.name} is a symbolic link (not followed)")
        elif _real_dir(child) and not child.name.startswith("."):  # not .ipynb_checkpoints
            inner = child / ASSIGNMENT
            folder = inner if inner.is_symlink() or _real_dir(inner) else child
            notebook, reason = _notebook_in(folder)
            found[child.name] = Submission("", notebook, reason)
        elif child.suffix == ".ipynb":
            found[child.stem] = Submission("", child)


def find_submissions(paths) -> list:
    """Submissions under each path: a notebook; a student folder (holding
    ``tf_from_scratch/``); nbgrader's ``submitted/`` layout (student folders); or a
    folder of loose notebooks such as zip_collect leaves (one student per notebook).
    The paths themselves are the instructor's; below them no symbolic link is
    followed. Each student id is made safe and unique (``submitted_as`` keeps the name
    as found)."""
    found = {}
    for path in map(Path, paths):
        if path.is_file() or path.suffix == ".ipynb":
            if path.parent.name == ASSIGNMENT:  # <student>/tf_from_scratch/<notebook>
                student = path.parent.parent.name
            else:  # a notebook named after the assignment is named after its folder
                student = path.parent.resolve().name if path.stem == ASSIGNMENT else path.stem
            found[student] = Submission("", path)
        elif (path / ASSIGNMENT).is_symlink() or _real_dir(path / ASSIGNMENT):
            notebook, reason = _notebook_in(path / ASSIGNMENT)
            found[path.name] = Submission("", notebook, reason)
        elif path.is_dir():
            _in_folder(path, found)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    ids = unique_ids(found)
    return sorted((replace(found[name], student_id=ids[name], submitted_as=name) for name in found),
                  key=lambda s: s.student_id)


def grader_error(submission: Submission, seed: int, stage: str, exc: BaseException) -> dict:
    """The result of a student whose grading failed in the grader itself: logged with
    the traceback for the instructor, recorded as ungradable with the reason."""
    log.error("grader error while %s %s", stage, escape.terminal(submission.student_id),
              exc_info=(type(exc), exc, exc.__traceback__))
    reason = f"grader error: {type(exc).__name__}: {str(exc)[:300]} (while {stage})"
    return Result(student_id=submission.student_id, submitted_as=submission.submitted_as,
                  status="ungradable", reason=reason, seed=seed).to_dict()


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


def record(out_dir: Path, submission: Submission, result: dict, seed: int, formats) -> dict:
    """Write one student's files and return what was recorded: the result, or, if
    writing it failed, a grader-error result in its place. Never raises."""
    try:
        report.write_result(out_dir, result, formats)
        return result
    except Exception as exc:  # noqa: BLE001
        fallback = grader_error(submission, seed, "writing the result of", exc)
    try:
        report.write_bare_result(out_dir, fallback)
    except Exception:  # noqa: BLE001 - even the bare fallback cannot be written (disk full?)
        log.exception("cannot write any result for %s", escape.terminal(submission.student_id))
    return fallback


def _write_grades(out_dir: Path) -> None:
    try:
        report.write_grades(out_dir)
    except Exception:  # noqa: BLE001 - retried after the last student
        log.exception("cannot write %s yet", report.GRADES_FILE)


def grade_class(paths, out_dir, *, seed: int, jobs: int | None = None, force: bool = False,
                formats=("tfkit",), limits: Limits | None = None, progress: bool = True) -> list:
    """Grade every submission under ``paths`` into ``out_dir``; returns all results
    in ``out_dir`` (including students graded by an earlier run)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*out_dir.glob(".*.tmp"), *out_dir.glob("*/.*.tmp")]:  # left by a killed run
        if not stale.parent.is_symlink():
            stale.unlink(missing_ok=True)
    submissions = find_submissions(paths)
    todo = [s for s in submissions
            if force or not (out_dir / s.student_id / report.RESULT_FILE).is_file()]
    limits = limits or Limits()
    jobs = jobs or os.cpu_count() or 1
    lock = threading.Lock()
    bar = tqdm(total=len(todo), unit="student", desc="grading",
               disable=not progress or not sys.stderr.isatty())
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_one, s, seed, limits): s for s in todo}
            for future in as_completed(futures):
                submission = futures[future]
                with lock:
                    result = record(out_dir, submission, future.result(), seed, formats)
                    _write_grades(out_dir)
                score = result.get("score")
                bar.set_postfix_str(escape.terminal(f"{submission.student_id}: {score:g}"
                                                    if isinstance(score, (int, float)) else submission.student_id))
                bar.update()
    finally:
        bar.close()
        report.write_grades(out_dir)
    return report.read_results(out_dir)
