"""Turning observed outcomes into a score and feedback, for one exercise.

Every route ends here: ``tfgrade grade``, ``tfgrade autograde`` and nbgrader's pipeline
(all through the sandbox), and the kit's own tests of trusted code (in process).
Outcomes are validated against the exercise's schema first (``replies``), so checks
only ever see plain values of the expected kind; outcomes that do not fit make the
exercise ``crashed``. A case that raised, timed out or found its name missing scores 0;
a case that ran scores the weighted fraction of its checks; the exercise scores the
mean over cases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from autograder.boundary import replies
from autograder.checking.compare import Check, score
from autograder.exercises import COMMON_ERROR_HINTS, EXERCISES
from autograder.exercises.support.variants import IDEAS, IGNORED

MALFORMED = "the grading process sent a malformed answer"


@dataclass
class ExerciseResult:
    """The grade of one exercise, with every check and the feedback a student reads."""

    name: str
    score: float
    max_score: float
    status: str = "graded"  # graded | missing | error | timeout | crashed
    checks: list = field(default_factory=list)
    feedback: str = ""
    curves: list = field(default_factory=list)  # recorded losses, student's and reference's
    boundary: dict | None = None  # a trained 2-D model's decision boundary, both sides
    seconds: dict | None = None  # where grading it took time: student, reference, grader

    def to_dict(self) -> dict:
        data = {"score": float(self.score), "max_score": float(self.max_score),
                "status": self.status, "feedback": self.feedback,
                "checks": [c.to_dict() for c in self.checks]}
        if self.seconds:
            data["seconds"] = self.seconds
        if self.curves:
            data["curves"] = self.curves
        if self.boundary:
            data["boundary"] = self.boundary
        return data


def hint_for_error(name: str, error: str) -> str:
    """The hint of the first known error pattern that matches an exception's text."""
    for pattern, hint in EXERCISES[name].error_hints + COMMON_ERROR_HINTS:
        if re.search(pattern, error):
            return hint
    return ""


def _case_checks(name: str, case: dict, outcome: dict, expected) -> list:
    exercise = EXERCISES[name]
    if "missing" in outcome:
        return [Check(f"`{outcome['missing']}` is defined", False,
                      f"`{outcome['missing']}` is not defined: run the cell that defines it, and keep "
                      f"the name and signature {exercise.signature}.")]
    if "error" in outcome:
        return [Check(f"{exercise.signature} runs on {case['label']}", False,
                      f"it raised {outcome['error']}", hint_for_error(name, outcome["error"]))]
    want = expected(case)  # a failure of the reference is the grader's, not the student's
    try:
        return exercise.judge(case, outcome["ok"], want)
    except Exception as exc:  # noqa: BLE001 - malformed answers must not crash the grader
        return [Check(f"{exercise.signature} on {case['label']}", False,
                      f"the answer has an unexpected structure ({type(exc).__name__}: {str(exc)[:300]})")]


def _drawings(result: ExerciseResult, cases: list, outcomes: list, expected) -> None:
    """What the feedback can draw (``Exercise.plots``) from the cases that ran."""
    plots = EXERCISES[result.name].plots
    for case, outcome in zip(cases, outcomes):
        if plots is None or "ok" not in outcome:
            continue
        try:
            drawn = plots(case, outcome["ok"], expected(case))
        except Exception:  # noqa: BLE001 - a picture is never worth a failed grading
            continue
        result.curves += drawn.get("curves", [])
        result.boundary = result.boundary or drawn.get("boundary")


def judge(name: str, cases: list, outcomes: list, status: str = "graded", reason: str = "", *,
          expected=None) -> ExerciseResult:
    """Score one exercise from its cases and the outcome of each (see ``harness``);
    ``expected(case)`` gives what a case's answer is compared with (the reference's,
    asked only for cases that ran). Outcomes that do not fit the exercise's schema
    score 0 as ``crashed``, with why."""
    exercise = EXERCISES[name]
    if status == "timeout":
        return _timed_out(exercise, cases, reason)
    try:
        outcomes = replies.outcomes(exercise, cases, outcomes)
    except replies.Malformed as exc:
        status, reason = "crashed", f"{MALFORMED} ({exc})"
        outcomes = [{"error": reason}] * len(cases)
    per_case = [_case_checks(name, c, o, expected) for c, o in zip(cases, outcomes)]
    fraction = sum(score(checks) for checks in per_case) / len(cases) if outcomes else 0.0
    if status == "graded" and any("missing" in o for o in outcomes):
        status = "missing"
    elif status == "graded" and outcomes and all("error" in o for o in outcomes):
        status = "error"
    checks = _one_explanation([c for group in per_case for c in group])
    result = ExerciseResult(name, round(exercise.points * fraction, 2), exercise.points, status, checks)
    result.feedback = render_feedback(result, reason)
    if expected is not None:
        _drawings(result, cases, outcomes, expected)
    return result


def _one_explanation(checks: list) -> list:
    """The feedback explains a mistake once, by its most specific hint. A known mistake
    (a hint of its own) outranks an ignored argument (which a known mistake can cause:
    a value that never depends on the weights ignores them), and both outrank a hint at
    the level of the idea, which is for a wrong value that matches nothing known."""
    hints = {c.hint for c in checks if not c.passed and c.hint}
    if hints - IDEAS - IGNORED:
        general = IDEAS | IGNORED
    elif hints & IGNORED:
        general = IDEAS
    else:
        return checks
    for check in checks:
        if check.hint in general:
            check.hint = ""
    return checks


_SECONDS = re.compile(r"within (\d+(?:\.\d+)?) ?s\b")
HINT_SLOW = ("Look for a loop that never ends or runs far longer than it should, and for work "
             "repeated inside a loop that could be done once.")


def _timed_out(exercise, cases: list, reason: str) -> ExerciseResult:
    """A time-out reads as one: "did not finish within 60 s", with a hint about loops."""
    found = _SECONDS.search(reason or "")
    limit = f"{float(found.group(1)):g} s" if found else "its time limit"
    checks = [Check(f"{exercise.signature} finishes", False, f"did not finish within {limit}",
                    exercise.slow_hint or HINT_SLOW)]
    result = ExerciseResult(exercise.name, 0.0, exercise.points, "timeout", checks)
    result.feedback = render_feedback(result, f"{exercise.signature} did not finish within {limit}, "
                                              "so it was stopped and scores 0.")
    return result


def render_feedback(result: ExerciseResult, reason: str = "") -> str:
    """Plain-text feedback for one exercise: every failed check with its detail and
    hint (each hint once), or a one-line confirmation."""
    head = f"{result.name}: {result.score:g} / {result.max_score:g}"
    lines = [head]
    if reason:
        lines.append(f"  {reason}")
    hints_given, shown = set(), set()
    for check in result.checks:
        if check.passed or (check.label, check.detail) in shown:
            continue
        shown.add((check.label, check.detail))
        lines.append(f"  ✗ {check.label}" + (f": {check.detail}" if check.detail else ""))
        if check.hint and check.hint not in hints_given:
            hints_given.add(check.hint)
            lines.append(f"    Hint: {check.hint}")
    if not reason and all(c.passed for c in result.checks):
        lines.append(f"  ✓ all {len(result.checks)} checks passed")
    return "\n".join(lines)
