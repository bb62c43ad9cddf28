"""`tfgrade selftest` passes on main, and fails, naming the exercise, when a hidden test
is deleted, when a stub is replaced by its solution in the release, or when a mutant
stops losing points."""
import shutil

import nbformat
import pytest

from autograder import selftest
from autograder.corpus import without_markers
from conftest import BIN, ROOT, SOURCE, grade_id, read, run


def failures(rows):
    return [r for r in rows if not r.ok]


def course_copy(tmp_path):
    for folder in ("source", "release", "solutions", "tests/mutants", "tests/alternatives"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    return tmp_path


def notebook_path(root, step):
    return root / step / "tf_from_scratch" / "tf_from_scratch.ipynb"


def test_structure_passes_on_main():
    assert failures(selftest.check_structure(read(SOURCE))) == []


def test_deleted_hidden_test_is_named():
    source = read(SOURCE)
    cell = next(c for c in source.cells if grade_id(c) == "test_loss")
    cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    [row] = failures(selftest.check_structure(source))
    assert row.subject == "loss" and "test_loss" in row.detail and "stub would pass" in row.detail


def test_points_that_disagree_with_the_contract_are_named():
    source = read(SOURCE)
    next(c for c in source.cells if grade_id(c) == "test_grad").metadata["nbgrader"]["points"] = 12
    subjects = {r.subject for r in failures(selftest.check_structure(source))}
    assert subjects == {"grad", "points"}


def test_points_stated_in_the_text_are_checked_against_the_contract():
    """The heading and the test cell's comment state the points too: each is held to the
    exercise module's declaration."""
    source = read(SOURCE)
    heading = next(c for c in source.cells if c.cell_type == "markdown" and "`accuracy` (6 points)" in c.source)
    heading.source = heading.source.replace("`accuracy` (6 points)", "`accuracy` (7 points)")
    test = next(c for c in source.cells if grade_id(c) == "test_train")
    test.source = test.source.replace("(10 points)", "(9 points)")
    rows = {r.subject: r for r in failures(selftest.check_structure(source))}
    assert set(rows) == {"accuracy", "train"}
    assert "heading of `accuracy` states [7.0] points, the contract 6" in rows["accuracy"].detail
    assert "comment of `test_train` says [9.0] points" in rows["train"].detail


@pytest.mark.slow
def test_solution_in_the_release_is_named(tmp_path):
    root = course_copy(tmp_path)
    release = read(notebook_path(root, "release"))
    solution = read(notebook_path(root, "solutions"))
    solved = next(c for c in solution.cells if grade_id(c) == "grad")
    next(c for c in release.cells if grade_id(c) == "grad").source = without_markers(solved.source)
    nbformat.write(release, str(notebook_path(root, "release")))
    [leak] = failures(selftest.check_release(root, fresh=False))
    assert "grad: solution" in leak.detail
    rows = failures(selftest.check_graders(root, only=("grad",), jobs=2))
    assert [(r.subject, r.detail) for r in rows] == [
        ("untouched release earns nothing", "the stub earns points on grad: those tests assert nothing")]


@pytest.mark.slow
def test_mutant_that_stops_losing_points_is_named(tmp_path):
    root = course_copy(tmp_path)
    mutant = root / "tests" / "mutants" / "loss" / "sum.py"
    header = [line for line in mutant.read_text().splitlines() if line.startswith("#")]
    mutant.write_text("\n".join(header) + "\n"
                      "def loss(W, b, inputs, targets):\n"
                      "    p = predict(W, b, inputs)\n"
                      "    return -tf.reduce_mean(targets * tf.math.log(p) + (1 - targets) * tf.math.log(1 - p))\n")
    rows = failures(selftest.check_graders(root, only=("loss",), jobs=2))
    assert len(rows) == 1 and rows[0].subject == "mutant loss/sum"
    assert "loss does not lose points" in rows[0].detail


@pytest.mark.slow
def test_selftest_passes_on_main():
    done = run(BIN / "tfgrade", "selftest", timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " 0 failed" in done.stdout and "nbgrader" in done.stdout
