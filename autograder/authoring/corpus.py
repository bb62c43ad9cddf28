"""The corpus of student-like answers the autograder is tested against.

``tests/mutants/<exercise>/<name>.py`` holds realistic wrong answers and
``tests/alternatives/<exercise>/<name>.py`` correct answers written differently
from the reference. Each file replaces the whole solution cell of its exercise (the
folder name), so it defines the full function or class, using only ``tf``, ``np``,
``math`` and the other contract names, as a notebook cell would. Its first lines are
comment directives::

    # mutant: <the realistic student mistake, in one line>
    # hint: HINT_COLUMN          (mutants only: the hint the feedback must give; several
                                 #  separated by commas when the mistake has several faces)

    # alternative: <what differs from the reference>

The rule every snippet is held to: graded with ``autograder.grading.local.grade(exercise,
namespace_with(exercise, source), reference)``, at the kit's seed and at a second one
(:func:`seeds`), a mutant scores below full points, its feedback gives every hint its
header names and no other hint; an alternative scores full points. A mutant without a
``# hint:`` line must be one the feedback cannot explain with a hint: a missing name.

The sample class (``examples/make_sample_class.py``) and ``tfgrade selftest`` build
student notebooks from these snippets with :func:`replace_solution`.
"""
from __future__ import annotations

import copy
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat


# The corpus is replayed at the kit's seed and at this one too (tests, ``tfgrade selftest``).
SECOND_SEED = 7


def seeds() -> tuple:
    """The seeds the corpus is graded at: the kit's default and :data:`SECOND_SEED`."""
    from autograder import DEFAULT_SEED
    return (DEFAULT_SEED, SECOND_SEED)


def hints_given(result) -> set:
    """The hints a graded exercise's feedback gives (those of its failed observations):
    of a ``judge.ExerciseResult``, or of its ``to_dict()`` (an exercise of result.json)."""
    checks = result["checks"] if isinstance(result, dict) else [vars(c) for c in result.checks]
    return {check["hint"] for check in checks if not check["passed"] and check["hint"]}


def wrong_hints(snippet, given: set) -> tuple:
    """``(missing, others)``: the hints ``snippet`` names that are not in ``given`` (the
    hint texts a feedback gives), and those given that it does not name, by constant name
    (a hint that is no ``HINT_*`` constant by its text). A mutant must leave both empty."""
    from autograder.exercises import HINTS
    name_of = {text: name for name, text in HINTS.items()}
    missing = [name for name, text in zip(snippet.hint_constants, snippet.hint_texts) if text not in given]
    others = sorted(name_of.get(text, text) for text in given - set(snippet.hint_texts))
    return missing, others


def corpus_dir(root: Path | None = None) -> Path:
    """The course's ``tests/`` folder (the course root is found from the current folder)."""
    from autograder.authoring.build import course_root
    return (Path(root) if root else course_root()) / "tests"

_DIRECTIVE = re.compile(r"#\s*(mutant|alternative|hint)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Snippet:
    """One answer of the corpus: the source of a whole solution cell."""

    exercise: str  # the nbgrader grade_id of the solution cell it replaces (its folder)
    name: str  # the file name without .py
    path: Path
    source: str  # the file's text, header included
    description: str  # the `# mutant:` or `# alternative:` line
    hint_constants: tuple = ()  # the `# hint:` line: keys of autograder.exercises.HINTS

    @property
    def id(self) -> str:
        """'predict/column': the pytest id."""
        return f"{self.exercise}/{self.name}"

    @property
    def body(self) -> str:
        """The source without its header directives: what a student would have written."""
        lines = self.source.splitlines(keepends=True)
        i = 0
        while i < len(lines) and (_DIRECTIVE.match(lines[i].strip()) or not lines[i].strip()):
            i += 1
        return "".join(lines[i:])

    @property
    def hint_constant(self) -> str | None:
        """The first hint named, or None."""
        return self.hint_constants[0] if self.hint_constants else None

    @property
    def hint_texts(self) -> tuple:
        """The text of every hint named (the feedback must give each, and no other)."""
        from autograder.exercises import HINTS
        return tuple(HINTS[name] for name in self.hint_constants)

    @property
    def hint_text(self) -> str | None:
        """The text of the first hint named, or None when the snippet names none."""
        return self.hint_texts[0] if self.hint_texts else None


def _parse(path: Path, kind: str) -> Snippet:
    source = path.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in source.splitlines():
        match = _DIRECTIVE.match(line.strip())
        if not match:
            if line.strip():
                break  # the header ends at the first line that is not a directive
            continue
        found[match.group(1)] = match.group(2)
    if kind not in found:
        raise ValueError(f"{path}: the first lines must include a `# {kind}: ...` directive")
    if kind == "alternative" and "hint" in found:
        raise ValueError(f"{path}: an alternative earns full marks, it has no `# hint:`")
    hints = tuple(h.strip() for h in found.get("hint", "").split(",") if h.strip())
    return Snippet(path.parent.name, path.stem, path, source, found[kind], hints)


def _load(root: Path, kind: str) -> list[Snippet]:
    return [_parse(path, kind) for path in sorted(root.glob("*/*.py"))]


def mutants(root: Path | None = None) -> list[Snippet]:
    """Every wrong answer of ``tests/mutants``, sorted by exercise folder then name."""
    return _load(corpus_dir(root) / "mutants", "mutant")


def alternatives(root: Path | None = None) -> list[Snippet]:
    """Every correct, differently written answer of ``tests/alternatives``."""
    return _load(corpus_dir(root) / "alternatives", "alternative")


def snippet(kind: str, snippet_id: str, root: Path | None = None) -> Snippet:
    """One snippet by id, e.g. ``snippet("mutant", "predict/column")``."""
    pool = {"mutant": mutants, "alternative": alternatives}[kind](root)
    for item in pool:
        if item.id == snippet_id:
            return item
    raise KeyError(f"no {kind} {snippet_id!r}")


def solution_cells(notebook) -> dict:
    """The solution cells of a notebook by nbgrader grade_id."""
    from autograder.course import grade_id, is_solution
    return {grade_id(cell): cell for cell in notebook.cells
            if cell.cell_type == "code" and is_solution(cell)}


def replace_solution(notebook, exercise: str, source: str):
    """A deep copy of ``notebook`` whose solution cell with grade_id ``exercise`` holds
    ``source``; everything else (metadata, checksums, other cells) is unchanged.
    Raises KeyError when the notebook has no such solution cell."""
    copied = copy.deepcopy(notebook)
    if not isinstance(copied, nbformat.NotebookNode):
        copied = nbformat.from_dict(copied)
    cells = solution_cells(copied)
    if exercise not in cells:
        raise KeyError(f"the notebook has no solution cell with grade_id {exercise!r}")
    cells[exercise].source = source
    return copied


def without_markers(source: str) -> str:
    """A solution as a student hands it in: no BEGIN/END SOLUTION lines."""
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    return "\n".join(line for line in source.split("\n") if line.strip() not in markers)


def solved(release, solution):
    """The release with every solution cell filled from the solutions notebook."""
    notebook = release
    for exercise, cell in solution_cells(solution).items():
        notebook = replace_solution(notebook, exercise, without_markers(cell.source))
    return notebook


def namespace_with(exercise: str, source: str, cells=None) -> dict:
    """A fresh notebook-like namespace: the course's reference cells (``cells``, by
    default read from the course) except the solution of ``exercise``, then ``source``
    executed in it (as cell ``<cell exercise>``). Trusted code only (see ``local``)."""
    from autograder.grading.reference import read_reference

    namespace = {"__name__": "__main__"}
    for label, cell_source in cells if cells is not None else read_reference():
        if label != exercise:
            exec(compile(cell_source, f"<cell {label}>", "exec"), namespace)  # noqa: S102 - the course's code
    exec(compile(source, f"<cell {exercise}>", "exec"), namespace)  # noqa: S102 - test corpus
    return namespace
