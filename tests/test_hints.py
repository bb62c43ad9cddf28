"""Hints say what went wrong and which idea to revisit; none hands over the fix in code
(issue 21, item 5). Every text a student can get as a hint (the hints of every
exercise, the shared ones, the error and time-out hints, the ignored-argument ones) goes
through the wheel's solution-line check (``solution_text.quoted``), with each solution
line also taken without its closing ``:`` or ``,`` (a sentence quotes ``for _ in
range(steps)`` without it), and through a check for an update rule written out."""
from __future__ import annotations

import re

import pytest

from autograder.checking.judge import HINT_SLOW
from autograder.exercises import COMMON_ERROR_HINTS, EXERCISES, HINTS
from solution_text import quoted, solution_lines
from conftest import SOURCE

# An update rule, or one side of it: "W - rate * dW", "rate * gradient", "-= ", "assign_sub".
UPDATE_RULE = re.compile(r"\brate\s*\*|\*\s*rate\b|-=|\bassign_(?:sub|add)\b|\b\w+\s*=\s*\w+\s*[-+]\s*\w")


def hint_texts() -> dict:
    """Every hint a student can read, by where it comes from."""
    texts = {name: text for name, text in HINTS.items()}
    texts.update({f"COMMON_ERROR_HINTS[{i}]": hint for i, (_, hint) in enumerate(COMMON_ERROR_HINTS)})
    for exercise in EXERCISES.values():
        texts.update({f"{exercise.name}.error_hints[{i}]": hint
                      for i, (_, hint) in enumerate(exercise.error_hints)})
        if exercise.slow_hint:
            texts[f"{exercise.name}.slow_hint"] = exercise.slow_hint
    texts["judge.HINT_SLOW"] = HINT_SLOW
    return texts


def answer_lines() -> set:
    """Every solution line of the source (shown in the release or not: a hint is no
    place for either), also without its closing ``:`` or ``,``."""
    lines = set(solution_lines(SOURCE))
    return lines | {line.rstrip(":,").rstrip() for line in lines}


def gives_away(text: str, lines: set) -> list:
    """What of the answer ``text`` writes out: solution lines, and update rules."""
    return quoted(text, lines) + UPDATE_RULE.findall(text)


LINES = answer_lines()
TEXTS = hint_texts()


def test_every_kind_of_hint_is_checked():
    assert len(TEXTS) > 60 and "HINT_ASCENT" in TEXTS and "train.slow_hint" in TEXTS
    assert any(key.startswith("COMMON_ERROR_HINTS") for key in TEXTS)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_no_hint_holds_a_line_of_the_solution_or_an_update_rule(name):
    assert gives_away(TEXTS[name], LINES) == [], TEXTS[name]


@pytest.mark.parametrize("planted", [
    "The loss goes up: subtract rate * gradient.",  # the old HINT_ASCENT
    "Each step then sets W to W - rate * dW and b to b - rate * db.",  # the old HINT_NOT_DESCENT
    "Does the loop stop? Loop with for _ in range(steps), and keep printing out of it.",
    "Call the loss object as return loss_fn(targets, logits).",
    "Write dW, db = tape.gradient(loss_value, (W, b)) at the end.",
])
def test_the_check_finds_a_planted_answer(planted):
    assert gives_away(planted, LINES)


def test_the_check_does_not_flag_words_about_the_idea():
    for fine in ["Move the parameters against the gradient.", "the loss is the mean over the examples",
                 "W should have shape (input size, num_outputs)"]:
        assert gives_away(fine, LINES) == []
