"""Exercise 7: ``MyModel``, a ``tf.keras.Model`` holding one ``MyDense(1)``."""
from __future__ import annotations

import numpy as np

from ..compare import equals, shape_is
from ..replies import flag
from ..lazy import tf
from .exercise import Exercise
from .variants import expecting, fields, judging, probing, vary
from .inputs import changed, layer_case
from .layers import LAYER_FIELDS, affine, shape_of, with_weights

HINT_DENSE_ATTR = "Create the layer in __init__ as self.dense = MyDense(1)."
HINT_FLAT = "Return the layer's output (n, 1) as it is: do not reshape or squeeze it."
HINT_PROBS = ("The model returns probabilities (sigmoid applied); it should return logits, and "
              "the loss is told so with from_logits=True.")


def cases(rng):
    drawn = [layer_case(rng, n, 2, 1, f"inputs of shape ({n}, 2)")
             for n in (int(rng.integers(4, 10)), int(rng.integers(15, 30)))]
    drawn[0] = vary(rng, drawn[0], changed(rng, drawn[0], "inputs"))
    return drawn


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
            "trainable": len(model.trainable_variables)}


def expect_one(reference, case):
    """inputs @ W + b with the grader's own weights (the layer is judged against it)."""
    return case["inputs"] @ case["W_set"] + case["b_set"]


def judge_one(case, answer, want):
    n, where = case["inputs"].shape[0], case["label"]
    return [
        equals(f"model.dense is a MyDense ({where})", answer["is_mydense"], True, HINT_DENSE_ATTR),
        equals(f"two trainable variables ({where})", answer["trainable"], 2),
        shape_is(f"shape of the model's output ({where})", answer["first"], (n, 1),
                 HINT_FLAT if np.size(answer["first"]) == n else ""),
    ] + affine(f"the model returns logits inputs @ W + b ({where})", case, answer, HINT_PROBS,
               unset_hint=None if answer["is_mydense"] else HINT_DENSE_ATTR)


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(name="my_model", defines="MyModel",
                    signature="class MyModel(tf.keras.Model): MyModel()", points=8,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"is_mydense": flag, **LAYER_FIELDS}), uses=("my_dense",))
