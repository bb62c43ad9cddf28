"""Probing and judging a layer with weights the grader chooses (``my_dense`` and
``my_model``): the probe assigns the case's weights to ``W`` and ``b``, calls again,
and the judge compares with ``inputs @ W + b`` computed here, not with a value the
probe reports about itself.

Facts about the layer that the probe merely reports (how many trainable variables it
has) are backed the same way: the probe also assigns other weights of the grader's
through the trainable variables themselves, and the count earns its point only when
the output then follows those weights (:func:`trainable`). A forged count cannot make
that value right. "Follows" (:func:`follows`) accepts the known mistakes of the output
too (no bias, an activation): they are judged, once, by the output's own check, and
still show that the output is computed from the weights the grader set."""
from __future__ import annotations

from autograder.boundary.replies import answer, count, shape
from autograder.checking.compare import Check, Mistake, close, values_close
from autograder.exercises.support.hints import HINT_NO_ATTRS, HINT_NO_BIAS, HINT_WEIGHT_SHAPES
from autograder.exercises.support.inputs import f32, sigmoid


# What the probes of both exercises report about the layer (``Exercise.schema``).
LAYER_FIELDS = {"first": answer, "out": answer, "W_shape": shape, "b_shape": shape, "trainable": count,
                "out_alt": answer}


def shape_of(variable):
    return None if variable is None else [int(x) for x in variable.shape]


def alternative_weights(rng, case: dict) -> dict:
    """Other weights of the same shapes, set through the trainable variables
    (:func:`through_trainable`). Drawn after every other value of the cases, so that
    those stay as they were."""
    return {**case, "W_alt": f32(rng.normal(0, 1, case["W_set"].shape)),
            "b_alt": f32(rng.normal(0, 1, case["b_set"].shape))}


def with_weights(layer, case, call):
    """Assign the grader's weights to layer.W and layer.b (when they have the contract's
    shapes), then call again. Returns the second output, or None."""
    W, b = getattr(layer, "W", None), getattr(layer, "b", None)
    if shape_of(W) != list(case["W_set"].shape) or shape_of(b) != list(case["b_set"].shape):
        return None
    W.assign(case["W_set"])
    b.assign(case["b_set"])
    return call()


def through_trainable(owner, case, call, W="W_alt", b="b_alt"):
    """Assign the grader's weights ``case[W]``, ``case[b]`` through
    ``owner.trainable_variables`` when those are exactly two variables with the shapes
    of W and b (a kernel and a bias: the ranks differ), then call again. Returns the
    output, or None. Only a layer whose two trainable variables are the weights its
    output uses returns ``inputs @ W + b`` here."""
    found = list(owner.trainable_variables)
    by_shape = {tuple(shape_of(v)): v for v in found}
    wanted = {tuple(case[W].shape): case[W], tuple(case[b].shape): case[b]}
    if len(found) != 2 or set(by_shape) != set(wanted):
        return None
    for key, value in wanted.items():
        by_shape[key].assign(value)
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


def follows(got, X, W, b) -> bool:
    """``got`` is ``X @ W + b``, or one of the known mistakes of it that :func:`affine`
    names (no bias, an activation): an output computed from the weights W and b."""
    want = X @ W + b
    return got is not None and any(close(got, value, rtol=1e-4, atol=1e-5)
                                   for value in (want, X @ W, sigmoid(want)))


def alt_output_right(case, answer) -> bool:
    """The output after the grader's other weights went in through the trainable
    variables follows them."""
    return follows(answer["out_alt"], case["inputs"], case["W_alt"], case["b_alt"])


def trainable(label, case, answer) -> Check:
    """Two trainable variables, and they are the weights the output uses: the count the
    probe reports earns its point only with the value behind it (:func:`through_trainable`).
    No hint of its own: a wrong value here is explained by the output's check, a wrong
    count by its detail."""
    counted = answer["trainable"]
    if counted != 2:
        return Check(label, False, f"expected 2 trainable variables (W and b), found {counted}")
    if alt_output_right(case, answer):
        return Check(label, True)
    return Check(label, False, "with other weights of the grader's assigned through trainable_variables, "
                 "the output did not follow them" if answer["out_alt"] is not None else
                 "the grader's weights could not be assigned through trainable_variables: expected a "
                 f"kernel of shape {case['W_alt'].shape} and a bias of shape {case['b_alt'].shape}")
