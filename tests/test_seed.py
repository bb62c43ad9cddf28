"""Inputs that cannot be replayed (issue 13, item 6), and a quiet console (item 9).

Each submission's inputs come from its case seed, derived from the course seed and the
code it runs (``grade.derive_case_seed``), recorded in result.json beside the course
seed. A stub that hard-codes the expected values its first feedback showed, keyed by
input shape, earns full points on the inputs it was built from (a replay at the first
grading's case seed: what every re-submission got when all inputs came from the course
seed) and loses them on re-submission, since its own code draws other inputs.

Grades sum_loss (every point but the loss's: it is summed, not averaged) once with
``tfgrade grade`` and four times in this process; about a minute.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re

import pytest

from autograder import DEFAULT_SEED, course
from autograder.course import notebook_in
from autograder.exercises import EXERCISES, cases_for
from autograder.exercises.support.variants import variant
from autograder.grading.grade import code_cells, derive_case_seed, grade_submission, runnable_cells
from autograder.sandbox.settings import Limits
from conftest import BIN, ROOT, SUBMITTED, grade_id, graded_parts, read, run, write_student

SUM_LOSS = notebook_in(SUBMITTED / "sum_loss")
LIMITS = Limits(time_scale=3.0)  # a loaded machine must not turn a score into a time-out


def _with_loss(notebook, source: str):
    notebook = copy.deepcopy(notebook)
    next(c for c in notebook.cells if grade_id(c) == "loss").source = source
    return notebook


def _edited(notebook, edit):
    """A copy whose loss cell's source is ``edit(source)``."""
    source = next(c.source for c in notebook.cells if grade_id(c) == "loss")
    return _with_loss(notebook, edit(source))


# --- The derivation, without a sandbox ----------------------------------------------------

def test_case_seed_follows_the_code_that_runs():
    notebook = read(SUM_LOSS)
    seed = derive_case_seed(DEFAULT_SEED, runnable_cells(notebook))
    assert 0 <= seed < 2 ** 32 and seed != DEFAULT_SEED
    assert derive_case_seed(DEFAULT_SEED, code_cells(SUM_LOSS)) == seed  # read from the file
    assert derive_case_seed(DEFAULT_SEED, runnable_cells(copy.deepcopy(notebook))) == seed
    comment = _edited(notebook, lambda s: s + "\n# checked again")
    space = _edited(notebook, lambda s: s.replace("preds = ", "preds  = "))
    blank = _edited(notebook, lambda s: s + "\n")
    others = {derive_case_seed(DEFAULT_SEED, runnable_cells(nb)) for nb in (comment, space, blank)}
    assert len(others) == 3 and seed not in others
    assert derive_case_seed(DEFAULT_SEED + 1, runnable_cells(notebook)) != seed
    # What does not run plays no part: markdown, outputs, a check cell's source.
    prose = copy.deepcopy(notebook)
    next(c for c in prose.cells if c.cell_type == "markdown").source += "\nMore words."
    check = next(c for c in prose.cells if grade_id(c) == "check_loss")
    check.source += "\n# not run by the grader"
    assert derive_case_seed(DEFAULT_SEED, runnable_cells(prose)) == seed
    # Labels (positions) play no part either: a route that names cells otherwise agrees.
    renamed = [(f"x{i}", source) for i, (_, source) in enumerate(runnable_cells(notebook))]
    assert derive_case_seed(DEFAULT_SEED, renamed) == seed


def test_the_shapes_differ_between_case_seeds():
    """What the stub below relies on, and loses: a re-submission's cases are other shapes."""
    notebook = read(SUM_LOSS)
    first = derive_case_seed(DEFAULT_SEED, runnable_cells(notebook))
    again = derive_case_seed(DEFAULT_SEED, runnable_cells(_edited(notebook, lambda s: s + "\n")))
    shapes = [[c["inputs"].shape for c in cases_for(EXERCISES["loss"], seed)] for seed in (first, again)]
    assert shapes[0] != shapes[1]


# --- Graded in the sandbox ----------------------------------------------------------------

PYTHON_WARNING = re.compile(r"^\S.*:\d+: \w*Warning: ", re.MULTILINE)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """sum_loss without cell ids (an older tool's notebook) but two cells sharing one (a
    copy and paste), graded by ``tfgrade grade``: (its result.json, the command's stderr)."""
    folder = tmp_path_factory.mktemp("seed")
    raw = json.loads(SUM_LOSS.read_text())
    for cell in raw["cells"]:
        cell.pop("id", None)
    raw["cells"][0]["id"] = raw["cells"][1]["id"] = "pasted"
    path = notebook_in(folder / "submitted" / "sum_loss")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(raw, indent=1))
    out = folder / "out"
    done = run(BIN / "tfgrade", "grade", path, "--out", out, "--quiet", "--time-scale", "3")
    return json.loads((out / "sum_loss" / "result.json").read_text()), done.stderr


def test_the_console_is_quiet_for_a_notebook_without_cell_ids(first):
    _, stderr = first
    assert "MissingIDFieldWarning" not in stderr and "DuplicateCellId" not in stderr, stderr
    assert not PYTHON_WARNING.search(stderr), stderr


def test_the_result_records_both_seeds(first):
    result, _ = first
    assert result["status"] == "graded", result["reason"]
    # Partly correct: its loss's values are n times too large, and nothing else is wrong.
    losing = {name for name, e in result["exercises"].items() if e["score"] < e["max_score"]}
    assert losing == {"loss"} and "n times too large" in result["exercises"]["loss"]["feedback"]
    assert result["seed"] == DEFAULT_SEED
    # computed here from its definition, not by the function under test: HMAC-SHA256 under
    # the course's key of the course seed and the runnable cells' sources, first 4 bytes
    key = bytes.fromhex((ROOT / course.KEY_FILE).read_text().strip())
    message = f"tfkit case seed 2\0{DEFAULT_SEED}\0".encode() + json.dumps(
        [source for _, source in code_cells(SUM_LOSS)]).encode()
    assert result["case_seed"] == int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:4], "big")


def test_the_course_key_is_private_stable_and_changes_every_seed(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("")
    key = course.case_key(tmp_path)
    path = tmp_path / course.KEY_FILE
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert course.case_key(tmp_path) == key and course.case_key(tmp_path / ".") == key
    cells = runnable_cells(read(SUM_LOSS))
    assert derive_case_seed(DEFAULT_SEED, cells, key) != derive_case_seed(DEFAULT_SEED, cells, bytes(32))


def stub_from_feedback(result) -> str:
    """A loss that answers each call with the expected value the first feedback showed
    for it (the middle of its band), keyed by the inputs' shape and, for the calls of
    one shape, by their order (the strongest such stub: the order is taken from the
    first grading's cases); any other shape gets sum_loss's own loss."""
    checks = [c for c in result["exercises"]["loss"]["checks"] if c["label"].startswith("value of")]
    expected = {}
    for check in checks:
        low, high = map(float, re.search(r"between (\S+) and (\S+),", check["detail"]).groups())
        expected[check["label"].removeprefix("value of loss(W, b, inputs, targets) for ")] = (low + high) / 2
    table = {}
    for case in cases_for(EXERCISES["loss"], result["case_seed"]):
        for arg in case.get("order", [""]):
            label = variant(case, arg)["label"]
            table.setdefault(tuple(case["inputs"].shape), []).append(expected[label])
    assert sum(map(len, table.values())) == len(checks) == 7
    return ("HARD_CODED = " + repr(table) + "\n_calls = {}\n\n\n"
            "def loss(W, b, inputs, targets):\n"
            "    shape = tuple(inputs.shape)\n"
            "    if shape in HARD_CODED:\n"
            "        seen = _calls[shape] = _calls.get(shape, -1) + 1\n"
            "        return tf.constant(HARD_CODED[shape][seen % len(HARD_CODED[shape])], tf.float32)\n"
            "    return _summed_loss(W, b, inputs, targets)\n")


@pytest.fixture(scope="module")
def graded(first, tmp_path_factory):
    """sum_loss again, and the stub built from its first feedback, each graded at its own
    case seed, at the first grading's, and at its own recorded one again."""
    result, _ = first
    folder = tmp_path_factory.mktemp("resubmitted")
    notebook = read(SUM_LOSS)
    stub = _edited(notebook, lambda s: s.replace("def loss(", "def _summed_loss(") + "\n\n\n"
                   + stub_from_feedback(result))
    again = write_student(folder, "again", notebook)
    adversary = write_student(folder, "adversary", stub)
    graded = {"again": grade_submission(again, "again", DEFAULT_SEED, LIMITS),
              "adversary": grade_submission(adversary, "adversary", DEFAULT_SEED, LIMITS)}
    graded["adversary_on_first_inputs"] = grade_submission(
        adversary, "adversary", DEFAULT_SEED, LIMITS, case_seed=result["case_seed"])
    graded["adversary_replayed"] = grade_submission(
        adversary, "adversary", DEFAULT_SEED, LIMITS, case_seed=graded["adversary"].case_seed)
    return {name: r.to_dict() for name, r in graded.items()}


def test_the_same_notebook_gets_the_same_case_seed_and_scores(first, graded):
    result, _ = first
    again = graded["again"]
    assert again["case_seed"] == result["case_seed"]
    assert graded_parts(again["exercises"]) == graded_parts(result["exercises"])
    assert again["score"] == result["score"]


def test_a_stub_hard_coding_its_first_feedback_loses_on_resubmission(first, graded):
    result, _ = first
    adversary, on_first = graded["adversary"], graded["adversary_on_first_inputs"]
    assert adversary["status"] == on_first["status"] == "graded", adversary["reason"]
    # On the inputs it was built from, the stub passes: the attack itself works.
    assert on_first["exercises"]["loss"]["score"] == EXERCISES["loss"].points
    assert on_first["score"] == 100
    # Re-submitted, its own code draws other inputs, and it is graded as sum_loss again.
    assert adversary["exercises"]["loss"]["score"] <= result["exercises"]["loss"]["score"]
    assert adversary["score"] <= result["score"] < 100
    assert adversary["seed"] == DEFAULT_SEED and adversary["case_seed"] != result["case_seed"]


def test_the_recorded_case_seed_replays_the_result(graded):
    recorded, replayed = graded["adversary"], graded["adversary_replayed"]
    assert replayed["case_seed"] == recorded["case_seed"]
    assert graded_parts(replayed["exercises"]) == graded_parts(recorded["exercises"])
    assert replayed["score"] == recorded["score"]
