"""The maintainer's path, proven: a new exercise touches the source notebook, one exercise
module (and its line in the registry), and its corpus; points come from another exercise.

The course and the package are copied to a temporary folder; the copy of the package is
found first on PYTHONPATH (and bound into the sandbox, which binds the package it was
imported from). After `make release`'s build, `tfgrade selftest --quick` passes there,
grading the solution, the untouched release and the new exercise's corpus in the
sandbox. Without the heading that states its points, selftest names what is missing.
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

from ..compare import Mistake, shape_is, values_close
from ..lazy import tf
from ..replies import answer
from .exercise import Exercise
from .inputs import f32

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

TEST = '''# Hidden tests grade `sigmoid` (4 points) against reference TensorFlow results.
### BEGIN HIDDEN TESTS
from autograder.kernel import grade
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
    """What the maintainer's guide says to do, and nothing else."""
    # The exercise's module, and its line in the registry.
    (package / "exercises" / "sigmoid.py").write_text(MODULE, encoding="utf-8")
    registry = package / "exercises" / "__init__.py"
    _replace(registry, "predict,\n               train,", "predict,\n               sigmoid, train,")
    _replace(registry, "train_with_optimizer, train_minibatch)", "train_with_optimizer, train_minibatch, sigmoid)")
    # Its 4 points come from train_minibatch: its module and its cells.
    _replace(package / "exercises" / "train_minibatch.py", "points=12", "points=8")
    path = course / "source" / "tf_from_scratch" / "tf_from_scratch.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "`train_minibatch` (12 points)" in cell.source:
            cell.source = cell.source.replace("(12 points)", "(8 points)")
        if grade_id(cell) == "test_train_minibatch":
            cell.metadata["nbgrader"]["points"] = 8
            cell.source = cell.source.replace("(12 points)", "(8 points)")
    at = 1 + next(i for i, c in enumerate(notebook.cells) if grade_id(c) == "test_train_minibatch")
    notebook.cells[at:at] = [
        *([_cell("markdown", "### Exercise 12: `sigmoid` (4 points)\n\nWrite `sigmoid(z)`, the "
                 "logistic function of every element of `z`.")] if heading else []),
        _cell("code", SOLUTION, {"grade_id": "sigmoid", "locked": False, "solution": True}),
        _cell("code", CHECK, {"grade_id": "check_sigmoid"}, role="check"),
        _cell("code", TEST, {"grade_id": "test_sigmoid", "grade": True, "points": 4}),
    ]
    nbformat.write(notebook, str(path))
    # Its corpus.
    for kind, snippets in (("mutants", MUTANTS), ("alternatives", ALTERNATIVES)):
        folder = course / "tests" / kind / "sigmoid"
        folder.mkdir(parents=True)
        for name, text in snippets.items():
            (folder / f"{name}.py").write_text(text, encoding="utf-8")


def copy_course(tmp_path):
    course, package_root = tmp_path / "course", tmp_path / "package"
    for folder in ("source", "release", "solutions", "tests/mutants", "tests/alternatives"):
        shutil.copytree(ROOT / folder, course / folder)
    shutil.copy(ROOT / "nbgrader_config.py", course)
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
    built = python(env, course, "-m", "autograder.build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    release = nbformat.read(str(course / "release" / "tf_from_scratch" / "tf_from_scratch.ipynb"), 4)
    stub = next(c for c in release.cells if grade_id(c) == "sigmoid")
    assert "NotImplementedError" in stub.source and "tf.exp(-z)" not in stub.source
    selftest = python(env, course, "-m", "autograder.cli", "selftest", "--quick", "--exercise", "sigmoid")
    assert selftest.returncode == 0, selftest.stdout[-4000:] + selftest.stderr[-3000:]
    for subject in ("sigmoid", "mutant sigmoid/wrong_sign", "alternative sigmoid/builtin",
                    "solution earns every point", "untouched release earns nothing"):
        assert subject in selftest.stdout


@pytest.mark.slow
def test_selftest_names_the_step_that_is_missing(tmp_path):
    course, package, env = copy_course(tmp_path)
    add_sigmoid(course, package, heading=False)
    code = ("import nbformat; from autograder.selftest import check_structure\n"
            "nb = nbformat.read('source/tf_from_scratch/tf_from_scratch.ipynb', 4)\n"
            "print('\\n'.join(f'{r.subject}: {r.detail}' for r in check_structure(nb) if not r.ok))")
    done = python(env, course, "-c", code, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sigmoid: the heading of `sigmoid` states no points, the contract 4" in done.stdout
