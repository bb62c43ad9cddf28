"""``tfgrade selftest``: prove the assignment's tests can fail (``authoring.selftest``)."""
from __future__ import annotations

from autograder.cli import common
from autograder.cli.common import UsageError
from autograder.course import course_root
from autograder.sandbox.forkserver import import_quietly, start_forkserver


def run(args) -> int:
    # Imported here: ``tfgrade --help`` imports no NumPy (the registry) and no TensorFlow.
    from autograder.exercises import EXERCISES
    unknown = [name for name in args.exercise or () if name not in EXERCISES]
    if unknown:
        raise UsageError(f"unknown exercise {', '.join(unknown)} (one of: {', '.join(EXERCISES)})")
    try:
        common.course_and_package(course_root())
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    start_forkserver()  # its TensorFlow import overlaps with this process's
    import_quietly("tensorflow", warm=True)
    from autograder.authoring.selftest import main as selftest_main
    return selftest_main(args)
