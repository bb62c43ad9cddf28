"""Probing and judging a layer with weights the grader chooses (``my_dense`` and
``my_model``): the probe assigns the case's weights to ``W`` and ``b``, calls again,
and the judge compares with ``inputs @ W + b`` computed here, not with a value the
probe reports about itself."""
from __future__ import annotations

from ..compare import Check, Mistake, values_close
from ..replies import answer, count, shape
from .hints import HINT_NO_ATTRS, HINT_NO_BIAS, HINT_WEIGHT_SHAPES
from .inputs import sigmoid


# What the probes of both exercises report about the layer (``Exercise.schema``).
LAYER_FIELDS = {"first": answer, "out": answer, "W_shape": shape, "b_shape": shape, "trainable": count}


def shape_of(variable):
    return None if variable is None else [int(x) for x in variable.shape]


def with_weights(layer, case, call):
    """Assign the grader's weights to layer.W and layer.b (when they have the contract's
    shapes), then call again. Returns the second output, or None."""
    W, b = getattr(layer, "W", None), getattr(layer, "b", None)
    if shape_of(W) != list(case["W_set"].shape) or shape_of(b) != list(case["b_set"].shape):
        return None
    W.assign(case["W_set"])
    b.assign(case["b_set"])
    return call()


def affine(label, case, answer, activation_hint, unset_hint=None):
    """With the grader's weights in place, the output equals inputs @ W + b.
    ``unset_hint`` replaces the hint given when the weights could not be set."""
    X, W, b = case["inputs"], case["W_set"], case["b_set"]
    want = X @ W + b
    if answer["out"] is None:
        return [Check(label, False, f"could not set the weights: expected attributes W of shape "
                      f"{W.shape} and b of shape {b.shape}, found W {answer['W_shape']} and b "
                      f"{answer['b_shape']}",
                      unset_hint if unset_hint is not None
                      else HINT_NO_ATTRS if None in (answer["W_shape"], answer["b_shape"])
                      else HINT_WEIGHT_SHAPES, 3)]
    return [values_close(label, answer["out"], want, rtol=1e-4, atol=1e-5, weight=3,
                         mistakes=[Mistake(HINT_NO_BIAS, X @ W),
                                   Mistake(activation_hint, sigmoid(want))])]
