"""``tfgrade check NOTEBOOK``: the visible checks, as a student runs them before submitting.

Runs the notebook in a real Jupyter kernel (nbclient) without its demonstration cells
and without any graded test cell, so nothing hidden is compared, and reports each
exercise's visible checks: passed, failed with the check's own message, or not run.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .exercises import EXERCISES, HINT_NOT_DONE
from .grade import cell_role


def _error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotImplementedError":
                return HINT_NOT_DONE
            message = f"{output.ename}: {output.evalue}".strip()
            return message.splitlines()[0] if message else output.ename
    return ""


def run_visible_checks(path, timeout: int = 120) -> dict:
    """Execute the notebook's setup, solution and check cells; returns, per exercise,
    ``None`` when its checks passed or the first error message."""
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells = [c for c in notebook.cells if cell_role(c) not in ("test", "demo")]
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up chatter
    verdicts = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.startswith("check_") and grade_id[len("check_"):] in EXERCISES:
            verdicts[grade_id[len("check_"):]] = _error(cell) or None
    return verdicts


def check_notebook(path) -> int:
    """Print the visible checks' report; exit status 0 only when all passed."""
    try:
        verdicts = run_visible_checks(path)
    except Exception as exc:  # noqa: BLE001 - report, do not trace back at a student
        print(f"Could not run {path}: {type(exc).__name__}: {exc}")
        return 2
    failed = 0
    print(f"Visible checks of {path} (the graded tests are hidden; passing these is a good sign, "
          "not a grade):\n")
    for name, exercise in EXERCISES.items():
        if name not in verdicts:
            print(f"  ? {exercise.signature}: no visible check cell found")
            continue
        message = verdicts[name]
        failed += message is not None
        mark = "✓" if message is None else "✗"
        print(f"  {mark} {exercise.signature}" + (f"\n      {message}" if message else ""))
    print(f"\n{len(verdicts) - failed} of {len(verdicts)} exercises pass their visible checks.")
    return 1 if failed else 0
