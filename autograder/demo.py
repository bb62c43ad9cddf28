"""``make demo``: grade the bundled sample class with both graders and print the table.

Copies ``examples/sample_class/submitted`` into the course's ``submitted/`` (ignored by
git), runs the nbgrader route (``tfgrade autograde``: nbgrader's own pipeline, graded in
the sandbox, into ``gradebook.db``), then ``tfgrade grade`` into ``demo_out/``, and
prints each student's total under both.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import ASSIGNMENT
from .build import course_root
from .gradebook import nbgrader_scores


def main() -> int:
    root = course_root()
    shutil.rmtree(root / "submitted", ignore_errors=True)
    shutil.copytree(root / "examples" / "sample_class" / "submitted", root / "submitted")
    students = sorted(p.name for p in (root / "submitted").iterdir())

    tfgrade = Path(sys.executable).with_name("tfgrade")
    started = time.monotonic()
    print(f"tfgrade autograde {ASSIGNMENT} ({len(students)} students, into nbgrader's gradebook) ...",
          flush=True)
    subprocess.run([str(tfgrade), "autograde", ASSIGNMENT, "--force"], cwd=root, check=True,
                   stderr=subprocess.DEVNULL)
    nbgrader_seconds = time.monotonic() - started
    by_nbgrader = nbgrader_scores(root)

    started = time.monotonic()
    print("tfgrade grade submitted --out demo_out ...", flush=True)
    subprocess.run([str(tfgrade), "grade", "submitted", "--out", "demo_out", "--force", "--quiet"],
                   cwd=root, check=True)
    tfgrade_seconds = time.monotonic() - started

    from .report import read_results
    results = {r["student_id"]: r for r in read_results(root / "demo_out")}
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
    print("Per-student feedback: demo_out/<student>/feedback.md; nbgrader's: autograded/ "
          "(then nbgrader generate_feedback).")
    return 0 if agree == len(students) else 1


if __name__ == "__main__":
    sys.exit(main())
