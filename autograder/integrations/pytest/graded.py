"""The graded tests of one submission (run with ``pytest autograder --submission PATH``)."""
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
