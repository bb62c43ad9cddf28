"""Regenerate the course from the package's exercises: points into ``source/`` and the
README, then ``release/`` and ``solutions/`` with the real nbgrader CLI.

``python -m autograder.authoring.build`` (what ``make release`` runs), from the course root.
Points are declared once, in each exercise's module (``Exercise.points``); the build
writes them into the source notebook (the exercise's heading, its test cell's
metadata and the "(N points)" of that cell's comment) and into the README's generated
parts, and changes nothing else: a second build writes the same bytes. Solutions are
stored without outputs, so regenerating them gives the same files and the self-tests
can tell when they are out of date.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder import ASSIGNMENT
from autograder.course import cell_role, course_root, grade_id, is_solution, notebook_path
from autograder.exercises import EXERCISES


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


POINTS = re.compile(r"\((\d+(?:\.\d+)?) points?\)")
"""How a text states points: "(8 points)", "(1 point)"."""


def stated_points(text: str) -> list:
    """The "(N points)" figures a text states, in order."""
    return [float(n) for n in POINTS.findall(text)]


def points_text(points: float) -> str:
    return f"({points:g} point{'' if points == 1 else 's'})"


def _heading_lines(cell, defines: str) -> list:
    """Indexes of the Markdown heading lines of ``cell`` that name `defines`."""
    if cell.cell_type != "markdown":
        return []
    return [i for i, line in enumerate(cell.source.split("\n"))
            if line.startswith("#") and f"`{defines}`" in line]


def _write_heading(notebook, defines: str, points: float) -> None:
    """The heading naming `defines` states ``points``: its "(N points)" is rewritten, or
    appended to the first heading naming it when none states any."""
    named = [(cell, i) for cell in notebook.cells for i in _heading_lines(cell, defines)]
    stating = [(cell, i) for cell, i in named
               if stated_points(cell.source.split("\n")[i])]
    for cell, i in stating or named[:1]:
        lines = cell.source.split("\n")
        if stating:
            lines[i] = POINTS.sub(points_text(points), lines[i])
        else:
            lines[i] = f"{lines[i].rstrip()} {points_text(points)}"
        cell.source = "\n".join(lines)


def write_points(notebook, exercises=None) -> None:
    """Write each exercise's points into the source notebook: its heading, its graded
    test cell's ``nbgrader.points`` and the "(N points)" of that cell's comment. A cell
    that is missing stays missing (``tfgrade selftest`` names it)."""
    for name, exercise in (exercises or EXERCISES).items():
        _write_heading(notebook, exercise.defines, exercise.points)
        for cell in notebook.cells:
            if grade_id(cell) == exercise.test_id and cell_role(cell) == "test":
                points = exercise.points
                cell.metadata.nbgrader.points = int(points) if float(points).is_integer() else points
                cell.source = POINTS.sub(points_text(points), cell.source)


def write_source_points(root: Path) -> bool:
    """:func:`write_points` into the course's source notebook; True when it changed.
    The file is written only then, and through nbformat, so a second build keeps its
    bytes."""
    path = notebook_path(root, "source")
    before = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(before, as_version=4)
    write_points(notebook)
    after = nbformat.writes(notebook) + "\n"
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


TABLE_START = "<!-- points: written by `make release` from autograder/exercises/ -->"
TABLE_END = "<!-- end of points -->"
_SUMMARY = re.compile(r"\d+ graded exercises worth \d+(?:\.\d+)? points in total")


def points_table(exercises=None) -> str:
    """A Markdown table of each exercise's points, in notebook order, and their total."""
    exercises = exercises or EXERCISES
    total = sum(e.points for e in exercises.values())
    rows = [f"| `{name}` | {e.points:g} |" for name, e in exercises.items()]
    return "\n".join(["| exercise | points |", "|---|---:|", *rows, f"| total | {total:g} |"])


def readme_with_points(text: str, exercises=None) -> str:
    """The README ``text`` with its generated parts rewritten: the table between
    :data:`TABLE_START` and :data:`TABLE_END`, and "N graded exercises worth T points
    in total". Nothing else changes."""
    exercises = exercises or EXERCISES
    total = sum(e.points for e in exercises.values())
    text = _SUMMARY.sub(f"{len(exercises)} graded exercises worth {total:g} points in total", text)
    head, found, rest = text.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if found and end:
        text = f"{head}{TABLE_START}\n{points_table(exercises)}\n{TABLE_END}{tail}"
    return text


def write_readme(root: Path) -> bool:
    """:func:`readme_with_points` into the course's README.md, if it has one; True when
    it changed."""
    path = root / "README.md"
    if not path.is_file():
        return False
    before = path.read_text(encoding="utf-8")
    after = readme_with_points(before)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def build(root: Path) -> None:
    """generate_assignment, then generate_solution (which also runs the solution
    through its hidden tests), for the kit's assignment."""
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(root, "generate_solution", ASSIGNMENT, "--force")
    strip_outputs(root / "solutions" / ASSIGNMENT)


def release(root: Path) -> list:
    """What ``make release`` does: the package's points into the source notebook and
    the README, then :func:`build`. Returns the files whose points it rewrote."""
    changed = [notebook_path(root, "source")] if write_source_points(root) else []
    if write_readme(root):
        changed.append(root / "README.md")
    build(root)
    return changed


if __name__ == "__main__":
    from autograder.provenance import package_mismatch, where
    root = course_root()
    print(where(root), file=sys.stderr)
    if package_mismatch(root):  # the points written would be another package's
        sys.exit(f"make release: error: {package_mismatch(root)}")
    for path in release(root):
        print(f"wrote the points of autograder/exercises/ into {path}")
    print(f"regenerated {root / 'release' / ASSIGNMENT} and {root / 'solutions' / ASSIGNMENT}")
