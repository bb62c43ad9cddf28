"""The check vocabulary: messages say what was expected, what came back, and where."""
import numpy as np

from autograder.checking.compare import Mistake, equals, score, shape_is, values_close, within


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


def test_between_accepts_a_band_and_names_the_worst_element():
    from autograder.checking.compare import between
    low, high = np.array([1.0, 2.0]), np.array([1.1, 2.2])
    assert between("b", np.array([1.05, 2.2]), low, high).passed
    check = between("b", np.array([1.05, 2.5]), low, high, otherwise="the idea")
    assert not check.passed and "position 1" in check.detail and "between 2 and 2.2" in check.detail
    assert check.hint == "the idea"
    single = between("b", 0.5, [0.7], [0.8])
    assert not single.passed and "expected a value between 0.7 and 0.8, got 0.5" in single.detail
    assert between("b", -low, low, high,
                   mistakes=[Mistake("sign!", -low)], otherwise="idea").hint == "sign!"


def test_a_wrong_value_matching_no_mistake_gets_the_idea_hint():
    want = np.array([1.0, 2.0])
    assert values_close("v", want * 3, want, otherwise="think again").hint == "think again"
    assert values_close("v", want, want, otherwise="think again").passed
    assert within("w", 0.9, 0.4, 0.6, otherwise="idea").hint == "idea"


def test_a_time_out_reads_as_a_time_out_with_a_loop_hint():
    from autograder.checking.judge import judge
    from autograder.exercises import EXERCISES, cases_for
    cases = cases_for(EXERCISES["train"], 1)
    result = judge("train", cases, [{"error": "no answer within 60 s"}] * len(cases), "timeout",
                   "grading train(W, b, inputs, targets, rate, steps) stopped: no answer within 60 s")
    assert result.score == 0 and result.status == "timeout"
    assert "did not finish within 60 s" in result.feedback
    assert "raised" not in result.feedback and "no answer" not in result.feedback
    assert "Does the loop stop after `steps` steps?" in result.feedback


def test_a_form_check_weighs_nothing_beside_a_wrong_value():
    from autograder.checking.compare import backed
    want = np.array([0.2, 0.7])
    right, wrong = values_close("v", want, want, weight=2), values_close("v", np.zeros(2), want, weight=2)
    form = shape_is("s", np.zeros(2), (2,))
    assert backed(form, right).weight == 1.0 and backed(form, right, True).passed
    weightless = backed(form, wrong)
    assert weightless.passed and weightless.weight == 0.0 and form.weight == 1.0  # a copy
    assert score([weightless, wrong]) == 0.0  # zeros of the right shape earn nothing
    column = backed(shape_is("s", want.reshape(2, 1), (2,), hint="column"), right)
    assert not column.passed and column.weight == 1.0 and column.hint == "column"
    assert score([column, right]) == 2 / 3  # a right value in a wrong form loses the form's point
    explained = backed(shape_is("s", np.zeros((2, 1)), (2,), hint="column"), wrong)
    assert explained.weight == 0.0 and explained.hint == "column"  # still shown, still explained
    assert backed(form, False).weight == 0.0
