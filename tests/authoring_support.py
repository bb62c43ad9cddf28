"""Course work the authoring tests share instead of each doing it again.

``make release``'s build of the course's ``source/`` (nbgrader's generate_assignment and
generate_solution, which runs the solution through its hidden tests in a real kernel) is
made once per test session by :func:`fresh_build`; ``tests/test_release.py`` compares it
with the committed ``release/`` and ``solutions/``, ``tests/test_selftest.py`` hands it to
selftest's own comparison (:func:`built_once`). Both only read it.
"""
from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from autograder.authoring.build import build
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


_built: dict = {}


def fresh_build(tmp_path_factory) -> Path:
    """A course holding a copy of the course's source/ and what the build makes of it
    today (release/, solutions/): built once per session, read only."""
    key = id(tmp_path_factory)
    if key not in _built:
        course = tmp_path_factory.mktemp("fresh_build")
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "source", course / "source")
        build(course)
        _built[key] = course
    return _built[key]


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
