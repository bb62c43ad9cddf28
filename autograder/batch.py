"""Grading a class: finding submissions, grading them in parallel, writing results.

A submission that cannot be graded still gets a row, with its reason; a re-run skips
the students who already have a result.json unless told to regrade.
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from . import ASSIGNMENT, report
from .grade import Result, grade_submission
from .sandbox import Limits


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path | None  # None: nothing to grade (the reason says why)
    reason: str = ""


def _notebook_in(folder: Path) -> tuple:
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    preferred = [p for p in notebooks if p.stem == ASSIGNMENT]
    if preferred or len(notebooks) == 1:
        return (preferred or notebooks)[0], ""
    if not notebooks:
        return None, f"no notebook in {folder}"
    return None, f"several notebooks in {folder} and none named {ASSIGNMENT}.ipynb"


def find_submissions(paths) -> list:
    """Submissions under each path: a notebook; a student folder (holding
    ``tf_from_scratch/``); nbgrader's ``submitted/`` layout (student folders); or a
    folder of loose notebooks such as zip_collect leaves (one student per notebook)."""
    found = {}
    for path in map(Path, paths):
        if path.is_file() or path.suffix == ".ipynb":
            if path.parent.name == ASSIGNMENT:  # <student>/tf_from_scratch/<notebook>
                student = path.parent.parent.name
            else:  # a notebook named after the assignment is named after its folder
                student = path.parent.resolve().name if path.stem == ASSIGNMENT else path.stem
            found[student] = Submission(student, path)
        elif (path / ASSIGNMENT).is_dir():
            notebook, reason = _notebook_in(path / ASSIGNMENT)
            found[path.name] = Submission(path.name, notebook, reason)
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_dir() and (child / ASSIGNMENT).is_dir():
                    notebook, reason = _notebook_in(child / ASSIGNMENT)
                    found[child.name] = Submission(child.name, notebook, reason)
                elif child.is_dir() and not child.name.startswith("."):
                    notebook, reason = _notebook_in(child)
                    found[child.name] = Submission(child.name, notebook, reason)
                elif child.suffix == ".ipynb":
                    found[child.stem] = Submission(child.stem, child)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return [found[k] for k in sorted(found)]


def grade_one(submission: Submission, seed: int, limits: Limits) -> Result:
    if submission.notebook is None:
        return Result(student_id=submission.student_id, status="ungradable",
                      reason=submission.reason, seed=seed)
    return grade_submission(submission.notebook, submission.student_id, seed, limits)


def grade_class(paths, out_dir, *, seed: int, jobs: int | None = None, force: bool = False,
                formats=("tfkit",), limits: Limits | None = None, progress: bool = True) -> list:
    """Grade every submission under ``paths`` into ``out_dir``; returns all results
    in ``out_dir`` (including students graded by an earlier run)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("**/.*.tmp"):  # left by a run that was killed mid-write
        stale.unlink(missing_ok=True)
    submissions = find_submissions(paths)
    todo = [s for s in submissions
            if force or not (out_dir / s.student_id / report.RESULT_FILE).is_file()]
    hide = {str(out_dir.resolve())} | {str(Path(p).resolve().parent if Path(p).is_file()
                                            else Path(p).resolve()) for p in paths}
    limits = limits or Limits()
    limits = Limits(**{**limits.__dict__, "hide": tuple(sorted(set(limits.hide) | hide))})
    jobs = jobs or os.cpu_count() or 1
    lock = threading.Lock()
    bar = tqdm(total=len(todo), unit="student", desc="grading",
               disable=not progress or not sys.stderr.isatty())
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_one, s, seed, limits): s for s in todo}
        for future in as_completed(futures):
            submission = futures[future]
            try:
                result = future.result().to_dict()
            except Exception as exc:  # noqa: BLE001 - one student's failure is their row
                result = Result(student_id=submission.student_id, status="ungradable", seed=seed,
                                reason=f"the grader failed: {type(exc).__name__}: {exc}").to_dict()
            with lock:
                report.write_result(out_dir, result, formats)
                report.write_grades(out_dir)
            bar.set_postfix_str(f"{submission.student_id}: {result['score']:g}")
            bar.update()
    bar.close()
    report.write_grades(out_dir)
    return report.read_results(out_dir)
