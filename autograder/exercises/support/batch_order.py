"""Which batches a mini-batch run used, read back from its results (``train_minibatch``).

``model.fit`` reshuffles every epoch. A loop that keeps one order for every epoch (a
dataset shuffled once with ``reshuffle_each_iteration=False``, rebuilt from the same
seed every epoch, or not shuffled at all) trains on the same batches in the same order
each epoch, and its values look right. The grader tells them apart from the values
alone: on a case small enough to enumerate (6 examples in batches of 2, two epochs:
90 ordered ways to cut an epoch into batches, 8 100 runs), it replays SGD in float64 for
every sequence of batches and keeps those whose epoch losses and final weights match
the student's. A run whose every match repeats the first epoch's batches in the
second kept one order. A correct, reshuffling loop repeats its first epoch by chance
1 time in 90; the judge asks for a repeat in most of several runs (``repeated``).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from autograder.exercises.support.bands import batch_step


def epochs_of(n: int, batch_size: int) -> list:
    """Every ordered cut of ``range(n)`` into batches of ``batch_size`` (the last smaller)."""
    def cuts(remaining):
        if not remaining:
            yield ()
            return
        for first in combinations(remaining, min(batch_size, len(remaining))):
            rest = tuple(i for i in remaining if i not in first)
            for tail in cuts(rest):
                yield (first,) + tail
    return list(cuts(tuple(range(n))))


def replay(case: dict) -> dict:
    """SGD (the case's rate, the exact Keras loss) for every sequence of two epochs'
    batches: ``{"losses": (runs, 2), "W": (runs, d), "b": (runs,), "first"/"second":
    the index of each run's epoch cut in ``epochs_of``}``."""
    X = np.asarray(case["inputs"], np.float64)
    t = np.asarray(case["targets"], np.float64)
    cuts = epochs_of(X.shape[0], case["batch_size"])
    k = len(cuts)
    first, second = np.repeat(np.arange(k), k), np.tile(np.arange(k), k)
    W = np.tile(np.asarray(case["W"], np.float64).reshape(1, -1), (k * k, 1))
    b = np.full(k * k, float(np.asarray(case["b"]).reshape(-1)[0]))
    losses = np.zeros((k * k, 2))
    for epoch, chosen in enumerate((first, second)):
        for step in range(len(cuts[0])):
            idx = np.array([cuts[c][step] for c in range(k)])[chosen]  # (runs, batch)
            W, b, batch = batch_step(X, t, W, b, idx, case["rate"])
            losses[:, epoch] += batch / len(cuts[0])
    return {"losses": losses, "W": W, "b": b, "first": first, "second": second}


def kept_order(runs: dict, losses, W, b, rtol=1e-4, atol=1e-5):
    """For one student run: None when no sequence of batches matches it, "unshuffled"
    when every match uses the examples in their given order in both epochs, "repeated"
    when every match repeats the first epoch's batches, else "reshuffled"."""
    got = np.concatenate([np.asarray(losses, np.float64).reshape(-1),
                          np.asarray(W, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)])
    want = np.concatenate([runs["losses"], runs["W"], runs["b"][:, None]], axis=1)
    if got.size != want.shape[1] or not np.isfinite(got).all():
        return None
    match = (np.abs(want - got) <= atol + rtol * np.abs(want)).all(1)
    if not match.any():
        return None
    first, second = runs["first"][match], runs["second"][match]
    if (first == 0).all() and (second == 0).all():
        return "unshuffled"
    return "repeated" if (first == second).all() else "reshuffled"
