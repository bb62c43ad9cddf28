"""Grading trusted code in this process: the kit's own tests of its exercises and corpus.

The same cases, probes, stand-ins and judges as the sandboxed grader (``grade``), with
the course's reference run in this very process (``reference.LocalReference``). That
is fast, and exactly why it must never see a submission: use it for code the course
wrote itself (the reference, the mutants and alternatives of ``tests/``).
"""
from __future__ import annotations

from . import DEFAULT_SEED
from .exercises import EXERCISES, cases_for
from .harness import run_exercise, stand_ins
from .judge import ExerciseResult, judge


def grade(name: str, namespace: dict, reference, seed: int = DEFAULT_SEED) -> ExerciseResult:
    """Grade exercise ``name`` as defined in ``namespace`` against ``reference``."""
    exercise = EXERCISES[name]
    cases = cases_for(exercise, seed)

    def call(used: str, args, cotangent=None):
        if used not in exercise.uses:
            raise LookupError(f"{used} is not available while {name} is graded")
        return reference.call(used, args, cotangent)
    outcomes = run_exercise(exercise, namespace, cases, stand_ins(exercise, call))
    return judge(name, cases, outcomes, expected=lambda case: reference.expected(name, case))
