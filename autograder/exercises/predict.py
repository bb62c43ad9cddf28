"""Exercise 1: ``predict(W, b, inputs)``, the probability of label 1 for a linear model."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import answer
from autograder.checking.compare import Mistake, backed, shape_is, values_close
from autograder.exercises.exercise import Exercise
from autograder.exercises.support.hints import HINT_NO_BIAS
from autograder.exercises.support.inputs import blob_case, changed, sigmoid, sizes, tensors
from autograder.exercises.support.variants import expecting, fields, idea, judging, probing, vary

HINT_COLUMN = ("You returned a column of shape (n, 1); the contract asks for a flat vector of "
               "shape (n,). Reshape the result (think about what shape [-1] means).")
HINT_LOGITS = ("These are the raw scores inputs @ W + b (logits), not probabilities: they still "
               "need to be squashed into (0, 1).")
HINT_CLASS0 = "These are the probabilities of class 0; predict the probability of class 1."
HINT_NOT_SIGMOID = idea("The values are not sigmoid(inputs @ W + b): compute each example's logit as the "
             "matrix product of its row with W plus b, then squash it with the sigmoid.")


def cases(rng):
    # Sizes come from the seed; the first case is also called with another W, b and
    # inputs of the same shape, in an order drawn from the seed (``variants``).
    drawn = [blob_case(rng, *sizes(rng, low, high), w_scale=1.0) for low, high in [(5, 12), (40, 80), (20, 40)]]
    drawn[0] = vary(rng, drawn[0], changed(rng, drawn[0], "W", "b", "inputs"))
    return drawn


def probe_one(namespace, case):
    return {"out": namespace["predict"](*tensors(case, "W", "b", "inputs"))}


def expect_one(reference, case):
    return reference.predict(*tensors(case, "W", "b", "inputs")).numpy()


def judge_one(case, answer, want):
    W, b, X = case["W"], case["b"], case["inputs"]
    n = X.shape[0]
    got = answer["out"]
    mistakes = [Mistake(HINT_LOGITS, X @ W + b), Mistake(HINT_NO_BIAS, sigmoid(X @ W)),
                Mistake(HINT_CLASS0, 1 - want)]
    value = values_close(f"values of predict(W, b, inputs) for {case['label']}", got, want,
                         rtol=1e-4, atol=1e-6, mistakes=mistakes, weight=2, otherwise=HINT_NOT_SIGMOID)
    return [backed(shape_is(f"shape of predict(W, b, inputs) for {case['label']}", got, (n,),
                            HINT_COLUMN if np.shape(got) == (n, 1) else ""), value),
            value]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(name="predict", defines="predict", signature="predict(W, b, inputs)", points=8,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"out": answer}), stand_in="tensor")
