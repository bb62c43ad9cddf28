"""The check vocabulary: messages say what was expected, what came back, and where."""
import numpy as np

from autograder.compare import Mistake, score, shape_is, values_close, within, equals


def test_values_close_reports_worst_element_with_errors():
    want = np.array([1.0, 2.0, 3.0])
    check = values_close("v", np.array([1.0, 2.5, 3.0]), want, rtol=1e-4, atol=1e-6)
    assert not check.passed
    assert "position 1" in check.detail and "expected 2" in check.detail and "got 2.5" in check.detail
    assert "absolute error 0.5" in check.detail and "relative error 0.25" in check.detail


def test_values_close_accepts_float64_and_other_shapes_of_same_size():
    want = np.array([0.25, 0.5], dtype=np.float32)
    assert values_close("v", want.astype(np.float64).reshape(2, 1), want).passed


def test_nan_is_named():
    check = values_close("v", np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert not check.passed and "nan" in check.detail.lower()


def test_known_mistake_gives_its_hint():
    want = np.array([1.0, 2.0])
    check = values_close("v", -want, want, mistakes=[Mistake("sign!", -want)])
    assert check.hint == "sign!"
    assert values_close("v", want * 3, want, mistakes=[Mistake("sign!", -want)]).hint == ""


def test_shape_and_none():
    assert shape_is("s", np.zeros((3,)), (3,)).passed
    check = shape_is("s", np.zeros((3, 1)), (3,), hint="column")
    assert not check.passed and "(3, 1)" in check.detail and check.hint == "column"
    assert "None" in values_close("v", None, np.zeros(2)).detail


def test_within_and_equals_and_score():
    assert within("w", 0.5, 0.4, 0.6).passed
    assert not within("w", np.zeros(3), 0.0, 1.0).passed
    assert not equals("e", 3, 4, "hint").passed
    checks = [within("a", 1, 0, 2), within("b", 5, 0, 2, weight=3)]
    assert score(checks) == 0.25
