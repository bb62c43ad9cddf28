"""Exercise 6: ``MyDense``, a custom Keras layer with ``build``/``call`` and ``add_weight``."""
from __future__ import annotations

from autograder.boundary.replies import answer, count
from autograder.checking.compare import Check, backed, shape_is
from autograder.exercises.exercise import Exercise
from autograder.exercises.support.inputs import changed, f32, layer_case
from autograder.exercises.support.layers import (LAYER_FIELDS, affine, alt_output_right,
                                                 alternative_weights, follows, shape_of,
                                                 through_trainable, trainable, with_weights)
from autograder.exercises.support.lazy import tf
from autograder.exercises.support.variants import expecting, fields, judging, probing, vary

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
    return [other_size(rng, alternative_weights(rng, case)) for case in drawn]


def other_size(rng, case: dict) -> dict:
    """A second input size for the same MyDense(k) (another number of features, with
    weights of the grader's for it): only a layer that sizes its weights from the input
    it sees works at both, so this value backs "no weights before the first call"."""
    d, k = case["W_set"].shape
    d2 = int(rng.choice([x for x in range(2, 7) if x != d]))
    return {**case, "inputs_other": f32(rng.normal(0, 1, (int(rng.integers(3, 7)), d2))),
            "W_other": f32(rng.normal(0, 1, (d2, k))), "b_other": f32(rng.normal(0, 1, (k,)))}


def probe_one(namespace, case):
    layer = namespace["MyDense"](case["units"])
    before = len(layer.weights)
    X = tf.constant(case["inputs"])
    first = layer(X)
    out = with_weights(layer, case, lambda: layer(X))
    return {"before": before, "first": first, "out": out,
            "W_shape": shape_of(getattr(layer, "W", None)),
            "b_shape": shape_of(getattr(layer, "b", None)),
            "trainable": len(layer.trainable_variables),
            "out_alt": through_trainable(layer, case, lambda: layer(X)),
            "out_other": at_other_size(namespace["MyDense"], case)}


def at_other_size(MyDense, case):
    """A new MyDense(k) on the case's other inputs, with the grader's weights for them
    set through its trainable variables; None when it cannot run there (a layer sized
    for one input size raises) or the weights cannot be set."""
    X = tf.constant(case["inputs_other"])
    try:
        layer = MyDense(case["units"])
        layer(X)
        return through_trainable(layer, case, lambda: layer(X), W="W_other", b="b_other")
    except Exception:  # noqa: BLE001 - the student's error here is judged as a wrong value
        return None


def expect_one(reference, case):
    """inputs @ W + b with the grader's own weights (the layer is judged against it)."""
    return case["inputs"] @ case["W_set"] + case["b_set"]


def built_from_input(label, case, answer) -> Check:
    """No weights before the first call. The count the probe reports earns its point
    only when a new layer also follows the grader's weights on inputs of another size
    (``other_size``; :func:`layers.follows`): weights made in __init__ cannot know the
    input size, so they fit one size at most."""
    if answer["before"] != 0:
        return Check(label, False, f"expected 0 weights before the first call, found {answer['before']}",
                     HINT_INIT)
    if follows(answer["out_other"], case["inputs_other"], case["W_other"], case["b_other"]):
        return Check(label, True)
    # Right at this input size but not at another: the weights were sized for one size.
    # Otherwise the other checks of the case explain the wrong value.
    works_here = follows(answer["out"], case["inputs"], case["W_set"], case["b_set"]) \
        and alt_output_right(case, answer)
    k, d2 = case["units"], case["inputs_other"].shape[1]
    detail = (f"a new MyDense({k}) on inputs with {d2} features raised, or its trainable variables could "
              f"not take weights of shapes ({d2}, {k}) and ({k},)" if answer["out_other"] is None else
              f"a new MyDense({k}) on inputs with {d2} features, with the grader's weights set through its "
              "trainable variables, did not return inputs @ W + b")
    return Check(label, False, detail, HINT_BUILD if works_here else "")


def judge_one(case, answer, want):
    n = case["inputs"].shape[0]
    k, where = case["units"], case["label"]
    # The weights' shapes are judged by the affine observation: the grader's weights only
    # fit a layer whose W is (d, k) and b is (k,), and only then can the output be right.
    output = affine(f"output equals inputs @ W + b ({where})", case, answer, HINT_ACTIVATION)
    return [
        built_from_input(f"no weights before the first call ({where})", case, answer),
        trainable(f"two trainable variables ({where})", case, answer),
        backed(shape_is(f"shape of the layer's output ({where})", answer["first"], (n, k)), *output),
    ] + output


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want)])

EXERCISE = Exercise(
    name="my_dense", defines="MyDense",
    signature="class MyDense(tf.keras.layers.Layer): MyDense(num_outputs)", points=10,
    cases=cases, probe=probe, expect=expect, judge=judge,
    schema=fields(lambda case: {"before": count, **LAYER_FIELDS, "out_other": answer}),
    stand_in="dense_layer",
    error_hints=((r"Matrix size-incompatible|Incompatible shapes|Dimensions must be equal"
                  r"|In\[0\] mismatch In\[1\]", HINT_BUILD),))
