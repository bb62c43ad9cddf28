"""The feedback a student reads, in Markdown (feedback.md), and what every feedback view shows.

Scores are final, after the instructor's decisions (``adjust``); student text is made fit
for a student (no server paths, no library noise, no expected values in ``brief`` mode) and
escaped for Markdown (``escape``, the templates' filters).
"""
from __future__ import annotations

import re
import textwrap

from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.exercises import EXERCISES
from autograder.results import adjust, breakdown, escape, folding, templating


FEEDBACK_FILE = "feedback.md"
FEEDBACK_WIDTH = 88
FEEDBACK_MODES = ("full", "brief")


# Student text is escaped for its destination: Markdown by filters, HTML by autoescaping
# (see ``templating``).
_templates = templating.templates
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


def score_line(name: str, ex: dict, final: adjust.Final, top) -> str:
    """An exercise's head line with its final score (and the automatic one, when an
    override changed it)."""
    score = final.exercises.get(name, ex.get("score", 0))
    auto = ex.get("score", 0)
    changed = name in final.comments and isinstance(auto, (int, float)) and auto != score
    return f"{name}: {score:g} / {top:g}" + (f" (automatic score {auto:g})" if changed else "")


def section(name: str, text: str, head: str, mode: str, width: int | None) -> tuple:
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
        head = score_line(name, ex, final, top)
        if line and name in skipped:
            sections.append(section(name, f"{head}\n  ✗ {line}", head, mode, width))
        elif line:
            not_attempted.append((name, escape.no_server_paths(line)))
        else:
            sections.append(section(name, str(ex.get("feedback", "")), head, mode, width))
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
