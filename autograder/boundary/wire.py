"""Plain data across the sandbox boundary.

Student code runs in another process; all it can send back is JSON whose arrays are
encoded as base64 bytes with a numeric dtype. Decoding never unpickles or calls
anything, so a hostile submission can at worst send wrong numbers. :func:`loads`
raises :class:`WireError` and nothing else, whatever bytes it is given; whether the
data has the form the grader asked for is ``replies``' business.
"""
from __future__ import annotations

import base64
import binascii
import json
import math

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
        data = value if value.flags.c_contiguous else value.copy(order="C")  # 0-d stays 0-d
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


def _decode_array(spec) -> np.ndarray:
    """``[dtype, shape, base64]`` as an array: a safe dtype, a shape of at most 32
    non-negative ints, and exactly as many bytes as they say."""
    if not isinstance(spec, list) or len(spec) != 3:
        raise WireError("an array must be [dtype, shape, data]")
    dtype, shape, payload = spec
    if not isinstance(dtype, str) or dtype not in _SAFE_DTYPES:
        raise WireError(f"refused array dtype {str(dtype)[:40]!r}")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            type(s) is int and s >= 0 for s in shape):
        raise WireError("an array's shape must be a list of at most 32 counts")
    if not isinstance(payload, str):
        raise WireError("an array's data must be base64 text")
    raw = base64.b64decode(payload, validate=True)
    if len(raw) != math.prod(shape) * np.dtype(dtype).itemsize:
        raise WireError("an array's data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _decode(value):
    if isinstance(value, dict):
        if _ARRAY_KEY in value:
            if len(value) != 1:
                raise WireError("an array must be alone in its object")
            return _decode_array(value[_ARRAY_KEY])
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
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise WireError("a message must be bytes")
    try:
        return _decode(json.loads(bytes(raw).decode("utf-8")))
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error) as exc:
        raise WireError(f"malformed message: {str(exc)[:200]}") from None
    except RecursionError:
        raise WireError("malformed message: nested too deeply") from None


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
