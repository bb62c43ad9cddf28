"""Where the course's files are, and what a notebook cell is for: one place for both.

The course root is the folder with ``nbgrader_config.py``; the assignment's notebook
sits at ``<step>/<assignment>/<assignment>.ipynb`` for nbgrader's steps (``source``,
``release``, ``solutions``). A cell's part in the assignment is read from its metadata
here only: nbgrader's grade id and flags, and the kit's own ``tfkit.role``. Submitted
metadata is untrusted, so every reader tolerates any shape of it.
"""
from __future__ import annotations

from pathlib import Path

from . import ASSIGNMENT


def course_root(start: Path | None = None) -> Path:
    """The nearest folder upwards holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError("no nbgrader_config.py here or above: run this from the course root")


def notebook_in(folder: Path) -> Path:
    """The assignment's notebook in nbgrader's layout under ``folder`` (a step of the
    course, or a student's folder of ``submitted/``): ``<folder>/<assignment>/<assignment>.ipynb``."""
    return Path(folder) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def notebook_path(root: Path, step: str = "source") -> Path:
    """The assignment's notebook in one of nbgrader's steps of the course at ``root``."""
    return notebook_in(Path(root) / step)


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def nbgrader_metadata(cell) -> dict:
    return _mapping(_mapping(_mapping(cell).get("metadata")).get("nbgrader"))


def grade_id(cell) -> str:
    """nbgrader's grade id of the cell, or '' (also for a malformed one)."""
    value = nbgrader_metadata(cell).get("grade_id", "")
    return value if isinstance(value, str) else ""


def is_solution(cell) -> bool:
    return nbgrader_metadata(cell).get("solution") is True


def cell_role(cell) -> str:
    """'test' for nbgrader's graded test cells, else the kit's role tag ('setup',
    'demo', 'check') or ''."""
    grading = nbgrader_metadata(cell)
    if grading.get("grade") and not grading.get("solution"):
        return "test"
    role = _mapping(_mapping(_mapping(cell).get("metadata")).get("tfkit")).get("role", "")
    return role if isinstance(role, str) else ""
