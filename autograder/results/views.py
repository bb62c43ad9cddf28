"""Every view of a round rebuilt from its result files: feedback, Gradescope's files,
grades.csv, canvas.csv and the class report.

result.json is the automatic grade and is written only by grading. The views are written
again from the result files with the instructor's overrides, roster and late policy
(``adjust``) by :func:`rebuild`, so an instructor's decision is never lost to a re-run.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from autograder.results import adjust, escape, feedback, files, grades_csv, records
from autograder.results.exports import canvas, gradescope
from autograder.results.exports.nbgrader_feedback import write_nbgrader_feedback
from autograder.results.html import class_report, feedback as feedback_page

log = logging.getLogger(__name__)


def write_views(out_dir: Path, result: dict, formats=("tfkit",), final=None, mode: str = "full") -> Path:
    """A student's feedback.md and feedback.html (and Gradescope's results.json) from
    their result."""
    folder = files.student_folder(out_dir, result["student_id"])
    final = final or adjust.final_grade(result, [], adjust.Settings())
    files.write_atomic(folder / feedback.FEEDBACK_FILE, feedback.feedback_text(result, final, mode))
    feedback_page.write_feedback_html(folder, result, final, mode)
    if "gradescope" in formats:
        page = gradescope.results_json(result, final, mode)
        files.write_atomic(folder / gradescope.GRADESCOPE_FILE, json.dumps(page, indent=2))
    return folder


def write_result(out_dir: Path, result: dict, formats=("tfkit",)) -> Path:
    """Write one student's files; result.json last, since its presence marks the
    student as graded for a re-run."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    folder = write_views(out_dir, result, formats, adjust.final_grade(result, overrides, settings),
                         settings.feedback)
    files.write_atomic(folder / records.RESULT_FILE, json.dumps(result, indent=2))
    return folder


def rebuild(out_dir: Path, formats=("tfkit",), nbgrader_feedback: Path | None = None) -> list:
    """Rewrite every student's feedback (and Gradescope file, with ``gradescope`` in
    ``formats`` or when one exists), grades.csv, report.html (and canvas.csv, with
    ``canvas`` in ``formats`` or when one exists), applying overrides and settings.
    A student whose views cannot be written is logged and skipped; grades.csv is
    always written. Returns what the instructor must hear: the problems found in
    overrides.csv and extensions.csv, and students Canvas cannot be given."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    overrides, problems = adjust.read_overrides(out_dir)
    problems = [*problems, *settings.extension_problems]
    results = records.read_results(out_dir)
    for result in results:
        try:
            folder = files.student_folder(out_dir, result["student_id"])
            has_gradescope = (folder / gradescope.GRADESCOPE_FILE).is_file()
            wanted = tuple(formats) + (("gradescope",) if has_gradescope else ())
            final = adjust.final_grade(result, overrides, settings)
            write_views(out_dir, result, wanted, final, settings.feedback)
            if nbgrader_feedback is not None and result.get("status") != "missing":
                write_nbgrader_feedback(nbgrader_feedback, result,
                                        feedback.feedback_text(result, final, settings.feedback))
        except Exception:  # noqa: BLE001 - one student's feedback must not cost the sheet
            log.exception("cannot rebuild the feedback of %s", escape.terminal(result["student_id"]))
    grades_csv.write_grades(out_dir)
    if "canvas" in formats or (out_dir / canvas.CANVAS_FILE).is_file():
        problems = [*problems, *canvas.write_canvas(out_dir)]
    try:
        class_report.write_class_report(out_dir, results)
    except Exception:  # noqa: BLE001 - the class report must not cost grades.csv or the exit code
        log.exception("cannot rebuild %s", class_report.REPORT_FILE)
    return problems
