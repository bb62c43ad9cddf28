"""What grading leaves on disk: result.json, feedback, grades.csv, Gradescope output.

Every file is written atomically (a temporary file in the same folder, then a
rename), so an interrupted run, even ``kill -9``, leaves each file either whole or
absent, never half-written. Files get the permissions the umask gives a new file
(``0644`` under the usual ``022``, so teaching assistants in the group can read them),
not ``mkstemp``'s ``0600``. Every file lands in its student's own folder directly
under the output folder, or nowhere. Student text is escaped for each destination
by ``escape``: Markdown in feedback and Gradescope output, formulas in grades.csv,
control characters on the terminal.

result.json is the automatic grade and is written only by grading. grades.csv, each
feedback.md and Gradescope's results.json are views: :func:`rebuild` writes them again
from the result files with the instructor's overrides, roster and late policy
(``adjust``), so an instructor's decision is never lost to a re-run.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import textwrap
from pathlib import Path

import autograder
from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.results import adjust, breakdown, escape, folding, templating
from autograder.results.exports import canvas
from autograder.results.html import class_report, feedback as feedback_html
from autograder.exercises import EXERCISES, TOTAL_POINTS

log = logging.getLogger(__name__)

RESULT_FILE = "result.json"
FEEDBACK_FILE = "feedback.md"
GRADESCOPE_FILE = "results.json"
GRADES_FILE = "grades.csv"
FEEDBACK_WIDTH = 88
FEEDBACK_MODES = ("full", "brief")

# Student text is escaped for its destination: Markdown by filters, HTML by autoescaping
# (see ``templating``).
_templates = templating.templates


class OutsideOutput(ValueError):
    """A path that would leave the output folder (or its student's own folder)."""


def kit_version() -> str:
    """The installed kit's version, as ``tfgrade --version`` prints it."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("tfkit")
    except PackageNotFoundError:
        return "unknown"


# Paths relative to the package: a package of modules, or one module.
GRADING_MODULES = ("exercises", "checking", "boundary/replies.py", "boundary/wire.py",
                   "grading/reference.py", "grading/grade.py", "sandbox/harness.py")


@functools.lru_cache(maxsize=None)
def kit_fingerprint() -> str:
    """The version and a digest of the modules that decide points: a result graded by
    another kit, even an edited checkout of the same version, is not current."""
    digest = hashlib.sha256()
    package = Path(autograder.__file__).parent
    for name in GRADING_MODULES:
        path = package / name
        for module in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(module.read_bytes())
    return f"{kit_version()}+{digest.hexdigest()[:12]}"


def _current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (changing it
    would race with threads creating files); else set and restored once, at import."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_current_umask()


def student_folder(out_dir: Path, student_id: str) -> Path:
    """``out_dir/student_id``, refused unless it is a direct child of ``out_dir`` that is
    not a symbolic link (so no id and no planted link can send a write elsewhere)."""
    out_dir = Path(out_dir)
    folder = out_dir / student_id
    if (not student_id or student_id in (".", "..") or Path(student_id).name != student_id
            or folder.is_symlink() or folder.resolve().parent != out_dir.resolve()):
        raise OutsideOutput(f"refusing to write outside {out_dir}: student id {student_id!r}")
    return folder


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8, or bytes as they are) to ``path`` so that readers only ever
    see the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    binary = isinstance(text, bytes)
    try:
        os.fchmod(fd, FILE_MODE)
        with (os.fdopen(fd, "wb") if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- feedback: what a student reads ------------------------------------------------------

_SKIPPED_CELL = re.compile(r"cell \d+ \((\w+)\) was skipped: ([^;]*)")
_UNGRADABLE_ADVICE = [
    ("no notebook in", f"Submit your notebook, named {ASSIGNMENT}.ipynb, inside the {ASSIGNMENT} "
                       "folder, and submit again."),
    ("several notebooks", f"Submit exactly one notebook, named {ASSIGNMENT}.ipynb."),
    ("symbolic link", "Submit the notebook file itself, not a link to it."),
    ("larger than", "The notebook is too large: clear all outputs (Kernel > Restart & Clear "
                    "Output), save it and submit it again."),
    ("cannot be read", "The file is not a notebook Jupyter can open: open it in Jupyter, save it "
                       "(File > Save) and submit it again."),
    ("could not be run", "Your notebook stopped every time it ran: restart the kernel, run all "
                         "cells, make sure none loops forever or exits Python, and submit again."),
    ("sandbox could not start", "This is a problem on the grader's side, not in your work: your "
                                "instructor has been told."),
    ("grader error", "This is a problem on the grader's side, not in your work: your instructor "
                     "has been told and will grade it again."),
]
MISSING_REASON = "no submission found"


def advice(reason: str) -> str:
    """What a student whose notebook could not be graded should do."""
    for marker, text in _UNGRADABLE_ADVICE:
        if marker in reason:
            return text
    return "Ask your instructor what to resubmit."


def student_text(text: str, mode: str = "full", width: int | None = FEEDBACK_WIDTH) -> str:
    """Grader text made fit for a student: no server paths, no library boilerplate, no
    expected values in ``brief`` mode, lines wrapped to ``width`` (continuation lines
    indented under their first line; ``None``: not wrapped, for HTML)."""
    text = escape.no_library_noise(escape.no_server_paths(text))
    if mode == "brief":
        text = escape.no_expected_values(text)
    if width is None:
        return text
    lines = []
    for line in text.splitlines() or [""]:
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(textwrap.fill(line.strip(), width, initial_indent=indent,
                                   subsequent_indent=indent + "    ", break_long_words=False,
                                   break_on_hyphens=False) if line.strip() else "")
    return "\n".join(lines)


def _cell_problem(name: str, why: str) -> str:
    timed_out = re.match(r"no answer within (\S+) s", why)
    if timed_out:
        return (f"the cell defining `{name}` did not finish in {timed_out.group(1)} s, so `{name}` "
                "was never defined: find what keeps it running (an endless loop?) and run it again")
    return (f"the cell defining `{name}` stopped the notebook ({why.strip()}), so `{name}` was "
            "never defined")


def _one_line(name: str, ex: dict, skipped: dict) -> str:
    """The single line for an exercise that was not attempted or never defined, or ''."""
    if name in skipped and ex.get("status") == "missing":
        return _cell_problem(name, skipped[name])
    checks = [c for c in ex.get("checks") or [] if isinstance(c, dict)]
    if ex.get("status") == "missing":
        return (f"`{name}` is not defined: run the cell that defines it, and keep the name and "
                f"signature `{EXERCISES[name].signature}`")
    if ex.get("status") == "error" and checks and all(
            "raised NotImplementedError" in str(c.get("detail", "")) for c in checks):
        return "not attempted yet: it still raises NotImplementedError; replace the stub with your code"
    return ""


def _score_line(name: str, ex: dict, final: adjust.Final, top) -> str:
    """An exercise's head line with its final score (and the automatic one, when an
    override changed it)."""
    score = final.exercises.get(name, ex.get("score", 0))
    auto = ex.get("score", 0)
    changed = name in final.comments and isinstance(auto, (int, float)) and auto != score
    return f"{name}: {score:g} / {top:g}" + (f" (automatic score {auto:g})" if changed else "")


def _section(name: str, text: str, head: str, mode: str, width: int | None) -> tuple:
    """``(name, head, items, text)``: one exercise's feedback folded (``folding``), made
    fit for a student, with ``head`` as its head line; ``text`` is the Markdown
    view's body (without the head line), wrapped to ``width``."""
    _, entries = folding.parse(student_text(text, mode, None))
    items = folding.fold(entries)
    body = folding.text(head, items).split("\n", 1)[1:] or [""]
    return name, head, items, student_text(body[0], "full", width) if width else body[0]


def feedback_context(result: dict, final: adjust.Final | None = None, mode: str = "full",
                     width: int | None = FEEDBACK_WIDTH) -> dict:
    """Everything the feedback templates show, prepared (and made fit for a student) here;
    ``width`` wraps the exercises' text (``None`` for HTML, which wraps it itself).
    Scores are final (after the instructor's decisions); ``steps`` says how the final
    total came from the automatic one (``breakdown``)."""
    final = final or adjust.final_grade(result, [], adjust.Settings())
    exercises = result.get("exercises") if isinstance(result.get("exercises"), dict) else {}
    status, reason = result.get("status", ""), str(result.get("reason", ""))
    skipped = dict(_SKIPPED_CELL.findall(reason))
    rows, names, not_attempted, sections = [], [], [], []
    for name, ex in exercises.items():
        if name not in EXERCISES or not isinstance(ex, dict):
            continue
        score = final.exercises.get(name, ex.get("score", 0))
        top = ex.get("max_score", EXERCISES[name].points)
        rows.append((EXERCISES[name].signature, score, top, score >= top))
        names.append(name)
        if score >= top:
            continue
        line = "" if name in final.comments else _one_line(name, ex, skipped)
        head = _score_line(name, ex, final, top)
        if line and name in skipped:
            sections.append(_section(name, f"{head}\n  ✗ {line}", head, mode, width))
        elif line:
            not_attempted.append((name, escape.no_server_paths(line)))
        else:
            sections.append(_section(name, str(ex.get("feedback", "")), head, mode, width))
    return {"r": result, "final": final, "rows": rows, "names": names,
            "not_attempted": not_attempted,
            "sections": sections, "status": status,
            "reason": one_line(reason) if reason else "",
            "advice": advice(reason) if status in ("ungradable", GRADER_ERROR) else "",
            "no_grade": not adjust.is_a_grade(result, final),
            "steps": breakdown.steps(final, result),
            "adjusted": breakdown.adjusted(final),
            "graded": status in ("graded", "incomplete")}


def one_line(text: str) -> str:
    """Grader text made fit for a student on one line: single spaces, never a run of
    them (wrapped lines are not rejoined: the text is never wrapped)."""
    return " ".join(student_text(text, width=None).split())


def feedback_text(result: dict, final: adjust.Final | None = None, mode: str = "full") -> str:
    """The feedback a student reads, in Markdown that CommonMark and Python-Markdown both
    render (a blank line before every table and list)."""
    return _templates.get_template("feedback.md.j2").render(**feedback_context(result, final, mode))


def gradescope(result: dict, final: adjust.Final | None = None, mode: str = "full",
               visibility: str = "visible") -> dict:
    """Gradescope's results.json for one submission. Outputs are Markdown
    (``output_format: md``): each exercise's feedback folded (``folding``) in a fence,
    with its final score; the top-level output gives the reason, then the automatic
    score, each change and the final score on lines of their own (``breakdown``), student
    text escaped, never a run of spaces. ``visibility`` applies to every test and to
    the whole result (Gradescope: ``visible``, ``after_due_date``, ``after_published``
    or ``hidden``); what the grader printed is never shown to students
    (``stdout_visibility: hidden``)."""
    final = final or adjust.final_grade(result, [], adjust.Settings())
    tests = []
    for name, ex in result["exercises"].items():
        if name not in EXERCISES:
            continue
        score = final.exercises.get(name, ex["score"])
        head = _score_line(name, ex, final, ex["max_score"])
        _, _, items, _ = _section(name, str(ex["feedback"]), head, mode, None)
        tests.append({"name": f"{name} ({EXERCISES[name].signature})", "score": score,
                      "max_score": ex["max_score"],
                      "output": escape.fence(student_text(folding.text(head, items), "full")),
                      "output_format": "md", "visibility": visibility,
                      "status": "passed" if score >= ex["max_score"] else "failed"})
    output = (escape.markdown(one_line(result["reason"])) if result["reason"]
              else f"Graded with seed {result['seed']}.")
    if breakdown.adjusted(final):
        lines = [f"Automatic score: {final.auto_total:g}"]
        lines += [escape.markdown(step.text) for step in breakdown.steps(final, result)]
        lines.append(f"Final score: {final.total:g} / {_number(result.get('max_score')) or TOTAL_POINTS:g}")
        output += "\n\n" + "\n".join(f"- {line}" for line in lines)
    if result.get("status") == "ungradable":
        output += f"\n\n**What to do:** {advice(result['reason'])}"  # the kit's own words
    return {"score": final.total, "execution_time": result.get("seconds", 0), "output": output,
            "output_format": "md", "test_output_format": "md",
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


# --- files ---------------------------------------------------------------------------------

def write_feedback_html(folder: Path, result: dict, final: adjust.Final, mode: str = "full") -> bool:
    """A student's feedback.html, unless the one there was made from the same inputs
    (redrawing its figures for every student on every run would cost seconds per class).
    Returns whether it was written."""
    path = folder / feedback_html.FEEDBACK_HTML
    wanted = feedback_html.digest(result, final, mode)
    if feedback_html.is_current(path, wanted):
        return False
    write_atomic(path, feedback_html.page(feedback_context(result, final, mode, width=None), mode,
                                          wanted))
    return True


def write_views(out_dir: Path, result: dict, formats=("tfkit",), final=None, mode: str = "full") -> Path:
    """A student's feedback.md and feedback.html (and Gradescope's results.json) from
    their result."""
    folder = student_folder(out_dir, result["student_id"])
    final = final or adjust.final_grade(result, [], adjust.Settings())
    write_atomic(folder / FEEDBACK_FILE, feedback_text(result, final, mode))
    write_feedback_html(folder, result, final, mode)
    if "gradescope" in formats:
        write_atomic(folder / GRADESCOPE_FILE, json.dumps(gradescope(result, final, mode), indent=2))
    return folder


def write_result(out_dir: Path, result: dict, formats=("tfkit",)) -> Path:
    """Write one student's files; result.json last, since its presence marks the
    student as graded for a re-run."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    folder = write_views(out_dir, result, formats, adjust.final_grade(result, overrides, settings),
                         settings.feedback)
    write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
    return folder


def write_bare_result(out_dir: Path, result: dict) -> Path:
    """Write only result.json (no template, no other format): the fallback when writing
    a student's files failed, so that the student still has a row."""
    folder = student_folder(out_dir, result["student_id"])
    write_atomic(folder / RESULT_FILE, json.dumps(result, indent=2))
    return folder


def read_results(out_dir: Path) -> list:
    """Every result.json under ``out_dir``, sorted by student id (unreadable ones skipped)."""
    results = []
    for path in sorted(Path(out_dir).glob(f"*/{RESULT_FILE}")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(result, dict) and isinstance(result.get("student_id"), str):
            results.append(result)
    return sorted(results, key=lambda r: r["student_id"])


def _number(value):
    """A score as read back from a result file: a plain number, or '' if it is not one."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


GRADE_COLUMNS = ["student_id", *EXERCISES, "auto_total", "late_penalty", "total", "max", "status",
                 "submitted_at", "days_late", "on_roster", "adjustments", "reason"]


def grades_csv(results: list, overrides=(), settings: adjust.Settings | None = None) -> str:
    """grades.csv: a row per student with each exercise's final score, the automatic total,
    the late penalty, the final total, max, status, lateness, roster and the reason.
    ``total`` is the grade to export; ``auto_total`` is what the grader alone gave."""
    settings = settings or adjust.Settings()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADE_COLUMNS)
    for r in results:
        final = adjust.final_grade(r, list(overrides), settings)
        roster = "" if final.on_roster is None else ("yes" if final.on_roster else "no")
        grade = _grade_row(r, final)
        row = [r["student_id"], *(grade[n] for n in EXERCISES), grade["auto_total"],
               grade["late_penalty"], grade["total"], _number(r.get("max_score")),
               r.get("status", ""), final.submitted_at or "", adjust.late_days(final), roster,
               " | ".join(final.notes), r.get("reason", "")]
        writer.writerow([escape.csv_cell(cell) for cell in row])
    return buffer.getvalue()


def _grade_row(result: dict, final: adjust.Final) -> dict:
    """One student's numbers as every view shows them: each exercise's final points,
    ``auto_total``, ``late_penalty`` and ``total``; all '' for a grader error, which is
    not a grade (``autograder.GRADER_ERROR``) unless an instructor gave one."""
    if not adjust.is_a_grade(result, final):
        return {**{n: "" for n in EXERCISES}, "auto_total": "", "late_penalty": "", "total": ""}
    return {**{n: _number(final.exercises.get(n, "")) for n in EXERCISES},
            "auto_total": _number(result.get("score")), "late_penalty": final.penalty,
            "total": final.total}


def write_grades(out_dir: Path) -> Path:
    """Rebuild grades.csv from the result files in ``out_dir`` with its overrides and
    settings."""
    out_dir = Path(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    path = out_dir / GRADES_FILE
    write_atomic(path, grades_csv(read_results(out_dir), overrides, adjust.Settings.load(out_dir)))
    return path


def write_class_report(out_dir: Path, results: list | None = None) -> Path:
    """Rebuild report.html, the class report, from the result files in ``out_dir``."""
    out_dir = Path(out_dir)
    overrides, _ = adjust.read_overrides(out_dir)
    results = read_results(out_dir) if results is None else results
    path = out_dir / class_report.REPORT_FILE
    write_atomic(path, class_report.page(results, overrides, adjust.Settings.load(out_dir)))
    return path


def write_canvas(out_dir: Path) -> list:
    """Rebuild canvas.csv (and canvas_unmatched.csv) from the result files and the
    round's roster. Returns lines for the instructor: who could not be matched, or why
    nothing was written."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    if not settings.roster_file:
        return [f"{canvas.CANVAS_FILE} not written: Canvas needs a roster (--roster ROSTER.csv)"]
    overrides, _ = adjust.read_overrides(out_dir)
    results = read_results(out_dir)
    try:
        sheet, rest, unmatched = canvas.sheets(results, settings.roster_file, overrides, settings)
    except canvas.CanvasError as exc:
        return [f"{canvas.CANVAS_FILE} not written: {exc}"]
    write_atomic(out_dir / canvas.CANVAS_FILE, sheet)
    lines = _canvas_blanks(results, overrides, settings)
    if not unmatched:
        (out_dir / canvas.UNMATCHED_FILE).unlink(missing_ok=True)
        return lines
    write_atomic(out_dir / canvas.UNMATCHED_FILE, rest)
    return [*lines, f"not in the Canvas roster, so not in {canvas.CANVAS_FILE} (listed in "
            f"{canvas.UNMATCHED_FILE}): {_names(unmatched)}"]


def _names(ids: list, most: int = 20) -> str:
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _canvas_blanks(results: list, overrides, settings: adjust.Settings) -> list:
    """A line naming the students canvas.csv gives no score, by status, or none."""
    blank = {}
    for r in results:
        final = adjust.final_grade(r, list(overrides), settings)
        if canvas.score_cell(r, final, settings.missing_as_zero) == "":
            blank.setdefault(r.get("status", ""), []).append(r["student_id"])
    if not blank:
        return []
    parts = "; ".join(f"{status}: {_names(ids)}" for status, ids in sorted(blank.items()))
    zeros = "" if settings.missing_as_zero else " (--missing-as-zero gives missing and ungradable 0)"
    return [f"{canvas.CANVAS_FILE}: no score, so Canvas leaves them ungraded, for {parts}{zeros}"]


def rebuild(out_dir: Path, formats=("tfkit",), nbgrader_feedback: Path | None = None) -> list:
    """Rewrite every student's feedback (and Gradescope file, with ``gradescope`` in
    ``formats`` or when one exists), grades.csv, report.html (and canvas.csv, with
    ``canvas`` in ``formats`` or when one exists), applying overrides and settings.
    A student whose views cannot be written is logged and skipped; grades.csv is
    always written. Returns what the instructor must hear: the problems found in
    overrides.csv and extensions.csv, and students Canvas cannot be given."""
    out_dir = Path(out_dir)
    settings = adjust.Settings.load(out_dir)
    overrides, problems = adjust.read_overrides(out_dir)
    problems = [*problems, *settings.extension_problems]
    results = read_results(out_dir)
    for result in results:
        try:
            folder = student_folder(out_dir, result["student_id"])
            wanted = tuple(formats) + (("gradescope",) if (folder / GRADESCOPE_FILE).is_file() else ())
            final = adjust.final_grade(result, overrides, settings)
            write_views(out_dir, result, wanted, final, settings.feedback)
            if nbgrader_feedback is not None and result.get("status") != "missing":
                write_nbgrader_feedback(nbgrader_feedback, result,
                                        feedback_text(result, final, settings.feedback))
        except Exception:  # noqa: BLE001 - one student's feedback must not cost the sheet
            log.exception("cannot rebuild the feedback of %s", escape.terminal(result["student_id"]))
    write_grades(out_dir)
    if "canvas" in formats or (out_dir / canvas.CANVAS_FILE).is_file():
        problems = [*problems, *write_canvas(out_dir)]
    try:
        write_class_report(out_dir, results)
    except Exception:  # noqa: BLE001 - the class report must not cost grades.csv or the exit code
        log.exception("cannot rebuild %s", class_report.REPORT_FILE)
    return problems


NBGRADER_MARK = "<!-- written by tfgrade -->"


def _literal_html():
    """mistune's HTML renderer with raw HTML escaped (``escape=True``), where an
    entity in the text (``escape.markdown`` writes ``&lt;``) still shows its character."""
    import html

    import mistune

    class Literal(mistune.HTMLRenderer):
        def text(self, text: str) -> str:
            return super().text(html.unescape(text))
    return Literal(escape=True)


def write_nbgrader_feedback(feedback_dir: Path, result: dict, markdown_text: str) -> Path | None:
    """``feedback_dir/<student>/<assignment>/<assignment>.html``, the layout
    ``nbgrader release_feedback`` hands out, with the submission's ``timestamp.txt`` and
    ``submission_secret.txt`` beside it when the submission had them. An HTML file
    that tfgrade did not write (nbgrader's own feedback) is left alone."""
    import mistune
    folder = student_folder(Path(feedback_dir), result["student_id"]) / ASSIGNMENT
    target = folder / f"{ASSIGNMENT}.html"
    if target.is_symlink() or (target.is_file() and NBGRADER_MARK not in
                               target.read_text(encoding="utf-8", errors="replace")[:200]):
        log.warning("not replacing %s: tfgrade did not write it", escape.terminal(str(target)))
        return None
    body = mistune.create_markdown(renderer=_literal_html(), plugins=["table"])(markdown_text)
    write_atomic(target, f"{NBGRADER_MARK}\n<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                 f"<title>Feedback: {ASSIGNMENT}</title></head>\n<body>\n{body}</body></html>\n")
    source = result.get("submitted_from")
    for name in (adjust.TIMESTAMP_FILE, "submission_secret.txt"):
        origin = Path(source) / name if source else None
        if origin is not None and origin.is_file() and not origin.is_symlink():
            write_atomic(folder / name, origin.read_text(encoding="utf-8", errors="replace")[:1000])
    return target


# --- the terminal ----------------------------------------------------------------------------

def _shorten(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` characters, cut between words."""
    return textwrap.shorten(text, width, placeholder=" …", break_long_words=False) or text[:width]


def _cell(value, width: int) -> str:
    return f"{value:>{width}g}" if _number(value) != "" else f"{'-':>{width}}"


def table(results: list, overrides=(), settings: adjust.Settings | None = None,
          reason_width: int = 70) -> str:
    """A plain-text grade table for the terminal (student text escaped: one line per
    student, nothing that moves the cursor or recolours), with the same final grades
    as grades.csv: each exercise's final points, then the automatic total, the late
    penalty and the final total (``-`` where there is no grade). The header gives each
    exercise's number and maximum; reasons are cut between words."""
    settings = settings or adjust.Settings()
    names = list(EXERCISES)
    width = max([10] + [len(escape.terminal(r["student_id"])) for r in results])
    legend = ", ".join(f"{i} {name}" for i, name in enumerate(names, start=1))
    lines = [f"exercises (number/points): {legend}; auto: the grader's total, late: points "
             f"taken for lateness, total: the final grade (with overrides)",
             f"{'student':<{width}} " + " ".join(f"{f'{i}/{EXERCISES[n].points:g}':>6}"
                                                  for i, n in enumerate(names, start=1))
             + f"  {'auto':>6} {'late':>5} {f'/{TOTAL_POINTS:g}':>6}  status"]
    finals = [adjust.final_grade(r, list(overrides), settings) for r in results]
    for r, final in zip(results, finals):
        row = _grade_row(r, final)
        cells = " ".join(_cell(row[n], 6) for n in names)
        status, reason = escape.terminal(r.get("status", "")), escape.terminal(r.get("reason", ""))
        changed = " *" if final.comments else ""
        lines.append(f"{escape.terminal(r['student_id']):<{width}} {cells}  "
                     f"{_cell(row['auto_total'], 6)} {_cell(row['late_penalty'], 5)} "
                     f"{_cell(row['total'], 6)}  {status}{changed}"
                     + (f" ({_shorten(reason, reason_width)})" if reason else ""))
    if any(final.comments for final in finals):
        lines.append("* changed by an instructor's override (see overrides.csv)")
    return "\n".join(lines)
