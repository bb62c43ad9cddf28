"""Course work the authoring tests share instead of each doing it again.

``make release``'s build of the course's ``source/`` is made once per test session (the
``released_course`` fixture of ``tests/conftest.py``); ``tests/test_selftest.py`` hands
it to selftest's own comparison through :func:`built_once` instead of building again.
"""
from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from conftest import ROOT

COURSE = ("source", "release", "solutions")
CORPUS = ("tests/mutants", "tests/alternatives")


def course_copy(folder: Path, corpus: bool = True) -> Path:
    """The course's notebooks and nbgrader config copied into ``folder``; with ``corpus``,
    its mutants and alternatives too (without, selftest grades no snippet)."""
    for name in (*COURSE, *(CORPUS if corpus else ())):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    return folder


def _same_inputs(course: Path, other: Path) -> bool:
    """Whether two courses give the build the same inputs: nbgrader_config.py and every
    file of source/, byte for byte."""
    if not filecmp.cmp(course / "nbgrader_config.py", other / "nbgrader_config.py", shallow=False):
        return False
    files = sorted(p.relative_to(course) for p in (course / "source").rglob("*") if p.is_file())
    if files != sorted(p.relative_to(other) for p in (other / "source").rglob("*") if p.is_file()):
        return False
    return all(filecmp.cmp(course / f, other / f, shallow=False) for f in files)


def built_once(built: Path, calls: list):
    """A stand-in for ``build`` that copies release/ and solutions/ from ``built``, for a
    course whose inputs are the same as ``built``'s (else it fails the test); each course
    it builds is appended to ``calls``."""
    def build_from(course: Path) -> None:
        assert _same_inputs(Path(course), built), f"{course} is not the course {built} was built from"
        for step in ("release", "solutions"):
            shutil.copytree(built / step, Path(course) / step, dirs_exist_ok=True)
        calls.append(Path(course))
    return build_from
