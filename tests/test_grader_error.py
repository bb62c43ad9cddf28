"""A grader-side failure is never charged to a student (issue 21, item 3).

The sandbox's start is broken on purpose, in two ways a grading machine breaks: the
interpreter the sandbox process starts from is missing (as in a broken Gradescope
image), and a sandbox process that ends before it is ready (status 0, which used to read
"sys.exit or os._exit in student code?"). Each time the student is recorded as a
``grader error`` with the cause, gets no total in any view, the command exits 1, and
stderr says so in one line. Nothing here imports TensorFlow: the sandbox never starts.
"""
from __future__ import annotations

import csv
import json
import multiprocessing

import pytest

from autograder import GRADER_ERROR
from autograder.cli import common, main as cli
from autograder.grading import batch
from autograder.integrations import gradescope_bundle as gradescope
from autograder.sandbox import forkserver
from conftest import FULL_MARKS, write_student, read


class _NoInterpreter:
    """A process whose interpreter is not there."""

    pid = None
    exitcode = None

    def start(self):
        raise FileNotFoundError(2, "No such file or directory", "/usr/local/bin/python3.11")

    def kill(self):
        pass

    def join(self, timeout=None):
        pass

    def close(self):
        pass


class _BrokenStart:
    """A process context standing in for the forkserver's, broken in one of two ways."""

    def __init__(self, how: str):
        self.how = how

    def Process(self, target, args, daemon):  # noqa: N802 - multiprocessing's name
        if self.how == "no interpreter":
            return _NoInterpreter()
        # a real process that ends at once, with status 0, before it says it is ready
        return multiprocessing.get_context("fork").Process(target=_end_at_once, daemon=daemon)


def _end_at_once():
    pass


@pytest.fixture(params=["no interpreter", "ends before ready"])
def broken_start(request, monkeypatch):
    monkeypatch.setattr(forkserver, "process_context", lambda: _BrokenStart(request.param))
    monkeypatch.setattr(common, "warm_up", lambda jobs=None: None)
    return request.param


def test_a_sandbox_that_cannot_start_is_a_grader_error_not_a_zero(broken_start, tmp_path, capsys):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    write_student(folder, "ann", read(FULL_MARKS))
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\n")
    code = cli.main(["grade", str(folder), "--out", str(out), "--quiet", "--format", "canvas",
                     "--format", "gradescope", "--roster", str(roster)])
    captured = capsys.readouterr()
    assert code == batch.EXIT_ERROR == 1
    failures = [line for line in captured.err.splitlines() if "grader error" in line]
    assert len(failures) == 1 and failures[0].startswith("tfgrade: grader error for 1 student (ann)")
    assert ("python3.11" if broken_start == "no interpreter" else "ended before it was ready") \
        in failures[0]
    result = json.loads((out / "ann" / "result.json").read_text())
    assert result["status"] == GRADER_ERROR
    assert result["reason"].startswith("grader error: the sandbox could not start")
    row = next(csv.DictReader((out / "grades.csv").open()))
    assert row["status"] == GRADER_ERROR and row["total"] == row["auto_total"] == row["predict"] == ""
    canvas_row = list(csv.reader((out / "canvas.csv").open()))[1]
    assert canvas_row[3] == "ann" and canvas_row[-1] == ""
    feedback = (out / "ann" / "feedback.md").read_text()
    assert "grader's side, not in your work" in feedback and "Score: not graded yet" in feedback
    assert "Score: not graded yet" in (out / "ann" / "feedback.html").read_text()
    assert "0 / 100" not in feedback
    assert "sys.exit or os._exit in student code" not in feedback + captured.out
    # the next run grades ann again (here the sandbox is still broken)
    assert batch.stale(result, batch.fingerprint(batch.find_submissions([folder])[0], 20211,
                                                 batch.Limits())) == "the grader failed last time"


def test_gradescope_writes_no_score_for_a_grader_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(forkserver, "process_context", lambda: _BrokenStart("no interpreter"))
    monkeypatch.setattr(forkserver, "start_forkserver", lambda: None)
    monkeypatch.setattr(forkserver, "import_quietly", lambda *a, **k: None)
    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / FULL_MARKS.name).write_bytes(FULL_MARKS.read_bytes())
    assert gradescope.main(["run", "--root", str(tmp_path)]) == 1
    assert not (tmp_path / "results" / "results.json").exists()
    lines = [line for line in capsys.readouterr().err.splitlines() if "grader error" in line]
    assert len(lines) == 1 and "no score was written" in lines[0]
