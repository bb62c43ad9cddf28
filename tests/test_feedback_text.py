"""Feedback a student can act on (issue 21, items 5 and 2), from synthetic results:

- one explanation per mistake: the first failing case in full, then "N more cases
  fail the same way" (listed, folded, in feedback.html);
- the final grade as steps (automatic score, each change, final score), headings with
  the final per-exercise score, and a late penalty that a total override made void
  shown as void;
- Markdown that renders literally, with no backslash left, in Python-Markdown, in
  mistune (plain, and the kit's own for nbgrader's feedback page), in Jupyter's
  nbconvert (mistune with its math plugin) and in markdown-it (CommonMark, which
  JupyterLab's renderer follows), and Gradescope text without runs of spaces.
"""
from __future__ import annotations

import html as html_module
import re

import markdown as python_markdown
import mistune
from markdown_it import MarkdownIt
from nbconvert.filters.markdown_mistune import markdown2html_mistune
import pytest
from hypothesis import given, settings, strategies as st

from autograder.checking.compare import Check
from autograder.checking.judge import ExerciseResult, render_feedback
from autograder.exercises import EXERCISES, cases_for
from autograder.exercises.support.variants import variant
from autograder.results import adjust, breakdown, escape, feedback as feedback_md, folding
from autograder.results.exports import gradescope as gradescope_json, nbgrader_feedback

from test_feedback_html import html_of, result

ASCENT = "The loss goes up: the update moved the parameters with the gradient."
SUM = "The value is n times too large."


def call_labels(name: str, seed: int = 20211) -> list:
    """Every call's label for ``name``'s cases, as the grader judges them."""
    return [variant(case, arg)["label"] for case in cases_for(EXERCISES[name], seed)
            for arg in case.get("order", [""])]


def graded(name: str, checks: list) -> dict:
    """An exercise entry of result.json from ``checks``, with the grader's own text."""
    top = EXERCISES[name].points
    done = ExerciseResult(name, 0.0, top, "graded", checks)
    done.feedback = render_feedback(done)
    return done.to_dict()


def sign_error_in_train() -> dict:
    """One mistake, every case: losses, W and b wrong, the hint on the losses."""
    checks = []
    for where in call_labels("train"):
        checks += [Check(f"train returns `steps` losses (steps=7, {where})", True, weight=0),
                   Check(f"losses of train for {where}", False, "expected [0.7], got [0.9]", ASCENT),
                   Check(f"trained W for {where}", False, "expected [1.0], got [2.0]"),
                   Check(f"trained b for {where}", False, "expected 0.1, got 0.2")]
    return graded("train", checks)


def sum_in_loss(hint_on_case=None) -> dict:
    checks = [Check(f"value of loss(W, b, inputs, targets) for {where}", False, f"got {40 + i}",
                    SUM if hint_on_case in (None, i) else "")
              for i, where in enumerate(call_labels("loss"))]
    return graded("loss", checks)


# --- one explanation per mistake ---------------------------------------------------

def test_a_sign_error_in_train_is_one_explanation_and_the_cases_stay_listed_in_html():
    train = sign_error_in_train()
    calls = len(call_labels("train"))
    assert train["feedback"].count("✗") == 3 * calls >= 24  # what the grader records
    text = feedback_md.feedback_text(result(train=train))
    section = text.split("## train")[1]
    assert section.count("✗") == 3 and section.count("Hint:") == 1
    assert f"{calls - 1} more cases fail the same way" in section
    page = html_of(result(train=train))
    assert page.count("<details>") == 1 and f"{calls - 1} more cases fail the same way</summary>" in page
    assert page.count('<li class="fail">') == 3 * calls  # every case is on the page, folded
    assert page.count('class="hint"') == 1


def test_sum_instead_of_mean_is_one_line_and_a_count():
    loss = sum_in_loss()
    text = feedback_md.feedback_text(result(loss=loss))
    section = text.split("## loss")[1]
    assert section.count("✗") == 1 and f"{len(call_labels('loss')) - 1} more cases fail the same way" in section


def test_a_case_that_fails_another_way_is_explained_on_its_own():
    labels = call_labels("loss")
    checks = [Check(f"value of loss(W, b, inputs, targets) for {where}", False, "got 44", SUM)
              for where in labels[:-1]]
    checks.append(Check(f"loss returns a single number for {labels[-1]}", False, "got shape (5,)"))
    head, entries = folding.parse(graded("loss", checks)["feedback"])
    groups = folding.fold(entries)
    assert [len(g.first) for g in groups] == [1, 1]
    assert [len(g.more) for g in groups] == [len(labels) - 2, 0]
    # a case with a hint of its own is not folded under another case's explanation
    groups = folding.fold(folding.parse(sum_in_loss(hint_on_case=3)["feedback"])[1])
    assert len(groups) == 2 and groups[1].first[0].hints == [SUM]


def test_failures_that_name_no_case_are_never_folded():
    checks = [Check("`loss` is defined", False, "`loss` is not defined"),
              Check("`loss` is defined", False, "`loss` is not defined, again")]
    groups = folding.fold(folding.parse(graded("loss", checks)["feedback"])[1])
    assert [len(g.first) for g in groups] == [1, 1] and all(not g.more for g in groups)


def test_every_case_label_of_every_exercise_is_recognised():
    for name in EXERCISES:
        for label in call_labels(name):
            found = folding.CASE.search(f"a check ({label})")
            assert found and found.group() == label, (name, label)


# --- the final grade, step by step ---------------------------------------------------

LATE = adjust.Settings(due="2026-12-01T23:59:00+00:00", late_policy="per-day=10")


def late_result(**exercises):
    r = result("sum_loss", **exercises)
    return {**r, "submitted_at": "2026-12-03T10:00:00+00:00"}


def test_the_grade_shows_automatic_score_each_change_and_the_final_score():
    r = late_result(loss=sum_in_loss())
    final = adjust.final_grade(r, [adjust.Override("sum_loss", "loss", 8, "right idea")], LATE)
    text = feedback_md.feedback_text(r, final)
    lines = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert lines[0] == f"Automatic score: {final.auto_total:g}"
    assert lines[1].startswith("loss: changed by your instructor from 0 to 8 (right idea)")
    assert lines[2].startswith("Submitted 1 day 10 h late") and "points taken off" in lines[2]
    assert lines[3] == f"Final score: {final.total:g} / 100"
    assert "## loss: 8 / 10 (automatic score 0)" in text and "loss: 0 / 10" not in text
    page = html_of_final(r, final)
    assert "loss: 0 / 10" not in page and "8 / 10 (automatic score 0)" in page


def html_of_final(r, final):
    from autograder.results.html import feedback as feedback_html
    return feedback_html.page(feedback_md.feedback_context(r, final, width=None), "full",
                              feedback_html.digest(r, final, "full"))


def test_a_total_override_voids_the_late_penalty_it_replaced():
    r = late_result(loss=sum_in_loss())
    final = adjust.final_grade(r, [adjust.Override("sum_loss", "total", 100, "")], LATE)
    assert final.total == 100 and any("points taken off" in n for n in final.notes)  # adjust's words
    for shown in (feedback_md.feedback_text(r, final), gradescope_json.results_json(r, final)["output"],
                  html_of_final(r, final)):
        assert not re.search(r"\d points? taken off", shown) and "no points taken off" in shown
        assert "Total set by your instructor to 100" in shown


def test_the_kind_of_each_change_is_read_from_its_wording_or_taken_from_adjust():
    r = late_result()
    final = adjust.final_grade(r, [adjust.Override("sum_loss", "loss", 8, "")], LATE)
    kinds = [step.kind for step in breakdown.steps(final)]
    assert kinds == ["override", "late penalty"]
    assert breakdown.kind_of("extension to 2026-12-05 23:59 (ill)") == "extension"
    assert breakdown.kind_of("submitted 2 h 0 min late: late work is flagged, not penalised") == "late"
    final.changes = [("extension", "extension to 2026-12-05"), ("late", "submitted 1 min late")]
    assert [s.kind for s in breakdown.steps(final)] == ["extension", "late"]


# --- Markdown and Gradescope text ----------------------------------------------------

def rendered_text(source: str) -> dict:
    """What each renderer shows for ``source``: the visible text, tags removed."""
    shown = {}
    for name, render in (("python-markdown", lambda text: python_markdown.markdown(text, extensions=["tables"])),
                         ("mistune", mistune.create_markdown(escape=False, plugins=["table", "strikethrough",
                                                                                    "url"])),
                         ("commonmark", MarkdownIt("commonmark").enable(["table", "strikethrough"]).render),
                         ("jupyter", markdown2html_mistune),
                         ("nbgrader's page", lambda text: mistune.create_markdown(
                             renderer=nbgrader_feedback._literal_html(), plugins=["table"])(text))):
        out = render(source)
        shown[name] = (out, html_module.unescape(re.sub(r"<[^>]+>", "", out)))
    return shown


OUR_TEXT = ["train_minibatch: changed by your instructor from 2 to 10 (right idea, almost)",
            "sum_loss", "Submit your notebook, named tf_from_scratch.ipynb, inside the folder."]


@pytest.mark.parametrize("text", OUR_TEXT)
def test_our_own_text_is_not_escaped_and_renders_as_written(text):
    assert escape.markdown(text) == text
    for html, shown in rendered_text(escape.markdown(text)).values():
        assert shown.strip() == text


MARKDOWN_ALPHABET = st.sampled_from(list("ab_*`[]()<>&$~|#+-.!\\=^@:{}1 ") + ["&amp;", "\x1b", "https://",
                                                                              "www.", "x.org", "&#36;"])


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=24).map("".join))
def test_student_text_renders_literally_in_both_renderers(text):
    expected = escape.visible(text).strip()
    for name, (html, shown) in rendered_text(escape.markdown(text)).items():
        assert "<" not in html.replace("<p>", "").replace("</p>", "").strip(), (name, html)
        assert " ".join(shown.split()) == " ".join(expected.split()), (name, text, html)


def test_the_escaper_is_needed_for_that_test_to_pass():
    """Without escaping, the same strings open emphasis, links and tags."""
    for text in ["_a_", "*a*", "[a](b)", "<b>x</b>", "`a`", "# a", "- a", "~~a~~", "https://x.org",
                 "&#36;", "1. a"]:
        assert any(" ".join(shown.split()) != text or "<" in html.replace("<p>", "").replace("</p>", "")
                   for html, shown in rendered_text(text).values()), text


def test_feedback_markdown_leaves_no_backslash_in_either_renderer():
    r = late_result(loss=sum_in_loss(), train=sign_error_in_train())
    final = adjust.final_grade(r, [adjust.Override("sum_loss", "train_minibatch", 10, "right idea (almost)")],
                               LATE)
    source = feedback_md.feedback_text(r, final)
    assert "\\" not in source
    for html, shown in rendered_text(source).values():
        assert "\\" not in shown and "<table>" in html and "right idea (almost)" in shown
        assert "sum_loss" in shown and "train_minibatch" in shown


def test_gradescope_text_has_no_runs_of_spaces():
    reason = ("cell 5 raised ValueError: " + "a long reason that the feedback would wrap " * 6).strip()
    r = late_result(loss=sum_in_loss())
    r = {**r, "status": "incomplete", "reason": reason}
    final = adjust.final_grade(r, [], LATE)
    out = gradescope_json.results_json(r, final)
    assert "  " not in out["output"] and reason in out["output"]
    assert "  " not in feedback_md.feedback_context(r, final)["reason"]


def test_each_step_gives_the_points_it_added_and_they_add_up():
    r = late_result(loss=sum_in_loss())
    final = adjust.final_grade(r, [adjust.Override("sum_loss", "loss", 8, "")], LATE)
    steps = breakdown.steps(final, r)
    assert [s.points for s in steps] == [8, -final.penalty] and final.penalty > 0
    assert final.auto_total + sum(s.points for s in steps) == pytest.approx(final.total)
    page = html_of_final(r, final)
    assert '<td class="num">+8</td>' in page and f'<td class="num">−{final.penalty:g}</td>' in page
    voided = adjust.final_grade(r, [adjust.Override("sum_loss", "loss", 8, ""),
                                    adjust.Override("sum_loss", "total", 90, "")], LATE)
    assert [s.points for s in breakdown.steps(voided, r)] == [None, None, None]
