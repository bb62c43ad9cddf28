"""Reading nbgrader's gradebook: per student, per exercise, what ``nbgrader autograde`` gave."""
from __future__ import annotations

from pathlib import Path

from autograder import ASSIGNMENT
from autograder.exercises import EXERCISES


class GradebookError(ValueError):
    """The gradebook does not hold a complete autograde of a submission."""


def nbgrader_scores(course_root, students=None, assignment: str = ASSIGNMENT) -> dict:
    """``{student: {exercise: score}}`` from the course's gradebook.db, for ``students``
    (default: every student with a submission). Test cells are named ``test_<exercise>``.
    A test cell nbgrader did not grade, or whose points differ from the contract, raises
    :class:`GradebookError` rather than passing for a zero."""
    from nbgrader.api import Gradebook, MissingEntry
    url = f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"
    scores = {}
    with Gradebook(url) as gradebook:
        for student in students or [s.id for s in gradebook.students]:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                if students:
                    raise GradebookError(f"{student}: no submission in the gradebook") from None
                continue
            grades = {g.name: g for notebook in submission.notebooks for g in notebook.grades}
            per_exercise = {}
            for name, exercise in EXERCISES.items():
                grade = grades.get(f"test_{name}")
                if grade is None or grade.auto_score is None:
                    raise GradebookError(f"{student}: test_{name} was not autograded")
                if grade.max_score != exercise.points:
                    raise GradebookError(f"{student}: test_{name} is worth {grade.max_score}, "
                                         f"the contract says {exercise.points}")
                per_exercise[name] = float(grade.score)
            scores[student] = per_exercise
    return scores
