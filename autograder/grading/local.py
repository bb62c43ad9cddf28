"""Grading trusted code in this process: the kit's own tests of its exercises and corpus.

The same cases, probes, stand-ins, answers to the stand-ins and judges as the sandboxed
grader (``grade``), with the course's reference run in this very process
(``reference.LocalReference``). That is fast, and exactly why it must never see a
submission: use it for code the course wrote itself (the reference, the mutants and
alternatives of ``tests/``).
"""
from __future__ import annotations

import numpy as np

from autograder import DEFAULT_SEED
from autograder.checking.judge import ExerciseResult, judge
from autograder.exercises import EXERCISES, cases_for
from autograder.grading.grade import answerer
from autograder.sandbox.harness import ReferenceRefused, run_exercise, stand_ins


def grade(name: str, namespace: dict, reference, seed: int = DEFAULT_SEED) -> ExerciseResult:
    """Grade exercise ``name`` as defined in ``namespace`` against ``reference``. Its
    stand-ins are answered as the sandbox's are (``grade.answerer``): the same calls
    allowed, the same caps, the same refusals (``harness.ReferenceRefused``)."""
    exercise = EXERCISES[name]
    cases = cases_for(exercise, seed)
    answer = answerer(reference, exercise)

    def call(used: str, args, cotangent=None):
        # As arrays, as the channel carries them (a scalar's .numpy() is a NumPy scalar).
        reply = answer({"op": "call", "name": used, "args": [np.asarray(a) for a in args],
                        "cotangent": None if cotangent is None else np.asarray(cotangent)})
        if "error" in reply:
            raise ReferenceRefused(reply["error"])
        return reply["value"]
    outcomes = run_exercise(exercise, namespace, cases, stand_ins(exercise, call))
    return judge(name, cases, outcomes, expected=lambda case: reference.expected(name, case))
