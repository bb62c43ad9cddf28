"""The contract itself: the reference earns full marks, inputs replay from the seed,
and an exercise is only ever graded with reference versions of earlier exercises."""
import inspect

import numpy as np
import pytest

from autograder import kernel, reference
from autograder.exercises import EXERCISES, TOTAL_POINTS, cases_for
from autograder.grade import reference_sources
from autograder.harness import define

CONTRACT_NAMES = [ex.defines for ex in EXERCISES.values()]


def reference_namespace():
    """A namespace like a notebook's after running the solution cells: the reference
    definitions executed as student cells (so they look each other up in it)."""
    import numpy as np
    import tensorflow as tf
    namespace = {"tf": tf, "np": np}
    for name in CONTRACT_NAMES:
        exec(compile(inspect.getsource(getattr(reference, name)), f"<cell {name}>", "exec"), namespace)
    return namespace


def test_points_total_100():
    assert TOTAL_POINTS == 100


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_earns_full_marks(name, capsys):
    assert kernel.grade(name, reference_namespace()) is None
    assert f"{name}: {EXERCISES[name].points:g} / {EXERCISES[name].points:g}" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(EXERCISES))
def test_missing_definition_scores_zero_and_says_which(name, capsys):
    namespace = reference_namespace()
    del namespace[EXERCISES[name].defines]
    with pytest.raises(AssertionError):
        kernel.grade(name, namespace)
    assert f"`{EXERCISES[name].defines}` is not defined" in capsys.readouterr().out


def test_uses_only_earlier_exercises():
    order = [ex.defines for ex in EXERCISES.values()]
    for position, exercise in enumerate(EXERCISES.values()):
        for used in exercise.uses:
            assert used in order[:position], f"{exercise.name} uses {used}, graded later"


def test_cases_replay_from_seed_and_vary_with_it():
    for exercise in EXERCISES.values():
        a, b, c = (cases_for(exercise, s) for s in (1, 1, 2))
        for x, y in zip(a, b):
            for key in x:
                np.testing.assert_array_equal(np.asarray(x[key]), np.asarray(y[key]))
        assert any(not np.array_equal(np.asarray(x["inputs"]), np.asarray(z["inputs"]))
                   for x, z in zip(a, c))


def test_several_input_sizes_and_dims():
    dims = {c["inputs"].shape[1] for c in cases_for(EXERCISES["predict"], 0)}
    sizes = {c["inputs"].shape[0] for c in cases_for(EXERCISES["predict"], 0)}
    assert dims == {2, 3, 5} and 1000 not in sizes and len(sizes) == 3


@pytest.mark.parametrize("name", [n for n, ex in EXERCISES.items() if ex.uses])
def test_reference_definitions_travel_as_source(name):
    """What the sandbox receives is self-contained and still earns full marks."""
    exercise = EXERCISES[name]
    shipped = define(reference_sources(exercise.uses))
    assert set(shipped) == set(exercise.uses)
    for used in exercise.uses:
        assert inspect.getsource(getattr(reference, used)) in reference_sources([used])[used]
    namespace = reference_namespace()
    from autograder.harness import run_exercise
    from autograder.judge import judge
    cases = cases_for(exercise, 3)
    outcomes = run_exercise(exercise, namespace, cases, shipped)
    assert judge(name, cases, outcomes).score == exercise.points


def test_exact_and_tutorial_cross_entropy_both_pass(capsys):
    import tensorflow as tf

    def exact(W, b, inputs, targets):
        p = reference.predict(W, b, inputs)
        return -tf.reduce_mean(targets * tf.math.log(p) + (1 - targets) * tf.math.log(1 - p))

    namespace = reference_namespace()
    namespace["loss"] = exact
    assert kernel.grade("loss", namespace) is None  # the reference itself is the +1e-4 form


def test_kernel_grade_keeps_student_names(capsys):
    namespace = reference_namespace()
    mine = lambda W, b, inputs: None  # noqa: E731
    namespace["predict"] = mine
    kernel.grade("loss", namespace)
    assert namespace["predict"] is mine
