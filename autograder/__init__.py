"""tfkit's autograder for the "TensorFlow from scratch" assignment.

Modules, from the contract outwards:

- ``exercises``: the contract of every exercise (name, signature, points, inputs,
  probe, checks, hints), declared once and used everywhere else.
- ``reference``: the instructor's implementations the checks compare with.
- ``compare``: the small vocabulary of tensor-aware checks whose messages students read.
- ``harness``: what runs next to student code (executes cells, runs probes).
- ``sandbox``: the isolated process student code runs in, and its limits.
- ``grade``: grading one submission; ``batch``: grading a class.
- ``kernel``: the same checks inside a Jupyter kernel (nbgrader's hidden tests).
- ``report``: result.json, grades.csv, feedback and Gradescope output.
- ``cli``: the ``tfgrade`` command.

This package file stays import-free on purpose: the sandbox preloads parts of the
package and must not pull in ``reference``.
"""

ASSIGNMENT = "tf_from_scratch"

DEFAULT_SEED = 20211
"""The seed used when none is given; the nbgrader hidden tests use it too, so both
graders see the same inputs."""

GRADER_ERROR = "grader error"
"""A result's status when the grader failed, not the submission (the sandbox or the
reference could not start, the grader raised): never a grade, so no total is shown or
exported for it, nothing is charged to the student, and the next run grades them again."""
