"""What the grader accepts back from a sandbox: one schema per exercise.

The sandbox runs student code, and student code can reach its end of the channel, so
every reply may be forged. ``wire`` guarantees plain data (no objects, numeric arrays
only); this module decides whether that data has the form the exercise's probe
produces, and converts it to plain Python and NumPy values of the expected kind before
any check sees it. A reply that does not fit raises :class:`Malformed` (the grader
records the exercise as crashed, with the reason); nothing here raises anything else.

Two kinds of field exist:

- what the probe itself computes (counts, flags, shapes, loss lists made with
  ``float(...)``): anything but exactly that kind is a forgery, so it is
  :class:`Malformed`;
- what student code returned (:func:`answer`): any plain data is a legitimate, possibly
  wrong, answer. It is kept as ``None``, a bool, an int, a float, a bounded string, a
  numeric array of bounded size, a bounded list of these, or an opaque
  ``{"__repr__": description}`` that the checks describe and never compare. NaN and
  infinity stay: the checks name them in the feedback.

A stand-in's call for the reference is a request from the sandbox, validated here too
(:func:`reference_call`): only what the exercise being graded builds on
(:func:`allowed_calls`), and only within caps on what the reference may compute and send
back, checked from the arguments' shapes before it computes (:func:`call_bound`) and on
its result before it is sent (:func:`reference_reply`).

The kinds of field live here, so that the grader's trust boundary is one module; each
exercise's module declares its probe's schema with them (``Exercise.schema``), listing
exactly the keys its probe returns.
"""
from __future__ import annotations

import numpy as np

MAX_ELEMENTS = 1_000_000  # per array answer; larger ones are described, not compared
MAX_NODES = 10_000  # items in a list answer (all levels) or in a list of losses
MAX_DEPTH = 8  # nesting of a list answer
MAX_TEXT = 2_000  # characters kept of a string answer or an error message
MAX_DIMENSION = 2 ** 31


class Malformed(ValueError):
    """A reply that does not fit its exercise's schema (it did not come from the probe)."""


class Failed(Malformed):
    """A reply in which the harness reports its own failure (``failed``) instead of outcomes."""


def text(value, limit: int = MAX_TEXT) -> str:
    """A string field, cut to ``limit`` characters."""
    if not isinstance(value, str):
        raise Malformed(f"expected text, got {type(value).__name__}")
    return value if len(value) <= limit else value[:limit] + f" [... {len(value) - limit} characters dropped]"


def _opaque(description: str) -> dict:
    return {"__repr__": description[:200]}


def _array(value: np.ndarray):
    if value.dtype.kind not in "biuf":
        return _opaque(f"array of dtype {value.dtype.name}")
    if value.size > MAX_ELEMENTS:
        return _opaque(f"{value.dtype.name} array of shape {tuple(value.shape)}, too large to compare")
    return np.array(value, copy=True, order="C")


def answer(value, _budget=None, _depth=0):
    """What student code returned, as plain data the checks can handle (see the module
    docstring). Never raises: an unknown or oversized value becomes an opaque
    description."""
    budget = [MAX_NODES] if _budget is None else _budget
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value) if -2 ** 63 <= value < 2 ** 63 else _opaque("int too large to compare")
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic):
        return _array(np.asarray(value))
    if isinstance(value, dict):
        described = value.get("__repr__") if len(value) == 1 else None
        return _opaque(described if isinstance(described, str) else "dict")
    if isinstance(value, (list, tuple)):
        budget[0] -= len(value)
        if budget[0] < 0 or _depth >= MAX_DEPTH:
            return _opaque("sequence too large or too deeply nested to compare")
        items = [answer(v, budget, _depth + 1) for v in value]
        if budget[0] < 0:
            return _opaque("sequence too large or too deeply nested to compare")
        return items
    return _opaque(type(value).__name__)


def answers(value) -> list:
    """A list of answers the probe collected (one gradient per variable, ...)."""
    if not isinstance(value, list) or len(value) > MAX_NODES:
        raise Malformed(f"expected a list, got {type(value).__name__}")
    budget = [MAX_NODES]
    return [answer(v, budget, 1) for v in value]


def count(value) -> int:
    """A count the probe made with ``len`` or ``int``: an int in [0, 2**31)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_DIMENSION:
        raise Malformed(f"expected a count, got {type(value).__name__}")
    return int(value)


def flag(value) -> bool:
    """A flag the probe computed (``isinstance``): a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise Malformed(f"expected a bool, got {type(value).__name__}")
    return bool(value)


def shape(value):
    """A variable's shape as the probe lists it: None, or a short list of counts."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 32:
        raise Malformed(f"expected a shape, got {type(value).__name__}")
    return [count(v) for v in value]


def numbers(value) -> list:
    """Losses the probe converted with ``float``: a bounded list of floats (NaN and
    infinity allowed: a diverging run is an answer, not a forgery)."""
    if not isinstance(value, list) or len(value) > MAX_NODES:
        raise Malformed(f"expected a list of numbers, got {type(value).__name__}")
    if not all(isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)
                                        and abs(v) < 2 ** 63) for v in value):
        raise Malformed("expected a list of numbers, got other items in it")
    return [float(v) for v in value]


def weights(shape_of):
    """A weight the probe read from the grader's own Keras model: a numeric array whose
    shape ``shape_of(case)`` gives (anything else is not from that model)."""
    def kind(value, case):
        want = tuple(shape_of(case))
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf" \
                or tuple(value.shape) != want:
            raise Malformed(f"expected an array of shape {want}, got {type(value).__name__}")
        return np.array(value, copy=True, order="C")
    kind.needs_case = True
    return kind


# The kernel (d, 1) and bias (1,) the probe reads from the grader's own Keras model.
KERNEL = weights(lambda case: (case["W"].shape[0], 1))
BIAS = weights(lambda case: (1,))


def _fields(exercise, case: dict, value) -> dict:
    name, schema = exercise.name, exercise.schema(case)
    if not isinstance(value, dict) or set(value) != set(schema):
        keys = sorted(map(str, value))[:10] if isinstance(value, dict) else type(value).__name__
        raise Malformed(f"{name}: expected the fields {sorted(schema)}, got {keys}")
    plain = {}
    for key, kind in schema.items():
        try:
            plain[key] = kind(value[key], case) if getattr(kind, "needs_case", False) else kind(value[key])
        except Malformed as exc:
            raise Malformed(f"{name}: field {key!r}: {exc}") from None
    return plain


def outcome(exercise, case: dict, value) -> dict:
    """One case's outcome for ``exercise`` (its ``name``, ``defines`` and ``schema``),
    validated: ``{"ok": fields}``, ``{"error": text}`` or ``{"missing": the exercise's
    own name}``."""
    name = exercise.name
    if not isinstance(value, dict) or len(value) != 1 or not value.keys() <= {"ok", "error", "missing"}:
        raise Malformed(f"{name}: an outcome must be one of ok, error or missing")
    (kind, content), = value.items()
    if kind == "ok":
        return {"ok": _fields(exercise, case, content)}
    if kind == "error":
        return {"error": text(content)}
    if content != exercise.defines:
        raise Malformed(f"{name}: a missing name that is not {exercise.defines!r}")
    return {"missing": exercise.defines}


def outcomes(exercise, cases: list, values) -> list:
    """Every case's outcome, validated (see :func:`outcome`); one per case."""
    if not isinstance(values, list) or len(values) != len(cases):
        raise Malformed(f"{exercise.name}: expected {len(cases)} outcomes, got "
                        f"{len(values) if isinstance(values, list) else type(values).__name__}")
    return [outcome(exercise, case, value) for case, value in zip(cases, values)]


def exercise_reply(exercise, cases: list, reply) -> list:
    """The validated outcomes in the sandbox's reply to an exercise request. A reply with
    the harness's own failure report (``failed``) raises :class:`Failed` with its text."""
    name = exercise.name
    if not isinstance(reply, dict):
        raise Malformed(f"{name}: the reply is not a dict")
    if "outcomes" not in reply:
        failed = reply.get("failed")
        if isinstance(failed, str):
            raise Failed(text(failed))
        raise Malformed(f"{name}: neither outcomes nor a failure")
    return outcomes(exercise, cases, reply["outcomes"])


def cell_reply(reply) -> dict:
    """The sandbox's reply to a cell: ``{"ok": True}`` or ``{"error": text}``."""
    if not isinstance(reply, dict):
        raise Malformed("a cell's reply is not a dict")
    status = {k: v for k, v in reply.items() if k != "output"}
    if status.keys() == {"ok"} and status["ok"] is True:
        return {"ok": True}
    if set(status) == {"error"}:
        return {"error": text(status["error"]) or "an error"}
    raise Malformed("a cell's reply is neither ok nor an error")


def output(reply, limit: int) -> str:
    """What student code printed, as a reply carries it: text, at most ``limit``
    characters (an absent output is empty)."""
    value = reply.get("output", "") if isinstance(reply, dict) else ""
    return text(value, limit) if isinstance(value, str) else ""


MAX_CALL_ARGUMENTS = 4
# What one call of a stand-in may make the reference compute and send back. The bound
# of a call (:func:`call_bound`) is checked against both before anything is computed;
# the reply the reference computes is checked against both again before it leaves its
# process (:func:`reference_reply`). 2**21 float64 numbers are 16 MB; the grader's cases
# need at most a few hundred thousand.
MAX_REPLY_ELEMENTS = 2 ** 21
MAX_REPLY_BYTES = 16 * 2 ** 20


class TooLarge(Malformed):
    """A call whose reply could exceed :data:`MAX_REPLY_ELEMENTS` or :data:`MAX_REPLY_BYTES`;
    its message names the cap, for the student whose code made the call."""


def allowed_calls(exercise) -> frozenset:
    """The reference functions a sandbox may call while ``exercise`` is graded: exactly
    what it builds on (``Exercise.uses``). The one list both graders use."""
    return frozenset(exercise.uses)


def call_bound(arrays) -> int:
    """How many numbers a reference function of these arrays can produce, at most, in any
    one result or intermediate, from their shapes alone: the product of their sizes (an
    empty array counts as 1). Elementwise operations, broadcasting, matrix products,
    reshapes and reductions of the arguments never exceed it; so ``predict`` on a row of
    n and a column of n is bounded by n * n, which is what it computes."""
    bound = 1
    for value in arrays:
        bound *= max(1, int(value.size))
    return bound


def _cap_message(name: str, arrays, elements: int) -> str:
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
    return (f"{name} on arguments of shapes {shapes} could compute {elements:,} numbers, over the "
            f"cap of {MAX_REPLY_ELEMENTS:,} numbers ({MAX_REPLY_BYTES // 2 ** 20} MB) per call; "
            f"call it on smaller arrays")


def reference_call(message, exercise) -> tuple:
    """A stand-in's request for the reference, validated: ``(name, args, cotangent)``
    where ``name`` is one of :func:`allowed_calls` for the exercise being graded, the
    arguments are numeric arrays of at most ``MAX_ELEMENTS`` each, and their
    :func:`call_bound` (the cotangent's size included) is within the reply caps (else
    :class:`TooLarge`, naming the cap)."""
    if not isinstance(message, dict) or set(message) != {"op", "name", "args", "cotangent"}:
        raise Malformed("a call must have exactly op, name, args and cotangent")
    name = message["name"]
    if not isinstance(name, str) or name not in allowed_calls(exercise):
        raise Malformed(f"{str(name)[:40]!r} is not available while this exercise is graded")
    args = message["args"]
    if not isinstance(args, list) or not 0 < len(args) <= MAX_CALL_ARGUMENTS:
        raise Malformed("a call's arguments must be a short list")
    cotangent = message["cotangent"]
    arrays = [*args, *([] if cotangent is None else [cotangent])]
    for value in arrays:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf" \
                or value.size > MAX_ELEMENTS:
            raise Malformed("a call's arguments must be numeric arrays of bounded size")
    elements = call_bound(arrays)
    if elements > MAX_REPLY_ELEMENTS or elements * 8 > MAX_REPLY_BYTES:
        raise TooLarge(_cap_message(name, arrays, elements))
    return name, args, cotangent


RESULT_OVER_CAP = (f"the reference's result is over the cap of {MAX_REPLY_ELEMENTS:,} numbers "
                   f"({MAX_REPLY_BYTES // 2 ** 20} MB) per call")


def reference_reply(value):
    """A reference result within the reply caps, returned as it is: ``None``, numbers and
    numeric arrays, in lists, of at most :data:`MAX_REPLY_ELEMENTS` numbers and
    :data:`MAX_REPLY_BYTES` bytes in all; anything else raises :class:`TooLarge`
    (or :class:`Malformed` for what is not such data)."""
    elements, size = 0, 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
            elements += 1
        elif isinstance(item, (np.ndarray, np.generic)):
            elements, size = elements + item.size, size + item.nbytes
        elif item is None or isinstance(item, (bool, int, float)):
            elements, size = elements + 1, size + 8
        else:
            raise Malformed(f"a reference result of type {type(item).__name__}")
        if elements > MAX_REPLY_ELEMENTS or size > MAX_REPLY_BYTES:
            raise TooLarge(RESULT_OVER_CAP)
    return value
