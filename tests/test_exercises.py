"""The contract itself: the course's reference earns full marks, inputs replay from the
seed and depend on the exercise's name only, and an exercise is only ever graded with
stand-ins for earlier exercises."""
import dataclasses

import numpy as np
import pytest

from autograder import corpus, local
from autograder.exercises import EXERCISES, TOTAL_POINTS, cases_for


@pytest.fixture
def namespace(reference_cells):
    """A notebook's namespace after running the setup and solution cells."""
    return corpus.namespace_with("predict", dict(reference_cells)["predict"], reference_cells)


def test_points_total_100():
    assert TOTAL_POINTS == 100


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_earns_full_marks(name, namespace, local_reference):
    result = local.grade(name, namespace, local_reference)
    assert result.score == EXERCISES[name].points, result.feedback
    assert f"{name}: {EXERCISES[name].points:g} / {EXERCISES[name].points:g}" in result.feedback


@pytest.mark.parametrize("name", list(EXERCISES))
def test_missing_definition_scores_zero_and_says_which(name, namespace, local_reference):
    del namespace[EXERCISES[name].defines]
    result = local.grade(name, namespace, local_reference)
    assert result.score == 0 and result.status == "missing"
    assert f"`{EXERCISES[name].defines}` is not defined" in result.feedback


def test_uses_only_earlier_exercises():
    order = list(EXERCISES)
    for position, exercise in enumerate(EXERCISES.values()):
        for used in exercise.uses:
            assert used in order[:position], f"{exercise.name} uses {used}, graded later"
            assert EXERCISES[used].stand_in, f"{used} is used but declares no stand-in"


def test_cases_replay_from_seed_and_vary_with_it():
    for exercise in EXERCISES.values():
        a, b, c = (cases_for(exercise, s) for s in (1, 1, 2))
        for x, y in zip(a, b):
            for key in x:
                np.testing.assert_array_equal(np.asarray(x[key]), np.asarray(y[key]))
        assert any(not np.array_equal(np.asarray(x["inputs"]), np.asarray(z["inputs"]))
                   for x, z in zip(a, c))


def _same_cases(a, b) -> bool:
    return all(np.array_equal(np.asarray(x[k]), np.asarray(y[k])) for x, y in zip(a, b) for k in x)


def test_adding_or_reordering_exercises_keeps_every_other_exercises_inputs(monkeypatch):
    """Inputs are seeded by the exercise's name: a new exercise at the front and the
    table reversed change nothing for the others (seeding by position would)."""
    import autograder.exercises as registry
    before = {name: cases_for(ex, 7) for name, ex in EXERCISES.items()}
    sigmoid = dataclasses.replace(EXERCISES["predict"], name="sigmoid", defines="sigmoid")
    reordered = {"sigmoid": sigmoid, **dict(reversed(list(EXERCISES.items())))}
    monkeypatch.setattr(registry, "EXERCISES", reordered)
    for name, exercise in EXERCISES.items():
        assert _same_cases(before[name], registry.cases_for(exercise, 7)), name
    assert not _same_cases(before["predict"], registry.cases_for(sigmoid, 7))


def test_several_input_sizes_and_dims():
    dims = {c["inputs"].shape[1] for c in cases_for(EXERCISES["predict"], 0)}
    sizes = {c["inputs"].shape[0] for c in cases_for(EXERCISES["predict"], 0)}
    assert dims == {2, 3, 5} and 1000 not in sizes and len(sizes) == 3


def test_exact_and_tutorial_cross_entropy_both_pass(namespace, local_reference):
    import tensorflow as tf
    predict = namespace["predict"]

    def exact(W, b, inputs, targets):
        p = predict(W, b, inputs)
        return -tf.reduce_mean(targets * tf.math.log(p) + (1 - targets) * tf.math.log(1 - p))

    namespace["loss"] = exact
    assert local.grade("loss", namespace, local_reference).score == EXERCISES["loss"].points


def test_grading_puts_the_students_own_names_back(namespace, local_reference):
    mine = lambda W, b, inputs: None  # noqa: E731
    namespace["predict"] = mine
    local.grade("loss", namespace, local_reference)
    assert namespace["predict"] is mine


def test_stand_ins_are_not_the_reference(namespace, local_reference):
    """While `grad` is graded, `loss` and `predict` are the kit's stand-ins (which ask the
    grader), not the course's functions; they agree with them, gradients included."""
    import tensorflow as tf
    from autograder.harness import stand_ins
    calls = []

    def call(name, args, cotangent=None):
        calls.append(name)
        return local_reference.call(name, args, cotangent)
    replaced = stand_ins(EXERCISES["grad"], call)
    assert set(replaced) == {"predict", "loss"}
    assert replaced["loss"] is not namespace["loss"]
    assert "harness" in replaced["loss"].__code__.co_filename
    case = cases_for(EXERCISES["grad"], 1)[0]
    W, b, X, t = (tf.constant(case[k]) for k in ("W", "b", "inputs", "targets"))
    for loss in (replaced["loss"], local_reference.namespace.loss):
        with tf.GradientTape() as tape:
            tape.watch(W)
            value = loss(W, b, X, t)
        if loss is replaced["loss"]:
            mine = float(value), tape.gradient(value, W).numpy()
        else:
            theirs = float(value), tape.gradient(value, W).numpy()
    assert calls == ["loss", "loss"]  # the value, then the gradient
    assert mine[0] == pytest.approx(theirs[0], rel=1e-6)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-5)


def test_stand_ins_work_inside_tf_function(namespace, local_reference):
    """A student's @tf.function calling a stand-in still gets values and gradients."""
    import tensorflow as tf
    from autograder.harness import stand_ins
    replaced = stand_ins(EXERCISES["grad"], local_reference.call)

    @tf.function
    def grad(W, b, inputs, targets):
        with tf.GradientTape() as tape:
            tape.watch(W)
            tape.watch(b)
            value = replaced["loss"](W, b, inputs, targets)
        return value, tape.gradient(value, [W, b])
    case = cases_for(EXERCISES["grad"], 2)[1]
    args = [tf.constant(case[k]) for k in ("W", "b", "inputs", "targets")]
    value, (dW, db) = grad(*args)
    want = local_reference.expected("grad", case)
    assert float(value) == pytest.approx(float(want["loss"]), rel=1e-5)
    np.testing.assert_allclose(dW.numpy(), want["dW"], rtol=1e-4, atol=1e-7)
