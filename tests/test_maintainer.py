"""The maintainer's path, proven: points are declared once, in the exercise modules, and
`make release` writes them everywhere else; a new exercise touches the source notebook, one
exercise module (and its line in the registry), and its corpus. And one course, one package:
the commands say which they use, and stop when the two disagree.

The course and the package are copied to a temporary folder; the copy of the package is
found first on PYTHONPATH (and bound into the sandbox, which binds the package it was
imported from). After `make release`'s build, `tfgrade selftest --quick` passes there,
grading the solution, the untouched release and the new exercise's corpus in the
sandbox. Without the heading naming the exercise, selftest names what is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT, grade_id

MODULE = '''"""Exercise 12: ``sigmoid(z)``, the logistic function."""
from __future__ import annotations

from autograder.boundary.replies import answer
from autograder.checking.compare import Mistake, shape_is, values_close
from autograder.exercises.exercise import Exercise
from autograder.exercises.support.inputs import f32
from autograder.exercises.support.lazy import tf

HINT_SIGMOID_SIGN = "The values are sigmoid(-z): check the sign inside the exponential."


def cases(rng):
    return [{"z": f32(rng.normal(0, 3, n)), "label": f"z of shape ({n},)"} for n in (5, 40)]


def probe(namespace, case):
    return {"out": namespace["sigmoid"](tf.constant(case["z"]))}


def expect(reference, case):
    return reference.sigmoid(tf.constant(case["z"])).numpy()


def judge(case, answer, want):
    return [shape_is(f"shape of sigmoid(z) for {case['label']}", answer["out"], want.shape),
            values_close(f"values of sigmoid(z) for {case['label']}", answer["out"], want,
                         rtol=1e-5, atol=1e-6, mistakes=[Mistake(HINT_SIGMOID_SIGN, 1 - want)], weight=2)]


EXERCISE = Exercise(name="sigmoid", defines="sigmoid", signature="sigmoid(z)", points=4,
                    cases=cases, probe=probe, expect=expect, judge=judge,
                    schema=lambda case: {"out": answer})
'''

SOLUTION = '''def sigmoid(z):
    """The logistic function, elementwise: 1 / (1 + exp(-z))."""
    ### BEGIN SOLUTION
    return 1 / (1 + tf.exp(-z))
    ### END SOLUTION'''

CHECK = '''# Visible checks for sigmoid.
_s = sigmoid(tf.constant([0.0, 50.0]))
assert abs(float(_s[0]) - 0.5) < 1e-6, "sigmoid(0) should be 0.5"
assert float(_s[1]) > 0.99, "sigmoid of a large number should be close to 1"'''

# Copied from another exercise's test cell: `make release` writes sigmoid's points into it.
TEST = '''# Hidden tests grade `sigmoid` (12 points) against reference TensorFlow results.
### BEGIN HIDDEN TESTS
from autograder.integrations.nbgrader.kernel import grade
grade("sigmoid", globals())
### END HIDDEN TESTS'''

MUTANTS = {
    "wrong_sign": "# mutant: exp(z) instead of exp(-z)\n# hint: HINT_SIGMOID_SIGN\n"
                  "def sigmoid(z):\n    return 1 / (1 + tf.exp(z))\n",
    "identity": "# mutant: returns its input\ndef sigmoid(z):\n    return z\n",
    "other_name": "# mutant: defines the function under another name\n"
                  "def logistic(z):\n    return tf.sigmoid(z)\n",
}
ALTERNATIVES = {
    "builtin": "# alternative: TensorFlow's own sigmoid\ndef sigmoid(z):\n    return tf.sigmoid(z)\n",
    "reciprocal": "# alternative: tf.math.reciprocal\n"
                  "def sigmoid(z):\n    return tf.math.reciprocal(1.0 + tf.math.exp(-z))\n",
}


def _cell(kind, source, nbgrader=None, role=None):
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(source)
    if nbgrader is not None:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "locked": True,
                                     "solution": False, "task": False, **nbgrader}
    if role:
        cell.metadata["tfkit"] = {"role": role}
    return cell


def _replace(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_sigmoid(course, package, heading=True):
    """What the maintainer's guide says to do, and nothing else: the points are written
    in the module only (`make release` writes them into the notebook)."""
    # The exercise's module, and its line in the registry.
    (package / "exercises" / "sigmoid.py").write_text(MODULE, encoding="utf-8")
    registry = package / "exercises" / "__init__.py"
    _replace(registry, "predict, train,", "predict, sigmoid, train,")
    _replace(registry, "train_with_optimizer, train_minibatch)", "train_with_optimizer, train_minibatch, sigmoid)")
    # Its 4 points come from train_minibatch: its module only.
    _replace(package / "exercises" / "train_minibatch.py", "points=12", "points=8")
    path = course / "source" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    at = 1 + next(i for i, c in enumerate(notebook.cells) if grade_id(c) == "test_train_minibatch")
    notebook.cells[at:at] = [
        *([_cell("markdown", "### Exercise 12: `sigmoid`\n\nWrite `sigmoid(z)`, the "
                 "logistic function of every element of `z`.")] if heading else []),
        _cell("code", SOLUTION, {"grade_id": "sigmoid", "locked": False, "solution": True}),
        _cell("code", CHECK, {"grade_id": "check_sigmoid"}, role="check"),
        _cell("code", TEST, {"grade_id": "test_sigmoid", "grade": True, "points": 12}),
    ]
    nbformat.write(notebook, str(path))
    # Its corpus.
    for kind, snippets in (("mutants", MUTANTS), ("alternatives", ALTERNATIVES)):
        folder = course / "tests" / kind / "sigmoid"
        folder.mkdir(parents=True)
        for name, text in snippets.items():
            (folder / f"{name}.py").write_text(text, encoding="utf-8")


def stated(course, name) -> dict:
    """Where the source notebook of ``course`` states the points of exercise ``name``:
    {"heading": line, "metadata": points, "comment": first line of the test cell}."""
    notebook = nbformat.read(str(course / "source" / "tf_from_scratch" / "tf_from_scratch.ipynb"), 4)
    test = next(c for c in notebook.cells if grade_id(c) == f"test_{name}")
    heading = [line for c in notebook.cells if c.cell_type == "markdown"
               for line in c.source.splitlines() if line.startswith("#") and f"`{name}`" in line]
    return {"heading": heading, "metadata": test.metadata["nbgrader"]["points"],
            "comment": test.source.splitlines()[0]}


def copy_course(tmp_path):
    course, package_root = tmp_path / "course", tmp_path / "package"
    for folder in ("source", "release", "solutions", "tests/mutants", "tests/alternatives"):
        shutil.copytree(ROOT / folder, course / folder)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copy(ROOT / "README.md", course)
    shutil.copytree(ROOT / "autograder", package_root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package_root), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("TFKIT_COURSE", None)
    return course, package_root / "autograder", env


def python(env, cwd, *args, timeout=900):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_a_new_exercise_passes_selftest_after_the_guides_steps(tmp_path):
    course, package, env = copy_course(tmp_path)
    add_sigmoid(course, package)
    done = python(env, course, "-c", "import autograder; print(autograder.__file__)")
    assert done.stdout.startswith(str(package)), done.stdout + done.stderr
    built = python(env, course, "-m", "autograder.authoring.build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert stated(course, "sigmoid") == {
        "heading": ["### Exercise 12: `sigmoid` (4 points)"], "metadata": 4,
        "comment": "# Hidden tests grade `sigmoid` (4 points) against reference TensorFlow results."}
    assert stated(course, "train_minibatch")["metadata"] == 8
    assert "| `sigmoid` | 4 |" in (course / "README.md").read_text(encoding="utf-8")
    assert "12 graded exercises worth 100 points in total" in (course / "README.md").read_text(encoding="utf-8")
    release = nbformat.read(str(course / "release" / "tf_from_scratch" / "tf_from_scratch.ipynb"), 4)
    assert next(c for c in release.cells if grade_id(c) == "test_sigmoid").metadata["nbgrader"]["points"] == 4
    stub = next(c for c in release.cells if grade_id(c) == "sigmoid")
    assert "NotImplementedError" in stub.source and "tf.exp(-z)" not in stub.source
    selftest = python(env, course, "-m", "autograder.cli", "selftest", "--quick", "--exercise", "sigmoid")
    assert selftest.returncode == 0, selftest.stdout[-4000:] + selftest.stderr[-3000:]
    for subject in ("sigmoid", "mutant sigmoid/wrong_sign", "alternative sigmoid/builtin",
                    "solution earns every point", "untouched release earns nothing"):
        assert subject in selftest.stdout
    assert f"package: {package}" in selftest.stderr and f"course:  {course}" in selftest.stderr


def test_selftest_names_the_step_that_is_missing(tmp_path):
    course, package, env = copy_course(tmp_path)
    add_sigmoid(course, package, heading=False)
    code = ("import nbformat; from pathlib import Path\n"
            "from autograder.authoring.build import write_source_points; from autograder.authoring.selftest import check_structure\n"
            "write_source_points(Path('.'))\n"  # what `make release` does first
            "nb = nbformat.read('source/tf_from_scratch/tf_from_scratch.ipynb', 4)\n"
            "print('\\n'.join(f'{r.subject}: {r.detail}' for r in check_structure(nb) if not r.ok))")
    done = python(env, course, "-c", code, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sigmoid: the heading of `sigmoid` states no points, the contract 4" in done.stdout
    assert "is worth" not in done.stdout and "comment" not in done.stdout, done.stdout


@pytest.mark.slow
def test_a_points_change_is_made_in_the_module_only(tmp_path):
    """The guide's points change: edit `points=` in two modules, `make release`. The total
    is the new sum (102), stated in the notebook, the release and the README; a second
    release writes nothing."""
    course, package, env = copy_course(tmp_path)
    _replace(package / "exercises" / "predict.py", "points=8", "points=6")
    _replace(package / "exercises" / "train_minibatch.py", "points=12", "points=16")
    built = python(env, course, "-m", "autograder.authoring.build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert stated(course, "predict") == {
        "heading": ["### Exercise 1: `predict` (6 points)"], "metadata": 6,
        "comment": "# Hidden tests grade `predict` (6 points) against reference TensorFlow results."}
    assert stated(course, "train_minibatch")["metadata"] == 16
    readme = (course / "README.md").read_text(encoding="utf-8")
    assert "11 graded exercises worth 102 points in total" in readme and "| total | 102 |" in readme
    release = nbformat.read(str(course / "release" / "tf_from_scratch" / "tf_from_scratch.ipynb"), 4)
    assert sum(c.metadata["nbgrader"].get("points", 0) for c in release.cells
               if c.metadata.get("nbgrader", {}).get("grade")) == 102
    code = ("import nbformat; from pathlib import Path\n"
            "from autograder.authoring.build import write_readme, write_source_points\n"
            "from autograder.authoring.selftest import check_structure\n"
            "nb = nbformat.read('source/tf_from_scratch/tf_from_scratch.ipynb', 4)\n"
            "print([r.subject for r in check_structure(nb) if not r.ok])\n"
            "print(write_source_points(Path('.')), write_readme(Path('.')))")
    done = python(env, course, "-c", code, timeout=300)
    assert done.stdout.split("\n")[:2] == ["[]", "False False"], done.stdout + done.stderr[-2000:]


def tfgrade(env, cwd, *args, timeout=900):
    """The `tfgrade` command as installed: unlike `python -m`, it does not put the current
    folder first on the path, so the package it imports is the environment's."""
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "tfgrade"), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_a_course_whose_own_exercises_differ_from_the_package_stops_its_commands(tmp_path):
    """The issue's case: the course is a checkout with its own autograder/, whose predict.py
    the maintainer changed, while the environment imports another checkout's package."""
    course, package, env = copy_course(tmp_path)
    shutil.copytree(package, course / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    _replace(course / "autograder" / "exercises" / "predict.py", "points=8", "points=6")
    for command in (("selftest", "--quick"), ("grade", "release", "--out", str(tmp_path / "out"))):
        done = tfgrade(env, course, *command, timeout=300)
        assert done.returncode == 2, done.stdout + done.stderr
        course_line, package_line, error, *rest = done.stderr.splitlines()
        assert (course_line, package_line) == (f"course:  {course}", f"package: {package}")
        assert error.startswith(f"tfgrade {command[0]}: error: the course's {course / 'autograder' / 'exercises'} "
                                f"is not the package's {package / 'exercises'} (predict.py differ)"), error
        assert rest == [] and done.stdout == ""
    assert not (tmp_path / "out").exists()
    # `make release` run from below the course root imports the environment's package too:
    # it would write that package's points, so it stops as well.
    source = course / "source" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    before = source.read_bytes()
    done = python(env, course / "source", "-m", "autograder.authoring.build", timeout=300)
    assert done.returncode == 1 and source.read_bytes() == before, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1].startswith("make release: error: the course's "), done.stderr


def test_a_notebook_that_disagrees_with_the_registry_stops_grade_and_autograde(tmp_path):
    """A course without a package of its own (installed from a wheel, say) whose source
    notebook states other points, or other exercises, than the package imported."""
    course, package, env = copy_course(tmp_path)
    _replace(package / "exercises" / "predict.py", "points=8", "points=6")
    (course / "submitted").mkdir()
    for command in (("grade", "release", "--out", str(tmp_path / "out")), ("autograde", "tf_from_scratch")):
        done = tfgrade(env, course, *command, timeout=300)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.splitlines()[:2] == [f"course:  {course}", f"package: {package}"]
        [error] = done.stderr.splitlines()[2:]
        assert "test_predict is worth 8 points there, 6 in the package" in error, error
    _replace(package / "exercises" / "predict.py", "points=6", "points=8")
    _replace(package / "exercises" / "__init__.py", "(predict, loss, accuracy,", "(predict, loss,")
    done = tfgrade(env, course, "grade", "release", "--out", str(tmp_path / "out"), timeout=300)
    assert done.returncode == 2 and "test_accuracy are no exercise of the package" in done.stderr, done.stderr


@pytest.mark.slow
def test_grade_says_which_course_and_package_on_stderr_only(tmp_path):
    course, package, env = copy_course(tmp_path)
    shutil.copytree(package, course / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    done = tfgrade(env, course, "grade", "release", "--out", str(tmp_path / "out"), "--jobs", "1",
                   "--quiet", timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.splitlines()[:2] == [f"course:  {course}", f"package: {package}"]
    assert str(package) not in done.stdout and "course:" not in done.stdout
    assert (tmp_path / "out" / "grades.csv").is_file()
