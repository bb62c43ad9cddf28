"""A submission's cost is bounded (issue 22, item 4).

A notebook with six slow cells, two hanging cells and six exercises that end the
process costs about one pass of its cells: a restart runs again only the cells whose
first runs were cheap (they restore the state the honest exercises need), so each slow
cell runs once, where it used to run again after every crash. And a total time budget
ends the grading with what was graded, saying which limit it reached.
"""
from __future__ import annotations

import pytest

from autograder.exercises import EXERCISES
from autograder.grading import grade
from autograder.sandbox.settings import Limits
from conftest import with_cell, write_student


CRASHING = ("predict", "accuracy", "train", "my_model", "model_grad", "train_minibatch")
SLOW = "import time\nprint('SLOW {i}')\ntime.sleep(2.5)"
HANG = "while True:\n    pass"
ENDS_THE_PROCESS = f'''import os


def _end(*args, **kwargs):
    os._exit(3)


for _name in {CRASHING!r}:
    globals()[_name] = _end
MyModel = _end'''


def test_the_budget_is_every_exercises_limit_unless_the_course_sets_one():
    """Fast: after the first pass of the cells, the time left is the exercises' own
    limits scaled by --time-scale, or what is left of ``Limits.submission_seconds``."""
    limits = sum(e.time_limit for e in EXERCISES.values())
    assert grade._Run([], Limits(time_scale=2), None)._budget_after_cells() == pytest.approx(2 * limits)
    capped = grade._Run([], Limits(submission_seconds=30), None)._budget_after_cells()
    assert 29 < capped <= 30


@pytest.mark.slow
def test_slow_cells_run_once_however_often_the_process_ends(full_marks, tmp_path):
    notebook = full_marks
    for i in range(6):
        notebook = with_cell(notebook, SLOW.format(i=i), after="grad" if i < 3 else "my_dense")
    notebook = with_cell(notebook, HANG, after="loss")
    notebook = with_cell(notebook, HANG, after="my_model")
    notebook = with_cell(notebook, ENDS_THE_PROCESS)
    path = write_student(tmp_path, "costly", notebook)
    result = grade.grade_submission(path, "costly", 20211, Limits(cell_seconds=3)).to_dict()
    scores = {name: e["score"] for name, e in result["exercises"].items()}
    honest = [n for n in EXERCISES if n not in CRASHING and n != "my_model"]
    assert all(scores[n] == EXERCISES[n].points for n in honest), (scores, result["reason"])
    assert all(scores[n] == 0 for n in CRASHING)
    for i in range(6):  # each slow cell ran once, though the process ended 8 times
        assert result["output"].count(f"SLOW {i}") == 1, result["output"]
    assert result["status"] == "incomplete" and "was not run again after a restart" in result["reason"]


SLOW_PREDICT = '''import time


def predict(W, b, inputs):
    time.sleep(30)'''


@pytest.mark.slow
def test_the_time_budget_ends_grading_and_says_so(full_marks, tmp_path):
    path = write_student(tmp_path, "slow", with_cell(full_marks, SLOW_PREDICT, replace="predict"))
    result = grade.grade_submission(path, "slow", 20211, Limits(submission_seconds=10)).to_dict()
    exercises = result["exercises"]
    assert exercises["predict"]["status"] == "timeout"
    later = [n for n in EXERCISES if n != "predict"]
    assert all(exercises[n]["score"] == 0 and "time budget (10 s) ran out" in exercises[n]["feedback"]
               for n in later)
    assert result["status"] == "incomplete"
    assert "the submission's time budget (10 s) ran out: loss and the exercises after it" in result["reason"]
    assert result["seconds"] < 60
