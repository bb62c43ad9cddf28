"""The README's walk-through ("Try a round with the sample class"), run as written.

Its shell blocks are read from README.md itself, so a command changed there is the
command run here: the first block (the try-out course, with ``TRY`` pointed at a
temporary folder instead of /tmp/tfkit-try) from the repository root, then each command
of the second in the course folder. Only three students of the sample class are kept,
so the class is graded twice in about two minutes, not five; the others, still on the
roster, are recorded missing. The figures the README quotes for those three are checked
here. Nothing touches the repository's own submitted/ or gradebook.db.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess

import pytest
from nbgrader.api import Gradebook

from conftest import ASSIGNMENT, ROOT, error_lines


SECTION = "## Try a round with the sample class\n"
KEPT = ["column_predict", "full_marks", "sum_loss"]  # the README's override and extension, and 100


def blocks() -> list:
    """The section's ``sh`` blocks, each as its commands (continued lines joined)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, "the README has no walk-through section"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", body, re.S | re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        found.append([line.strip() for line in joined.splitlines() if line.strip()])
    return found


def shell(command: str, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-ec", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def rows(course) -> dict:
    with open(course / "grades" / "grades.csv", newline="") as handle:
        return {r["student_id"]: r for r in csv.DictReader(handle)}


def repository_state() -> dict:
    """What the walk-through must leave alone in the repository: its gradebook and the
    nbgrader folders, with their modification times."""
    paths = [ROOT / "gradebook.db", *(ROOT / name for name in
                                      ("submitted", "autograded", "feedback", "release"))]
    return {p.name: p.stat().st_mtime_ns if p.exists() else None for p in paths}


def test_every_tfgrade_command_of_the_walk_through_parses():
    """Fast: each ``tfgrade`` line of the section is a command tfgrade's parser takes (a
    renamed command or option fails here in seconds, before the slow run below)."""
    import shlex

    from autograder.cli.parsers import parser
    commands = [line for block in blocks() for line in block if line.startswith("tfgrade ")]
    assert len(commands) >= 3, commands
    for line in commands:
        words = [w for w in shlex.split(line.split("|")[0].split("&&")[0]) if not w.startswith("$")]
        parser().parse_args(words[1:])


@pytest.mark.slow
def test_the_readme_walk_through_runs_as_written(tmp_path):
    setup, round_ = blocks()
    before = repository_state()
    course = tmp_path / "try"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    exports = [line for line in setup if line.startswith("export TRY=")]
    assert len(exports) == 1, setup
    script = "\n".join(f"export TRY={course}" if line in exports else line for line in setup)
    done = shell(script, ROOT, env)
    assert done.returncode == 0, done.stderr
    env["TRY"] = str(course)
    for student in (course / "submitted").iterdir():
        if student.name not in KEPT:
            shutil.rmtree(student)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == KEPT

    autograde = next(c for c in round_ if c.startswith("tfgrade autograde"))
    early = shell(autograde, course, env)  # before generate_assignment: one line, what to run
    assert early.returncode == 2 and error_lines(early.stderr) == [
        "tfgrade autograde: error: there is no gradebook yet: run `nbgrader generate_assignment "
        "tf_from_scratch` first (from the course root), then this command again"]

    for command in round_:
        done = shell(command, course, env)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if command.startswith("tfgrade grade"):
            graded = rows(course)
            assert (graded["sum_loss"]["auto_total"], graded["sum_loss"]["late_penalty"],
                    graded["sum_loss"]["total"]) == ("90.0", "18.0", "72.0")
            assert graded["no_show"]["status"] == "missing"
            assert "graded 3/3: " in done.stderr  # progress on a pipe: a line per student
            assert "1 late" in done.stdout

    final = rows(course)
    assert float(final["full_marks"]["total"]) == 100
    assert (final["column_predict"]["predict"], final["column_predict"]["total"]) == ("7.0", "99.0")
    assert (final["sum_loss"]["late_penalty"], final["sum_loss"]["total"]) == ("0.0", "90.0")
    assert final["sum_loss"]["adjustments"] == "extension to 2026-12-04 23:59 UTC (medical note)"

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:  # tfgrade autograde
        assert {s: gradebook.find_submission(ASSIGNMENT, s).score for s in KEPT} == {
            "column_predict": pytest.approx(97.33, abs=0.01), "full_marks": 100,
            "sum_loss": 90}

    with open(course / "grades" / "canvas.csv", newline="") as handle:
        canvas = {r["SIS Login ID"]: r[ASSIGNMENT] for r in csv.DictReader(handle)}
    assert (canvas["column_predict"], canvas["sum_loss"], canvas["full_marks"]) == ("99", "90", "100")
    assert json.loads((course / "grades" / "sum_loss" / "results.json").read_text())["score"] == 90

    released = sorted((course / "exchange" / "sample" / "feedback").glob("*.html"))
    assert len(released) == len(KEPT)
    pages = [page.read_text(encoding="utf-8") for page in released]
    assert sum("xtension to 2026-12-04 23:59 UTC (medical note)" in page for page in pages) == 1
    assert sum("right idea; the transpose is a slip" in page for page in pages) == 1
    assert repository_state() == before
