"""Nothing a submission sends, names or points at can crash, hang or mislead the grader.

Issue 14, items 2 (validation at the boundary), 3 (fault containment), 5 (files and
names), 6 (outputs escaped) and 7 (fuzzing). Items 1 and 4 (the channel, inherited
descriptors) are tested with the sandbox itself (tests/test_isolation.py).

Most tests here grade real notebooks through the real grader (grade.py, judge.py,
batch.py, report.py) with :class:`InProcessSandbox` standing in for the sandboxed
process: the same harness runs the same cells, and every message goes through ``wire``
as on the real channel, so a test can forge exactly what a hostile submission can send
without the cost of a process per student.
"""
from __future__ import annotations

import csv
import faulthandler
import io
import json
import logging
import os
import shutil
import sys
import threading

import mistune
import nbformat
import numpy as np
import pytest

from autograder import GRADER_ERROR
from autograder.boundary import replies, wire
from autograder.checking import judge
from autograder.checking.compare import Check
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import batch, grade
from autograder.results import (escape, feedback as feedback_md, files, grades_csv,
                                table as grade_table, views)
from autograder.results.exports import gradescope as gradescope_json
from autograder.sandbox import harness
from conftest import FULL_MARKS, ROOT, SUBMITTED, with_cell, write_student

SUM_LOSS = SUBMITTED / "sum_loss" / "tf_from_scratch" / "tf_from_scratch.ipynb"


class InProcessSandbox:
    """``grade.Sandbox``'s interface (start, request, stop, isolation) with the harness
    running in this process. Every request and reply goes through ``wire``; a test sets
    ``forge(message, reply) -> reply`` to replace what a student's code would send."""

    forge = None

    def __init__(self, limits):
        self.limits, self.isolation, self.shell = limits, ["in-process test stand-in"], None

    def start(self) -> None:
        self.shell = harness.make_shell()
        self.shell.reset(new_session=False)

    def request(self, message: dict, timeout: float, answer_call=None) -> dict:
        message = wire.loads(wire.dumps(message))

        def call(name, args, cotangent=None):  # the channel, as plain data both ways
            asked = wire.loads(wire.dumps({"op": "call", "name": name, "args": list(args),
                                           "cotangent": cotangent}))
            reply = wire.loads(wire.dumps(answer_call(asked)))
            if "error" in reply:
                raise harness.ReferenceRefused(reply["error"])
            return reply["value"]
        if message["op"] == "cell":
            reply = harness.run_cell(self.shell, message["id"], message["source"])
        else:
            exercise = EXERCISES[message["name"]]
            reply = {"outcomes": harness.run_exercise(
                exercise, self.shell.user_ns, message["cases"], harness.stand_ins(exercise, call))}
        reply["output"] = ""
        if type(self).forge is not None:
            reply = type(self).forge(message, reply)
        return wire.loads(wire.dumps(reply))

    def stop(self) -> None:
        pass


def start_like_a_sandbox() -> None:
    """The course's reference process started, and what a sandbox's forkserver imports
    before any cell (``forkserver.PRELOAD``) imported here: a cell's first run in this
    process then costs what it does in a sandbox, not TensorFlow's first import (which,
    on a loaded machine, took the first test's import cell past the rerun allowance, so
    that it was not run again after the forger's restart)."""
    from autograder.grading.reference import Reference
    from autograder.sandbox import forkserver
    for started in Reference.from_course(ROOT).start():  # both pools: calls, and ahead
        started.result(300)
    forkserver.import_quietly(*forkserver.PRELOAD)


@pytest.fixture
def in_process(monkeypatch):
    """Grading with :class:`InProcessSandbox`; yields a setter for the forgery. The
    course's reference process is started first: IPython's shell, made in this process
    here, replaces ``sys.modules["__main__"]``, which multiprocessing then cannot use
    (it is put back afterwards, for the tests that start processes later)."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    start_like_a_sandbox()
    monkeypatch.setattr(grade, "Sandbox", InProcessSandbox)
    monkeypatch.setattr(InProcessSandbox, "forge", None)
    yield lambda forge: monkeypatch.setattr(InProcessSandbox, "forge", staticmethod(forge))


def copy_student(folder, student, source=SUBMITTED):
    shutil.copytree(source / student, folder / student)


def rows(out):
    with open(out / grades_csv.GRADES_FILE, newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def forging(name: str, change, student: str | None = "forger"):
    """A forgery of exercise ``name``'s reply by ``student`` (graded in a thread of that
    name, see :func:`grade_as`; None: by everyone): ``change(reply)`` gives what is sent
    instead. Other exercises and students are left alone."""
    def forge(message, reply):
        if message.get("op") == "exercise" and message["name"] == name \
                and student in (None, threading.current_thread().name):
            return change(reply)
        return reply
    return forge


def grade_as(student: str, path, **kwargs):
    """Grade one notebook in a thread named after the student (see :func:`forging`)."""
    box = {}

    def target():
        try:
            box["result"] = grade.grade_submission(path, student, 20211, **kwargs)
        except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
    thread = threading.Thread(target=target, name=student)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


# --- 2. Validation at the boundary ---

@pytest.mark.slow  # grades whole notebooks in process
def test_forged_array_where_a_count_belongs_is_a_crashed_exercise_not_a_dead_batch(
        in_process, tmp_path, monkeypatch):
    """The issue's attack: an array where a number belongs made ``Check.passed`` an
    ndarray, and ``write_result`` raised in the main thread. Now the forger's exercise
    is crashed, the rest of its notebook is graded, and so is everyone else."""
    def forge(reply):
        reply["outcomes"] = [{"ok": {**o["ok"], "before": np.array([0])}} for o in reply["outcomes"]]
        return reply
    in_process(forging("my_dense", forge))
    for student in ["full_marks", "sum_loss"]:
        copy_student(tmp_path / "class", student)
    shutil.copytree(SUBMITTED / "full_marks", tmp_path / "class" / "forger")
    monkeypatch.setattr(batch, "grade_submission", lambda path, student, seed, limits: grade_as(
        student, path, limits=limits))
    batch.grade_class([tmp_path / "class"], tmp_path / "out", seed=20211, jobs=1, progress=False)
    table = rows(tmp_path / "out")
    assert float(table["full_marks"]["total"]) == TOTAL_POINTS
    assert float(table["sum_loss"]["total"]) == pytest.approx(TOTAL_POINTS - EXERCISES["loss"].points, abs=0.01)
    forger = json.loads((tmp_path / "out" / "forger" / "result.json").read_text())
    assert forger["status"] == "incomplete" and forger["exercises"]["my_dense"]["status"] == "crashed"
    assert forger["score"] == TOTAL_POINTS - EXERCISES["my_dense"].points
    assert "malformed" in forger["exercises"]["my_dense"]["feedback"]


@pytest.mark.parametrize("name,field,value", [
    ("my_dense", "before", np.array([0])),
    ("my_dense", "trainable", 2.0),
    ("my_model", "is_mydense", np.array([True])),
    ("my_model", "W_shape", "2,1"),
    ("train", "losses", [np.array([0.5])] * 15),
    ("train_with_optimizer", "iterations", [12]),
    ("train_with_optimizer", "W", np.zeros((10 ** 4, 1))),
    ("train_minibatch", "losses", {"__repr__": "list"}),
])
def test_every_field_the_probe_computes_is_checked(name, field, value):
    cases = grade.cases_for(EXERCISES[name], 20211)
    honest = honest_outcomes(name)
    forged = [{"ok": {**o["ok"], field: value}} for o in honest]
    result = grade.judge_reply(name, cases, {"outcomes": wire.loads(wire.dumps(forged))}, expected(name))
    assert result.status == "crashed" and result.score == 0
    assert f"field {field!r}" in result.feedback
    json.dumps(result.to_dict())  # plain data only
    assert grade.judge_reply(name, cases, {"outcomes": honest}, expected(name)).score == EXERCISES[name].points


@pytest.mark.parametrize("reply", [
    None, [], {"outcomes": None}, {"outcomes": [{"ok": {}}]}, {"outcomes": [{"ok": 1, "error": "x"}] * 3},
    {"outcomes": [{"missing": "os"}] * 3}, {"outcomes": [{"error": ["not", "text"]}] * 3},
    {"failed": {"not": "text"}},
])
def test_malformed_envelopes_are_crashed_with_a_reason(reply):
    cases = grade.cases_for(EXERCISES["predict"], 20211)
    result = grade.judge_reply("predict", cases, reply, expected("predict"))
    assert result.status == "crashed" and result.score == 0 and result.feedback.count("\n") >= 1
    json.dumps(result.to_dict())


def test_student_answers_of_any_form_are_graded_not_refused():
    """A returned value is the student's answer, right or wrong: odd forms are described
    in the feedback, never mistaken for a forgery."""
    cases = grade.cases_for(EXERCISES["predict"], 20211)
    odd = [np.array(["a"], dtype=object), "```\n# title", 10 ** 30, {"a": 1}, [[1.0]] * 20000,
           np.full(3, np.nan), None]
    for value in odd:
        outcomes = [{"ok": {key: value for key in EXERCISES["predict"].schema(case)}} for case in cases]
        result = judge.judge("predict", cases, outcomes, expected=expected("predict"))
        assert result.status == "graded" and result.score == 0, value
        json.dumps(result.to_dict())


def test_a_check_result_is_always_a_plain_bool():
    assert Check("x", np.bool_(True)).passed is True
    with pytest.raises(TypeError):
        Check("x", np.array([True]))
    with pytest.raises(TypeError):
        Check("x", True, weight=np.array([1.0]))


@pytest.mark.slow  # grades whole notebooks in process
def test_a_forged_cell_reply_skips_the_cell(in_process):
    """A cell's reply that is neither ok nor an error text (here: an error that is a
    number) skips that cell as crashed: the student is incomplete, not an exception."""
    def forge(message, reply):
        if message.get("op") == "cell" and "def loss(" in message["source"]:
            return {"error": 5, "output": ""}
        return reply
    in_process(forge)
    result = grade.grade_submission(FULL_MARKS, "forger", 20211)
    assert result.status == "incomplete" and "malformed" in result.reason
    assert result.score == TOTAL_POINTS - EXERCISES["loss"].points
    json.dumps(result.to_dict())


# --- The reference functions a sandbox may call (issue 22, item 6) ---

# A predict that computes nothing: it looks up the stack for the stand-ins' channel
# (``call``, a local of the sandbox's request loop, or of ``local.grade``) and asks the
# grader for the reference ``predict`` itself. Otherwise it returns zeros of the right
# shape, which earn nothing.
ORACLE_PREDICT = """
def predict(W, b, inputs):
    import sys
    frame = sys._getframe(1)
    while frame is not None:
        oracle = frame.f_locals.get("call")
        if callable(oracle):
            try:
                return tf.constant(oracle("predict", [np.asarray(v, np.float32) for v in (W, b, inputs)]))
            except Exception as exc:
                print("refused:", exc)
                break
        frame = frame.f_back
    return tf.zeros(tf.shape(inputs)[:1])
"""


def _allow_any_call(monkeypatch):
    """The protection switched off: every exercise may call every reference function."""
    monkeypatch.setattr(replies, "allowed_calls", lambda exercise: frozenset(EXERCISES))


@pytest.mark.slow  # grades whole notebooks in process
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_a_sandbox_may_call_only_what_its_exercise_uses(protected, in_process, tmp_path, monkeypatch):
    """Graded through the sandbox's route, the oracle's predict earns nothing; with every
    call allowed, it earns full marks (the attack the issue found)."""
    if not protected:
        _allow_any_call(monkeypatch)
    path = write_student(tmp_path, "oracle", with_cell(nbformat.read(str(FULL_MARKS), as_version=4),
                                                       ORACLE_PREDICT, replace="predict"))
    result = grade.grade_submission(path, "oracle", 20211)
    predict = EXERCISES["predict"].points
    assert result.exercises["predict"].score == (0 if protected else predict)
    assert result.score == pytest.approx(TOTAL_POINTS - (predict if protected else 0), abs=0.01)


@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_the_in_process_grader_allows_the_same_calls(protected, monkeypatch, capsys):
    """``local.grade`` answers its stand-ins through the same list (one copy): the same
    oracle earns nothing there, and everything once the list is switched off."""
    from autograder.authoring import corpus
    from autograder.grading import local
    from autograder.grading.reference import read_reference
    if not protected:
        _allow_any_call(monkeypatch)
    namespace = corpus.namespace_with("predict", ORACLE_PREDICT, read_reference(ROOT))
    result = local.grade("predict", namespace, _reference(), 20211)
    assert result.score == (0 if protected else EXERCISES["predict"].points)
    assert ("is not available while this exercise is graded" in capsys.readouterr().out) == protected


# --- Facts the probe reports earn points only with a value behind them (issue 13, item 4) ---

# What a probe counts or flags about the student's objects, by exercise. The grader
# cannot see those objects: each fact's check passes only when a value the grader
# computes itself, from inputs and weights it chose, shows the fact too.
FACTS = {"my_dense": ("before", "trainable"), "my_model": ("is_mydense", "trainable"),
         "train_with_optimizer": ("iterations",), "train_minibatch": ("iterations",)}

# A submission wrong in exactly those facts; every other exercise is the reference's.
WRONG_FACTS = {
    # weights made in __init__, for two input features, and not trainable: right values
    # on a case with two features (before = 2, trainable = 0)
    "my_dense": (
        "class MyDense(tf.keras.layers.Layer):\n"
        "    def __init__(self, num_outputs, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.W = self.add_weight(name='W', shape=(2, num_outputs), trainable=False)\n"
        "        self.b = self.add_weight(name='b', shape=(num_outputs,), initializer='zeros',\n"
        "                                 trainable=False)\n"
        "\n"
        "    def call(self, inputs):\n"
        "        return tf.matmul(inputs, self.W) + self.b\n"),
    # Keras' Dense and one more trainable variable (is_mydense False, trainable = 3)
    "my_model": (
        "class MyModel(tf.keras.Model):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.dense = tf.keras.layers.Dense(1)\n"
        "        self.scale = self.add_weight(name='scale', shape=(), initializer='ones')\n"
        "\n"
        "    def call(self, inputs):\n"
        "        return self.dense(inputs) * self.scale\n"),
    # updates by hand: the optimizer passed in counts 0 steps
    "train_with_optimizer": "train_with_optimizer/manual_update",
    # one update per epoch: `epochs` steps instead of epochs * ceil(n / batch_size)
    "train_minibatch": "train_minibatch/full_batch",
}


def _true_fact(name: str, key: str, case: dict):
    """The value of the fact ``key`` (``<fact>@<argument>`` for a variant) that the
    right answer has on ``case``."""
    from autograder.exercises.support.variants import variant
    fact, _, arg = key.partition("@")
    one = variant(case, arg)
    if fact == "iterations":
        n = one["inputs"].shape[0]
        return one["steps"] if name == "train_with_optimizer" else one["epochs"] * -(-n // one["batch_size"])
    return {"before": 0, "trainable": 2, "is_mydense": True}[fact]


@pytest.mark.slow  # grades whole notebooks in process
def test_forged_facts_earn_no_points_without_the_values(in_process, tmp_path):
    """A submission wrong in every fact a probe reports (weights made in __init__ and
    not trainable, a model without MyDense and with an extra variable, an optimizer not
    used, one update per epoch) forges each fact to its right value. The forgery
    changes the reply, yet each exercise scores what the honest reply scores: the
    facts' points need values that the wrong code does not produce."""
    from autograder.authoring import corpus
    notebook = nbformat.read(str(FULL_MARKS), as_version=4)
    for name, source in WRONG_FACTS.items():
        if "/" in source:
            source = corpus.snippet("mutant", source).source
        notebook = with_cell(notebook, source, replace=name)
    path = write_student(tmp_path, "forger", notebook)
    honest, forged = {}, set()

    def forge(message, reply):
        name = message.get("name")
        if message.get("op") != "exercise" or name not in FACTS:
            return reply
        honest[name] = (message["cases"], wire.loads(wire.dumps(reply["outcomes"])))
        outcomes = []
        for case, outcome in zip(message["cases"], reply["outcomes"]):
            if "ok" in outcome:
                ok = dict(outcome["ok"])
                for key in ok:
                    if key.partition("@")[0] in FACTS[name]:
                        true = _true_fact(name, key, case)
                        if ok[key] != true:
                            forged.add((name, key.partition("@")[0]))
                        ok[key] = true
                outcome = {"ok": ok}
            outcomes.append(outcome)
        return {**reply, "outcomes": outcomes}
    in_process(forge)
    result = grade_as("forger", path)
    # Every fact was wrong in the honest reply, and sent right instead.
    assert forged == {(name, fact) for name, facts in FACTS.items() for fact in facts}
    lost = 0.0
    for name in FACTS:
        cases, outcomes = honest[name]
        truthful = grade.judge_reply(name, cases, {"outcomes": outcomes}, expected(name))
        assert truthful.score < EXERCISES[name].points, name
        assert result.exercises[name].score == truthful.score, (
            f"{name}: the forged facts earned {result.exercises[name].score - truthful.score:g} points\n"
            f"{result.exercises[name].feedback}")
        lost += EXERCISES[name].points - truthful.score
    # The rest of the notebook is the reference's: the known score.
    assert all(e.score == e.max_score for n, e in result.exercises.items() if n not in FACTS)
    assert result.score == pytest.approx(TOTAL_POINTS - lost, abs=0.011)


# --- 3. Fault containment ---

class Injected(RuntimeError):
    pass


def _fail_for(victim: str, real):
    """``real``, except that it raises :class:`Injected` while the victim is handled."""
    def wrapper(*args, **kwargs):
        if threading.current_thread().name == victim or victim in map(str, args) \
                or any(isinstance(a, dict) and a.get("student_id") == victim for a in args):
            raise Injected(f"injected into {real.__name__}")
        return real(*args, **kwargs)
    return wrapper


STAGES = ["grade_submission", "judge", "write_result", "feedback_text", "gradescope"]


def in_thread(path, student, seed, limits):
    """``batch.grade_submission``, graded in a thread named after the student."""
    return grade_as(student, path, limits=limits)


@pytest.fixture(scope="module")
def a_failure_at_every_stage(tmp_path_factory):
    """One class graded once: full_marks, and for each stage a copy of sum_loss
    (``fails_in_<stage>``) whose handling raises :class:`Injected` at that stage only.
    Returns grades.csv's rows, the results, what each victim's stage is called, and the
    errors logged."""
    folder = tmp_path_factory.mktemp("stages")
    copy_student(folder / "class", "full_marks")
    for stage in STAGES:
        shutil.copytree(SUBMITTED / "sum_loss", folder / "class" / f"fails_in_{stage}")
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("autograder")
    level = logger.level
    start_like_a_sandbox()  # as the in_process fixture
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grade, "Sandbox", InProcessSandbox)
        patch.setattr(InProcessSandbox, "forge", None)
        patch.setattr(batch, "grade_submission", in_thread)
        targets = {"grade_submission": (batch, in_thread), "judge": (grade, grade.judge),
                   "write_result": (views, views.write_result),
                   "feedback_text": (feedback_md, feedback_md.feedback_text),
                   "gradescope": (gradescope_json, gradescope_json.results_json)}
        for stage, (module, real) in targets.items():
            attribute = "grade_submission" if stage == "grade_submission" else real.__name__
            patch.setattr(module, attribute, _fail_for(f"fails_in_{stage}", real))
        logger.addHandler(handler)
        logger.setLevel(logging.ERROR)
        try:
            results = batch.grade_class([folder / "class"], folder / "out", seed=20211, jobs=1,
                                        progress=False, formats=("tfkit", "gradescope"))
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
    names = {stage: real.__name__ for stage, (_, real) in targets.items()}
    return rows(folder / "out"), results, names, logged.getvalue()


@pytest.mark.slow  # grades whole notebooks in process
@pytest.mark.parametrize("stage", STAGES)
def test_an_exception_at_any_stage_costs_only_that_student(stage, a_failure_at_every_stage):
    table, results, names, logged = a_failure_at_every_stage
    victim = f"fails_in_{stage}"
    students = {"full_marks", *(f"fails_in_{s}" for s in STAGES)}
    assert set(table) == students == {r["student_id"] for r in results}
    assert float(table["full_marks"]["total"]) == TOTAL_POINTS
    assert table["full_marks"]["status"] == "graded"
    assert table[victim]["status"] == GRADER_ERROR and table[victim]["total"] == "", table[victim]
    assert table[victim]["reason"].startswith("grader error: Injected"), table[victim]["reason"]
    # the victim failed at its own stage, not at another victim's
    assert f"injected into {names[stage]}" in table[victim]["reason"], table[victim]["reason"]
    assert "Traceback" in logged and "Injected" in logged, logged[-3000:]
    assert f"injected into {names[stage]}" in logged, logged[-3000:]


def test_grades_csv_is_written_even_when_writing_it_fails_along_the_way(tmp_path, monkeypatch):
    calls = []
    real = grades_csv.write_grades

    def flaky(out_dir):
        calls.append(out_dir)
        if len(calls) == 1:
            raise Injected("disk hiccup")
        return real(out_dir)
    monkeypatch.setattr(grades_csv, "write_grades", flaky)
    monkeypatch.setattr(batch, "grade_submission", lambda path, student, seed, limits: grade.Result(
        student_id=student, score=1.0, seed=seed))
    for student in ["ann", "ben"]:
        copy_student(tmp_path / "class", "full_marks")
        (tmp_path / "class" / "full_marks").rename(tmp_path / "class" / student)
    batch.grade_class([tmp_path / "class"], tmp_path / "out", seed=1, jobs=1, progress=False)
    assert set(rows(tmp_path / "out")) == {"ann", "ben"}


# --- helpers shared with the fuzzing below ---

_honest: dict = {}


def _reference():
    from autograder.grading.reference import LocalReference, read_reference
    if "reference" not in _honest:
        _honest["reference"] = LocalReference(read_reference(ROOT))
    return _honest["reference"]


def expected(name: str):
    """What the cases of exercise ``name`` are compared with (the course's reference)."""
    return lambda case: _reference().expected(name, case)


def honest_outcomes(name: str) -> list:
    """What the probe of exercise ``name`` sends for the reference solution (through
    ``wire``, as on the channel): full marks."""
    if name not in _honest:
        from autograder.authoring import corpus
        from autograder.grading.reference import read_reference
        cells = read_reference(ROOT)
        reference = _reference()
        namespace = corpus.namespace_with(name, dict(cells)[name], cells)
        exercise = EXERCISES[name]
        outcomes = harness.run_exercise(exercise, namespace, grade.cases_for(exercise, 20211),
                                        harness.stand_ins(exercise, reference.call))
        _honest[name] = wire.loads(wire.dumps(outcomes))
    return _honest[name]


# --- 5. Files and names ---

SECRET = "TOP-SECRET-7f3a"


def _fifo_guard():
    """A FIFO read would block forever: end the test run loudly instead of hanging."""
    faulthandler.dump_traceback_later(120, exit=True)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "device"])
def test_only_regular_files_are_read(kind, tmp_path):
    secret = tmp_path / "secret.ipynb"
    secret.write_text(SECRET)
    path = tmp_path / "student.ipynb"
    if kind == "symlink":
        path.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif os.geteuid() == 0:
        os.mknod(path, 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 3))  # like /dev/null
    else:
        pytest.skip("making a device needs root")
    _fifo_guard()
    try:
        with pytest.raises(grade.Ungradable) as refused:
            grade.code_cells(path)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert "not a regular file" in str(refused.value) and SECRET not in str(refused.value)


@pytest.mark.slow  # grades whole notebooks in process
def test_a_class_with_links_fifos_and_hostile_names(in_process, tmp_path):
    """Loose notebooks as zip_collect leaves them, some hostile: links to another
    student's work and to a secret, a FIFO, a linked folder, and names that would climb
    out of --out or run as a spreadsheet formula."""
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(SUM_LOSS, loose / "alice.ipynb")
    (tmp_path / "secret.txt").write_text(SECRET)
    (loose / "bob.ipynb").symlink_to(loose / "alice.ipynb")
    (loose / "carol.ipynb").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(loose / "dave.ipynb")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(FULL_MARKS, tmp_path / "elsewhere" / "x.ipynb")
    (loose / "erin").symlink_to(tmp_path / "elsewhere")
    shutil.copy(FULL_MARKS, loose / "...ipynb")
    shutil.copy(FULL_MARKS, loose / '=HYPERLINK("x").ipynb')
    out = tmp_path / "grades" / "out"
    _fifo_guard()
    try:
        results = batch.grade_class([loose], out, seed=20211, jobs=1, progress=False)
    finally:
        faulthandler.cancel_dump_traceback_later()
    by_name = {r["submitted_as"]: r for r in results}
    assert by_name["alice"]["score"] == pytest.approx(TOTAL_POINTS - EXERCISES["loss"].points, abs=0.01)
    for name, why in [("bob", "symbolic link"), ("carol", "symbolic link"), ("dave", "FIFO"),
                      ("erin", "symbolic link")]:
        assert by_name[name]["status"] == "ungradable" and why in by_name[name]["reason"], name
        assert by_name[name]["score"] == 0
    for name in ["..", '=HYPERLINK("x")']:
        assert by_name[name]["score"] == TOTAL_POINTS
        student = by_name[name]["student_id"]
        assert (out / student / "result.json").is_file() and not student.startswith((".", "="))
    assert len({r["student_id"] for r in results}) == len(results) == 7
    assert [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(loose)
            and not p.is_relative_to(out) and p.parent != tmp_path and p.parent.name != "elsewhere"] == []
    for path in out.rglob("*"):
        assert path.is_dir() or SECRET not in path.read_text(errors="replace")
    with open(out / grades_csv.GRADES_FILE, newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]


@pytest.mark.parametrize("student_id", ["..", ".", "", "a/b", "../x", "/etc"])
def test_writes_stay_under_out(student_id, tmp_path):
    with pytest.raises(files.OutsideOutput):
        views.write_result(tmp_path / "out", grade.Result(student_id=student_id).to_dict())
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_planted_link_in_out_is_not_written_through(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "ann").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(files.OutsideOutput):
        views.write_result(tmp_path / "out", grade.Result(student_id="ann").to_dict())
    assert list((tmp_path / "elsewhere").iterdir()) == []


# --- 6. Outputs escaped for where they go ---

EVIL_ID = "x\r\x1b[2K\x1b]0;pwned\x07100 graded\n## Score: 100 / 100"


@pytest.mark.slow  # grades whole notebooks in process
def test_cells_are_named_by_the_instructor_never_by_the_submission(in_process):
    """A cell's grade id comes from the submission's metadata: only an exercise's own id
    is shown, and otherwise the cell's position."""
    notebook = with_cell(nbformat.read(str(FULL_MARKS), as_version=4), "raise ValueError('boom')",
                         after="predict")
    position = 1 + next(i for i, c in enumerate(notebook.cells)
                        if c.metadata.get("nbgrader", {}).get("grade_id") == "predict") + 1
    notebook.cells[position - 1].metadata["nbgrader"] = {"grade_id": EVIL_ID}
    loss = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "loss")
    loss.source = "raise ValueError('no loss')"
    path = write_student(in_process_folder := notebook_folder(), "named", notebook)
    result = grade.grade_submission(path, "named", 20211)
    assert f"cell {position} raised ValueError: boom" in result.reason
    assert "(loss) raised ValueError: no loss" in result.reason
    assert "pwned" not in result.reason and "Score" not in result.reason
    assert result.score == TOTAL_POINTS - EXERCISES["loss"].points
    shutil.rmtree(in_process_folder)


def notebook_folder():
    import tempfile
    from pathlib import Path
    return Path(tempfile.mkdtemp(prefix="tfkit-untrusted-"))


FENCE_BREAKER = "x\n````\n# Score: 100 / 100\n<img src=x onerror=alert(1)>\n``````\n"


def _rendered(markdown_text: str) -> str:
    return mistune.html(markdown_text)


@pytest.mark.slow  # grades whole notebooks in process
def test_feedback_and_gradescope_keep_student_text_literal(in_process, tmp_path):
    """A forged error text tries to close the feedback's code fence, add a heading and
    raw HTML; the reason tries the same in the quote above the table."""
    in_process(forging("predict", lambda reply: {
        **reply, "outcomes": [{"error": FENCE_BREAKER}] * len(reply["outcomes"])}, student=None))
    (tmp_path / "class").mkdir()
    shutil.copy(SUM_LOSS, tmp_path / "class" / "forger.ipynb")
    batch.grade_class([tmp_path / "class"], tmp_path / "out", seed=20211, jobs=1, progress=False,
                      formats=("tfkit", "gradescope"))
    feedback = (tmp_path / "out" / "forger" / "feedback.md").read_text()
    html = _rendered(feedback)
    assert "<img" not in html and html.count("<h1") == 1
    assert set(h.split(":")[0] for h in html.split("<h2>")[1:]) == {"predict", "loss"}
    gradescope = json.loads((tmp_path / "out" / "forger" / "results.json").read_text())
    for test in gradescope["tests"]:
        assert test["output_format"] == "md"
        assert "<img" not in _rendered(test["output"]) and "<h1" not in _rendered(test["output"])
    result = grade.Result(student_id="s", reason=FENCE_BREAKER).to_dict()
    assert "<img" not in _rendered(feedback_md.feedback_text(result))
    assert "<h1" not in _rendered(gradescope_json.results_json(result)["output"])


def _invisible(text: str) -> list:
    return [c for c in text if c != "\n" and escape.invisible(c)]


def test_the_terminal_table_shows_escapes_not_effects():
    results = [grade.Result(student_id=EVIL_ID, reason="\x1b[31mred\r\u202eevil").to_dict(),
               grade.Result(student_id="plain").to_dict()]
    shown = grade_table.table(results)
    assert _invisible(shown) == [] and "\\x1b" in shown and "\\r" in shown
    assert len(shown.splitlines()) == 2 + len(results)


def test_the_progress_bar_and_the_log_show_escapes(tmp_path, monkeypatch, caplog):
    shown = []

    class Bar:
        def __init__(self, *args, **kwargs):
            pass

        def set_postfix_str(self, text):
            shown.append(text)

        def update(self):
            pass

        def close(self):
            pass
    monkeypatch.setattr(batch, "tqdm", Bar)
    monkeypatch.setattr(batch, "Submission", batch.Submission)
    monkeypatch.setattr(batch, "find_submissions", lambda paths: [
        batch.Submission(EVIL_ID.replace("/", "_").replace("\n", " "), tmp_path / "x.ipynb")])
    monkeypatch.setattr(files, "student_folder", lambda out, sid: tmp_path / "out" / "s")

    def fail(*args):
        raise Injected("\x1b]0;pwned\x07")
    monkeypatch.setattr(batch, "grade_submission", fail)
    batch.grade_class([tmp_path], tmp_path / "out", seed=1, jobs=1)
    assert shown and _invisible("".join(shown)) == []
    record = next(r for r in caplog.records if r.name == "autograder.grading.batch")
    assert _invisible(escape.TerminalFormatter().format(record)) == []


def test_csv_cells_never_start_a_formula():
    hostile = ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
    results = [{**grade.Result(student_id=h, status=h, reason=h).to_dict()} for h in hostile]
    cells = [c for row in csv.reader(io.StringIO(grades_csv.grades_csv(results), newline="")) for c in row]
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert "'=1+1" in cells


def test_html_templates_would_be_autoescaped():
    from jinja2 import DictLoader
    env = feedback_md._templates.overlay(loader=DictLoader({"t.html.j2": "{{ x }}", "t.md.j2": "{{ x }}"}))
    assert env.get_template("t.html.j2").render(x="<img onerror=1>") == "&lt;img onerror=1&gt;"
    assert env.get_template("t.md.j2").render(x="<b>") == "<b>"  # Markdown: escaped by filters


# --- 7. Fuzzing the grader's side of the channel ---


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import array_shapes, arrays  # noqa: E402

# No deadline: a first example also warms caches (the reference), and the machines are noisy.
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NAMES = sorted(EXERCISES)
FIELDS = sorted({
    "out", "loss", "dW", "db", "W", "b", "losses", "before", "first", "W_shape", "b_shape",
    "trainable", "is_mydense", "grads", "iterations", "again", "losses_1"})
HUGE = [np.zeros(replies.MAX_ELEMENTS + 1, dtype=np.float32), 10 ** 400, "x" * 100_000,
        [0.5] * (replies.MAX_NODES + 1), [[[[[[[[[[[1.0]]]]]]]]]]], np.full((3, 2), np.inf),
        float("nan"), -float("inf")]
numeric_arrays = arrays(st.sampled_from(["bool", "int8", "int64", "uint16", "float16", "float32", "float64"]),
                        array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
leaves = (st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=12)
          | numeric_arrays | st.integers(0, len(HUGE) - 1).map(HUGE.__getitem__))
values = st.recursive(leaves, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(st.sampled_from([*FIELDS, "__repr__", "x"]), kids, max_size=4),
                      max_leaves=10)
objects = st.sampled_from([np.array([object()]), np.array(["a", "b"]), np.array([1 + 2j]), object(),
                           np.float32(1.5), np.int64(3), (1.0, 2.0)])
outcome_forms = (st.fixed_dictionaries({"ok": values}) | st.fixed_dictionaries({"error": values})
                 | st.fixed_dictionaries({"missing": values}) | values)


def assert_recorded(result, name: str) -> None:
    """A result the batch can record: plain types, a score in range, strict JSON."""
    assert isinstance(result, judge.ExerciseResult) and result.name == name
    assert result.status in {"graded", "missing", "error", "timeout", "crashed"}
    assert type(result.score) is float and 0 <= result.score <= EXERCISES[name].points
    assert all(type(c.passed) is bool and type(c.weight) is float for c in result.checks)
    json.dumps(result.to_dict(), allow_nan=False)


def _cases(name: str) -> list:
    return grade.cases_for(EXERCISES[name], 20211)


def test_fuzz_warm_up():
    """Reference results are computed once per case (memoised): do it before the
    properties below, so their deadlines measure the grader's handling of a reply."""
    for name in NAMES:
        assert grade.judge_reply(name, _cases(name), {"outcomes": honest_outcomes(name)},
                                 expected(name)).score \
            == EXERCISES[name].points


@FUZZ
@given(raw=st.binary(max_size=400)
       | st.builds(lambda v, cut: wire.dumps(v)[:cut], values, st.integers(0, 400))
       | st.builds(lambda n, tail: b"[" * n + b"]" * (n if tail else 0), st.integers(1, 100_000),
                   st.booleans()))
def test_fuzz_wire_loads_raises_only_wire_error(raw):
    try:
        wire.loads(raw)
    except wire.WireError:
        pass


@FUZZ
@given(spec=st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["float64", "int8", "object"]),
                               st.lists(st.integers(-3, 2 ** 70), max_size=4), st.integers(),
                               st.sampled_from(["AAAA", "AAAAAAAAAAA=", "!!"])), max_size=4),
       extra=st.booleans())
def test_fuzz_array_specs_raise_only_wire_error(spec, extra):
    message = {"__ndarray__": spec, **({"x": 1} if extra else {})}
    try:
        value = wire.loads(json.dumps(message).encode())
    except wire.WireError:
        return
    assert isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


@FUZZ
@given(name=st.sampled_from(NAMES),
       reply=values | st.fixed_dictionaries({"outcomes": st.lists(outcome_forms, max_size=4)})
       | st.fixed_dictionaries({"failed": values}))
def test_fuzz_any_decoded_reply_is_recorded(name, reply):
    assert_recorded(grade.judge_reply(name, _cases(name), wire.loads(wire.dumps(reply)), expected(name)), name)


def confusions(honest):
    """Values of the wrong kind that look like the honest one: the forgeries most likely
    to slip through a check (an array for a number, a list of arrays, a text)."""
    wrapped = np.asarray(honest, dtype=object) if isinstance(honest, list) and honest and \
        isinstance(honest[0], np.ndarray) else np.asarray(honest if honest is not None else 0)
    forms = [wrapped, np.array([wrapped]) if wrapped.dtype != object else wrapped, str(honest)[:50],
             [np.asarray(v) for v in honest] if isinstance(honest, list) else [honest],
             {"__repr__": "forged"}, np.float64(1.0), True, -1, 2 ** 31, float("nan")]
    return st.sampled_from(forms)


@pytest.mark.parametrize("name", NAMES)
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_fuzz_one_forged_field_in_an_honest_reply_is_recorded(name, data):
    honest = honest_outcomes(name)
    index = data.draw(st.integers(0, len(honest) - 1))
    field = data.draw(st.sampled_from(sorted(honest[index]["ok"])))
    value = data.draw(confusions(honest[index]["ok"][field]) | values | objects)
    forged = [dict(o, ok={**o["ok"], field: value}) if i == index else o for i, o in enumerate(honest)]
    assert_recorded(judge.judge(name, _cases(name), forged, expected=expected(name)), name)  # in process
    assert_recorded(grade.judge_reply(name, _cases(name), wire.loads(wire.dumps({"outcomes": forged})),
                                     expected(name)),
                    name)


@FUZZ
@given(reply=values | objects)
def test_fuzz_cell_replies_are_ok_an_error_or_refused(reply):
    try:
        plain = replies.cell_reply(reply)
    except replies.Malformed:
        return
    assert plain == {"ok": True} or (set(plain) == {"error"} and isinstance(plain["error"], str))
    assert isinstance(replies.output(reply, 100), str)


@FUZZ
@given(name=st.text())
def test_fuzz_student_ids_are_safe_and_unique(name):
    names = [name, name + "/", "." + name, "=" + name, name.upper()]
    ids = batch.unique_ids(names)
    assert len(set(ids.values())) == len(set(names))
    for safe in ids.values():
        assert safe and "/" not in safe and "\\" not in safe and not safe.startswith((".", "=", "+", "-", "@"))
        assert not _invisible(safe) and len(safe.encode("utf-8", "surrogatepass")) <= 255
        assert not safe[:1].isspace()
