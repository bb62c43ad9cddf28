"""`tfgrade check` blames the right exercise and shows the whole error (issue 13, item 5).

The real-kernel tests run the solutions notebook with one or two solution cells replaced
(the release's stub, or a realistic mistake) and read the command's report. The fast
tests feed the traceback reader made-up kernel output.
"""
import subprocess
import sys

import nbformat
import pytest

from autograder.authoring.check import (HINT_NOT_DONE, MAX_ERROR_LINES, Failure, error_lines,
                                        explain, failure_of, other_errors, read_course, verdicts_of)
from autograder.exercises import EXERCISES
from conftest import BIN, RELEASE, SOLUTION, grade_id, read, run, with_cell

COLUMN_PREDICT = '''def predict(W, b, inputs):
    return tf.sigmoid(tf.matmul(inputs, W) + b)
'''
GRAD_WITHOUT_TAPE = '''def grad(W, b, inputs, targets):
    loss_value = loss(W, b, inputs, targets)
    with tf.GradientTape() as tape:
        tape.watch(W)
        tape.watch(b)
    dW, db = tape.gradient(loss_value, (W, b))
    return loss_value, (dW, db)
'''
TRANSPOSED_DENSE = '''class MyDense(tf.keras.layers.Layer):
    def __init__(self, num_outputs, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=(input_shape[-1], self.num_outputs))
        self.b = self.add_weight(name="b", shape=(self.num_outputs,), initializer="zeros")

    def call(self, inputs):
        return tf.matmul(self.W, inputs) + self.b
'''


def release_source(exercise: str) -> str:
    return next(c.source for c in read(RELEASE).cells if grade_id(c) == exercise)


def check_report(tmp_path, replacements: dict) -> tuple[int, dict, str]:
    """Run `tfgrade check` on the solutions with some solution cells replaced; returns
    the exit code, each exercise's lines of the report, and the whole output."""
    notebook = read(SOLUTION)
    for exercise, source in replacements.items():
        notebook = with_cell(notebook, source, replace=exercise)
    path = tmp_path / "tf_from_scratch.ipynb"
    nbformat.write(notebook, str(path))
    done = run(BIN / "tfgrade", "check", path, check=False)
    by_signature = {e.signature: name for name, e in EXERCISES.items()}
    blocks, current = {}, None
    for line in done.stdout.splitlines():
        if line[:4] in ("  ✓ ", "  ✗ "):
            current = by_signature[line[4:]]
            blocks[current] = [line[2]]
        elif current and line.startswith("      "):
            blocks[current].append(line.strip())
        else:
            current = None
    return done.returncode, {name: "\n".join(lines) for name, lines in blocks.items()}, done.stdout


@pytest.mark.slow
def test_a_stubbed_predict_is_named_instead_of_four_correct_functions(tmp_path):
    code, report, output = check_report(tmp_path, {"predict": release_source("predict"),
                                                   "my_dense": TRANSPOSED_DENSE})
    assert code == 1 and "\x1b" not in output, output
    assert report["predict"] == f"✗\n{HINT_NOT_DONE}"
    for name in ("loss", "accuracy", "grad", "train"):  # correct, but they call predict
        assert report[name].startswith("✗\n`predict` still raises NotImplementedError"), report[name]
        assert HINT_NOT_DONE not in report[name]
    # A Keras 3 error in full: the explanation after its first line, the arguments, the line.
    dense = report["my_dense"]
    assert "Exception encountered when calling MyDense.call()" in dense
    assert "Matrix size-incompatible" in dense and "Arguments received by MyDense.call()" in dense
    assert "raised at `return tf.matmul(self.W, inputs) + self.b` in MyDense.call" in dense
    assert "{{function_node" not in dense and len(dense.splitlines()) <= 1 + MAX_ERROR_LINES
    assert report["my_model"].startswith("✗\n`MyDense` fails its own check: fix it first"), report["my_model"]
    for name in ("model_loss", "model_grad", "train_with_optimizer", "train_minibatch"):
        assert report[name] == "✓", report[name]


@pytest.mark.slow
def test_a_column_predict_and_a_tapeless_grad_are_named_where_they_break_later_checks(tmp_path):
    code, report, output = check_report(tmp_path, {"predict": COLUMN_PREDICT, "grad": GRAD_WITHOUT_TAPE})
    assert code == 1, output
    assert "flatten the (n, 1) column" in report["predict"]
    for name in ("loss", "accuracy"):  # the (n, n) broadcasting trap shows up here
        assert report[name].startswith("✗\n`predict` fails its own check: fix it first"), report[name]
        assert "AssertionError:" in report[name]  # and the check's own message follows
    assert "a gradient is None" in report["grad"]
    train = report["train"]
    assert "`grad`" in train.splitlines()[1] and "fix them first" in train, train
    assert "TypeError: unsupported operand" in train and "in train" in train
    assert report["my_dense"] == report["train_minibatch"] == "✓"


def test_the_check_command_does_not_import_tensorflow():
    done = subprocess.run([sys.executable, "-c",
                           "import sys, autograder.cli.main, autograder.authoring.check\n"
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def kernel_error(ename, evalue, *entries) -> dict:
    """An error output as the kernel sends it, coloured."""
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": ["\x1b[31m----\x1b[39m", *entries, f"\x1b[31m{ename}\x1b[39m: {evalue}"]}


def executed_solutions(errors: dict) -> list:
    """The solutions' cells as if run with execution counts 1, 2, ...; ``errors`` maps a
    grade id to the error output its cell shows."""
    cells = read(SOLUTION).cells
    for count, cell in enumerate(c for c in cells if c.cell_type == "code"):
        cell.execution_count, cell.outputs = count + 1, [errors[grade_id(cell)]] if grade_id(cell) in errors else []
    return cells


def count_of(cells, exercise) -> int:
    return next(c.execution_count for c in cells if grade_id(c) == exercise)


def test_the_innermost_student_frame_names_the_culprit():
    cells = executed_solutions({})
    predict_in, check_in = count_of(cells, "predict"), count_of(cells, "check_loss")
    cells = executed_solutions({"check_loss": kernel_error(
        "ValueError", "bad shapes",
        f"\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[{check_in}]\x1b[39m\x1b[32m, line 6\x1b[39m\n"
        "\x1b[32m----> \x1b[39m\x1b[32m6\x1b[39m _l0 = loss(_W, _b, _x, _t)\n",
        "File \x1b[32m/tmp/ipykernel_77/123456789.py:8\x1b[39m, in \x1b[36mloss\x1b[39m(W, b, inputs, targets)\n"
        "----> 8     preds = predict(W, b, inputs)\n",
        f"Cell In[{predict_in}], line 2, in predict(W, b, inputs)\n"
        "----> 2     return tf.matmul(W, inputs)\n")})
    course = read_course(cells, list(range(1, len(cells) + 1)))
    counts = {c.execution_count: i for i, c in enumerate(cells) if c.cell_type == "code"}
    failure = failure_of(next(c for c in cells if grade_id(c) == "check_loss"))
    assert [f.name for f in failure.frames] == ["", "loss", "predict"]
    assert explain("loss", failure, course, counts, set()) == [
        "The error is raised inside `predict`, which passes its own check: look at what this exercise "
        "passes to it.", "ValueError: bad shapes", "  raised at `return tf.matmul(W, inputs)` in predict"]
    blamed = explain("loss", failure, course, counts, {"predict"})
    assert blamed[0] == "`predict` fails its own check: fix it first (this check calls it)."
    assert course.uses["train"] >= {"grad", "loss", "predict"} and "train" not in course.uses["train"]


def test_a_long_error_is_shown_whole_up_to_a_bound():
    short = failure_of({"outputs": [kernel_error(
        "InvalidArgumentError", "Exception encountered when calling MyDense.call().\n\n"
        "\x1b[1m{{function_node __wrapped__MatMul_device_/job:localhost}} Matrix size-incompatible\x1b[0m")]})
    assert error_lines(short) == ["InvalidArgumentError: Exception encountered when calling MyDense.call().",
                                  "  Matrix size-incompatible"]
    long = error_lines(Failure("ValueError", "\n".join(f"line {i} " + "x" * 150 for i in range(40))))
    assert len(long) == MAX_ERROR_LINES and long[-1].strip().startswith("…")
    assert all(len(line) <= 110 for line in long)


def test_a_cell_that_fails_when_run_is_named_before_the_checks_it_breaks():
    cells = executed_solutions({
        "setup_imports": kernel_error("ModuleNotFoundError", "No module named 'sklearn'"),
        "loss": kernel_error("SyntaxError", "'(' was never closed (3141592653.py, line 1)"),
        "check_loss": kernel_error("NameError", "name 'loss' is not defined"),
        "check_grad": kernel_error("NameError", "name 'loss' is not defined")})
    course = read_course(cells, list(range(1, len(cells) + 1)))
    setup = 1 + next(i for i, c in enumerate(cells) if grade_id(c) == "setup_imports")
    assert other_errors(course) == [f"cell {setup} raised ModuleNotFoundError: No module named 'sklearn'"]
    verdicts = verdicts_of(course)
    assert verdicts["loss"] == ["The cell defining `loss` raised an error when run:",
                                "SyntaxError: '(' was never closed (<cell>, line 1)"]
    assert verdicts["grad"][0] == "`loss` fails its own check: fix it first (this check calls it)."
    assert verdicts["predict"] is None and verdicts["accuracy"] is None
