"""``tfgrade extend``: give one student a later due date, then rebuild the round's views."""
from __future__ import annotations

import os

from autograder.cli import common
from autograder.cli.common import UsageError


def run(args) -> int:
    from autograder.results import adjust
    student = common.existing_student(args.out, args.student)
    round_due = adjust.Settings.load(args.out).due
    try:
        extension = adjust.append_extension(args.out, student, args.due, args.reason,
                                            not_before=round_due)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    common.rebuild(args.out)
    what = extension.describe() if extension.due else "extension withdrawn"
    print(f"{student}: {what} (appended to {os.path.join(args.out, adjust.EXTENSIONS_FILE)}; "
          "grades.csv and feedback rebuilt)")
    return 0
