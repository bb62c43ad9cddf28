"""Input factories and plumbing shared by the exercises' cases, probes and expectations."""
from __future__ import annotations

import numpy as np

from autograder.exercises.support.lazy import tf
from autograder.exercises.support.variants import vary


def f32(x):
    return np.asarray(x, dtype=np.float32)


def blob_case(rng, n, d, w_scale=0.8, **extra):
    """Inputs for the from-scratch exercises: W (d, 1), scalar b, inputs (n, d), 0/1 targets."""
    case = {"W": f32(rng.normal(0, w_scale, (d, 1))), "b": f32(rng.normal(0, 0.5)),
            "inputs": f32(rng.normal(0, 1.0, (n, d))),
            "targets": f32(rng.integers(0, 2, n)), "label": f"inputs of shape ({n}, {d})"}
    case.update(extra)
    return case


def blob_cases(rng, ranges, w_scale: float = 0.8) -> list:
    """One :func:`blob_case` per (low, high) range of examples, the first with another
    value of each of W, b, inputs and targets (``variants.vary``)."""
    drawn = [blob_case(rng, *sizes(rng, low, high), w_scale=w_scale) for low, high in ranges]
    drawn[0] = vary(rng, drawn[0], changed(rng, drawn[0], "W", "b", "inputs", "targets"))
    return drawn


def layer_case(rng, n, d, k, label):
    """Inputs, plus weights the grader chooses and the probe assigns to a layer, so the
    expected output is the grader's own computation, not a value reported back."""
    return {"inputs": f32(rng.normal(0, 1, (n, d))), "units": k,
            "W_set": f32(rng.normal(0, 1, (d, k))), "b_set": f32(rng.normal(0, 1, (k,))),
            "label": label}


def tensors(case, *names):
    return [tf.constant(case[k]) for k in names]


def keras_model(W, b):
    """A stand-in model with known weights: logits of shape (n, 1), and trainable
    variables [kernel (d, 1), bias (1,)] like MyModel's."""
    W = np.asarray(W, dtype=np.float32)
    model = tf.keras.Sequential([tf.keras.Input(shape=(W.shape[0],)), tf.keras.layers.Dense(1)])
    model.set_weights([W, np.asarray(b, dtype=np.float32).reshape(1)])
    return model


def sgd(case):
    """The optimizer handed to a training exercise: SGD at the case's rate, with the
    case's momentum (a fresh optimizer made by student code would lack it)."""
    return tf.keras.optimizers.SGD(learning_rate=case["rate"], momentum=case.get("momentum", 0.0))


def weights(model):
    return [v.numpy() for v in model.trainable_variables]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def mean_cross_entropy(W, b, inputs, targets) -> float:
    """The exact mean cross-entropy of a linear model on logits ``inputs @ W + b``, in
    float64 NumPy (what Keras' BinaryCrossentropy(from_logits=True) computes)."""
    z = (np.asarray(inputs, np.float64) @ np.asarray(W, np.float64)).reshape(-1) \
        + np.asarray(b, np.float64).reshape(-1)
    t = np.asarray(targets, np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - t * z))


def sizes(rng, low: int, high: int, dims=(2, 3, 4, 5)) -> tuple:
    """A number of examples in [low, high) and a number of features, drawn from the seed."""
    return int(rng.integers(low, high)), int(rng.choice(dims))


def _some(rng, shape):
    """About half of the positions, at least one and never all."""
    chosen = rng.random(shape) < 0.5
    flat = chosen.reshape(-1)
    flat[0], flat[-1] = True, False
    return chosen


def changed(rng, case: dict, *args) -> dict:
    """Another value of the same shape for each of ``args`` (``variants.vary``): new
    weights or inputs, a shifted bias, the other label for about half the targets (not
    all: a stale answer for flipped targets would look like the swapped-classes mistake),
    twice the rate, three more steps."""
    draw = {"W": lambda v: f32(rng.normal(0, 0.8, v.shape)),
            "b": lambda v: f32(v + rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.2)),
            "inputs": lambda v: f32(rng.normal(0, 1.0, v.shape)),
            "targets": lambda v: f32(np.where(_some(rng, v.shape), 1 - v, v)),
            "rate": lambda v: float(v) * 2,
            "steps": lambda v: int(v) + 3}
    return {arg: draw[arg](case[arg]) for arg in args}
