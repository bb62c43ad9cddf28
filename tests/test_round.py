"""An instructor's grading round (issue 11): re-runs, overrides, roster, late work, loud
failures, exit codes, terminal output and file modes. Grading itself is not the point
here, so ``grade_submission`` is replaced by a fake that scores a notebook by its bytes
and the seed; nothing here starts TensorFlow's sandbox."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from autograder.cli import common, grade as cli_grade, main as cli, parsers
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import batch, grade
from autograder.results import adjust, escape, files, grades_csv, kit, records, table as grade_table
from conftest import BIN, FULL_MARKS, ROOT, error_lines

NAMES = list(EXERCISES)


def fake_grade(path, student, seed, limits):
    """A full result whose score depends on the notebook's bytes and the seed."""
    digest = hashlib.sha256(path.read_bytes() + str(seed).encode()).digest()
    result = grade.Result(student_id=student, seed=seed)
    for i, name in enumerate(NAMES):
        points = EXERCISES[name].points
        score = points if digest[i] % 3 else round(points / 2, 2)
        result.exercises[name] = grade.ExerciseResult(name, score, points, "graded", [],
                                                      f"{name}: {score:g} / {points:g}")
    result.score = round(sum(e.score for e in result.exercises.values()), 2)
    return result


@pytest.fixture
def fake(monkeypatch):
    calls = []

    def grading(path, student, seed, limits):
        calls.append(student)
        return fake_grade(path, student, seed, limits)
    monkeypatch.setattr(batch, "grade_submission", grading)
    return calls


def submit(folder, student, extra: str = "", when: str | None = None):
    """``folder/<student>/tf_from_scratch/tf_from_scratch.ipynb`` (nbgrader's layout),
    its bytes changed by ``extra``, with nbgrader's timestamp.txt when ``when`` is given."""
    path = folder / student / "tf_from_scratch" / "tf_from_scratch.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FULL_MARKS.read_text() + extra)
    if when:
        (path.parent / "timestamp.txt").write_text(when)
    return path


def rows(out):
    with open(out / grades_csv.GRADES_FILE, newline="") as handle:
        return {r["student_id"]: r for r in csv.DictReader(handle)}


def grade_round(folder, out, **kwargs):
    kwargs.setdefault("seed", 1)
    return batch.run_round([folder], out, jobs=1, progress=False, **kwargs)


# --- 1. re-runs ---------------------------------------------------------------------------

def test_a_rerun_skips_only_current_results(fake, tmp_path):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    for student in ["ann", "ben", "cat"]:
        submit(folder, student)
    _, first = grade_round(folder, out)
    assert (first.graded, first.regraded, first.skipped) == (3, [], 0) and len(fake) == 3
    _, second = grade_round(folder, out)
    assert (second.graded, second.regraded, second.skipped) == (0, [], 3) and len(fake) == 3

    submit(folder, "ben", extra="\n")  # a resubmission: other bytes
    before = json.loads((out / "ben" / "result.json").read_text())
    _, third = grade_round(folder, out)
    assert third.regraded == [("ben", "notebook changed")] and third.skipped == 2
    after = json.loads((out / "ben" / "result.json").read_text())
    assert after["notebook_sha256"] != before["notebook_sha256"]
    assert after["notebook_sha256"] == hashlib.sha256(
        (folder / "ben" / "tf_from_scratch" / "tf_from_scratch.ipynb").read_bytes()).hexdigest()

    results, fourth = grade_round(folder, out, seed=7)  # a new seed is honoured
    assert sorted(why for _, why in fourth.regraded) == ["seed changed"] * 3
    assert {r["seed"] for r in results} == {7}
    assert all(float(rows(out)[r["student_id"]]["total"]) == r["score"] for r in results)

    _, fifth = grade_round(folder, out, seed=7, force=True)
    assert [why for _, why in fifth.regraded] == ["forced"] * 3
    lines = fifth.lines()
    assert lines[0].startswith("this run: 0 graded, 3 re-graded because changed, 0 skipped as current")
    assert lines[-1].startswith("exit 0")


def test_other_kits_grader_errors_and_incomplete_results_are_graded_again(fake, tmp_path,
                                                                           monkeypatch):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    submit(folder, "ann")
    grade_round(folder, out)
    monkeypatch.setattr(kit, "kit_fingerprint", lambda: "9.9.9+other")
    _, summary = grade_round(folder, out)
    assert summary.regraded == [("ann", "kit changed")]
    path = out / "ann" / "result.json"
    result = json.loads(path.read_text())
    path.write_text(json.dumps({**result, "status": "incomplete"}))
    assert grade_round(folder, out)[1].skipped == 1  # same limits: still current
    key = batch.fingerprint(batch.find_submissions([folder])[0], 1, batch.Limits(time_scale=3))
    assert batch.stale(json.loads(path.read_text()), key) == "time limits changed (was incomplete)"
    path.write_text(json.dumps({**result, "reason": "grader error: Boom"}))
    assert grade_round(folder, out)[1].regraded == [("ann", "the grader failed last time")]


# --- 2. overrides ---------------------------------------------------------------------------

def test_overrides_survive_reruns_and_show_auto_and_final(fake, tmp_path):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    for student in ["ann", "ben"]:
        submit(folder, student)
    results, _ = grade_round(folder, out)
    auto = {r["student_id"]: r for r in results}
    adjust.append_override(out, "ann", "loss", 4, "partial credit for the derivation")
    adjust.append_override(out, "ann", "loss", 5, "on second thought")  # the last line wins
    adjust.append_override(out, "ben", "total", 77, "academic integrity")
    with open(out / adjust.OVERRIDES_FILE, "a") as handle:  # the instructor edits by hand
        handle.write("ann,nope,3,typo\nben,predict,999,too many\n")
    written = (out / adjust.OVERRIDES_FILE).read_bytes()
    _, summary = grade_round(folder, out, force=True)
    assert (out / adjust.OVERRIDES_FILE).read_bytes() == written  # never rewritten
    assert len(summary.problems) == 2 and all("not applied" in p for p in summary.problems)
    table = rows(out)
    ann = auto["ann"]
    expected = round(ann["score"] - ann["exercises"]["loss"]["score"] + 5, 2)
    assert float(table["ann"]["loss"]) == 5 and float(table["ann"]["total"]) == pytest.approx(expected)
    assert float(table["ann"]["auto_total"]) == ann["score"]
    assert float(table["ben"]["total"]) == 77 and float(table["ben"]["auto_total"]) == auto["ben"]["score"]
    feedback = (out / "ann" / "feedback.md").read_text()
    assert "on second thought" in feedback and "| 5 / 10 |" in feedback
    assert "automatic score" in feedback
    assert json.loads((out / "ann" / "result.json").read_text())["exercises"]["loss"]["score"] \
        == ann["exercises"]["loss"]["score"]  # the automatic result is never edited


def test_tfgrade_override_appends_and_refuses_nonsense(fake, tmp_path, capsys):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    submit(folder, "ann")
    grade_round(folder, out)
    assert cli.main(["override", "ann", "predict", "3", "--out", str(out), "--comment", "see email"]) == 0
    assert float(rows(out)["ann"]["predict"]) == 3
    assert "see email" in (out / "ann" / "feedback.md").read_text()
    lines = (out / adjust.OVERRIDES_FILE).read_text().splitlines()
    assert lines[0] == ",".join(adjust.OVERRIDE_COLUMNS) and lines[1].startswith("ann,predict,3,see email,")
    for args in (["ann", "nope", "3"], ["ann", "predict", "9"], ["ann", "predict", "x"],
                 ["zed", "predict", "3"], ["ann", "total", "-1"]):
        assert cli.main(["override", *args, "--out", str(out)]) == cli.EXIT_USAGE, args
    assert len((out / adjust.OVERRIDES_FILE).read_text().splitlines()) == 2
    assert all(line.startswith("tfgrade override: error:")
               for line in capsys.readouterr().err.strip().splitlines())


# --- 3. roster and late work -------------------------------------------------------------

def test_roster_rows_for_everyone_and_unrostered_never_dropped(fake, tmp_path):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    for student in ["ann", "xavier"]:
        submit(folder, student)
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student_id,email\nAnn,ann,a@x\nZed,zed,z@x\n")
    _, summary = grade_round(folder, out, settings={"roster": adjust.read_roster(roster)})
    table = rows(out)
    assert set(table) == {"ann", "zed", "xavier"}
    assert table["zed"]["status"] == "missing" and float(table["zed"]["total"]) == 0
    assert table["xavier"]["on_roster"] == "no" and table["ann"]["on_roster"] == "yes"
    assert summary.not_on_roster == ["xavier"] and summary.missing == ["zed"]
    assert summary.statuses["missing"] == 1 and summary.exit_code == 0
    assert "No submission of yours was found" in (out / "zed" / "feedback.md").read_text()
    submit(folder, "zed")  # zed submits late: graded, and the roster is remembered
    _, summary = grade_round(folder, out)
    assert summary.regraded == [("zed", "submitted after being recorded missing")]
    assert rows(out)["zed"]["status"] == "graded" and rows(out)["xavier"]["on_roster"] == "no"


def test_roster_files_are_checked():
    with pytest.raises(adjust.AdjustError, match="twice"):
        adjust.read_roster(_write("student_id\nann\nann\n"))
    with pytest.raises(adjust.AdjustError, match="no student ids"):
        adjust.read_roster(_write("student_id\n"))
    assert adjust.read_roster(_write("ann\nben\n")) == ["ann", "ben"]  # no header: first column


def _write(text):
    import tempfile
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    handle.write(text)
    handle.close()
    return handle.name


@pytest.mark.parametrize("policy,days,expected", [
    ("none", 3, 0), ("per-day=10", 0.5, 10), ("per-day=10", 3, 30), ("per-day=10,floor=50", 9, 50),
    ("zero-after=2", 1.5, 0), ("zero-after=2", 2.5, 100), ("per-day=20,zero-after=3", 2, 40),
    ("per-day=20,zero-after=3", 3.1, 100), ("per-day=10", 0, 0)])
def test_late_policies(policy, days, expected):
    assert adjust.LatePolicy.parse(policy).penalty(100, days * adjust.DAY) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["some", "per-day=", "per-day=x", "per-day=200", "floor=-1",
                                 "zero-after=nan"])
def test_bad_late_policies_are_refused(bad):
    with pytest.raises(adjust.AdjustError):
        adjust.LatePolicy.parse(bad)


def test_late_work_from_nbgrader_timestamps(fake, tmp_path):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    submit(folder, "early", when="2026-11-30 10:00:00.000000 UTC")
    submit(folder, "late", when="2026-12-03 12:00:00.123456 UTC")  # 2 days 12 h late
    submit(folder, "unknown")  # no timestamp.txt: lateness unknown, never guessed
    results, summary = grade_round(folder, out, settings={
        "due": adjust.parse_when("2026-12-01T00:00+00:00").isoformat(),
        "late_policy": "per-day=10,floor=50"})
    table = rows(out)
    late = next(r for r in results if r["student_id"] == "late")
    assert float(table["late"]["days_late"]) == 2.5 and float(table["early"]["days_late"]) == 0
    assert table["unknown"]["days_late"] == "" and float(table["unknown"]["late_penalty"]) == 0
    assert float(table["late"]["late_penalty"]) == pytest.approx(late["score"] * 0.3, abs=0.01)
    assert float(table["late"]["total"]) == pytest.approx(late["score"] * 0.7, abs=0.01)
    assert "2 days 12 h late" in (out / "late" / "feedback.md").read_text()
    assert summary.late == 1
    # the policy is remembered: an override rebuild keeps the penalty
    assert cli.main(["override", "early", "loss", "10", "--out", str(out)]) == 0
    assert float(rows(out)["late"]["total"]) == pytest.approx(late["score"] * 0.7, abs=0.01)


def test_an_extension_moves_one_students_due_date_and_survives_regrades(fake, tmp_path, capsys):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    for student in ["ann", "ben"]:  # both 2 days 12 h late
        submit(folder, student, extra=student, when="2026-12-03 12:00:00.000000 UTC")
    results, _ = grade_round(folder, out, settings={
        "due": adjust.parse_when("2026-12-01T00:00+00:00").isoformat(), "late_policy": "per-day=10"})
    auto = {r["student_id"]: r["score"] for r in results}
    assert float(rows(out)["ann"]["late_penalty"]) == pytest.approx(auto["ann"] * 0.3, abs=0.01)

    assert cli.main(["extend", "ann", "--due", "2026-12-04 00:00 UTC", "--out", str(out),
                     "--reason", "illness"]) == 0
    assert "ann: extension to 2026-12-04 00:00 UTC (illness)" in capsys.readouterr().out
    ann, ben = rows(out)["ann"], rows(out)["ben"]
    assert float(ann["late_penalty"]) == 0 and float(ann["days_late"]) == 0
    assert float(ann["total"]) == auto["ann"]
    assert ann["adjustments"] == "extension to 2026-12-04 00:00 UTC (illness)"
    assert float(ben["late_penalty"]) > 0  # one student's extension only
    note = "xtension to 2026-12-04 00:00 UTC (illness)"  # a line of its own: "Extension to ..."
    assert escape.markdown(note) in (out / "ann" / "feedback.md").read_text()
    assert note in (out / "ann" / "feedback.html").read_text()

    # a re-grade of everyone, and a new due date for the round, keep the extension
    _, summary = grade_round(folder, out, force=True, settings={
        "due": adjust.parse_when("2026-12-02T00:00+00:00").isoformat()})
    assert float(rows(out)["ann"]["late_penalty"]) == 0 and summary.late == 1
    assert "extensions" not in json.loads((out / adjust.SETTINGS_FILE).read_text())

    # an extension that ends before the submission: late from the extension's due date
    assert cli.main(["extend", "ann", "--due", "2026-12-03T00:00+00:00", "--out", str(out)]) == 0
    assert float(rows(out)["ann"]["days_late"]) == 0.5
    assert float(rows(out)["ann"]["late_penalty"]) == pytest.approx(auto["ann"] * 0.1, abs=0.01)
    assert cli.main(["extend", "ann", "--due", "none", "--out", str(out)]) == 0  # withdrawn
    assert float(rows(out)["ann"]["days_late"]) == 1.5 and rows(out)["ann"]["adjustments"] \
        .startswith("submitted 1 day 12 h late")


def test_extensions_csv_is_appended_and_bad_lines_are_reported(fake, tmp_path, capsys):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    submit(folder, "ann", when="2026-12-03 12:00:00.000000 UTC")
    grade_round(folder, out, settings={"due": adjust.parse_when("2026-12-01T00:00+00:00").isoformat()})
    assert cli.main(["extend", "ann", "--due", "2026-12-05 23:59 UTC", "--out", str(out)]) == 0
    lines = (out / adjust.EXTENSIONS_FILE).read_text().splitlines()
    assert lines[0] == ",".join(adjust.EXTENSION_COLUMNS)
    assert lines[1].startswith("ann,2026-12-05T23:59:00+00:00,,")
    for args in (["zed", "--due", "2026-12-05"], ["ann", "--due", "friday"],
                 ["ann", "--due", "2026-11-30 12:00 UTC"], ["ann", "--due", ""]):
        assert cli.main(["extend", *args, "--out", str(out)]) == cli.EXIT_USAGE, args
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("tfgrade extend: error:") for line in errors)
    assert "before the round's due date" in errors[2]
    assert len((out / adjust.EXTENSIONS_FILE).read_text().splitlines()) == 2
    with open(out / adjust.EXTENSIONS_FILE, "a") as handle:  # the instructor edits by hand
        handle.write("ann,friday,typo\n,2026-12-06,no one\n")
    _, summary = grade_round(folder, out)
    assert summary.problems == [f"{adjust.EXTENSIONS_FILE} line 3: not a date and time: 'friday' "
                                "(use e.g. 2026-12-01 23:59 or 2026-12-01T23:59+01:00); not applied",
                                f"{adjust.EXTENSIONS_FILE} line 4: no student_id; not applied"]
    assert rows(out)["ann"]["adjustments"] == "extension to 2026-12-05 23:59 UTC"


def test_nbgrader_feedback_is_remembered_by_overrides_and_extensions(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(common, "warm_up", lambda jobs=None: None)
    folder, out, feedback = tmp_path / "submitted", tmp_path / "out", tmp_path / "feedback"
    submit(folder, "ann", when="2026-12-03 12:00:00.000000 UTC")
    assert cli.main(["grade", str(folder), "--out", str(out), "--quiet", "--due",
                     "2026-12-01 00:00 UTC", "--nbgrader-feedback", str(feedback)]) == 0
    page = feedback / "ann" / "tf_from_scratch" / "tf_from_scratch.html"
    assert "2 days 12 h late" in page.read_text() and "extension" not in page.read_text()
    assert (page.parent / "timestamp.txt").read_text() == "2026-12-03 12:00:00.000000 UTC"
    assert cli.main(["extend", "ann", "--due", "2026-12-04 00:00 UTC", "--out", str(out)]) == 0
    assert "xtension to 2026" in page.read_text() and "12 h late" not in page.read_text()
    assert cli.main(["override", "ann", "loss", "1", "--out", str(out)]) == 0
    assert "loss: changed by your instructor" in page.read_text()


def test_final_tells_the_kinds_of_change_apart(tmp_path):
    result = fake_grade(FULL_MARKS, "ann", 1, None).to_dict()
    result["submitted_at"] = "2026-12-03T12:00:00+00:00"
    due = adjust.parse_when("2026-12-01T00:00+00:00").isoformat()
    overrides = [adjust.Override("ann", "loss", 5, "see email")]
    flagged = adjust.final_grade(result, overrides, adjust.Settings(due=due))
    assert [kind for kind, _ in flagged.changes] == ["override", "late"]
    assert [text for _, text in flagged.changes] == flagged.notes
    extended = adjust.Settings(due=due, late_policy="per-day=10", extensions={
        "ann": adjust.Extension("ann", adjust.parse_when("2026-12-02T00:00+00:00").isoformat(), "flu")})
    final = adjust.final_grade(result, [*overrides, adjust.Override("ann", "total", 50)], extended)
    assert [kind for kind, _ in final.changes] == ["override", "extension", "late penalty", "override"]
    assert final.notes[1] == "extension to 2026-12-02 00:00 UTC (flu)" and final.total == 50
    assert final.due == extended.extensions["ann"].due and final.late_seconds == 1.5 * adjust.DAY


# --- 4. loud failures and exit codes -----------------------------------------------------

def tfgrade(*args, cwd=ROOT):
    started = time.monotonic()
    done = subprocess.run([str(BIN / "tfgrade"), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    return done, time.monotonic() - started


@pytest.mark.parametrize("case", ["missing path", "bad jobs", "zero jobs", "out inside input",
                                  "no submissions", "not a notebook", "unknown exercise",
                                  "bad due", "bad policy", "bad roster"])
def test_bad_input_fails_in_one_line_before_tensorflow(case, tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "bob.ipynb.txt").write_text("x")
    (loose / "carol.py").write_text("x")
    args = {"missing path": ["grade", tmp_path / "nope", "--out", tmp_path / "o"],
            "bad jobs": ["grade", loose, "--out", tmp_path / "o", "--jobs", "-1"],
            "zero jobs": ["grade", loose, "--out", tmp_path / "o", "--jobs", "0"],
            "out inside input": ["grade", tmp_path, "--out", tmp_path / "grades"],
            "no submissions": ["grade", loose, "--out", tmp_path / "o"],
            "not a notebook": ["grade", ROOT / "README.md", "--out", tmp_path / "o"],
            "unknown exercise": ["selftest", "--exercise", "nope"],
            "bad due": ["grade", FULL_MARKS, "--out", tmp_path / "o", "--due", "friday"],
            "bad policy": ["grade", FULL_MARKS, "--out", tmp_path / "o", "--late-policy", "lots"],
            "bad roster": ["grade", FULL_MARKS, "--out", tmp_path / "o", "--roster", tmp_path / "r.csv"],
            }[case]
    done, seconds = tfgrade(*args)
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr and seconds < 3  # TensorFlow alone takes 3.6 s
    assert not (tmp_path / "o").exists()
    if case == "no submissions":
        assert "2 other files ignored" in errors[0]


def test_ignored_files_are_listed_and_the_output_folder_is_no_student(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(FULL_MARKS, loose / "ann.ipynb")
    for name in ["bob.ipynb.txt", "carol.py", ".DS_Store"]:
        (loose / name).write_text("x")
    ignored = []
    found = batch.find_submissions([loose], ignored)
    assert [s.student_id for s in found] == ["ann"]
    assert sorted(os.path.basename(p) for p, _ in ignored) == ["bob.ipynb.txt", "carol.py"]


def test_the_cli_ends_with_the_summary_and_exits_3_when_some_are_ungradable(fake, tmp_path,
                                                                            monkeypatch, capsys):
    monkeypatch.setattr(common, "warm_up", lambda jobs=None: None)
    folder = tmp_path / "submitted"
    submit(folder, "ann")
    (folder / "broken" / "tf_from_scratch").mkdir(parents=True)  # no notebook: ungradable
    code = cli.main(["grade", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    shown = capsys.readouterr().out.strip().splitlines()
    assert code == batch.EXIT_NOT_ALL_GRADED == 3
    assert shown[-1].startswith("exit 3:") and any(line.startswith("class (2 rows)") for line in shown)
    header = next(line for line in shown if line.startswith("student"))
    assert all(f"{i}/{EXERCISES[n].points:g}" in header for i, n in enumerate(NAMES, 1))
    (folder / "broken").rename(tmp_path / "gone")
    os.remove(tmp_path / "out" / "broken" / "result.json")
    assert cli.main(["grade", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0


# --- 7. terminal and files ---------------------------------------------------------------------

def test_progress_is_a_line_per_student_when_stderr_is_no_terminal(fake, tmp_path, capsys):
    folder, out = tmp_path / "submitted", tmp_path / "out"
    for student in ["ann", "ben", "cat"]:
        submit(folder, student, extra=student)
    batch.run_round([folder], out, seed=1, jobs=1, progress=True)  # capsys: stderr is a pipe
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "grading 3 students" and len(lines) == 4, lines
    scores = {r["student_id"]: r["score"] for r in records.read_results(out)}
    for i, line in enumerate(lines[1:], start=1):
        student = line.split(": ")[1]
        assert line.startswith(f"graded {i}/3: {student}: {scores[student]:g} (00:0")
        assert line.endswith(" elapsed)")
    batch.run_round([folder], out, seed=1, jobs=1, progress=False)
    assert capsys.readouterr().err == ""


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        shown = batch.Progress(2, stream=stream)
        shown.update("ann: 90")
        shown.update("b\x1b[2Jen: 80")  # student text is escaped on both
        shown.close()
    assert "grading: 100%" in terminal.getvalue() and "\r" in terminal.getvalue()
    assert "graded 1/2" not in terminal.getvalue() and "\x1b[2J" not in terminal.getvalue()
    assert pipe.getvalue().count("\n") == 3 and "\r" not in pipe.getvalue()
    assert "\x1b" not in pipe.getvalue()


def test_help_is_for_users_and_lists_every_option():
    parser = parsers.parser()
    text = parser.format_help()
    assert "_grade" not in text and "``" not in text and ":func:" not in text
    usages = text.split("commands and their options")[1]
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"grade", "override", "extend", "autograde", "gradescope-bundle", "check",
                             "selftest", "serve"}
    for name, command in commands.items():
        start = usages.index(f"tfgrade {name} ")
        shown = " ".join(usages[start:].split("\n  tfgrade ")[0].split())
        for action in command._actions:
            flag = action.option_strings[0] if action.option_strings else action.metavar
            assert flag and flag in shown, (name, flag)
        assert command.description and "``" not in command.format_help()


@pytest.mark.slow  # runs the nbgrader CLI
def test_autograde_before_generate_assignment_says_what_to_run(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    submit(course / "submitted", "ann")
    done, seconds = tfgrade("autograde", "tf_from_scratch", cwd=course)
    assert done.returncode == cli.EXIT_USAGE and done.stdout == ""
    assert error_lines(done.stderr) == [
        "tfgrade autograde: error: there is no gradebook yet: run `nbgrader generate_assignment "
        "tf_from_scratch` first (from the course root), then this command again"]
    assert not (course / "gradebook.db").exists() and not (course / "autograded").exists()
    from nbgrader.api import Gradebook
    Gradebook(f"sqlite:///{course / 'gradebook.db'}").close()  # a gradebook, no assignment
    done, _ = tfgrade("autograde", "tf_from_scratch", cwd=course)
    assert done.returncode == cli.EXIT_USAGE and len(error_lines(done.stderr)) == 1
    assert "tf_from_scratch is not in the gradebook: run `nbgrader generate_assignment" in done.stderr



def test_table_reasons_are_cut_between_words():
    reason = "cell 12 (predict) was skipped: no answer within 15 s; " * 5
    result = grade.Result(student_id="ann", status="incomplete", reason=reason).to_dict()
    line = grade_table.table([result]).splitlines()[-1]
    shown = line.split("(", 1)[1]
    assert shown.endswith("…)") and len(shown) <= 72
    words = set(reason.split())
    assert all(word in words for word in shown[:-2].split()[:-1])


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_output_files_follow_the_umask(umask, mode, tmp_path):
    code = (f"import os; os.umask({umask}); from autograder.results import files; "
            f"files.write_atomic(r'{tmp_path / 'f.csv'}', 'x')")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert (tmp_path / "f.csv").stat().st_mode & 0o777 == mode


def test_the_contract_without_tensorflow_matches_the_exercises():
    from autograder import exercises
    assert list(EXERCISES) == list(exercises.EXERCISES)
    for name, entry in EXERCISES.items():
        assert (entry.signature, entry.points) == (exercises.EXERCISES[name].signature,
                                                    exercises.EXERCISES[name].points)
    assert TOTAL_POINTS == exercises.TOTAL_POINTS
    done = subprocess.run([sys.executable, "-c", "import sys, autograder.results.views, autograder.cli.main, "
                           "autograder.grading.submissions; print('tensorflow' in sys.modules)"],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"


def test_due_date_from_nbgraders_gradebook(tmp_path, monkeypatch):
    """``--due gradebook`` reads the assignment's due date from the course's gradebook.db
    (nbgrader stores it naive, in UTC), and says so in one line when it cannot."""
    import datetime

    from nbgrader.api import Gradebook

    from autograder import ASSIGNMENT
    from autograder.cli import main as cli
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cli.UsageError, match="no gradebook.db here"):
        cli_grade.due_date("gradebook")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
    with pytest.raises(cli.UsageError, match="has no due date"):
        cli_grade.due_date("gradebook")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=datetime.datetime(2026, 12, 1, 22, 59))
    due = datetime.datetime.fromisoformat(cli_grade.due_date("gradebook"))
    assert due == datetime.datetime(2026, 12, 1, 22, 59, tzinfo=datetime.timezone.utc)
