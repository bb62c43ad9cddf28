"""One course, one package: which course and which ``autograder`` package a command
uses, said aloud, and a stop when the two disagree.

A course is graded with the package Python imports, whatever the course's folder holds.
An editable install from another checkout, a stale wheel or a PYTHONPATH left over can
make that another package than the course's: then points, cases and judges are not the
ones the maintainer wrote, and nothing says so. ``tfgrade selftest``, ``grade`` and
``autograde`` print both paths (:func:`where`) and stop, before grading anyone, on the
one line :func:`disagreement` returns. Two things are compared:

- when the course root carries its own ``autograder/`` (a checkout of the kit) and the
  package imported is another folder, the files of their ``exercises/`` (the registry);
- the source notebook's graded test cells against the package's registry: the same
  exercises (``test_<name>``), each worth the same points.

Nothing here imports TensorFlow.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.course import cell_role, grade_id, nbgrader_metadata, notebook_path

PACKAGE = Path(__file__).resolve().parent
"""The ``autograder`` package this process imported."""


def where(root: Path) -> str:
    """Two short lines: the course root and the package a command uses."""
    return f"course:  {Path(root).resolve()}\npackage: {PACKAGE}"


def _differing_exercise_files(root: Path) -> list:
    """The files of ``<root>/autograder/exercises/`` that are not byte for byte the
    imported package's (added, removed or changed); [] when the course carries no
    package of its own or carries the imported one."""
    own = Path(root).resolve() / "autograder"
    if not (own / "exercises" / "__init__.py").is_file() or own == PACKAGE:
        return []
    ours, theirs = own / "exercises", PACKAGE / "exercises"
    names = sorted({p.relative_to(ours).as_posix() for p in ours.rglob("*.py")}
                   | {p.relative_to(theirs).as_posix() for p in theirs.rglob("*.py")})
    return [name for name in names
            if not ((ours / name).is_file() and (theirs / name).is_file()
                    and (ours / name).read_bytes() == (theirs / name).read_bytes())]


def _test_cells(root: Path) -> dict | None:
    """{exercise name: points} of the source notebook's graded test cells, or None when
    the course has no readable source notebook (the commands say so themselves)."""
    try:
        source = nbformat.read(str(notebook_path(root, "source")), as_version=4)
    except (OSError, ValueError):
        return None
    return {grade_id(c).removeprefix("test_"): nbgrader_metadata(c).get("points")
            for c in source.cells if cell_role(c) == "test" and grade_id(c).startswith("test_")}


def _registry_mismatch(tests: dict, exercises: dict) -> str:
    """How the notebook's test cells and the registry differ, or ''."""
    unknown = [f"test_{n}" for n in tests if n not in exercises]
    untested = [n for n in exercises if n not in tests]
    points = [f"test_{n} is worth {tests[n]} points there, {e.points:g} in the package"
              for n, e in exercises.items() if n in tests and tests[n] != e.points]
    parts = ([f"its test cells {', '.join(unknown)} are no exercise of the package"] if unknown else []) \
        + ([f"it has no test cell for the package's {', '.join(untested)}"] if untested else []) \
        + points
    return "; ".join(parts)


def package_mismatch(root: Path) -> str:
    """'' unless the course at ``root`` carries its own ``autograder/`` whose exercises
    differ from the imported package's; then one line naming both."""
    files = _differing_exercise_files(root)
    if not files:
        return ""
    return (f"the course's {Path(root).resolve() / 'autograder' / 'exercises'} is not the "
            f"package's {PACKAGE / 'exercises'} ({', '.join(files[:4])} differ"
            f"{', ...' if len(files) > 4 else ''}): install the course's own "
            f"(pip install -e {Path(root).resolve()}) or put it first on PYTHONPATH")


def disagreement(root: Path, exercises: dict | None = None) -> str:
    """'' when the course at ``root`` and the imported package agree, else one line that
    names both and the first way they differ."""
    if exercises is None:
        from autograder.exercises import EXERCISES as exercises
    mismatch = package_mismatch(root)
    if mismatch:
        return mismatch
    tests = _test_cells(root)
    mismatch = _registry_mismatch(tests, exercises) if tests is not None else ""
    if mismatch:
        return (f"the source notebook of {Path(root).resolve()} and the package's exercises "
                f"({PACKAGE / 'exercises'}) disagree: {mismatch} (`make release` writes the "
                "points; exercises are added in both)")
    return ""
