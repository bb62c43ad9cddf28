"""release/ and solutions/ are what nbgrader makes of source/ today, and give nothing away."""
import shutil

import pytest

from autograder.build import build, differences, leaks
from autograder.corpus import without_markers
from conftest import RELEASE, ROOT, SOLUTION, SOURCE, grade_id, read


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """A fresh generate_assignment + generate_solution of a copy of the course."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    build(course)
    rel = course / RELEASE.relative_to(ROOT)
    sol = course / SOLUTION.relative_to(ROOT)
    return read(rel), read(sol)


@pytest.mark.slow
def test_release_is_up_to_date(regenerated):
    assert differences(regenerated[0], read(RELEASE)) == [], "run `make release` and commit"


@pytest.mark.slow
def test_solutions_are_up_to_date(regenerated):
    assert differences(regenerated[1], read(SOLUTION)) == [], "run `make release` and commit"


def test_differences_notice_a_changed_stub():
    release = read(RELEASE)
    changed = read(RELEASE)
    cell = next(c for c in changed.cells if grade_id(c) == "loss")
    cell.source = cell.source.replace("raise NotImplementedError()", "return 0.0")
    assert differences(release, changed) == ["loss: source differs"]


def test_release_gives_nothing_away():
    assert leaks(read(RELEASE), read(SOURCE)) == []


def test_leak_check_catches_a_solution_in_the_release():
    release, source, solution = read(RELEASE), read(SOURCE), read(SOLUTION)
    solved = next(c for c in solution.cells if grade_id(c) == "grad")
    for cell in release.cells:
        if grade_id(cell) == "grad":
            cell.source = without_markers(solved.source)
    found = leaks(release, source)
    assert any(f.startswith("grad: solution or hidden-test line") for f in found)
    assert "grad: solution cell without a stub" in found


def test_leak_check_catches_markers_and_hidden_tests():
    release, source = read(RELEASE), read(SOURCE)
    hidden = next(c for c in source.cells if grade_id(c) == "test_loss")
    next(c for c in release.cells if grade_id(c) == "test_loss").source = hidden.source
    found = leaks(release, source)
    assert "test_loss: marker 'BEGIN HIDDEN TESTS'" in found


@pytest.mark.parametrize("path", [SOURCE, RELEASE, SOLUTION], ids=["source", "release", "solutions"])
def test_no_outputs_stored(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, grade_id(cell)


def test_nbgrader_metadata_has_only_nbgrader_keys():
    allowed = {"grade", "grade_id", "locked", "schema_version", "solution", "task", "points"}
    for cell in read(SOURCE).cells:
        assert set(cell.metadata.get("nbgrader", {})) <= allowed
