"""``tfgrade``: grade a class, check a notebook before submitting.

    tfgrade grade PATH... --out DIR [--jobs N] [--seed S] [--force] [--format gradescope]
    tfgrade check NOTEBOOK
    tfgrade selftest
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _warm_up() -> None:
    """Start the sandbox's forkserver, then import TensorFlow here: the two imports
    overlap, and TensorFlow's start-up lines stay off the console."""
    from .sandbox import import_quietly, start_forkserver
    start_forkserver()
    import_quietly("tensorflow", warm=True)


def _log_to_console() -> None:
    """Grader errors go to stderr with their traceback, for the instructor, with any
    student text in them shown as escapes (``escape.TerminalFormatter``)."""
    import logging
    from .escape import TerminalFormatter
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("autograder")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _grade(args) -> int:
    _log_to_console()
    from .sandbox import missing_isolation
    warning = missing_isolation()
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)
    _warm_up()
    from . import report
    from .batch import grade_class
    from .sandbox import Limits
    formats = ("tfkit", *args.format)
    results = grade_class(args.paths, args.out, seed=args.seed, jobs=args.jobs, force=args.force,
                          formats=formats,
                          limits=Limits(time_scale=args.time_scale, cell_seconds=args.cell_seconds),
                          progress=not args.quiet)
    print(report.table(results))
    print(f"\nwrote {os.path.join(args.out, report.GRADES_FILE)} and a result.json and "
          f"feedback.md per student (seed {args.seed})")
    return 0


def _check(args) -> int:
    from .sandbox import import_quietly
    import_quietly("autograder.check")
    from .check import check_notebook
    return check_notebook(args.notebook)


def _selftest(args) -> int:
    _warm_up()
    from .selftest import main as selftest_main
    return selftest_main(args)


def main(argv=None) -> int:
    from . import DEFAULT_SEED
    parser = argparse.ArgumentParser(prog="tfgrade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade submissions into an output folder")
    grade.add_argument("paths", nargs="+", help="notebooks, student folders, or nbgrader's "
                       "submitted/ folder")
    grade.add_argument("--out", required=True, help="folder for grades.csv and per-student results")
    grade.add_argument("--jobs", type=int, default=None, help="submissions graded at once "
                       "(default: the number of cores)")
    grade.add_argument("--seed", type=int, default=DEFAULT_SEED,
                       help=f"seed of the inputs; the same seed replays a grading (default {DEFAULT_SEED})")
    grade.add_argument("--force", action="store_true", help="regrade students already graded")
    grade.add_argument("--format", action="append", default=[], choices=["gradescope"],
                       help="also write Gradescope's results.json per student")
    grade.add_argument("--time-scale", type=float, default=1.0,
                       help="multiply every exercise's time limit (slow machines)")
    grade.add_argument("--cell-seconds", type=float, default=15.0,
                       help="time limit of each top-level cell of a notebook (default 15)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.set_defaults(run=_grade)

    check = commands.add_parser("check", help="run a notebook's visible checks (before submitting)")
    check.add_argument("notebook")
    check.set_defaults(run=_check)

    selftest = commands.add_parser("selftest", help="prove the assignment's tests can fail")
    selftest.add_argument("--quick", action="store_true",
                          help="skip the nbgrader runs (fresh generation and autograde)")
    selftest.add_argument("--exercise", action="append",
                          help="only this exercise's mutants and alternatives (repeatable)")
    selftest.set_defaults(run=_selftest)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
