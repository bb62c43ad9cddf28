"""result.json, one per student: the automatic grade, written only by grading and read back by
every view."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.results import files


RESULT_FILE = "result.json"
MISSING_REASON = "no submission found"


def write_bare_result(out_dir: Path, result: dict) -> Path:
    """Write only result.json (no template, no other format): the fallback when writing
    a student's files failed, so that the student still has a row."""
    folder = files.student_folder(out_dir, result["student_id"])
    files.write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
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


def number(value):
    """A score as read back from a result file: a plain number, or '' if it is not one."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
