"""Exercise 4: ``grad(W, b, inputs, targets)``, the loss and its gradients by GradientTape."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import answer
from autograder.checking.compare import backed, shape_is
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.inputs import blob_cases, tensors
from autograder.exercises.support.observations import gradient, loss_value
from autograder.exercises.support.variants import expecting, fields, judging, probing, redrawn

HINT_GRAD_ORDER = ("The two gradients came back in the other order: return them in the order of "
                   "the parameters, (dW, db).")


def cases(rng):
    """Three sizes, the first with a variant per argument; redrawn while a correct
    gradient lies near zero (``bands.clear_of_zero``), where zeros would pass."""
    return redrawn(lambda: blob_cases(rng, [(30, 50), (50, 80), (20, 40)], w_scale=0.5), bands.clear_of_zero)


def probe_one(namespace, case):
    loss_value, (dW, db) = namespace["grad"](*tensors(case, "W", "b", "inputs", "targets"))
    return {"loss": loss_value, "dW": dW, "db": db}


def expect_one(reference, case):
    """The reference's loss and gradients, and the bands every correct form lies in
    (``bands``): a loss with any constant up to ``EPS_MAX`` in the log, or a gradient
    worked out by hand from the exact formula."""
    value, (dW, db) = reference.grad(*tensors(case, "W", "b", "inputs", "targets"))
    z = bands.logits(case["W"], case["b"], case["inputs"])
    band = bands.gradient_band(case["inputs"], z, case["targets"])
    return {"loss": value.numpy(), "dW": dW.numpy(), "db": db.numpy(),
            "loss_band": bands.loss_band(z, case["targets"]), "dW_band": band["dW"], "db_band": band["db"]}


def judge_one(case, answer, want):
    d, where = case["W"].shape[0], case["label"]
    observations = [loss_value(f"loss value returned by grad for {where}", answer["loss"], want["loss"],
                               want["loss_band"])]
    dW = gradient(f"dW for {where}", answer["dW"], want["dW"], 2, want["dW_band"])
    if answer["dW"] is not None:
        swapped = answer["db"] is not None and np.shape(answer["db"]) == (d, 1) != np.shape(answer["dW"])
        observations.append(backed(shape_is(f"shape of dW for {where}", answer["dW"], (d, 1),
                                            HINT_GRAD_ORDER if swapped else ""), *dW))
    observations += dW
    observations += gradient(f"db for {where}", answer["db"], want["db"], 1, want["db_band"])
    return observations


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer[k], want[k]) for k in ("loss", "dW", "db")])

EXERCISE = Exercise(name="grad", defines="grad", signature="grad(W, b, inputs, targets)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"loss": answer, "dW": answer, "db": answer}),
                    uses=("predict", "loss"), stand_in="loss_and_gradients")
