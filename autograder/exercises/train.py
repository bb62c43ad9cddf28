"""Exercise 5: ``train(W, b, inputs, targets, rate, steps)``, gradient descent from scratch."""
from __future__ import annotations

import numpy as np

from autograder.boundary.replies import answer, numbers
from autograder.checking.compare import Mistake, backed, between, equals
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.hints import HINT_ASCENT, HINT_STEPS
from autograder.exercises.support.inputs import blob_case, changed, sizes, tensors
from autograder.exercises.support.variants import (expecting, fields, idea, judging, plotting,
                                                   probing, vary)

HINT_AFTER_UPDATE = ("Each loss is recorded after its update; the contract records the loss "
                     "before the update of the same step.")
HINT_NOT_DESCENT = idea("The values are not those of gradient descent on these arguments. Revisit "
                        "one step of it: the loss and the gradients at the current parameters "
                        "(from grad), the loss recorded before the update, and the update rule of "
                        "gradient descent, with the rate given.")
HINT_IN_PLACE = ("W and b are tensors, which cannot be changed in place: at each step, compute "
                 "new ones from the old ones and their gradients, and give them the old names.")
HINT_SLOW_TRAIN = ("Does the loop stop after `steps` steps? A loop that counts the steps ends on "
                   "its own; one that waits for the loss to reach a value may never end. Keep any "
                   "printing or plotting out of the loop.")


def cases(rng):
    # The first case is 2-D (the feedback draws its decision boundary); the second is
    # also called with each argument changed in turn (``variants``).
    drawn = [blob_case(rng, sizes(rng, 40, 80)[0], 2, w_scale=0.5, rate=0.1, steps=int(rng.integers(10, 16))),
             blob_case(rng, *sizes(rng, 30, 50, dims=(3, 4)), w_scale=0.5, rate=0.05, steps=int(rng.integers(6, 9)))]
    drawn[1] = vary(rng, drawn[1], changed(rng, drawn[1], "W", "b", "inputs", "targets", "rate", "steps"))
    return drawn


def probe_one(namespace, case):
    W, b, losses = namespace["train"](*tensors(case, "W", "b", "inputs", "targets"),
                                      case["rate"], case["steps"])
    return {"W": W, "b": b, "losses": [float(v) for v in losses]}


def expect_one(reference, case):
    """The reference run and the band of correct runs around it (``bands.descent_band``),
    the gradient-ascent run, and one step more (for the loss-after-update mistake)."""
    args = tensors(case, "W", "b", "inputs", "targets")
    rate, steps = case["rate"], case["steps"]

    def run(W, b, rate, steps):
        W, b, losses = reference.train(W, b, *args[2:], rate, steps)
        return np.asarray(W), np.asarray(b), [float(v) for v in losses]
    W, b, losses = run(*args[:2], rate, steps)
    W_up, b_up, up_losses = run(*args[:2], -rate, steps)
    band = bands.descent_band(case["W"], case["b"], case["inputs"], case["targets"], rate, steps,
                              {"losses": losses, "W": W, "b": b})
    # One step more, from where the run ended (plain descent keeps no state): the
    # losses of a run of steps + 1, without running the first `steps` again.
    one_more = run(*tensors({"W": W, "b": b}, "W", "b"), rate, 1)[2]
    return {"W": W, "b": b, "losses": losses, "W_up": W_up, "b_up": b_up, "up_losses": up_losses,
            "longer": losses + one_more, "band": band}


def judge_one(case, answer, want):
    steps, where, band = case["steps"], case["label"], want["band"]
    losses = between(f"losses of train for {where}", answer["losses"], *band["losses"], rtol=1e-3,
                     atol=1e-5, weight=2, otherwise=HINT_NOT_DESCENT,
                     mistakes=[Mistake(HINT_ASCENT, want["up_losses"]),
                               Mistake(HINT_AFTER_UPDATE, want["longer"][1:])])
    return [
        backed(equals(f"train returns `steps` losses (steps={steps}, {where})", len(answer["losses"]), steps,
                      HINT_STEPS), losses),
        losses,
        between(f"trained W for {where}", answer["W"], *band["W"], rtol=1e-3, atol=1e-5,
                mistakes=[Mistake(HINT_ASCENT, want["W_up"])], otherwise=HINT_NOT_DESCENT),
        between(f"trained b for {where}", answer["b"], *band["b"], rtol=1e-3, atol=1e-5,
                mistakes=[Mistake(HINT_ASCENT, want["b_up"])], otherwise=HINT_NOT_DESCENT),
    ]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer[k], want[k]) for k in ("losses", "W", "b")])


def plots_one(case, answer, want) -> dict:
    """What the feedback draws for one case: the recorded losses, and (in 2-D) the
    trained decision boundary, the student's against the reference's."""
    return losses_and_boundary(case, answer, want, answer.get("W"), answer.get("b"))


def _numbers(values) -> list:
    """Plain floats for JSON: NaN and infinity (a diverging run) become None."""
    flat = np.asarray(values, dtype=float).reshape(-1)
    return [float(v) if np.isfinite(v) else None for v in flat]


def _line(W, b) -> dict | None:
    """A 2-D linear model as {"W": [w1, w2], "b": b}, or None when it is not one."""
    try:
        W, b = _numbers(W), _numbers(b)
    except (TypeError, ValueError):
        return None
    if len(W) != 2 or len(b) != 1 or None in W + b:
        return None
    return {"W": W, "b": b[0]}


def losses_and_boundary(case, answer, want, student_W, student_b) -> dict:
    """The recorded losses, student's against reference's, and for 2-D inputs the
    trained decision boundary of both (``Exercise.plots``)."""
    try:
        student_losses = _numbers(answer.get("losses") or [])
    except (TypeError, ValueError):
        student_losses = []
    drawn = {"curves": [{"label": f"recorded losses, {case['label']}", "student": student_losses,
                         "reference": _numbers(want["losses"])}]}
    if case["inputs"].shape[1] == 2:
        drawn["boundary"] = {"label": f"trained decision boundary, {case['label']}",
                             "inputs": case["inputs"].tolist(), "targets": case["targets"].tolist(),
                             "student": _line(student_W, student_b),
                             "reference": _line(want["W"], want["b"])}
    return drawn


EXERCISE = Exercise(name="train", defines="train", signature="train(W, b, inputs, targets, rate, steps)",
                    points=10, cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=fields(lambda case: {"W": answer, "b": answer, "losses": numbers}),
                    uses=("predict", "loss", "grad"), slow_hint=HINT_SLOW_TRAIN,
                    error_hints=((r"has no attribute 'assign(_sub)?'", HINT_IN_PLACE),), time_limit=60, plots=plotting(plots_one))
