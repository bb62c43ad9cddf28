"""``make demo`` and ``make clean`` leave a course's data alone (issue 21, item 1).

A copy of the course holds what a real term leaves: a student's submission in
``submitted/``, nbgrader's ``gradebook.db``, ``autograded/``, ``feedback/`` and a tfgrade
output folder. The real ``make demo`` (with this environment, and a sample class of two
students so the test stays short) and the real ``make clean`` run in it; every one of
those files must come out byte for byte the same, and the demo must have graded in its
own workspace.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from autograder.authoring import demo
from conftest import ASSIGNMENT, ROOT, SUBMITTED, run


VENV = Path(sys.executable).parent.parent
DATA = ("submitted", "autograded", "feedback", "gradebook.db", "grades")


def snapshot(course: Path) -> dict:
    """{relative path: sha256} of every file of the course's data."""
    found = {}
    for name in DATA:
        top = course / name
        for path in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
            found[str(path.relative_to(course))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course copy with a term's data and a two-student sample class."""
    course = tmp_path_factory.mktemp("course")
    for name in ("nbgrader_config.py", "Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, course)
    shutil.copytree(ROOT / "source", course / "source")
    for student in ("full_marks", "untouched"):
        shutil.copytree(SUBMITTED / student, course / "examples" / "sample_class" / "submitted" / student)
    alice = course / "submitted" / "alice" / ASSIGNMENT
    alice.mkdir(parents=True)
    shutil.copy2(SUBMITTED / "sum_loss" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", alice)
    (alice / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    for folder, name in (("autograded", f"{ASSIGNMENT}.ipynb"), ("feedback", f"{ASSIGNMENT}.html")):
        path = course / folder / "alice" / ASSIGNMENT / name
        path.parent.mkdir(parents=True)
        path.write_text(f"alice's {folder} notebook")
    (course / "grades" / "alice").mkdir(parents=True)
    (course / "grades" / "grades.csv").write_text("student_id,total\nalice,90\n")
    (course / "grades" / "alice" / "feedback.md").write_text("# alice: 90 / 100\n")
    return course


def make(course: Path, target: str, **variables):
    # -o: this environment is up to date (the copied pyproject.toml is newer than its stamp).
    return run("make", "-C", course, target, "-o", VENV / "bin" / ".installed",
               *(f"{k}={v}" for k, v in variables.items()), cwd=course, timeout=900)


@pytest.mark.slow
def test_make_demo_grades_in_its_own_workspace_and_keeps_the_course_data(course):
    before = snapshot(course)
    assert len(before) == 7
    done = make(course, "demo", VENV=VENV)
    assert "2/2 totals agree" in done.stdout
    assert f"demo workspace: {course / demo.WORKSPACE}" in done.stdout
    assert snapshot(course) == before
    workspace = course / demo.WORKSPACE
    graded = sorted(p.name for p in (workspace / "grades").iterdir() if p.is_dir())
    assert graded == ["full_marks", "untouched"]
    assert (workspace / "gradebook.db").is_file() and (workspace / "autograded" / "full_marks").is_dir()
    assert not (course / "grades" / "full_marks").exists()


@pytest.mark.slow
def test_make_clean_removes_build_products_only(course):
    before = snapshot(course)
    (course / ".venv" / "bin").mkdir(parents=True)
    (course / ".pytest_cache").mkdir()
    (course / demo.WORKSPACE).mkdir(exist_ok=True)
    make(course, "clean")
    assert snapshot(course) == before
    assert not (course / ".venv").exists() and not (course / ".pytest_cache").exists()
    assert not (course / demo.WORKSPACE).exists()


def test_the_demo_refuses_a_workspace_it_did_not_make(tmp_path):
    (tmp_path / demo.WORKSPACE).mkdir()
    (tmp_path / demo.WORKSPACE / "notes.txt").write_text("mine")
    with pytest.raises(demo.DemoError, match="not made by the demo"):
        demo.prepare(tmp_path)
    assert (tmp_path / demo.WORKSPACE / "notes.txt").read_text() == "mine"
