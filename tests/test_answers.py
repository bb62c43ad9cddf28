"""The answers stay with the course: nothing of the reference reaches a student.

The reference is the source notebook's solution cells, run in the grader's trusted
reference process; a sandbox only ever gets stand-ins that ask the grader for values
(``harness.STAND_INS``). The attack below is the one that found the old leak: a
submission installs an audit hook on ``compile`` and ``exec`` before anything else
runs, and prints every piece of code the process compiles or runs that is not its own
cell, where the feedback and the recorded output show it. With the reference in the
same process (the protection switched off), the same hook catches solution lines.

A hook sees only what is compiled after it is installed, so a second attack searches what
was there before any cell ran: every module of the sandbox, through ``grade_submission``.
With the reference kept in a module global of a forkserver preload (switched off), it
prints solution lines.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading.grade import grade_submission, read_notebook
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
    from autograder.grading.reference import read_reference
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


def test_the_leak_detector_finds_the_solutions_and_nothing_in_the_release():
    """The slow tests below assert ``leaked(...) == []``: that means something only if
    ``leaked`` finds solution lines where they are (the source notebook) and none where
    they must not be (the student's release: only lines its text shows as examples)."""
    from conftest import RELEASE, SOURCE, read
    assert len(leaked(SOURCE.read_text())) > 20
    prose = "\n".join(cell.source for cell in read(RELEASE).cells if cell.cell_type == "markdown")
    assert all(line in prose for line in leaked(RELEASE.read_text())), leaked(RELEASE.read_text())


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
    code = SPY.format(stream="sys.__stdout__") + ("from autograder.grading.reference import LocalReference, read_reference\n"
                  f"LocalReference(read_reference({str(ROOT)!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(leaked(done.stdout)) > 10


# Everything the sandbox's modules hold (all of sys.modules, as the forkserver left them
# before any cell ran): their globals, what those hold (containers, functions, their code
# objects' constants), a few levels down. Prints what looks like reference code: a
# solution cell's text or a code object compiled from a reference cell.
SCAN = '''
def _scan():  # everything in locals: the scan's own values are not in any module
    import sys, types
    seen = {}  # by id, holding each value: a temporary's id is not reused while it is kept
    marks = ("".join(["END ", "SOLUTION"]), "".join(["<refer", "ence"]))  # not constants here

    def texts(value, depth=0):
        if depth > 5 or id(value) in seen:
            return
        seen[id(value)] = value
        if isinstance(value, str):
            yield value
        elif isinstance(value, types.CodeType):
            yield value.co_filename
            for item in value.co_consts:
                yield from texts(item, depth + 1)
        elif isinstance(value, types.FunctionType):
            yield from texts(value.__code__, depth + 1)
            yield from texts(value.__defaults__, depth + 1)
        elif isinstance(value, dict):
            for key, item in list(value.items()):
                yield from texts(key, depth + 1)
                yield from texts(item, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value):
                yield from texts(item, depth + 1)
        elif isinstance(value, (types.SimpleNamespace, type)):
            yield from texts(dict(vars(value)), depth + 1)

    modules = [m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)]
    for module in modules:
        for text in texts(dict(vars(module))):
            if marks[0] in text or text.startswith(marks[1]):
                print("FOUND in", module.__name__, text[:3000])
    print("SCANNED", len(modules), "modules")

_scan()
del _scan
'''

# Grades one notebook in a fresh grader process; with "leak", the forkserver that every
# sandbox is forked from also preloads a module that keeps the reference in a global.
GRADE = '''
import json, sys
from autograder.sandbox import forkserver
from autograder.grading.grade import grade_submission
if sys.argv[2] == "leak":
    forkserver.process_context().set_forkserver_preload(["autograder.sandbox.preload", "tfkit_leak"])
result = grade_submission(sys.argv[1], "scan", 20211)
print(json.dumps({"score": result.score, "reason": result.reason, "output": result.output,
                  "feedback": "\\n".join(e.feedback for e in result.exercises.values())}))
'''

LEAK = f'''
from autograder.grading.reference import read_reference
CELLS = read_reference({str(ROOT)!r})
'''


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched-off"])
def test_no_module_a_sandbox_holds_keeps_the_reference(protected, tmp_path):
    """Graded through ``grade_submission`` in a grader process of its own: a cell that
    searches every module of the sandbox finds nothing of the reference. Switched off (a
    forkserver preload that keeps the reference cells in a module global, the leak the
    audit hook missed), the same cell prints solution lines."""
    import json

    import nbformat
    notebook = with_cell(read_notebook(FULL_MARKS), SCAN, after="setup_imports")
    path = tmp_path / "scan.ipynb"
    nbformat.write(notebook, str(path))
    (tmp_path / "tfkit_leak.py").write_text(LEAK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", GRADE, str(path), "keep" if protected else "leak"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["score"] == TOTAL_POINTS, result["reason"]  # the scan itself costs nothing
    scanned = int(result["output"].split("SCANNED ")[1].split()[0])
    assert scanned > 500  # TensorFlow's modules and the kit's, at least
    readable = result["output"] + result["feedback"]
    if protected:
        assert leaked(readable) == []
    else:
        assert len(leaked(readable)) > 10
