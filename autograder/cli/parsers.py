"""Every parser of ``tfgrade``: the argument types, one parser per subcommand, and the
top-level parser whose ``--help`` lists every command with all its options.

What ``tfgrade --help`` shows is written for users (:data:`DESCRIPTION`, :data:`EXIT_CODES`),
and its list of commands is made from the parsers themselves, so it names every option.
Arguments are checked here, before TensorFlow starts: a mistake costs a second and one line.
"""
from __future__ import annotations

import argparse
import textwrap

from autograder import DEFAULT_SEED
from autograder.cli import (autograde as autograde_command, check as check_command,
                            extend as extend_command, grade as grade_command,
                            gradescope_bundle as gradescope_command, override as override_command,
                            selftest as selftest_command)
from autograder.results.kit import kit_version

DESCRIPTION = ("Grade the tf_from_scratch notebooks of a class (each in its own sandbox), "
               "change grades and due dates afterwards, write the grades out for Canvas, "
               "Gradescope or nbgrader, and let a student check their notebook before "
               "submitting.")
EXIT_CODES = ("exit codes: 0 every student with a submission was graded; 1 tfgrade itself "
              "failed; 2 nothing was done (a bad argument or path, no submissions); 3 "
              "grades.csv was written but some students are incomplete or ungradable.")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 1 and 256, not {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def seed_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32-1, not {value}")
    return value


def command(commands, name: str, text: str, description: str | None = None):
    """A subcommand whose one-line ``text`` shows in ``tfgrade --help`` and, with
    ``description``, heads its own ``--help``."""
    return commands.add_parser(name, help=text, description=description or text[:1].upper()
                               + text[1:] + ".")


def grading_options(command) -> None:
    """The inputs' seed and the time limits, as autograde and serve take them."""
    command.add_argument("--seed", type=seed_value, default=None, metavar="S",
                         help="seed of the inputs (default: the course config's, 20211)")
    command.add_argument("--time-scale", type=positive_float, default=None, metavar="X",
                         help="multiply every exercise's time limit by X")
    command.add_argument("--cell-seconds", type=positive_float, default=None, metavar="S",
                         help="time limit of each top-level cell, in seconds")


def cluster_options(command) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on this Dask cluster (e.g. tcp://10.0.0.5:8786; its workers "
                       "need tfkit installed, nothing of the course): pip install 'tfkit[dask]'")
    where.add_argument("--cluster", metavar="local:N",
                       help="grade on a Dask cluster of N workers started here, for a try "
                       "(see docs/cluster.md)")


def grade_parser(commands, default_seed: int) -> None:
    grade = command(commands, "grade", "grade submissions into an output folder",
                     "Grade every submission under PATH (each notebook in its own sandbox) into "
                     "OUT: grades.csv, report.html and each student's result and feedback. "
                     "Students whose result is current are skipped; a re-run is always safe.")
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, a student's "
                       "folder, a folder of notebooks, or nbgrader's submitted/ folder")
    grade.add_argument("--out", required=True, metavar="DIR", help="folder for grades.csv and "
                       "per-student results (not inside a graded folder)")
    grade.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                       help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--seed", type=seed_value, default=default_seed, metavar="S",
                       help=f"seed of the inputs; the same seed replays a grading (default {default_seed})")
    grade.add_argument("--force", action="store_true", help="grade every student again, even "
                       "those whose result is current")
    grade.add_argument("--format", action="append", default=[], choices=["gradescope", "canvas"],
                       help="(repeatable) gradescope: also write Gradescope's results.json per student; canvas: "
                       "also write canvas.csv for Canvas's gradebook import (needs --roster)")
    grade.add_argument("--time-scale", type=positive_float, default=1.0, metavar="X",
                       help="multiply every exercise's time limit by X (slow machines)")
    grade.add_argument("--cell-seconds", type=positive_float, default=15.0, metavar="S",
                       help="time limit of each top-level cell of a notebook, in seconds "
                       "(default 15)")
    grade.add_argument("--submission-seconds", type=positive_float, default=None, metavar="S",
                       help="time budget of a whole submission, in seconds (default: one pass of "
                       "its cells plus every exercise's limit); what it does not reach is not graded")
    grade.add_argument("--roster", metavar="CSV", help="CSV of the class (column student_id, id, username or "
                       "login, else the first): rostered students with nothing submitted get a row")
    grade.add_argument("--due", metavar="WHEN", help="due date and time (2026-12-01 23:59, local time unless a zone "
                             "is given), or 'gradebook' for nbgrader's; late work is read from "
                             "nbgrader's timestamp.txt")
    grade.add_argument("--late-policy", metavar="POLICY", help="none (default: flagged only), or any of "
                       "per-day=P,floor=F,zero-after=N (P%% off per started day, never below F%%; "
                       "0 after N days)")
    grade.add_argument("--feedback", choices=["full", "brief"], default=None,
                       help="brief leaves expected values out of the feedback (default full)")
    grade.add_argument("--nbgrader-feedback", metavar="FEEDBACK_DIR",
                       help="also write FEEDBACK_DIR/<student>/tf_from_scratch/tf_from_scratch.html "
                       "for nbgrader release_feedback (e.g. the course's feedback/); remembered: "
                       "later runs, overrides and extensions rewrite it too")
    grade.add_argument("--missing-as-zero", action=argparse.BooleanOptionalAction, default=None,
                       help="canvas.csv: give missing and ungradable students 0 instead of an "
                       "empty cell, which Canvas leaves ungraded (default: empty; remembered)")
    grade.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, "
                       "else a line per student graded, on stderr)")
    cluster_options(grade)
    grade.set_defaults(run=grade_command.run)


def override_parser(commands) -> None:
    override = command(commands, "override", "change a student's points (appends to "
                        "DIR/overrides.csv, then rebuilds grades.csv and feedback)",
                        "Set a student's points for one exercise, or their total. The last line "
                        "of DIR/overrides.csv per student and exercise wins; a total override is "
                        "final (no late penalty, no re-grade changes it).")
    override.add_argument("student", metavar="STUDENT", help="the student's id, as in grades.csv")
    override.add_argument("exercise", metavar="EXERCISE", help="an exercise's name (a column of grades.csv), or "
                          "'total'")
    override.add_argument("points", metavar="POINTS", help="the new points, between 0 and the exercise's maximum")
    override.add_argument("--out", required=True, metavar="DIR",
                          help="the output folder of tfgrade grade")
    override.add_argument("--comment", default="", metavar="TEXT", help="why; the student reads it in the feedback")
    override.set_defaults(run=override_command.run)


def extend_parser(commands) -> None:
    extend = command(
        commands, "extend", "give one student a later due date (appends to DIR/extensions.csv, "
        "then rebuilds grades.csv and feedback)",
        "Give one student their own due date. The late policy counts from it, the "
        "student's feedback and grades.csv's adjustments show it, and it survives re-grades. "
        "The last line of DIR/extensions.csv per student wins: --due none withdraws it.")
    extend.add_argument("student", metavar="STUDENT", help="the student's id, as in grades.csv")
    extend.add_argument("--due", required=True, metavar="WHEN",
                        help="the student's due date and time (2026-12-05 23:59, local time "
                        "unless a zone is given), or 'none' to withdraw an extension")
    extend.add_argument("--out", required=True, metavar="DIR",
                        help="the output folder of tfgrade grade")
    extend.add_argument("--reason", default="", metavar="TEXT", help="why; the student reads it in the feedback")
    extend.set_defaults(run=extend_command.run)


def autograde_parser(commands) -> None:
    autograde = command(
        commands, "autograde", "nbgrader's autograde, in the sandbox and in parallel, into the "
        "course's gradebook (run from the course root)",
        "Autograde the course's submitted/ into nbgrader's gradebook and autograded/, each "
        "notebook in its own sandbox, several at once; formgrader, generate_feedback and export "
        "then work as usual. Run it from the course root, after nbgrader generate_assignment.")
    autograde.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment's name (tf_from_scratch)")
    autograde.add_argument("--student", metavar="ID", help="only this student")
    autograde.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                           help="submissions graded at once (default: the number of cores)")
    autograde.add_argument("--force", action="store_true",
                           help="autograde students again, even those already autograded")
    grading_options(autograde)
    autograde.add_argument("--quiet", action="store_true", help="no progress while grading ahead "
                           "(nbgrader still logs each student)")
    cluster_options(autograde)
    autograde.set_defaults(run=autograde_command.run)


def gradescope_parser(commands, default_seed: int) -> None:
    bundle = command(commands, "gradescope-bundle", "write Gradescope's autograder zip "
                      "(setup.sh, run_autograder and this kit)",
                      "Write the zip to upload on a Gradescope assignment's Configure Autograder "
                      "page: Gradescope then grades each submission with this kit.")
    bundle.add_argument("--out", default="autograder.zip", metavar="ZIP",
                        help="the zip to write (default autograder.zip)")
    bundle.add_argument("--visibility", default="visible",
                        choices=["visible", "after_due_date", "after_published", "hidden"],
                        help="when students see each exercise's result (default visible; hidden "
                        "also hides the total)")
    bundle.add_argument("--seed", type=seed_value, default=default_seed, metavar="S",
                        help=f"seed of the inputs (default {default_seed})")
    bundle.add_argument("--feedback", choices=["full", "brief"], default="full",
                        help="brief leaves expected values out of the feedback")
    bundle.add_argument("--time-scale", type=positive_float, default=1.0, metavar="X",
                        help="multiply every exercise's time limit by X")
    bundle.add_argument("--cell-seconds", type=positive_float, default=15.0, metavar="S",
                        help="time limit of each top-level cell, in seconds (default 15)")
    bundle.set_defaults(run=gradescope_command.run)


def check_parser(commands) -> None:
    check = command(commands, "check", "run a notebook's visible checks (before submitting)")
    check.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to check, e.g. tf_from_scratch.ipynb")
    check.set_defaults(run=check_command.run)


def selftest_parser(commands) -> None:
    selftest = command(commands, "selftest", "prove the assignment's tests can fail",
                        "Grade the kit's corpus of realistic mistakes and correct alternatives, "
                        "and check the course's notebooks agree with the exercises: every mistake "
                        "must lose points with its hint, every alternative earn them all.")
    selftest.add_argument("--quick", action="store_true",
                          help="skip the nbgrader runs (fresh generation and autograde) and "
                          "grade the corpus at the kit's seed only (not also at the second seed)")
    selftest.add_argument("--exercise", action="append", metavar="NAME",
                          help="only this exercise's mutants and alternatives (repeatable)")
    selftest.set_defaults(run=selftest_command.run)


def parser():
    parser = argparse.ArgumentParser(prog="tfgrade", description=fill(DESCRIPTION),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tfgrade {kit_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade_parser(commands, DEFAULT_SEED)
    override_parser(commands)
    extend_parser(commands)
    autograde_parser(commands)
    gradescope_parser(commands, DEFAULT_SEED)
    check_parser(commands)
    selftest_parser(commands)
    from autograder.serve import command as serve_command  # its parser imports tornado: only here
    grading_options(serve_command.add_parser(commands))
    usages = [" ".join(sub.format_usage().split()[1:]) for sub in commands.choices.values()]
    parser.epilog = "\n".join(["commands and their options (tfgrade COMMAND --help says more):",
                                *(fill(u, "  ", "      ") for u in usages), "", fill(EXIT_CODES)])
    return parser


def fill(text: str, first: str = "", rest: str = "") -> str:
    """``text`` wrapped for ``--help`` (never inside an option's name)."""
    return textwrap.fill(text, 88, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)
