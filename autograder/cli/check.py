"""``tfgrade check``: run a notebook's visible checks, as a student does before submitting."""
from __future__ import annotations

from autograder.sandbox.forkserver import import_quietly


def run(args) -> int:
    # Imported here, quietly: ``tfgrade --help`` need not pay for Jupyter's client and the
    # exercises, and library start-up lines stay off the student's console.
    import_quietly("autograder.authoring.check")
    from autograder.authoring.check import check_notebook
    return check_notebook(args.notebook)
