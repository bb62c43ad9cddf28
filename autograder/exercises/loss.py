"""Exercise 2: ``loss(W, b, inputs, targets)``, the mean binary cross-entropy."""
from __future__ import annotations

import numpy as np

from ..compare import Mistake, within
from ..replies import answer
from .exercise import Exercise
from .hints import HINT_PER_EXAMPLE, HINT_SUM
from .inputs import blob_case, tensors
from .observations import single_number

HINT_SIGN = "The value has the wrong sign: cross-entropy is minus the log-probability."
HINT_SWAPPED = ("The value matches cross-entropy with the two classes swapped: check which "
                "probability belongs to a target of 1 and which to a target of 0.")


def cases(rng):
    return [blob_case(rng, n, d) for n, d in [(40, 2), (100, 3), (25, 5)]]


def probe(namespace, case):
    return {"out": namespace["loss"](*tensors(case, "W", "b", "inputs", "targets"))}


def expect(reference, case):
    """The band of correct values, and the reference's probabilities (for the mistakes).

    The band: every loss written with an epsilon of at most 1e-3 inside the log (the
    tutorial's 1e-4, Keras' 1e-7 clip, or none) lies between the cross-entropy with
    1e-3 added (low) and the exact one (high), both in float64 from the reference's
    probabilities."""
    p = reference.predict(*tensors(case, "W", "b", "inputs")).numpy().astype(np.float64).reshape(-1)
    label_probs = p * case["targets"] + (1 - p) * (1 - case["targets"])
    high = float(np.mean(-np.log(np.maximum(label_probs, 1e-300))))
    low = float(np.mean(-np.log(label_probs + 1e-3)))
    return {"low": low, "high": high, "p": p}


def per_example(case, p):
    t = case["targets"].astype(np.float64)
    return -np.log(p * t + (1 - p) * (1 - t) + 1e-4)


def judge(case, answer, want):
    low, high, p = want["low"], want["high"], want["p"]
    tol = 1e-6 + 1e-4 * abs(high)
    each = per_example(case, p)
    mistakes = [Mistake(HINT_PER_EXAMPLE, each), Mistake(HINT_SUM, each.sum()),
                Mistake(HINT_SIGN, -each.mean()),
                Mistake(HINT_SWAPPED, per_example(case, 1 - p).mean())]
    got = answer["out"]
    return [single_number(f"loss returns a single number for {case['label']}", got,
                          HINT_PER_EXAMPLE if np.size(got) == len(p) else ""),
            within(f"value of loss(W, b, inputs, targets) for {case['label']}", got,
                   low - tol, high + tol, mistakes=mistakes, weight=2)]


EXERCISE = Exercise(name="loss", defines="loss", signature="loss(W, b, inputs, targets)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"out": answer}, uses=("predict",),
                    stand_in="tensor")
