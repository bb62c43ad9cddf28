"""Exercise 2: ``loss(W, b, inputs, targets)``, the mean binary cross-entropy."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import answer
from autograder.checking.compare import Mistake, backed, within
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.hints import HINT_PER_EXAMPLE, HINT_SUM
from autograder.exercises.support.inputs import blob_cases, tensors
from autograder.exercises.support.observations import single_number
from autograder.exercises.support.variants import expecting, fields, idea, judging, probing

HINT_SIGN = "The value has the wrong sign: cross-entropy is minus the log-probability."
HINT_SWAPPED = ("The value matches cross-entropy with the two classes swapped: check which "
                "probability belongs to a target of 1 and which to a target of 0.")
HINT_PAIRWISE = ("The probabilities have shape (n, 1) and the targets (n,): combined, they "
                  "broadcast to an (n, n) matrix. Use predict, or flatten the column to shape (n,).")
HINT_NOT_CROSS_ENTROPY = idea("The value is not a cross-entropy of these predictions: check that you "
                          "take the log of the probability of the correct label, p for a target of 1 "
                          "and 1 - p for a target of 0, and average minus that log over the examples.")


def cases(rng):
    return blob_cases(rng, [(30, 60), (80, 130), (15, 30)])


def probe_one(namespace, case):
    return {"out": namespace["loss"](*tensors(case, "W", "b", "inputs", "targets"))}


def expect_one(reference, case):
    """The band of correct values (``bands.loss_band``, from the reference's logits of
    the same linear model), and the reference's probabilities (for the mistakes)."""
    p = reference.predict(*tensors(case, "W", "b", "inputs")).numpy().astype(np.float64).reshape(-1)
    low, high = bands.loss_band(bands.logits(case["W"], case["b"], case["inputs"]), case["targets"])
    return {"low": low, "high": high, "p": p}


def per_example(case, p):
    t = case["targets"].astype(np.float64)
    return -np.log(p * t + (1 - p) * (1 - t) + 1e-4)


def judge_one(case, answer, want):
    low, high, p = want["low"], want["high"], want["p"]
    tol = 1e-6 + 1e-4 * abs(high)
    each = per_example(case, p)
    mistakes = [Mistake(HINT_PER_EXAMPLE, each), Mistake(HINT_SUM, each.sum()),
                Mistake(HINT_SIGN, -each.mean()),
                Mistake(HINT_SWAPPED, per_example(case, 1 - p).mean()),
                Mistake(HINT_PAIRWISE, per_example(case, p[:, None]).mean())]
    got = answer["out"]
    value = within(f"value of loss(W, b, inputs, targets) for {case['label']}", got,
                   low - tol, high + tol, mistakes=mistakes, weight=2, otherwise=HINT_NOT_CROSS_ENTROPY)
    return [backed(single_number(f"loss returns a single number for {case['label']}", got,
                                 HINT_PER_EXAMPLE if np.size(got) == len(p) else ""), value),
            value]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want["high"])])


EXERCISE = Exercise(name="loss", defines="loss", signature="loss(W, b, inputs, targets)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"out": answer}), uses=("predict",),
                    stand_in="tensor")
