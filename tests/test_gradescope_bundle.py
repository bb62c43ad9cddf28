"""Gradescope (issue 8, item 3): results.json against the fields of Gradescope's
specification, the autograder zip's contents, and the zip at work: unpacked into a fake
``AUTOGRADER_ROOT``, ``run_autograder`` grades a submission into results/results.json."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest

from autograder.exercises import EXERCISES
from autograder.integrations import gradescope_bundle as gradescope
from autograder.results.exports import gradescope as gradescope_json

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample_class" / "submitted"
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
NUMBER = {"type": "number"}
# The fields of Gradescope's results.json specification (autograder docs, "Output format"):
# nothing else is allowed, and each has the type and values the specification gives.
GRADESCOPE_RESULTS = {
    "type": "object", "additionalProperties": False, "anyOf": [{"required": ["score"]},
                                                               {"required": ["tests"]}],
    "properties": {
        "score": NUMBER, "execution_time": NUMBER, "output": {"type": "string"},
        "output_format": FORMAT, "test_output_format": FORMAT, "test_name_format": FORMAT,
        "visibility": VISIBILITY, "stdout_visibility": VISIBILITY, "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["score", "max_score", "name"],
            "properties": {"score": NUMBER, "max_score": NUMBER,
                           "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                           "name_format": FORMAT, "number": {"type": "string"},
                           "output": {"type": "string"}, "output_format": FORMAT,
                           "tags": {"type": "array", "items": {"type": "string"}},
                           "visibility": VISIBILITY, "extra_data": {"type": "object"}}}},
    }}


def a_result(loss_score=3.33):
    exercises = {n: {"score": e.points, "max_score": e.points, "status": "graded",
                     "feedback": f"{n}: {e.points:g} / {e.points:g}\n  ✓ all 3 checks passed",
                     "checks": []} for n, e in EXERCISES.items()}
    exercises["loss"].update(score=loss_score, feedback="loss: 3.33 / 10\n  ✗ value: expected 0.72, got 28.8")
    return {"student_id": "s", "assignment": "tf_from_scratch", "status": "graded", "reason": "",
            "seed": 7, "max_score": 100, "score": 100 - 10 + loss_score, "exercises": exercises,
            "seconds": 1.2}


@pytest.mark.parametrize("visibility", gradescope.VISIBILITIES)
def test_results_json_follows_the_specification(visibility):
    output = gradescope_json.results_json(a_result(), visibility=visibility)
    jsonschema.validate(output, GRADESCOPE_RESULTS)
    assert output["visibility"] == visibility and {t["visibility"] for t in output["tests"]} == {visibility}
    assert output["stdout_visibility"] == "hidden"  # what the grader printed is not for students
    assert [t["status"] for t in output["tests"]].count("failed") == 1


def unpacked(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: (info, archive.read(info)) for info in archive.infolist()}


def test_the_bundle_holds_setup_run_pins_and_the_whole_kit(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "source")  # bundled from inside the course: its root is found
    files = unpacked(gradescope.bundle_bytes(visibility="after_due_date", seed=5, feedback="brief"))
    for script in ("setup.sh", "run_autograder"):
        info, data = files[script]
        assert info.external_attr >> 16 == 0o100755
        (tmp_path / script).write_bytes(data)
        assert subprocess.run(["bash", "-n", str(tmp_path / script)]).returncode == 0
    setup = files["setup.sh"][1].decode()
    assert "pip install --quiet -r requirements.txt" in setup and "--no-deps ./tfkit" in setup
    run = files["run_autograder"][1].decode()
    assert 'ROOT="${AUTOGRADER_ROOT:-/autograder}"' in run and "autograder.integrations.gradescope_bundle run" in run
    pins = files["requirements.txt"][1].decode().split()
    assert f"tensorflow=={version('tensorflow')}" in pins and f"Jinja2=={version('jinja2')}" in pins
    assert all("==" in pin for pin in pins) and not any(p.lower().startswith("tfkit") for p in pins)
    assert json.loads(files[gradescope.CONFIG_FILE][1]) | {"kit": ""} == {
        "visibility": "after_due_date", "seed": 5, "feedback": "brief", "time_scale": 1.0,
        "cell_seconds": 15.0, "kit": ""}
    package = Path(importlib.util.find_spec("autograder").origin).parent
    modules = {f"tfkit/autograder/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules and modules <= set(files) and "tfkit/autograder/templates/feedback.html.j2" in files
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)
    assert files["course/source/tf_from_scratch/tf_from_scratch.ipynb"][1] == (
        ROOT / "source" / "tf_from_scratch" / "tf_from_scratch.ipynb").read_bytes()
    assert "course/nbgrader_config.py" in files
    project = tomllib.loads(files["tfkit/pyproject.toml"][1].decode())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["autograder*"]


def test_the_command_refuses_a_folder_as_the_zip(tmp_path, capsys):
    from autograder.cli import main as cli
    assert cli.main(["gradescope-bundle", "--out", str(tmp_path)]) == cli.EXIT_USAGE
    assert "is a folder" in capsys.readouterr().err
    assert cli.main(["gradescope-bundle", "--out", str(tmp_path / "nope" / "a.zip")]) == cli.EXIT_USAGE
    assert cli.main(["gradescope-bundle", "--out", str(tmp_path / "a.zip"), "--visibility", "hidden"]) == 0
    assert "results hidden" in capsys.readouterr().out
    assert zipfile.is_zipfile(tmp_path / "a.zip")


def fake_root(tmp_path: Path, bundle: bytes) -> Path:
    """Gradescope's layout with the zip unpacked in source/, and in place of the virtual
    environment setup.sh would build, this one running the bundled copy of the kit."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # extractall drops the modes
        (root / "source" / script).chmod(0o755)
    python = root / "source" / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{root}/source/tfkit" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return root


def run_autograder(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(root / "source" / "run_autograder")], env={**env, "AUTOGRADER_ROOT": str(root)},
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def reference_lines() -> list:
    """Lines of the reference solutions long enough to be telling (signatures are public)."""
    source = Path(importlib.util.find_spec("autograder.grading.reference").origin).read_text()
    skip = ("#", '"""', "def ", "class ", "from", "import")
    return [line.strip() for line in source.splitlines()
            if len(line.strip()) > 25 and not line.strip().startswith(skip)]


@pytest.mark.slow
def test_run_autograder_in_a_fake_root_writes_valid_results(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    root = fake_root(tmp_path, gradescope.bundle_bytes(visibility="after_due_date"))
    notebook = next((SAMPLE / "sum_loss" / "tf_from_scratch").glob("*.ipynb"))
    shutil.copy(notebook, root / "submission" / "my_work.ipynb")
    output = run_autograder(root)
    jsonschema.validate(output, GRADESCOPE_RESULTS)
    failed = [t["name"].split(" ")[0] for t in output["tests"] if t["status"] == "failed"]
    expected = json.loads((SAMPLE.parent / "expected.json").read_text())["sum_loss"]
    assert failed == expected and 0 < output["score"] < 100
    assert {t["visibility"] for t in output["tests"]} == {"after_due_date"}
    text = json.dumps(output)
    assert not [line for line in reference_lines() if line in text]
    assert (root / "results" / "tfkit" / gradescope.STUDENT / "feedback.html").is_file()

    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    (root / "submission" / "notes.txt").write_text("forgot the notebook")
    output = run_autograder(root)
    jsonschema.validate(output, GRADESCOPE_RESULTS)
    assert output["score"] == 0 and output["tests"] == [] and "no notebook" in output["output"]
