"""The kit under the real nbgrader CLI (0.9.6), in temporary course folders.

One course autogrades the sample class (examples/sample_class) with ``tfgrade
autograde``, plus a notebook that replaces the hidden tests' grading function, and four
tampered submissions with plain ``nbgrader autograde`` (both sandboxed through the
course's config); its gradebook is read with nbgrader's own API and compared with
expected.json and with ``tfgrade grade`` on the same notebooks. A copy of it with the
sandboxed step cut from the config shows the replaced grading function winning in
nbgrader's own kernel. A second course runs the whole exchange round trip a class goes
through. Nothing here touches the repository's own gradebook.db, submitted/ or
autograded/ folders.

Runs in about three minutes.
"""
from __future__ import annotations

import copy
import csv
import html
import json
import re
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import DEFAULT_SEED
from autograder.course import KEY_FILE
from autograder.exercises import EXERCISES, TOTAL_POINTS
from autograder.exercises.predict import HINT_COLUMN
from autograder.integrations.nbgrader.gradebook import nbgrader_scores
from conftest import (ASSIGNMENT, BIN, FULL_MARKS, ROOT, SAMPLE_CLASS, SOURCE, SUBMITTED, copy_tree, grade_id,
                      read, run, write_student)

# Every test but the first runs nbgrader's CLI or kernels.
slow = pytest.mark.slow


def test_the_course_config_names_preprocessors_that_import():
    """Fast: every preprocessor the course's nbgrader_config.py names (the kit's and
    nbgrader's) imports, as nbgrader will import it, so a moved class fails here first."""
    import importlib

    from traitlets.config import Config
    config = Config()
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),  # noqa: S102
         {"get_config": lambda: config, "__file__": str(ROOT / "nbgrader_config.py")})
    named = [name for section in ("Autograde", "GenerateFeedback") for key, value in config[section].items()
             if key.endswith("preprocessors") for name in value]
    assert any(name.startswith("autograder.") for name in named), named
    for name in named:
        module, _, attribute = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), name

EXPECTED = json.loads((SAMPLE_CLASS / "expected.json").read_text())
STUDENTS = sorted(EXPECTED)
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
# The hidden tests read TFKIT_SEED; pin it so both graders see the same inputs.
SEED_ENV = {"TFKIT_SEED": str(DEFAULT_SEED)}
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "from autograder.integrations.nbgrader.kernel import grade")
NOISE = re.compile(r"Attribute 'checksum' for cell test_|absl::InitializeLog|^\s*I\d{4} |"
                   r"running over TCP without encryption|Alternative text is missing")


def log_of(done):
    """nbgrader's log without the lines every run prints (restored test cells, TensorFlow)."""
    return "\n".join(line for line in done.stderr.splitlines() if not NOISE.search(line))


def nbgrader(course, *args, env=None):
    """One instructor-side nbgrader command in ``course`` (whose copied config it loads)."""
    done = run(BIN / "nbgrader", *args, f"--CourseDirectory.root={course}", cwd=course,
               env={**SEED_ENV, **(env or {})}, check=False)
    assert done.returncode == 0, \
        f"nbgrader {' '.join(map(str, args))} exited {done.returncode}:\n{log_of(done)[-6000:]}"
    return done


def new_course(folder, released_course):
    """A copy of the session's course after ``nbgrader generate_assignment``
    (conftest.released_course): the course's config and source, its secret case key
    included (``case_key``), so the pytest engine and tfgrade, run from the repository,
    draw the same inputs as nbgrader; its gradebook holds the assignment."""
    copy_tree(released_course, folder)
    assert (folder / KEY_FILE).read_bytes() == (ROOT / KEY_FILE).read_bytes()
    return folder


def autograded(course, student):
    return course / "autograded" / student / ASSIGNMENT / NOTEBOOK


def autograde(course, *args):
    """``nbgrader autograde``; nbgrader can exit 0 and still skip a student, so the
    caller checks each student's notebook and scores too."""
    return nbgrader(course, "autograde", ASSIGNMENT, "--create", *args)


def gradebook_scores(course, students):
    """{student: {exercise: (score, max_score)}} from the gradebook's test cells (a cell
    nbgrader failed to grade raises, rather than passing for a 0)."""
    return {student: {name: (score, EXERCISES[name].points) for name, score in scores.items()}
            for student, scores in nbgrader_scores(course, students).items()}


def graded_cells(notebook):
    """The graded test cells of a notebook, by exercise name."""
    return {grade_id(c)[len("test_"):]: c for c in notebook.cells
            if grade_id(c).startswith("test_") and c.metadata["nbgrader"].get("grade")}


def html_text(path):
    """The text a reader sees in an HTML file (tags dropped, entities decoded): code
    is split into highlighting spans, so raw HTML would hide a leaked line."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


# --- The sample class, autograded by nbgrader -------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory, released_course):
    """A temporary course (generate_assignment done), then ``tfgrade autograde`` of the
    sample class plus one student whose notebook replaces the hidden tests' grading function."""
    root = new_course(tmp_path_factory.mktemp("nbgrader") / "course", released_course)
    shutil.copytree(SUBMITTED, root / "submitted")
    release = read(root / "release" / ASSIGNMENT / NOTEBOOK)
    write_student(root / "submitted", "grade_replaced", _with_grade_replaced(release))
    done = run(BIN / "tfgrade", "autograde", ASSIGNMENT, "--jobs", 2, "--force", cwd=root)
    assert "graded ahead, in parallel" in done.stderr, log_of(done)[-3000:]
    missing = [s for s in [*STUDENTS, "grade_replaced"] if not autograded(root, s).is_file()]
    assert not missing, f"tfgrade autograde exited 0 without grading {missing}"
    return root


@pytest.fixture(scope="module")
def nb_scores(course):
    return gradebook_scores(course, STUDENTS)


@pytest.fixture(scope="module")
def tfgrade_results(graded_sample_class):
    """tfgrade's result.json of every sample student: the session's ``tfgrade grade`` of
    the same notebooks at the same seed (conftest.graded_sample_class), from the
    repository, whose course key the course above copied."""
    submitted, out = graded_sample_class
    for student in STUDENTS:
        assert (submitted / student / ASSIGNMENT / NOTEBOOK).read_bytes() == \
            (SUBMITTED / student / ASSIGNMENT / NOTEBOOK).read_bytes(), student
    results = {s: json.loads((out / s / "result.json").read_text()) for s in STUDENTS}
    assert {r["seed"] for r in results.values()} == {DEFAULT_SEED}
    return results


@slow
def test_sample_class_scores_match_expected(course, nb_scores):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        totals = {s: gb.find_submission(ASSIGNMENT, s).score for s in STUDENTS}
    assert totals["full_marks"] == TOTAL_POINTS
    assert totals["untouched"] == 0
    assert all(score == 0 for score, _ in nb_scores["untouched"].values())
    for student, losing in EXPECTED.items():
        for name, (score, max_score) in nb_scores[student].items():
            assert max_score == EXERCISES[name].points, (student, name)
            if name in losing:
                assert score < max_score, f"{student} should lose points on {name}"
            else:
                assert score == max_score, f"{student} lost points on {name}: {score}/{max_score}"


def stderr_problems(notebook, scores):
    """How a notebook's test cells could have lost points to anything but the kit's
    verdict: a stderr stream (nbgrader zeroes such a cell), an error other than the
    kit's AssertionError, an error in a full-marks cell, or a partial score that is not
    the value the hidden test returned."""
    problems = []
    for name, cell in graded_cells(notebook).items():
        score, max_score = scores[name]
        if any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs):
            problems.append(f"{name}: stderr output")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if score == max_score and errors:
            problems.append(f"{name}: full marks but an error output")
        elif score == 0 and not (len(errors) == 1 and errors[0].ename == "AssertionError"
                                 and "see the feedback above" in errors[0].evalue):
            problems.append(f"{name}: 0 points without the kit's AssertionError")
        elif 0 < score < max_score:
            values = [o.data.get("text/plain") for o in cell.outputs
                      if o.output_type == "execute_result"]
            if len(values) != 1 or float(values[0]) != pytest.approx(score, abs=0.011):
                problems.append(f"{name}: partial score {score} is not the cell's value {values}")
    return problems


@slow
def test_no_points_lost_to_stderr(course, nb_scores):
    for student in STUDENTS:
        notebook = read(autograded(course, student))
        assert set(graded_cells(notebook)) == set(EXERCISES), student
        assert stderr_problems(notebook, nb_scores[student]) == [], student
    full = graded_cells(read(autograded(course, "full_marks")))
    for name, cell in full.items():
        assert "stderr" not in json.dumps(cell.outputs), name


@slow
def test_stderr_check_notices_stderr(course, nb_scores):
    """The check above can fail: a stderr line in a full-marks test cell is reported."""
    notebook = copy.deepcopy(read(autograded(course, "full_marks")))
    cell = graded_cells(notebook)["predict"]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text="W0000 noise\n"))
    assert stderr_problems(notebook, nb_scores["full_marks"]) == ["predict: stderr output"]


@slow
def test_nbgrader_and_tfgrade_agree(nb_scores, tfgrade_results):
    for student in STUDENTS:
        result = tfgrade_results[student]
        assert result["status"] == "graded", (student, result["reason"])
        for name, (score, max_score) in nb_scores[student].items():
            theirs = result["exercises"][name]
            assert theirs["max_score"] == max_score, (student, name)
            assert abs(theirs["score"] - score) <= 0.011, \
                f"{student}/{name}: nbgrader {score}, tfgrade {theirs['score']}"
        assert abs(result["score"] - sum(s for s, _ in nb_scores[student].values())) <= 0.011


@slow
@pytest.mark.parametrize("student", ["logits_confusion", "float_and_batches"])
def test_nbgrader_and_the_pytest_engine_agree(nb_scores, student, tmp_path):
    """The pytest engine (one test per exercise) against nbgrader's cells."""
    notebook = SUBMITTED / student / ASSIGNMENT / NOTEBOOK
    out = tmp_path / "result.json"
    run(BIN / "pytest", "-p", "no:cacheprovider", "-p", "autograder.integrations.pytest.plugin",
        "--pyargs", "autograder.integrations.pytest.graded",
        "--tfkit-submission", notebook, "--tfkit-seed", DEFAULT_SEED, "--tfkit-json", out, check=False)
    result = json.loads(out.read_text())
    for name, (score, _) in nb_scores[student].items():
        assert abs(result["exercises"][name]["score"] - score) <= 0.011, (student, name)


# --- Tampered submissions -----------------------------------------------------------------

TAMPERED = ("tampered_edited_test", "tampered_deleted_test", "tampered_markdown_test",
            "tampered_duplicated_solution")


def _tampered_notebooks():
    full = read(SUBMITTED / "full_marks" / ASSIGNMENT / NOTEBOOK)
    index = {grade_id(c): i for i, c in enumerate(full.cells) if grade_id(c)}
    notebooks = {}

    edited = copy.deepcopy(full)
    edited.cells[index["test_loss"]].source = "pass"
    notebooks["tampered_edited_test"] = edited

    deleted = copy.deepcopy(full)
    del deleted.cells[index["test_grad"]]
    notebooks["tampered_deleted_test"] = deleted

    markdown = copy.deepcopy(full)
    old = markdown.cells[index["test_accuracy"]]
    markdown.cells[index["test_accuracy"]] = nbformat.v4.new_markdown_cell(
        old.source, metadata=copy.deepcopy(old.metadata), id=old.id)
    notebooks["tampered_markdown_test"] = markdown

    # A copy of the predict solution cell (same nbgrader metadata) right after the
    # original, with column_predict's wrong body: what Jupyter's copy-paste gives.
    duplicated = copy.deepcopy(full)
    wrong = copy.deepcopy(full.cells[index["predict"]])
    wrong.source = _column_predict_source()
    wrong.id = "predict-copy"
    duplicated.cells.insert(index["predict"] + 1, wrong)
    notebooks["tampered_duplicated_solution"] = duplicated
    return notebooks


def _column_predict_source():
    column = read(SUBMITTED / "column_predict" / ASSIGNMENT / NOTEBOOK)
    return next(c.source for c in column.cells if grade_id(c) == "predict")


@pytest.fixture(scope="module")
def tampered(course):
    """The four tampered full_marks notebooks, autograded as extra students of ``course``."""
    for student, notebook in _tampered_notebooks().items():
        path = course / "submitted" / student / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    done = autograde(course, "--student=tampered_*")
    missing = [s for s in TAMPERED if not autograded(course, s).is_file()]
    assert not missing, f"nbgrader did not grade {missing}:\n{log_of(done)[-6000:]}"
    return gradebook_scores(course, TAMPERED), {s: read(autograded(course, s)) for s in TAMPERED}


def _full(scores):
    return {name: max_score for name, (score, max_score) in scores.items() if score == max_score}


@slow
def test_tampered_locked_cells_are_restored(tampered):
    """An edited, a deleted and a retyped test cell all come back from the gradebook,
    so the honest full_marks code keeps all 100 points.

    - test_loss edited to ``pass``: OverwriteCells sees the locked cell's checksum
      change and puts the source notebook's cell (hidden tests included) back.
    - test_grad deleted: OverwriteCells.add_missing_cells re-adds it after check_grad,
      where it was, with a comment line saying so. (Stock nbgrader 0.9.6 crashes here
      with KeyError 'check_grad'; the kit's RestoreCells fixes that.)
    - test_accuracy turned into a markdown cell: OverwriteCells turns it back into a
      code cell and restores its source.
    """
    scores, notebooks = tampered
    source = {grade_id(c): c.source for c in read(SOURCE).cells if grade_id(c)}
    for student in TAMPERED[:3]:
        assert _full(scores[student]) == {n: ex.points for n, ex in EXERCISES.items()}, student
        assert stderr_problems(notebooks[student], scores[student]) == [], student

    assert graded_cells(notebooks["tampered_edited_test"])["loss"].source == source["test_loss"]

    cells = notebooks["tampered_deleted_test"].cells
    ids = [grade_id(c) for c in cells]
    restored = cells[ids.index("test_grad")]
    assert ids.count("test_grad") == 1 and ids[ids.index("test_grad") - 1] == "check_grad"
    assert restored.source.startswith("# This cell (id:test_grad) was missing")
    assert restored.source.endswith(source["test_grad"])

    retyped = graded_cells(notebooks["tampered_markdown_test"])["accuracy"]
    assert retyped.cell_type == "code" and retyped.source == source["test_accuracy"]


@slow
def test_tampered_duplicate_solution_graded_as_run(tampered, nb_scores):
    """A duplicated predict solution cell (same grade_id), placed after the original
    with a wrong body, is graded as the notebook runs: the later, wrong definition is
    the one test_predict sees, so predict scores what column_predict (the same wrong
    body) scores, and every other exercise keeps full marks: the cells' run order,
    which is also what tfgrade grades.

    nbgrader's DeduplicateIds keeps the grade_id on the LAST copy and strips it from
    the earlier ones; stock nbgrader 0.9.6 then fails the whole submission (the
    stripped copy's empty metadata is rejected as an "old metadata version",
    jupyter/nbgrader#1083). The kit's DropDuplicateIds removes the metadata instead,
    so the original cell still runs, as a plain code cell.
    """
    scores, notebooks = tampered
    got = scores["tampered_duplicated_solution"]
    assert got["predict"] == nb_scores["column_predict"]["predict"]
    assert got["predict"][0] < got["predict"][1]
    assert {n: s for n, s in got.items() if n != "predict"} == \
        {n: s for n, s in nb_scores["full_marks"].items() if n != "predict"}

    cells = notebooks["tampered_duplicated_solution"].cells
    wrong = _column_predict_source()
    tagged = [i for i, c in enumerate(cells) if grade_id(c) == "predict"]
    assert len(tagged) == 1 and cells[tagged[0]].source == wrong
    original = cells[tagged[0] - 1]
    assert "nbgrader" not in original.metadata and "### BEGIN SOLUTION" not in original.source
    assert original.source.startswith("def predict(")


# --- The whole round trip through a local exchange ----------------------------------------

@pytest.fixture(scope="module")
def exchange_course(tmp_path_factory, released_course):
    """release_assignment, fetch_assignment and submit (as the student alice, in her own
    folder), collect, autograde, generate_feedback, export, release_feedback and
    fetch_feedback, in a second temporary course (a copy of the session's, where
    generate_assignment ran: conftest.released_course)."""
    base = tmp_path_factory.mktemp("exchange_round_trip")
    root = new_course(base / "course", released_course)
    home, exchange = base / "home", base / "exchange"
    home.mkdir()
    exchange.mkdir()
    exchange.chmod(0o777)
    shared = [f"--Exchange.root={exchange}", f"--Exchange.cache={base / 'cache'}",
              "--CourseDirectory.course_id=tfkit"]

    def instructor(*args):
        return nbgrader(root, *args, *shared)

    def student(*args):  # no course config where alice works; her own HOME
        return run(BIN / "nbgrader", *args, *shared, cwd=home, env={"HOME": str(home)})

    instructor("release_assignment", ASSIGNMENT)
    student("fetch_assignment", ASSIGNMENT)
    fetched = home / ASSIGNMENT / NOTEBOOK
    received = fetched.read_text()
    shutil.copy(SUBMITTED / "column_predict" / ASSIGNMENT / NOTEBOOK, fetched)
    student("submit", ASSIGNMENT, "--student=alice")  # else the OS user name is the id
    # Everything here belongs to root, not to "alice": skip collect's ownership warning.
    instructor("collect", ASSIGNMENT, "--ExchangeCollect.check_owner=False")
    autograde(root, *shared)
    assert autograded(root, "alice").is_file()
    instructor("generate_feedback", ASSIGNMENT)
    instructor("export", f"--to={base / 'grades.csv'}")
    instructor("release_feedback", ASSIGNMENT)
    student("fetch_feedback", ASSIGNMENT, "--student=alice")
    return {"root": root, "home": home, "base": base, "received": received,
            "instructor": instructor}


@slow
def test_round_trip_export_has_the_graded_total(exchange_course, tfgrade_results):
    root = exchange_course["root"]
    assert "BEGIN HIDDEN TESTS" not in exchange_course["received"]  # what alice fetched
    assert (root / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK).read_bytes() == \
        (SUBMITTED / "column_predict" / ASSIGNMENT / NOTEBOOK).read_bytes()
    with open(exchange_course["base"] / "grades.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["assignment"] == ASSIGNMENT]
    assert [row["student_id"] for row in rows] == ["alice"]
    total, max_score = float(rows[0]["score"]), float(rows[0]["max_score"])
    assert max_score == TOTAL_POINTS and 0 < total < max_score
    assert total == pytest.approx(tfgrade_results["column_predict"]["score"], abs=0.011)
    scores = gradebook_scores(root, ["alice"])["alice"]
    assert {n for n, (s, m) in scores.items() if s < m} == set(EXPECTED["column_predict"])


@slow
def test_round_trip_feedback_hides_tests_and_explains(exchange_course, tfgrade_results):
    root, home = exchange_course["root"], exchange_course["home"]
    feedback = root / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    fetched = list((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(fetched) == 1 and fetched[0].read_bytes() == feedback.read_bytes()

    # The autograded notebook ran the hidden tests; the feedback must not show them...
    autograded_tests = graded_cells(read(autograded(root, "alice")))
    assert all("BEGIN HIDDEN TESTS" in cell.source for cell in autograded_tests.values())
    text = html_text(feedback)
    for marker in HIDDEN_MARKERS:
        assert marker not in text
    assert 'grade("predict", globals())' not in text
    # ...but does carry what the kit printed for the exercise that lost points.
    first_line = tfgrade_results["column_predict"]["exercises"]["predict"]["feedback"].splitlines()[0]
    assert first_line.startswith("predict: ") and first_line in text
    assert f"Hint: {HINT_COLUMN}" in text


@slow
def test_round_trip_feedback_would_leak_without_clear_hidden_tests(exchange_course):
    """The control: nbgrader's default feedback preprocessors copy the hidden tests into
    the HTML, so it is the config's ClearHiddenTests that keeps them out."""
    root = exchange_course["root"]
    exchange_course["instructor"](
        "generate_feedback", ASSIGNMENT, "--force",
        "--CourseDirectory.feedback_directory=feedback_default",
        "--GenerateFeedback.preprocessors=nbgrader.preprocessors.GetGrades",
        "--GenerateFeedback.preprocessors=nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    text = html_text(root / "feedback_default" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert all(marker in text for marker in HIDDEN_MARKERS)


# --- tfgrade autograde: nbgrader's pipeline, graded in the sandbox -------------------------

GRADE_REPLACED = "import autograder.integrations.nbgrader.kernel\nautograder.integrations.nbgrader.kernel.grade = lambda *args, **kwargs: None\n"


def _with_grade_replaced(release):
    """The untouched release whose first solution cell replaces the hidden tests'
    grading function: in nbgrader's own kernel this passes every hidden test."""
    notebook = copy.deepcopy(release)
    cell = next(c for c in notebook.cells if grade_id(c) == "predict")
    cell.source = GRADE_REPLACED + cell.source
    return notebook


def _export(course) -> dict:
    nbgrader(course, "export")
    with open(course / "grades.csv") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


@slow
def test_tfgrade_autograde_fills_nbgraders_gradebook(course, nb_scores):
    """Export reads what tfgrade autograde wrote; replacing the grading function earns
    nothing, since grading happens in the sandbox and not in a kernel."""
    exported = _export(course)
    assert exported["full_marks"] == 100.0 and exported["untouched"] == 0.0
    assert exported["grade_replaced"] == 0.0
    assert nbgrader_scores(course, ["grade_replaced"])["grade_replaced"] == \
        {name: score for name, (score, _) in nb_scores["untouched"].items()}


@slow
def test_tfgrade_autograde_feedback_explains_without_hidden_tests(course):
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--student=grade_replaced", "--force")
    page = html_text(course / "feedback" / "grade_replaced" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html"))
    assert not any(marker in page for marker in HIDDEN_MARKERS)
    assert f"predict: 0 / {EXERCISES['predict'].points:g}" in page and "NotImplementedError" in page


@slow
def test_the_grade_replacing_cell_wins_in_nbgraders_own_kernel(course, tmp_path):
    """The same course with nbgrader's default Execute step (the sandboxed lines cut
    from its config): the replaced grading function then earns full marks."""
    unsafe = tmp_path / "unsafe"
    shutil.copytree(course, unsafe, ignore=shutil.ignore_patterns("autograded", "feedback"))
    config = (unsafe / "nbgrader_config.py").read_text()
    (unsafe / "nbgrader_config.py").write_text(config[:config.index("c.Autograde.autograde_preprocessors")])
    nbgrader(unsafe, "autograde", ASSIGNMENT, "--student=grade_replaced", "--force")
    assert _export(unsafe)["grade_replaced"] == 100.0
