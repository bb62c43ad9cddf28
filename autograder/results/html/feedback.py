"""feedback.html: the student's feedback as one page that opens anywhere, offline.

The page shows what feedback.md shows (the grade step by step, the score table, each
mistake explained once with its hint, advice), prepared by the same
``feedback.feedback_context``, plus the cases folded under each mistake (``folding``) and
pictures drawn from numbers the grader already has (``plots``):

- for every graded student, a bar per exercise with the share of its points;
- for a training exercise that lost points and whose result carries them, the
  student's recorded losses against the reference's on the same inputs
  (``"curves"``), and the boundary of the student's trained model against the
  reference's on the same data (``"boundary"``). With ``--feedback brief`` only the
  student's own curve and boundary are drawn: the reference's are expected values.

Nothing in the page is loaded from elsewhere: the stylesheet is inline, images are
``data:`` URIs, and a Content-Security-Policy forbids any other source and any
script. The template is autoescaped, so student text stays text.

A page carries a digest of everything it was made from (the result, the final grade,
the mode, this code). Rewriting every page on every run would redraw every figure,
so :func:`is_current` lets the writer skip a page whose digest has not changed.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
from pathlib import Path

from autograder.exercises import EXERCISES
from autograder.results import adjust, folding, templating
from autograder.results.feedback import feedback_context
from autograder.results.files import write_atomic
from autograder.results.html import plots

FEEDBACK_HTML = "feedback.html"
_DIGEST = re.compile(rb'<meta name="tfkit-digest" content="([0-9a-f]{64})">')
# What the page is made from: the results package (its modules decide what the page says)
# and the page's templates, relative to the autograder package.
_SOURCES = ("templates/feedback.html.j2", "templates/style.css.j2")
_PACKAGE = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _code_digest() -> str:
    digest = hashlib.sha256()
    results = sorted(p.relative_to(_PACKAGE).as_posix() for p in (_PACKAGE / "results").rglob("*.py"))
    for name in (*results, *_SOURCES):
        try:
            digest.update((_PACKAGE / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


def digest(result: dict, final, mode: str) -> str:
    """What a page is made from, in 64 hex digits: the same inputs give the same page."""
    data = {"result": result, "final": dataclasses.asdict(final), "mode": mode, "code": _code_digest()}
    # not sort_keys: a result's key order is its file's, and sorting costs a third of the time
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()


def is_current(path: Path, wanted: str) -> bool:
    """Whether the page at ``path`` was made from exactly the inputs of ``wanted``."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(600)
    except OSError:
        return False
    found = _DIGEST.search(head)
    return bool(found) and found.group(1).decode() == wanted


# --- what the page shows ----------------------------------------------------------------

def _score(value) -> float:
    value = plots.number(value)
    return value if math.isfinite(value) else 0.0


def _table(context: dict, anchored: set) -> list:
    rows = []
    for name, (signature, score, top, full) in zip(context["names"], context["rows"]):
        score, top = _score(score), _score(top)
        rows.append({"name": name, "signature": signature, "score": score, "top": top,
                     "mark": "ok" if full else ("bad" if score <= 0 else "part"),
                     "anchor": name in anchored})
    return rows


def summary_figure(table: list) -> dict | None:
    """The score bars every graded student gets, with a text alternative."""
    if not table:
        return None
    bars = tuple((row["name"], row["score"], row["top"]) for row in table)
    alt = "Share of the points earned per exercise: " + "; ".join(
        f"{name} {score:g} of {top:g}" for name, score, top in bars)
    return {"uri": plots.data_uri(plots.score_bars_png(bars)), "alt": alt}


def exercise_figure(name: str, exercise: dict, mode: str) -> dict | None:
    """The loss curves and decision boundary of a training exercise that lost points,
    when its result carries them; None otherwise."""
    curves, boundary = exercise.get("curves"), exercise.get("boundary")
    if not curves and not boundary:
        return None
    if _score(exercise.get("score")) >= _score(exercise.get("max_score", EXERCISES[name].points)):
        return None
    reference = mode != "brief"
    try:
        png = plots.exercise_png(curves if isinstance(curves, list) else [], boundary, reference)
    except Exception:  # noqa: BLE001 - a figure that cannot be drawn must not cost the page
        return None
    if png is None:
        return None
    parts = []
    if isinstance(curves, list) and any(isinstance(c, dict) for c in curves):
        parts.append("your losses (dashed)" + (" and the reference's (solid), step by step on the "
                                                "same inputs" if reference else ", step by step"))
    if isinstance(boundary, dict):
        parts.append("where your trained model separates the two classes (dashed)"
                     + (" and where the reference's does (solid)" if reference else ""))
    caption = "Left to right: " + "; ".join(parts) + "." if len(parts) > 1 else parts[0] + "."
    return {"uri": plots.data_uri(png), "alt": caption[0].upper() + caption[1:],
            "caption": caption[0].upper() + caption[1:]}


def page(context: dict, mode: str, page_digest: str) -> str:
    """The whole feedback.html for ``context`` (``feedback.feedback_context`` with
    ``width=None``): each exercise's failures folded (``folding``), the cases that
    fail the same way as the first listed in a ``<details>`` element."""
    result = context["r"]
    exercises = result.get("exercises") if isinstance(result.get("exercises"), dict) else {}
    sections, figures = [], {}
    for name, head, folded, _ in context["sections"]:
        sections.append((name, head.split(": ", 1)[-1], folded))
        exercise = exercises.get(name)
        figure = exercise_figure(name, exercise, mode) if isinstance(exercise, dict) else None
        if figure:
            figures[name] = figure
    table = _table(context, {section[0] for section in context["sections"]})
    summary = summary_figure(table) if context["graded"] else None
    return templating.templates.get_template("feedback.html.j2").render(
        **{**context, "sections": sections}, table=table, figures=figures, summary=summary,
        digest=page_digest, same_way=folding.same_way)


def write_feedback_html(folder: Path, result: dict, final: adjust.Final, mode: str = "full") -> bool:
    """A student's feedback.html, unless the one there was made from the same inputs
    (redrawing its figures for every student on every run would cost seconds per class).
    Returns whether it was written."""
    path = folder / FEEDBACK_HTML
    wanted = digest(result, final, mode)
    if is_current(path, wanted):
        return False
    write_atomic(path, page(feedback_context(result, final, mode, width=None), mode,
                                          wanted))
    return True
