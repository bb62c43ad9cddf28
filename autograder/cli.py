"""``tfgrade``, the instructor's and the student's command line.

Arguments are checked, and submissions found, before TensorFlow starts: a mistake
costs a second and one line, not a traceback after the start-up. One function per
subcommand (``_grade``, ``_override``, ...), each with its parser function, all
registered in :func:`main`. What ``tfgrade --help`` shows is written for users
(:data:`DESCRIPTION`, :data:`EXIT_CODES`) and its list of commands is made from the
parsers themselves, so it names every option.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

EXIT_USAGE = 2  # = batch.EXIT_USAGE; batch is not imported before TensorFlow may start


DESCRIPTION = ("Grade the tf_from_scratch notebooks of a class (each in its own sandbox), "
               "change grades and due dates afterwards, write the grades out for Canvas, "
               "Gradescope or nbgrader, and let a student check their notebook before "
               "submitting.")
EXIT_CODES = ("exit codes: 0 every student with a submission was graded; 1 tfgrade itself "
              "failed; 2 nothing was done (a bad argument or path, no submissions); 3 "
              "grades.csv was written but some students are incomplete or ungradable.")


class UsageError(Exception):
    """A one-line error for the instructor; the command exits with ``EXIT_USAGE``."""


def _warn_if_not_isolated() -> None:
    """Say at start, on stderr, when submissions cannot be isolated on this machine."""
    from .sandbox import missing_isolation
    warning = missing_isolation()
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)


def _warm_up(jobs: int | None = None) -> None:
    """Start the sandbox's forkserver, which imports TensorFlow once for every sandbox,
    and the course's first reference process, its child, as soon as that import is done.
    Grading needs no TensorFlow in this process (the judges are NumPy): not importing
    it here leaves both cores to the forkserver's import, the longest step before the
    first student is graded."""
    from .batch import warm_reference
    from .reference import ReferenceFailed, read_reference
    from .sandbox import start_forkserver
    start_forkserver()
    try:
        warm_reference(read_reference(), jobs)  # one reference process per grading thread
    except (OSError, ReferenceFailed):
        pass  # the grading says why, per student


def _quiet_library_warnings() -> None:
    """Keep library warnings the instructor can do nothing about off the console, and
    only those: any other warning still shows."""
    import warnings
    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning
    # nbgrader's and nbconvert's own reads of a notebook with cells lacking an id (an
    # older tool wrote it) or sharing one; the grader's own reads give such cells an id
    # instead (grade.parse_notebook).
    for category in (MissingIDFieldWarning, DuplicateCellId):
        warnings.filterwarnings("ignore", category=category)
    # nbgrader's gradebook code, on every autograde of a new submission (SQLAlchemy's
    # autoflush: "Object of type <SubmittedAssignment> not in session, add operation ...").
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session",
                            module=r"nbgrader\.")


def _log_to_console() -> None:
    """Grader errors go to stderr with their traceback, for the instructor, with any
    student text in them shown as escapes (``escape.TerminalFormatter``); library
    warnings that are noise stay off it (:func:`_quiet_library_warnings`)."""
    import logging
    from .escape import TerminalFormatter
    _quiet_library_warnings()
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("autograder")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 1 and 256, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32-1, not {value}")
    return value


def _grade_settings(args) -> dict:
    """The round's settings this run changes (None: keep what the output folder has)."""
    from . import adjust
    settings = {"feedback": args.feedback, "late_policy": None, "due": None, "roster": None,
                "missing_as_zero": args.missing_as_zero,
                "nbgrader_feedback": args.nbgrader_feedback and os.path.abspath(args.nbgrader_feedback)}
    try:
        if args.late_policy is not None:
            settings["late_policy"] = str(adjust.LatePolicy.parse(args.late_policy))
        if args.due is not None:
            settings["due"] = _due(args.due)
        if args.roster is not None:
            settings["roster"] = adjust.read_roster(args.roster)
            settings["roster_file"] = os.path.abspath(args.roster)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    return settings


def _due(text: str) -> str:
    """``--due``: a date and time, or ``gradebook`` for the due date nbgrader's
    gradebook.db (in the current folder) holds for the assignment."""
    from . import ASSIGNMENT, adjust
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
    from .submissions import NotASubmission, find_submissions, inside
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
    from .adjust import Settings
    from .canvas import CanvasError, read_roster
    roster = args.roster or Settings.load(args.out).roster_file
    if not roster:
        raise UsageError("--format canvas needs --roster ROSTER.csv (tfkit's ids with Canvas's "
                         "columns, or Canvas's gradebook export)")
    try:
        read_roster(roster)
    except CanvasError as exc:
        raise UsageError(f"--format canvas: {exc}") from None


def _course_reference() -> list:
    """Grading compares with the course's reference: find it before grading anyone."""
    from .reference import ReferenceFailed, read_reference
    try:
        return read_reference()
    except (FileNotFoundError, ReferenceFailed) as exc:
        raise UsageError(f"the reference comes from the course's source notebook (run from the "
                         f"course root, or set TFKIT_COURSE): {exc}") from None


def _course_and_package(root) -> None:
    """Say on stderr which course and which package this command uses (stdout stays the
    command's own), and stop when they disagree (``provenance``)."""
    from .provenance import disagreement, where
    print(where(root), file=sys.stderr)
    problem = disagreement(root)
    if problem:
        raise UsageError(problem)


def _cluster_module(args):
    """The ``cluster`` module when ``--scheduler`` or ``--cluster`` asks for Dask (None
    otherwise), or a :class:`UsageError` saying how to install it."""
    if args.jobs is not None and (args.scheduler or args.cluster):
        raise UsageError("--jobs is for grading on this machine: a cluster grades on its "
                         "workers' threads (--cluster local:N starts N workers)")
    if args.cluster:
        try:
            _local_workers(args.cluster)
        except ValueError as exc:
            raise UsageError(f"--cluster: {exc}") from None
    if not (args.scheduler or args.cluster):
        return None
    try:
        from . import cluster
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    return cluster


def _local_workers(text: str) -> int:
    kind, _, count = text.partition(":")
    if kind != "local" or not count.isdigit() or not 1 <= int(count) <= 256:
        raise ValueError(f"expected local:N with N between 1 and 256, not {text!r}")
    return int(count)


def _connect(cluster, args, reference_cells):
    """The cluster the class is graded on; its workers' isolation warnings on stderr."""
    try:
        connected = cluster.Cluster(scheduler=args.scheduler, reference_cells=reference_cells,
                                    local=_local_workers(args.cluster) if args.cluster else None)
    except cluster.ClusterError as exc:
        raise UsageError(str(exc)) from None
    for warning in connected.missing_isolation():
        print(f"WARNING: {warning}", file=sys.stderr)
    return connected


def _remembered_feedback(out: str) -> str | None:
    """The --nbgrader-feedback folder an earlier run of this round was given, if any."""
    from .adjust import Settings
    return Settings.load(out).nbgrader_feedback


def _rebuild(out: str) -> None:
    """Rebuild ``out``'s views after an instructor's change (nbgrader's feedback folder
    too, when the round writes one); say on stderr what could not be applied."""
    from . import report
    for problem in report.rebuild(out, nbgrader_feedback=_remembered_feedback(out)):
        print(problem, file=sys.stderr)


def _grade(args) -> int:
    settings = _grade_settings(args)
    _check_canvas(args)
    cluster = _cluster_module(args)
    submissions, ignored = _find(args)
    reference_cells = _course_reference()
    from .course import course_in_use
    _course_and_package(course_in_use())
    for path, why in ignored:
        print(f"ignored: {path} ({why})", file=sys.stderr)
    _log_to_console()
    if cluster is None:
        _warn_if_not_isolated()
        _warm_up(args.jobs)
    from contextlib import nullcontext
    from . import report
    from .batch import run_round
    from .sandbox import Limits
    formats = ("tfkit", *args.format)
    with _connect(cluster, args, reference_cells) if cluster else nullcontext() as connected:
        results, summary = run_round(
            args.paths, args.out, seed=args.seed, jobs=args.jobs, force=args.force,
            formats=formats, limits=Limits(time_scale=args.time_scale, cell_seconds=args.cell_seconds,
                                           submission_seconds=args.submission_seconds),
            progress=not args.quiet, submissions=submissions, settings=settings,
            nbgrader_feedback=settings["nbgrader_feedback"] or _remembered_feedback(args.out),
            cluster=connected)
    summary.ignored = ignored
    from . import adjust
    print(report.table(results, adjust.read_overrides(args.out)[0], adjust.Settings.load(args.out)))
    print(f"\nwrote {os.path.join(args.out, report.GRADES_FILE)}, and result.json and "
          f"feedback.md per student (seed {args.seed})")
    print(f"class report: {os.path.join(args.out, 'report.html')}; each student's feedback.html "
          "beside their feedback.md")
    print("\n".join(summary.lines()))
    failed = summary.grader_errors(results)
    if failed:
        print(f"tfgrade: {failed}", file=sys.stderr)
    return summary.exit_code


def _override(args) -> int:
    from . import adjust
    student = _existing_student(args.out, args.student)
    try:
        override = adjust.append_override(args.out, student, args.exercise, args.points, args.comment)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    _rebuild(args.out)
    print(f"{student}: {override.exercise} set to {override.points:g} "
          f"(appended to {os.path.join(args.out, adjust.OVERRIDES_FILE)}; grades.csv and feedback rebuilt)")
    return 0


def _existing_student(out: str, student_id: str) -> str:
    """The safe id of ``student_id``, who must have a result in the output folder ``out``."""
    from . import report
    from .escape import safe_student_id
    if not os.path.isdir(out):
        raise UsageError(f"no output folder {out}: grade first (tfgrade grade ... --out {out})")
    student = safe_student_id(student_id)
    if not any(r["student_id"] == student for r in report.read_results(out)):
        raise UsageError(f"no student {student} in {out} (see {report.GRADES_FILE})")
    return student


def _extend(args) -> int:
    from . import adjust
    student = _existing_student(args.out, args.student)
    round_due = adjust.Settings.load(args.out).due
    try:
        extension = adjust.append_extension(args.out, student, args.due, args.reason,
                                            not_before=round_due)
    except adjust.AdjustError as exc:
        raise UsageError(str(exc)) from None
    _rebuild(args.out)
    what = extension.describe() if extension.due else "extension withdrawn"
    print(f"{student}: {what} (appended to {os.path.join(args.out, adjust.EXTENSIONS_FILE)}; "
          "grades.csv and feedback rebuilt)")
    return 0


def _gradescope_bundle(args) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"no folder {folder} for {args.out}")
    if os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is a folder: name the zip file to write")
    from .gradescope import write_bundle
    path = write_bundle(args.out, visibility=args.visibility, seed=args.seed, feedback=args.feedback,
                        time_scale=args.time_scale, cell_seconds=args.cell_seconds)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB, results {args.visibility}): upload it "
          "on Gradescope's Configure Autograder page")
    return 0


def _gradescope_parser(commands, default_seed: int) -> None:
    bundle = _command(commands, "gradescope-bundle", "write Gradescope's autograder zip "
                      "(setup.sh, run_autograder and this kit)",
                      "Write the zip to upload on a Gradescope assignment's Configure Autograder "
                      "page: Gradescope then grades each submission with this kit.")
    bundle.add_argument("--out", default="autograder.zip", metavar="ZIP",
                        help="the zip to write (default autograder.zip)")
    bundle.add_argument("--visibility", default="visible",
                        choices=["visible", "after_due_date", "after_published", "hidden"],
                        help="when students see each exercise's result (default visible; hidden "
                        "also hides the total)")
    bundle.add_argument("--seed", type=_seed, default=default_seed, metavar="S",
                        help=f"seed of the inputs (default {default_seed})")
    bundle.add_argument("--feedback", choices=["full", "brief"], default="full",
                        help="brief leaves expected values out of the feedback")
    bundle.add_argument("--time-scale", type=_positive_float, default=1.0, metavar="X",
                        help="multiply every exercise's time limit by X")
    bundle.add_argument("--cell-seconds", type=_positive_float, default=15.0, metavar="S",
                        help="time limit of each top-level cell, in seconds (default 15)")
    bundle.set_defaults(run=_gradescope_bundle)


def _autograde(args) -> int:
    if not os.path.isfile("nbgrader_config.py"):
        raise UsageError("run it from an nbgrader course root (there is no nbgrader_config.py here)")
    if not os.path.isdir("submitted"):
        raise UsageError("there is no submitted/ folder here: collect the submissions first")
    cluster = _cluster_module(args)
    _course_and_package(os.getcwd())
    _quiet_library_warnings()
    from .autograde import CourseError, autograde, course_app
    extra = [f"--SandboxedGrading.{name}={value}" for name, value in
             (("seed", args.seed), ("time_scale", args.time_scale), ("cell_seconds", args.cell_seconds))
             if value is not None]
    try:
        app = course_app(args.assignment, args.student, args.force, extra)
    except CourseError as exc:
        raise UsageError(str(exc)) from None
    if cluster is None:
        _warn_if_not_isolated()
        _warm_up(args.jobs)
    from contextlib import nullcontext
    with _connect(cluster, args, _course_reference()) if cluster else nullcontext() as connected:
        return autograde(app, args.assignment, args.jobs, args.force, cluster=connected,
                         progress=not args.quiet)


def _autograde_parser(commands) -> None:
    autograde = _command(
        commands, "autograde", "nbgrader's autograde, in the sandbox and in parallel, into the "
        "course's gradebook (run from the course root)",
        "Autograde the course's submitted/ into nbgrader's gradebook and autograded/, each "
        "notebook in its own sandbox, several at once; formgrader, generate_feedback and export "
        "then work as usual. Run it from the course root, after nbgrader generate_assignment.")
    autograde.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment's name (tf_from_scratch)")
    autograde.add_argument("--student", metavar="ID", help="only this student")
    autograde.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                           help="submissions graded at once (default: the number of cores)")
    autograde.add_argument("--force", action="store_true",
                           help="autograde students again, even those already autograded")
    autograde.add_argument("--seed", type=_seed, default=None, metavar="S",
                           help="seed of the inputs (default: the course config's, 20211)")
    autograde.add_argument("--time-scale", type=_positive_float, default=None, metavar="X",
                           help="multiply every exercise's time limit by X")
    autograde.add_argument("--cell-seconds", type=_positive_float, default=None, metavar="S",
                           help="time limit of each top-level cell, in seconds")
    autograde.add_argument("--quiet", action="store_true", help="no progress while grading ahead "
                           "(nbgrader still logs each student)")
    _cluster_options(autograde)
    autograde.set_defaults(run=_autograde)


def _cluster_options(command) -> None:
    where = command.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on this Dask cluster (e.g. tcp://10.0.0.5:8786; its workers "
                       "need tfkit installed, nothing of the course): pip install 'tfkit[dask]'")
    where.add_argument("--cluster", metavar="local:N",
                       help="grade on a Dask cluster of N workers started here, for a try "
                       "(see docs/cluster.md)")


def _check(args) -> int:
    from .sandbox import import_quietly
    import_quietly("autograder.check")
    from .check import check_notebook
    return check_notebook(args.notebook)


def _selftest(args) -> int:
    from .contract import EXERCISES
    unknown = [name for name in args.exercise or () if name not in EXERCISES]
    if unknown:
        raise UsageError(f"unknown exercise {', '.join(unknown)} (one of: {', '.join(EXERCISES)})")
    from .course import course_root
    try:
        _course_and_package(course_root())
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    from .sandbox import import_quietly, start_forkserver
    start_forkserver()  # its TensorFlow import overlaps with this process's
    import_quietly("tensorflow", warm=True)
    from .selftest import main as selftest_main
    return selftest_main(args)


def _grade_parser(commands, default_seed: int) -> None:
    grade = _command(commands, "grade", "grade submissions into an output folder",
                     "Grade every submission under PATH (each notebook in its own sandbox) into "
                     "OUT: grades.csv, report.html and each student's result and feedback. "
                     "Students whose result is current are skipped; a re-run is always safe.")
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, a student's "
                       "folder, a folder of notebooks, or nbgrader's submitted/ folder")
    grade.add_argument("--out", required=True, metavar="DIR", help="folder for grades.csv and "
                       "per-student results (not inside a graded folder)")
    grade.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--seed", type=_seed, default=default_seed, metavar="S",
                       help=f"seed of the inputs; the same seed replays a grading (default {default_seed})")
    grade.add_argument("--force", action="store_true", help="grade every student again, even "
                       "those whose result is current")
    grade.add_argument("--format", action="append", default=[], choices=["gradescope", "canvas"],
                       help="(repeatable) gradescope: also write Gradescope's results.json per student; canvas: "
                       "also write canvas.csv for Canvas's gradebook import (needs --roster)")
    grade.add_argument("--time-scale", type=_positive_float, default=1.0, metavar="X",
                       help="multiply every exercise's time limit by X (slow machines)")
    grade.add_argument("--cell-seconds", type=_positive_float, default=15.0, metavar="S",
                       help="time limit of each top-level cell of a notebook, in seconds "
                       "(default 15)")
    grade.add_argument("--submission-seconds", type=_positive_float, default=None, metavar="S",
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
    _cluster_options(grade)
    grade.set_defaults(run=_grade)


def _extend_parser(commands) -> None:
    extend = _command(
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
    extend.set_defaults(run=_extend)


def _override_parser(commands) -> None:
    override = _command(commands, "override", "change a student's points (appends to "
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
    override.set_defaults(run=_override)


def _command(commands, name: str, text: str, description: str | None = None):
    """A subcommand whose one-line ``text`` shows in ``tfgrade --help`` and, with
    ``description``, heads its own ``--help``."""
    return commands.add_parser(name, help=text, description=description or text[:1].upper()
                               + text[1:] + ".")


def _check_parser(commands) -> None:
    check = _command(commands, "check", "run a notebook's visible checks (before submitting)")
    check.add_argument("notebook", metavar="NOTEBOOK", help="the notebook to check, e.g. tf_from_scratch.ipynb")
    check.set_defaults(run=_check)


def _selftest_parser(commands) -> None:
    selftest = _command(commands, "selftest", "prove the assignment's tests can fail",
                        "Grade the kit's corpus of realistic mistakes and correct alternatives, "
                        "and check the course's notebooks agree with the exercises: every mistake "
                        "must lose points with its hint, every alternative earn them all.")
    selftest.add_argument("--quick", action="store_true",
                          help="skip the nbgrader runs (fresh generation and autograde) and "
                          "grade the corpus at the kit's seed only (not also at the second seed)")
    selftest.add_argument("--exercise", action="append", metavar="NAME",
                          help="only this exercise's mutants and alternatives (repeatable)")
    selftest.set_defaults(run=_selftest)


def _parser():
    from . import DEFAULT_SEED
    from .report import kit_version
    parser = argparse.ArgumentParser(prog="tfgrade", description=_fill(DESCRIPTION),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tfgrade {kit_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _grade_parser(commands, DEFAULT_SEED)
    _override_parser(commands)
    _extend_parser(commands)
    _autograde_parser(commands)
    _gradescope_parser(commands, DEFAULT_SEED)
    _check_parser(commands)
    _selftest_parser(commands)
    from .serve import command as serve_command  # tfgrade serve (autograder/serve/)
    serve_command.add_parser(commands)
    usages = [" ".join(sub.format_usage().split()[1:]) for sub in commands.choices.values()]
    parser.epilog = "\n".join(["commands and their options (tfgrade COMMAND --help says more):",
                                *(_fill(u, "  ", "      ") for u in usages), "", _fill(EXIT_CODES)])
    return parser


def _fill(text: str, first: str = "", rest: str = "") -> str:
    """``text`` wrapped for ``--help`` (never inside an option's name)."""
    return textwrap.fill(text, 88, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"tfgrade {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
