"""Reading nbgrader's gradebook: per student, per exercise, what ``nbgrader autograde`` gave."""
from __future__ import annotations

from pathlib import Path

from . import ASSIGNMENT
from .exercises import EXERCISES


def nbgrader_scores(course_root, assignment: str = ASSIGNMENT) -> dict:
    """``{student: {exercise: score}}`` from the course's gradebook.db (test cells are
    named ``test_<exercise>``)."""
    from nbgrader.api import Gradebook
    url = f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"
    scores = {}
    with Gradebook(url) as gradebook:
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(assignment, student.id)
            except Exception:  # noqa: BLE001 - nbgrader raises MissingEntry; no submission
                continue
            per_exercise = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    name = grade.name[len("test_"):]
                    if grade.name.startswith("test_") and name in EXERCISES:
                        per_exercise[name] = float(grade.score)
            scores[student.id] = per_exercise
    return scores
