"""Exercise 9: ``model_grad(model, inputs, targets)``, gradients for a model's variables."""
from __future__ import annotations

from ..compare import equals, values_close
from ..replies import answer, answers
from .exercise import Exercise
from .inputs import keras_model, tensors
from .model_loss import cases
from .observations import gradient

HINT_GRAD_COUNT = "Return one gradient per trainable variable, in model.trainable_variables order."


def probe(namespace, case):
    model = keras_model(case["W"], case["b"])
    loss_value, grads = namespace["model_grad"](model, *tensors(case, "inputs", "targets"))
    return {"loss": loss_value, "grads": list(grads)}


def expect(reference, case):
    model = keras_model(case["W"], case["b"])
    loss_value, grads = reference.model_grad(model, *tensors(case, "inputs", "targets"))
    return {"loss": float(loss_value), "grads": [g.numpy() for g in grads]}


def judge(case, answer, want):
    where, grads = case["label"], answer["grads"]
    observations = [values_close(f"loss value returned by model_grad for {where}", answer["loss"],
                                 want["loss"], rtol=1e-3, atol=1e-5),
                    equals(f"one gradient per trainable variable ({where})", len(grads), 2,
                           HINT_GRAD_COUNT)]
    for i, name in enumerate(["kernel", "bias"]):
        got = grads[i] if i < len(grads) else None
        observations += gradient(f"gradient of the {name} for {where}", got, want["grads"][i], 1.5)
    return observations


EXERCISE = Exercise(name="model_grad", defines="model_grad", signature="model_grad(model, inputs, targets)",
                    points=8, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"loss": answer, "grads": answers},
                    uses=("model_loss",), stand_in="logits_grad")
