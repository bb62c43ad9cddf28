"""What every grading pays before its first notebook: imports kept out of the processes
that do not need them (see docs/benchmark.md for the seconds)."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from conftest import FULL_MARKS, run


def python(code: str) -> str:
    """What ``code`` prints, run by a fresh interpreter of the environment."""
    return run(sys.executable, "-c", code, timeout=300).stdout.strip()


def test_a_reference_process_imports_no_notebook_reader():
    # Every reference process imports grading.reference; nbformat's validator would cost
    # each of them about a core-second. Only read_reference (the grader's side) needs it.
    found = python("import sys, autograder.grading.reference as r\n"
                   "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))")
    assert found == "[]"


def test_the_command_skips_the_iri_grammar_and_still_validates_notebooks():
    found = python(
        "import sys\n"
        "import autograder.cli.main\n"
        "import nbformat\n"
        f"nb = nbformat.read({str(FULL_MARKS)!r}, as_version=4)\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'not a cell type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "    print('accepted a broken notebook')\n"
        "except nbformat.ValidationError:\n"
        "    print('rejected')\n"
        "print(sys.modules.get('rfc3987_syntax', 'absent'))\n")
    assert found.splitlines() == ["rejected", "None"]


class Started(Exception):
    pass


@pytest.mark.parametrize("students, jobs, threads", [(1, 2, 1), (3, 2, 2), (3, None, min(3, os.cpu_count()))])
def test_grading_starts_no_more_reference_processes_than_it_has_students(tmp_path, monkeypatch,
                                                                          students, jobs, threads):
    """Each grading thread's stand-in calls are answered one at a time, so the reference
    starts one process per thread, and a grading has no more threads than submissions:
    one notebook graded with --jobs 2 (as nbgrader's pipeline or Gradescope grade one)
    starts one, not one per core."""
    from autograder.cli import common
    from autograder.cli.parsers import parser

    def warm_up(processes):
        raise Started(processes)
    monkeypatch.setattr(common, "warm_up", warm_up)
    for i in range(students):
        shutil.copy(FULL_MARKS, tmp_path / f"s{i}.ipynb")
    args = parser().parse_args(["grade", str(tmp_path), "--out", str(tmp_path.parent / "out"),
                                *(["--jobs", str(jobs)] if jobs else [])])
    with pytest.raises(Started) as started:
        args.run(args)
    assert started.value.args == (threads,)
