"""Exercise 4: ``grad(W, b, inputs, targets)``, the loss and its gradients by GradientTape."""
from __future__ import annotations

from ..compare import shape_is, values_close
from ..replies import answer
from .exercise import Exercise
from .inputs import blob_case, tensors
from .observations import gradient


def cases(rng):
    return [blob_case(rng, n, d, w_scale=0.5) for n, d in [(40, 2), (60, 3), (30, 5)]]


def probe(namespace, case):
    loss_value, (dW, db) = namespace["grad"](*tensors(case, "W", "b", "inputs", "targets"))
    return {"loss": loss_value, "dW": dW, "db": db}


def expect(reference, case):
    loss_value, (dW, db) = reference.grad(*tensors(case, "W", "b", "inputs", "targets"))
    return {"loss": loss_value.numpy(), "dW": dW.numpy(), "db": db.numpy()}


def judge(case, answer, want):
    d, where = case["W"].shape[0], case["label"]
    observations = [values_close(f"loss value returned by grad for {where}", answer["loss"],
                                 want["loss"], rtol=1e-4, atol=1e-6)]
    if answer["dW"] is not None:
        observations.append(shape_is(f"shape of dW for {where}", answer["dW"], (d, 1)))
    observations += gradient(f"dW for {where}", answer["dW"], want["dW"], 2)
    observations += gradient(f"db for {where}", answer["db"], want["db"], 1)
    return observations


EXERCISE = Exercise(name="grad", defines="grad", signature="grad(W, b, inputs, targets)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"loss": answer, "dW": answer, "db": answer}, uses=("predict", "loss"),
                    stand_in="loss_and_gradients")
