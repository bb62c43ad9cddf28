"""Exercise 8: ``model_loss(model, inputs, targets)``, with a Keras loss object."""
from __future__ import annotations

from autograder.boundary.replies import answer
from autograder.checking.compare import Mistake, backed, between
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.hints import HINT_PER_EXAMPLE, HINT_SUM
from autograder.exercises.support.inputs import blob_cases, keras_model, tensors
from autograder.exercises.support.lazy import tf
from autograder.exercises.support.observations import in_band, single_number
from autograder.exercises.support.variants import expecting, fields, idea, judging, probing, redrawn

HINT_FROM_LOGITS = ("The loss treated logits as probabilities: tell the Keras loss that it "
                    "receives logits (from_logits=True), or give it probabilities.")
HINT_DOUBLE_SIGMOID = ("The sigmoid was applied twice: either pass probabilities with "
                       "from_logits=False, or logits with from_logits=True, not both.")
HINT_BROADCAST = ("Targets of shape (n,) were combined with logits of shape (n, 1), which "
                  "broadcasts to an (n, n) matrix: bring both to the same shape first.")


HINT_NOT_KERAS_LOSS = idea("The value is not the mean binary cross-entropy of the model's logits. "
                           "Revisit the order in which a Keras loss takes its two arguments (the "
                           "targets come first) and the shape both must have, (n, 1).")


def cases(rng):
    """Two sizes, the first with a variant per argument; shared with ``model_grad``, so
    redrawn while a correct gradient lies near zero (``bands.clear_of_zero``)."""
    return redrawn(lambda: blob_cases(rng, [(40, 60), (30, 45)], w_scale=0.7), bands.clear_of_zero)


def probe_one(namespace, case):
    model = keras_model(case["W"], case["b"])
    return {"out": namespace["model_loss"](model, *tensors(case, "inputs", "targets"))}


def expect_one(reference, case):
    """The reference loss, the band of correct losses (``bands.loss_band``: a Keras loss
    is exact, a hand-written one may add a small constant in the log), and what three
    classic mistakes would return."""
    X, y = tensors(case, "inputs", "targets")
    model = keras_model(case["W"], case["b"])
    logits = model(X)
    column = tf.reshape(y, [-1, 1])
    n = len(case["targets"])
    return {"loss": float(reference.model_loss(model, X, y)),
            "band": bands.loss_band(bands.logits(case["W"], case["b"], case["inputs"]), case["targets"]),
            "not_logits": float(tf.keras.losses.BinaryCrossentropy()(column, logits)),
            "double": float(tf.keras.losses.BinaryCrossentropy(from_logits=True)(column, tf.sigmoid(logits))),
            "broadcast": float(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.broadcast_to(y, [n, n]), logits=tf.broadcast_to(logits, [n, n]))))}


def judge_one(case, answer, want):
    mistakes = [Mistake(HINT_FROM_LOGITS, want["not_logits"]), Mistake(HINT_DOUBLE_SIGMOID, want["double"]),
                Mistake(HINT_BROADCAST, want["broadcast"]),
                Mistake(HINT_SUM, want["loss"] * len(case["targets"]))]
    value = between(f"value of model_loss(model, inputs, targets) for {case['label']}", answer["out"],
                    *in_band(want["loss"], want["band"]), rtol=1e-4, atol=1e-5, mistakes=mistakes,
                    weight=2, otherwise=HINT_NOT_KERAS_LOSS)
    return [backed(single_number(f"model_loss returns a single number for {case['label']}", answer["out"],
                                 HINT_PER_EXAMPLE), value),
            value]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer["out"], want["loss"])])


EXERCISE = Exercise(name="model_loss", defines="model_loss", signature="model_loss(model, inputs, targets)",
                    points=8, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"out": answer}), stand_in="logits_loss")
