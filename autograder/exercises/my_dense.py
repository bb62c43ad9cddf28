"""Exercise 6: ``MyDense``, a custom Keras layer with ``build``/``call`` and ``add_weight``."""
from __future__ import annotations

from ..compare import equals, shape_is
from ..replies import count
from ..lazy import tf
from .exercise import Exercise
from .variants import expecting, fields, judging, probing, vary
from .layers import LAYER_FIELDS, affine, shape_of, with_weights
from .inputs import changed, layer_case

HINT_INIT = ("The layer has weights before it ever saw an input: create them in build(), "
             "where input_shape tells you the input size, not in __init__.")
HINT_BUILD = ("The layer works for one input size only: size the weights from build()'s "
              "input_shape[-1] instead of a fixed number.")
HINT_ACTIVATION = "The layer applies an activation; MyDense returns inputs @ W + b as it is."


def cases(rng):
    drawn = [layer_case(rng, n, d, k, f"MyDense({k}) on inputs of shape ({n}, {d})")
             for n, d, k in [(int(rng.integers(4, 9)), 2, 1), (int(rng.integers(6, 12)), 3, 1),
                             (int(rng.integers(3, 7)), int(rng.integers(4, 7)), int(rng.integers(2, 4)))]]
    drawn[1] = vary(rng, drawn[1], changed(rng, drawn[1], "inputs"))
    return drawn


def probe_one(namespace, case):
    layer = namespace["MyDense"](case["units"])
    before = len(layer.weights)
    X = tf.constant(case["inputs"])
    first = layer(X)
    return {"before": before, "first": first, "out": with_weights(layer, case, lambda: layer(X)),
            "W_shape": shape_of(getattr(layer, "W", None)),
            "b_shape": shape_of(getattr(layer, "b", None)),
            "trainable": len(layer.trainable_variables)}


def expect_one(reference, case):
    """inputs @ W + b with the grader's own weights (the layer is judged against it)."""
    return case["inputs"] @ case["W_set"] + case["b_set"]


def judge_one(case, answer, want):
    n = case["inputs"].shape[0]
    k, where = case["units"], case["label"]
    # The weights' shapes are judged by the affine observation: the grader's weights only
    # fit a layer whose W is (d, k) and b is (k,), and only then can the output be right.
    return [
        equals(f"no weights before the first call ({where})", answer["before"], 0, HINT_INIT),
        equals(f"two trainable variables ({where})", answer["trainable"], 2),
        shape_is(f"shape of the layer's output ({where})", answer["first"], (n, k)),
    ] + affine(f"output equals inputs @ W + b ({where})", case, answer, HINT_ACTIVATION)


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(
    name="my_dense", defines="MyDense",
    signature="class MyDense(tf.keras.layers.Layer): MyDense(num_outputs)", points=10,
    cases=cases, probe=probe, expect=expect, judge=judge,
    schema=fields(lambda case: {"before": count, **LAYER_FIELDS}), stand_in="dense_layer",
    error_hints=((r"Matrix size-incompatible|Incompatible shapes|Dimensions must be equal"
                  r"|In\[0\] mismatch In\[1\]", HINT_BUILD),))
