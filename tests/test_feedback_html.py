"""feedback.html, its figures and the class report (issue 8), from synthetic result files:
self-contained pages, student text escaped, figures only where they help, any broken
plot data drawn or explained but never a crash, pages skipped when nothing changed,
report.html rebuilt with grades.csv."""
from __future__ import annotations

import base64
import json
import math
import re

import pytest

from autograder.exercises import EXERCISES
from autograder.results import adjust, feedback as feedback_md, views
from autograder.results.html import class_report, feedback as feedback_html, plots

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
GOES_UP = "The loss goes up: this is gradient ascent."


def exercise(name, score=None, status="graded", details=(), hint="", **extra):
    top = EXERCISES[name].points
    score = top if score is None else score
    checks = [{"label": f"{name} on a case", "passed": False, "detail": d, "hint": hint, "weight": 1}
              for d in details]
    lines = [f"{name}: {score:g} / {top:g}"]
    for i, c in enumerate(checks):
        lines.append(f"  ✗ {c['label']}: {c['detail']}")
        if hint and i == 0:
            lines.append(f"    Hint: {hint}")
    return {"score": score, "max_score": top, "status": status, "feedback": "\n".join(lines),
            "checks": checks, **extra}


def result(student="ann", status="graded", reason="", seconds=1.0, **exercises):
    full = {n: exercise(n) for n in EXERCISES}
    full.update(exercises)
    return {"student_id": student, "assignment": "tf_from_scratch", "status": status,
            "reason": reason, "seed": 20211, "max_score": 100, "seconds": seconds,
            "score": round(sum(e["score"] for e in full.values()), 2),
            "exercises": full if status not in ("ungradable", "missing") else {}}


def curves(student=None, reference=None):
    reference = reference or [0.8 * 0.99 ** i for i in range(60)]
    return [{"label": "losses on the blobs", "student": student or [0.8 * 1.01 ** i for i in range(60)],
             "reference": reference}]


def boundary(student=None):
    inputs = [[1 + 0.1 * (i % 7), 1 - 0.1 * (i % 5)] for i in range(20)] + \
             [[-1 - 0.1 * (i % 5), -1 + 0.1 * (i % 3)] for i in range(20)]
    return {"label": "trained on the blobs", "inputs": inputs, "targets": [0] * 20 + [1] * 20,
            "student": {"W": [0.5, -1.0], "b": 0.2} if student is None else student,
            "reference": {"W": [-1.0, -1.0], "b": 0.0}}


def failing_train(**extra):
    return exercise("train", 2, details=["losses: expected 0.7, got 0.9"], hint=GOES_UP,
                    curves=curves(), boundary=boundary(), **extra)


def html_of(r, mode="full", overrides=()):
    final = adjust.final_grade(r, list(overrides), adjust.Settings(feedback=mode))
    return feedback_html.page(feedback_md.feedback_context(r, final, mode, width=None), mode,
                              feedback_html.digest(r, final, mode))


def images(html):
    return re.findall(r'<img src="([^"]*)" alt="([^"]*)"', html)


# --- the page ---------------------------------------------------------------------------

def test_the_page_is_self_contained_and_every_image_is_an_embedded_png():
    html = html_of(result(train=failing_train()))
    assert html.startswith("<!DOCTYPE html>")
    assert "default-src 'none'; img-src data:" in html  # nothing else may load
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html)
    assert not re.search(r"(src|href)=\"(https?:|//)", html) and "url(" not in html
    found = images(html)
    assert len(found) == 2  # the score bars, and train's curves and boundary
    for uri, alt in found:
        assert uri.startswith("data:image/png;base64,") and alt
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_student_text_stays_text():
    r = result(student="x<b>y</b>", status="incomplete", reason=HOSTILE,
               loss=exercise("loss", 0, details=[HOSTILE + "\x1b[31m"], hint=HOSTILE))
    html = html_of(r)
    assert "<img src=x" not in html and "<script>" not in html and "<b>y</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "x&lt;b&gt;y&lt;/b&gt;" in html
    assert "\x1b" not in html and "\\x1b[31m" in html


def test_checks_and_hints_are_shown_per_exercise_with_an_anchor_from_the_table():
    html = html_of(result(train=failing_train()))
    assert '<section id="train">' in html and 'href="#train"' in html
    assert "losses: expected 0.7, got 0.9" in html
    assert f'<div class="hint">{GOES_UP}</div>' in html
    assert html.count('<li class="fail">') == 1


def test_figures_only_where_they_help():
    passing = exercise("train", curves=curves(), boundary=boundary())
    assert len(images(html_of(result(train=passing)))) == 1  # score bars only
    assert len(images(html_of(result(train=failing_train())))) == 2
    no_data = exercise("train", 2, details=["x"])
    assert len(images(html_of(result(train=no_data)))) == 1
    for status, reason in (("ungradable", "no notebook in tf_from_scratch"), ("missing", "no submission found")):
        assert images(html_of(result(status=status, reason=reason))) == []


def test_brief_feedback_draws_no_reference():
    r = result(train=failing_train())
    full, brief = html_of(r), html_of(r, "brief")
    assert "the reference" in images(full)[1][1] and "reference" not in images(brief)[1][1]
    assert "expected 0.7" in full and "expected 0.7" not in brief
    figure = plots._figure(4, 3)
    for show, lines in ((True, 2), (False, 1)):
        ax = figure.add_subplot()
        plots.draw_curve(ax, curves()[0], show)
        assert len(ax.get_lines()) == lines
        ax.remove()


BROKEN = [
    {"curves": "nonsense"},
    {"curves": [{"student": None, "reference": None}]},
    {"curves": [{"student": [math.nan, math.inf, "x", None, True], "reference": [1, 2, 3]}]},
    {"curves": [{"student": [1e300] * 3 + [-1e300], "reference": [0.7] * 4}], "boundary": "x"},
    {"curves": [{"student": list(range(100_000)), "reference": []}]},
    {"curves": [7, {"label": None}]},
    {"boundary": {"inputs": "x", "targets": None, "student": None, "reference": None}},
    {"boundary": {**boundary(), "student": {"W": [math.nan, 1], "b": 0}}},
    {"boundary": {**boundary(), "student": {"W": [0, 0], "b": 1}}},
    {"boundary": {**boundary(), "student": {"W": [[1.0], [2.0]], "b": [0.5]}}},
    {"boundary": {**boundary(), "student": {"W": [1, 2, 3], "b": "b"}}},
    {"boundary": {**boundary(), "student": {"W": [1e-30, 1], "b": 1e30}}},
    {"boundary": {**boundary(), "inputs": [[math.nan, 1], [1], "ab", [2, 3]], "targets": [0, 1]}},
]


@pytest.mark.parametrize("data", BROKEN, ids=range(len(BROKEN)))
def test_broken_plot_data_never_costs_the_page(data):
    html = html_of(result(train=exercise("train", 1, details=["broken"], **data)))
    assert "</html>" in html and "broken" in html
    for uri, _ in images(html):
        assert base64.b64decode(uri.split(",", 1)[1])[:4] == b"\x89PNG"


def test_a_non_finite_loss_is_marked_where_it_starts():
    assert plots.first_bad_step(plots.series([0.7, 0.6, "x", math.nan])) == 3
    figure = plots._figure(4, 3)
    ax = figure.add_subplot()
    plots.draw_curve(ax, {"student": [0.7, 0.6, math.inf], "reference": [0.7, 0.6, 0.5]}, True)
    texts = [t.get_text() for t in ax.texts]
    assert any("from step 3" in t for t in texts)


def test_boundary_geometry():
    assert plots.linear_model({"W": [[1.0], [2.0]], "b": [0.5]}) == (1.0, 2.0, 0.5)
    assert plots.linear_model({"W": [0, 0], "b": 1}) is None
    assert plots.linear_model({"W": [math.inf, 1], "b": 0}) is None
    assert plots.linear_model({"W": [True, 1], "b": 0}) is None
    (xa, ya), (xb, yb) = plots.boundary_segment((1.0, 1.0, 0.0), (-1, 1, -1, 1))
    assert (xa, ya, xb, yb) == (-1, 1, 1, -1)
    (xa, ya), (xb, yb) = plots.boundary_segment((1.0, 0.0, -0.5), (-1, 1, -1, 1))  # x1 = 0.5
    assert xa == xb == 0.5 and {ya, yb} == {-1, 1}
    assert plots.boundary_segment((1.0, 0.0, -5.0), (-1, 1, -1, 1)) is None  # outside the view


def test_a_page_is_rewritten_only_when_what_it_shows_changed(tmp_path, monkeypatch):
    r = result(train=failing_train())
    views.write_views(tmp_path, r)
    page = tmp_path / "ann" / "feedback.html"
    first = page.read_text()
    drawn = []
    monkeypatch.setattr(feedback_html, "page", lambda *a: drawn.append(a) or first)
    views.write_views(tmp_path, r)
    assert drawn == []  # same result, same grade: not redrawn
    overrides = [adjust.Override("ann", "train", 9.0, "fine", "")]
    views.write_views(tmp_path, r, final=adjust.final_grade(r, overrides, adjust.Settings()))
    assert len(drawn) == 1
    views.write_views(tmp_path, r, mode="brief")
    assert len(drawn) == 2


def test_the_summary_figure_is_drawn_once_for_equal_scores():
    plots.score_bars_png.cache_clear()
    html_of(result("a"))
    html_of(result("b"))
    assert plots.score_bars_png.cache_info().misses == 1


# --- the class report ---------------------------------------------------------------------

STUB = "it raised NotImplementedError (in cell 13 (predict), line 8)"


def a_class():
    return [
        result("ann", train=failing_train(), seconds=0.5),
        result("bob", train=exercise("train", 4, details=["d"], hint=GOES_UP), seconds=2.5,
               loss=exercise("loss", 5, details=["d"], hint="The value is n times too large.")),
        result("cy d#?", status="incomplete", reason="cell 13 (predict) was skipped: no answer within 15 s",
               predict=exercise("predict", 0, "missing", [STUB], hint="stub hint"), seconds=16),
        result("dee", status="ungradable", reason="several notebooks (a.ipynb, b.ipynb)", seconds=0.01),
        result("eve", status="missing", reason="no submission found", seconds=0),
        result("fay", predict=exercise("predict", 0, "error", [STUB], hint="stub hint"), seconds=1.5),
    ]


def test_mistakes_are_counted_per_hint_and_link_to_each_students_feedback():
    rows = class_report.mistakes(a_class())
    assert [(r["exercise"], r["hint"], r["students"]) for r in rows] == [
        ("train", GOES_UP, ["ann", "bob"]), ("loss", "The value is n times too large.", ["bob"])]
    html = class_report.page(a_class())
    assert 'href="ann/feedback.html#train"' in html and 'href="bob/feedback.html#loss"' in html
    assert "stub hint" not in html  # not attempted is counted per exercise, not as a mistake


def test_exercise_means_full_marks_and_not_attempted():
    rows = {r["name"]: r for r in class_report.exercise_rows(
        a_class(), {r["student_id"]: adjust.final_grade(r, [], adjust.Settings()) for r in a_class()})}
    assert rows["train"]["students"] == 4  # graded and incomplete only
    assert rows["train"]["mean"] == pytest.approx((2 + 4 + 10 + 10) / 4)
    assert rows["train"]["full_rate"] == pytest.approx(0.5)
    assert rows["predict"]["not_attempted"] == 2 and rows["accuracy"]["full_rate"] == 1


def test_students_who_need_a_look_and_grading_time():
    html = class_report.page(a_class())
    look = html.split("<h2>Needs a look</h2>")[1].split("<h2>")[0]
    assert "cy d#?" in look and 'href="cy%20d%23%3F/feedback.html"' in look
    assert "no answer within 15 s" in look and "several notebooks" in look and "ann" not in look
    assert "Missing (on the roster, nothing submitted)" in html and "eve/feedback.html" in html
    timing = class_report.timing(a_class())
    assert timing["count"] == 5 and timing["max"] == 16 and timing["slowest"][0] == (16, "cy d#?")
    assert timing["median"] == 1.5
    assert len(images(html)) == 2  # score and time histograms


def test_the_report_escapes_student_ids_and_reasons():
    html = class_report.page([result(HOSTILE, status="incomplete", reason=HOSTILE,
                                     train=exercise("train", 1, details=["d"], hint=GOES_UP))])
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;script&gt;" in html


def test_report_html_is_rebuilt_with_grades_csv(tmp_path):
    for r in a_class():
        views.write_result(tmp_path, r)
    views.rebuild(tmp_path)
    before = (tmp_path / "report.html").read_text()
    assert "Mean 91.2" in before  # ann 92, bob 89, cy 92 and fay 92; dee, eve not counted
    assert all((tmp_path / s / "feedback.html").is_file() for s in ("ann", "bob", "eve"))
    adjust.append_override(tmp_path, "ann", "total", "0", "integrity")
    views.rebuild(tmp_path)
    after = (tmp_path / "report.html").read_text()
    assert after != before and "1 student with an override" in after


def test_a_report_that_cannot_be_drawn_does_not_cost_grades_csv(tmp_path, monkeypatch, caplog):
    views.write_result(tmp_path, result())

    def broken(*args):
        raise RuntimeError("no fonts")
    monkeypatch.setattr(class_report, "page", broken)
    views.rebuild(tmp_path)
    assert (tmp_path / "grades.csv").is_file() and "cannot rebuild report.html" in caplog.text


UNREADABLE = ("the notebook cannot be read: NotJSONError: Notebook does not appear to be JSON: "
              "'{\\n \"cells\": [\\n  {\\n   \"cell_type\": \"markdown\",\\n   \"id\": \"a1b2\"...")


def test_a_reason_quoting_the_file_is_said_in_plain_words_with_the_excerpt_folded():
    assert class_report.readable(UNREADABLE) == (
        "the notebook cannot be read: the file is not JSON, so not a notebook",
        UNREADABLE.split("read: ", 1)[1])
    plain = "cell 13 (predict) was skipped: no answer within 15 s"
    assert class_report.readable(plain) == (plain, "")
    html = class_report.page([result("gil", status="ungradable", reason=UNREADABLE)])
    look = html.split("<h2>Needs a look</h2>")[1].split("<h2>")[0]
    summary, excerpt = look.split("<details>")
    assert "not JSON, so not a notebook" in summary and "cells" not in summary
    assert "&#34;cells&#34;" in excerpt or "&quot;cells&quot;" in excerpt


def test_the_bars_have_a_legend_with_every_colour_they_use():
    html = class_report.page(a_class())
    legend = html.split('<p class="legend">')[1].split("</p>")[0]
    for low, colour, words in class_report.BANDS:
        assert colour in legend and words in legend
    assert {class_report.band_colour(s) for s in (1.0, 0.9, 0.6, 0.5, 0.2, 0.0)} == {
        colour for _, colour, _ in class_report.BANDS}


def test_instructor_changes_are_counted_by_kind():
    students = [{**result(s), "submitted_at": "2026-12-03T10:00:00+00:00"} for s in ("ann", "bob", "cy")]
    settings = adjust.Settings(due="2026-12-01T23:59:00+00:00", late_policy="per-day=10")
    overrides = [adjust.Override("ann", "train", 9, ""), adjust.Override("ann", "loss", 9, ""),
                 adjust.Override("bob", "total", 100, "")]
    data = class_report.context(students, overrides, settings)
    # ann: two exercise overrides and a penalty; bob: a total override voids his penalty; cy: penalty
    assert data["changes"] == [("override", 2), ("late penalty", 2), ("late submission without penalty", 1)]
    html = class_report.page(students, overrides, settings)
    assert "2 students with an override, 2 students with a late penalty" in html
    assert "with an instructor's change" not in html  # a late penalty is not one
