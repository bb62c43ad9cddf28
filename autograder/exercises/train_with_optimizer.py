"""Exercise 10: ``train_with_optimizer(model, optimizer, inputs, targets, steps)``."""
from __future__ import annotations

from ..compare import equals, values_close
from ..replies import BIAS, KERNEL, count, numbers
from .exercise import Exercise
from .hints import HINT_OPTIMIZER_STEPS, HINT_OPTIMIZER_UNUSED, HINT_STEPS
from .inputs import blob_case, keras_model, sgd, tensors, weights
from .train import losses_and_boundary


def cases(rng):
    return [blob_case(rng, 60, 2, w_scale=0.5, rate=0.1, steps=12),
            blob_case(rng, 40, 3, w_scale=0.5, rate=0.3, steps=5)]


def probe(namespace, case):
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = namespace["train_with_optimizer"](model, optimizer, *tensors(case, "inputs", "targets"),
                                               case["steps"])
    W, b = weights(model)
    return {"losses": [float(v) for v in losses], "W": W, "b": b,
            "iterations": int(optimizer.iterations.numpy())}


def expect(reference, case):
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = reference.train_with_optimizer(model, optimizer, *tensors(case, "inputs", "targets"),
                                            case["steps"])
    W, b = weights(model)
    return {"losses": [float(v) for v in losses], "W": W, "b": b}


def judge(case, answer, want):
    steps, where = case["steps"], case["label"]
    iterations = answer["iterations"]
    return [
        equals(f"returns `steps` losses (steps={steps}, {where})", len(answer["losses"]), steps, HINT_STEPS),
        equals(f"optimizer steps made (steps={steps}, {where})", iterations, steps,
               HINT_OPTIMIZER_UNUSED if iterations == 0 else HINT_OPTIMIZER_STEPS),
        values_close(f"losses of train_with_optimizer for {where}", answer["losses"], want["losses"],
                     rtol=1e-3, atol=1e-5, weight=2),
        values_close(f"trained kernel for {where}", answer["W"], want["W"], rtol=1e-3, atol=1e-5),
        values_close(f"trained bias for {where}", answer["b"], want["b"], rtol=1e-3, atol=1e-5),
    ]


def plots(case, answer, want) -> dict:
    return losses_and_boundary(case, answer, want, answer.get("W"), answer.get("b"))


EXERCISE = Exercise(name="train_with_optimizer", defines="train_with_optimizer",
                    signature="train_with_optimizer(model, optimizer, inputs, targets, steps)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"losses": numbers, "W": KERNEL, "b": BIAS, "iterations": count},
                    uses=("model_loss", "model_grad"), time_limit=60, plots=plots)
