"""Exercise 7: ``MyModel``, a ``tf.keras.Model`` holding one ``MyDense(1)``."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import flag
from autograder.checking.compare import Check, backed, shape_is
from autograder.exercises.exercise import Exercise
from autograder.exercises.support.inputs import changed, layer_case
from autograder.exercises.support.layers import (LAYER_FIELDS, affine, alternative_weights, follows,
                                                 shape_of, through_trainable, trainable,
                                                 with_weights)
from autograder.exercises.support.lazy import tf
from autograder.exercises.support.variants import expecting, fields, judging, probing, vary

HINT_DENSE_ATTR = ("model.dense is not a MyDense layer: the model creates its one layer, with a "
                   "single output, in __init__, and keeps it in the attribute the contract names.")
HINT_FLAT = "Return the layer's output (n, 1) as it is: do not reshape or squeeze it."
HINT_DENSE_UNCALLED = ("model.dense is a MyDense, but it never created its weights: call() does not "
                       "use it. Return the output of self.dense on the inputs.")
HINT_PROBS = ("The model returns probabilities (sigmoid applied); it should return logits, and "
              "the loss is told so with from_logits=True.")


def cases(rng):
    drawn = [layer_case(rng, n, 2, 1, f"inputs of shape ({n}, 2)")
             for n in (int(rng.integers(4, 10)), int(rng.integers(15, 30)))]
    drawn[0] = vary(rng, drawn[0], changed(rng, drawn[0], "inputs"))
    return [alternative_weights(rng, case) for case in drawn]


def probe_one(namespace, case):
    model = namespace["MyModel"]()
    X = tf.constant(case["inputs"])
    first = model(X)
    dense = getattr(model, "dense", None)
    is_mydense = isinstance(dense, namespace["MyDense"])
    return {"first": first, "is_mydense": is_mydense,
            "out": with_weights(dense, case, lambda: model(X)) if is_mydense else None,
            "W_shape": shape_of(getattr(dense, "W", None)),
            "b_shape": shape_of(getattr(dense, "b", None)),
            "trainable": len(model.trainable_variables),
            "out_alt": through_trainable(model, case, lambda: model(X))}


def expect_one(reference, case):
    """inputs @ W + b with the grader's own weights (the layer is judged against it)."""
    return case["inputs"] @ case["W_set"] + case["b_set"]


def holds_mydense(label, case, answer) -> Check:
    """model.dense is a MyDense. The flag the probe reports earns its point only with the
    value behind it: with the grader's weights set through model.dense.W and .b, the
    model's output follows them (``layers.follows``: inputs @ W + b, or a mistake that
    the output's own check names)."""
    if not answer["is_mydense"]:
        return Check(label, False, "model.dense is missing or not a MyDense", HINT_DENSE_ATTR)
    if follows(answer["out"], case["inputs"], case["W_set"], case["b_set"]):
        return Check(label, True)
    return Check(label, False, "with the grader's weights set through model.dense.W and model.dense.b, "
                 "the model's output did not follow them")


def judge_one(case, answer, want):
    n, where = case["inputs"].shape[0], case["label"]
    unbuilt = answer["is_mydense"] and answer["W_shape"] is None and answer["b_shape"] is None
    output = affine(f"the model returns logits inputs @ W + b ({where})", case, answer, HINT_PROBS,
                    unset_hint=HINT_DENSE_UNCALLED if unbuilt else None if answer["is_mydense"]
                    else HINT_DENSE_ATTR)
    return [
        holds_mydense(f"model.dense is a MyDense ({where})", case, answer),
        trainable(f"two trainable variables ({where})", case, answer),
        backed(shape_is(f"shape of the model's output ({where})", answer["first"], (n, 1),
                        HINT_FLAT if np.size(answer["first"]) == n else ""), *output),
    ] + output


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(name="my_model", defines="MyModel",
                    signature="class MyModel(tf.keras.Model): MyModel()", points=8,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"is_mydense": flag, **LAYER_FIELDS}), uses=("my_dense",))
