"""release/ and solutions/ are what nbgrader makes of source/ today, and give nothing away;
the points declared in the exercise modules are what the source notebook, the README and the
sample class state."""
import dataclasses
import json
import re
import shutil
import sys

import nbformat
import pytest

from autograder.authoring.build import (differences, leaks, readme_with_points, write_points,
                                        write_source_points)
from autograder.authoring.corpus import without_markers
from autograder.course import notebook_path
from autograder.exercises import EXERCISES, TOTAL_POINTS
from conftest import RELEASE, ROOT, SAMPLE_CLASS, SOLUTION, SOURCE, grade_id, read

README = ROOT / "README.md"


@pytest.fixture(scope="module")
def regenerated(released_course):
    """A fresh generate_assignment + generate_solution of a copy of the course (the
    session's one build, ``conftest.released_course``, which other tests read too)."""
    course = released_course
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


# Points are declared once, in the exercise modules; `make release` writes them out.

def _with_points(**changed):
    """The registry with some exercises' points changed (the modules stay as they are)."""
    return {name: dataclasses.replace(e, points=changed.get(name, e.points))
            for name, e in EXERCISES.items()}


def test_writing_the_points_keeps_the_committed_source_byte_for_byte(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source", course / "source")
    assert write_source_points(course) is False
    assert notebook_path(course).read_bytes() == SOURCE.read_bytes()


def test_changed_points_reach_the_heading_the_metadata_and_the_comment(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source", course / "source")
    source = read(SOURCE)
    changed = read(SOURCE)
    write_points(changed, _with_points(predict=7, loss=11))
    assert sorted(differences(source, changed)) == sorted([
        "cell 11: source differs", "test_predict: source differs", "test_predict: metadata differs",
        "cell 17: source differs", "test_loss: source differs", "test_loss: metadata differs"])
    cells = {grade_id(c): c for c in changed.cells}
    assert cells["test_predict"].metadata.nbgrader.points == 7
    assert "Hidden tests grade `predict` (7 points)" in cells["test_predict"].source
    assert "### Exercise 1: `predict` (7 points)" in changed.cells[11].source
    assert "### Exercise 2: `loss` (11 points)" in changed.cells[17].source
    again = read(SOURCE)
    write_points(again, _with_points(predict=7, loss=11))
    write_points(again, _with_points(predict=7, loss=11))
    assert nbformat.writes(again) == nbformat.writes(changed)


def test_a_heading_without_points_gets_them(tmp_path):
    source = read(SOURCE)
    heading = next(c for c in source.cells if "`accuracy` (6 points)" in c.source)
    heading.source = heading.source.replace("`accuracy` (6 points)", "`accuracy`")
    write_points(source)
    assert "### Exercise 3: `accuracy` (6 points)" in heading.source
    assert differences(read(SOURCE), source) == []


def test_the_readme_states_the_modules_points():
    text = README.read_text(encoding="utf-8")
    assert readme_with_points(text) == text, "README.md: run `make release` and commit"
    assert f"{len(EXERCISES)} graded exercises worth {TOTAL_POINTS:g} points in total" in text
    for name, exercise in EXERCISES.items():
        assert f"| `{name}` | {exercise.points:g} |" in text


def test_changed_points_reach_the_readme():
    text = README.read_text(encoding="utf-8")
    changed = readme_with_points(text, _with_points(train_minibatch=16))
    assert "| `train_minibatch` | 16 |" in changed and "| total | 104 |" in changed
    assert "11 graded exercises worth 104 points in total" in changed
    new_lines = [line for line in changed.splitlines() if line not in text.splitlines()]
    assert len(new_lines) == 3 and len(changed.splitlines()) == len(text.splitlines())


def _demo_table() -> dict:
    """{student: tfgrade's total} of the README's `make demo` table."""
    rows = re.findall(r"^(\w+) +([\d.]+) +([\d.]+) +(?:yes|no)$", README.read_text(encoding="utf-8"),
                      re.MULTILINE)
    return {student: float(tfgrade) for student, _, tfgrade in rows}


def test_the_readmes_scores_fit_the_points():
    """The README's examples show scores graded with today's points: `make demo` prints
    the table to paste, a grader's feedback the "name: score / points" lines."""
    regenerate = "README.md's demo table is stale: run `make demo` and paste its last table"
    expected = json.loads((SAMPLE_CLASS / "expected.json").read_text())
    table = _demo_table()
    assert {"full_marks", "untouched"} < set(table) <= set(expected)
    assert table["full_marks"] == TOTAL_POINTS and table["untouched"] == 0, regenerate
    for student, total in table.items():
        most = sum(EXERCISES[name].points for name in expected[student])
        assert TOTAL_POINTS - most <= total <= TOTAL_POINTS - (most > 0) * 0.01, (student, regenerate)
    shown = re.findall(r"^(\w+): [\d.]+ / ([\d.]+)$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert shown and all(float(points) == EXERCISES[name].points for name, points in shown), shown


def test_the_sample_class_expects_losses_on_todays_exercises():
    """expected.json is what examples/make_sample_class.py writes for today's exercises."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import make_sample_class
    finally:
        sys.path.remove(str(ROOT / "examples"))
    wanted = {student: losing for student, (_, losing) in make_sample_class.build().items()}
    assert json.loads((SAMPLE_CLASS / "expected.json").read_text()) == wanted, \
        "examples/sample_class is stale: run `python examples/make_sample_class.py --check`"
    assert wanted["untouched"] == list(EXERCISES)
