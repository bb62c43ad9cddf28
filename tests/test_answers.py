"""The answers stay with the course: nothing of the reference reaches a student.

The reference is the source notebook's solution cells, run in the grader's trusted
reference process; a sandbox only ever gets stand-ins that ask the grader for values
(``harness.STAND_INS``). The attack below is the one that found the old leak: a
submission installs an audit hook on ``compile`` and ``exec`` before anything else
runs, and prints every piece of code the process compiles or runs that is not its own
cell, where the feedback and the recorded output show it. With the reference in the
same process (the protection switched off), the same hook catches solution lines.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grade import grade_submission, read_notebook
from conftest import FULL_MARKS, ROOT, with_cell

SPY = '''
import sys
_where = lambda: {stream}

def _spy(event, args):
    if event == "compile" and len(args) > 1 and str(args[1]).startswith("<cell"):
        print("OWN CELL", args[1], file=_where())  # proof that the hook sees compiling
    elif event == "compile" and len(args) > 1:
        source = args[0]
        if isinstance(source, bytes):
            source = source.decode("utf-8", "replace")
        if isinstance(source, str):
            print("COMPILED", args[1], source, file=_where())
    elif event == "exec" and args and hasattr(args[0], "co_filename"):
        if not args[0].co_filename.startswith("<cell"):
            print("EXECUTED", args[0].co_filename, args[0].co_names, file=_where())

sys.addaudithook(_spy)
'''


def solution_lines() -> set:
    """Every telling line of the course's solutions (between the solution markers)."""
    from autograder.reference import read_reference
    lines = set()
    for label, source in read_reference(ROOT):
        if label not in EXERCISES:
            continue
        inside = False
        for line in source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    assert len(lines) > 20, "the source notebook's solutions were not found"
    return lines


def leaked(text: str) -> list:
    return sorted(line for line in solution_lines() if line in text) + \
        (["<reference"] if "<reference" in text else [])


@pytest.mark.slow
def test_an_audit_hook_in_the_submission_sees_no_reference(tmp_path):
    notebook = with_cell(read_notebook(FULL_MARKS), SPY.format(stream="sys.stdout"), after="setup_imports")
    path = tmp_path / "spy.ipynb"
    import nbformat
    nbformat.write(notebook, str(path))
    result = grade_submission(path, "spy", 20211)
    assert result.score == TOTAL_POINTS, result.reason  # the hook itself costs nothing
    readable = result.output + "\n".join(e.feedback for e in result.exercises.values())
    assert "OWN CELL <cell" in result.output  # the hook saw every later compile
    assert leaked(readable) == []


@pytest.mark.slow
def test_with_the_reference_in_the_process_the_same_hook_sees_it():
    """The protection switched off: the reference run where the hook is (as the kit did
    when it sent reference source into the sandbox)."""
    code = SPY.format(stream="sys.__stdout__") + ("from autograder.reference import LocalReference, read_reference\n"
                  f"LocalReference(read_reference({str(ROOT)!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(leaked(done.stdout)) > 10
