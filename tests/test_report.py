"""Feedback a student can act on (issue 11, item 5), from result files alone: no
server paths, no library boilerplate, wrapped lines, one line per exercise not
attempted, a timed-out cell named as such, advice when ungradable, brief mode,
Markdown that Python-Markdown renders too, nbgrader's feedback layout."""
from __future__ import annotations

import json
import re

import mistune

from autograder.exercises import EXERCISES
from autograder.results import adjust, feedback as feedback_md
from autograder.results.exports import gradescope as gradescope_json, nbgrader_feedback

KERAS = ("it raised InvalidArgumentError: Exception encountered when calling MyDense.call(). "
         "Matrix size-incompatible: In[0]: [8,3], In[1]: [2,1] [Op:MatMul] name: Arguments "
         "received by MyDense.call(): • inputs=tf.Tensor(shape=(8, 3), dtype=float32) (in cell 39 "
         "(my_dense), line 9: return tf.matmul(inputs, self.W) + self.b)")
STUB = "it raised NotImplementedError (in cell 13 (predict), line 8: raise NotImplementedError())"


def exercise(name, score, status="graded", details=(), feedback=None):
    checks = [{"label": f"{name} on a case", "passed": False, "detail": d, "hint": "", "weight": 1}
              for d in details]
    text = feedback or "\n".join([f"{name}: {score:g} / {EXERCISES[name].points:g}"]
                                 + [f"  ✗ {c['label']}: {c['detail']}" for c in checks])
    return {"score": score, "max_score": EXERCISES[name].points, "status": status,
            "feedback": text, "checks": checks}


def result(student="ann", status="graded", reason="", **exercises):
    full = {n: exercise(n, EXERCISES[n].points) for n in EXERCISES}
    full.update(exercises)
    return {"student_id": student, "assignment": "tf_from_scratch", "status": status,
            "reason": reason, "seed": 20211, "max_score": 100,
            "score": round(sum(e["score"] for e in full.values()), 2),
            "exercises": full if status != "ungradable" else {}}


def fenced_lines(text):
    return [line for block in re.findall(r"```\n(.*?)\n```", text, re.S) for line in block.splitlines()]


def test_untouched_notebook_gets_one_line_per_exercise():
    untouched = result(**{n: exercise(n, 0, "error", [STUB] * 3) for n in EXERCISES})
    text = feedback_md.feedback_text(untouched)
    assert len(text.splitlines()) < 40  # was 124
    for name in EXERCISES:
        assert len([line for line in text.splitlines() if f"**{name}**" in line]) == 1
    assert text.count("NotImplementedError") == len(EXERCISES)


def test_no_server_paths_and_no_keras_boilerplate_and_wrapped_lines():
    text = feedback_md.feedback_text(result(
        reason="cell 3 raised OSError: [Errno 2] No such file: '/srv/course/secret/data.csv'",
        status="incomplete", my_dense=exercise("my_dense", 2, details=[KERAS, KERAS + " /home/x/y.py"])))
    assert "/srv/" not in text and "/home/" not in text and "data.csv" in text.replace("\\", "")
    assert "Arguments received" not in text and "Exception encountered" not in text
    assert "Matrix size-incompatible" in text and "(in cell 39 (my_dense), line 9" in text
    assert max(len(line) for line in fenced_lines(text)) <= feedback_md.FEEDBACK_WIDTH


def test_a_timed_out_cell_is_named_as_such():
    reason = "cell 13 (predict) was skipped: no answer within 15 s"
    missing = exercise("predict", 0, "missing", ["`predict` is not defined: run the cell that defines it"])
    text = feedback_md.feedback_text(result(status="incomplete", reason=reason, predict=missing))
    assert "the cell defining `predict` did not finish in 15 s" in text
    assert "`predict` is not defined" not in text.split("## predict")[1]


def test_ungradable_feedback_says_what_to_do():
    for reason, advice in [("several notebooks (a.ipynb, b.ipynb) and none named tf_from_scratch.ipynb",
                            "Submit exactly one notebook, named tf_from_scratch.ipynb"),
                           ("no notebook in tf_from_scratch", "named tf_from_scratch.ipynb"),
                           ("the notebook cannot be read: NotJSONError", "not a notebook Jupyter can open"),
                           ("grader error: KeyError: 'x' (while grading)", "not in your work")]:
        text = feedback_md.feedback_text(result(status="ungradable", reason=reason))
        assert "What to do:" in text and advice in text.replace("\\", "")
        assert "Graded on fresh inputs" not in text and "| exercise |" not in text


def test_brief_feedback_omits_expected_values():
    detail = "expected a value between 0.7203 and 0.7205, got 28.82"
    r = result(loss=exercise("loss", 3.33, details=[detail]))
    assert "0.7203" in feedback_md.feedback_text(r, mode="full")
    brief = feedback_md.feedback_text(r, mode="brief")
    assert "0.7203" not in brief and "got 28.82" in brief


def test_markdown_renders_in_python_markdown_too():
    """Python-Markdown needs a blank line before a table and before a list; check the
    rule on every kind of feedback, and that the table renders."""
    r = result(status="incomplete", reason="cell 5 raised ValueError",
               loss=exercise("loss", 0, "error", [STUB]), predict=exercise("predict", 4, details=["x"]))
    final = adjust.final_grade(r, [adjust.Override("ann", "predict", 6, "ok")], adjust.Settings())
    for text in [feedback_md.feedback_text(r), feedback_md.feedback_text(r, final),
                 feedback_md.feedback_text(result(status="ungradable", reason="no notebook in x"))]:
        lines = text.splitlines()
        for i, line in enumerate(lines[1:], start=1):
            starts_block = (line.startswith("|") and not lines[i - 1].startswith("|")) or (
                line.startswith("- ") and not lines[i - 1].startswith("- "))
            assert not starts_block or lines[i - 1].strip() == "", (i, line)
    assert "<table>" in mistune.html(feedback_md.feedback_text(r))


def test_nbgrader_feedback_layout(tmp_path):
    submitted = tmp_path / "submitted" / "ann" / "tf_from_scratch"
    submitted.mkdir(parents=True)
    (submitted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (submitted / "submission_secret.txt").write_text("s3cret")
    r = {**result(), "submitted_from": str(submitted)}
    target = nbgrader_feedback.write_nbgrader_feedback(tmp_path / "feedback", r, feedback_md.feedback_text(r))
    assert target == tmp_path / "feedback" / "ann" / "tf_from_scratch" / "tf_from_scratch.html"
    assert "<table>" in target.read_text()
    assert (target.parent / "timestamp.txt").read_text().startswith("2026-12-01")
    assert (target.parent / "submission_secret.txt").read_text() == "s3cret"
    theirs = tmp_path / "feedback" / "bob" / "tf_from_scratch" / "tf_from_scratch.html"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("<html>nbgrader's own</html>")
    assert nbgrader_feedback.write_nbgrader_feedback(tmp_path / "feedback", result("bob"), "x") is None
    assert theirs.read_text() == "<html>nbgrader's own</html>"


def test_gradescope_gets_the_final_score(tmp_path):
    r = result()
    final = adjust.final_grade(r, [adjust.Override("ann", "total", 50, "late")], adjust.Settings())
    out = gradescope_json.results_json(r, final)
    assert out["score"] == 50 and "late" in out["output"]
    json.dumps(out)
