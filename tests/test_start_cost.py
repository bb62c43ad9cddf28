"""What every grading pays before its first notebook: imports kept out of the processes
that do not need them (see docs/benchmark.md for the seconds)."""
from __future__ import annotations

import subprocess
import sys

from conftest import FULL_MARKS, ROOT


def python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    return done.stdout.strip()


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
