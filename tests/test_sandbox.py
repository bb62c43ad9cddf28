"""Adversarial submissions: each must score exactly what its code earns, and every
hang, crash or exit becomes a recorded reason instead of a lost batch."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest

from autograder.exercises import EXERCISES
from autograder.grading.grade import grade_submission
from autograder.sandbox import client, forkserver, settings
from autograder.sandbox.settings import FILESYSTEM, Limits
from conftest import ROOT, with_cell
from probes import switched_off

SEED = 5
FAST = Limits(cell_seconds=4, time_scale=0.25)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and user switching need root")


def grade(tmp_path, notebook, limits=FAST):
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, str(path))
    return grade_submission(path, "adversary", SEED, limits)


def scores(result):
    return {name: ex.score for name, ex in result.exercises.items()}


def full_except(*names):
    return {n: (0 if n in names else ex.points) for n, ex in EXERCISES.items()}


@pytest.mark.slow
def test_full_solution_is_graded_in_an_isolated_process(tmp_path, full_marks):
    result = grade(tmp_path, full_marks)
    assert result.score == 100 and result.status == "graded", result.reason
    assert "own session" in result.isolation and "memory cap" in result.isolation
    if os.geteuid() == 0:
        assert {"no network", "own filesystem", "own processes", "own IPC", "own user id",
                "no capabilities", "no inherited descriptors"} <= set(result.isolation)


# Failures at top level, one notebook: a cell that loops, one that ends the process, and
# two that raise. Each is recorded and costs only its own cell (the score stays 100).

@pytest.fixture(scope="module")
def top_level_failures(tmp_path_factory, full_marks):
    notebook = with_cell(full_marks, "import sys\nsys.exit('bye')", after="setup_imports")
    notebook = with_cell(notebook, "while True:\n    pass", after="setup_imports")
    notebook = with_cell(notebook, "import os\nos._exit(3)", after="data_tensors")
    notebook = with_cell(notebook, "raise RuntimeError('boom')", after="data_tensors")
    return grade(tmp_path_factory.mktemp("top-level"), notebook)


@pytest.mark.slow
def test_failures_at_top_level_cost_no_exercise(top_level_failures):
    assert top_level_failures.score == 100, {n: e.feedback for n, e in
                                             top_level_failures.exercises.items()
                                             if e.score < e.max_score}


@pytest.mark.slow
def test_endless_loop_at_top_level_costs_only_that_cell(top_level_failures):
    result = top_level_failures
    assert result.status == "incomplete" and "was skipped: no answer within 4 s" in result.reason, \
        result.reason


@pytest.mark.slow
def test_os_exit_at_top_level_is_recorded(top_level_failures):
    assert "exited with status 3" in top_level_failures.reason, top_level_failures.reason


@pytest.mark.slow
def test_sys_exit_and_exceptions_at_top_level_are_recorded(top_level_failures):
    reason = top_level_failures.reason
    assert "SystemExit: bye" in reason, reason
    assert "RuntimeError: boom" in reason, reason


# Failures inside exercises, one notebook: predict loops, loss ends its process, accuracy
# asks for 32 GB. Each costs its own exercise only, with its reason.

@pytest.fixture(scope="module")
def exercise_failures(tmp_path_factory, full_marks):
    looping = "def predict(W, b, inputs):\n    while True:\n        pass\n"
    crashing = "def loss(W, b, inputs, targets):\n    import os\n    os._exit(1)\n"
    hog = ("import numpy as np\n"
           "def accuracy(W, b, inputs, targets):\n"
           "    block = np.ones((40_000, 100_000))  # 32 GB\n"
           "    return block[0]\n")
    notebook = with_cell(full_marks, looping, replace="predict")
    notebook = with_cell(notebook, crashing, replace="loss")
    notebook = with_cell(notebook, hog, replace="accuracy")
    return grade(tmp_path_factory.mktemp("exercises"), notebook)


@pytest.mark.slow
def test_failures_inside_exercises_cost_those_exercises(exercise_failures):
    assert scores(exercise_failures) == full_except("predict", "loss", "accuracy")


@pytest.mark.slow
def test_endless_loop_inside_an_exercise_costs_that_exercise(exercise_failures):
    predict = exercise_failures.exercises["predict"]
    assert predict.score == 0 and predict.status == "timeout", predict.feedback
    assert "did not finish within" in predict.feedback, predict.feedback


@pytest.mark.slow
def test_a_crash_inside_an_exercise_costs_that_exercise(exercise_failures):
    loss = exercise_failures.exercises["loss"]
    assert loss.score == 0 and loss.status == "crashed", loss.feedback


@pytest.mark.slow
def test_memory_hog_hits_the_cap(exercise_failures):
    accuracy = exercise_failures.exercises["accuracy"]
    assert accuracy.score == 0 and "MemoryError" in accuracy.feedback, accuracy.feedback


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"cells": 3}'])
def test_unreadable_notebook_is_ungradable_with_its_reason(tmp_path, content):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = grade_submission(path, "broken", SEED, FAST)
    assert result.status == "ungradable" and result.score == 0
    assert result.reason.startswith("the notebook cannot be read")


@pytest.mark.slow  # grades in a sandbox (the first one starts the forkserver)
def test_printing_a_fake_success_earns_nothing(tmp_path, release):
    fake = ("import json, os, sys\n"
            "for name in ['predict', 'loss', 'grad']:\n"
            "    print(f'{name}: 10 / 10\\n  ✓ all 6 checks passed')\n"
            "print(json.dumps({'score': 100, 'status': 'graded'}))\n"
            "sys.__stdout__.write('100 / 100\\n')\n"
            "os.write(1, b'{\"outcomes\": []}\\n')\n")
    result = grade(tmp_path, with_cell(release, fake, after="setup_imports"))
    assert result.score == 0


@pytest.mark.slow  # grades in a sandbox (the first one starts the forkserver)
def test_patching_numpy_and_the_grader_earns_nothing(tmp_path, release):
    patch = (
        "import numpy as np\n"
        "import autograder.checking.compare as compare, autograder.boundary.wire as wire, autograder.sandbox.harness as harness\n"
        "import autograder.exercises as exercises\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "compare.values_close = lambda label, *a, **k: compare.Check(label, True)\n"
        "compare.score = lambda checks: 1.0\n"
        "harness.run_exercise = lambda *a, **k: [{'ok': {'out': 0.5}}] * 3\n"
        "wire.dumps = lambda value: b'{\"outcomes\": [{\"ok\": {}}]}'\n"
        "for ex in exercises.EXERCISES.values():\n"
        "    object.__setattr__(ex, 'check', lambda case, out: [])\n"
        "try:\n"
        "    import autograder.checking.judge as judge\n"
        "    judge.judge = None\n"
        "except ImportError:\n"
        "    pass\n")
    result = grade(tmp_path, with_cell(release, patch, after="setup_imports"))
    assert result.score == 0, {n: e.feedback for n, e in result.exercises.items()}


@pytest.mark.slow  # grades in a sandbox (the first one starts the forkserver)
def test_forging_the_probe_table_cannot_invent_layer_weights(tmp_path, release):
    """Replacing the in-sandbox probe changes what is reported, but the expected output
    is computed by the grader from weights it chose: a forged answer still has to be right."""
    forge = (
        "import numpy as np\n"
        "import autograder.exercises as exercises\n"
        "def fake(ns, case):\n"
        "    n, d = case['inputs'].shape\n"
        "    k = case['units']\n"
        "    return {'before': 0, 'first': np.zeros((n, k), np.float32), 'out': np.zeros((n, k), np.float32),\n"
        "            'W_shape': [d, k], 'b_shape': [k], 'trainable': 2}\n"
        "object.__setattr__(exercises.EXERCISES['my_dense'], 'probe', fake)\n")
    result = grade(tmp_path, with_cell(release, forge, after="setup_imports"))
    assert result.exercises["my_dense"].score < EXERCISES["my_dense"].points


def sneaky_predict(port: int) -> str:
    """A predict that is right only when it cannot reach ``port`` on the grader's machine."""
    return (
        "import socket\n"
        "def predict(W, b, inputs):\n"
        "    try:\n"
        f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
        "        return tf.zeros([inputs.shape[0]])\n"
        "    except OSError:\n"
        "        return tf.reshape(tf.sigmoid(inputs @ W + b), [-1])\n")


def vandal_cell(targets) -> str:
    """Writes to every target (each failure ignored), then to the scratch folder."""
    vandal = "\n".join(f"try:\n    open({str(t)!r}, 'w').write('x')\nexcept OSError:\n    pass"
                       for t in targets)
    return vandal + "\nopen('scratch_is_fine.txt', 'w').write('ok')\n"


LOUD = "for _ in range(100_000):\n    print('spam ' * 20)\n"


def write_targets(tmp_path, open_folder):
    """The course, the grader's folders and a folder every user may write to (the last:
    the filesystem protection's alone, as a sandbox's own uid may write there)."""
    return [ROOT / "pwned.txt", tmp_path / "pwned.txt", ROOT / "release" / "pwned.txt",
            open_folder / "pwned.txt"]


@pytest.fixture(scope="module")
def protected_probes(tmp_path_factory, full_marks):
    """One notebook, every protection on: predict tries the network (as root), a cell
    writes outside its scratch folder (as root) and a cell prints far too much."""
    folder = tmp_path_factory.mktemp("protected")
    notebook = with_cell(full_marks, LOUD, after="setup_imports")
    if os.geteuid() != 0:
        return {"result": grade(folder, notebook)}
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    threading.Thread(target=lambda: [server.accept() for _ in range(5)], daemon=True).start()
    open_folder = Path(tempfile.mkdtemp(prefix="open-"))
    os.chmod(open_folder, 0o777)
    targets = write_targets(folder, open_folder)
    notebook = with_cell(notebook, vandal_cell(targets), after="setup_imports")
    notebook = with_cell(notebook, sneaky_predict(server.getsockname()[1]), replace="predict")
    try:
        result = grade(folder, notebook)
        return {"result": result, "written": [t for t in targets if t.exists()]}
    finally:
        server.close()
        shutil.rmtree(open_folder)
        for target in targets[:3]:
            target.unlink(missing_ok=True)


@pytest.mark.slow
def test_the_probes_cost_nothing_when_protected(protected_probes):
    result = protected_probes["result"]
    assert result.score == 100 and "raised" not in result.reason, (
        result.reason, {n: e.feedback for n, e in result.exercises.items() if e.score < e.max_score})


@needs_root
@pytest.mark.slow
def test_no_network(protected_probes):
    """predict is right only when it cannot reach a server the grader's machine runs."""
    predict = protected_probes["result"].exercises["predict"]
    assert predict.score == predict.max_score, predict.feedback


@needs_root
@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_no_writes_outside_the_scratch_folder(tmp_path, full_marks, protected, request):
    """Writes to the course, the grader's folders and a folder every user may write to
    fail, and the scratch folder works. The last target is the filesystem protection's
    alone (a sandbox's own uid may write there): switched off, it is written."""
    if protected:  # graded with the other probes
        run = request.getfixturevalue("protected_probes")
        assert run["result"].score == 100 and "raised" not in run["result"].reason, \
            run["result"].reason
        assert run["written"] == [], run["written"]
        return
    open_folder = Path(tempfile.mkdtemp(prefix="open-"))
    os.chmod(open_folder, 0o777)
    targets = write_targets(tmp_path, open_folder)
    try:
        with switched_off(FILESYSTEM):
            result = grade(tmp_path, with_cell(full_marks, vandal_cell(targets), after="setup_imports"),
                           FAST)
        assert result.score == 100 and "raised" not in result.reason, result.reason
        written = [t for t in targets if t.exists()]
        assert written == [open_folder / "pwned.txt"], written
    finally:
        shutil.rmtree(open_folder)
        for target in targets[:3]:
            target.unlink(missing_ok=True)


def test_every_sandbox_gets_every_protection_and_only_a_test_can_switch_one_off():
    """What a sandbox gets comes from one function, never from its limits: every
    protection on this machine's best route. The tests' switch replaces that function for
    one block; a sandbox made after it gets everything again."""
    import dataclasses
    assert {f.name for f in dataclasses.fields(Limits)}.isdisjoint({"route", "disable", "off"})
    assert settings.protections() == settings.Protections(settings.resolve_route(), frozenset())
    with switched_off(settings.CGROUP, route="none"):
        assert client.Sandbox(Limits()).protections == settings.Protections("none", {settings.CGROUP})
    assert client.Sandbox(Limits()).protections == settings.protections()


@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_sandbox_without_its_own_filesystem_leaves_no_scratch_folder(tmp_path, monkeypatch,
                                                                       protected):
    """On the route without namespaces a sandbox works in a host folder (tfkit-*), which
    goes when the sandbox stops; with its removal switched off, it stays."""
    host_tmp = tmp_path / "tmp"
    host_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(host_tmp))
    if not protected:
        monkeypatch.setattr(client, "_remove_scratch", lambda folder: None)
    with switched_off(settings.CGROUP, route="none"), client.Sandbox(Limits()) as box:
        box.start()
        assert len(list(host_tmp.glob("tfkit-*"))) == 1
    assert (list(host_tmp.glob("tfkit-*")) == []) is protected


# A grader's main script: it notes each run of itself (in the grader, and in any child
# that would run it again), then grades the notebook it is given, with the forkserver's
# safe path switched off if asked.
GRADER_SCRIPT = '''
import os, sys
with open(os.environ["MARKER"], "a") as marker:
    marker.write(f"{os.getpid()}\\n")
if __name__ == "__main__":
    from autograder.grading.grade import grade_submission
    from autograder.sandbox import forkserver
    from autograder.sandbox.settings import Limits
    if sys.argv[2] == "off":  # the forkserver's python -c then looks in the working folder first
        clean = forkserver.forkserver_environment
        forkserver.forkserver_environment = lambda: {k: v for k, v in clean().items()
                                                  if k != "PYTHONSAFEPATH"}
    result = grade_submission(sys.argv[1], "x", 5, Limits(time_scale=3))
    print(result.status, result.score)
'''


def grade_from_a_folder_with_another_package(tmp_path, protected: bool) -> dict:
    """Run :data:`GRADER_SCRIPT` on the full-marks notebook from a working folder that
    holds another ``autograder/`` package (which notes it if it is ever imported)."""
    from conftest import BIN, FULL_MARKS, run
    working, imported = tmp_path / "working", tmp_path / "imported.txt"
    (working / "autograder").mkdir(parents=True)
    (working / "autograder" / "__init__.py").write_text(f"open({str(imported)!r}, 'a').write('x')\n")
    script, runs = tmp_path / "grader_main.py", tmp_path / "runs.txt"
    script.write_text(GRADER_SCRIPT)
    done = run(BIN / "python", script, FULL_MARKS, "protected" if protected else "off",
               cwd=working, env={"MARKER": str(runs), "TFKIT_COURSE": str(ROOT)}, check=protected)
    return {"done": done, "status": (done.stdout.strip().splitlines() or [""])[-1],
            "imported": imported.exists(), "runs": runs.read_text().split() if runs.exists() else []}


@pytest.fixture(scope="module")
def graded_by_a_script(tmp_path_factory):
    """One protected run of :data:`GRADER_SCRIPT`, for the working folder's package and
    the main script's runs."""
    return grade_from_a_folder_with_another_package(tmp_path_factory.mktemp("script"), True)


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_the_forkserver_imports_the_installed_package_whatever_the_working_folder(tmp_path,
                                                                                  protected,
                                                                                  request):
    """Grading from a folder that holds another ``autograder/`` package: the sandbox and
    the reference still run the installed kit (full marks), and the other package is
    never imported. Switched off, the forkserver imports it and no sandbox starts."""
    if protected:
        graded = request.getfixturevalue("graded_by_a_script")
        assert graded["status"] == "graded 100.0" and not graded["imported"], \
            graded["done"].stderr[-2000:]
    else:  # the other package is imported, and nothing is graded (a grader error, or worse)
        graded = grade_from_a_folder_with_another_package(tmp_path, False)
        assert graded["imported"] and graded["status"] != "graded 100.0", \
            graded["done"].stdout[-2000:]


@pytest.mark.slow
def test_output_is_truncated(protected_probes):
    result = protected_probes["result"]
    assert result.score == 100, result.reason
    assert len(result.output) <= FAST.output_chars and "characters dropped" in result.output


@pytest.mark.slow
def test_the_graders_main_script_runs_once(graded_by_a_script):
    """The forkserver's children (each sandbox, the reference process) do not run the
    grader's main script again (Python 3.11's forkserver would, once per child: about a
    second each under ``nbgrader`` or a Dask worker). A script that notes each run
    grades a full-marks notebook: it ran once, in the grader."""
    done, runs = graded_by_a_script["done"], graded_by_a_script["runs"]
    assert done.stdout.split() == ["graded", "100.0"], done.stderr[-2000:]
    assert len(runs) == 1, f"the main script ran {len(runs)} times (in processes {runs})"
