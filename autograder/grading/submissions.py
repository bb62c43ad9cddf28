"""Finding a class's submissions, without TensorFlow (so bad input fails in a second).

A path the instructor names may be a notebook; one student's folder (holding
``tf_from_scratch/``); nbgrader's ``submitted/`` layout (student folders); or a folder of
loose notebooks such as zip_collect leaves (one student per notebook). The paths
themselves are the instructor's; below them no symbolic link is followed. Each student
id is made safe and unique (``submitted_as`` keeps the name as found). Files that are
not submissions are reported in ``ignored``, never dropped in silence.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from autograder import ASSIGNMENT
from autograder.results.escape import safe_student_id


class NotASubmission(ValueError):
    """A path the instructor named that cannot hold a submission (the message says why)."""


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path | None  # None: nothing to grade (the reason says why)
    reason: str = ""
    submitted_as: str = ""  # the name as found (folder or file name), before safe_student_id

    def content_hash(self) -> str:
        """sha256 of the notebook's bytes ('' when there is none or it cannot be read:
        such a submission is graded again every run, which costs no sandbox)."""
        if self.notebook is None:
            return ""
        try:
            if self.notebook.is_symlink() or not self.notebook.is_file():
                return ""
            digest = hashlib.sha256()
            with open(self.notebook, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
        except OSError:
            return ""


def unique_ids(names) -> dict:
    """A safe, unique student id for each name (sorted, so a re-run gives the same ids):
    a clash gets ``~2``, ``~3``, ..."""
    ids, taken = {}, set()
    for name in sorted(names):
        base = candidate = safe_student_id(name)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{base}~{number}"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _real_dir(path: Path) -> bool:
    """A folder that is not a symbolic link: the walk never follows one."""
    return path.is_dir() and not path.is_symlink()


def choose_notebook(names, assignment: str) -> str | None:
    """Which of a submission folder's notebook ``names`` is graded: the one named after
    ``assignment``, else the only one; None when there is none or the choice is ambiguous."""
    if f"{assignment}.ipynb" in names:
        return f"{assignment}.ipynb"
    return names[0] if len(names) == 1 else None


def _notebook_in(folder: Path) -> tuple:
    if folder.is_symlink():
        return None, f"{folder.name} is a symbolic link (not followed)"
    try:
        notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    except OSError as exc:
        return None, f"{folder.name} cannot be listed: {exc.strerror or type(exc).__name__}"
    chosen = choose_notebook([p.name for p in notebooks], ASSIGNMENT)
    if chosen is not None:
        return folder / chosen, ""  # not read here: grade.read_notebook checks it
    if not notebooks:
        return None, f"no notebook in {folder.name}"
    names = ", ".join(p.name for p in notebooks[:4])
    return None, f"several notebooks ({names}) and none named {ASSIGNMENT}.ipynb"


def _in_folder(path: Path, found: dict, ignored: list) -> None:
    """The submissions in a folder the instructor named: nbgrader's ``submitted/`` layout
    or loose notebooks. Entries are looked at without following symbolic links."""
    for child in sorted(path.iterdir()):
        if child.is_symlink():
            found[child.stem if child.suffix == ".ipynb" else child.name] = Submission(
                "", None, f"{child.name} is a symbolic link (not followed)")
        elif _real_dir(child):
            if child.name.startswith("."):  # .ipynb_checkpoints
                continue
            inner = child / ASSIGNMENT
            folder = inner if inner.is_symlink() or _real_dir(inner) else child
            notebook, reason = _notebook_in(folder)
            found[child.name] = Submission("", notebook, reason)
        elif child.suffix == ".ipynb":
            found[child.stem] = Submission("", child)
        elif not child.name.startswith("."):  # .DS_Store and the like are not worth a line
            ignored.append((str(child), "not a notebook (.ipynb)"))


def find_submissions(paths, ignored: list | None = None) -> list:
    """Submissions under each path (see the module's docstring), sorted by student id.
    A path that does not exist, or a file that is not a notebook, raises
    :class:`NotASubmission`; files passed over are appended to ``ignored`` as
    ``(path, why)``."""
    ignored = [] if ignored is None else ignored
    found = {}
    for path in map(Path, paths):
        if path.is_file() or path.suffix == ".ipynb":
            if not path.exists():
                raise NotASubmission(f"no such file or folder: {path}")
            if path.suffix != ".ipynb":
                raise NotASubmission(f"not a notebook (.ipynb): {path}")
            if path.parent.name == ASSIGNMENT:  # <student>/tf_from_scratch/<notebook>
                student = path.parent.parent.name
            else:  # a notebook named after the assignment is named after its folder
                student = path.parent.resolve().name if path.stem == ASSIGNMENT else path.stem
            found[student] = Submission("", path)
        elif (path / ASSIGNMENT).is_symlink() or _real_dir(path / ASSIGNMENT):
            notebook, reason = _notebook_in(path / ASSIGNMENT)
            found[path.name] = Submission("", notebook, reason)
        elif path.is_dir():
            _in_folder(path, found, ignored)
        else:
            raise NotASubmission(f"no such file or folder: {path}")
    ids = unique_ids(found)
    return sorted((replace(found[name], student_id=ids[name], submitted_as=name) for name in found),
                  key=lambda s: s.student_id)


def inside(child, parent) -> bool:
    """Whether ``child`` is ``parent`` or below it (both resolved)."""
    child, parent = Path(child).resolve(), Path(parent).resolve()
    return child == parent or parent in child.parents
