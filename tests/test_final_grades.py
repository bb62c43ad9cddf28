"""Every number shown for a student is the same final grade (issue 21, item 2).

One round through the real ``tfgrade grade`` command (grading itself faked, as in
test_round.py): an on-time student with an exercise override, a late student under a
per-day policy, a late student whose total was overridden (no penalty then applies),
and a rostered student with nothing submitted. The terminal table, grades.csv,
canvas.csv, Gradescope's results.json, each feedback.md and feedback.html, and
report.html's class mean must all agree.
"""
from __future__ import annotations

import csv
import html
import json
import re
import statistics

import pytest

from autograder.cli import common, main as cli
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.grading import batch
from autograder.results import adjust
from test_round import fake_grade, submit

DUE = "2026-12-01T23:59+00:00"
ON_TIME, A_DAY_LATE = "2026-12-01 20:00:00.000000 UTC", "2026-12-02 10:00:00.000000 UTC"


@pytest.fixture
def round_out(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch, "grade_submission", fake_grade)
    monkeypatch.setattr(common, "warm_up", lambda jobs=None: None)
    folder, out = tmp_path / "submitted", tmp_path / "out"
    submit(folder, "ann", when=ON_TIME)
    submit(folder, "ben", "\n", when=A_DAY_LATE)
    submit(folder, "cid", "\n\n", when=A_DAY_LATE)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\nben\ncid\ndan\n")
    grade = ["grade", str(folder), "--out", str(out), "--quiet", "--roster", str(roster),
             "--due", DUE, "--late-policy", "per-day=20", "--format", "canvas",
             "--format", "gradescope"]
    assert cli.main(grade) == 0
    assert cli.main(["override", "ann", "loss", "8", "--out", str(out), "--comment", "see the derivation"]) == 0
    assert cli.main(["override", "cid", "total", "95", "--out", str(out), "--comment", "illness"]) == 0
    capsys.readouterr()
    assert cli.main(grade) == 0  # a re-run: everyone is current, the table is printed again
    return out, capsys.readouterr().out


def terminal_totals(printed: str) -> dict:
    """{student: (exercise cells, auto, late, total)} from the table tfgrade printed."""
    rows = {}
    for line in printed.splitlines():
        cells = line.split()
        if cells and cells[0] in ("ann", "ben", "cid", "dan"):
            n = len(EXERCISES)
            rows[cells[0]] = (cells[1:1 + n], *cells[1 + n:4 + n])
    return rows


def test_every_view_shows_the_same_final_grade(round_out):
    out, printed = round_out
    with open(out / "grades.csv", newline="") as handle:
        sheet = {r["student_id"]: r for r in csv.DictReader(handle)}
    overrides, _ = adjust.read_overrides(out)
    results = {s: json.loads((out / s / "result.json").read_text()) for s in sheet}
    finals = {s: adjust.final_grade(r, overrides, adjust.Settings.load(out)) for s, r in results.items()}

    # the round is what the docstring says: an override, a penalty, a replaced penalty
    assert finals["ann"].exercises["loss"] == 8 and finals["ann"].penalty == 0
    assert finals["ben"].penalty > 0 and finals["ben"].total < finals["ben"].auto_total
    assert finals["cid"].total == 95 and finals["cid"].penalty == 0

    table = terminal_totals(printed)
    canvas = {row[3]: row[-1] for row in list(csv.reader((out / "canvas.csv").open()))[1:]}
    for student in ("ann", "ben", "cid"):
        final = finals[student]
        total = f"{final.total:g}"
        numbers = lambda *cells: [float(c) for c in cells]  # noqa: E731
        assert numbers(sheet[student]["auto_total"], sheet[student]["late_penalty"],
                       sheet[student]["total"]) == [final.auto_total, final.penalty, final.total]
        assert numbers(*(sheet[student][n] for n in EXERCISES)) == list(final.exercises.values())
        cells, auto, late, shown_total = table[student]
        assert numbers(auto, late, shown_total) == [final.auto_total, final.penalty, final.total]
        assert numbers(*cells) == list(final.exercises.values())
        assert float(canvas[student]) == final.total
        gradescope = json.loads((out / student / "results.json").read_text())
        assert gradescope["score"] == final.total
        assert {t["name"].split()[0]: t["score"] for t in gradescope["tests"]} == final.exercises
        markdown = (out / student / "feedback.md").read_text()
        assert f"**Score: {total} / {TOTAL_POINTS:g}**" in markdown
        page = html.unescape((out / student / "feedback.html").read_text())
        assert f"Score: {total} / {TOTAL_POINTS:g}" in page
    assert canvas["dan"] == "" and sheet["dan"]["status"] == "missing"

    # a total override replaces the penalty: cid's feedback no longer shows it as applied
    for text in ((out / "cid" / "feedback.md").read_text(), (out / "cid" / "feedback.html").read_text()):
        assert not re.search(r"\d points taken off", text) and "no points taken off" in text
    # ann's loss heading shows the final 8, not the automatic score
    loss_points = EXERCISES["loss"].points
    assert f"loss: 8 / {loss_points:g}" in (out / "ann" / "feedback.md").read_text()

    report_page = (out / "report.html").read_text()
    mean = statistics.fmean(finals[s].total for s in ("ann", "ben", "cid"))
    assert re.search(rf"Mean {mean:.1f}\b", report_page)
