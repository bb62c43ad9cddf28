"""Exercise 11: ``train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed)``."""
from __future__ import annotations

import math

import numpy as np

from autograder.boundary.replies import BIAS, KERNEL, count, numbers
from autograder.checking.compare import Check, Mistake, backed, between, close, equals, show, within
from autograder.exercises.exercise import Exercise
from autograder.exercises.support import bands
from autograder.exercises.support.batch_order import kept_order, replay
from autograder.exercises.support.hints import HINT_OPTIMIZER_STEPS, HINT_OPTIMIZER_UNUSED
from autograder.exercises.support.inputs import (blob_case, changed, f32, keras_model,
                                                 mean_cross_entropy, sgd, tensors, weights)
from autograder.exercises.support.variants import (expecting, fields, idea, judging, plotting,
                                                   probing, vary)
from autograder.exercises.train import losses_and_boundary

HINT_EPOCHS = "Return one mean loss per epoch."
HINT_DROPPED_BATCH = ("The last, smaller batch was skipped: model.fit makes ceil(n / batch_size) "
                      "steps per epoch, including a final partial batch.")
HINT_NO_BATCHES = "One step per epoch: iterate over the mini-batches, one update per batch."
HINT_BATCH_COUNT = ("Each epoch made another number of updates than ceil(n / batch_size): batch the "
                    "examples with the batch_size argument, one update per batch.")
HINT_SEED = ("Two runs with the same seed gave different losses: the order of the batches "
             "does not come from the seed argument. Revisit where the shuffle draws its order "
             "from.")
HINT_NO_SHUFFLE = ("Two different seeds gave the same losses: the batches are not shuffled (or the "
                   "seed is ignored). Shuffle the examples with the given seed.")
HINT_RESHUFFLE = ("Every epoch used the same batches in the same order: model.fit reshuffles the "
                  "examples at the start of each epoch. Build the shuffled dataset once, before the "
                  "epoch loop, and let each pass over it draw a new order.")
HINT_EPOCH_MEAN = "Each epoch's value should be the mean of that epoch's batch losses."
HINT_LOSS_UP = ("The mean loss did not go down from the first epoch to the last: each batch's "
                "gradients must be applied with optimizer.apply_gradients(...), which moves the "
                "weights against them.")
HINT_NOT_MINIBATCH = idea("The epoch losses are not those of one pass of mini-batch updates per epoch: "
                          "for each batch, take (loss, grads) from model_grad, apply the gradients, "
                          "and average the epoch's batch losses.")
RUNS = 4  # seeds of the batch-order case; a kept order must show in most of them, and
# another seed must change at least one run
HINT_SLOW_EPOCHS = ("Does the loop stop after `epochs` passes? A dataset with .repeat() never ends "
                    "on its own: the epochs are counted by the outer loop, and each epoch is one "
                    "pass over the dataset.")


def cases(rng):
    """A: rate 0 and equal batches, so each epoch's mean batch loss is the full-batch loss
    whatever the order (an exact check). B: real training with a smaller last batch, on
    targets a linear model can learn (``learnable``), run again with the same seed.
    C: tiny, so that the batches used can be read back from the results
    (``batch_order``), over several seeds (which also show whether the seed changes the
    run: no run with another seed is needed on B). D: one example repeated, so that every batch
    has the same gradient and the trained weights and epoch losses depend on the number
    of updates only, not on the order (exact checks, with momentum: only the optimizer
    passed in reproduces them); called again with another batch size, number of epochs,
    inputs and targets (``variants``)."""
    seed = lambda: int(rng.integers(0, 2 ** 16))  # noqa: E731
    bs_a, bs_b = (int(rng.choice(BATCH_SIZES)) for _ in range(2))
    n_a = int(rng.choice([bs_a * k for k in (3, 4) if unlike_default(bs_a * k, bs_a)]))
    n_b = int(rng.choice([n for n in range(200, 260) if n % bs_b and unlike_default(n, bs_b)]))
    d = blob_case(rng, int(rng.choice([n for n in range(18, 27) if n % 8])), 2, w_scale=0.5, rate=0.5,
                  batch_size=8, epochs=2, seed=seed(), momentum=0.5)
    d = vary(rng, d, {"batch_size": 5, "epochs": 3, **changed(rng, d, "inputs", "targets")})
    drawn = [blob_case(rng, n_a, int(rng.integers(2, 4)), w_scale=0.7, rate=0.0,
                       batch_size=bs_a, epochs=2, seed=seed()),
             blob_case(rng, n_b, 2, w_scale=0.5, rate=0.3, batch_size=bs_b, epochs=2, seed=seed(),
                       reruns=True),
             blob_case(rng, 6, 3, w_scale=0.7, rate=1.0, batch_size=2, epochs=2, seed=seed(), runs=RUNS),
             one_example(d)]
    drawn[1] = learnable(rng, drawn[1])
    return drawn


def learnable(rng, case: dict) -> dict:
    """Case B with targets a linear model can learn: the side of a line through the
    origin, facing away from the initial weights. Training then lowers the loss far
    more than the order of the batches moves it, so the final loss tells a trained model
    from an untrained one (or one with zero weights, at log 2). Drawn after every other
    value of the cases, so that those stay as they were."""
    w = rng.normal(0, 1, case["W"].shape[0])
    w = -np.sign(float(w @ case["W"].reshape(-1)) or 1.0) * 2.0 * w / np.linalg.norm(w)
    return {**case, "targets": f32(case["inputs"] @ w > 0)}


def one_example(case: dict) -> dict:
    """Case D with its first example (inputs and target) repeated in every row, in the
    base call and in each variant (whose first target is always flipped, see
    ``inputs.changed``)."""
    def repeated(values: dict) -> dict:
        found = dict(values)
        for key in ("inputs", "targets"):
            if key in found:
                found[key] = np.repeat(found[key][:1], len(found[key]), axis=0)
        return found
    n = case["inputs"].shape[0]
    return {**repeated(case), "variants": repeated(case["variants"]),
            "label": f"inputs of shape ({n}, 2), one example repeated"}


# Batch sizes of cases A and B. Keras's default batch size is 32, and a pipeline that
# keeps it instead of the argument must not make a whole multiple of the expected steps
# (which reads as calling apply_gradients twice per batch): see ``unlike_default``.
BATCH_SIZES = (40, 48)


def unlike_default(n: int, batch_size: int) -> bool:
    """Batches of 32 give a number of steps that is no multiple of ``batch_size``'s."""
    return bool(-(-n // 32) % -(-n // batch_size))


def run(train_minibatch, case, seed=None):
    model, optimizer = keras_model(case["W"], case["b"]), sgd(case)
    losses = train_minibatch(model, optimizer, *tensors(case, "inputs", "targets"),
                             case["batch_size"], case["epochs"], case["seed"] if seed is None else seed)
    return [float(v) for v in losses], weights(model), int(optimizer.iterations.numpy())


def probe_one(namespace, case):
    losses, (W, b), iterations = run(namespace["train_minibatch"], case)
    answer = {"losses": losses, "W": W, "b": b, "iterations": iterations}
    if case.get("reruns"):
        answer["again"] = run(namespace["train_minibatch"], case)[0]
    for i in range(1, case.get("runs", 0)):
        answer[f"losses_{i}"], (answer[f"W_{i}"], answer[f"b_{i}"]), _ = \
            run(namespace["train_minibatch"], case, case["seed"] + i)
    return answer


def expect_one(reference, case):
    """The reference's epoch losses and trained weights; for case B, where the full-batch
    loss of a correct run ends in random orders of the batches (``bands.shuffled_finals``,
    drawn from the case's seed); for case D, the band of its epoch losses
    (``bands.repeated_example_epochs``). Nothing for case C, whose runs are judged
    against every sequence of batches (``batch_order.replay``), not against one run."""
    if "runs" in case:
        return {}
    losses, (W, b), _ = run(reference.train_minibatch, case)
    want = {"losses": losses, "W": W, "b": b}
    args = (case["W"], case["b"], case["inputs"], case["targets"], case["rate"], case["batch_size"],
            case["epochs"])
    if case.get("reruns"):
        finals = bands.shuffled_finals(*args, np.random.default_rng(case["seed"]))
        want["finals"] = (float(finals.min()), float(finals.max()))
    if case.get("momentum"):
        want["band"] = bands.repeated_example_epochs(*args, case["momentum"], losses)
    return want


def steps(case, answer, shown, *losses) -> list:
    """One loss per epoch, and as many optimizer steps as model.fit makes. The number of
    losses is their form: it earns its point only with the case's checks of what the
    run computed (``losses``, see ``compare.backed``). The count is the probe's report: it
    earns its point only where the run's values show it (``shown``: True or False).
    Where nothing in a case's values depends on the number of updates (``shown`` None: no
    learning rate, or an order of batches the grader does not know), the count weighs
    nothing and only explains."""
    n, where = case["inputs"].shape[0], case["label"]
    bs, epochs = case["batch_size"], case["epochs"]
    iterations = answer["iterations"]
    expected = epochs * -(-n // bs)
    step_hint = {0: HINT_OPTIMIZER_UNUSED, epochs: HINT_NO_BATCHES,
                 epochs * (n // bs): HINT_DROPPED_BATCH}.get(iterations, HINT_OPTIMIZER_STEPS)
    if step_hint == HINT_OPTIMIZER_STEPS and iterations % expected and not iterations % epochs:
        step_hint = HINT_BATCH_COUNT  # a whole number of updates per epoch, but not one per batch
    label = f"optimizer steps, as model.fit makes them (batch_size={bs}, {where})"
    weight = 0.0 if shown is None else 1.0
    if iterations != expected:
        counted = Check(label, False, f"expected {expected!r}, got {iterations!r}", step_hint, weight)
    elif shown is False:
        counted = Check(label, False, f"the optimizer counted {expected} updates, but the trained weights "
                        f"are not those of {expected} updates by it", "", weight)
    else:
        counted = Check(label, True, weight=weight)
    return [backed(equals(f"one loss per epoch (epochs={epochs}, {where})", len(answer["losses"]), epochs,
                          HINT_EPOCHS), *losses), counted]


def made_by_steps(runs: dict, W, b, rtol=1e-4, atol=1e-5) -> bool:
    """Case C: the trained weights are those of some sequence of batches replayed by
    ``batch_order`` (two epochs of ceil(n / batch_size) updates at the case's rate)."""
    got = np.concatenate([np.asarray(W, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)])
    want = np.concatenate([runs["W"], runs["b"][:, None]], axis=1)
    if got.size != want.shape[1] or not np.isfinite(got).all():
        return False
    return bool((np.abs(want - got) <= atol + rtol * np.abs(want)).all(1).any())


def orders(case, answer, runs) -> list:
    """Case C: the order of batches of each run, read back from its values (``runs``,
    from ``batch_order.replay``): ``batch_order.kept_order``, None where no sequence of
    batches matches the run."""
    kept = [kept_order(runs, answer["losses"], answer["W"], answer["b"])]
    return kept + [kept_order(runs, answer[f"losses_{i}"], answer[f"W_{i}"], answer[f"b_{i}"])
                   for i in range(1, case["runs"])]


def seeded(case, answer, kept, counted: bool) -> Check:
    """Case C: another seed gives another run, read from the runs the order check makes
    anyway (one per seed), so that no run with another seed is needed on a larger case.
    A fact about real runs: it earns its point only when every run is some sequence of
    batches (``kept`` holds no None), and gives its hint only when the step count is right
    (``counted``; else that explains better)."""
    seeds = case["runs"]
    runs = [answer[f"losses_{i}"] for i in range(1, seeds)]
    other = any(not close(losses, answer["losses"], rtol=1e-6, atol=1e-7) for losses in runs)
    return backed(Check(f"another seed gives other losses ({case['label']}, {seeds} seeds)", other,
                        "" if other else f"seeds {case['seed']} to {case['seed'] + seeds - 1} all gave "
                        f"{show(answer['losses'])}", "" if other or not counted else HINT_NO_SHUFFLE),
                  None not in kept)


def order(case, kept) -> Check:
    """Case C: the batches are reshuffled every epoch (``kept``, from :func:`orders`). A
    run that matches no sequence of batches shows no order at all: the check fails,
    without a hint of its own (the other cases explain a wrong value)."""
    label = f"a new order of batches every epoch ({case['label']}, {len(kept)} seeds)"
    unmatched = kept.count(None)
    if unmatched:
        return Check(label, False, f"in {unmatched} of {len(kept)} runs the epoch losses and trained weights "
                     "are those of no sequence of batches (ceil(n / batch_size) updates per epoch at the "
                     "case's rate), so the order of the batches could not be read back", "", 2)
    same = [k for k in kept if k in ("repeated", "unshuffled")]
    ok = len(same) * 2 <= len(kept)
    hint = "" if ok else HINT_NO_SHUFFLE if all(k == "unshuffled" for k in same) else HINT_RESHUFFLE
    return Check(label, ok, "" if ok else f"in {len(same)} of {len(kept)} runs the second epoch used exactly "
                 "the batches of the first, in the same order", hint, 2)


def judge_one(case, answer, want):
    where, epochs = case["label"], case["epochs"]
    if "runs" in case:  # C: the batches of every run, read back from its values
        runs = replay(case)
        kept = orders(case, answer, runs)
        observations = steps(case, answer, made_by_steps(runs, answer["W"], answer["b"]), None not in kept)
        counted = all(c.passed for c in observations)
        return observations + [order(case, kept), seeded(case, answer, kept, counted)]
    if case.get("momentum"):  # case D: the weights and losses depend on the number of updates only
        trained = close(answer["W"], want["W"], rtol=1e-4, atol=1e-5) and \
            close(answer["b"], want["b"], rtol=1e-4, atol=1e-5)
        per_epoch = -(-case["inputs"].shape[0] // case["batch_size"])
        losses = between(f"each epoch's mean batch loss, one example repeated ({where})", answer["losses"],
                         *want["band"], rtol=1e-3, atol=1e-5, weight=2, otherwise=HINT_NOT_MINIBATCH,
                         mistakes=[Mistake(HINT_EPOCH_MEAN, np.asarray(want["losses"]) * per_epoch)])
        return steps(case, answer, trained, losses) + [losses]
    initial = bands.loss_band(bands.logits(case["W"], case["b"], case["inputs"]), case["targets"])
    if case["rate"] == 0:  # A
        # Equal batches and no update: every epoch's mean is the full-batch loss, in its band.
        label = f"each epoch's mean batch loss, with a learning rate of 0 ({where})"
        per_epoch = -(-case["inputs"].shape[0] // case["batch_size"])
        losses = between(label, answer["losses"], [initial[0]] * epochs, [initial[1]] * epochs,
                         rtol=1e-4, atol=1e-5, weight=2, otherwise=HINT_NOT_MINIBATCH,
                         mistakes=[Mistake(HINT_EPOCH_MEAN, [initial[1] * per_epoch] * epochs)])
        return steps(case, answer, None, losses) + [losses]
    # B: the order of the batches is the student's; the final loss is where correct runs end.
    want_final = mean_cross_entropy(want["W"], want["b"], case["inputs"], case["targets"])
    got_final = mean_cross_entropy(answer["W"], answer["b"], case["inputs"], case["targets"])
    low, high = min(want["finals"][0], want_final), max(want["finals"][1], want_final)
    slack = max(0.01, 0.15 * (initial[1] - high))  # far less than training's drop from the initial loss
    final = within(f"full-batch loss after training ({where})", got_final, low - slack, high + slack, weight=2)
    first = answer["losses"][0] if answer["losses"] else float("nan")
    same = close(answer["again"], answer["losses"], rtol=1e-6, atol=1e-7)
    down = bool(answer["losses"]) and bool(np.isfinite(first)) and answer["losses"][-1] < first
    observations = steps(case, answer, None, final, down)
    counted = all(c.passed for c in observations[:2])  # else the step count explains it better
    # Same seed, same losses is a fact about a run: it earns its points only when the run
    # trained (its final loss).
    return observations + [
        final,
        backed(Check(f"the same seed gives the same losses ({where})", same,
                     "" if same else f"first run {show(answer['losses'])}, second run {show(answer['again'])}",
                     "" if same or not counted else HINT_SEED), final),
        Check(f"the loss goes down over the epochs ({where})", down,
              f"epoch losses {show(answer['losses'])}", "" if down or not counted else HINT_LOSS_UP),
    ]


probe, expect = probing(probe_one), expecting(expect_one)
judge = judging(judge_one, lambda answer, want: [(answer[k], want[k]) for k in ("losses", "W", "b")])


def schema(case) -> dict:
    """The probe's fields: case B's rerun, case C's runs with other seeds."""
    fields_ = {"losses": numbers, "W": KERNEL, "b": BIAS, "iterations": count}
    if case.get("reruns"):
        fields_.update({"again": numbers})
    for i in range(1, case.get("runs", 0)):
        fields_.update({f"losses_{i}": numbers, f"W_{i}": KERNEL, f"b_{i}": BIAS})
    return fields_


def plots_one(case, answer, want) -> dict:
    if "finals" not in want:  # case B only: real training on a learnable case
        return {}
    return losses_and_boundary(case, answer, want, answer.get("W"), answer.get("b"))


EXERCISE = Exercise(
    name="train_minibatch", defines="train_minibatch",
    signature="train_minibatch(model, optimizer, inputs, targets, batch_size, epochs, seed)", points=12,
    cases=cases, probe=probe, expect=expect, judge=judge,
    schema=fields(schema), uses=("model_loss", "model_grad"),
    slow_hint=HINT_SLOW_EPOCHS, time_limit=90, plots=plotting(plots_one))
