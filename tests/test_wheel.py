"""The kit's wheel, as a course puts it in a student image (issue 15).

It holds no line of any solution block of the source notebook, and, installed into a
clean virtual environment with no course folder and no editable install in sight, its
`tfgrade check` passes the solutions and reports every exercise of the release as not
implemented. The wheel is built from a copy of the project, so no stale ``build/`` folder
and no file outside the package can decide what it holds.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.check import HINT_NOT_DONE
from autograder.exercises import EXERCISES
from conftest import RELEASE, ROOT, SOLUTION, SOURCE
from solution_text import BEGIN, END, MIN_EMBEDDED, quoted, secret_lines, solution_lines

NOT_PROJECT = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".hypothesis", ".pytest_cache", "submitted", "autograded",
                                     "feedback", "demo_out", "gradebook.db")


def leaks(wheel, lines) -> dict:
    """The solution lines in each file of the wheel (``solution_text.quoted``)."""
    found = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            hits = quoted(archive.read(name).decode("utf-8", errors="replace"), lines)
            if hits:
                found[name] = hits
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built without build isolation (setuptools comes from .venv)."""
    base = tmp_path_factory.mktemp("wheel")
    project, out = base / "project", base / "dist"
    shutil.copytree(ROOT, project, ignore=NOT_PROJECT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "--quiet", "-w", str(out), str(project)],
                   check=True, capture_output=True, text=True)
    (built,) = out.glob("tfkit-*.whl")
    return built


def test_secret_lines_come_from_every_solution_cell_of_the_source():
    lines, secret = solution_lines(SOURCE), secret_lines()
    assert set(lines.values()) == set(secret.values()) == set(EXERCISES), "an exercise's solution gave no line"
    assert not any(BEGIN in line or END in line or not line for line in lines)
    assert len(secret) > len(lines) / 2  # the release shows a few of them, not most


def test_the_leak_finder_finds_a_solution_line_in_a_fake_wheel(tmp_path):
    secret = secret_lines()
    long = next(line for line, exercise in secret.items() if exercise == "predict" and len(line) >= MIN_EMBEDDED)
    short = next(line for line in secret if len(line) < MIN_EMBEDDED)
    fake = tmp_path / "fake-0.1-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("autograder/answers.py", f"def f():\n        {short}\n")
        archive.writestr("tfkit-0.1.dist-info/METADATA", f"For example `{long}` does it.\n")
    assert leaks(fake, secret) == {"autograder/answers.py": [short], "tfkit-0.1.dist-info/METADATA": [long]}
    shown = next(line for line in solution_lines(SOURCE) if line not in secret)  # the release shows it
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("autograder/fine.py", f"{shown}\nnot_{long}_either = 1\nx = ({short}, 1)\n")
    assert leaks(fake, secret) == {}


@pytest.mark.slow
def test_the_wheel_holds_no_line_of_any_solution(wheel):
    assert leaks(wheel, secret_lines()) == {}


def clean_venv(folder: Path, wheel: Path) -> tuple[Path, dict]:
    """A venv with the wheel installed and its own python3 kernel; its dependencies come
    from this environment's site-packages through a plain path line (which does not
    run the .pth files there, so the editable install's finder stays off)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "kit_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    home = folder.parent / "home"
    home.mkdir()
    env = {"PATH": f"{folder / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home),
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", "LANG": "C.UTF-8"}
    for command in (["-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
                    ["-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"]):
        subprocess.run([python, *command], check=True, capture_output=True, text=True, env=env, cwd=home)
    return python, env


@pytest.mark.slow
def test_the_installed_wheel_checks_notebooks_outside_the_course(tmp_path, wheel):
    python, env = clean_venv(tmp_path / "venv", wheel)
    where = subprocess.run(
        [python, "-c", "import json, autograder; from jupyter_client.kernelspec import KernelSpecManager\n"
                       "print(json.dumps([autograder.__file__, KernelSpecManager().get_kernel_spec('python3').argv]))"],
        check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout
    package, kernel = json.loads(where)
    assert Path(package).is_relative_to(tmp_path / "venv") and kernel[0] == str(python), where

    work = tmp_path / "student"
    work.mkdir()
    solutions = nbformat.read(str(SOLUTION), as_version=4)  # plus a cell that says where it ran
    solutions.cells.insert(0, nbformat.v4.new_code_cell(
        "import sys, pathlib, autograder\n"
        "pathlib.Path('kernel.txt').write_text(sys.prefix + '\\n' + autograder.__file__)"))
    nbformat.write(solutions, str(work / "tf_from_scratch.ipynb"))
    tfgrade = [str(tmp_path / "venv" / "bin" / "tfgrade"), "check", "tf_from_scratch.ipynb"]
    done = subprocess.run(tfgrade, capture_output=True, text=True, env=env, cwd=work, timeout=600)
    assert done.returncode == 0 and f"{len(EXERCISES)} of {len(EXERCISES)} exercises pass" in done.stdout, (
        done.stdout + done.stderr)
    prefix, kernel_package = (work / "kernel.txt").read_text().splitlines()
    assert prefix == str(tmp_path / "venv") and Path(kernel_package).is_relative_to(tmp_path / "venv")

    shutil.copy(RELEASE, work / "tf_from_scratch.ipynb")
    done = subprocess.run(tfgrade, capture_output=True, text=True, env=env, cwd=work, timeout=600)
    assert done.returncode == 1 and done.stdout.count(HINT_NOT_DONE) == len(EXERCISES), done.stdout + done.stderr
    assert f"0 of {len(EXERCISES)} exercises pass" in done.stdout
