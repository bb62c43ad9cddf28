"""Build the bundled sample class: student submissions in nbgrader's layout.

Every notebook starts from the RELEASED notebook (release/tf_from_scratch/), so it
keeps all of nbgrader's metadata (grade ids, checksums, locked cells); only the
solution cells' sources change:

- ``full_marks``: every solution cell filled with the instructor's solution
  (solutions/tf_from_scratch/), without the ``### BEGIN/END SOLUTION`` marker lines
  that students never see;
- ``untouched``: the release as it is (every exercise still raises NotImplementedError);
- one student per realistic mistake: the full solution with one or two exercises
  replaced by mutants of the test corpus (tests/mutants/<exercise>/<name>.py, header
  comments dropped), see ``MISTAKES`` below.

Each student also gets the two files nbgrader's ``submit`` writes and ``collect`` keeps
beside the notebook: ``timestamp.txt`` (when they submitted, in nbgrader's format: all
on 2026-12-01, in time for the README's due date of 2026-12-01 23:59 UTC, except
``sum_loss``, who submitted 1 day 9 h late) and ``submission_secret.txt`` (the key
``nbgrader release_feedback`` names the feedback by; fixed here, random in nbgrader).

Writes::

    examples/sample_class/submitted/<student>/tf_from_scratch/tf_from_scratch.ipynb
    examples/sample_class/submitted/<student>/tf_from_scratch/timestamp.txt
    examples/sample_class/submitted/<student>/tf_from_scratch/submission_secret.txt
    examples/sample_class/expected.json   # per student: the exercises expected to lose points
    examples/sample_class/roster.csv      # the class for --roster and Canvas (and one no-show)

Usage (from the repository root, in the kit's environment)::

    python examples/make_sample_class.py           # (re)write the notebooks and expected.json
    python examples/make_sample_class.py --check   # ... then grade each one in-process

``--check`` runs each notebook's setup and solution cells in a fresh namespace, grades
every exercise with ``autograder.grading.local.grade`` and fails unless ``full_marks`` earns
every point, ``untouched`` none, and each other student loses points on exactly the
exercises listed in expected.json. Regenerate after changing the release or the corpus.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys
from pathlib import Path

import nbformat

from autograder.authoring import corpus
from autograder.course import notebook_in, notebook_path
from autograder.exercises import TOTAL_POINTS

ROOT = Path(__file__).resolve().parents[1]
RELEASE = notebook_path(ROOT, "release")
SOLUTION = notebook_path(ROOT, "solutions")
OUT = ROOT / "examples" / "sample_class"

MISTAKES = {
    # student id: {exercise: mutant of tests/mutants/<exercise>/}
    "column_predict": {"predict": "column"},
    "sum_loss": {"loss": "sum"},
    "numpy_in_tape": {"grad": "numpy_in_tape"},
    "ascent_train": {"train": "ascent"},
    "init_weights": {"my_dense": "init_weights"},
    "logits_confusion": {"my_model": "sigmoid", "model_loss": "not_from_logits"},
    "unused_optimizer": {"train_with_optimizer": "unused_optimizer"},
    "float_and_batches": {"accuracy": "tensor", "train_minibatch": "drop_remainder"},
}


ON_TIME = "2026-12-01 {hour:02d}:{minute:02d}:00.000000 UTC"  # nbgrader's timestamp.txt format
LATE = {"sum_loss": "2026-12-03 09:12:00.000000 UTC"}
NO_SHOW = "no_show"  # on the roster, nothing submitted: recorded missing


def timestamp(student: str, index: int) -> str:
    """When ``student`` (the ``index``-th) submitted, as nbgrader's timestamp.txt says it."""
    return LATE.get(student) or ON_TIME.format(hour=9 + index, minute=7 * index % 60)


def roster(students) -> str:
    """The class as a Canvas-style roster: tfkit's id, then Canvas's identity columns."""
    lines = ["student_id,Student,ID,SIS User ID,SIS Login ID,Section"]
    for i, student in enumerate([*students, NO_SHOW], start=1):
        name = student.replace("_", " ").title()
        lines.append(f"{student},{name},{1000 + i},S{1000 + i},{student},Sample")
    return "\n".join(lines) + "\n"


def build() -> dict:
    """Every student's notebook by id, and what each is expected to lose."""
    release = nbformat.read(str(RELEASE), as_version=4)
    solution = nbformat.read(str(SOLUTION), as_version=4)
    exercises = list(corpus.solution_cells(release))
    full = corpus.solved(release, solution)
    students = {"full_marks": (full, []), "untouched": (release, exercises)}
    for student, mistakes in MISTAKES.items():
        notebook = full
        for exercise, name in mistakes.items():
            notebook = corpus.replace_solution(notebook, exercise,
                                               corpus.snippet("mutant", f"{exercise}/{name}", ROOT).body)
        students[student] = (notebook, [e for e in exercises if e in mistakes])
    return students


def write(students: dict, out: Path = OUT) -> None:
    for index, (student, (notebook, _)) in enumerate(students.items()):
        path = notebook_in(out / "submitted" / student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(path))
        (path.parent / "timestamp.txt").write_text(timestamp(student, index), encoding="utf-8")
        secret = hashlib.sha256(f"tfkit sample class {student}".encode()).hexdigest()[:32]
        (path.parent / "submission_secret.txt").write_text(secret, encoding="utf-8")
    expected = {student: losing for student, (_, losing) in students.items()}
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    (out / "roster.csv").write_text(roster(students), encoding="utf-8")


def grade_notebook(notebook) -> dict:
    """{exercise: (score, max_score)} of one notebook, graded in this process: its setup
    and solution cells run in a fresh namespace, then ``autograder.grading.local.grade`` (the
    course's reference in this process: these notebooks are the course's own)."""
    from autograder.course import cell_role, grade_id, is_solution
    from autograder.exercises import EXERCISES
    from autograder.grading import local
    from autograder.grading.reference import LocalReference, read_reference
    reference = LocalReference(read_reference())
    namespace = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in notebook.cells:
            if cell.cell_type == "code" and (cell_role(cell) == "setup" or is_solution(cell)):
                exec(compile(cell.source, f"<cell {grade_id(cell)}>", "exec"), namespace)  # noqa: S102
    scores = {}
    for name, exercise in EXERCISES.items():
        with contextlib.redirect_stdout(io.StringIO()):
            result = local.grade(name, namespace, reference)
        scores[name] = (result.score, exercise.points)
    return scores


def check(students: dict) -> list:
    """Grade every student; returns the problems found (empty when all is as expected)."""
    problems = []
    for student, (notebook, losing) in students.items():
        scores = grade_notebook(notebook)
        lost = [name for name, (score, points) in scores.items() if score < points]
        total = sum(score for score, _ in scores.values())
        print(f"{student:20s} {total:6.2f} / {TOTAL_POINTS:g}   loses: {', '.join(lost) or '-'}")
        if student == "full_marks" and total != TOTAL_POINTS:
            problems.append(f"full_marks earns {total}, not {TOTAL_POINTS:g}")
        if student == "untouched" and total != 0:
            problems.append(f"untouched earns {total}, not 0")
        if sorted(lost) != sorted(losing):
            problems.append(f"{student} loses points on {lost}, expected {losing}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="grade every notebook in-process afterwards")
    parser.add_argument("--out", type=Path, default=OUT, help="the sample class folder (default: %(default)s)")
    args = parser.parse_args(argv)
    students = build()
    write(students, args.out)
    print(f"wrote {len(students)} submissions to {args.out / 'submitted'}")
    if args.check:
        os.environ.setdefault("MPLBACKEND", "Agg")
        problems = check(students)
        for problem in problems:
            print("PROBLEM:", problem)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
