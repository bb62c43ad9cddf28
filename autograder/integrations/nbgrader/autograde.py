"""``tfgrade autograde ASSIGNMENT``: nbgrader's autograde, sandboxed and in parallel.

Run from an nbgrader course root, after ``nbgrader generate_assignment`` (before it,
the command stops with one line, grading no one). It loads the course's
``nbgrader_config.py`` the way nbgrader does, grades every submission in ``submitted/``
in the sandbox, several at a time, then runs nbgrader's own ``Autograde`` pipeline,
whose :class:`SandboxedGrading` step picks those results up (``sandboxed``).
nbgrader therefore writes the gradebook, the timestamps and the ``autograded/``
notebooks itself, and formgrader, manual overrides, ``generate_feedback`` and
``export`` work unchanged.
"""
from __future__ import annotations

import glob
import os
from concurrent.futures import ThreadPoolExecutor, as_completed

SANDBOXED = "autograder.integrations.nbgrader.sandboxed.SandboxedGrading"


class CourseError(Exception):
    """The course cannot be autograded this way (the message says why, in one line)."""


def _app(assignment: str, student: str | None, force: bool, extra: list):
    from nbgrader.apps.autogradeapp import AutogradeApp
    argv = [assignment, "--create", *(["--force"] if force else []),
            *([f"--student={student}"] if student else []), *extra]
    app = AutogradeApp()
    app.initialize(argv)
    return app


def _check_sandboxed(app) -> None:
    steps = [str(getattr(step, "__module__", "") + "." + getattr(step, "__name__", "")
                 if isinstance(step, type) else step)
             for step in app.config.Autograde.get("autograde_preprocessors", [])]
    if SANDBOXED not in steps:
        raise CourseError(
            "this course's nbgrader_config.py does not grade in the sandbox: set "
            "c.Autograde.autograde_preprocessors with SandboxedGrading in Execute's place "
            "(see the kit's nbgrader_config.py)")


def _check_generated(app, assignment: str) -> None:
    """The assignment must be in the course's gradebook (``generate_assignment`` puts it
    there), or nbgrader fails on every student with a traceback after they were graded."""
    from nbgrader.api import Gradebook, MissingEntry
    first = (f"run `nbgrader generate_assignment {assignment}` first (from the course root), "
             "then this command again")
    url = app.coursedir.db_url
    if url.startswith("sqlite:///") and not os.path.isfile(url[len("sqlite:///"):]):
        raise CourseError(f"there is no gradebook yet: {first}")
    with Gradebook(url) as gradebook:
        try:
            notebooks = gradebook.find_assignment(assignment).notebooks
        except MissingEntry:
            notebooks = []
    if not notebooks:
        raise CourseError(f"{assignment} is not in the gradebook: {first}")


def course_app(assignment: str, student: str | None = None, force: bool = False,
               extra: list = ()):
    """nbgrader's autograde application for ``assignment``, loaded from the course's
    config in the current folder; :class:`CourseError` unless the course grades in the
    sandbox and the assignment was generated. Cheap: nothing is graded or started."""
    app = _app(assignment, student, force, list(extra))
    _check_sandboxed(app)
    _check_generated(app, assignment)
    return app


def submissions(app, assignment: str, force: bool) -> dict:
    """``{student: notebook path}`` of the submissions nbgrader will autograde."""
    coursedir = app.coursedir
    student = coursedir.student_id or "*"
    pattern = coursedir.format_path(coursedir.submitted_directory, student, assignment)
    found = {}
    for folder in sorted(glob.glob(pattern)):
        student_id = os.path.basename(os.path.dirname(folder))
        done = coursedir.format_path(coursedir.autograded_directory, student_id, assignment)
        if os.path.isdir(done) and not force:
            continue  # nbgrader skips it too
        for notebook in sorted(glob.glob(os.path.join(folder, "*.ipynb"))):
            found[student_id] = notebook
    return found


def _pregrade(item, seed, limits) -> None:
    from autograder.grading.grade import Ungradable, grade_notebook, read_notebook
    from autograder.integrations.nbgrader import sandboxed
    student, path = item
    try:
        notebook = read_notebook(path)
    except Ungradable:
        return  # nbgrader's pipeline reports an unreadable notebook itself
    sandboxed.remember(notebook, seed, limits, grade_notebook(notebook, student, seed, limits))


def _pregrade_here(todo: dict, seed, limits, jobs, shown) -> None:
    """Grade ``todo`` ahead on ``jobs`` threads here, telling ``shown`` of each."""
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(_pregrade, item, seed, limits): item[0] for item in todo.items()}
        for future in as_completed(futures):
            future.result()
            shown.update(futures[future])


def _pregrade_on(cluster, todo: dict, seed, limits, shown) -> None:
    """The same on a Dask cluster (``cluster.Cluster``): each notebook read once, here,
    and graded on the workers; a student the cluster could not grade is graded by the
    pipeline."""
    from autograder.grading.grade import Ungradable, read_notebook, runnable_cells
    from autograder.integrations.nbgrader import sandboxed
    notebooks = {}

    def items():
        for student, path in todo.items():
            try:
                notebooks[student] = read_notebook(path)
            except Ungradable:
                continue  # nbgrader's pipeline reports it
            cells = runnable_cells(notebooks[student])
            yield student, cluster.task_of(student, student, cells, seed, limits)

    for student, outcome in cluster.grade(items()):
        shown.update(student)
        if hasattr(outcome, "exercises"):
            sandboxed.remember(notebooks.pop(student), seed, limits, outcome)


def autograde(app, assignment: str, jobs: int | None = None, force: bool = False,
              cluster=None, progress: bool = True) -> int:
    """Grade ``assignment``'s submissions into nbgrader's gradebook with ``app``
    (:func:`course_app`); returns nbgrader's exit status (0 when every submission was
    autograded). With ``cluster``, the submissions are graded on its workers first.
    ``progress``: show the grading ahead of nbgrader's pipeline on stderr
    (``batch.Progress``)."""
    from autograder.grading.batch import Progress
    from autograder.integrations.nbgrader.sandboxed import SandboxedGrading
    settings = SandboxedGrading(config=app.config)
    seed, limits = settings.seed, settings.limits()
    todo = submissions(app, assignment, force)
    shown = Progress(len(todo), progress, what="grading ahead")
    try:
        if cluster is not None:
            _pregrade_on(cluster, todo, seed, limits, shown)
        else:
            _pregrade_here(todo, seed, limits, jobs, shown)
    finally:
        shown.close()
    try:
        app.start()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
