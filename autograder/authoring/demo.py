"""``make demo``: grade the bundled sample class with both graders, in a workspace of its own.

The demo never reads or writes the course's own ``submitted/``, ``autograded/``,
``feedback/`` or ``gradebook.db``: those may hold a real class. It builds a throw-away
course in ``demo_out/`` (the course's ``nbgrader_config.py`` and ``source/``, and
``examples/sample_class/submitted`` as its ``submitted/``), and there runs

1. ``nbgrader generate_assignment`` (the workspace's own gradebook),
2. ``tfgrade autograde`` (nbgrader's pipeline, graded in the sandbox),
3. ``tfgrade grade submitted --out grades``,

then prints each student's total under both graders and where everything is.
``demo_out/`` is recreated on each run; a ``demo_out/`` the demo did not make (no
:data:`MARKER` in it) is refused rather than deleted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from autograder import ASSIGNMENT
from autograder.course import course_root
from autograder.integrations.nbgrader.gradebook import nbgrader_scores

WORKSPACE = "demo_out"
MARKER = ".tfkit-demo"


class DemoError(RuntimeError):
    """The demo cannot run (the message says why, in one line)."""


def prepare(root: Path) -> Path:
    """A fresh demo course in ``root/demo_out``: the course's config and source, the
    sample class as its submissions. Only a folder the demo made itself is replaced."""
    workspace = root / WORKSPACE
    if workspace.is_symlink() or (workspace.exists() and not (workspace / MARKER).is_file()):
        raise DemoError(f"{workspace} exists and was not made by the demo: move it away first")
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir()
    (workspace / MARKER).write_text("made by `make demo`; deleted and remade by the next one\n")
    shutil.copy2(root / "nbgrader_config.py", workspace)
    shutil.copytree(root / "source", workspace / "source")
    shutil.copytree(root / "examples" / "sample_class" / "submitted", workspace / "submitted")
    return workspace


def _run(workspace: Path, *command: str, quiet_stderr: bool = False) -> None:
    # nbgrader shells out to `alembic` by name: the environment's bin/ goes first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(list(command), cwd=workspace, check=False, env=env,
                          stderr=subprocess.PIPE if quiet_stderr else None, text=True)
    if done.returncode != 0:
        tail = (done.stderr or "")[-3000:]
        raise DemoError(f"{' '.join(command[:3])} exited {done.returncode}\n{tail}")


def main() -> int:
    try:
        return demo(course_root())
    except DemoError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 2


def demo(root: Path) -> int:
    workspace = prepare(root)
    students = sorted(p.name for p in (workspace / "submitted").iterdir())
    print(f"demo workspace: {workspace} (the course's own submitted/, autograded/, feedback/ "
          "and gradebook.db are not touched)", flush=True)
    tfgrade = str(Path(sys.executable).with_name("tfgrade"))
    _run(workspace, sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
         "--force", quiet_stderr=True)

    started = time.monotonic()
    print(f"tfgrade autograde {ASSIGNMENT} ({len(students)} students, into the demo's "
          "gradebook) ...", flush=True)
    _run(workspace, tfgrade, "autograde", ASSIGNMENT, "--force", quiet_stderr=True)
    nbgrader_seconds = time.monotonic() - started
    by_nbgrader = nbgrader_scores(workspace)

    started = time.monotonic()
    print("tfgrade grade submitted --out grades ...", flush=True)
    _run(workspace, tfgrade, "grade", "submitted", "--out", "grades", "--force", "--quiet")
    tfgrade_seconds = time.monotonic() - started

    from autograder.results.records import read_results
    results = {r["student_id"]: r for r in read_results(workspace / "grades")}
    print(f"\n{'student':<20} {'nbgrader':>9} {'tfgrade':>8}  agree")
    agree = 0
    for student in students:
        ours = results[student]["score"] if student in results else float("nan")
        theirs = sum(by_nbgrader.get(student, {}).values()) if student in by_nbgrader else float("nan")
        same = abs(ours - theirs) < 0.011
        agree += same
        print(f"{student:<20} {theirs:>9.2f} {ours:>8.2f}  {'yes' if same else 'NO'}")
    print(f"\n{agree}/{len(students)} totals agree; tfgrade autograde (with nbgrader's pipeline) "
          f"took {nbgrader_seconds:.1f} s, tfgrade grade {tfgrade_seconds:.1f} s.")
    print(f"Everything is in {workspace}: grades/<student>/feedback.html and grades/report.html "
          "(tfgrade), autograded/ and gradebook.db (nbgrader).")
    return 0 if agree == len(students) else 1


if __name__ == "__main__":
    sys.exit(main())
