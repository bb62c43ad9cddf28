"""Plain data across the sandbox boundary.

Student code runs in another process; all it can send back is JSON whose arrays are
encoded as base64 bytes with a numeric dtype. Decoding never unpickles or calls
anything, so a hostile submission can at worst send wrong numbers.
"""
from __future__ import annotations

import base64
import json

import numpy as np

_SAFE_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
}
_ARRAY_KEY = "__ndarray__"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class WireError(ValueError):
    """A message from the sandbox that is not well-formed plain data."""


def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.name not in _SAFE_DTYPES:
            return {"__repr__": f"array of dtype {value.dtype.name}"}
        data = np.ascontiguousarray(value)
        return {_ARRAY_KEY: [data.dtype.name, list(data.shape),
                             base64.b64encode(data.tobytes()).decode("ascii")]}
    if isinstance(value, np.generic):
        return _encode(np.asarray(value))
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"__repr__": type(value).__name__}


def _decode(value):
    if isinstance(value, dict):
        if _ARRAY_KEY in value:
            dtype, shape, payload = value[_ARRAY_KEY]
            if dtype not in _SAFE_DTYPES:
                raise WireError(f"refused array dtype {dtype!r}")
            raw = base64.b64decode(payload, validate=True)
            return np.frombuffer(raw, dtype=dtype).reshape([int(s) for s in shape]).copy()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(value) -> bytes:
    """Encode plain data (dicts, lists, numbers, strings, numpy arrays) as bytes."""
    return json.dumps(_encode(value), allow_nan=True).encode("utf-8")


def loads(raw: bytes):
    """Decode bytes from :func:`dumps`; raise :class:`WireError` on anything else."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    try:
        return _decode(json.loads(raw.decode("utf-8")))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed message: {exc}") from None


def to_plain(value):
    """Turn what student code returned into plain data: tensors and Keras variables
    become numpy arrays, tuples become lists, unknown objects a type name."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):  # np.float64 is a Python float, and stays one
        return float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "numpy"):
        try:
            return np.asarray(value.numpy())
        except Exception:  # noqa: BLE001 - any failure means "not data"
            pass
    return {"__repr__": type(value).__name__}
