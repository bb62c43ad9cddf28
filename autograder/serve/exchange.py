"""nbgrader's exchange, as nbgrader 0.9 lays it out (``nbgrader/exchange/default``).

- ``nbgrader submit`` copies the student's folder to
  ``<root>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/`` and writes
  ``timestamp.txt`` and ``submission_secret.txt`` into it (in that order).
- ``nbgrader fetch_feedback`` looks, for each submission in the student's own cache, for
  ``<root>/<course_id>/feedback/<hash>.html``, where ``hash`` is nbgrader's
  ``notebook_hash(secret=<submission_secret.txt>, notebook_id=<notebook name>)``.

The names are computed with nbgrader's own functions, never re-derived here, and a
feedback page is written as ``release_feedback`` writes one: beside its final name, then
moved into place, so a student never fetches half a page.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.results import files

SECRET_FILE = "submission_secret.txt"
TIMESTAMP_FILE = "timestamp.txt"
MAX_SMALL_FILE = 4096  # timestamp.txt and submission_secret.txt are a line each


@dataclass(frozen=True)
class Place:
    """Where one course's exchange is: ``inbound`` and ``feedback`` folders."""

    root: Path
    course_id: str

    @property
    def course(self) -> Path:
        return self.root / self.course_id

    @property
    def inbound(self) -> Path:
        return self.course / "inbound"

    @property
    def feedback(self) -> Path:
        return self.course / "feedback"


def place_of(app) -> Place:
    """The exchange that nbgrader's ``app`` (loaded from the course's nbgrader_config.py)
    would use: ``Exchange.root`` (nbgrader's default when unset) and
    ``CourseDirectory.course_id``."""
    from nbgrader.exchange.default.exchange import Exchange
    exchange = Exchange(coursedir=app.coursedir, authenticator=None, config=app.config)
    return Place(Path(exchange.root), app.coursedir.course_id)


def parse_name(name: str):
    """``(student, assignment, timestamp)`` of an inbound folder's name, split as
    ``nbgrader collect`` splits it (from the right, so a student id may hold ``+``), or
    None when it is not a submission's name."""
    parts = name.rsplit("+", 3)
    if len(parts) == 4:
        student, assignment, timestamp, _random = parts
    elif len(parts) == 3:
        student, assignment, timestamp = parts
    else:
        return None
    if not student or not assignment or student.startswith("."):
        return None
    return student, assignment, timestamp


def read_small(path: Path) -> str | None:
    """A one-line file of the submission (not followed if a link), or None."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with open(path, "rb") as handle:
            return handle.read(MAX_SMALL_FILE).decode("utf-8", errors="replace")
    except OSError:
        return None


def feedback_name(secret: str, notebook_id: str) -> str:
    """The file name ``nbgrader fetch_feedback`` looks for (nbgrader's own hash)."""
    from nbgrader.utils import notebook_hash
    return f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"


def publish(place: Place, secret: str, notebook_id: str, html: bytes | str) -> Path:
    """Put ``html`` where ``nbgrader fetch_feedback`` finds the feedback of the
    submission whose secret is ``secret``: written beside its name, then renamed into
    place. The feedback folder is created as ``release_feedback`` creates it, 0711:
    students can open a page whose name they know but cannot list the folder; so the
    page is readable by all (0644), since its name is derived from the secret only its
    student holds."""
    folder = place.feedback
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o711)
    target = folder / feedback_name(secret, notebook_id)
    files.write_atomic(target, html, mode=0o644)  # as release_feedback leaves its pages
    return target
