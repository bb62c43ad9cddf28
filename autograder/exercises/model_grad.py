"""Exercise 9: ``model_grad(model, inputs, targets)``, gradients for a model's variables."""
from __future__ import annotations

from autograder.boundary.replies import answer, answers
from autograder.checking.compare import Check, backed, equals
from autograder.exercises.exercise import Exercise
from autograder.exercises.model_loss import cases
from autograder.exercises.support import bands
from autograder.exercises.support.inputs import keras_model, tensors
from autograder.exercises.support.observations import gradient, loss_value
from autograder.exercises.support.variants import expecting, fields, judging, probing

HINT_GRAD_COUNT = "Return one gradient per trainable variable, in model.trainable_variables order."


def probe_one(namespace, case):
    model = keras_model(case["W"], case["b"])
    loss_value, grads = namespace["model_grad"](model, *tensors(case, "inputs", "targets"))
    return {"loss": loss_value, "grads": list(grads)}


def expect_one(reference, case):
    """The reference's loss and gradients, and the bands of correct ones (``bands``:
    the kernel's gradient is dW, the bias's db, of the same linear model)."""
    model = keras_model(case["W"], case["b"])
    value, grads = reference.model_grad(model, *tensors(case, "inputs", "targets"))
    z = bands.logits(case["W"], case["b"], case["inputs"])
    band = bands.gradient_band(case["inputs"], z, case["targets"])
    return {"loss": float(value), "grads": [g.numpy() for g in grads],
            "loss_band": bands.loss_band(z, case["targets"]), "grad_bands": [band["dW"], band["db"]]}


def judge_one(case, answer, want):
    where, grads = case["label"], answer["grads"]
    values = []
    for i, name in enumerate(["kernel", "bias"]):
        if i >= len(grads):  # no gradient at all: the count below says why
            values.append(Check(f"gradient of the {name} for {where}", False,
                                "expected a gradient, got none", "", 1.5))
            continue
        values += gradient(f"gradient of the {name} for {where}", grads[i], want["grads"][i], 1.5,
                           want["grad_bands"][i])
    return [loss_value(f"loss value returned by model_grad for {where}", answer["loss"],
                       want["loss"], want["loss_band"]),
            backed(equals(f"one gradient per trainable variable ({where})", len(grads), 2,
                          HINT_GRAD_COUNT), *values)] + values


def outputs(answer, want):
    return [(answer["loss"], want["loss"])] + list(zip(answer["grads"], want["grads"]))


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, outputs)


EXERCISE = Exercise(name="model_grad", defines="model_grad", signature="model_grad(model, inputs, targets)",
                    points=8, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"loss": answer, "grads": answers}),
                    uses=("model_loss",), stand_in="logits_grad")
