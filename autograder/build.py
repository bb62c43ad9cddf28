"""Regenerate ``release/`` and ``solutions/`` from ``source/`` with the real nbgrader CLI.

``python -m autograder.build`` (what ``make release`` runs), from the course root.
Solutions are stored without outputs, so regenerating them gives the same files and
the self-tests can tell when they are out of date.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from . import ASSIGNMENT


def course_root(start: Path | None = None) -> Path:
    """The nearest folder upwards holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError("no nbgrader_config.py here or above: run this from the course root")


def nbgrader(root: Path, *args: str) -> None:
    """Run one nbgrader command in the course root; raise with its log if it fails."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def strip_outputs(folder: Path) -> None:
    """Remove outputs and execution counts from every notebook under ``folder``."""
    for path in folder.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)


def build(root: Path) -> None:
    """generate_assignment, then generate_solution (which also runs the solution
    through its hidden tests), for the kit's assignment."""
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    nbgrader(root, "generate_solution", ASSIGNMENT, "--force")
    strip_outputs(root / "solutions" / ASSIGNMENT)


if __name__ == "__main__":
    root = course_root()
    build(root)
    print(f"regenerated {root / 'release' / ASSIGNMENT} and {root / 'solutions' / ASSIGNMENT}")
