"""Bands of correct values for everything derived from the cross-entropy, in float64 NumPy.

The contract allows more than one correct loss: the exact cross-entropy (what Keras'
``BinaryCrossentropy(from_logits=True)`` and ``sigmoid_cross_entropy_with_logits``
compute), the tutorial's ``-log(q + 1e-4)`` where ``q`` is the probability of the
correct label, Keras' clipped form (``q`` clipped to ``[1e-7, 1 - 1e-7]``), or any
other small constant. So every quantity derived from the loss (the loss itself, its
gradients, the losses a training loop records and the parameters it ends with) is
checked against a band, never against one point.

The derivation, in one place. For one example with logit ``z``, target ``t`` and
``q = sigmoid(z)`` if ``t = 1`` else ``1 - sigmoid(z)``, the loss with a constant
``eps`` is ``l(eps) = -log(q + eps)``, and its derivative for the logit is
``g(eps) = -s * q * (1 - q) / (q + eps)`` with ``s = 2t - 1``. Both are monotone in
``eps``: ``l`` falls and ``|g|`` falls (its sign never changes). Hence, for every
``eps`` in ``[0, EPS_MAX]``:

- the mean loss lies between its value at ``EPS_MAX`` (low) and at 0 (high);
- each element of ``dW = X^T g / n`` and ``db = sum(g) / n`` is a sum of terms
  ``x_ij * g_i(eps) / n``, each monotone in ``eps``, so it lies between the sum of each
  term's smaller end and the sum of its larger end (:func:`gradient_band`);
- Keras' clip changes nothing where ``1e-7 < q < 1 - 1e-7``, which the graded inputs
  keep to (weights of order 1), and behaves like an ``eps`` of at most 1e-7 elsewhere.

A training loop chains such steps; the band of its recorded losses and final
parameters is the hull of the runs at ``eps = 0`` and ``eps = EPS_MAX`` (and the
reference's own run), each step's deviation being monotone in ``eps`` to first order;
the tolerance the judge adds (relative 1e-3) covers the second-order rest.
"""
from __future__ import annotations

import numpy as np

EPS_MAX = 1e-3  # the largest constant inside the log that still counts as the cross-entropy


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def logits(W, b, inputs):
    """``inputs @ W + b`` as a flat float64 vector."""
    return (_f64(inputs) @ _f64(W)).reshape(-1) + _f64(b).reshape(-1)


def cross_entropy(z, t, eps: float) -> np.ndarray:
    """Each example's loss ``-log(q + eps)``; at ``eps = 0`` the stable exact form."""
    z, t = _f64(z).reshape(-1), _f64(t).reshape(-1)
    if eps == 0:
        return np.logaddexp(0.0, z) - t * z
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.log(p * t + (1 - p) * (1 - t) + eps)


def logit_gradient(z, t, eps: float) -> np.ndarray:
    """Each example's ``d l / d z`` for the loss with constant ``eps``."""
    z, t = _f64(z).reshape(-1), _f64(t).reshape(-1)
    p = 1.0 / (1.0 + np.exp(-z))
    if eps == 0:
        return p - t
    q = p * t + (1 - p) * (1 - t)
    return -(2 * t - 1) * p * (1 - p) / (q + eps)


def loss_band(z, t) -> tuple:
    """(low, high): the mean loss at ``EPS_MAX`` and the exact one."""
    return float(np.mean(cross_entropy(z, t, EPS_MAX))), float(np.mean(cross_entropy(z, t, 0.0)))


def gradient_band(inputs, z, t) -> dict:
    """Elementwise bounds of ``dW`` (shape (d, 1)) and ``db`` for every ``eps`` in
    ``[0, EPS_MAX]``: ``{"dW": (low, high), "db": (low, high)}``."""
    X = _f64(inputs)
    n = X.shape[0]
    ends = [logit_gradient(z, t, eps) / n for eps in (0.0, EPS_MAX)]
    terms = [X * g[:, None] for g in ends]  # (n, d) contributions to dW, at each end
    lo_W, hi_W = np.minimum(*terms).sum(0), np.maximum(*terms).sum(0)
    lo_b, hi_b = float(np.minimum(*ends).sum()), float(np.maximum(*ends).sum())
    return {"dW": (lo_W.reshape(-1, 1), hi_W.reshape(-1, 1)), "db": (lo_b, hi_b)}


GRADIENT_MARGIN = 0.01  # how far from zero a graded gradient must be (see clear_of_zero)


def clear_of_zero(case: dict, margin: float = GRADIENT_MARGIN) -> bool:
    """Whether zeros would fail the gradient checks of this call (W, b, inputs,
    targets): ``db``, and at least one element of ``dW``, stay at least ``margin`` away
    from zero over the whole band. A draw where the correct gradient is nearly zero
    would let a function that returns zeros earn the gradient's points."""
    band = gradient_band(case["inputs"], logits(case["W"], case["b"], case["inputs"]), case["targets"])

    def distance(low, high):  # elementwise distance of [low, high] from zero (0 inside)
        low, high = _f64(low), _f64(high)
        return np.where(low > 0, low, np.where(high < 0, -high, 0.0))

    return bool(distance(*band["db"]) >= margin) and bool(distance(*band["dW"]).max() >= margin)


def descent(W, b, inputs, targets, rate, steps, eps, momentum=0.0) -> dict:
    """Full-batch gradient descent (with Keras SGD's momentum when given) on the loss
    with constant ``eps``: the losses recorded before each update and the final W, b."""
    W, b = _f64(W).reshape(-1, 1).copy(), _f64(b).copy()
    X, t = _f64(inputs), _f64(targets).reshape(-1)
    n = X.shape[0]
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    recorded = []  # not `losses`: the wheel must not hold a line of the solution verbatim
    for _ in range(int(steps)):
        z = logits(W, b, X)
        recorded.append(float(np.mean(cross_entropy(z, t, eps))))
        g = logit_gradient(z, t, eps) / n
        dW, db = (X.T @ g).reshape(-1, 1), np.full_like(b, g.sum())
        vW, vb = momentum * vW - rate * dW, momentum * vb - rate * db
        W, b = W + vW, b + vb
    return {"losses": recorded, "W": W, "b": b}


def hull(*values) -> tuple:
    """(low, high): the elementwise minimum and maximum of arrays of one shape."""
    stacked = np.stack([_f64(v) for v in values])
    return stacked.min(0), stacked.max(0)


def descent_band(W, b, inputs, targets, rate, steps, reference: dict, momentum=0.0) -> dict:
    """``{"losses": (low, high), "W": ..., "b": ...}``: the hull of the runs at ``eps = 0``
    and ``EPS_MAX`` and the reference's own (``reference`` has losses, W, b)."""
    runs = [descent(W, b, inputs, targets, rate, steps, eps, momentum) for eps in (0.0, EPS_MAX)]
    band = {}
    for key in ("losses", "W", "b"):
        shape = _f64(reference[key]).shape
        band[key] = hull(*[_f64(run[key]).reshape(shape) for run in runs], reference[key])
    return band


def batch_step(X, t, W, b, idx, rate) -> tuple:
    """One SGD step (the exact loss, no momentum) of many runs at once: ``idx`` (runs,
    batch) holds the examples of each run's batch, ``W`` (runs, d) and ``b`` (runs,) its
    weights. Returns the new ``W``, ``b`` and each run's batch loss before the update."""
    xb, tb = X[idx], t[idx]
    z = np.einsum("rbd,rd->rb", xb, W) + b[:, None]
    g = logit_gradient(z, tb, 0.0).reshape(z.shape) / z.shape[1]
    return (W - rate * np.einsum("rbd,rb->rd", xb, g), b - rate * g.sum(1),
            cross_entropy(z, tb, 0.0).reshape(z.shape).mean(1))


def shuffled_finals(W, b, inputs, targets, rate, batch_size, epochs, rng, runs: int = 128) -> np.ndarray:
    """The full-batch loss after mini-batch SGD (no momentum, the exact loss) in ``runs``
    random orders of the examples, a new one every epoch (``rng`` draws them): where a
    correct run may end, whatever order it chose."""
    X, t = _f64(inputs), _f64(targets).reshape(-1)
    n, size = X.shape[0], int(batch_size)
    W = np.tile(_f64(W).reshape(1, -1), (runs, 1))
    b = np.full(runs, float(_f64(b).reshape(-1)[0]))
    for _ in range(int(epochs)):
        order = np.argsort(rng.random((runs, n)), axis=1)
        for start in range(0, n, size):
            W, b, _ = batch_step(X, t, W, b, order[:, start:start + size], rate)
    z = X @ W.T + b[None, :]
    return np.mean(np.logaddexp(0.0, z) - t[:, None] * z, axis=0)


def repeated_example_epochs(W, b, inputs, targets, rate, batch_size, epochs, momentum, reference) -> tuple:
    """(low, high) of each epoch's loss when every row is one example: every batch has
    that example's loss and gradient, so whatever the order the run is full-batch
    descent (:func:`descent`) of ``epochs * ceil(n / batch_size)`` steps. An epoch's loss
    is the mean of its batch losses, or their mean weighted by batch size (as model.fit
    reports it, the last batch the smaller); the band holds both, at ``eps = 0`` and
    ``EPS_MAX``, and the reference's own values."""
    n, size = len(_f64(targets).reshape(-1)), int(batch_size)
    per_epoch = -(-n // size)
    sizes = np.array([size] * (per_epoch - 1) + [n - size * (per_epoch - 1)], dtype=np.float64)
    ends = []
    for eps in (0.0, EPS_MAX):
        run = descent(W, b, inputs, targets, rate, int(epochs) * per_epoch, eps, momentum)
        each = np.reshape(run["losses"], (int(epochs), per_epoch))
        ends += [each.mean(1), each @ sizes / n]
    return hull(*ends, _f64(reference).reshape(-1))
