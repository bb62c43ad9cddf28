"""What a graded submission leaves behind, on the instructor's side and the student's.

For the submission of record (the latest, or the best with ``counts="best"``):

1. its folder is copied to the course's ``submitted/<student>/<assignment>/`` (as
   ``nbgrader collect`` would copy it; the old copy is replaced in one rename);
2. nbgrader's own autograde pipeline runs for that student, with the grading done
   ahead (``sandboxed.remember``), exactly as ``tfgrade autograde --student
   STUDENT --force`` does: nbgrader writes the gradebook and ``autograded/``;
3. the round's folder (``grades/``, as ``tfgrade grade`` keeps it) gets the student's
   result and views, with the round's overrides, extensions and late policy
   (``views.write_result``), and the course's ``feedback/`` the page ``nbgrader
   release_feedback`` hands out (``nbgrader_feedback.write_nbgrader_feedback``), so a later
   ``tfgrade override`` or ``extend`` rewrites it as for any round.

Every submission, of record or not, gets its own feedback page in the exchange, under
the name ``nbgrader fetch_feedback`` computes from its secret (``exchange.publish``).
Each step replaces what it writes (atomic files, nbgrader's ``--force``), so doing it
again after a crash gives the same files: the queue marks the submission ``done`` only
after all of them.
"""
from __future__ import annotations

import html
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import batch, grade
from autograder.integrations.nbgrader import sandboxed
from autograder.results import adjust, escape, feedback, files, grades_csv, views
from autograder.results.exports import nbgrader_feedback
from autograder.results.html import class_report
from autograder.grading.submissions import Submission

from . import exchange

log = logging.getLogger(__name__)


class RecordFailed(RuntimeError):
    """Recording failed on the grader's side (nbgrader's pipeline, a write): retried."""


def nbgrader_id(student: str) -> bool:
    """Whether ``student`` can name a folder of nbgrader's layout as ``collect`` would
    use it: one path component, nothing hidden."""
    return bool(student) and student not in (".", "..") and "/" not in student \
        and "\0" not in student and not student.startswith(".")


def _copy_submission(source: Path, target: Path) -> None:
    """``source`` as ``target``, replacing it in one rename (no symbolic link copied)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tfgrade-new"
    old = target.parent / f".{target.name}.tfgrade-old"
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(source, staging, symlinks=True,
                    ignore=lambda folder, names: [n for n in names if (Path(folder) / n).is_symlink()])
    if target.exists():
        os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def page(title: str, paragraphs: list) -> str:
    """A small HTML page for the student (every value escaped)."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"{nbgrader_feedback.NBGRADER_MARK}\n<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
            f"{body}\n</body></html>\n")


def when_text(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


@dataclass
class Recorder:
    """Records graded submissions of one assignment of the course in ``course_root``.

    ``app_for(student)`` gives nbgrader's autograde application for that student
    (``autograde.course_app``); ``place`` is the exchange (None: no exchange);
    ``out`` the round's folder; ``state`` the service's own folder (each submission's
    feedback page is kept there too, for the status page)."""

    course_root: Path
    assignment: str
    out: Path
    state: Path
    seed: int
    limits: object
    app_for: object
    place: exchange.Place | None = None
    counts: str = "latest"  # latest | best
    lock: threading.Lock = field(default_factory=threading.Lock)
    sheets_due: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.out = Path(self.out)
        self.state = Path(self.state)
        (self.state / "feedback").mkdir(parents=True, exist_ok=True)

    # --- the student's pages ----------------------------------------------------------

    def feedback_copy(self, key: str) -> Path:
        return self.state / "feedback" / f"{key}.html"

    def hand_out(self, job, text: str) -> None:
        """``text`` (an HTML page) as ``job``'s feedback: in the exchange, where ``nbgrader
        fetch_feedback`` finds it, and in the service's folder."""
        files.write_atomic(self.feedback_copy(job.key), text)
        if self.place is None or job.kind != "exchange":
            return
        secret = exchange.read_small(job.folder / exchange.SECRET_FILE)
        if not secret:
            raise RecordFailed("the submission has no submission_secret.txt any more")
        notebook_id = Path(job.notebook).stem if job.notebook else self.assignment
        exchange.publish(self.place, secret, notebook_id, text)

    def interim(self, job, title: str, lines: list) -> None:
        """A page saying what happens to ``job`` next (deferred, retried): replaced by the
        feedback once it is graded."""
        try:
            self.hand_out(job, page(title, lines))
        except Exception:  # noqa: BLE001 - the student still gets the feedback later
            log.exception("cannot hand out the interim page of %s", escape.terminal(job.student))

    # --- recording a grade --------------------------------------------------------------

    def of_record(self, job, result: dict, queue) -> bool:
        """Whether ``job`` becomes the student's submission of record."""
        current = queue.counted(job.student, job.assignment)
        if current is None or current["key"] == job.key:
            return True
        if self.counts == "best":
            return (result.get("score") or 0) >= (current["score"] or 0)
        try:
            mine = adjust.parse_when(job.submitted_at or "", naive_is_utc=True)
            theirs = adjust.parse_when(current["submitted_at"] or "", naive_is_utc=True)
        except adjust.AdjustError:
            return True
        return mine >= theirs

    def record(self, job, outcome, queue) -> tuple:
        """Record ``outcome`` (``grade.Result``) of ``job``: the student's page first (what
        they wait for), then the course's records. Returns ``(result dict, counted)``.
        Raises :class:`RecordFailed` (or any error) for a grader-side failure."""
        with self.lock:
            safe = escape.safe_student_id(job.student)
            counted = self.of_record(job, outcome.to_dict(), queue)
            mine = {**outcome.to_dict(), "student_id": safe, "submitted_as": job.student,
                    **batch.fingerprint(Submission(safe, job.notebook_path if job.notebook else None,
                                                   "", job.student), self.seed, self.limits),
                    "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            settings = adjust.Settings.load(self.out)
            overrides, _ = adjust.read_overrides(self.out)
            final = adjust.final_grade(mine, overrides, settings)
            text = feedback.feedback_text(mine, final, settings.feedback)
            if not counted:
                text = ("**A later submission of yours counts** (or a better one, if your course "
                        "keeps the best): this is the feedback of the one you submitted at "
                        f"{escape.markdown(job.submitted_at or '?')}.\n\n" + text)
            self.hand_out(job, self._html(job, mine, text))
            if not counted:
                return mine, counted
            result = mine
            if job.kind == "exchange" and nbgrader_id(job.student):
                # the course's copy (same bytes, same timestamp) is what the round names
                result = {**mine, "submitted_from": str(self._to_course(job, outcome))}
            self._to_round(result)
            return result, counted

    def _html(self, job, result: dict, markdown_text: str) -> str:
        """The page ``nbgrader_feedback.write_nbgrader_feedback`` makes of ``markdown_text``."""
        staging = self.state / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        written = nbgrader_feedback.write_nbgrader_feedback(staging, {**result, "submitted_from": None},
                                                 markdown_text)
        if written is None:
            raise RecordFailed("the feedback page could not be written")
        text = written.read_text(encoding="utf-8")
        shutil.rmtree(staging, ignore_errors=True)
        return text

    def _to_course(self, job, outcome) -> Path:
        """Copy the submission into ``submitted/`` and run nbgrader's pipeline for it."""
        app = self.app_for(job.student)
        target = Path(app.coursedir.format_path(app.coursedir.submitted_directory, job.student,
                                                self.assignment))
        if target.resolve() != job.folder.resolve():
            _copy_submission(job.folder, target)
        if job.notebook and outcome.status != "ungradable":
            try:
                notebook = grade.read_notebook(target / job.notebook)
                sandboxed.remember(notebook, self.seed, self.limits, outcome)
            except grade.Ungradable:
                pass  # nbgrader's pipeline reports it
        try:
            app.start()
            status = 0
        except SystemExit as exc:
            status = int(exc.code or 0)
        if status:
            raise RecordFailed(f"nbgrader's autograde of {job.student!r} exited {status}")
        return target

    def _to_round(self, result: dict) -> None:
        """The round's result.json and views of this student, and nbgrader's feedback
        folder; grades.csv and report.html are rewritten soon (:meth:`write_sheets`)."""
        views.write_result(self.out, result)
        settings = adjust.Settings.load(self.out)
        if settings.nbgrader_feedback:
            overrides, _ = adjust.read_overrides(self.out)
            final = adjust.final_grade(result, overrides, settings)
            nbgrader_feedback.write_nbgrader_feedback(Path(settings.nbgrader_feedback), result,
                                           feedback.feedback_text(result, final, settings.feedback))
        self.sheets_due.set()

    def write_sheets(self) -> None:
        """grades.csv and report.html of the round, from every result in it."""
        self.sheets_due.clear()
        with self.lock:
            try:
                grades_csv.write_grades(self.out)
                class_report.write_class_report(self.out)
            except Exception:  # noqa: BLE001 - written again with the next grade
                log.exception("cannot write the round's grades.csv or report.html")
