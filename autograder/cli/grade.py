"""``tfgrade grade``: grade submissions into an output folder, then print the table and the summary."""
from __future__ import annotations

import os
import sys

from contextlib import nullcontext

from autograder import ASSIGNMENT
from autograder.cli import common
from autograder.cli.common import UsageError
from autograder.course import course_in_use
from autograder.grading.submissions import NotASubmission, find_submissions, inside


def run(args) -> int:
    settings = _settings(args)
    _check_canvas(args)
    cluster = common.cluster_module(args)
    submissions, ignored = _find(args)
    reference_cells = common.course_reference()
    common.course_and_package(course_in_use())
    for path, why in ignored:
        print(f"ignored: {path} ({why})", file=sys.stderr)
    common.log_to_console()
    if cluster is None:
        common.warn_if_not_isolated()
        # No more reference processes than grading threads, and no more threads than
        # submissions: one notebook is graded by one thread, whose calls one process answers.
        common.warm_up(min(args.jobs or os.cpu_count() or 1, len(submissions)))
    # Imported here, once the arguments are checked: ``tfgrade --help`` and a bad argument
    # import no NumPy or nbformat.
    from autograder.grading.batch import run_round
    from autograder.results import adjust, grades_csv
    from autograder.results.table import table
    from autograder.sandbox.settings import Limits
    formats = ("tfkit", *args.format)
    with common.connect(cluster, args, reference_cells) if cluster else nullcontext() as connected:
        results, summary = run_round(
            args.paths, args.out, seed=args.seed, jobs=args.jobs, force=args.force,
            formats=formats, limits=Limits(time_scale=args.time_scale, cell_seconds=args.cell_seconds,
                                           submission_seconds=args.submission_seconds),
            progress=not args.quiet, submissions=submissions, settings=settings,
            nbgrader_feedback=settings["nbgrader_feedback"] or common.remembered_feedback(args.out),
            cluster=connected)
    summary.ignored = ignored
    print(table(results, adjust.read_overrides(args.out)[0], adjust.Settings.load(args.out)))
    print(f"\nwrote {os.path.join(args.out, grades_csv.GRADES_FILE)}, and result.json and "
          f"feedback.md per student (seed {args.seed})")
    print(f"class report: {os.path.join(args.out, 'report.html')}; each student's feedback.html "
          "beside their feedback.md")
    print("\n".join(summary.lines()))
    failed = summary.grader_errors(results)
    if failed:
        print(f"tfgrade: {failed}", file=sys.stderr)
    return summary.exit_code


def _settings(args) -> dict:
    """The round's settings this run changes (None: keep what the output folder has)."""
    from autograder.results import adjust
    settings = {"feedback": args.feedback, "late_policy": None, "due": None, "roster": None,
                "missing_as_zero": args.missing_as_zero,
                "nbgrader_feedback": args.nbgrader_feedback and os.path.abspath(args.nbgrader_feedback)}
    try:
        if args.late_policy is not None:
            settings["late_policy"] = str(adjust.LatePolicy.parse(args.late_policy))
        if args.due is not None:
            settings["due"] = due_date(args.due)
        if args.roster is not None:
            settings["roster"] = adjust.read_roster(args.roster)
            settings["roster_file"] = os.path.abspath(args.roster)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    return settings


def due_date(text: str) -> str:
    """``--due``: a date and time, or ``gradebook`` for the due date nbgrader's
    gradebook.db (in the current folder) holds for the assignment."""
    from autograder.results import adjust
    if text != "gradebook":
        return adjust.parse_when(text).isoformat()
    if not os.path.isfile("gradebook.db"):
        raise UsageError("--due gradebook: no gradebook.db here (run from the course root)")
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(f"sqlite:///{os.path.abspath('gradebook.db')}") as gradebook:
        try:
            due = gradebook.find_assignment(ASSIGNMENT).duedate
        except MissingEntry:
            raise UsageError(f"--due gradebook: no assignment {ASSIGNMENT} in gradebook.db") from None
    if due is None:
        raise UsageError(f"--due gradebook: {ASSIGNMENT} has no due date in gradebook.db")
    return adjust.parse_when(due.isoformat(), naive_is_utc=True).isoformat()


def _find(args) -> tuple:
    """The submissions and ignored files, or a :class:`UsageError`, without TensorFlow."""
    for path in args.paths:
        if not os.path.exists(path) and not os.path.islink(path):
            raise UsageError(f"no such file or folder: {path}")
        if inside(args.out, path):
            raise UsageError(f"--out {args.out} is inside {path}, which is being graded: "
                             "put the output folder elsewhere")
    if args.nbgrader_feedback and any(inside(args.nbgrader_feedback, p) for p in args.paths):
        raise UsageError(f"--nbgrader-feedback {args.nbgrader_feedback} is inside a graded folder")
    ignored = []
    try:
        submissions = find_submissions(args.paths, ignored)
    except NotASubmission as exc:
        raise UsageError(str(exc)) from None
    if not submissions:
        raise UsageError("no submissions found in " + ", ".join(args.paths)
                         + (f" ({len(ignored)} other files ignored)" if ignored else "")
                         + ": expected notebooks (.ipynb), student folders or nbgrader's submitted/")
    return submissions, ignored


def _check_canvas(args) -> None:
    """``--format canvas`` needs a roster that links tfkit's ids to Canvas's."""
    if "canvas" not in args.format:
        return
    from autograder.results.adjust import Settings
    from autograder.results.exports.canvas import CanvasError, read_roster
    roster = args.roster or Settings.load(args.out).roster_file
    if not roster:
        raise UsageError("--format canvas needs --roster ROSTER.csv (tfkit's ids with Canvas's "
                         "columns, or Canvas's gradebook export)")
    try:
        read_roster(roster)
    except CanvasError as exc:
        raise UsageError(f"--format canvas: {exc}") from None
