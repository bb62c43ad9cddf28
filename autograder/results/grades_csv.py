"""grades.csv: a row per student with the final grade, rebuilt from the result files."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.exercises import EXERCISES
from autograder.results import adjust, escape
from autograder.results.files import write_atomic
from autograder.results.records import number, read_results


GRADES_FILE = "grades.csv"
GRADE_COLUMNS = ["student_id", *EXERCISES, "auto_total", "late_penalty", "total", "max", "status",
                 "submitted_at", "days_late", "on_roster", "adjustments", "reason"]


def grades_csv(results: list, overrides=(), settings: adjust.Settings | None = None) -> str:
    """grades.csv: a row per student with each exercise's final score, the automatic total,
    the late penalty, the final total, max, status, lateness, roster and the reason.
    ``total`` is the grade to export; ``auto_total`` is what the grader alone gave."""
    settings = settings or adjust.Settings()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADE_COLUMNS)
    for r in results:
        final = adjust.final_grade(r, list(overrides), settings)
        roster = "" if final.on_roster is None else ("yes" if final.on_roster else "no")
        grade = grade_row(r, final)
        row = [r["student_id"], *(grade[n] for n in EXERCISES), grade["auto_total"],
               grade["late_penalty"], grade["total"], number(r.get("max_score")),
               r.get("status", ""), final.submitted_at or "", adjust.late_days(final), roster,
               " | ".join(final.notes), r.get("reason", "")]
        writer.writerow([escape.csv_cell(cell) for cell in row])
    return buffer.getvalue()


def grade_row(result: dict, final: adjust.Final) -> dict:
    """One student's numbers as every view shows them: each exercise's final points,
    ``auto_total``, ``late_penalty`` and ``total``; all '' for a grader error, which is
    not a grade (``autograder.GRADER_ERROR``) unless an instructor gave one."""
    if not adjust.is_a_grade(result, final):
        return {**{n: "" for n in EXERCISES}, "auto_total": "", "late_penalty": "", "total": ""}
    return {**{n: number(final.exercises.get(n, "")) for n in EXERCISES},
            "auto_total": number(result.get("score")), "late_penalty": final.penalty,
            "total": final.total}


def write_grades(out_dir: Path) -> Path:
    """Rebuild grades.csv from the result files in ``out_dir`` with its overrides and
    settings."""
    out_dir = Path(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    path = out_dir / GRADES_FILE
    write_atomic(path, grades_csv(read_results(out_dir), overrides, adjust.Settings.load(out_dir)))
    return path
