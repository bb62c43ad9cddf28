"""What grading leaves on disk: result.json, feedback, grades.csv, Gradescope output.

Every file is written atomically (a temporary file in the same folder, then a
rename), so an interrupted run, even ``kill -9``, leaves each file either whole or
absent, never half-written.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader

from .exercises import EXERCISES

RESULT_FILE = "result.json"
FEEDBACK_FILE = "feedback.md"
GRADESCOPE_FILE = "results.json"
GRADES_FILE = "grades.csv"

_templates = Environment(loader=PackageLoader("autograder", "templates"),
                         keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


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
    """Gradescope's results.json for one submission."""
    tests = [{"name": f"{name} ({EXERCISES[name].signature})", "score": ex["score"],
              "max_score": ex["max_score"], "output": ex["feedback"], "visibility": "visible",
              "status": "passed" if ex["score"] >= ex["max_score"] else "failed"}
             for name, ex in result["exercises"].items()]
    return {"score": result["score"], "execution_time": result.get("seconds", 0),
            "output": result["reason"] or f"Graded with seed {result['seed']}.",
            "visibility": "visible", "tests": tests}


def write_result(out_dir: Path, result: dict, formats=("tfkit",)) -> Path:
    """Write one student's files; result.json last, since its presence marks the
    student as done for a re-run."""
    folder = Path(out_dir) / result["student_id"]
    write_atomic(folder / FEEDBACK_FILE, feedback_text(result))
    if "gradescope" in formats:
        write_atomic(folder / GRADESCOPE_FILE, json.dumps(gradescope(result), indent=2))
    write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
    return folder


def read_results(out_dir: Path) -> list:
    """Every result.json under ``out_dir``, sorted by student id (unreadable ones skipped)."""
    results = []
    for path in sorted(Path(out_dir).glob(f"*/{RESULT_FILE}")):
        try:
            results.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(results, key=lambda r: r["student_id"])


def grades_csv(results: list) -> str:
    """grades.csv: a row per student with each exercise's score, total, max, status, reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *EXERCISES, "total", "max", "status", "reason"])
    for r in results:
        scores = [r["exercises"].get(name, {}).get("score", 0) for name in EXERCISES]
        writer.writerow([r["student_id"], *scores, r["score"], r["max_score"], r["status"],
                         r["reason"]])
    return buffer.getvalue()


def write_grades(out_dir: Path) -> Path:
    """Rebuild grades.csv from the result files in ``out_dir``."""
    path = Path(out_dir) / GRADES_FILE
    write_atomic(path, grades_csv(read_results(out_dir)))
    return path


def table(results: list) -> str:
    """A plain-text grade table for the terminal."""
    names = list(EXERCISES)
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
