"""Exercise 10: ``train_with_optimizer(model, optimizer, inputs, targets, steps)``."""
from __future__ import annotations

from autograder.boundary.replies import BIAS, KERNEL, count, numbers
from autograder.checking.compare import Check, Mistake, backed, between, equals
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.hints import (HINT_OPTIMIZER_STEPS, HINT_OPTIMIZER_UNUSED,
                                                HINT_STEPS)
from autograder.exercises.support.inputs import (blob_case, changed, keras_model, sgd, sizes,
                                                 tensors, weights)
from autograder.exercises.support.variants import (expecting, fields, idea, judging, plotting,
                                                   probing, vary)
from autograder.exercises.train import HINT_AFTER_UPDATE, losses_and_boundary

HINT_NOT_OPTIMIZER_RUN = idea("The values are not those of `steps` updates by the optimizer passed in: "
                              "each step takes (loss, grads) from model_grad, records the loss, then "
                              "applies the gradients to model.trainable_variables with that optimizer.")
HINT_SLOW_OPTIMIZER = ("Does the loop stop after `steps` steps? A loop that counts the steps ends on "
                       "its own; one that waits for the loss to reach a value may never end. Keep any "
                       "printing or plotting out of the loop.")


def cases(rng):
    # The optimizer has momentum: only the one passed in reproduces the reference's
    # weights, so its use is read from the weights, not from a count the probe reports.
    drawn = [blob_case(rng, sizes(rng, 40, 80)[0], 2, w_scale=0.5, rate=0.1, momentum=0.5,
                       steps=int(rng.integers(8, 14))),
             blob_case(rng, *sizes(rng, 30, 50, dims=(3, 4)), w_scale=0.5, rate=0.3, momentum=0.3,
                       steps=int(rng.integers(4, 7)))]
    drawn[1] = vary(rng, drawn[1], changed(rng, drawn[1], "W", "b", "inputs", "targets", "rate", "steps"))
    return drawn


def probe_one(namespace, case):
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = namespace["train_with_optimizer"](model, optimizer, *tensors(case, "inputs", "targets"),
                                               case["steps"])
    W, b = weights(model)
    return {"losses": [float(v) for v in losses], "W": W, "b": b,
            "iterations": int(optimizer.iterations.numpy())}


def expect_one(reference, case):
    """The reference run, and the band of correct runs around it (``bands.descent_band``
    with the optimizer's momentum)."""
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = reference.train_with_optimizer(model, optimizer, *tensors(case, "inputs", "targets"),
                                            case["steps"])
    W, b = weights(model)
    want = {"losses": [float(v) for v in losses], "W": W, "b": b}
    # One step more, continuing the same model and optimizer (its momentum included):
    # the losses after each update, without running the first `steps` again.
    one_more = reference.train_with_optimizer(model, optimizer, *tensors(case, "inputs", "targets"), 1)
    want["after"] = want["losses"][1:] + [float(v) for v in one_more]
    want["band"] = bands.descent_band(case["W"], case["b"], case["inputs"], case["targets"], case["rate"],
                                      case["steps"], want, momentum=case.get("momentum", 0.0))
    return want


def judge_one(case, answer, want):
    steps, where, band = case["steps"], case["label"], want["band"]
    iterations = answer["iterations"]
    trained = [between(f"trained kernel for {where}", answer["W"], *band["W"], rtol=1e-3, atol=1e-5,
                       otherwise=HINT_NOT_OPTIMIZER_RUN),
               between(f"trained bias for {where}", answer["b"], *band["b"], rtol=1e-3, atol=1e-5,
                       otherwise=HINT_NOT_OPTIMIZER_RUN)]
    # The step count the probe reads is backed by the weights: only `steps` updates by
    # the optimizer passed in (it has momentum) give the reference's weights.
    made = iterations == steps and all(c.passed for c in trained)
    losses = between(f"losses of train_with_optimizer for {where}", answer["losses"], *band["losses"],
                     rtol=1e-3, atol=1e-5, weight=2, otherwise=HINT_NOT_OPTIMIZER_RUN,
                     mistakes=[Mistake(HINT_AFTER_UPDATE, want["after"])])
    return [
        backed(equals(f"returns `steps` losses (steps={steps}, {where})", len(answer["losses"]), steps,
                      HINT_STEPS), losses),
        Check(f"`steps` updates by the optimizer passed in (steps={steps}, {where})", made,
              "" if made else f"the optimizer counted {iterations} updates, and the trained weights "
              f"{'match' if all(c.passed for c in trained) else 'do not match'} {steps} updates by it",
              "" if made else HINT_OPTIMIZER_UNUSED if iterations == 0 else HINT_OPTIMIZER_STEPS
              if iterations != steps else ""),
        losses,
    ] + trained


def plots_one(case, answer, want) -> dict:
    return losses_and_boundary(case, answer, want, answer.get("W"), answer.get("b"))


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer[k], want[k]) for k in ("losses", "W", "b")])

EXERCISE = Exercise(name="train_with_optimizer", defines="train_with_optimizer",
                    signature="train_with_optimizer(model, optimizer, inputs, targets, steps)", points=10,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"losses": numbers, "W": KERNEL, "b": BIAS, "iterations": count}),
                    uses=("model_loss", "model_grad"), slow_hint=HINT_SLOW_OPTIMIZER, time_limit=60, plots=plotting(plots_one))
