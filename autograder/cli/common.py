"""What several subcommands share: the one-line usage error, the start-up (the forkserver,
the reference, the console's logging) and the course, cluster and output-folder checks.

Everything that needs NumPy, nbformat or TensorFlow is imported inside the function that
uses it, so that ``tfgrade --help`` and the argument checks stay fast.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings

from autograder.results import escape, records
from autograder.sandbox import forkserver, settings

EXIT_USAGE = 2  # = batch.EXIT_USAGE; batch is not imported before TensorFlow may start


class UsageError(Exception):
    """A one-line error for the instructor; the command exits with ``EXIT_USAGE``."""


def warn_if_not_isolated() -> None:
    """Say at start, on stderr, when submissions cannot be isolated on this machine."""
    warning = settings.missing_isolation()
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)


def warm_up(jobs: int | None = None) -> None:
    """Start the sandbox's forkserver, which imports TensorFlow once for every sandbox,
    and the course's first reference process, its child, as soon as that import is done.
    Grading needs no TensorFlow in this process (the judges are NumPy): not importing
    it here leaves both cores to the forkserver's import, the longest step before the
    first student is graded."""
    from autograder.grading.batch import warm_reference
    from autograder.grading.reference import ReferenceFailed, read_reference
    forkserver.start_forkserver()
    try:
        warm_reference(read_reference(), jobs)  # one reference process per grading thread
    except (OSError, ReferenceFailed):
        pass  # the grading says why, per student


def quiet_library_warnings() -> None:
    """Keep library warnings the instructor can do nothing about off the console, and
    only those: any other warning still shows."""
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


def log_to_console() -> None:
    """Grader errors go to stderr with their traceback, for the instructor, with any
    student text in them shown as escapes (``escape.TerminalFormatter``); library
    warnings that are noise stay off it (:func:`quiet_library_warnings`)."""
    quiet_library_warnings()
    handler = logging.StreamHandler()
    handler.setFormatter(escape.TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("autograder")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def course_reference() -> list:
    """Grading compares with the course's reference: find it before grading anyone."""
    from autograder.grading.reference import ReferenceFailed, read_reference
    try:
        return read_reference()
    except (FileNotFoundError, ReferenceFailed) as exc:
        raise UsageError(f"the reference comes from the course's source notebook (run from the "
                         f"course root, or set TFKIT_COURSE): {exc}") from None


def course_and_package(root) -> None:
    """Say on stderr which course and which package this command uses (stdout stays the
    command's own), and stop when they disagree (``provenance``)."""
    from autograder.provenance import disagreement, where
    print(where(root), file=sys.stderr)
    problem = disagreement(root)
    if problem:
        raise UsageError(problem)


def cluster_module(args):
    """The ``cluster`` module when ``--scheduler`` or ``--cluster`` asks for Dask (None
    otherwise), or a :class:`UsageError` saying how to install it."""
    if args.jobs is not None and (args.scheduler or args.cluster):
        raise UsageError("--jobs is for grading on this machine: a cluster grades on its "
                         "workers' threads (--cluster local:N starts N workers)")
    if args.cluster:
        try:
            local_workers(args.cluster)
        except ValueError as exc:
            raise UsageError(f"--cluster: {exc}") from None
    if not (args.scheduler or args.cluster):
        return None
    try:
        from autograder.grading import cluster
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    return cluster


def local_workers(text: str) -> int:
    kind, _, count = text.partition(":")
    if kind != "local" or not count.isdigit() or not 1 <= int(count) <= 256:
        raise ValueError(f"expected local:N with N between 1 and 256, not {text!r}")
    return int(count)


def connect(cluster, args, reference_cells):
    """The cluster the class is graded on; its workers' isolation warnings on stderr."""
    try:
        connected = cluster.Cluster(scheduler=args.scheduler, reference_cells=reference_cells,
                                    local=local_workers(args.cluster) if args.cluster else None)
    except cluster.ClusterError as exc:
        raise UsageError(str(exc)) from None
    for warning in connected.missing_isolation():
        print(f"WARNING: {warning}", file=sys.stderr)
    return connected


def remembered_feedback(out: str) -> str | None:
    """The --nbgrader-feedback folder an earlier run of this round was given, if any."""
    from autograder.results.adjust import Settings
    return Settings.load(out).nbgrader_feedback


def rebuild(out: str) -> None:
    """Rebuild ``out``'s views after an instructor's change (nbgrader's feedback folder
    too, when the round writes one); say on stderr what could not be applied."""
    from autograder.results.views import rebuild
    for problem in rebuild(out, nbgrader_feedback=remembered_feedback(out)):
        print(problem, file=sys.stderr)


def existing_student(out: str, student_id: str) -> str:
    """The safe id of ``student_id``, who must have a result in the output folder ``out``."""
    from autograder.results.grades_csv import GRADES_FILE
    if not os.path.isdir(out):
        raise UsageError(f"no output folder {out}: grade first (tfgrade grade ... --out {out})")
    student = escape.safe_student_id(student_id)
    if not any(r["student_id"] == student for r in records.read_results(out)):
        raise UsageError(f"no student {student} in {out} (see {GRADES_FILE})")
    return student
