"""A small vocabulary of tensor-aware checks whose messages are written for students.

Every check returns a :class:`Check`: what was checked, whether it passed, and in
plain words what was expected, what came back (shape, dtype, the worst element with
its absolute and relative error, NaN/Inf) and, when the answer matches a known
mistake, a targeted hint. Nothing here ever prints the reference's code.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass
class Check:
    """One graded observation about a student's answer. ``passed`` is always a plain
    bool and ``weight`` a plain finite float: a value computed from a forged answer
    (an array where a bool belongs) is refused here, with a ``TypeError``, instead of
    travelling on into scores and JSON."""

    label: str
    passed: bool
    detail: str = ""
    hint: str = ""
    weight: float = 1.0

    def __post_init__(self):
        self.passed = plain_bool(self.passed)
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)) \
                or not np.isfinite(weight) or weight < 0:
            raise TypeError(f"a check's weight must be a finite number >= 0, not {weight!r}")
        self.weight = float(weight)
        self.label, self.detail, self.hint = str(self.label), str(self.detail), str(self.hint)

    def to_dict(self) -> dict:
        return {"label": self.label, "passed": self.passed, "detail": self.detail,
                "hint": self.hint, "weight": self.weight}


def plain_bool(value) -> bool:
    """``value`` as a Python bool if it is a bool (Python's or NumPy's); anything else,
    an array above all, raises ``TypeError``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"a check's result must be a bool, not {type(value).__name__}")


@dataclass
class Mistake:
    """A known wrong answer: what it would return, and what to tell the student."""

    hint: str
    value: object
    rtol: float = 1e-3
    atol: float = 1e-5


def as_array(value):
    """The value as a float64 array, or None if it is not numeric data."""
    if value is None or isinstance(value, (str, dict)):
        return None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64)


def show(value, limit: int = 6) -> str:
    """A short printable form of a value: a few numbers, never a wall of them."""
    arr = as_array(value)
    if arr is None:
        return repr(value) if not isinstance(value, dict) else str(value.get("__repr__", value))
    flat = arr.reshape(-1)
    if flat.size == 1:
        return f"{float(flat[0]):.6g}"
    text = np.array2string(flat[:limit], precision=5, separator=", ", suppress_small=True)
    if flat.size > limit:
        text = text[:-1] + ", ...]"
    return text if arr.ndim else f"{float(arr):.6g}"


def describe(value) -> str:
    """'float32 array of shape (64, 1)', 'None', 'a Python float', ..."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, float):
        return "a Python float"
    if isinstance(value, int):
        return "a Python int"
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name} array of shape {tuple(value.shape)}"
    if isinstance(value, dict) and "__repr__" in value:
        return f"an object of type {value['__repr__']}"
    if isinstance(value, (list, tuple)):
        return f"a sequence of {len(value)} items"
    return type(value).__name__


def close(a, b, rtol: float, atol: float) -> bool:
    """True when two numeric values have the same size and agree within tolerance."""
    x, y = as_array(a), as_array(b)
    if x is None or y is None or x.size != y.size:
        return False
    return bool(np.allclose(x.reshape(-1), y.reshape(-1), rtol=rtol, atol=atol))


def recognise(got, mistakes) -> str:
    """The hint of the first known mistake the answer matches, or ''."""
    for mistake in mistakes:
        if close(got, mistake.value, mistake.rtol, mistake.atol):
            return mistake.hint
    return ""


def shape_is(label: str, got, shape: tuple, hint: str = "", weight: float = 1.0) -> Check:
    """The answer is numeric data of exactly this shape."""
    arr = as_array(got)
    if arr is not None and tuple(arr.shape) == tuple(shape):
        return Check(label, True, weight=weight)
    detail = f"expected shape {tuple(shape)}, got {describe(got)}"
    return Check(label, False, detail, hint if arr is not None else "", weight)


def values_close(label: str, got, expected, *, rtol: float = 1e-4, atol: float = 1e-6,
                 mistakes=(), weight: float = 1.0, otherwise: str = "") -> Check:
    """The answer's values equal the expected ones (same number of elements; a
    different shape is judged by :func:`shape_is`, not here). A wrong value gets the
    hint of a known mistake it matches, else ``otherwise`` (a hint about the idea)."""
    want = as_array(expected)
    arr = as_array(got)
    if arr is None:
        return Check(label, False, f"expected numbers like {show(want)}, got {describe(got)}",
                     recognise(got, mistakes), weight)
    if arr.size != want.size:
        return Check(label, False,
                     f"expected {want.size} values (shape {tuple(want.shape)}), got {describe(got)}",
                     recognise(got, mistakes), weight)
    flat, ref = arr.reshape(-1), want.reshape(-1)
    bad = ~np.isfinite(flat)
    if bad.any():
        where = int(np.argmax(bad))
        return Check(label, False, f"the answer contains {flat[where]} at position {where}; "
                     "look for a log of 0, a division by 0 or an overflow", "", weight)
    if np.allclose(flat, ref, rtol=rtol, atol=atol):
        return Check(label, True, weight=weight)
    err = np.abs(flat - ref)
    worst = int(np.argmax(err - (atol + rtol * np.abs(ref))))
    rel = err[worst] / max(abs(ref[worst]), 1e-12)
    detail = (f"expected {show(ref)}, got {show(flat)}; worst element at position {worst}: "
              f"expected {ref[worst]:.6g}, got {flat[worst]:.6g} "
              f"(absolute error {err[worst]:.3g}, relative error {rel:.3g}; "
              f"tolerance rtol={rtol:g}, atol={atol:g})")
    return Check(label, False, detail, recognise(got, mistakes) or otherwise, weight)


def within(label: str, got, low: float, high: float, *, mistakes=(), weight: float = 1.0,
           otherwise: str = "") -> Check:
    """A single number lies in [low, high] (used where several correct forms exist)."""
    arr = as_array(got)
    if arr is None or arr.size != 1:
        return Check(label, False, f"expected a single number, got {describe(got)}",
                     recognise(got, mistakes), weight)
    value = float(arr.reshape(-1)[0])
    if np.isfinite(value) and low <= value <= high:
        return Check(label, True, weight=weight)
    return Check(label, False,
                 f"expected a value between {low:.6g} and {high:.6g}, got {value:.6g}",
                 recognise(got, mistakes) or otherwise, weight)


def between(label: str, got, low, high, *, rtol: float = 1e-4, atol: float = 1e-6, mistakes=(),
            weight: float = 1.0, otherwise: str = "") -> Check:
    """Every element lies in its band ``[low, high]`` widened by ``atol + rtol * |end|``
    (used where the contract allows a range of correct values, see
    ``exercises.bands``). A wrong answer gets the hint of a known mistake it matches,
    else ``otherwise`` (a hint at the level of the idea)."""
    lo, hi = as_array(low), as_array(high)
    arr = as_array(got)
    if arr is None or arr.size != lo.size:
        what = "a single number" if lo.size == 1 else f"{lo.size} values (shape {tuple(lo.shape)})"
        return Check(label, False, f"expected {what}, got {describe(got)}",
                     recognise(got, mistakes), weight)
    flat, lo, hi = arr.reshape(-1), lo.reshape(-1), hi.reshape(-1)
    bad = ~np.isfinite(flat)
    if bad.any():
        where = int(np.argmax(bad))
        return Check(label, False, f"the answer contains {flat[where]} at position {where}; "
                     "look for a log of 0, a division by 0 or an overflow", "", weight)
    slack_lo, slack_hi = atol + rtol * np.abs(lo), atol + rtol * np.abs(hi)
    excess = np.maximum(lo - slack_lo - flat, flat - hi - slack_hi)
    if (excess <= 0).all():
        return Check(label, True, weight=weight)
    hint = recognise(got, mistakes) or otherwise
    if flat.size == 1:
        return Check(label, False, f"expected a value between {lo[0]:.6g} and {hi[0]:.6g}, got "
                     f"{flat[0]:.6g}", hint, weight)
    worst = int(np.argmax(excess))
    detail = (f"expected {show((lo + hi) / 2)}, got {show(flat)}; worst element at position {worst}: "
              f"expected between {lo[worst]:.6g} and {hi[worst]:.6g}, got {flat[worst]:.6g} "
              f"(tolerance rtol={rtol:g}, atol={atol:g})")
    return Check(label, False, detail, hint, weight)


def equals(label: str, got, expected, hint: str = "", weight: float = 1.0) -> Check:
    """An exact, non-numeric-tolerance fact (a count, a type name, a flag) of the same
    plain type as ``expected``."""
    if type(got) is type(expected) and got == expected:
        return Check(label, True, weight=weight)
    return Check(label, False, f"expected {expected!r}, got {got!r}", hint, weight)


def backed(form: Check, *values) -> Check:
    """A check of an answer's form (a shape, a type, a length, a count) that earns its
    weight only when the value it describes is right too. ``values`` are the checks of
    that value (or plain bools the judge worked out from it). When one of them failed,
    the form check still shows, with its detail and hint, but weighs 0: the wrong value
    costs its points once, by its own check, and the right form of a wrong value (zeros
    of the right shape, a constant of the right type) earns nothing. A right value in a
    wrong form (a tensor where a Python float is asked) still loses the form's points."""
    if all(plain_bool(v.passed if isinstance(v, Check) else v) for v in values):
        return form
    return replace(form, weight=0.0)


def score(checks) -> float:
    """The weighted fraction of passed checks, in [0, 1], as a plain float."""
    total = sum(float(c.weight) for c in checks)
    return float(sum(float(c.weight) for c in checks if plain_bool(c.passed)) / total) if total else 0.0
