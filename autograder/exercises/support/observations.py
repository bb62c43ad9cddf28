"""Observations that several exercises' judges make the same way."""
from __future__ import annotations

import numpy as np

from autograder.checking.compare import Check, Mistake, between
from autograder.exercises.support.bands import hull
from autograder.exercises.support.hints import (HINT_GRAD_SIGN, HINT_NONE_GRAD, HINT_NOT_GRADIENT,
                                                HINT_NOT_LOSS_VALUE)


def single_number(label, got, hint=""):
    """The answer is one number (a 0-d or size-1 array, or a Python number)."""
    arr = np.asarray(got) if isinstance(got, (np.ndarray, float, int)) else None
    ok = arr is not None and arr.size == 1
    return Check(label, ok, "" if ok else "expected a single number, got "
                 f"{'shape ' + str(arr.shape) if arr is not None else type(got).__name__}",
                 "" if ok else hint)


def in_band(want, band):
    """(low, high): the band (``bands``) widened to hold the reference's own value."""
    want = np.asarray(want, dtype=np.float64)
    if band is None:
        return want, want
    return hull(want, np.reshape(band[0], want.shape), np.reshape(band[1], want.shape))


def gradient(label, got, want, weight, band=None):
    """A gradient is present and lies in the band of correct gradients around the
    reference's (``bands.gradient_band``; a sign flip is recognised)."""
    if got is None:
        return [Check(label, False, "expected a gradient, got None", HINT_NONE_GRAD, weight)]
    low, high = in_band(want, band)
    return [between(label, got, low, high, rtol=1e-3, atol=1e-6, weight=weight,
                    mistakes=[Mistake(HINT_GRAD_SIGN, -np.asarray(want))], otherwise=HINT_NOT_GRADIENT)]


def loss_value(label, got, want, band=None):
    """A loss value returned next to gradients: in the band of correct losses."""
    low, high = in_band(want, band)
    return between(label, got, low, high, rtol=1e-4, atol=1e-6, otherwise=HINT_NOT_LOSS_VALUE)
