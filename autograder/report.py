"""What grading leaves on disk: result.json, feedback, grades.csv, Gradescope output.

Every file is written atomically (a temporary file in the same folder, then a
rename), so an interrupted run, even ``kill -9``, leaves each file either whole or
absent, never half-written. Every file lands in its student's own folder directly
under the output folder, or nowhere. Student text is escaped for each destination
by ``escape``: Markdown in feedback and Gradescope output, formulas in grades.csv,
control characters on the terminal.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from . import escape
from .exercises import EXERCISES

RESULT_FILE = "result.json"
FEEDBACK_FILE = "feedback.md"
GRADESCOPE_FILE = "results.json"
GRADES_FILE = "grades.csv"

# Markdown templates escape student text with the ``md`` and ``fence`` filters; any HTML
# template (``*.html.j2``) is autoescaped by Jinja2, so raw HTML never comes from a
# submission there either.
_templates = Environment(loader=PackageLoader("autograder", "templates"),
                         autoescape=select_autoescape(["html", "htm", "xml", "html.j2", "htm.j2",
                                                       "xml.j2"], default_for_string=False),
                         keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
_templates.filters.update(md=escape.markdown, fence=escape.fence)


class OutsideOutput(ValueError):
    """A path that would leave the output folder (or its student's own folder)."""


def student_folder(out_dir: Path, student_id: str) -> Path:
    """``out_dir/student_id``, refused unless it is a direct child of ``out_dir`` that is
    not a symbolic link (so no id and no planted link can send a write elsewhere)."""
    out_dir = Path(out_dir)
    folder = out_dir / student_id
    if (not student_id or student_id in (".", "..") or Path(student_id).name != student_id
            or folder.is_symlink() or folder.resolve().parent != out_dir.resolve()):
        raise OutsideOutput(f"refusing to write outside {out_dir}: student id {student_id!r}")
    return folder


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers only ever see the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def feedback_text(result: dict) -> str:
    """The feedback a student reads, in Markdown."""
    return _templates.get_template("feedback.md.j2").render(r=result, exercises=EXERCISES)


def gradescope(result: dict) -> dict:
    """Gradescope's results.json for one submission. Outputs are Markdown
    (``output_format: md``): feedback in a fence, the reason escaped."""
    tests = [{"name": f"{name} ({EXERCISES[name].signature})", "score": ex["score"],
              "max_score": ex["max_score"], "output": escape.fence(ex["feedback"]),
              "output_format": "md", "visibility": "visible",
              "status": "passed" if ex["score"] >= ex["max_score"] else "failed"}
             for name, ex in result["exercises"].items() if name in EXERCISES]
    return {"score": result["score"], "execution_time": result.get("seconds", 0),
            "output": escape.markdown(result["reason"]) if result["reason"]
            else f"Graded with seed {result['seed']}.",
            "output_format": "md", "test_output_format": "md",
            "visibility": "visible", "tests": tests}


def write_result(out_dir: Path, result: dict, formats=("tfkit",)) -> Path:
    """Write one student's files; result.json last, since its presence marks the
    student as done for a re-run."""
    folder = student_folder(out_dir, result["student_id"])
    write_atomic(folder / FEEDBACK_FILE, feedback_text(result))
    if "gradescope" in formats:
        write_atomic(folder / GRADESCOPE_FILE, json.dumps(gradescope(result), indent=2))
    write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
    return folder


def write_bare_result(out_dir: Path, result: dict) -> Path:
    """Write only result.json (no template, no other format): the fallback when writing
    a student's files failed, so that the student still has a row."""
    folder = student_folder(out_dir, result["student_id"])
    write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
    return folder


def read_results(out_dir: Path) -> list:
    """Every result.json under ``out_dir``, sorted by student id (unreadable ones skipped)."""
    results = []
    for path in sorted(Path(out_dir).glob(f"*/{RESULT_FILE}")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(result, dict) and isinstance(result.get("student_id"), str):
            results.append(result)
    return sorted(results, key=lambda r: r["student_id"])


def _number(value):
    """A score as read back from a result file: a plain number, or '' if it is not one."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def grades_csv(results: list) -> str:
    """grades.csv: a row per student with each exercise's score, total, max, status, reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *EXERCISES, "total", "max", "status", "reason"])
    for r in results:
        exercises = r.get("exercises") if isinstance(r.get("exercises"), dict) else {}
        scores = [_number((exercises.get(name) or {}).get("score", 0)) for name in EXERCISES]
        row = [r["student_id"], *scores, _number(r.get("score")), _number(r.get("max_score")),
               r.get("status", ""), r.get("reason", "")]
        writer.writerow([escape.csv_cell(cell) for cell in row])
    return buffer.getvalue()


def write_grades(out_dir: Path) -> Path:
    """Rebuild grades.csv from the result files in ``out_dir``."""
    path = Path(out_dir) / GRADES_FILE
    write_atomic(path, grades_csv(read_results(out_dir)))
    return path


def table(results: list) -> str:
    """A plain-text grade table for the terminal (student text escaped: one line per
    student, nothing that moves the cursor or recolours)."""
    names = list(EXERCISES)
    results = [{**r, "student_id": escape.terminal(r["student_id"]),
                "status": escape.terminal(r.get("status", "")),
                "reason": escape.terminal(r.get("reason", ""))} for r in results]
    width = max([10] + [len(r["student_id"]) for r in results])
    legend = ", ".join(f"{i} {name}" for i, name in enumerate(names, start=1))
    lines = [f"exercises: {legend}",
             f"{'student':<{width}} " + " ".join(f"{i:>6}" for i in range(1, len(names) + 1))
             + "  total  status"]
    for r in results:
        cells = " ".join(f"{r['exercises'].get(n, {}).get('score', 0):>6g}" for n in names)
        lines.append(f"{r['student_id']:<{width}} {cells}  {r['score']:>5g}  {r['status']}"
                     + (f" ({r['reason'][:60]})" if r["reason"] else ""))
    return "\n".join(lines)
