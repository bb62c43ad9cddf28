"""tfkit's autograder for the "TensorFlow from scratch" assignment.

Sub-packages by role (docs/modules.md names every module): ``exercises`` (the registry, one
module per exercise), ``boundary`` (plain data between grader and sandbox), ``checking``
(compare, judge), ``sandbox``, ``grading``, ``results`` (result files, feedback, exports,
pages), ``integrations`` (nbgrader, pytest, Gradescope), ``authoring`` (build, self-tests,
visible checks, demo) and ``cli`` (``tfgrade``).

This package file stays import-free on purpose: the sandbox preloads parts of the
package and must not pull in ``grading.reference``.
"""

ASSIGNMENT = "tf_from_scratch"

DEFAULT_SEED = 20211
"""The seed used when none is given; the nbgrader hidden tests use it too, so both
graders see the same inputs."""

GRADER_ERROR = "grader error"
"""A result's status when the grader failed, not the submission (the sandbox or the
reference could not start, the grader raised): never a grade, so no total is shown or
exported for it, nothing is charged to the student, and the next run grades them again."""
