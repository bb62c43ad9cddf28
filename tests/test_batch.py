"""`tfgrade grade` on a whole class: every student gets a row, bad submissions a reason,
re-runs skip finished students, and a killed run leaves only whole files."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time

import nbformat
import pytest

from autograder.exercises import EXERCISES
from conftest import BIN, ROOT, SUBMITTED, copy_tree, graded_parts, read, run, with_cell, write_student

EXPECTED = json.loads((SUBMITTED.parent / "expected.json").read_text())


COPIES = ["full_marks", "sum_loss", "untouched", "column_predict", "init_weights", "full_marks",
          "ascent_train"]


def build_class(folder, full_marks):
    """20 students: the 10 sample students, 7 more copies, an endless loop inside an
    exercise, an endless loop at top level, and an unreadable notebook."""
    for student in sorted(p.name for p in SUBMITTED.iterdir()):
        shutil.copytree(SUBMITTED / student, folder / student)
    for i, student in enumerate(COPIES):
        shutil.copytree(SUBMITTED / student, folder / f"copy{i}_{student}")
    looping = "def train(W, b, inputs, targets, rate, steps):\n    while True:\n        pass\n"
    write_student(folder, "loops_in_train", with_cell(full_marks, looping, replace="train"))
    write_student(folder, "loops_at_top", with_cell(full_marks, "while True:\n    pass",
                                                    after="setup_imports"))
    broken = folder / "broken" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [')
    return folder


def tfgrade(*args, **kwargs):
    return run(BIN / "tfgrade", *args, **kwargs)


def rows(out):
    with open(out / "grades.csv", newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, full_marks, graded_sample_class):
    """The class of 20 graded into a copy of the session's graded sample class
    (conftest.graded_sample_class): the 10 sample students' results are current, so this
    run skips them and grades the 10 others (the copies, both loops and the unreadable
    notebook) beside them; grades.csv, the table and the summary cover all 20."""
    folder = build_class(tmp_path_factory.mktemp("class") / "submitted", full_marks)
    out = copy_tree(graded_sample_class[1], folder.parent / "out")
    done = tfgrade("grade", folder, "--out", out, "--jobs", "2", "--quiet", "--time-scale", "0.3",
                   "--cell-seconds", "5", "--format", "gradescope", check=False)
    assert done.returncode == 3, done.stderr  # some students are ungradable or incomplete
    assert "this run: 10 graded, 0 re-graded because changed, 10 skipped as current" in done.stdout
    return folder, out, done


@pytest.mark.slow
def test_every_student_gets_a_row_with_a_reason_when_not_graded(graded_class):
    folder, out, done = graded_class
    table = rows(out)
    assert len(table) == 20
    assert table["broken"]["status"] == "ungradable" and "cannot be read" in table["broken"]["reason"]
    assert table["loops_in_train"]["status"] == "incomplete"
    assert float(table["loops_in_train"]["train"]) == 0
    assert float(table["loops_in_train"]["total"]) == 100 - EXERCISES["train"].points
    assert "no answer within" in table["loops_in_train"]["reason"]
    assert table["loops_at_top"]["status"] == "incomplete" and float(table["loops_at_top"]["total"]) == 100
    assert "full_marks" in done.stdout  # the terminal table
    assert done.stdout.splitlines()[-1].startswith("exit 3")  # the summary comes last
    assert "class (20 rows): 17 graded, 2 incomplete, 1 ungradable, 0 missing" in done.stdout


@pytest.mark.slow
def test_sample_students_lose_points_only_where_expected(graded_class):
    _, out, _ = graded_class
    table = rows(out)
    for student, losing in EXPECTED.items():
        for name, exercise in EXERCISES.items():
            score = float(table[student][name])
            if name in losing:
                assert score < exercise.points, (student, name)
            else:
                assert score == exercise.points, (student, name, score)
    # The copies, graded in this run beside the endless loops, draw the same inputs as
    # their originals (same code) and score the same: the loops cost no one else.
    for i, student in enumerate(COPIES):
        assert table[f"copy{i}_{student}"]["status"] == "graded", table[f"copy{i}_{student}"]
        assert float(table[f"copy{i}_{student}"]["total"]) == float(table[student]["total"]), student


@pytest.mark.slow
def test_result_json_and_feedback(graded_class):
    _, out, _ = graded_class
    result = json.loads((out / "sum_loss" / "result.json").read_text())
    assert set(result) >= {"student_id", "assignment", "score", "max_score", "status", "reason",
                           "seed", "exercises"}
    assert set(result["exercises"]) == set(EXERCISES)
    loss = result["exercises"]["loss"]
    assert loss["score"] < loss["max_score"] and "n times too large" in loss["feedback"]
    feedback = (out / "sum_loss" / "feedback.md").read_text()
    assert "## loss" in feedback and "Hint:" in feedback
    assert "reduce_mean" not in feedback and "BEGIN SOLUTION" not in feedback


@pytest.mark.slow
def test_gradescope_results(graded_class):
    _, out, _ = graded_class
    results = json.loads((out / "column_predict" / "results.json").read_text())
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert {t["name"].split(" ")[0] for t in results["tests"]} == set(EXERCISES)
    assert all({"name", "score", "max_score", "output", "visibility"} <= set(t) for t in results["tests"])


@pytest.mark.slow
def test_rerun_skips_graded_students_and_force_regrades(graded_class, tmp_path):
    folder, out, _ = graded_class
    # the exit code describes the class in --out, which holds an ungradable student: 3
    before = (out / "full_marks" / "result.json").stat().st_mtime_ns
    tfgrade("grade", folder / "full_marks", "--out", out, "--quiet", check=False)
    assert (out / "full_marks" / "result.json").stat().st_mtime_ns == before
    tfgrade("grade", folder / "full_marks", "--out", out, "--quiet", "--force", check=False)
    assert (out / "full_marks" / "result.json").stat().st_mtime_ns != before
    assert len(rows(out)) == 20
    done = tfgrade("grade", folder / "full_marks", "--out", out, "--quiet", "--seed", "7", check=False)
    assert json.loads((out / "full_marks" / "result.json").read_text())["seed"] == 7  # honoured
    assert "1 re-graded because changed" in done.stdout


@pytest.mark.slow
def test_seed_replays_exactly_and_is_recorded(tmp_path):
    student = SUBMITTED / "numpy_in_tape"
    first = tfgrade("grade", student, "--out", tmp_path / "a", "--seed", "77", "--quiet")
    second = tfgrade("grade", student, "--out", tmp_path / "b", "--seed", "77", "--quiet")
    a = json.loads((tmp_path / "a" / "numpy_in_tape" / "result.json").read_text())
    b = json.loads((tmp_path / "b" / "numpy_in_tape" / "result.json").read_text())
    assert a["seed"] == b["seed"] == 77 and first.returncode == second.returncode == 0
    assert graded_parts(a["exercises"]) == graded_parts(b["exercises"])


@pytest.mark.slow
def test_kill_9_leaves_only_whole_files(tmp_path, graded_sample_class):
    """A run killed with SIGKILL after two students leaves whole files only and the
    results it had no reason to touch as they were, and the next run grades the rest.
    The class: the sample class, whose results (a copy of the session's) are current, and
    five new students (copies of a full-marks, an untouched and two mistaken notebooks,
    so the batch is still running when it is killed)."""
    submitted, shared_out = graded_sample_class
    folder = copy_tree(submitted, tmp_path / "submitted")
    new = [f"s{i}_{student}" for i, student in
           enumerate(["full_marks", "untouched", "column_predict", "sum_loss", "full_marks"])]
    for name in new:
        shutil.copytree(SUBMITTED / name.split("_", 1)[1], folder / name)
    out = copy_tree(shared_out, tmp_path / "out")
    kept = {p.parent.name: p.read_bytes() for p in out.glob("*/result.json")}
    assert len(kept) == 10
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen([str(BIN / "tfgrade"), "grade", str(folder), "--out", str(out),
                                "--jobs", "2", "--quiet"],
                               cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(out.glob("*/result.json"))) < len(kept) + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = list(out.glob("*/result.json"))
    fresh = [p for p in finished if p.parent.name in new]
    assert 2 <= len(fresh) < len(new) and len(finished) == len(kept) + len(fresh)
    for path in finished:
        json.loads(path.read_text())  # whole, or it would not parse
    assert {name: (out / name / "result.json").read_bytes() for name in kept} == kept
    assert set(rows(out)) <= {p.parent.name for p in finished}
    done = tfgrade("grade", folder, "--out", out, "--jobs", "2", "--quiet", check=False)
    assert done.returncode == 0 and len(rows(out)) == len(kept) + len(new), done.stderr[-2000:]
    # what the killed run finished is current: only the rest is graded
    assert (f"this run: {len(new) - len(fresh)} graded, 0 re-graded because changed, "
            f"{len(kept) + len(fresh)} skipped as current") in done.stdout
    assert not list(out.glob("**/.*.tmp"))


def test_submissions_are_found_in_every_layout(tmp_path):
    from autograder.grading.batch import find_submissions
    notebook = SUBMITTED / "full_marks" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    (tmp_path / "loose").mkdir()
    shutil.copy(notebook, tmp_path / "loose" / "ann.ipynb")
    shutil.copy(notebook, tmp_path / "loose" / "ben.ipynb")
    (tmp_path / "empty_student").mkdir()
    found = {s.student_id: s for s in find_submissions([SUBMITTED])}
    assert set(found) == set(EXPECTED)
    assert [s.student_id for s in find_submissions([notebook])] == ["full_marks"]
    assert [s.student_id for s in find_submissions([SUBMITTED / "sum_loss"])] == ["sum_loss"]
    assert [s.student_id for s in find_submissions([tmp_path / "loose"])] == ["ann", "ben"]
    (tmp_path / "classroom").mkdir()
    shutil.move(str(tmp_path / "empty_student"), tmp_path / "classroom" / "empty_student")
    [empty] = find_submissions([tmp_path / "classroom"])
    assert empty.notebook is None and "no notebook" in empty.reason


@pytest.mark.parametrize("threads", [1, 2])
def test_one_reference_process_per_grading_thread(threads, monkeypatch):
    """The reference warmed for ``threads`` grading threads starts at most that many
    processes, even when students' calls arrive together while the first process is
    still starting (which, unbounded, starts one process per waiting call up to the
    machine's cores: memory for nothing). The machine is made to look like 8 cores, so
    an unbounded pool would start more than ``threads`` here, on any machine."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from autograder.grading.batch import warm_reference
    from autograder.grading.reference import read_reference
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    # a cell of its own gives this reference a digest of its own: a fresh pool
    cells = [*read_reference(ROOT), ("pool sizing", f"_threads = {threads}")]
    reference = warm_reference(cells, threads)
    try:
        case = EXERCISES["predict"].cases(np.random.default_rng(threads))[0]
        with ThreadPoolExecutor(6) as callers:
            list(callers.map(lambda _: reference.expected("predict", case), range(6)))
        started = len(reference._calls.pids())  # the pool that answers on the spot
        assert 1 <= started <= threads
    finally:
        reference.close()
