"""pytest as the grading engine for one submission.

``pytest autograder --submission PATH [--grade-seed S] [--grade-json FILE]`` collects
``autograder/integrations/pytest/graded.py``: one test per exercise, carrying its points. A test
passes with full marks; otherwise it fails with the student's feedback, and its
partial credit is kept in the test's ``user_properties`` (``score``, ``max_score``),
so JUnit XML (``--junitxml``) carries it too. The terminal summary shows the total.
"""
from __future__ import annotations

import json

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("tfkit", "tfkit autograder")
    group.addoption("--submission", default=None, help="the notebook to grade")
    group.addoption("--grade-seed", type=int, default=None,
                    help="seed of the grading inputs (default: the kit's default seed)")
    group.addoption("--grade-json", default=None, help="also write the result.json here")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points a graded test is worth")


@pytest.fixture(scope="session")
def graded(request):
    """The graded submission (graded once per session, in the sandbox)."""
    from autograder import DEFAULT_SEED
    from autograder.grading.grade import grade_submission
    path = request.config.getoption("--submission")
    if not path:
        pytest.skip("no --submission given")
    seed = request.config.getoption("--grade-seed")
    result = grade_submission(path, student_id=path, seed=DEFAULT_SEED if seed is None else seed)
    request.config._tfkit_result = result
    out = request.config.getoption("--grade-json")
    if out:
        from autograder.results.report import write_atomic
        write_atomic(out, json.dumps(result.to_dict(), indent=2))
    return result


def pytest_terminal_summary(terminalreporter, config):
    result = getattr(config, "_tfkit_result", None)
    if result is None:
        return
    terminalreporter.section("tfkit grade")
    for name, exercise in result.exercises.items():
        terminalreporter.write_line(f"{name:<22} {exercise.score:>6g} / {exercise.max_score:g}")
    terminalreporter.write_line(f"{'total':<22} {result.score:>6g} / {result.max_score:g}"
                                f"  ({result.status}{': ' + result.reason if result.reason else ''})")
