"""Only plain data crosses the sandbox boundary."""
import base64
import json

import numpy as np
import pytest

from autograder.boundary import wire


def test_round_trip_of_nested_data():
    data = {"a": [np.arange(6, dtype=np.float32).reshape(2, 3), None, 1.5, "x", True]}
    back = wire.loads(wire.dumps(data))
    np.testing.assert_array_equal(back["a"][0], data["a"][0])
    assert back["a"][0].dtype == np.float32 and back["a"][1:] == [None, 1.5, "x", True]


def test_object_arrays_and_objects_are_not_sent():
    assert wire.loads(wire.dumps(np.array([object()]))) == {"__repr__": "array of dtype object"}
    assert wire.loads(wire.dumps(object())) == {"__repr__": "object"}


@pytest.mark.parametrize("raw", [
    b"not json",
    json.dumps({"__ndarray__": ["object", [1], base64.b64encode(b"x").decode()]}).encode(),
    json.dumps({"__ndarray__": ["float64", [4], "!!!"]}).encode(),
    json.dumps({"__ndarray__": ["float64", [2 ** 70], ""]}).encode(),
    json.dumps({"__ndarray__": ["float64", [3], base64.b64encode(b"x" * 8).decode()]}).encode(),
    json.dumps({"__ndarray__": ["float64", [1], base64.b64encode(b"x" * 8).decode()], "x": 1}).encode(),
    json.dumps({"__ndarray__": {"abc": 1, "def": 2, "ghi": 3}}).encode(),
    b"[" * 100_000 + b"]" * 100_000,  # RecursionError before
    b"\xff\xfe",
])
def test_malformed_messages_are_refused(raw):
    with pytest.raises(wire.WireError):
        wire.loads(raw)


def test_to_plain_turns_tensors_into_arrays():
    import tensorflow as tf
    plain = wire.to_plain((tf.ones([2]), tf.Variable(3.0), [np.float64(1.0)]))
    assert isinstance(plain[0], np.ndarray) and float(plain[1]) == 3.0


# Arrays whose bytes are exactly what their shape says: only the dtype allowlist refuses
# them (object is not here: NumPy itself cannot read it from bytes).
OTHER_DTYPES = ["datetime64[ns]", "timedelta64[s]", "V8", "<U2", "S8", "complex64"]


def _array_message(dtype: str) -> bytes:
    data = base64.b64encode(np.zeros(1, dtype=dtype).tobytes()).decode()
    return json.dumps({"reply": {"__ndarray__": [dtype, [1], data]}}).encode()


class _Everything:
    def __contains__(self, item):
        return True


@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
def test_only_numeric_dtypes_are_decoded(dtype, protected, monkeypatch):
    """The dtype allowlist alone refuses these arrays: with it switched off, each one
    decodes into an array of its dtype."""
    if not protected:
        monkeypatch.setattr(wire, "_SAFE_DTYPES", _Everything())
    if protected:
        with pytest.raises(wire.WireError, match="refused array dtype"):
            wire.loads(_array_message(dtype))
    else:
        assert wire.loads(_array_message(dtype))["reply"].dtype == np.dtype(dtype)
