"""The exercises' names, signatures and points, without TensorFlow.

``exercises`` declares each exercise once, and imports TensorFlow to do so (3.6 s and
700 MB). The instructor's side of the kit (argument checks, grades.csv, feedback,
overrides) needs only the names, signatures and points, so this module reads them from
``exercises.py``'s source with ``ast`` and never imports it. tests/test_report.py
checks that both agree.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple


class Entry(NamedTuple):
    name: str
    signature: str
    points: float


def _read() -> dict:
    tree = ast.parse((Path(__file__).parent / "exercises.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and getattr(target, "id", "") == "EXERCISES":
            calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", "") == "Exercise"]
            entries = [Entry(ast.literal_eval(c.args[0]), ast.literal_eval(c.args[2]),
                             float(ast.literal_eval(c.args[3]))) for c in calls]
            return {e.name: e for e in entries}
    raise RuntimeError("exercises.py declares no EXERCISES")


EXERCISES: dict = _read()
TOTAL_POINTS: float = sum(e.points for e in EXERCISES.values())
