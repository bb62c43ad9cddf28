"""canvas.csv for Canvas's gradebook import (issue 8, item 4): Canvas's five identity
columns then the assignment, students matched through the roster, and every student
tfkit graded but the roster does not know listed, never dropped."""
from __future__ import annotations

import csv
import io
import re

import pytest

from autograder import GRADER_ERROR
from autograder.cli import main as cli
from autograder.exercises import EXERCISES
from autograder.results import adjust, files, records, views
from autograder.results.exports import canvas

CANVAS_EXPORT = (
    "Student,ID,SIS User ID,SIS Login ID,Section,tf_from_scratch (4242),Other (7)\n"
    "    Points Possible,,,,,100,10\n"
    "\"Lovelace, Ada\",1001,u-1,ada,Sec 1,,5\n"
    "\"Turing, Alan\",1002,u-2,alan,Sec 2,,\n"
    "\"=HYPERLINK(1)\",1003,u-3,grace,Sec 1,,\n"
    "Test Student,1004,,,Sec 1,,\n")


def result(student, score=90.0, status="graded"):
    exercises = {n: {"score": e.points, "max_score": e.points, "status": "graded", "feedback": "",
                     "checks": []} for n, e in EXERCISES.items()}
    first = next(iter(exercises))
    exercises[first]["score"] -= 100 - score
    return {"student_id": student, "assignment": "tf_from_scratch", "status": status, "reason": "",
            "seed": 1, "max_score": 100, "score": score,
            "exercises": exercises if status != "missing" else {}}


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_a_canvas_export_as_roster(tmp_path):
    roster = tmp_path / "export.csv"
    roster.write_text(CANVAS_EXPORT)
    results = [result("ada", 95.5), result("1002", 80), result("grace", 70), result("zed", 60)]
    sheet, rest, unmatched = canvas.sheets(results, roster)
    table = rows(sheet)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                        "tf_from_scratch (4242)"]  # the export's own column: Canvas updates it
    assert "Points Possible" not in sheet
    by_login = {row[3]: row for row in table[1:]}
    assert by_login["ada"] == ["Lovelace, Ada", "1001", "u-1", "ada", "Sec 1", "95.5"]
    assert by_login["alan"][-1] == "80"  # matched on Canvas's ID
    assert by_login["grace"][0] == "'=HYPERLINK(1)" and by_login["grace"][-1] == "70"
    assert by_login[""][0] == "Test Student" and by_login[""][-1] == ""  # no result: left as is
    assert unmatched == ["zed"] and rows(rest)[1][:3] == ["zed", "60", "graded"]


def test_a_plain_roster_gives_ids_as_sis_login_ids_and_overrides_count(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,section\nann,A\nbob,B\ncid,A\n")
    overrides = [adjust.Override("bob", "total", 42.0, "late deal")]
    sheet, _, unmatched = canvas.sheets([result("ann"), result("bob"), result("cid", 0, "missing")],
                                        roster, overrides)
    assert rows(sheet) == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "tf_from_scratch"],
                           ["ann", "", "", "ann", "A", "90"], ["bob", "", "", "bob", "B", "42"],
                           ["cid", "", "", "cid", "A", ""]]  # missing: no score, not a 0
    assert unmatched == []


def test_no_silent_zeros_for_students_without_a_grade(tmp_path):
    """Issue 21, item 3: missing, ungradable and grader-error rows get an empty cell
    (Canvas leaves it ungraded), and the run names them; --missing-as-zero gives the
    first two 0, never a grader error; an instructor's override is a grade."""
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\nbob\ncid\ndan\neve\n")
    results = [result("ann"), result("bob", 0, "missing"), result("cid", 0, "ungradable"),
               result("dan", 0, GRADER_ERROR), result("eve", 0, "missing")]
    overrides = [adjust.Override("eve", "total", 50.0, "handed in on paper")]
    scores = lambda settings: {row[3]: row[-1] for row in rows(  # noqa: E731
        canvas.sheets(results, roster, overrides, settings)[0])[1:]}
    assert scores(adjust.Settings()) == {"ann": "90", "bob": "", "cid": "", "dan": "", "eve": "50"}
    assert scores(adjust.Settings(missing_as_zero=True)) == {"ann": "90", "bob": "0", "cid": "0",
                                                             "dan": "", "eve": "50"}
    out = tmp_path / "out"
    for r in results:
        records.write_bare_result(out, r)
    (out / adjust.SETTINGS_FILE).write_text(adjust.Settings(roster_file=str(roster)).to_json())
    adjust.append_override(out, "eve", "total", 50, "handed in on paper")
    lines = canvas.write_canvas(out)
    assert len(lines) == 1, lines
    named = set(re.findall(r"\b(ann|bob|cid|dan|eve)\b", lines[0]))
    assert named == {"bob", "cid", "dan"} and "--missing-as-zero" in lines[0]


def test_every_canvas_row_carries_an_id_canvas_can_match(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,Student\nann,Ann Lee\nbob,Bob Ray\n")  # names, no Canvas id
    table = rows(canvas.sheets([result("ann"), result("bob", 70)], roster)[0])
    assert table[1] == ["Ann Lee", "", "", "ann", "", "90"]
    assert table[2] == ["Bob Ray", "", "", "bob", "", "70"]
    roster.write_text("Student,ID,SIS Login ID\nAnn Lee,11,ann\nNobody,,\n")
    with pytest.raises(canvas.CanvasError, match="row 3 .*no id Canvas can match"):
        canvas.sheets([result("ann")], roster)


def test_grading_with_format_canvas_writes_and_rebuilds_both_files(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\n")
    out = tmp_path / "out"
    for r in (result("ann", 90), result("guest", 75)):
        views.write_result(out, r)
    settings = adjust.Settings(roster=["ann"], roster_file=str(roster))
    files.write_atomic(out / adjust.SETTINGS_FILE, settings.to_json())
    lines = views.rebuild(out, ("tfkit", "canvas"))
    assert rows((out / canvas.CANVAS_FILE).read_text())[1][-1] == "90"
    assert rows((out / canvas.UNMATCHED_FILE).read_text())[1][:2] == ["guest", "75"]
    assert any("not in the Canvas roster" in line and "guest" in line for line in lines)
    adjust.append_override(out, "ann", "total", "50", "resubmission")
    roster.write_text("student_id\nann\nguest\n")
    assert views.rebuild(out) == []  # canvas.csv exists: rebuilt without --format canvas
    assert [r[-1] for r in rows((out / canvas.CANVAS_FILE).read_text())[1:]] == ["50", "75"]
    assert not (out / canvas.UNMATCHED_FILE).exists()


def test_format_canvas_without_a_roster_stops_before_grading(tmp_path, capsys):
    notebook = tmp_path / "ann.ipynb"
    notebook.write_text("{}")
    code = cli.main(["grade", str(notebook), "--out", str(tmp_path / "out"), "--format", "canvas"])
    assert code == cli.EXIT_USAGE and "--format canvas needs --roster" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nAnn,a@x\n")
    code = cli.main(["grade", str(notebook), "--out", str(tmp_path / "out"), "--format", "canvas",
                     "--roster", str(bad)])
    assert code == cli.EXIT_USAGE and "no column to match students on" in capsys.readouterr().err
