"""Exercise 3: ``accuracy(W, b, inputs, targets)``, the fraction of correct labels."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import answer
from autograder.checking.compare import Check, Mistake, backed, describe, values_close
from autograder.exercises.exercise import Exercise
from autograder.exercises.support.inputs import blob_cases, sigmoid, tensors
from autograder.exercises.support.variants import expecting, fields, idea, judging, probing

HINT_FLOAT = "Return a Python float (for example with float(...)), not a tensor or array."
HINT_COUNT = "You returned the number of correct labels; accuracy is the fraction of them."
HINT_INVERTED = "This is the fraction of wrong labels: the threshold comparison is inverted."
HINT_NO_THRESHOLD = ("You compared the probabilities themselves with the targets: a probability "
                     "is never exactly 0 or 1, so first turn it into a label (above 0.5 means 1).")
HINT_ONE_LABEL = ("Every example got the same label. Casting a probability to an integer "
                  "truncates it to 0: compare it with 0.5 instead (above 0.5 means label 1).")
HINT_NOT_ACCURACY = idea("The value is not the fraction of correct labels: label an example 1 when "
                         "its predicted probability is above 0.5, compare with its target, and "
                         "average over the examples.")


def cases(rng):
    return blob_cases(rng, [(40, 70), (100, 140), (25, 40)], w_scale=1.2)


def probe_one(namespace, case):
    return {"out": namespace["accuracy"](*tensors(case, "W", "b", "inputs", "targets"))}


def expect_one(reference, case):
    return float(reference.accuracy(*tensors(case, "W", "b", "inputs", "targets")))


def judge_one(case, answer, want):
    n = case["inputs"].shape[0]
    probabilities = sigmoid(case["inputs"] @ case["W"] + case["b"]).reshape(-1)
    unthresholded = float(np.mean(probabilities == case["targets"].reshape(-1)))
    mistakes = [Mistake(HINT_COUNT, want * n, atol=1e-6), Mistake(HINT_NO_THRESHOLD, unthresholded, atol=1e-6)]
    share_of_ones = float(np.mean(case["targets"]))
    guesses = [(HINT_INVERTED, 1 - want), (HINT_ONE_LABEL, 1 - share_of_ones), (HINT_ONE_LABEL, share_of_ones)]
    # A value two mistakes share cannot tell them apart on this case: the other cases name it.
    mistakes += [Mistake(hint, value, atol=1e-6) for hint, value in guesses
                 if not any(other != hint and abs(value - v) <= 1e-6 for other, v in guesses)]
    got = answer["out"]
    is_float = isinstance(got, float)
    value = values_close(f"value of accuracy(W, b, inputs, targets) for {case['label']}",
                         got, want, rtol=0, atol=1e-6, mistakes=mistakes, weight=2,
                         otherwise=HINT_NOT_ACCURACY)
    return [backed(Check(f"accuracy returns a Python float for {case['label']}", is_float,
                         "" if is_float else f"expected a Python float, got {describe(got)}",
                         "" if is_float else HINT_FLOAT), value),
            value]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(name="accuracy", defines="accuracy", signature="accuracy(W, b, inputs, targets)",
                    points=6, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"out": answer}), uses=("predict",))
