"""Regenerate ``release/`` and ``solutions/`` from ``source/`` with the real nbgrader CLI.

``python -m autograder.build`` (what ``make release`` runs), from the course root.
Solutions are stored without outputs, so regenerating them gives the same files and
the self-tests can tell when they are out of date.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from . import ASSIGNMENT
from .course import course_root, grade_id, is_solution  # noqa: F401 - course_root: for callers


def nbgrader(root: Path, *args: str) -> None:
    """Run one nbgrader command in the course root; raise with its log if it fails."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def strip_outputs(folder: Path) -> None:
    """Remove outputs, execution counts and timings from every notebook under ``folder``."""
    for path in folder.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)


MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _marked_lines(notebook, begin: str, end: str) -> set:
    """Non-trivial lines between two markers in any cell of the notebook."""
    lines, inside = set(), False
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def leaks(release, source) -> list:
    """What the release gives away or carries that it should not: markers, lines of
    solution code or hidden tests, unstubbed solution cells, outputs."""
    found = []
    secret = (_marked_lines(source, "BEGIN SOLUTION", "END SOLUTION")
              | _marked_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
    for index, cell in enumerate(release.cells):
        name = grade_id(cell) or f"cell {index}"
        found += [f"{name}: marker {m!r}" for m in MARKERS if m in cell.source]
        found += [f"{name}: solution or hidden-test line {line!r}"
                  for line in cell.source.splitlines() if line.strip() in secret]
        if is_solution(cell) and cell.cell_type == "code" \
                and "NotImplementedError" not in cell.source:
            found.append(f"{name}: solution cell without a stub")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            found.append(f"{name}: has outputs or an execution count")
    return found


def differences(expected, actual) -> list:
    """Cells that differ between two notebooks (type, source, metadata), by position."""
    found = []
    if len(expected.cells) != len(actual.cells):
        found.append(f"{len(actual.cells)} cells instead of {len(expected.cells)}")
    for index, (want, got) in enumerate(zip(expected.cells, actual.cells)):
        name = grade_id(want) or f"cell {index}"
        for part in ("cell_type", "source", "metadata"):
            if want.get(part) != got.get(part):
                found.append(f"{name}: {part} differs")
    return found


def build(root: Path) -> None:
    """generate_assignment, then generate_solution (which also runs the solution
    through its hidden tests), for the kit's assignment."""
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(root, "generate_solution", ASSIGNMENT, "--force")
    strip_outputs(root / "solutions" / ASSIGNMENT)


if __name__ == "__main__":
    root = course_root()
    build(root)
    print(f"regenerated {root / 'release' / ASSIGNMENT} and {root / 'solutions' / ASSIGNMENT}")
