"""How a final grade came about, one line per step, for the student and the class report.

A feedback file shows the automatic score, then every change the instructor's
decisions made to it (an exercise's override, an extension, the late penalty, a total
override), each on its own line, then the final score. A step that a total override
made void is shown as void: after "total set by your instructor to 100", a late
penalty reads "no points taken off", never "20 points taken off".

The kind of each change comes from ``adjust.Final.changes`` when the kit's ``adjust``
records it; otherwise it is read from the line's own wording, which ``adjust`` writes
(``adjust.final_grade``): "<exercise>: changed by your instructor …", "total set by
your instructor …", "extension to …", "submitted <time> late: …".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.exercises import EXERCISES

KINDS = ("override", "extension", "late penalty", "late", "note")
# What the class report calls each kind; a student's line says it in its own words.
TITLES = {"override": "override", "extension": "extension", "late penalty": "late penalty",
          "late": "late submission without penalty", "note": "note"}
_TAKEN_OFF = re.compile(r";\s*[\d.]+ points? taken off$")


@dataclass(frozen=True)
class Step:
    """One change to the automatic grade: its ``kind`` (one of :data:`KINDS`), the line
    the student reads, and the points it added to the total (negative: taken off), or
    None when it added none or did not decide the total (under a total override)."""

    kind: str
    text: str
    points: float | None = None


def kind_of(note: str) -> str:
    """The kind of one of ``adjust``'s lines, from its wording."""
    if re.match(r"(?:\w+: changed by your instructor|total set by your instructor)\b", note):
        return "override"
    if note.startswith("extension to "):
        return "extension"
    if note.startswith("submitted ") and " late" in note:
        return "late penalty" if _TAKEN_OFF.search(note) else "late"
    return "note"


def steps(final, result: dict | None = None) -> list:
    """The changes that made ``final`` (an ``adjust.Final``) from the automatic grade of
    ``result``, in order. Under a total override, a late penalty is shown as not taken,
    and only the total override decides the total."""
    recorded = getattr(final, "changes", None)
    pairs = list(recorded) if recorded else [(kind_of(n), n) for n in final.notes]
    replaced = "total" in final.comments
    out = []
    for kind, text in pairs:
        kind = kind if kind in KINDS else "note"
        if replaced and kind == "late penalty":
            kind, text = "late", _TAKEN_OFF.sub("", text) + "; no points taken off, since your " \
                                                          "instructor set the total"
        out.append(Step(kind, _sentence(str(text)), None if replaced else _points(kind, str(text),
                                                                                   final, result)))
    return out


def _points(kind: str, text: str, final, result: dict | None) -> float | None:
    """What a step added to the total: a late penalty's points, or an exercise override's
    change from the automatic score in ``result``."""
    if kind == "late penalty":
        return -final.penalty if final.penalty else None
    name = text.split(":", 1)[0]
    exercises = (result or {}).get("exercises")
    auto = (exercises.get(name) or {}).get("score") if isinstance(exercises, dict) else None
    after = final.exercises.get(name)
    if kind != "override" or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                      for v in (auto, after)):
        return None
    return round(after - auto, 2) or None


def _sentence(text: str) -> str:
    """``text`` starting with a capital, unless it starts with an exercise's name."""
    return text if text.split(":", 1)[0] in EXERCISES else text[:1].upper() + text[1:]


def adjusted(final) -> bool:
    """Whether anything changed the automatic grade or is worth a line."""
    return final.total != final.auto_total or bool(final.notes)
