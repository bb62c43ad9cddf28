"""The graded tests of one submission: one per exercise, carrying its points. Collected by
name with the plugin loaded (see ``plugin``); shipped in the package so that an installed kit
can run them, and named so that no plain ``pytest`` run collects them."""
import pytest

from autograder import GRADER_ERROR
from autograder.exercises import EXERCISES


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.points(ex.points), id=n)
                                  for n, ex in EXERCISES.items()])
def test_exercise(graded, name, record_property):
    if graded.status in ("ungradable", GRADER_ERROR):
        record_property("score", 0)
        record_property("max_score", EXERCISES[name].points)
        pytest.fail(f"{graded.status}: {graded.reason}", pytrace=False)
    result = graded.exercises[name]
    record_property("score", result.score)
    record_property("max_score", result.max_score)
    if result.score < result.max_score:
        pytest.fail(result.feedback, pytrace=False)
