"""What one exercise declares: its contract, and the four functions that grade it.

An exercise module builds one :class:`Exercise` with keyword arguments. Its four
functions run in three places, on plain data only:

- ``cases(rng)`` draws the inputs from a seeded generator (in the grader);
- ``probe(namespace, case)`` calls the student's definition and returns what it
  observed (next to the student's code, in the sandbox);
- ``expect(reference, case)`` computes what the grader compares with, from the
  course's reference definitions (in the trusted reference process);
- ``judge(case, answer, expected)`` turns the probe's answer into observations
  (:class:`autograder.checking.compare.Check`), with hints for students (in the grader).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, kw_only=True)
class Exercise:
    """One graded exercise of the assignment."""

    name: str  # the nbgrader grade_id of the solution cell; tests are test_<name>, checks check_<name>
    defines: str  # the name the student's cell must define
    signature: str
    points: float
    cases: Callable
    probe: Callable
    expect: Callable
    judge: Callable
    # schema(case) -> {field: kind}: exactly what the probe returns, each field with its
    # kind from ``replies`` (anything else in a reply is a forgery).
    schema: Callable
    # The exercises whose reference versions stand in for the student's while this one
    # is graded (so a mistake costs points once). They run in the reference process,
    # called over the channel, or are Keras built-ins (see ``harness.STAND_INS``).
    uses: tuple = ()
    # How this exercise's own reference stands in when a later exercise uses it: a key
    # of ``harness.STAND_INS``.
    stand_in: str = ""
    error_hints: tuple = ()  # (regex, hint) matched against an exception's text
    time_limit: float = 30.0  # seconds for all of this exercise's cases, in the sandbox
    slow_hint: str = ""  # what to look at when the exercise did not finish in time (a loop?)
    # plots(case, answer, expected) -> {"curves": [...], "boundary": {...}}: what the
    # feedback can draw for one case (docs/results.md); None when nothing is worth drawing.
    plots: Callable | None = None

    @property
    def test_id(self) -> str:
        return f"test_{self.name}"

    @property
    def check_id(self) -> str:
        return f"check_{self.name}"
