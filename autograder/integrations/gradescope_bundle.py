"""Gradescope: the autograder zip, and what runs inside it for each submission.

``tfgrade gradescope-bundle --out autograder.zip`` writes the zip Gradescope's
"Configure Autograder" page takes. At its root:

- ``setup.sh``: installs Python 3.11 if the image lacks it, then the kit into
  ``source/venv`` with the exact dependency versions of the environment that built the
  zip (``requirements.txt``: the installed closure of tfkit's dependencies);
- ``run_autograder``: grades ``$AUTOGRADER_ROOT/submission`` (``/autograder`` unless set)
  and writes ``$AUTOGRADER_ROOT/results/results.json``;
- ``tfkit/``: the kit's package, as installed here, with a minimal ``pyproject.toml``;
- ``course/``: the course's ``nbgrader_config.py`` and source notebook, whose solution
  cells the grader runs as its reference (``run_autograder`` grades from this folder);
- ``tfkit-gradescope.json``: the choices made when bundling (visibility, seed,
  feedback mode, time limits).

The zip holds the grader and its reference solutions, as any autograder does; it goes
to Gradescope, never to students. What students see is results.json: each exercise's
feedback (no reference code), and nothing the grader printed (``stdout_visibility`` is
``hidden``).
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import time
import zipfile
from pathlib import Path

import autograder
from autograder import ASSIGNMENT, DEFAULT_SEED, GRADER_ERROR
from autograder.course import KEY_FILE, case_key, notebook_path
from autograder.results import templating

CONFIG_FILE = "tfkit-gradescope.json"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
PYTHON = "3.11"
STUDENT = "submission"  # the student id inside the sandbox's output folder
log = logging.getLogger(__name__)


# --- building the zip ------------------------------------------------------------------

def pinned_requirements(root: str = "tfkit") -> list:
    """``name==version`` for every installed distribution tfkit needs (its dependencies
    and theirs, extras left out), sorted: what was tested here, pinned."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    pins, todo, seen = {}, [root], set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        if name != canonicalize_name(root):
            pins[name] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return [pins[name] for name in sorted(pins)]


def kit_files() -> list:
    """``(path in the zip, bytes)`` for the kit's package: every module and template."""
    package = Path(autograder.__file__).parent
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and p.suffix in (".py", ".j2"))
    return [(f"tfkit/autograder/{p.relative_to(package).as_posix()}", p.read_bytes()) for p in files]


def course_files(start: Path | None = None) -> list:
    """``(path in the zip, bytes)`` for the course the grader reads its reference from:
    ``nbgrader_config.py`` and the source notebook of the nearest course root at or above
    ``start`` (the current folder), under ``course/``; [] outside a course."""
    here = (start or Path.cwd()).resolve()
    root = next((f for f in [here, *here.parents] if (f / "nbgrader_config.py").is_file()), None)
    if root is None:
        return []
    notebook = notebook_path(Path("."), "source")
    case_key(root)  # the course's key for case seeds, created if this is its first use
    return [(f"course/{name.as_posix()}", (root / name).read_bytes())
            for name in (Path("nbgrader_config.py"), notebook, KEY_FILE) if (root / name).is_file()]


def pyproject(version: str) -> str:
    """A minimal ``pyproject.toml`` for installing the bundled package (no dependencies:
    ``requirements.txt`` pins them)."""
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "tfkit"\nversion = "{version}"\nrequires-python = ">={PYTHON}"\n\n'
            '[project.scripts]\ntfgrade = "autograder.cli.main:main"\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["autograder*"]\n\n'
            '[tool.setuptools.package-data]\n"*" = ["*.j2"]\n')


def _add(archive: zipfile.ZipFile, name: str, data, executable: bool = False,
         private: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100600 if private else 0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def bundle_bytes(visibility: str = "visible", seed: int = DEFAULT_SEED, feedback: str = "full",
                 time_scale: float = 1.0, cell_seconds: float = 15.0) -> bytes:
    """The autograder zip, in memory."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    from autograder.results.kit import kit_version
    version = kit_version()
    config = {"visibility": visibility, "seed": seed, "feedback": feedback,
              "time_scale": time_scale, "cell_seconds": cell_seconds, "kit": version}
    render = lambda name: templating.templates.get_template(name).render(  # noqa: E731
        python=PYTHON, version=version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "setup.sh", render("gradescope_setup.sh.j2"), executable=True)
        _add(archive, "run_autograder", render("gradescope_run_autograder.j2"), executable=True)
        _add(archive, "requirements.txt", "\n".join(pinned_requirements()) + "\n")
        _add(archive, CONFIG_FILE, json.dumps(config, indent=2) + "\n")
        _add(archive, "tfkit/pyproject.toml", pyproject(version))
        for name, data in kit_files() + course_files():
            _add(archive, name, data, private=name.endswith(KEY_FILE.as_posix()))
    return buffer.getvalue()


def write_bundle(out: Path, **choices) -> Path:
    """Write the autograder zip to ``out`` (atomically)."""
    from autograder.results.files import write_atomic
    out = Path(out)
    write_atomic(out, bundle_bytes(**choices))
    return out


# --- inside Gradescope: one submission ----------------------------------------------------

def find_notebook(submission_dir: Path) -> tuple:
    """``(notebook, '')`` or ``(None, why)``: the notebook in Gradescope's submission
    folder (or in a ``tf_from_scratch/`` folder inside it), as ``tfgrade grade`` would
    pick it for one student."""
    from autograder.grading.submissions import _notebook_in
    inner = submission_dir / ASSIGNMENT
    folder = inner if inner.is_dir() and not inner.is_symlink() else submission_dir
    if not folder.is_dir():
        return None, f"no notebook in {ASSIGNMENT}"
    return _notebook_in(folder)


def load_config(root: Path) -> dict:
    """The choices bundled in ``source/tfkit-gradescope.json`` (defaults where absent)."""
    config = {"visibility": "visible", "seed": DEFAULT_SEED, "feedback": "full", "time_scale": 1.0,
              "cell_seconds": 15.0}
    try:
        stored = json.loads((root / "source" / CONFIG_FILE).read_text(encoding="utf-8"))
        config.update({k: v for k, v in stored.items() if k in config})
    except (OSError, ValueError):
        log.warning("no readable %s: using the defaults", CONFIG_FILE)
    return config


class GraderFault(RuntimeError):
    """The grader failed, not the submission (``autograder.GRADER_ERROR``)."""


def run(root: Path) -> Path:
    """Grade ``root/submission`` and write ``root/results/results.json`` (and tfkit's own
    files, result.json and the feedback, in ``root/results/tfkit/``)."""
    from autograder.grading.batch import grade_one
    from autograder.grading.submissions import Submission
    from autograder.results import adjust, feedback, files, records, views
    from autograder.results.exports import gradescope
    from autograder.sandbox.settings import Limits
    from autograder.sandbox.forkserver import import_quietly, start_forkserver
    config = load_config(root)
    started = time.monotonic()
    notebook, reason = find_notebook(root / "submission")
    submission = Submission(STUDENT, notebook, reason, notebook.name if notebook else "")
    if notebook is not None:
        start_forkserver()
        import_quietly("tensorflow", warm=True)
    result = grade_one(submission, int(config["seed"]),
                       Limits(time_scale=float(config["time_scale"]),
                              cell_seconds=float(config["cell_seconds"])))
    result["graded_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if result.get("status") == GRADER_ERROR:
        # no results.json: Gradescope then reports a failed autograder run, which the
        # instructor can re-run, instead of a 0 the student did not earn
        raise GraderFault(result.get("reason", GRADER_ERROR))
    mode = config["feedback"] if config["feedback"] in feedback.FEEDBACK_MODES else "full"
    final = adjust.final_grade(result, [], adjust.Settings(feedback=mode))
    results_dir = root / "results"
    views.write_views(results_dir / "tfkit", result, ("tfkit",), final, mode)
    records.write_bare_result(results_dir / "tfkit", result)
    output = gradescope.results_json(result, final, mode, visibility=config["visibility"])
    output["execution_time"] = round(time.monotonic() - started, 2)
    path = results_dir / "results.json"
    files.write_atomic(path, json.dumps(output, indent=2))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.integrations.gradescope_bundle",
                                     description="Grade one Gradescope submission (run_autograder).")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json")
    runner.add_argument("--root", default="/autograder", type=Path)
    args = parser.parse_args(argv)
    from autograder.results.escape import TerminalFormatter
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("autograder").addHandler(handler)
    try:
        path = run(args.root)
    except GraderFault as exc:
        print(f"tfgrade: {exc}; no score was written", file=sys.stderr)
        return 1
    from autograder.exercises import TOTAL_POINTS
    score = json.loads(path.read_text(encoding="utf-8")).get("score")
    print(f"wrote {path}: {score:g} / {TOTAL_POINTS:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
