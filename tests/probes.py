"""Several adversarial probes in one notebook, graded once.

Grading a notebook costs seconds (a sandbox, TensorFlow, every exercise), so the attack
tests let one notebook carry several probes that need the same sandbox settings. Each
probe gets an exercise of its own: when its attack works, it replaces that exercise with
one that raises, naming the probe and what it found. The exercises are graded with the
reference versions of what they build on, so one broken exercise costs no other, and
each probe's outcome is read from its own exercise's score, asserted separately.

The notebooks start from the full-marks one (a known score of 100), and the probe cells
come after the last exercise, so that the definitions they replace are final.
"""
from __future__ import annotations

import contextlib
import copy

import nbformat
import pytest

from autograder.exercises import EXERCISES


def breaks(exercise: str, probe: str, why: str = "found") -> str:
    """Code that replaces ``exercise`` with one that raises, saying ``probe`` and ``why``
    (an expression of the probe's cell, evaluated when the cell runs)."""
    signature = EXERCISES[exercise].signature
    assert not signature.startswith("class"), f"{exercise}: a class, pick a function"
    return (f"_probe_{exercise} = {probe!r} + ': ' + repr({why})[:400]\n"
            f"def {signature}:\n"
            f"    raise RuntimeError('probe ' + _probe_{exercise})\n")


def breaks_if_found(exercise: str, name: str, probe: str) -> str:
    """A cell that runs ``probe`` (which must set ``found`` to a list) and, if anything was
    found, replaces ``exercise``: the attack's success costs that exercise's points."""
    body = breaks(exercise, name, "found")
    return (probe + "\n"
            "if found:\n" + "".join(f"    {line}\n" for line in body.splitlines()))


def with_probes(notebook, cells) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with the code cells ``cells`` added at its end."""
    notebook = copy.deepcopy(notebook)
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in cells)
    return notebook


def probe_failures(result, probes: dict) -> dict:
    """For {probe name: exercise}, the probes whose exercise lost points, with its
    feedback (which names the probe and what it found)."""
    return {name: result.exercises[exercise].feedback[:600]
            for name, exercise in probes.items()
            if result.exercises[exercise].score < result.exercises[exercise].max_score}


def assert_probe_held(result, name: str, exercise: str) -> None:
    """The attack ``name`` found nothing: its exercise kept full marks."""
    graded = result.exercises[exercise]
    assert graded.score == graded.max_score, (
        f"probe {name!r} succeeded (its exercise {exercise} lost points): {graded.feedback[:800]}")


def assert_probe_worked(result, name: str, exercise: str) -> None:
    """The attack ``name`` found what it was after (its protection was off): its exercise
    lost points, and the feedback names this probe."""
    graded = result.exercises[exercise]
    assert graded.score < graded.max_score, (
        f"probe {name!r} found nothing although its protection was switched off "
        f"(its exercise {exercise} kept full marks)")
    assert f"probe {name}" in graded.feedback, (
        f"exercise {exercise} lost points, but not to probe {name!r}: {graded.feedback[:800]}")


@contextlib.contextmanager
def switched_off(*names: str, route: str | None = None):
    """Every sandbox started inside gets the protections ``names`` off, and ``route``
    instead of this machine's best one when given: the kit's one function that says
    what a sandbox gets (``settings.protections``) is replaced for the duration, in this
    process (every grading thread of it, not a Dask worker's)."""
    from autograder.sandbox import settings
    chosen = settings.Protections(route or settings.resolve_route(), frozenset(names))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "protections", lambda: chosen)
        yield chosen
