"""pytest as the grading engine for one submission (opt-in: nothing loads it by itself).

    pytest -p autograder.integrations.pytest.plugin --pyargs autograder.integrations.pytest.graded \
        --tfkit-submission PATH [--tfkit-seed S] [--tfkit-json FILE]

collects ``graded``: one test per exercise, carrying its points. A test passes with full
marks; otherwise it fails with the student's feedback, and its partial credit is kept in
the test's ``user_properties`` (``score``, ``max_score``), so JUnit XML (``--junitxml``)
carries it too. The terminal summary shows the total. The graded result lives in
``config.stash[RESULT]``.
"""
from __future__ import annotations

import json

import pytest

from autograder import DEFAULT_SEED

RESULT = pytest.StashKey[object]()
"""The session's graded submission (a ``grading.grade.Result``), once the ``graded`` fixture ran."""


def pytest_addoption(parser):
    group = parser.getgroup("tfkit", "tfkit autograder")
    group.addoption("--tfkit-submission", default=None, metavar="PATH", help="the notebook to grade")
    group.addoption("--tfkit-seed", type=int, default=DEFAULT_SEED, metavar="S",
                    help=f"seed of the grading inputs (default: {DEFAULT_SEED}, the kit's)")
    group.addoption("--tfkit-json", default=None, metavar="FILE", help="also write the result.json here")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the points a graded test is worth")


@pytest.fixture(scope="session")
def graded(request):
    """The graded submission (graded once per session, in the sandbox)."""
    # Imported here, not at the top: a run without --tfkit-submission starts no grader.
    from autograder.grading.grade import grade_submission
    from autograder.results.files import write_atomic
    config = request.config
    path = config.getoption("--tfkit-submission")
    if not path:
        pytest.skip("no --tfkit-submission given")
    result = grade_submission(path, student_id=path, seed=config.getoption("--tfkit-seed"))
    config.stash[RESULT] = result
    out = config.getoption("--tfkit-json")
    if out:
        write_atomic(out, json.dumps(result.to_dict(), indent=2))
    return result


def pytest_terminal_summary(terminalreporter, config):
    result = config.stash.get(RESULT, None)
    if result is None:
        return
    terminalreporter.section("tfkit grade")
    for name, exercise in result.exercises.items():
        terminalreporter.write_line(f"{name:<22} {exercise.score:>6g} / {exercise.max_score:g}")
    terminalreporter.write_line(f"{'total':<22} {result.score:>6g} / {result.max_score:g}"
                                f"  ({result.status}{': ' + result.reason if result.reason else ''})")
