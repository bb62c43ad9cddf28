"""The reference's speed-ups keep its answers: compiled answers to stand-ins, and
expected values computed ahead (``grading/reference.py``, ``grading/grade.py``)."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.exercises import EXERCISES, cases_for
from autograder.grading import grade
from autograder.grading.reference import LocalReference, ReferenceFailed, fingerprint, plain
from autograder.sandbox.settings import Limits
from conftest import FULL_MARKS, RELEASE

F32 = np.float32
RNG = np.random.default_rng(7)
W, B = RNG.normal(size=(3, 1)).astype(F32), np.asarray([0.2], F32)
X = RNG.normal(size=(20, 3)).astype(F32)
T = (RNG.random((20, 1)) > 0.5).astype(F32)
LOGITS = (X @ W + B).astype(F32)
# (exercise, arguments, cotangent): one call of each kind of stand-in, both directions
CALLS = [("predict", [W, B, X], None), ("predict", [W, B, X], np.ones((20, 1), F32)),
         ("loss", [W, B, X, T], None), ("loss", [W, B, X, T], np.asarray(1.5, F32)),
         ("grad", [W, B, X, T], None),
         ("model_loss", [LOGITS, T.reshape(-1)], None),
         ("model_loss", [LOGITS, T.reshape(-1)], np.asarray(2.0, F32)),
         ("model_grad", [LOGITS, T.reshape(-1)], None)]


def eager(reference, name, args, cotangent):
    """The answer computed without a graph, from the same course code."""
    import tensorflow as tf
    answers = reference._worker.answers
    xs = [tf.constant(a) for a in args]
    extra = [] if cotangent is None else [tf.constant(cotangent)]
    return plain(answers._function(EXERCISES[name], xs, cotangent)(*extra, *xs))


def assert_same(got, want):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want)
        for key in want:
            assert_same(got[key], want[key])
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif want is None or isinstance(want, (str, bool)):
        assert got == want
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, args, cotangent", CALLS,
                         ids=[f"{n}-{'vjp' if c is not None else 'value'}" for n, _, c in CALLS])
def test_compiled_answers_are_the_eager_ones(local_reference, name, args, cotangent):
    """Each call three times (the later ones from the compiled graph, on other sizes too):
    the same numbers as the course's code run eagerly, from one trace whatever the sizes."""
    for rows in (20, 13, 7):
        cut = [a[:rows] if a.ndim and a.shape[0] == 20 else a for a in args]
        cot = cotangent[:rows] if cotangent is not None and cotangent.ndim else cotangent
        assert_same(local_reference.call(name, cut, cot), eager(local_reference, name, cut, cot))
    graphs = local_reference._worker.answers._graphs
    key = next(key for key, graph in graphs.items() if key[0] == name and key[1] == (cotangent is None)
               and graph is not None)
    assert graphs[key].experimental_get_tracing_count() == 1


UNTRACEABLE = [("setup", "import numpy as np\nimport tensorflow as tf\n"),
               ("predict", "def predict(W, b, inputs):\n"
                           "    z = inputs.numpy() @ W.numpy() + b.numpy()  # eager only\n"
                           "    return tf.constant(1 / (1 + np.exp(-z)))\n")]


def test_a_reference_that_cannot_be_traced_is_answered_eagerly(reference_cells):
    """A course whose ``predict`` works on NumPy values (no graph can run it) still gets
    its answers, computed eagerly, and that signature is not traced again."""
    cells = [cell for cell in reference_cells if cell[0] != "predict"] + UNTRACEABLE[1:]
    reference = LocalReference(cells)
    want = 1 / (1 + np.exp(-(X @ W + B)))
    for _ in range(2):
        np.testing.assert_allclose(reference.call("predict", [W, B, X]), want, rtol=1e-5)
    graphs = reference._worker.answers._graphs
    assert [graph for key, graph in graphs.items() if key[0] == "predict"] == [None]


def test_bad_arguments_are_refused_as_eagerly_and_keep_the_graph(local_reference):
    """A call whose shapes do not fit fails as the eager code fails; the graph stays for
    the calls that fit (one student's bad call does not slow everyone's)."""
    with pytest.raises(ReferenceFailed) as failed:
        local_reference.call("predict", [W, B, X[:, :2]])
    assert failed.value.kind in ("InvalidArgumentError", "ValueError")
    assert_same(local_reference.call("predict", [W, B, X]), eager(local_reference, "predict", [W, B, X], None))
    graphs = local_reference._worker.answers._graphs
    assert all(graph is not None for key, graph in graphs.items() if key[0] == "predict")


class Recorder:
    """A reference that records what is asked ahead, and answers nothing."""

    def __init__(self):
        self.ahead_asked = []

    def ahead(self, name, cases):
        self.ahead_asked.append(name)
        return None


@pytest.mark.parametrize("notebook, stubs", [(FULL_MARKS, set()), (RELEASE, set(EXERCISES))],
                         ids=["full marks", "released stubs"])
def test_expected_values_are_asked_ahead_except_for_stubs(notebook, stubs):
    recorder = Recorder()
    run = grade._Run(grade.code_cells(notebook), Limits(), recorder)
    run.look_ahead(11)
    assert recorder.ahead_asked == [name for name in EXERCISES if name not in stubs]
    # every exercise's cases are drawn once, here, as the judge will see them
    assert {name: [fingerprint(c) for c in cases] for name, cases in run.cases.items()} == \
        {name: [fingerprint(c) for c in cases_for(exercise, 11)] for name, exercise in EXERCISES.items()}


def test_the_judge_reads_the_values_computed_ahead(local_reference):
    """The judge's expected values come from the future computed ahead, case by case,
    and its seconds are recorded as ``ahead``; a cancelled future falls back to the
    reference on the spot."""
    from concurrent.futures import Future
    cases = cases_for(EXERCISES["loss"], 3)
    values = [local_reference.expected("loss", case) for case in cases]
    run = grade._Run([], Limits(), local_reference)
    clock = grade._Clock()
    done = Future()
    done.set_result((values, 0.25))
    run.ahead["loss"] = done
    expected = run.expected("loss", cases, clock)
    assert [expected(case) is value for case, value in zip(cases, values)] == [True] * len(cases)
    assert clock.split()["ahead"] == 0.25 and "loss" not in run.ahead
    waiting = Future()  # not started: cancelled, and asked on the spot instead
    run.ahead["loss"] = waiting
    expected = run.expected("loss", cases, clock)
    assert waiting.cancelled()
    assert_same(expected(cases[0]), values[0])


def test_the_pool_computing_ahead_is_one_process_per_grading_thread(reference_cells, monkeypatch):
    """A reference made for one notebook at a time (nbgrader's pipeline, Gradescope: no
    number of grading threads given) computes ahead in one process, not one per core; one
    warmed for N grading threads, in N. Nothing is started here."""
    from autograder.grading.reference import Reference
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    single, warmed = Reference(reference_cells), Reference(reference_cells, processes=3)
    assert (single._calls.processes, single._ahead.processes) == (8, 1)
    assert (warmed._calls.processes, warmed._ahead.processes) == (3, 3)
    assert single.pids() == [] and warmed.pids() == []


@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_reference_process_forgets_the_models_its_expected_values_built(reference_cells,
                                                                           monkeypatch, protected):
    """A reference process lives for a whole class; Keras keeps every model built in it
    (the leak: about 5 MB per submission). After computing expected values the process's
    Keras state is empty again: a new layer gets the first name, as in a fresh process.
    Run here with the process's entry point (its CPU cap left out)."""
    import tensorflow as tf
    from autograder.grading import reference
    monkeypatch.setattr(reference, "_worker", reference._Worker(reference_cells))
    monkeypatch.setattr(reference, "_cap_cpu", lambda seconds: None)
    if not protected:
        monkeypatch.setattr(reference, "_forget_keras_state", lambda: None)
    tf.keras.backend.clear_session(free_memory=False)
    name = "train_with_optimizer"
    reference._run_in_worker(60, "expected_all", name, cases_for(EXERCISES[name], 4))
    assert (tf.keras.layers.Dense(1).name == "dense") is protected
