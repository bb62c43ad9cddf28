"""The framed channel between grader and sandbox: no read without a deadline, no size
believed before it is checked, and a sandbox that sends garbage is recorded, not
waited for."""
from __future__ import annotations

import socket
import threading
import time

import nbformat
import pytest

from autograder.boundary import channel
from autograder.grading.grade import grade_submission
from autograder.sandbox.settings import Limits
from conftest import with_cell


@pytest.fixture
def pair():
    grader, sandbox = socket.socketpair()
    grader.setblocking(False)
    yield grader, sandbox
    grader.close()
    sandbox.close()


def test_a_frame_round_trips(pair):
    grader, sandbox = pair
    receive, send = channel.blocking_endpoint(sandbox.fileno())
    channel.send(grader.fileno(), b"request", time.monotonic() + 5)
    assert receive() == b"request"
    writer = threading.Thread(target=send, args=(b"x" * 3_000_000,))  # many socket buffers
    writer.start()
    assert channel.receive(grader.fileno(), time.monotonic() + 5) == b"x" * 3_000_000
    writer.join(5)


def test_a_declared_size_over_the_cap_is_refused_before_reading(pair):
    grader, sandbox = pair
    sandbox.sendall(channel.HEADER.pack(2**40))
    with pytest.raises(channel.ChannelError, match="over the"):
        channel.receive(grader.fileno(), time.monotonic() + 5, limit=1024)


@pytest.mark.parametrize("sent", [b"", b"\x00\x00\x00", channel.HEADER.pack(10) + b"half"],
                         ids=["nothing", "part of a header", "part of a body"])
def test_a_stalled_frame_ends_at_the_deadline(pair, sent):
    grader, sandbox = pair
    sandbox.sendall(sent)
    started = time.monotonic()
    with pytest.raises(channel.ChannelTimeout):
        channel.receive(grader.fileno(), started + 0.5)
    assert time.monotonic() - started < 5


def test_a_closed_peer_is_reported_as_closed(pair):
    grader, sandbox = pair
    sandbox.sendall(channel.HEADER.pack(10) + b"half")
    sandbox.close()
    with pytest.raises(channel.ChannelClosed, match="mid-frame"):
        channel.receive(grader.fileno(), time.monotonic() + 5)


def test_a_full_peer_does_not_block_the_sender_past_its_deadline(pair):
    grader, _ = pair  # the sandbox never reads
    with pytest.raises(channel.ChannelTimeout):
        channel.send(grader.fileno(), b"x" * 50_000_000, time.monotonic() + 0.5)


BOGUS_HEADER = (
    "import os, stat, struct, time\n"
    "for fd in range(3, 256):\n"
    "    try:\n"
    "        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
    "            os.write(fd, struct.pack('!Q', 2**40) + b'{')\n"
    "    except OSError:\n"
    "        pass\n"
    "time.sleep(60)\n")


@pytest.mark.slow
def test_a_sandbox_that_writes_a_bogus_header_is_recorded_not_waited_for(tmp_path, full_marks):
    """Student code finds its channel and announces a terabyte: the grader refuses the
    frame, kills that process, skips the cell, and grades the rest."""
    path = tmp_path / "bogus.ipynb"
    nbformat.write(with_cell(full_marks, BOGUS_HEADER, after="setup_imports"), str(path))
    started = time.monotonic()
    result = grade_submission(path, "bogus", 5, Limits(cell_seconds=30, time_scale=0.25))
    assert time.monotonic() - started < 60  # well under the cell's 30 s plus grading
    assert result.score == 100
    assert "malformed message" in result.reason and "over the" in result.reason


FORGER = (
    "import json, os, stat, struct\n"
    "def _channel():\n"
    "    for fd in range(3, 256):\n"
    "        try:\n"
    "            if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
    "                return fd\n"
    "        except OSError:\n"
    "            pass\n"
    "def predict(W, b, inputs):\n"
    "    # a well-formed reply, sent ahead of the real one, with arrays where numbers belong\n"
    "    array = {'__ndarray__': ['float64', [2, 2], 'AAAAAAAA8D8AAAAAAADwPwAAAAAAAPA/AAAAAAAA8D8=']}\n"
    "    forged = json.dumps({'outcomes': [{'ok': array}] * 3, 'output': array}).encode()\n"
    "    os.write(_channel(), struct.pack('!Q', len(forged)) + forged)\n"
    "    return tf.reshape(tf.sigmoid(inputs @ W + b), [-1])\n")


@pytest.mark.slow
def test_a_forged_reply_costs_only_the_forger_and_the_batch_is_written(tmp_path, full_marks):
    """Student code writes a well-formed reply of the wrong kinds straight onto its
    channel: that exercise of that student is lost, everyone else is graded and
    grades.csv is written (it once ended the whole batch with no grades.csv)."""
    from autograder.grading.batch import grade_class
    from conftest import write_student
    write_student(tmp_path / "in", "forger", with_cell(full_marks, FORGER, replace="predict"))
    write_student(tmp_path / "in", "honest", full_marks)
    results = grade_class([tmp_path / "in"], tmp_path / "out", seed=5, jobs=2,
                          limits=Limits(time_scale=0.25), progress=False)
    scores = {r["student_id"]: r for r in results}
    assert scores["honest"]["score"] == 100
    forger = scores["forger"]
    assert forger["exercises"]["predict"]["score"] == 0 and "refused" in forger["reason"]
    assert forger["score"] == 100 - forger["exercises"]["predict"]["max_score"]
    assert (tmp_path / "out" / "grades.csv").is_file()
