"""The grade table printed on the terminal at the end of a run."""
from __future__ import annotations

import textwrap

from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.results import adjust, escape
from autograder.results.grades_csv import grade_row
from autograder.results.records import number


def _shorten(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` characters, cut between words."""
    return textwrap.shorten(text, width, placeholder=" …", break_long_words=False) or text[:width]


def _cell(value, width: int) -> str:
    return f"{value:>{width}g}" if number(value) != "" else f"{'-':>{width}}"


def table(results: list, overrides=(), settings: adjust.Settings | None = None,
          reason_width: int = 70) -> str:
    """A plain-text grade table for the terminal (student text escaped: one line per
    student, nothing that moves the cursor or recolours), with the same final grades
    as grades.csv: each exercise's final points, then the automatic total, the late
    penalty and the final total (``-`` where there is no grade). The header gives each
    exercise's number and maximum; reasons are cut between words."""
    settings = settings or adjust.Settings()
    names = list(EXERCISES)
    width = max([10] + [len(escape.terminal(r["student_id"])) for r in results])
    legend = ", ".join(f"{i} {name}" for i, name in enumerate(names, start=1))
    lines = [f"exercises (number/points): {legend}; auto: the grader's total, late: points "
             f"taken for lateness, total: the final grade (with overrides)",
             f"{'student':<{width}} " + " ".join(f"{f'{i}/{EXERCISES[n].points:g}':>6}"
                                                  for i, n in enumerate(names, start=1))
             + f"  {'auto':>6} {'late':>5} {f'/{TOTAL_POINTS:g}':>6}  status"]
    finals = [adjust.final_grade(r, list(overrides), settings) for r in results]
    for r, final in zip(results, finals):
        row = grade_row(r, final)
        cells = " ".join(_cell(row[n], 6) for n in names)
        status, reason = escape.terminal(r.get("status", "")), escape.terminal(r.get("reason", ""))
        changed = " *" if final.comments else ""
        lines.append(f"{escape.terminal(r['student_id']):<{width}} {cells}  "
                     f"{_cell(row['auto_total'], 6)} {_cell(row['late_penalty'], 5)} "
                     f"{_cell(row['total'], 6)}  {status}{changed}"
                     + (f" ({_shorten(reason, reason_width)})" if reason else ""))
    if any(final.comments for final in finals):
        lines.append("* changed by an instructor's override (see overrides.csv)")
    return "\n".join(lines)
