"""`tfgrade selftest` passes on main, and fails, naming the exercise, when a hidden test
is deleted, when a stub is replaced by its solution in the release, when a mutant stops
losing points, or when a mutant's feedback lacks a hint its header names or gives
another; its table counts the corpus per exercise, with no false pass, wrong hint or
false fail on main."""
import re

import nbformat
import pytest

from autograder.authoring import corpus, selftest
from autograder.authoring.corpus import without_markers
from autograder.exercises import EXERCISES, HINTS
from authoring_support import built_once, course_copy
from conftest import BIN, ROOT, SOURCE, grade_id, read, run


def failures(rows):
    return [r for r in rows if not r.ok]


def notebook_path(root, step):
    return root / step / "tf_from_scratch" / "tf_from_scratch.ipynb"


def summary_counts(text):
    """{exercise or 'total': (mutants, false passes, wrong hints, alternatives, false
    fails)} read back from the table selftest prints after its rows."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.split() == ["exercise", "mutants", "false", "passes", "wrong", "hints",
                                     "alternatives", "false", "fails"])
    counts = {}
    for line in lines[start + 1:]:
        found = re.fullmatch(r"(\w+)((?:\s+\d+){5})", line)
        if not found:
            break
        counts[found.group(1)] = tuple(int(n) for n in found.group(2).split())
    return counts


def graded(scores=None, hints=(), status="graded"):
    """A result dict as the sandbox returns it: full marks everywhere except ``scores``;
    the ``loss`` exercise's failed checks give ``hints`` (HINT_* names)."""
    exercises = {}
    for name, exercise in EXERCISES.items():
        checks = [{"label": "a check", "passed": name != "loss", "detail": "", "weight": 1.0,
                   "hint": HINTS.get(h, "") if name == "loss" else ""} for h in hints or ("",)]
        exercises[name] = {"score": (scores or {}).get(name, exercise.points), "status": "graded",
                           "max_score": exercise.points, "feedback": f"{name}: feedback",
                           "checks": checks}
    return {"status": status, "reason": "it could not be read", "exercises": exercises}


SUM = corpus.snippet("mutant", "loss/sum", ROOT)  # its header names HINT_SUM
ALTERNATIVE = corpus.alternatives(ROOT)[0]


def test_a_mutant_judged_by_the_corpus_rule():
    """Below full marks with exactly its hints: ok. At full marks, without its hint or
    with another hint: FAILED, counted as a false pass or wrong hints."""
    judge = selftest._judge_student
    row = judge("mutant", SUM, {1: graded({"loss": 1}, ["HINT_SUM"])})
    assert row.ok and not row.faults and row.exercise == "loss"
    row = judge("mutant", SUM, {1: graded(hints=["HINT_SUM"])})
    assert not row.ok and row.faults == {selftest.FALSE_PASS}
    assert "loss does not lose points on this mistake" in row.detail
    row = judge("mutant", SUM, {1: graded({"loss": 1}, ["HINT_SIGN"])})
    assert not row.ok and row.faults == {selftest.WRONG_HINTS}
    assert row.detail == ("loss: the feedback lacks its hint HINT_SUM; "
                          "loss: the feedback gives another hint (HINT_SIGN)")
    row = judge("mutant", SUM, {1: graded({"loss": 1, "grad": 0}, ["HINT_SUM"])})
    assert row.faults == {selftest.FALSE_FAIL} and row.detail == "also loses points on grad"


def test_every_seed_is_judged_and_named():
    """Right at the kit's seed and wrong at the second one is still FAILED, and the
    detail says at which seed."""
    row = selftest._judge_student("mutant", SUM, {20211: graded({"loss": 1}, ["HINT_SUM"]),
                                                  7: graded({"loss": 1}, ["HINT_SUM", "HINT_SIGN"])})
    assert not row.ok and row.detail == "at seed 7: loss: the feedback gives another hint (HINT_SIGN)"
    row = selftest._judge_student("alternative", ALTERNATIVE, {20211: graded({ALTERNATIVE.exercise: 0}),
                                                               7: graded({ALTERNATIVE.exercise: 0})})
    assert not row.ok and row.faults == {selftest.FALSE_FAIL}
    assert row.detail.startswith(f"at seeds 20211 and 7: {ALTERNATIVE.exercise}: 0/")


def test_the_table_counts_each_fault_once_per_snippet():
    rows = [selftest._judge_student("mutant", SUM, {1: graded(hints=["HINT_SIGN"]),
                                                    2: graded(hints=["HINT_SIGN"])}),
            selftest._judge_student("mutant", SUM, {1: graded({"loss": 1}, ["HINT_SUM"])}),
            selftest._judge_student("alternative", ALTERNATIVE, {1: graded(status="ungradable")}),
            selftest._judge_student("solution", None, {1: graded()})]
    printed = selftest.render(rows, (1, 2))
    assert "corpus graded in the sandbox at course seeds 1 and 2 (each" in printed
    counts = summary_counts(printed)
    assert counts["loss"] == (2, 1, 1, 0, 0)
    assert counts[ALTERNATIVE.exercise][3:] == (1, 1)
    assert counts["total"] == tuple(map(sum, zip(*(v for k, v in counts.items() if k != "total"))))
    assert "2 passed, 2 failed" in printed


def test_structure_passes_on_main():
    assert failures(selftest.check_structure(read(SOURCE))) == []


def test_deleted_hidden_test_is_named():
    source = read(SOURCE)
    cell = next(c for c in source.cells if grade_id(c) == "test_loss")
    cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
    [row] = failures(selftest.check_structure(source))
    assert row.subject == "loss" and "test_loss" in row.detail and "stub would pass" in row.detail


def test_points_that_disagree_with_the_contract_are_named():
    source = read(SOURCE)
    next(c for c in source.cells if grade_id(c) == "test_grad").metadata["nbgrader"]["points"] = 12
    subjects = {r.subject for r in failures(selftest.check_structure(source))}
    assert subjects == {"grad", "points"}


def test_points_stated_in_the_text_are_checked_against_the_contract():
    """The heading and the test cell's comment state the points too: each is held to the
    exercise module's declaration."""
    source = read(SOURCE)
    heading = next(c for c in source.cells if c.cell_type == "markdown" and "`accuracy` (6 points)" in c.source)
    heading.source = heading.source.replace("`accuracy` (6 points)", "`accuracy` (7 points)")
    test = next(c for c in source.cells if grade_id(c) == "test_train")
    test.source = test.source.replace("(10 points)", "(9 points)")
    rows = {r.subject: r for r in failures(selftest.check_structure(source))}
    assert set(rows) == {"accuracy", "train"}
    assert "heading of `accuracy` states [7.0] points, the contract 6" in rows["accuracy"].detail
    assert "comment of `test_train` says [9.0] points" in rows["train"].detail


@pytest.mark.slow
def test_solution_in_the_release_is_named(tmp_path):
    """The leak named by the release check and, in the sandbox, by the release's row. The
    copy has no corpus: the sandbox grades the solution and the release only (the corpus's
    rows do not depend on the release: each snippet goes into the solved notebook)."""
    root = course_copy(tmp_path, corpus=False)
    release = read(notebook_path(root, "release"))
    solution = read(notebook_path(root, "solutions"))
    solved = next(c for c in solution.cells if grade_id(c) == "grad")
    next(c for c in release.cells if grade_id(c) == "grad").source = without_markers(solved.source)
    nbformat.write(release, str(notebook_path(root, "release")))
    [leak] = failures(selftest.check_release(root, fresh=False))
    assert "grad: solution" in leak.detail
    rows = failures(selftest.check_graders(root, only=("grad",), jobs=2))
    assert [(r.subject, r.detail) for r in rows] == [
        ("untouched release earns nothing", "the stub earns points on grad: those tests assert nothing")]


@pytest.mark.slow
def test_mutants_that_stop_losing_points_or_give_wrong_hints_are_named(tmp_path):
    """In the sandbox, at both seeds, on a course copy whose loss corpus is cut to three
    snippets: a mutant made correct is a false pass (and lacks its hint); a mutant whose
    header names another hint than its mistake's is a wrong hint."""
    root = course_copy(tmp_path)
    mutants, alternatives = root / "tests" / "mutants" / "loss", root / "tests" / "alternatives" / "loss"
    keep = {mutants / "sum.py", mutants / "sign.py", sorted(alternatives.glob("*.py"))[0]}
    for path in [*mutants.glob("*.py"), *alternatives.glob("*.py")]:
        if path not in keep:
            path.unlink()
    sign = mutants / "sign.py"
    sign.write_text(sign.read_text().replace("# hint: HINT_SIGN", "# hint: HINT_SUM"))
    mutant = mutants / "sum.py"
    header = [line for line in mutant.read_text().splitlines() if line.startswith("#")]
    mutant.write_text("\n".join(header) + "\n"
                      "def loss(W, b, inputs, targets):\n"
                      "    p = predict(W, b, inputs)\n"
                      "    return -tf.reduce_mean(targets * tf.math.log(p) + (1 - targets) * tf.math.log(1 - p))\n")
    rows = selftest.check_graders(root, only=("loss",), jobs=2, seeds=corpus.seeds())
    failed = {r.subject: r for r in failures(rows)}
    assert set(failed) == {"mutant loss/sum", "mutant loss/sign"}, [(r.subject, r.detail) for r in rows]
    assert failed["mutant loss/sum"].faults == {selftest.FALSE_PASS, selftest.WRONG_HINTS}
    both = "at seeds {} and {}".format(*corpus.seeds())
    assert f"{both}: loss does not lose points" in failed["mutant loss/sum"].detail
    assert failed["mutant loss/sign"].faults == {selftest.WRONG_HINTS}
    assert failed["mutant loss/sign"].detail == (
        f"{both}: loss: the feedback lacks its hint HINT_SUM; "
        f"{both}: loss: the feedback gives another hint (HINT_SIGN)")
    assert summary_counts(selftest.render(rows, corpus.seeds()))["loss"] == (2, 1, 2, 1, 0)


# The exercises whose sandboxed corpus the suite grades: those built on the others (their
# stand-ins cross the channel: tensors, a layer, logits and gradients). The whole corpus is
# graded in process at both seeds by tests/test_corpus_kernel.py, and in the sandbox by
# `tfgrade selftest` itself (about 7 minutes here, too long for every run of the suite).
SANDBOXED = ("train", "my_model", "train_minibatch")


@pytest.mark.slow
def test_selftest_passes_on_main():
    """The real command, as `--quick` (the kit's seed; the second seed's plumbing is the
    test above, the nbgrader runs the test below) on :data:`SANDBOXED`: every row ok, and
    the table counts their whole corpus with no false pass, wrong hint or false fail."""
    only = [arg for name in SANDBOXED for arg in ("--exercise", name)]
    done = run(BIN / "tfgrade", "selftest", "--quick", *only, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " 0 failed" in done.stdout
    assert f"corpus graded in the sandbox at course seed {corpus.seeds()[0]} (each" in done.stdout
    counts = summary_counts(done.stdout)
    for name in SANDBOXED:
        mutants = sum(s.exercise == name for s in corpus.mutants(ROOT))
        alternatives = sum(s.exercise == name for s in corpus.alternatives(ROOT))
        assert counts[name] == (mutants, 0, 0, alternatives, 0), (name, counts[name])
    assert set(counts) == {*SANDBOXED, "total"}


@pytest.mark.slow
def test_the_full_selftests_nbgrader_rows_pass_on_main(monkeypatch, released_course):
    """What `tfgrade selftest` adds to `--quick` besides the second seed: release/ and
    solutions/ as a fresh generation makes them, and nbgrader's own autograde. The fresh
    generation is the session's one build of source/ (``conftest.released_course``,
    which tests/test_release.py compares too), copied in where selftest builds its own
    from the same source/ and config."""
    built = []
    monkeypatch.setattr(selftest, "build", built_once(released_course, built))
    rows = selftest.check_release(ROOT, fresh=True) + selftest.check_nbgrader(ROOT)
    assert len(built) == 1
    assert {r.area for r in rows} == {"release", "nbgrader"} and len(rows) == 5
    assert failures(rows) == []
