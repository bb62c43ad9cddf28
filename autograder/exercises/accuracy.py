"""Exercise 3: ``accuracy(W, b, inputs, targets)``, the fraction of correct labels."""
from __future__ import annotations

from ..compare import Check, Mistake, describe, values_close
from ..replies import answer
from .exercise import Exercise
from .inputs import blob_case, tensors

HINT_FLOAT = "Return a Python float (for example with float(...)), not a tensor or array."
HINT_COUNT = "You returned the number of correct labels; accuracy is the fraction of them."
HINT_INVERTED = "This is the fraction of wrong labels: the threshold comparison is inverted."


def cases(rng):
    return [blob_case(rng, n, d, w_scale=1.2) for n, d in [(50, 2), (120, 3), (31, 5)]]


def probe(namespace, case):
    return {"out": namespace["accuracy"](*tensors(case, "W", "b", "inputs", "targets"))}


def expect(reference, case):
    return float(reference.accuracy(*tensors(case, "W", "b", "inputs", "targets")))


def judge(case, answer, want):
    n = case["inputs"].shape[0]
    mistakes = [Mistake(HINT_COUNT, want * n, atol=1e-6), Mistake(HINT_INVERTED, 1 - want, atol=1e-6)]
    got = answer["out"]
    is_float = isinstance(got, float)
    return [Check(f"accuracy returns a Python float for {case['label']}", is_float,
                  "" if is_float else f"expected a Python float, got {describe(got)}",
                  "" if is_float else HINT_FLOAT),
            values_close(f"value of accuracy(W, b, inputs, targets) for {case['label']}",
                         got, want, rtol=0, atol=1e-6, mistakes=mistakes, weight=2)]


EXERCISE = Exercise(name="accuracy", defines="accuracy", signature="accuracy(W, b, inputs, targets)",
                    points=6, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"out": answer}, uses=("predict",))
