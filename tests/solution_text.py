"""The solution lines of the source notebook, and where a text quotes one: the check
that keeps answers out of the wheel (tests/test_wheel.py) and out of every hint a
student reads (tests/test_hints.py)."""
from __future__ import annotations

import re

import nbformat

from conftest import RELEASE, SOURCE

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MIN_EMBEDDED = 16


def solution_lines(notebook_path) -> dict:
    """Every non-blank stripped line between the solution markers, with the grade id of
    the cell it is in."""
    lines = {}
    for cell in nbformat.read(str(notebook_path), as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith(BEGIN) or stripped.startswith(END):
                inside = stripped.startswith(BEGIN)
            elif inside and stripped:
                lines.setdefault(stripped, cell.metadata.get("nbgrader", {}).get("grade_id", "?"))
    return lines


def secret_lines() -> dict:
    """The source's solution lines, less those the release notebook shows verbatim (its
    text hands students ``with tf.GradientTape() as tape:``; a wheel holding that line
    gives nothing away)."""
    release = "\n".join(cell.source for cell in nbformat.read(str(RELEASE), as_version=4).cells)
    return {line: cell for line, cell in solution_lines(SOURCE).items() if line not in release}


def quoted(text: str, lines) -> list:
    """The lines of ``lines`` that ``text`` holds: as one of its stripped lines, or, when
    at least ``MIN_EMBEDDED`` characters long, anywhere in it (a string, a sentence) but
    not as part of a longer name. Shorter lines (``losses = []``) are found only whole:
    embedded, they are everywhere (``epoch_losses = []``)."""
    whole = {line.strip() for line in text.splitlines()}
    return sorted(line for line in lines if line in whole or (
        len(line) >= MIN_EMBEDDED and re.search(rf"(?<!\w){re.escape(line)}(?!\w)", text)))
