"""Sandboxed grading inside nbgrader's own autograde pipeline.

nbgrader's ``Autograde`` converter first restores the instructor's locked and test
cells from the gradebook (its ``sanitize_preprocessors``), then runs its
``autograde_preprocessors``, the first of which, ``Execute``, runs the student's code
and the hidden tests in one kernel: a cell that replaces the grading function there
passes every test. The course's ``nbgrader_config.py`` puts :class:`SandboxedGrading`
in ``Execute``'s place. It grades the notebook in tfgrade's sandbox and gives each test
cell the outputs nbgrader reads a score from (nbgrader's own rules, ``determine_grade``):

- full marks: the feedback as printed output;
- partial credit: the feedback, then the points earned as the cell's value;
- nothing: the feedback, then an ``AssertionError``.

Everything after it is nbgrader's own: ``SaveAutoGrades`` writes the gradebook,
formgrader shows the cells (and keeps manual overrides), ``generate_feedback`` renders
them with hidden tests stripped, ``export`` lists the totals. So ``nbgrader autograde``
is sandboxed too; ``tfgrade autograde`` (``autograde.py``) adds parallel grading by
filling :data:`PREGRADED` before nbgrader's pipeline runs.

The inputs come from the case seed of the notebook as nbgrader hands it over (its
locked cells restored), derived from the configured seed and the cells that run
(``grade.derive_case_seed``), as ``tfgrade grade`` derives it: the same code gets the
same inputs, and the same scores, by either route. nbgrader's gradebook has no field
for it, so the log line of each student names it.
"""
from __future__ import annotations

import hashlib
import json
import threading

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from autograder import DEFAULT_SEED, GRADER_ERROR
from autograder.course import cell_role, grade_id
from autograder.grading.grade import grade_notebook, runnable_cells

# Results graded ahead of nbgrader's pipeline, keyed by what decides a grade (the cells
# that run, the seed and the limits): a notebook changed in between is graded afresh.
PREGRADED: dict = {}
_pregraded_lock = threading.Lock()


def grading_key(notebook, seed: int, limits) -> str:
    text = json.dumps([runnable_cells(notebook), seed, repr(limits)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def remember(notebook, seed: int, limits, result) -> None:
    with _pregraded_lock:
        PREGRADED[grading_key(notebook, seed, limits)] = result


def _stream(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def test_cell_outputs(exercise_result, reason: str = "") -> list:
    """What a test cell shows for one exercise's result, in nbgrader's scoring terms."""
    if exercise_result is None:
        why = reason or "the notebook could not be graded"
        return [_stream(f"not graded: {why}"),
                nbformat.v4.new_output("error", ename="AssertionError", evalue=why, traceback=[])]
    outputs = [_stream(exercise_result.feedback)]
    score, points = exercise_result.score, exercise_result.max_score
    if score <= 0:
        outputs.append(nbformat.v4.new_output(
            "error", ename="AssertionError", traceback=[],
            evalue=f"{exercise_result.name}: 0 / {points:g} (see the feedback above)"))
    elif score < points:
        outputs.append(nbformat.v4.new_output(
            "execute_result", data={"text/plain": repr(float(score))}, execution_count=None))
    return outputs


class SandboxedGrading(NbGraderPreprocessor):
    """Grade the notebook in the sandbox instead of executing it in a kernel."""

    seed = Integer(DEFAULT_SEED, help="Seed of the graded inputs (tfgrade's --seed).").tag(config=True)
    time_scale = Float(1.0, help="Multiplies every exercise's time limit.").tag(config=True)
    cell_seconds = Float(15.0, help="Time limit of each top-level cell.").tag(config=True)

    def limits(self):
        from autograder.sandbox.settings import Limits
        return Limits(time_scale=self.time_scale, cell_seconds=self.cell_seconds)

    def preprocess(self, nb, resources):
        student = resources.get("nbgrader", {}).get("student", "student")
        limits = self.limits()
        with _pregraded_lock:
            result = PREGRADED.pop(grading_key(nb, self.seed, limits), None)
        when = "graded ahead, in parallel" if result is not None else "graded now"
        if result is None:
            result = grade_notebook(nb, student, self.seed, limits)
        self.log.info("%s: %s / %s, %s in the sandbox (%s; case seed %s)", student, result.score,
                      result.max_score, result.status, when, result.case_seed)
        if result.status == GRADER_ERROR:
            # not the student's fault: nbgrader records nothing for them and reports the
            # failure, so no zero reaches the gradebook; the next autograde grades them again
            raise RuntimeError(f"{student}: {result.reason}")
        first_test = True
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs, cell.execution_count = [], None
            if cell_role(cell) != "test":
                continue
            name = grade_id(cell).removeprefix("test_")
            cell.outputs = test_cell_outputs(result.exercises.get(name), result.reason)
            if first_test and result.status != "graded":
                cell.outputs.insert(0, _stream(f"Note: {result.status}: {result.reason}"))
            first_test = False
        resources.setdefault("tfkit", {})["result"] = result
        return nb, resources
