"""``tfgrade check NOTEBOOK``: the visible checks, as a student runs them before submitting.

Runs the notebook in a real Jupyter kernel (nbclient) without its demonstration cells
and without any graded test cell, so nothing hidden is compared, and reports each
exercise's visible checks: passed, failed with the whole of the error (colour codes
and TensorFlow's op-name noise removed, a bounded number of lines), or not run.

A visible check calls the student's earlier functions (``loss`` calls ``predict``), so a
wrong ``predict`` makes later checks fail with messages about the wrong exercise. The
report names the culprit instead: the innermost student frame of the error's traceback
(``Cell In[N]`` is the cell executed N-th; a frame in a kernel cell file is matched by
the name it defines), and the earlier exercises this one calls that fail their own
checks ("`predict` fails its own check: fix it first").

This process never imports TensorFlow (the kernel does): exercise names come from
``contract``. It ships in the wheel a student image installs, which holds no answers.
"""
from __future__ import annotations

import ast
import re
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import cell_role
from autograder.exercises import EXERCISES
from autograder.exercises.support.hints import HINT_NOT_DONE

MAX_ERROR_LINES = 16  # after wrapping: enough for a Keras error, bounded for any
WIDTH = 100

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_TF_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")  # TensorFlow's op-kernel prefix
_CELL_FRAME = re.compile(r"^Cell In\[(\d+)\], line (\d+)(?:, in (.+))?$")
_FILE_FRAME = re.compile(r'^File "?(.+?)"?(?::(\d+)|, line (\d+)), in (.+)$')
_CELL_FILE = re.compile(r'"?(?:/[^"\s,:()]*/)?(?:ipykernel_\d+/)?\d{6,}\.py"?')  # a cell's file
_KERNEL_FILE = re.compile(r"ipykernel_\d+|__autograph_generated_file")
_ARROW = re.compile(r"^-+>\s*\d+\s?(.*)$")
_STUB = re.compile(r"^\s*raise NotImplementedError\b", re.MULTILINE)
_SEPARATOR = re.compile(r"^(The above exception was|During handling of the above)")


@dataclass(frozen=True)
class Frame:
    """One traceback entry that may be student code: the cell executed ``count``-th
    (or None for a file frame), the function's qualified name, and the failing line."""
    count: int | None
    name: str
    line: str


@dataclass
class Failure:
    """An error output of a cell, with its colour codes removed."""
    ename: str
    evalue: str
    frames: list[Frame] = field(default_factory=list)


@dataclass
class Course:
    """What the executed notebook says about its exercises: the solution and check cell
    of each (by position), what each solution cell defines and which exercises each
    exercise's code and check call."""
    cells: list
    positions: list[int]
    solution: dict = field(default_factory=dict)
    check: dict = field(default_factory=dict)
    owner: dict = field(default_factory=dict)  # a defined name -> its exercise
    uses: dict = field(default_factory=dict)   # exercise -> exercises it calls, transitively


def _metadata(cell, key: str) -> dict:
    metadata = cell.get("metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def python_name(exercise: str) -> str:
    """The name students define for an exercise: ``predict``, ``MyDense``."""
    match = re.match(r"(?:class\s+)?(\w+)", EXERCISES[exercise].signature)
    return match.group(1) if match else exercise


def _names(source: str) -> tuple[set, set]:
    """(names a cell defines at top level, names it reads anywhere)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # still say what it seems to define and call
        return (set(re.findall(r"^(?:def|class)\s+(\w+)", source, re.MULTILINE)),
                set(re.findall(r"\b\w+\b", source)))
    defined = {node.name for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return defined, read


def _closure(direct: dict) -> dict:
    uses = {}
    for start in direct:
        seen, todo = set(), list(direct[start])
        while todo:
            name = todo.pop()
            if name not in seen and name != start:
                seen.add(name)
                todo.extend(direct.get(name, ()))
        uses[start] = seen
    return uses


def read_course(cells: list, positions: list[int]) -> Course:
    """Find each exercise's solution and check cell and what calls what."""
    course = Course(cells, positions)
    for index, cell in enumerate(cells):
        grade_id = _metadata(cell, "nbgrader").get("grade_id", "")
        if _metadata(cell, "nbgrader").get("solution") and grade_id in EXERCISES:
            course.solution.setdefault(grade_id, index)
        elif grade_id.startswith("check_") and grade_id[len("check_"):] in EXERCISES:
            course.check.setdefault(grade_id[len("check_"):], index)
    reads = {}
    for exercise, index in course.solution.items():
        defined, reads[exercise] = _names(cells[index].source)
        for name in defined | {python_name(exercise)}:
            course.owner.setdefault(name, exercise)
    for exercise, index in course.check.items():
        reads[exercise] = reads.get(exercise, set()) | _names(cells[index].source)[1]
    course.uses = _closure({exercise: {course.owner[name] for name in names if name in course.owner}
                            for exercise, names in reads.items()})
    return course


def _frames(traceback: list) -> list[Frame]:
    """The frames of the last exception in the chain, from outermost to innermost."""
    entries = [_ANSI.sub("", entry) for entry in traceback]
    last = max((i for i, e in enumerate(entries) if _SEPARATOR.match(e.strip())), default=-1)
    frames = []
    for entry in entries[last + 1:]:
        lines = entry.strip("\n").splitlines() or [""]
        arrow = next((m.group(1).strip() for m in map(_ARROW.match, lines) if m), "")
        cell, file = _CELL_FRAME.match(lines[0].strip()), _FILE_FRAME.match(lines[0].strip())
        if cell:
            frames.append(Frame(int(cell.group(1)), (cell.group(3) or "").split("(")[0], arrow))
        elif file and _KERNEL_FILE.search(file.group(1)):
            frames.append(Frame(None, file.group(4).split("(")[0], arrow))
    return frames


def failure_of(cell) -> Failure | None:
    """The cell's error output, if it raised."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return Failure(_ANSI.sub("", output.get("ename", "")), _ANSI.sub("", output.get("evalue", "")),
                           _frames(output.get("traceback", [])))
    return None


def _exercise_of(frame: Frame, course: Course, counts: dict) -> str | None:
    """The exercise whose solution cell holds the frame's code; None for a check cell
    or code no exercise defines."""
    if frame.count in counts:
        index = counts[frame.count]
        owners = [e for e, position in course.solution.items() if position == index]
        if owners or cell_role(course.cells[index]) == "check":
            return owners[0] if owners else None
    return course.owner.get(frame.name.split(".")[0].removeprefix("tf__"))


def error_lines(failure: Failure, frame: Frame | None = None) -> list[str]:
    """The whole error, bounded: every non-blank line of the message, wrapped, then
    where in the student's code it was raised. Continuation lines are indented."""
    text = _CELL_FILE.sub("<cell>", _TF_NODE.sub("", failure.evalue)).strip()
    lines = [line.rstrip() for line in f"{failure.ename}: {text}".splitlines() if line.strip()]
    if frame is not None and frame.line:
        lines.append(f"raised at `{frame.line}` in {frame.name or 'its cell'}")
    wrapped = [part for line in lines
               for part in textwrap.wrap(line, WIDTH, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 2))]
    if len(wrapped) > MAX_ERROR_LINES:
        wrapped = wrapped[:MAX_ERROR_LINES - 1] + [f"… ({len(wrapped) - MAX_ERROR_LINES + 1} more lines)"]
    return wrapped[:1] + ["  " + line for line in wrapped[1:]]


def _stubbed(exercise: str, course: Course) -> bool:
    """Whether the exercise's own cell still raises NotImplementedError, as the release does."""
    index = course.solution.get(exercise)
    return index is not None and bool(_STUB.search(course.cells[index].source))


def _blame(names: list[str]) -> str:
    quoted = [f"`{python_name(n)}`" for n in names]
    if len(quoted) == 1:
        return f"{quoted[0]} fails its own check: fix it first (this check calls it)."
    listed = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    return f"{listed} fail their own checks: fix them first, in that order (this check calls them)."


def explain(exercise: str, failure: Failure, course: Course, counts: dict, failed: set) -> list[str]:
    """Why an exercise's visible check failed, naming the culprit when it is an
    earlier exercise: a stub it calls, or one that fails its own check."""
    mapped = [(frame, _exercise_of(frame, course, counts)) for frame in failure.frames]
    frame, culprit = next(((f, e) for f, e in reversed(mapped) if e), (None, None))
    if failure.ename == "NotImplementedError":
        if culprit in (None, exercise) or _stubbed(exercise, course):
            return [HINT_NOT_DONE]
        return [f"`{python_name(culprit)}` still raises NotImplementedError, and this check calls it: "
                "write it first."]
    blamed = [e for e in EXERCISES if e in failed and (e == culprit or e in course.uses.get(exercise, ()))]
    lines = [_blame(blamed)] if blamed else []
    if culprit not in (None, exercise) and not blamed:
        lines.append(f"The error is raised inside `{python_name(culprit)}`, which passes its own check: "
                     "look at what this exercise passes to it.")
    return lines + error_lines(failure, frame)


def verdicts_of(course: Course) -> dict:
    """Per exercise with a check cell, in notebook order: None when its checks passed,
    else the lines that explain the failure."""
    cells = course.cells
    counts = {c.get("execution_count"): i for i, c in enumerate(cells) if c.get("execution_count")}
    verdicts, failed = {}, set()
    for exercise, index in sorted(course.check.items(), key=lambda item: item[1]):
        failure = failure_of(cells[index])
        own = failure_of(cells[course.solution[exercise]]) if exercise in course.solution else None
        if failure is None:
            verdicts[exercise] = None
            continue
        failed.add(exercise)
        if own is not None:
            verdicts[exercise] = ([f"The cell defining `{python_name(exercise)}` raised an error when run:"]
                                  + error_lines(own))
        else:
            verdicts[exercise] = explain(exercise, failure, course, counts, failed - {exercise})
    return verdicts


def other_errors(course: Course) -> list[str]:
    """Cells outside the exercises (imports, data) that raised: every check after them
    may fail because of them."""
    mine = set(course.solution.values()) | set(course.check.values())
    return [f"cell {course.positions[i]} raised " + "\n      ".join(error_lines(failure))
            for i, cell in enumerate(course.cells)
            if i not in mine and (failure := failure_of(cell)) is not None]


def run_notebook(path, timeout: int = 120) -> tuple[list, list[int]]:
    """Execute the notebook's setup, solution and check cells in a fresh kernel; returns
    the executed cells and their 1-based positions in the notebook."""
    notebook = nbformat.read(str(path), as_version=4)
    kept = [(i + 1, c) for i, c in enumerate(notebook.cells) if cell_role(c) not in ("test", "demo")]
    notebook.cells = [c for _, c in kept]
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up chatter
    return notebook.cells, [position for position, _ in kept]


def run_visible_checks(path, timeout: int = 120) -> dict:
    """Per exercise: ``None`` when its visible checks passed, else the explanation as text."""
    return {name: None if lines is None else "\n".join(lines)
            for name, lines in verdicts_of(read_course(*run_notebook(path, timeout))).items()}


def check_notebook(path) -> int:
    """Print the visible checks' report; exit status 0 only when all passed."""
    try:
        course = read_course(*run_notebook(path))
        verdicts = verdicts_of(course)
    except Exception as exc:  # noqa: BLE001 - report, do not trace back at a student
        print(f"Could not run {path}: {type(exc).__name__}: {exc}")
        return 2
    print(f"Visible checks of {path} (the graded tests are hidden; passing these is a good sign, "
          "not a grade):\n")
    for line in other_errors(course):
        print(f"  ! {line}")
    failed = 0
    for name, exercise in EXERCISES.items():
        if name not in verdicts:
            print(f"  ? {exercise.signature}: no visible check cell found")
            continue
        lines = verdicts[name]
        failed += lines is not None
        print(f"  {'✓' if lines is None else '✗'} {exercise.signature}")
        for line in lines or []:
            print(f"      {line}")
    print(f"\n{len(verdicts) - failed} of {len(verdicts)} exercises pass their visible checks.")
    return 1 if failed else 0
