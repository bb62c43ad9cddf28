"""Where the course's files are, and what a notebook cell is for: one place for both.

The course root is the folder with ``nbgrader_config.py``; the assignment's notebook
sits at ``<step>/<assignment>/<assignment>.ipynb`` for nbgrader's steps (``source``,
``release``, ``solutions``). A cell's part in the assignment is read from its metadata
here only: nbgrader's grade id and flags, and the kit's own ``tfkit.role``. Submitted
metadata is untrusted, so every reader tolerates any shape of it.
"""
from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from autograder import ASSIGNMENT

KEY_FILE = Path(".tfkit") / "case_key"


def course_root(start: Path | None = None) -> Path:
    """The nearest folder upwards holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError("no nbgrader_config.py here or above: run this from the course root")


def course_in_use() -> Path:
    """The course a grading command works on: the one named by the ``TFKIT_COURSE``
    environment variable, else the one found upwards from the current folder."""
    return Path(os.environ.get("TFKIT_COURSE") or course_root()).resolve()


def case_key(root: Path | None = None) -> bytes:
    """The course's secret for case seeds (``grade.derive_case_seed``): 32 random bytes
    in ``<course root>/.tfkit/case_key`` (the course named by ``TFKIT_COURSE``, else the
    one found upwards from the current folder), created on first use, readable by its
    owner alone. No sandbox can read it (their filesystem is an allowlist), so no
    submission can compute its inputs ahead. Losing it loses nothing recorded: each
    result.json keeps the case seed it was graded from, which replays it."""
    root = Path(root or os.environ.get("TFKIT_COURSE") or course_root()).resolve()
    return _read_or_create_key(root / KEY_FILE)


@functools.lru_cache(maxsize=None)
def _read_or_create_key(path: Path) -> bytes:
    if not path.is_file():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(fresh, path)  # atomic, and never replaces a key another process made
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 16:
        raise ValueError(f"{path}: not a course key (expected 32 bytes in hex)")
    return key


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
