"""Exercise 11: ``train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed)``."""
from __future__ import annotations

import math

import numpy as np

from ..compare import Check, Mistake, close, equals, show, values_close, within
from ..replies import BIAS, KERNEL, count, numbers
from .exercise import Exercise
from .hints import HINT_ASCENT, HINT_OPTIMIZER_STEPS, HINT_OPTIMIZER_UNUSED
from .inputs import blob_case, keras_model, mean_cross_entropy, sgd, tensors, weights
from .train import losses_and_boundary

HINT_EPOCHS = "Return one mean loss per epoch."
HINT_DROPPED_BATCH = ("The last, smaller batch was skipped: model.fit makes ceil(n / batch_size) "
                      "steps per epoch, including a final partial batch.")
HINT_NO_BATCHES = "One step per epoch: iterate over the mini-batches, one update per batch."
HINT_SEED = ("Two runs with the same seed gave different losses: pass the seed to the shuffle "
             "(Dataset.shuffle(..., seed=seed)).")
HINT_NO_SHUFFLE = ("Two different seeds gave the same losses: the batches are not shuffled (or the "
                   "seed is ignored). Shuffle the examples with the given seed.")
HINT_EPOCH_MEAN = "Each epoch's value should be the mean of that epoch's batch losses."


def cases(rng):
    # With rate 0 and equal batches, each epoch's mean batch loss is the full-batch loss
    # whatever the order: an exact check. The second case trains for real, with a last
    # batch smaller than the others.
    return [blob_case(rng, 256, 2, w_scale=0.7, rate=0.0, batch_size=64, epochs=2, seed=7),
            blob_case(rng, 250, 3, w_scale=0.5, rate=0.3, batch_size=64, epochs=2, seed=11)]


def run(train_minibatch, case):
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = train_minibatch(model, optimizer, *tensors(case, "inputs", "targets"),
                             case["batch_size"], case["epochs"], case["seed"])
    return [float(v) for v in losses], weights(model), int(optimizer.iterations.numpy())


def probe(namespace, case):
    losses, (W, b), iterations = run(namespace["train_minibatch"], case)
    answer = {"losses": losses, "W": W, "b": b, "iterations": iterations}
    if case["rate"]:
        answer["again"] = run(namespace["train_minibatch"], case)[0]
        answer["other_seed"] = run(namespace["train_minibatch"], {**case, "seed": case["seed"] + 1})[0]
    return answer


def expect(reference, case):
    """The reference's epoch losses and trained weights."""
    losses, (W, b), _ = run(reference.train_minibatch, case)
    return {"losses": losses, "W": W, "b": b}


def judge(case, answer, want):
    n, where = case["inputs"].shape[0], case["label"]
    bs, epochs = case["batch_size"], case["epochs"]
    per_epoch = math.ceil(n / bs)
    iterations = answer["iterations"]
    step_hint = {0: HINT_OPTIMIZER_UNUSED, epochs: HINT_NO_BATCHES,
                 epochs * (n // bs): HINT_DROPPED_BATCH}.get(iterations, HINT_OPTIMIZER_STEPS)
    observations = [
        equals(f"one loss per epoch (epochs={epochs}, {where})", len(answer["losses"]), epochs, HINT_EPOCHS),
        equals(f"optimizer steps, as model.fit makes them (batch_size={bs}, {where})", iterations,
               epochs * per_epoch, step_hint),
    ]
    initial = mean_cross_entropy(case["W"], case["b"], case["inputs"], case["targets"])
    if case["rate"] == 0:
        label = f"each epoch's mean batch loss, with a learning rate of 0 ({where})"
        return observations + [values_close(label, answer["losses"], [initial] * epochs, rtol=1e-3,
                                            atol=1e-5, weight=2,
                                            mistakes=[Mistake(HINT_EPOCH_MEAN, [initial * per_epoch] * epochs)])]
    want_final = mean_cross_entropy(want["W"], want["b"], case["inputs"], case["targets"])
    got_final = mean_cross_entropy(answer["W"], answer["b"], case["inputs"], case["targets"])
    first = answer["losses"][0] if answer["losses"] else float("nan")
    same = close(answer["again"], answer["losses"], rtol=1e-6, atol=1e-7)
    shuffled = not close(answer["other_seed"], answer["losses"], rtol=1e-6, atol=1e-7)
    margin = max(0.02, 0.05 * want_final)
    return observations + [
        Check(f"the same seed gives the same losses ({where})", same,
              "" if same else f"first run {show(answer['losses'])}, second run {show(answer['again'])}",
              "" if same else HINT_SEED),
        Check(f"another seed gives other losses ({where})", shuffled,
              "" if shuffled else f"seed {case['seed']} and seed {case['seed'] + 1} both gave "
              f"{show(answer['losses'])}", "" if shuffled else HINT_NO_SHUFFLE),
        within(f"full-batch loss after training ({where})", got_final, want_final - margin,
               want_final + margin, mistakes=[], weight=2),
        Check(f"the loss goes down over the epochs ({where})",
              bool(answer["losses"]) and bool(np.isfinite(first)) and answer["losses"][-1] < first,
              f"epoch losses {show(answer['losses'])}", HINT_ASCENT),
    ]


def schema(case) -> dict:
    """The probe's fields; the two reruns only when the case trains (rate > 0)."""
    reruns = {"again": numbers, "other_seed": numbers} if case["rate"] else {}
    return {"losses": numbers, "W": KERNEL, "b": BIAS, "iterations": count, **reruns}


def plots(case, answer, want) -> dict:
    if not case["rate"]:
        return {}
    return losses_and_boundary(case, answer, want, answer.get("W"), answer.get("b"))


EXERCISE = Exercise(
    name="train_minibatch", defines="train_minibatch",
    signature="train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed)", points=12,
    cases=cases, probe=probe, expect=expect, judge=judge,
    schema=schema, uses=("model_loss", "model_grad"),
    time_limit=90, plots=plots)
