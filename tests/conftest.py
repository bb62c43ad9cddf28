"""Shared paths and helpers for the kit's own tests."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import ASSIGNMENT  # noqa: F401 - the tests name it from here
from autograder.course import notebook_in, notebook_path  # noqa: F401 - the tests name it from here

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
SOURCE = notebook_path(ROOT, "source")
RELEASE = notebook_path(ROOT, "release")
SOLUTION = notebook_path(ROOT, "solutions")
SAMPLE_CLASS = ROOT / "examples" / "sample_class"
SUBMITTED = SAMPLE_CLASS / "submitted"
FULL_MARKS = notebook_in(SUBMITTED / "full_marks")
BIN = Path(sys.executable).parent
# nbgrader shells out to `alembic` by name: the environment's bin/ must be on PATH even
# when pytest is started without `make`.
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def with_cell(notebook, source: str, after: str | None = None, replace: str | None = None):
    """A copy of ``notebook`` with a code cell added (after the cell ``after``, or at
    the end) or the cell ``replace`` given new source."""
    notebook = copy.deepcopy(notebook)
    if replace is not None:
        matches = [c for c in notebook.cells if grade_id(c) == replace]
        assert matches, f"no cell {replace}"
        matches[0].source = source
        return notebook
    cell = nbformat.v4.new_code_cell(source)
    index = len(notebook.cells)
    if after is not None:
        index = 1 + next(i for i, c in enumerate(notebook.cells) if grade_id(c) == after)
    notebook.cells.insert(index, cell)
    return notebook


def graded_parts(exercises: dict) -> dict:
    """A result's exercises without the time each took (``seconds``), which no two runs
    share: what must be the same when a grading is replayed."""
    return {name: {k: v for k, v in exercise.items() if k != "seconds"}
            for name, exercise in exercises.items()}


def error_lines(stderr: str) -> list:
    """A command's stderr lines, less the two naming the course and package it uses."""
    return [line for line in stderr.splitlines() if not line.startswith(("course:  ", "package: "))]


def write_student(folder: Path, student: str, notebook) -> Path:
    """Write a notebook into nbgrader's submitted/<student>/<assignment>/ layout."""
    path = notebook_in(folder / student)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def run(*args, cwd=ROOT, timeout=900, check=True, env=None) -> subprocess.CompletedProcess:
    """Run a command of the environment (tfgrade, nbgrader, pytest) with its bin/ on PATH."""
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


@pytest.fixture(scope="session")
def full_marks():
    return read(FULL_MARKS)


@pytest.fixture(scope="session")
def release():
    return read(RELEASE)


@pytest.fixture(scope="session")
def reference_cells():
    """The course's reference: the source notebook's setup and solution cells."""
    from autograder.grading.reference import read_reference
    return read_reference(ROOT)


@pytest.fixture(scope="session")
def local_reference(reference_cells):
    """The course's reference run in the test process (trusted code only)."""
    from autograder.grading.reference import LocalReference
    return LocalReference(reference_cells)


# --- The sample class, graded once per session --------------------------------------------

def tree_digest(top: Path) -> dict:
    """{relative path: (size, mtime_ns)} of every file under ``top``: what a test that
    only reads a shared tree must leave as it found it."""
    return {str(p.relative_to(top)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(top.rglob("*")) if p.is_file()}


def copy_tree(source: Path, target: Path) -> Path:
    """A writable copy of a shared tree (modification times kept, so a copied result is
    as current as its original)."""
    shutil.copytree(source, target, symlinks=True)
    return target


def made_once(tmp_path_factory, name: str, make) -> Path:
    """The folder ``name`` that ``make(folder)`` fills, made once per test session even
    when pytest-xdist runs the suite in several processes (``make test`` does): the first
    process to ask makes it, under a file lock in the run's shared temporary folder; the
    others wait for it and read it. A failed ``make`` leaves no folder behind, so the
    next process to ask tries again (and fails with its own error)."""
    from filelock import FileLock
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder, made = base / name, base / f"{name}.made"
    with FileLock(str(base / f"{name}.lock")):
        if not made.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                make(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            made.touch()
    return folder


@pytest.fixture(scope="session")
def graded_sample_class(tmp_path_factory):
    """The sample class graded once by ``tfgrade grade`` (``--jobs 2``, the default seed,
    from the repository), in a copy of its submitted/ folder: ``(submitted, out)``.

    Shared by every test that only reads the results (the tree is checked unchanged at
    the end of the session); a test that grades again (a re-run, ``--force``, more
    students) works on ``copy_tree(out, ...)``, whose results are current for the same
    notebooks, seed and kit, so only what the test adds or forces is graded."""
    from autograder import DEFAULT_SEED

    def grade(base):
        submitted = copy_tree(SUBMITTED, base / "submitted")
        done = run(BIN / "tfgrade", "grade", submitted, "--out", base / "out", "--jobs", 2,
                   "--seed", DEFAULT_SEED, "--quiet")
        students = sorted(p.name for p in SUBMITTED.iterdir() if p.is_dir())
        graded = sorted(p.parent.name for p in (base / "out").glob("*/result.json"))
        assert graded == students, (graded, done.stdout[-2000:])

    base = made_once(tmp_path_factory, "graded_sample_class", grade)
    submitted, out = base / "submitted", base / "out"
    before = {"submitted": tree_digest(submitted), "out": tree_digest(out)}
    yield submitted, out
    after = {"submitted": tree_digest(submitted), "out": tree_digest(out)}
    assert after == before, "a test changed the shared graded sample class: copy it (copy_tree) first"


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A temporary course after ``make release``'s build (``authoring.build.build``:
    nbgrader's generate_assignment, then generate_solution, which runs the solution
    through its hidden tests): the course's config, source/ and secret case key (so its
    inputs are the repository's), its gradebook.db holding the assignment, release/ and
    solutions/ as the build makes them today. Built once per session and never changed
    (checked at the end): test_release compares it with the committed files, selftest's
    release rows read it (``authoring_support.built_once``), and a test that runs
    nbgrader in it works on ``copy_tree(released_course, ...)``."""
    from autograder.authoring.build import build
    from autograder.course import KEY_FILE, case_key

    def release(base):
        root = base / "course"
        root.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", root)
        shutil.copytree(ROOT / "source", root / "source")
        case_key(ROOT)
        shutil.copytree(ROOT / KEY_FILE.parent, root / KEY_FILE.parent)
        build(root)
        assert notebook_path(root, "release").is_file() and (root / "gradebook.db").is_file()

    root = made_once(tmp_path_factory, "released_course", release) / "course"
    before = tree_digest(root)
    yield root
    assert tree_digest(root) == before, "a test changed the shared released course: copy it (copy_tree) first"


# --- Longest first ------------------------------------------------------------------------

# The modules that take a minute or more of a serial run (`--durations`), longest first.
# `make test` hands whole modules to its processes in collection order
# (`--dist loadfile --no-loadscope-reorder`), so these start first and no process is left
# alone with a long module at the end. A module missing here still runs, after these.
LONGEST_FIRST = ("test_batch", "test_nbgrader", "test_selftest", "test_maintainer",
                 "test_benchmark", "test_isolation", "test_cluster", "test_serve",
                 "test_sandbox", "test_untrusted", "test_walkthrough", "test_corpus_kernel",
                 "test_answers", "test_bounded", "test_budget", "test_browser")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__ if item.module else "", len(rank)))


# In CI (CI set), a skip fails the run instead of hiding an untested protection.
from skip_policy import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402,F401 - hooks
