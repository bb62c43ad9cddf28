"""Exercise 8: ``model_loss(model, inputs, targets)``, with a Keras loss object."""
from __future__ import annotations

from ..compare import Mistake, values_close
from ..replies import answer
from ..lazy import tf
from .exercise import Exercise
from .hints import HINT_PER_EXAMPLE, HINT_SUM
from .inputs import blob_case, keras_model, tensors
from .observations import single_number

HINT_FROM_LOGITS = ("The loss treated logits as probabilities: tell the Keras loss that it "
                    "receives logits (from_logits=True), or give it probabilities.")
HINT_DOUBLE_SIGMOID = ("The sigmoid was applied twice: either pass probabilities with "
                       "from_logits=False, or logits with from_logits=True, not both.")
HINT_BROADCAST = ("Targets of shape (n,) were combined with logits of shape (n, 1), which "
                  "broadcasts to an (n, n) matrix: bring both to the same shape first.")


def cases(rng):
    return [blob_case(rng, n, d, w_scale=0.7) for n, d in [(50, 2), (37, 3)]]


def probe(namespace, case):
    model = keras_model(case["W"], case["b"])
    return {"out": namespace["model_loss"](model, *tensors(case, "inputs", "targets"))}


def expect(reference, case):
    """The reference loss, and what three classic mistakes would return."""
    X, y = tensors(case, "inputs", "targets")
    model = keras_model(case["W"], case["b"])
    logits = model(X)
    column = tf.reshape(y, [-1, 1])
    n = len(case["targets"])
    return {"loss": float(reference.model_loss(model, X, y)),
            "not_logits": float(tf.keras.losses.BinaryCrossentropy()(column, logits)),
            "double": float(tf.keras.losses.BinaryCrossentropy(from_logits=True)(column, tf.sigmoid(logits))),
            "broadcast": float(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.broadcast_to(y, [n, n]), logits=tf.broadcast_to(logits, [n, n]))))}


def judge(case, answer, want):
    mistakes = [Mistake(HINT_FROM_LOGITS, want["not_logits"]), Mistake(HINT_DOUBLE_SIGMOID, want["double"]),
                Mistake(HINT_BROADCAST, want["broadcast"]),
                Mistake(HINT_SUM, want["loss"] * len(case["targets"]))]
    return [single_number(f"model_loss returns a single number for {case['label']}", answer["out"],
                          HINT_PER_EXAMPLE),
            values_close(f"value of model_loss(model, inputs, targets) for {case['label']}",
                         answer["out"], want["loss"], rtol=1e-3, atol=1e-5, mistakes=mistakes, weight=2)]


EXERCISE = Exercise(name="model_loss", defines="model_loss", signature="model_loss(model, inputs, targets)",
                    points=8, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"out": answer}, stand_in="logits_loss")
