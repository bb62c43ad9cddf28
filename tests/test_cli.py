"""The student's `tfgrade check` and pytest as the engine for one submission."""
import json
import xml.etree.ElementTree as ET

import pytest

from autograder.exercises import EXERCISES, HINT_NOT_DONE
from conftest import BIN, RELEASE, SUBMITTED, run


@pytest.mark.slow
def test_check_on_the_release_fails_every_exercise_without_hidden_tests():
    done = run(BIN / "tfgrade", "check", RELEASE, check=False)
    assert done.returncode == 1
    assert f"0 of {len(EXERCISES)} exercises pass" in done.stdout and HINT_NOT_DONE in done.stdout
    assert "Hint" not in done.stdout  # no hidden comparison, no graded feedback


@pytest.mark.slow
def test_check_on_a_mistake_shows_the_visible_check_message():
    notebook = SUBMITTED / "column_predict" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    done = run(BIN / "tfgrade", "check", notebook, check=False)
    # Visible checks use the student's own functions, so loss and accuracy, built on
    # predict, fail too; the graded tests do not cascade (see test_batch).
    assert done.returncode == 1 and f"8 of {len(EXERCISES)} exercises pass" in done.stdout
    predict_line = done.stdout.split("predict(W, b, inputs)")[1].splitlines()[1]
    assert "shape" in predict_line


@pytest.mark.slow
def test_pytest_engine_grades_one_submission_with_points(tmp_path):
    notebook = SUBMITTED / "sum_loss" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    junit, result = tmp_path / "junit.xml", tmp_path / "result.json"
    done = run(BIN / "pytest", "-p", "no:cacheprovider", "-p", "autograder.integrations.pytest.plugin",
               "--pyargs", "autograder.integrations.pytest.graded",
               "--tfkit-submission", notebook, "--tfkit-json", result, f"--junitxml={junit}", check=False)
    assert done.returncode == 1, done.stdout
    assert "1 failed, 10 passed" in done.stdout and "n times too large" in done.stdout
    graded = json.loads(result.read_text())
    assert graded["exercises"]["loss"]["score"] < EXERCISES["loss"].points
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    props = {p.get("name"): float(p.get("value")) for p in cases["test_exercise[loss]"].iter("property")}
    assert props["max_score"] == EXERCISES["loss"].points and props["score"] == graded["exercises"]["loss"]["score"]
    assert "total" in done.stdout and f"{graded['score']:g} / 100" in done.stdout


def test_pytest_engine_without_a_submission_skips(tmp_path):
    done = run(BIN / "pytest", "-p", "no:cacheprovider", "-p", "autograder.integrations.pytest.plugin",
               "--pyargs", "autograder.integrations.pytest.graded", "-q",
               check=False)
    assert f"{len(EXERCISES)} skipped" in done.stdout


def test_grading_outside_a_course_says_where_the_reference_comes_from(tmp_path):
    """The reference is the course's source notebook: with no course in reach, tfgrade
    grade stops before grading anyone, and says so."""
    done = run(BIN / "tfgrade", "grade", SUBMITTED, "--out", tmp_path / "out", cwd=tmp_path,
               check=False, env={"TFKIT_COURSE": ""})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the reference comes from the course's source notebook" in done.stderr
    assert not (tmp_path / "out").exists()
