"""Observations that several exercises' judges make the same way."""
from __future__ import annotations

import numpy as np

from ..compare import Check, Mistake, values_close
from .hints import HINT_GRAD_SIGN, HINT_NONE_GRAD


def single_number(label, got, hint=""):
    """The answer is one number (a 0-d or size-1 array, or a Python number)."""
    arr = np.asarray(got) if isinstance(got, (np.ndarray, float, int)) else None
    ok = arr is not None and arr.size == 1
    return Check(label, ok, "" if ok else "expected a single number, got "
                 f"{'shape ' + str(arr.shape) if arr is not None else type(got).__name__}",
                 "" if ok else hint)


def gradient(label, got, want, weight):
    """A gradient is present, and equal to the reference's (a sign flip is recognised)."""
    if got is None:
        return [Check(label, False, "expected a gradient, got None", HINT_NONE_GRAD, weight)]
    return [values_close(label, got, want, rtol=1e-3, atol=1e-6,
                         mistakes=[Mistake(HINT_GRAD_SIGN, -np.asarray(want))], weight=weight)]
