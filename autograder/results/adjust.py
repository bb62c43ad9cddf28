"""What the instructor adds to the automatic grades: overrides, extensions, the roster,
late work.

The automatic result of a student (result.json) is never edited. Everything an
instructor decides lives in the output folder beside it and is applied every time
grades.csv and the feedback are rebuilt:

- ``overrides.csv`` (student_id, exercise or ``total``, points, comment, when): written
  by the instructor or appended to by ``tfgrade override``; the kit creates it once,
  with its header, and never rewrites it. For one student and exercise the last line
  wins, so the file is also the history of every change.
- ``extensions.csv`` (student_id, due, reason, when): a student's own due date, written
  by the instructor or appended to by ``tfgrade extend``, kept the same way (created
  once, never rewritten, the last line per student wins; ``none`` as the due date
  withdraws an extension).
- ``round.json``: the kit's record of the round's settings (roster, due date, late
  policy), so that a rebuild without those options gives the same grades.

The final score of an exercise is its override or its automatic score; the final
total is the total override, or the sum of the exercises less the late penalty,
counted from the student's extension when they have one, else from the round's due
date (a total override is the instructor's last word: no penalty is taken from it).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder import GRADER_ERROR
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.results import escape

OVERRIDES_FILE = "overrides.csv"
EXTENSIONS_FILE = "extensions.csv"
SETTINGS_FILE = "round.json"
OVERRIDE_COLUMNS = ["student_id", "exercise", "points", "comment", "when"]
EXTENSION_COLUMNS = ["student_id", "due", "reason", "when"]
NO_EXTENSION = "none"  # as the due date of an extension line: withdraws the extension
TIMESTAMP_FILE = "timestamp.txt"  # what nbgrader's collect leaves beside a submission
DAY = 86400.0


class AdjustError(ValueError):
    """An override, roster, due date or policy the kit cannot use (the message says why)."""


# --- overrides -----------------------------------------------------------------------

@dataclass(frozen=True)
class Override:
    student_id: str
    exercise: str  # an exercise name, or "total"
    points: float
    comment: str = ""
    when: str = ""
    line: int = 0


def _points(text, exercise: str) -> float:
    try:
        points = float(str(text).strip())
    except ValueError:
        raise AdjustError(f"points must be a number, not {str(text)[:40]!r}") from None
    top = TOTAL_POINTS if exercise == "total" else EXERCISES[exercise].points
    if not math.isfinite(points) or not 0 <= points <= top:
        raise AdjustError(f"points for {exercise} must be between 0 and {top:g}, not {points:g}")
    return points


def _exercise(text) -> str:
    name = str(text).strip()
    if name != "total" and name not in EXERCISES:
        raise AdjustError(f"unknown exercise {name[:40]!r} (one of: {', '.join(EXERCISES)}, total)")
    return name


def read_overrides(out_dir) -> tuple:
    """``(overrides, problems)``: every usable line of overrides.csv, in file order, and a
    one-line description of each line that was not used (never silently dropped)."""
    path = Path(out_dir) / OVERRIDES_FILE
    if not path.is_file():
        return [], []
    overrides, problems = [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"student_id", "exercise", "points"} - set(reader.fieldnames or [])
        if missing:
            return [], [f"{OVERRIDES_FILE}: no column {', '.join(sorted(missing))}; nothing applied"]
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            try:
                exercise = _exercise(row.get("exercise") or "")
                overrides.append(Override((row.get("student_id") or "").strip(), exercise,
                                          _points(row.get("points"), exercise),
                                          (row.get("comment") or "").strip(),
                                          (row.get("when") or "").strip(), line))
            except AdjustError as exc:
                problems.append(f"{OVERRIDES_FILE} line {line}: {exc}; not applied")
    return overrides, problems


def _ensure_file(path: Path, columns: list) -> Path:
    """Create the CSV ``path`` with its header if there is none; never touch an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(columns)
    return path


def _append_line(path: Path, columns: list, cells: list) -> None:
    """Append one CSV line to ``path`` (created with ``columns`` if absent). Appending
    never rewrites an earlier line; a file not ending in a newline gets one first."""
    _ensure_file(path, columns)
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        needs_newline = size > 0 and handle.seek(size - 1) >= 0 and handle.read(1) != b"\n"
    with open(path, "a", encoding="utf-8", newline="") as handle:
        if needs_newline:
            handle.write("\n")
        csv.writer(handle, lineterminator="\n").writerow(cells)
        handle.flush()
        os.fsync(handle.fileno())


def ensure_overrides_file(out_dir) -> Path:
    """Create overrides.csv with its header if there is none; never touch an existing one."""
    return _ensure_file(Path(out_dir) / OVERRIDES_FILE, OVERRIDE_COLUMNS)


def append_override(out_dir, student_id: str, exercise: str, points, comment: str = "",
                    now: datetime | None = None) -> Override:
    """Validate and append one line to overrides.csv (created if absent)."""
    exercise = _exercise(exercise)
    override = Override(student_id, exercise, _points(points, exercise), comment.strip(),
                        (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"))
    _append_line(Path(out_dir) / OVERRIDES_FILE, OVERRIDE_COLUMNS,
                 [override.student_id, exercise, f"{override.points:g}", override.comment,
                  override.when])
    return override


# --- dates and late work ---------------------------------------------------------------

def parse_when(text: str, naive_is_utc: bool = False) -> datetime:
    """A date and time as nbgrader writes it ("2026-12-01 23:59:00.123456 UTC") or as an
    instructor types it ("2026-12-01 23:59", "2026-12-01T23:59+01:00", "2026-12-01").
    Without a zone it is local time, or UTC with ``naive_is_utc`` (nbgrader's rule)."""
    raw = str(text).strip()
    cleaned = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", raw)
    try:
        when = datetime.fromisoformat(cleaned)
    except ValueError:
        raise AdjustError(f"not a date and time: {raw[:60]!r} (use e.g. 2026-12-01 23:59 or "
                          "2026-12-01T23:59+01:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc) if naive_is_utc else when.astimezone()
    return when


def read_timestamp(folder) -> tuple:
    """``(iso time or None, problem or "")`` from nbgrader's timestamp.txt in ``folder``."""
    path = Path(folder) / TIMESTAMP_FILE
    if path.is_symlink() or not path.is_file():
        return None, ""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:200]
        return parse_when(text, naive_is_utc=True).isoformat(), ""
    except (OSError, AdjustError) as exc:
        return None, f"{TIMESTAMP_FILE} unreadable ({exc})"


# --- extensions ------------------------------------------------------------------------

@dataclass(frozen=True)
class Extension:
    """A student's own due date (``due``: ISO with its zone, or None: withdrawn)."""

    student_id: str
    due: str | None
    reason: str = ""
    when: str = ""
    line: int = 0

    def describe(self) -> str:
        """The line the student and grades.csv read, e.g. "extension to 2026-12-05 23:59
        UTC (illness)"."""
        due = datetime.fromisoformat(self.due)
        zone = due.tzname() or ""
        shown = due.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")
        return f"extension to {shown}" + (f" ({self.reason})" if self.reason else "")


def _extension_due(text) -> str | None:
    text = str(text or "").strip()
    if not text:
        raise AdjustError(f"no due date (a date and time, or {NO_EXTENSION!r} to withdraw)")
    return None if text.lower() == NO_EXTENSION else parse_when(text).isoformat()


def read_extensions(out_dir) -> tuple:
    """``({student: Extension}, problems)``: the last usable line of extensions.csv per
    student, and a one-line description of each line that was not used. A date without
    a zone is local time, as for ``--due``."""
    path = Path(out_dir) / EXTENSIONS_FILE
    if not path.is_file():
        return {}, []
    extensions, problems = {}, []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"student_id", "due"} - set(reader.fieldnames or [])
        if missing:
            return {}, [f"{EXTENSIONS_FILE}: no column {', '.join(sorted(missing))}; nothing applied"]
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            student = (row.get("student_id") or "").strip()
            try:
                if not student:
                    raise AdjustError("no student_id")
                extensions[student] = Extension(student, _extension_due(row.get("due")),
                                                (row.get("reason") or "").strip(),
                                                (row.get("when") or "").strip(), line)
            except AdjustError as exc:
                problems.append(f"{EXTENSIONS_FILE} line {line}: {exc}; not applied")
    return extensions, problems


def append_extension(out_dir, student_id: str, due: str, reason: str = "",
                     now: datetime | None = None, not_before: str | None = None) -> Extension:
    """Validate and append one line to extensions.csv (created if absent); ``due`` is a
    date and time (stored with its zone) or ``none``. A due date before ``not_before``
    (the round's) is refused: an extension gives more time, never less."""
    extension = Extension(student_id, _extension_due(due), reason.strip(),
                          (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"))
    if extension.due and not_before and parse_when(extension.due) < parse_when(not_before):
        raise AdjustError(f"{extension.describe()} is before the round's due date "
                          f"({not_before}): an extension gives more time")
    _append_line(Path(out_dir) / EXTENSIONS_FILE, EXTENSION_COLUMNS,
                 [student_id, extension.due or NO_EXTENSION, extension.reason, extension.when])
    return extension


@dataclass(frozen=True)
class LatePolicy:
    """How late work loses points: ``per_day`` percent of the score per started day late,
    never below ``floor`` percent of it; zero when more than ``zero_after`` days late."""

    per_day: float = 0.0
    floor: float = 0.0
    zero_after: float | None = None

    @classmethod
    def parse(cls, text: str) -> "LatePolicy":
        """``none``, or comma-separated ``per-day=P``, ``floor=F``, ``zero-after=N``."""
        text = (text or "none").strip()
        if text == "none":
            return cls()
        values = {}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in ("per-day", "floor", "zero-after") or not value.strip():
                raise AdjustError(f"late policy {text!r}: use none, or per-day=P,floor=F,"
                                  "zero-after=N (any of the three)")
            try:
                values[key] = float(value.strip().rstrip("%"))
            except ValueError:
                raise AdjustError(f"late policy {text!r}: {value.strip()!r} is not a number") from None
            if not math.isfinite(values[key]) or values[key] < 0 or (key != "zero-after"
                                                                     and values[key] > 100):
                raise AdjustError(f"late policy {text!r}: {key} out of range")
        return cls(values.get("per-day", 0.0), values.get("floor", 0.0), values.get("zero-after"))

    def __str__(self) -> str:
        parts = []
        if self.per_day:
            parts.append(f"per-day={self.per_day:g}" + (f",floor={self.floor:g}" if self.floor else ""))
        if self.zero_after is not None:
            parts.append(f"zero-after={self.zero_after:g}")
        return ",".join(parts) or "none"

    def describe(self) -> str:
        parts = []
        if self.per_day:
            parts.append(f"{self.per_day:g}% off per started day late"
                         + (f", never below {self.floor:g}% of the score" if self.floor else ""))
        if self.zero_after is not None:
            parts.append(f"0 points when more than {self.zero_after:g} days late")
        return "; ".join(parts) or "late work is flagged, not penalised"

    def penalty(self, score: float, late_seconds: float) -> float:
        """Points taken from ``score`` for work ``late_seconds`` late."""
        if late_seconds <= 0:
            return 0.0
        if self.zero_after is not None and late_seconds > self.zero_after * DAY:
            return score
        days = math.ceil(late_seconds / DAY)
        kept = max(1 - self.per_day * days / 100, self.floor / 100 if self.per_day else 1.0)
        return round(score * (1 - min(kept, 1.0)), 2)


# --- the round's settings --------------------------------------------------------------

@dataclass
class Settings:
    """What the kit remembers about a round (``round.json``, written by the kit only),
    with the students' extensions (read from extensions.csv, never written to
    round.json)."""

    roster: list | None = None  # safe student ids, or None: no roster
    roster_file: str = ""
    due: str | None = None  # ISO date and time with its zone
    late_policy: str = "none"
    feedback: str = "full"  # full | brief
    missing_as_zero: bool = False  # canvas.csv: 0, not an empty cell, for missing/ungradable
    nbgrader_feedback: str | None = None  # absolute path of --nbgrader-feedback's folder
    extensions: dict = field(default_factory=dict)  # student -> Extension
    extension_problems: list = field(default_factory=list)  # extensions.csv lines not used

    STORED = ("roster", "roster_file", "due", "late_policy", "feedback", "nbgrader_feedback",
              "missing_as_zero")

    @classmethod
    def load(cls, out_dir) -> "Settings":
        """round.json's settings and extensions.csv's extensions of ``out_dir``."""
        path = Path(out_dir) / SETTINGS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        known = {k: v for k, v in data.items() if k in cls.STORED} if isinstance(data, dict) else {}
        extensions, problems = read_extensions(out_dir)
        return cls(**known, extensions=extensions, extension_problems=problems)

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k in self.STORED}, indent=2)

    def due_for(self, student_id: str) -> str | None:
        """The due date that counts for ``student_id``: their extension's, else the round's."""
        extension = self.extensions.get(student_id)
        return extension.due if extension is not None and extension.due else self.due

    def policy(self) -> LatePolicy:
        try:
            return LatePolicy.parse(self.late_policy)
        except AdjustError:
            return LatePolicy()


def roster_rows(path, error: type[Exception] = AdjustError) -> list:
    """A roster CSV's rows (a spreadsheet's byte-order mark dropped, blank rows skipped);
    ``error`` names the file when it cannot be read or is empty."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error(f"roster {path}: {exc.strerror or type(exc).__name__}") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise error(f"roster {path}: empty")
    return rows


def read_roster(path) -> list:
    """Student ids from a roster CSV: the column ``student_id`` (or ``id``, ``username``,
    ``login``), else the first column. Blank lines are skipped; duplicates are refused."""
    rows = roster_rows(path)
    header = [c.strip().lower() for c in rows[0]]
    column = next((header.index(n) for n in ("student_id", "id", "username", "login") if n in header),
                  None)
    body = rows[1:] if column is not None else rows
    ids = [escape.safe_student_id(r[column or 0].strip()) for r in body if len(r) > (column or 0)
           and r[column or 0].strip()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise AdjustError(f"roster {path}: listed twice: {', '.join(duplicates[:5])}")
    if not ids:
        raise AdjustError(f"roster {path}: no student ids")
    return ids


# --- the final grade ---------------------------------------------------------------------

CHANGE_KINDS = ("override", "extension", "late penalty", "late")


@dataclass
class Final:
    """One student's grade after the instructor's decisions (nothing here is stored).
    ``notes`` are the lines the student reads; ``changes`` are the same lines as
    ``(kind, text)``, kind one of :data:`CHANGE_KINDS` ("late": late work flagged,
    no points taken)."""

    exercises: dict  # name -> final points ("" when there is no score at all)
    auto_total: float
    total: float
    penalty: float = 0.0
    late_seconds: float | None = None  # None: unknown (no timestamp or no due date)
    submitted_at: str | None = None
    on_roster: bool | None = None
    notes: list = field(default_factory=list)  # for the student, one line each
    comments: dict = field(default_factory=dict)  # exercise or "total" -> comment
    changes: list = field(default_factory=list)  # (kind, text), in the order of notes
    due: str | None = None  # the due date that counted (an extension's or the round's)

    def note(self, kind: str, text: str) -> None:
        """Add one line for the student, of ``kind`` (one of :data:`CHANGE_KINDS`)."""
        self.notes.append(text)
        self.changes.append((kind, text))


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else 0.0


def late_text(seconds: float) -> str:
    days, rest = divmod(int(seconds), int(DAY))
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days} day{'s' * (days != 1)} {hours} h late"
    return f"{hours} h {minutes} min late" if hours else f"{max(minutes, 1)} min late"


def final_grade(result: dict, overrides: list, settings: Settings) -> Final:
    """The final grade of ``result`` with this student's overrides (last line wins per
    exercise) and extension, and the late penalty when a due date (the extension's, else
    the round's) and a submission time are known."""
    exercises = result.get("exercises") if isinstance(result.get("exercises"), dict) else {}
    missing = result.get("status") == "missing"
    scores = {n: ("" if missing else _number((exercises.get(n) or {}).get("score", 0)))
              for n in EXERCISES}
    auto_total = _number(result.get("score"))
    student = result.get("student_id")
    final = Final(dict(scores), auto_total, auto_total, submitted_at=result.get("submitted_at"),
                  due=settings.due_for(student))
    mine = {o.exercise: o for o in overrides if o.student_id == student}
    for name, o in mine.items():
        if name == "total":
            continue
        before = scores[name] if scores[name] != "" else 0
        final.exercises[name] = o.points
        final.comments[name] = o.comment
        final.note("override", f"{name}: changed by your instructor from {before:g} to "
                   f"{o.points:g}" + (f" ({o.comment})" if o.comment else ""))
    if any(n != "total" for n in mine):
        final.total = round(sum(v for v in final.exercises.values() if v != ""), 2)
    if settings.roster is not None:
        final.on_roster = student in settings.roster
    extension = settings.extensions.get(student)
    if extension is not None and extension.due:
        final.note("extension", extension.describe())
    _apply_lateness(final, settings.policy())
    if "total" in mine:
        o = mine["total"]
        final.penalty = 0.0
        final.total = o.points
        final.comments["total"] = o.comment
        final.note("override", f"total set by your instructor to {o.points:g}"
                   + (f" ({o.comment})" if o.comment else ""))
    return final


def _apply_lateness(final: Final, policy: LatePolicy) -> None:
    """Lateness against ``final.due``, and the penalty of ``policy`` for it."""
    if not (final.due and final.submitted_at):
        return
    try:
        late = (parse_when(final.submitted_at, True) - parse_when(final.due)).total_seconds()
    except AdjustError:
        return
    final.late_seconds = late
    if late > 0:
        final.penalty = policy.penalty(final.total, late)
        final.note("late penalty" if final.penalty else "late",
                   f"submitted {late_text(late)}: {policy.describe()}"
                   + (f"; {final.penalty:g} points taken off" if final.penalty else ""))
        final.total = round(final.total - final.penalty, 2)


def is_a_grade(result: dict, final: Final) -> bool:
    """Whether ``final`` is a grade: anything but a grader error (``autograder.GRADER_ERROR``),
    which is the grader's failure, unless an instructor gave points for it anyway."""
    return result.get("status") != GRADER_ERROR or bool(final.comments)


def late_days(final: Final):
    """Days late for grades.csv: 0 when on time, '' when unknown."""
    if final.late_seconds is None:
        return ""
    return round(max(final.late_seconds, 0) / DAY, 2)

