"""Helpers that tests/test_serve.py runs in processes of their own.

- ``python serve_support.py submit JSON``: students submit through nbgrader's real
  exchange code (``SubmitApp``, as ``nbgrader submit`` runs it), several in one process
  so that a burst costs one interpreter start. JSON: ``{"exchange": ..., "course_id":
  ..., "assignment": ..., "submissions": [[home, student, notebook], ...]}``; each
  notebook is copied to ``home/<assignment>/`` first; each student's cache is
  ``home/cache`` (where ``fetch_feedback`` reads the submission's secret).
- ``python serve_support.py service ARGS...``: ``tfgrade ARGS`` with one fault injected
  from here (never a switch in the product): for a student whose id starts with
  ``flaky``, the sandbox cannot start (``client.Unavailable``, the grader-side failure
  ``grade`` turns into a grader error) the first ``FAILURES`` times, counted in the file
  ``$SERVE_FAULTS``.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

FAILURES = 3


def submit(spec: dict) -> None:
    from nbgrader.apps.submitapp import SubmitApp
    assignment = spec["assignment"]
    for home, student, notebook in spec["submissions"]:
        folder = Path(home) / assignment
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, folder / f"{assignment}.ipynb")
        os.chdir(home)
        app = SubmitApp()
        app.initialize([assignment, f"--student={student}", f"--Exchange.root={spec['exchange']}",
                        f"--Exchange.cache={Path(home) / 'cache'}",
                        f"--CourseDirectory.course_id={spec['course_id']}", "--log-level=WARN"])
        app.start()


def install_faults(counter: Path) -> None:
    from autograder.grading import grade
    from autograder.sandbox import client
    local = threading.local()
    start, real_grade = client.Sandbox.start, grade._grade
    lock = threading.Lock()

    def failing_start(self, *args, **kwargs):
        if getattr(local, "fail", False):
            raise client.Unavailable("the test made the sandbox unavailable")
        return start(self, *args, **kwargs)

    def counting_grade(load_cells, student_id, *args, **kwargs):
        local.fail = False
        if student_id.startswith("flaky"):
            with lock:
                failed = int(counter.read_text()) if counter.is_file() else 0
                if failed < FAILURES:
                    counter.write_text(str(failed + 1))
                    local.fail = True
        try:
            return real_grade(load_cells, student_id, *args, **kwargs)
        finally:
            local.fail = False

    client.Sandbox.start = failing_start
    grade._grade = counting_grade


if __name__ == "__main__":
    if sys.argv[1] == "submit":
        submit(json.loads(sys.argv[2]))
    else:
        install_faults(Path(os.environ["SERVE_FAULTS"]))
        from autograder.cli.main import main
        sys.exit(main(sys.argv[2:]))
