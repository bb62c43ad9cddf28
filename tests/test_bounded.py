"""A submission cannot make the grader pay: every reference call is bounded (issue 22, item 5).

The attack: a stand-in handed to student code is called on arguments whose broadcast is
huge (``predict(ones((1, 10000)), 0.0, ones((10000, 1)))`` made the reference return
10**8 numbers, and the grader peaked at 2 GB encoding them). Each protection below is
also switched off in a test of its own, to show that the attack then goes through.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time

import nbformat
import numpy as np
import pytest

from autograder.boundary import replies
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import grade, reference
from conftest import FULL_MARKS, run, with_cell, write_student

F32 = np.float32


def call(name, *args, cotangent=None) -> dict:
    """A stand-in's message, as the grader receives it."""
    return {"op": "call", "name": name, "args": [np.asarray(a, F32) for a in args],
            "cotangent": cotangent}


def broadcast(n: int) -> dict:
    """The issue's call: a row of n and a column of n, whose product has n * n numbers."""
    return call("predict", np.ones((1, n)), 0.0, np.ones((n, 1)))


class Recorder:
    """A reference that records what it is asked, and answers with a small array."""

    def __init__(self):
        self.asked = []

    def call(self, name, args, cotangent=None):
        self.asked.append(name)
        return np.zeros(3, F32)


# --- Caps checked before computing ---

@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
@pytest.mark.parametrize("n", [10 ** 4, 10 ** 5, 10 ** 6])
def test_a_call_over_the_cap_is_refused_before_the_reference_computes(n, protected, monkeypatch):
    if not protected:
        monkeypatch.setattr(replies, "call_bound", lambda arrays: 1)
    recorder = Recorder()
    reply = grade.answerer(recorder, EXERCISES["loss"])(broadcast(n))
    if protected:
        assert recorder.asked == []
        assert f"{n * n:,} numbers" in reply["error"]
        assert f"cap of {replies.MAX_REPLY_ELEMENTS:,} numbers (16 MB)" in reply["error"]
    else:
        assert recorder.asked == ["predict"] and "value" in reply


def test_the_bound_follows_the_shapes():
    assert replies.call_bound([np.ones((1, 300)), np.ones(()), np.ones((300, 1))]) == 90_000
    assert replies.call_bound([np.ones((0, 3)), np.ones(4)]) == 4
    # The grader's own cases are far inside the cap, cotangents included.
    for name in ("loss", "grad", "train", "model_grad", "train_minibatch"):
        for case in grade.cases_for(EXERCISES[name], 20211):
            arrays = [v for v in case.values() if isinstance(v, np.ndarray)]
            assert replies.call_bound(arrays) * 8 < replies.MAX_REPLY_BYTES


def test_calls_within_the_cap_are_answered(local_reference):
    reply = grade.answerer(local_reference, EXERCISES["loss"])(broadcast(1000))
    assert reply["value"].shape == (10 ** 6,)


@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_a_result_over_the_cap_never_leaves_the_reference(protected, local_reference, monkeypatch):
    """Past the bound (switched off here), the reference's own result is capped before it
    is sent; with that cap switched off too, 4 million numbers come back."""
    monkeypatch.setattr(replies, "call_bound", lambda arrays: 1)
    if not protected:
        monkeypatch.setattr(replies, "reference_reply", lambda value: value)
    reply = grade.answerer(local_reference, EXERCISES["loss"])(broadcast(2000))
    if protected:
        assert reply == {"error": f"refused: {replies.RESULT_OVER_CAP}"}
    else:
        assert reply["value"].size == 4 * 10 ** 6


def test_the_reply_cap_counts_every_number():
    assert replies.reference_reply([np.ones(3, F32), [np.ones((2, 2)), None]])[0].size == 3
    with pytest.raises(replies.TooLarge):
        replies.reference_reply([np.ones(replies.MAX_REPLY_ELEMENTS // 2 + 1)] * 2)
    with pytest.raises(replies.TooLarge):  # within the count, over the bytes
        replies.reference_reply(np.zeros(replies.MAX_REPLY_BYTES // 16 + 1, dtype=np.complex128))
    with pytest.raises(replies.Malformed):
        replies.reference_reply([object()])


# --- The reference process's own limits ---

CPU_BURNER = [("predict", "import time\n"
                          "def predict(W, b, inputs):\n"
                          "    end = time.process_time() + 40\n"
                          "    while time.process_time() < end:\n"
                          "        pass\n"
                          "    return W\n")]
MEMORY_HOG = [("predict", "import numpy as np\n"
                          "def predict(W, b, inputs):\n"
                          "    hog = np.ones(400 * 2 ** 20 // 8)\n"
                          "    return W + float(hog[-1])\n")]


def _worker_pids(ref) -> list:
    return ref.pids()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_the_reference_process_has_a_memory_cap(protected, monkeypatch):
    """A reference computation that takes 400 MB, under a 128 MB cap: the kernel ends the
    process and the call fails saying so; with no cgroup (switched off) it succeeds."""
    from autograder.sandbox import cgroups
    if cgroups.create(2 ** 20, 8) is None:
        pytest.skip("no cgroup can be made here (not root, or no delegation)")
    monkeypatch.setattr(reference, "MEMORY_MB_PER_PROCESS", 128)
    if not protected:
        monkeypatch.setattr(reference.cgroups, "create", lambda *args: None)
    ref = reference.Reference(MEMORY_HOG, processes=1)
    try:
        [started.result(300) for started in ref.start()]  # it starts within the cap
        args = [np.ones((2, 1), F32), np.zeros((), F32), np.ones((3, 2), F32)]
        if protected:
            with pytest.raises(reference.ReferenceFailed, match="went over its memory cap"):
                ref.call("predict", args)
        else:
            assert ref.call("predict", args).shape == (2, 1)
    finally:
        groups = ref.groups()
        ref.close()
    assert all(not group.folders for group in groups)  # removed with the pools


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_the_reference_process_has_a_cpu_cap_per_call(protected, monkeypatch):
    """A computation that spins for 40 s of CPU: with 2 s of CPU per call the kernel ends
    the process (and the retry's), long before the grader's wall-clock limit; switched
    off, the grader stops waiting at that limit while the process spins on."""
    monkeypatch.setattr(reference, "CALL_CPU_SECONDS", 2 if protected else 10 ** 6)
    monkeypatch.setattr(reference, "CALL_SECONDS", 60 if protected else 10)
    ref = reference.Reference(CPU_BURNER, processes=1)
    try:
        [started.result(300) for started in ref.start()]  # started: its start is not timed
        pids = _worker_pids(ref)
        started = time.monotonic()
        with pytest.raises(reference.ReferenceFailed) as failed:
            ref.call("predict", [np.ones((2, 1), F32), np.zeros((), F32), np.ones((3, 2), F32)])
        took = time.monotonic() - started
        if protected:
            assert "ended unexpectedly" in str(failed.value) and took < 50, (took, failed.value)
        else:
            assert failed.value.kind == "TimeoutError" and any(_alive(pid) for pid in pids)
    finally:
        # A worker left spinning (switched off) would hold ref.close(), which waits for
        # it, for the rest of its 40 s of CPU: it is ended here, after the assertions.
        for pid in set(pids) | set(_worker_pids(ref)):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        ref.close()


# --- The grader's memory, through the real command ---

ATTACK = '''
def loss(W, b, inputs, targets):
    for n in {sizes!r}:
        try:
            predict(tf.ones((1, n)), 0.0, tf.ones((n, 1)))
        except Exception as exc:
            print("refused:", str(exc)[:300])
    preds = predict(W, b, inputs)
    targets = tf.cast(targets, preds.dtype)
    label_probs = preds * targets + (1 - preds) * (1 - targets)
    return tf.reduce_mean(-tf.math.log(label_probs + 1e-4))
'''

# The command's peak resident memory: VmHWM, the high-water mark of this process's own
# memory. Not getrusage's ru_maxrss, which keeps the parent's peak across the fork and
# exec that started the process (a test process of 1.2 GB read as a grader of 1.2 GB).
PEAK = '''
import sys
from autograder.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as status:
    kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print("PEAK_MB", kb / 1024)
sys.exit(code)
'''


@pytest.mark.slow
def test_the_grader_stays_under_1_gb_whatever_a_submission_asks(tmp_path):
    """The issue's call and two larger ones (10**10 and 10**12 numbers), each caught by
    the student's code (one notebook makes all three): full marks, the cap named in
    what it printed for each, and the grading process's peak memory under 1 GB (2.03 GB
    for the first one before)."""
    notebook = nbformat.read(str(FULL_MARKS), as_version=4)
    sizes = [10 ** 4, 10 ** 5, 10 ** 6]
    write_student(tmp_path / "class", "broadcast", with_cell(notebook, ATTACK.format(sizes=sizes),
                                                             replace="loss"))
    done = run(sys.executable, "-c", PEAK, "grade", tmp_path / "class", "--out", tmp_path / "out",
               "--jobs", "1", check=False, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    peak = float(done.stdout.split("PEAK_MB")[-1])
    assert peak < 1024, peak
    result = json.loads((tmp_path / "out" / "broadcast" / "result.json").read_text())
    assert result["score"] == TOTAL_POINTS, result["reason"]
    for n in sizes:
        assert f"{n * n:,} numbers, over the cap of" in result["output"], (n, result["output"][-3000:])
