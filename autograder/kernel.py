"""The graded checks inside a Jupyter kernel: what nbgrader's hidden tests call.

``grade("loss", globals())`` probes the student's definitions with the same inputs,
probes and checks as ``tfgrade`` (same default seed), prints the feedback and hands
nbgrader the score: no output for full marks, the points earned as the cell's value
for partial credit (nbgrader's convention), and an ``AssertionError`` for zero.
There is no sandbox here: nbgrader runs student code and tests in one kernel.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings

from . import DEFAULT_SEED, reference
from .exercises import EXERCISES, cases_for
from .harness import run_exercise
from .judge import judge


def grade(name: str, namespace: dict, seed: int | None = None):
    """Grade exercise ``name`` against the definitions in ``namespace``."""
    exercise = EXERCISES[name]
    seed = int(os.environ.get("TFKIT_SEED", DEFAULT_SEED)) if seed is None else seed
    cases = cases_for(exercise, seed)
    definitions = {n: getattr(reference, n) for n in exercise.uses}
    # Whatever student code writes to stderr would zero this cell in nbgrader: keep it on stdout.
    with warnings.catch_warnings(), contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("ignore")
        outcomes = run_exercise(exercise, namespace, cases, definitions)
        result = judge(name, cases, outcomes)
    print(result.feedback)
    if result.score <= 0:
        raise AssertionError(f"{name}: 0 / {result.max_score:g} (see the feedback above)")
    if result.score < result.max_score:
        return result.score
    return None
