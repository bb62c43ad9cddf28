"""report.html: the class at a glance, for the instructor, rebuilt with grades.csv.

Everything comes from the result files and the instructor's decisions (overrides,
roster, late policy), like grades.csv: a score histogram, each exercise's mean and
full-marks rate, the mistakes the class made most (which hint fired for how many
students, each student linked to their feedback.html), the students who need a look
(incomplete or ungradable, with the reason in plain words and what the grader saw
folded), the instructor's changes counted by kind (override, extension, late penalty),
and how long grading took per submission.

The page is one self-contained file (inline style, images as ``data:`` URIs, no
script), autoescaped like feedback.html: student ids and reasons are submission text.
"""
from __future__ import annotations

import math
import statistics
import re
from collections import defaultdict
from pathlib import Path

from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.results import adjust, breakdown, templating
from autograder.results.files import write_atomic
from autograder.results.html import plots
from autograder.results.records import read_results

REPORT_FILE = "report.html"
SUBMITTED = ("graded", "incomplete")  # statuses whose scores say something about the work
SLOWEST = 10
# The colours of the "mean share" bars, from the top band down: (lowest share, colour, words).
BANDS = ((0.9, "#2e8b57", "90% or more"), (0.5, "#e0a030", "50% to 90%"), (0.0, "#c0392b", "below 50%"))
# An exception's name in an unreadable notebook's reason, in plain words.
_READ_ERRORS = {"NotJSONError": "the file is not JSON, so not a notebook",
                "JSONDecodeError": "the file is not JSON, so not a notebook",
                "UnicodeDecodeError": "the file is not UTF-8 text, so not a notebook",
                "ValidationError": "the file is JSON but not a notebook nbformat accepts"}
_EXCEPTION = re.compile(r"^(?P<what>.*?): (?P<name>[A-Z]\w*(?:Error|Exception|Warning)): (?P<rest>.*)$", re.S)


def _number(value) -> float | None:
    value = plots.number(value)
    return value if math.isfinite(value) else None


def _not_attempted(exercise: dict) -> bool:
    checks = [c for c in exercise.get("checks") or [] if isinstance(c, dict)]
    return exercise.get("status") == "missing" or (bool(checks) and all(
        "NotImplementedError" in str(c.get("detail", "")) for c in checks))


def exercise_rows(results: list, finals: dict) -> list:
    """Per exercise: mean final score, the share of students with full marks, and how
    many did not attempt it, over the students whose work was graded."""
    rows = []
    graded = [r for r in results if r.get("status") in SUBMITTED]
    for name, entry in EXERCISES.items():
        scores, full, skipped = [], 0, 0
        for r in graded:
            exercise = (r.get("exercises") or {}).get(name)
            score = _number(finals[r["student_id"]].exercises.get(name))
            if score is None:
                continue
            scores.append(score)
            full += score >= entry.points
            skipped += isinstance(exercise, dict) and _not_attempted(exercise)
        mean = statistics.fmean(scores) if scores else 0.0
        rows.append({"name": name, "points": entry.points, "mean": mean,
                     "mean_share": mean / entry.points if entry.points else 0.0,
                     "full_rate": full / len(scores) if scores else 0.0, "not_attempted": skipped,
                     "students": len(scores)})
    return rows


def mistakes(results: list) -> list:
    """Every hint that fired on an attempted exercise, most frequent first:
    ``{"exercise", "hint", "students"}``, each student counted once per hint."""
    fired = defaultdict(list)
    for r in results:
        if r.get("status") not in SUBMITTED or not isinstance(r.get("exercises"), dict):
            continue
        for name, exercise in r["exercises"].items():
            if name not in EXERCISES or not isinstance(exercise, dict) or _not_attempted(exercise):
                continue  # not attempted: counted per exercise, not a mistake
            hints = {str(c.get("hint")) for c in exercise.get("checks") or []
                     if isinstance(c, dict) and not c.get("passed") and c.get("hint")}
            for hint in hints:
                fired[(name, hint)].append(r["student_id"])
    order = list(EXERCISES)
    rows = [{"exercise": name, "hint": hint, "students": sorted(students)}
            for (name, hint), students in fired.items()]
    return sorted(rows, key=lambda row: (-len(row["students"]), order.index(row["exercise"]),
                                         row["hint"]))


def band_colour(share: float) -> str:
    """The colour of a "mean share" bar (``BANDS``)."""
    return next(colour for low, colour, _ in BANDS if share >= low)


def readable(reason: str) -> tuple:
    """``(summary, detail)``: a reason in plain words, and what the grader saw when the
    reason quotes an exception with the file's content (a raw JSON excerpt); detail is
    '' when the reason is plain words already."""
    found = _EXCEPTION.match(reason)
    if not found:
        return reason, ""
    words = _READ_ERRORS.get(found["name"], f"Python reported {found['name']}")
    return f"{found['what']}: {words}", f"{found['name']}: {found['rest']}"


def change_counts(finals) -> list:
    """``(kind, students)`` for each kind of instructor's change that some student has,
    in the order of ``breakdown.KINDS``, each student counted once per kind."""
    counts = dict.fromkeys(breakdown.KINDS, 0)
    for final in finals:
        for kind in {step.kind for step in breakdown.steps(final)}:
            counts[kind] += 1
    return [(breakdown.TITLES[kind], n) for kind, n in counts.items() if n and kind != "note"]


def timing(results: list) -> dict:
    """Grading time per submission: count, median, 90th percentile, maximum, sum, and
    the slowest submissions."""
    timed = sorted(((s, r["student_id"]) for r in results if r.get("status") != "missing"
                    and (s := _number(r.get("seconds"))) is not None), reverse=True)
    seconds = sorted(s for s, _ in timed)
    if not seconds:
        return {"count": 0}
    return {"count": len(seconds), "median": statistics.median(seconds),
            "p90": seconds[min(len(seconds) - 1, math.ceil(0.9 * len(seconds)) - 1)],
            "max": seconds[-1], "total": sum(seconds), "slowest": timed[:SLOWEST],
            "values": seconds}


def context(results: list, overrides=(), settings: adjust.Settings | None = None) -> dict:
    """Everything report.html shows."""
    settings = settings or adjust.Settings()
    finals = {r["student_id"]: adjust.final_grade(r, list(overrides), settings) for r in results}
    statuses = defaultdict(list)
    for r in results:
        statuses[str(r.get("status", ""))].append(r["student_id"])
    totals = [finals[r["student_id"]].total for r in results if r.get("status") in SUBMITTED]
    needs_look = [{"student": r["student_id"], "status": r.get("status"),
                   "reason": str(r.get("reason", "")),
                   **dict(zip(("summary", "detail"), readable(str(r.get("reason", "")))))}
                  for r in results if r.get("status") in ("incomplete", "ungradable", GRADER_ERROR)]
    times = timing(results)
    return {"assignment": ASSIGNMENT, "count": len(results), "statuses": dict(sorted(statuses.items())),
            "totals": totals, "mean": statistics.fmean(totals) if totals else None,
            "median": statistics.median(totals) if totals else None, "max_points": TOTAL_POINTS,
            "exercises": exercise_rows(results, finals), "mistakes": mistakes(results),
            "needs_look": needs_look, "missing": sorted(statuses.get("missing", [])),
            "timing": times, "late": sum(1 for f in finals.values() if (f.late_seconds or 0) > 0),
            "changes": change_counts(finals.values()), "bands": BANDS}


def page(results: list, overrides=(), settings: adjust.Settings | None = None) -> str:
    """The whole report.html."""
    data = context(results, overrides, settings)
    figures = {}
    if data["totals"]:
        figures["scores"] = plots.data_uri(plots.histogram_png(
            data["totals"], TOTAL_POINTS, f"total score (out of {TOTAL_POINTS:g})"))
    if data["timing"]["count"] > 1:
        figures["seconds"] = plots.data_uri(plots.histogram_png(
            data["timing"]["values"], 0, "grading time per submission (s)"))
    return templating.templates.get_template("report.html.j2").render(**data, figures=figures,
                                                                      band_colour=band_colour)


def write_class_report(out_dir: Path, results: list | None = None) -> Path:
    """Rebuild report.html, the class report, from the result files in ``out_dir``."""
    out_dir = Path(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    results = read_results(out_dir) if results is None else results
    path = out_dir / REPORT_FILE
    write_atomic(path, page(results, overrides, adjust.Settings.load(out_dir)))
    return path
