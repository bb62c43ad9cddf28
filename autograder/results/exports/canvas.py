"""Canvas: a gradebook CSV that Canvas's "Grades > Import" accepts.

Canvas matches an imported row to a student by its ``ID``, ``SIS User ID`` or ``SIS
Login ID``, never by tfkit's student id (a folder or file name). The roster makes the
link: a CSV with tfkit's ids in a ``student_id`` (or ``username``, ``login``) column and
Canvas's columns beside them, or Canvas's own gradebook export (Grades > Export), whose
``SIS Login ID``, ``SIS User ID`` or ``ID`` then has to equal tfkit's id. Each graded
student is looked up in those columns, in that order.

``canvas.csv`` has Canvas's five identity columns (Student, ID, SIS User ID, SIS Login
ID, Section), then one column for the assignment: the roster's own column for it when
the roster is a Canvas export that has one (``tf_from_scratch (12345)``, so the import
updates that assignment), else ``tf_from_scratch`` (Canvas then creates the assignment).
A plain roster (tfkit ids only), or a roster row with none of Canvas's three ids, gives
its tfkit id as the ``SIS Login ID``, so every row carries an id Canvas can match; a row
with no id at all stops the export (:class:`CanvasError`). The score is grades.csv's
``total``. A score is only written for a grade: a student with nothing submitted
(``missing``), a notebook that could not be graded (``ungradable``) or a grader error
gets an empty cell, which Canvas leaves ungraded, unless the round asks for zeros
(``--missing-as-zero``; never for a grader error, which is not the student's doing).
Every roster row gets a line; a student tfkit graded who is not in the roster cannot be
imported, so is never silently dropped: they are listed in ``canvas_unmatched.csv`` and
named at the end of the run.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder import ASSIGNMENT
from autograder.results import adjust, escape
from autograder.results.files import write_atomic
from autograder.results.records import read_results

CANVAS_FILE = "canvas.csv"
UNMATCHED_FILE = "canvas_unmatched.csv"
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# roster headers (lower case) that fill each of Canvas's identity columns
ALIASES = {"Student": ("student", "name", "student name", "full name"),
           "ID": ("id", "canvas id", "canvas_id", "canvas user id", "canvas_user_id"),
           "SIS User ID": ("sis user id", "sis_user_id"),
           "SIS Login ID": ("sis login id", "sis_login_id"),
           "Section": ("section", "sections")}
# roster headers whose value may be tfkit's student id, in the order they are tried
MATCH_ON = ("student_id", "username", "login", "sis login id", "sis_login_id", "sis user id",
            "sis_user_id", "id")
NO_GRADE = ("missing", "ungradable")  # no score unless the round asks for zeros


class CanvasError(ValueError):
    """A roster that cannot give Canvas's columns (the message says why)."""


def read_roster(path) -> tuple:
    """``(header, rows)``: the roster's header as written and its rows as dicts keyed by
    lower-case header. Canvas's "Points Possible" row and blank rows are skipped."""
    lines = adjust.roster_rows(path, CanvasError)
    header = [c.strip() for c in lines[0]]
    keys = [h.lower() for h in header]
    if not any(k in keys for k in MATCH_ON):
        raise CanvasError(f"roster {path}: no column to match students on (one of "
                          f"{', '.join(MATCH_ON)})")
    rows = []
    for line in lines[1:]:
        row = {k: (line[i].strip() if i < len(line) else "") for i, k in enumerate(keys)}
        if row.get("student", "").strip().lower() == "points possible":
            continue
        rows.append(row)
    return header, rows


def assignment_column(header: list) -> str:
    """The roster's column for this assignment (a Canvas export's ``tf_from_scratch
    (12345)``), or the assignment's name."""
    return next((h for h in header if h == ASSIGNMENT or h.startswith(f"{ASSIGNMENT} (")), ASSIGNMENT)


def match(rows: list, student_ids) -> tuple:
    """``(matched, unmatched)``: roster row index -> tfkit id, and the ids no row has."""
    index = {}
    for column in MATCH_ON:
        for i, row in enumerate(rows):
            value = row.get(column, "")
            if value:
                index.setdefault((column, escape.safe_student_id(value)), i)
    matched, unmatched = {}, []
    for student in student_ids:
        found = next((index[(c, student)] for c in MATCH_ON if (c, student) in index
                      and index[(c, student)] not in matched), None)
        if found is None:
            unmatched.append(student)
        else:
            matched[found] = student
    return matched, unmatched


def _key(row: dict) -> str:
    return next((row[c] for c in MATCH_ON if row.get(c)), "")


def canvas_export(rows: list) -> bool:
    """Whether the roster has Canvas's own identity columns (it is, or was made from, a
    Canvas gradebook export)."""
    return any(k in row for row in rows[:1] for k in ("sis login id", "sis user id", "student"))


def _identity(row: dict, student: str | None, from_canvas: bool) -> list:
    """Canvas's five identity cells for a roster row. A plain roster (ids only), or a
    row without any of Canvas's ids, gives its tfkit id as the SIS Login ID, the id
    Canvas courses commonly share with nbgrader."""
    if not from_canvas:
        return [row.get("name") or student or _key(row), "", "", _key(row), row.get("section", "")]
    cells = [next((row[a] for a in ALIASES[column] if row.get(a)), "") for column in IDENTITY]
    cells[0] = cells[0] or student or _key(row)
    if not any(cells[1:4]):
        cells[3] = _key(row)
    return cells


def _total(final: adjust.Final) -> str:
    return f"{round(final.total, 2):g}"


def score_cell(result: dict, final: adjust.Final, missing_as_zero: bool = False) -> str:
    """The score Canvas imports for one student: their final total, or '' (left
    ungraded) when there is no grade; 0 for missing and ungradable work only when the
    round asks for it. An instructor's override makes a grade whatever the status."""
    if not adjust.is_a_grade(result, final):
        return ""
    if final.comments or result.get("status") not in NO_GRADE:
        return _total(final)
    return "0" if missing_as_zero else ""


def sheets(results: list, roster_path, overrides=(), settings: adjust.Settings | None = None) -> tuple:
    """``(canvas_csv, unmatched_csv, unmatched_ids)`` for ``results`` and the roster."""
    settings = settings or adjust.Settings()
    header, rows = read_roster(roster_path)
    by_id = {r["student_id"]: r for r in results}
    matched, unmatched = match(rows, [r["student_id"] for r in results])
    column = assignment_column(header)
    from_canvas = canvas_export(rows)
    canvas, rest = io.StringIO(), io.StringIO()
    writer = csv.writer(canvas, lineterminator="\n")
    writer.writerow([*IDENTITY, column])
    for i, row in enumerate(rows):
        student = matched.get(i)
        score = score_cell(by_id[student], adjust.final_grade(by_id[student], list(overrides), settings),
                           settings.missing_as_zero) if student else ""
        identity = _identity(row, student, from_canvas)
        if not any(identity[1:4]):
            raise CanvasError(f"roster row {i + 2} ({escape.terminal(identity[0])[:40]}) has no id "
                              "Canvas can match (ID, SIS User ID, SIS Login ID or student_id)")
        writer.writerow([escape.csv_cell(c) for c in [*identity, score]])
    others = csv.writer(rest, lineterminator="\n")
    others.writerow(["student_id", "total", "status", "why"])
    for student in unmatched:
        final = adjust.final_grade(by_id[student], list(overrides), settings)
        others.writerow([escape.csv_cell(c) for c in [
            student, score_cell(by_id[student], final, settings.missing_as_zero),
            by_id[student].get("status", ""),
            "not in the roster: add their Canvas ID, SIS User ID or SIS Login ID, or enter the "
            "grade by hand"]])
    return canvas.getvalue(), rest.getvalue(), unmatched


def write_canvas(out_dir: Path) -> list:
    """Rebuild canvas.csv (and canvas_unmatched.csv) from the result files and the
    round's roster. Returns lines for the instructor: who could not be matched, or why
    nothing was written."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    if not settings.roster_file:
        return [f"{CANVAS_FILE} not written: Canvas needs a roster (--roster ROSTER.csv)"]
    overrides, _ = adjust.read_overrides(out_dir)
    results = read_results(out_dir)
    try:
        sheet, rest, unmatched = sheets(results, settings.roster_file, overrides, settings)
    except CanvasError as exc:
        return [f"{CANVAS_FILE} not written: {exc}"]
    write_atomic(out_dir / CANVAS_FILE, sheet)
    lines = _canvas_blanks(results, overrides, settings)
    if not unmatched:
        (out_dir / UNMATCHED_FILE).unlink(missing_ok=True)
        return lines
    write_atomic(out_dir / UNMATCHED_FILE, rest)
    return [*lines, f"not in the Canvas roster, so not in {CANVAS_FILE} (listed in "
            f"{UNMATCHED_FILE}): {_names(unmatched)}"]


def _names(ids: list, most: int = 20) -> str:
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _canvas_blanks(results: list, overrides, settings: adjust.Settings) -> list:
    """A line naming the students canvas.csv gives no score, by status, or none."""
    blank = {}
    for r in results:
        final = adjust.final_grade(r, list(overrides), settings)
        if score_cell(r, final, settings.missing_as_zero) == "":
            blank.setdefault(r.get("status", ""), []).append(r["student_id"])
    if not blank:
        return []
    parts = "; ".join(f"{status}: {_names(ids)}" for status, ids in sorted(blank.items()))
    zeros = "" if settings.missing_as_zero else " (--missing-as-zero gives missing and ungradable 0)"
    return [f"{CANVAS_FILE}: no score, so Canvas leaves them ungraded, for {parts}{zeros}"]
