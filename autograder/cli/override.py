"""``tfgrade override``: change a student's points, then rebuild the round's views."""
from __future__ import annotations

import os

from autograder.cli import common
from autograder.cli.common import UsageError


def run(args) -> int:
    from autograder.results import adjust
    student = common.existing_student(args.out, args.student)
    try:
        override = adjust.append_override(args.out, student, args.exercise, args.points, args.comment)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    common.rebuild(args.out)
    print(f"{student}: {override.exercise} set to {override.points:g} "
          f"(appended to {os.path.join(args.out, adjust.OVERRIDES_FILE)}; grades.csv and feedback rebuilt)")
    return 0
