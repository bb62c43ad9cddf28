"""What the notebook's hidden test cells call: ``grade("loss", globals())``.

Grading of record happens in the sandbox (``sandboxed``), never here. In a kernel this
function refuses during nbgrader's own ``autograde`` and where no course is in reach; on the
instructor's notebooks it grades in process against the course's reference (``local``) and
hands nbgrader the score: nothing for full marks, the points for partial credit, an
``AssertionError`` for zero. Its inputs come from the case seed of the notebook in the
kernel's working folder (the course seed when there is none)."""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

# Set only to measure nbgrader's own, unsafe route (benchmarks/throughput.py's baseline).
UNSAFE = "TFKIT_UNSAFE_KERNEL_GRADING"
REFUSAL = ("This hidden test is graded by tfgrade's sandbox, not in a notebook kernel: run "
           "`tfgrade autograde ASSIGNMENT` from the course root (or `nbgrader autograde` with the "
           "course's nbgrader_config.py, which grades through the same sandbox).")


def grade(name: str, namespace: dict, seed: int | None = None):
    """Grade exercise ``name`` of the instructor's own notebook, or refuse (see above)."""
    from autograder import DEFAULT_SEED
    from autograder.grading import local
    from autograder.grading.reference import LocalReference, ReferenceFailed, read_reference
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and not os.environ.get(UNSAFE):
        raise AssertionError(f"{name}: not graded here. {REFUSAL}")
    try:
        reference = LocalReference(read_reference())
    except (FileNotFoundError, ReferenceFailed) as exc:
        raise AssertionError(f"{name}: no course here to grade against ({exc}). {REFUSAL}") from None
    seed = int(os.environ.get("TFKIT_SEED", DEFAULT_SEED)) if seed is None else seed
    case_seed, note = _case_seed(seed)
    # Whatever student code writes to stderr would zero this cell in nbgrader: keep it on stdout.
    with warnings.catch_warnings(), contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("ignore")
        result = local.grade(name, namespace, reference, case_seed)
    print(result.feedback + note)
    if result.score <= 0:
        raise AssertionError(f"{name}: 0 / {result.max_score:g} (see the feedback above)")
    return result.score if result.score < result.max_score else None


def _notebook_here() -> Path | None:
    """The notebook this kernel runs: the assignment's in the working folder, or the
    only notebook there."""
    from autograder import ASSIGNMENT
    here = Path.cwd()
    if (here / f"{ASSIGNMENT}.ipynb").is_file():
        return here / f"{ASSIGNMENT}.ipynb"
    found = sorted(here.glob("*.ipynb"))
    return found[0] if len(found) == 1 else None


def _case_seed(seed: int) -> tuple:
    """``(case seed, note)``: the sandbox's case seed for the notebook being run, or the
    course seed with a note for the feedback when there is no notebook to derive it from."""
    from autograder.grading.grade import Ungradable, code_cells, derive_case_seed
    path = _notebook_here()
    try:
        if path is not None:
            return derive_case_seed(seed, code_cells(path)), ""
        why = f"no notebook in {Path.cwd()}"
    except Ungradable as exc:
        why = str(exc)
    return seed, f"\n(inputs drawn from the course seed {seed}: {why})"
