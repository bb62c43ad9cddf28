"""Grading on a Dask cluster: the same results as a local run, byte for byte apart from
timings, from workers that know nothing of the course; ``tfgrade autograde`` fills
nbgrader's gradebook from the workers; a submission cannot reach the worker that grades
it; a worker killed mid-task costs no student and leaves no process behind."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections import Counter

import pytest

from conftest import (ASSIGNMENT, BIN, ROOT, SAMPLE_CLASS, SUBMITTED, graded_parts, run, with_cell,
                      write_student)

TIMINGS = ("seconds", "graded_at")
# In the workers' environment and in a file beside them: what a submission must not read.
WORKER_SECRET = f"WORKER-{uuid.uuid4().hex}"


@pytest.fixture(scope="module", autouse=True)
def dask_installed():
    try:
        import distributed  # noqa: F401
    except ImportError:
        # in CI, tests/skip_policy.py makes this skip a failure
        pytest.skip("Dask is not installed (pip install -e '.[dask]')")


def make_class(folder, students):
    """``students``: (name, sample student or None for a folder with no notebook)."""
    for name, sample in students:
        if sample is None:
            (folder / name).mkdir(parents=True)
        else:
            shutil.copytree(SUBMITTED / sample, folder / name)
    return folder


def results(out) -> dict:
    found = {}
    for path in sorted(out.glob("*/result.json")):
        result = json.loads(path.read_text())
        for key in TIMINGS:
            result.pop(key)
        result["exercises"] = graded_parts(result["exercises"])
        found[path.parent.name] = result
    return found


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def worker_folder(tmp_path_factory):
    """The workers' folder: no course in it, only a file holding :data:`WORKER_SECRET`."""
    folder = tmp_path_factory.mktemp("workers")
    (folder / "planted.txt").write_text(WORKER_SECRET)
    (folder / "planted.txt").chmod(0o644)
    return folder


@pytest.fixture(scope="module")
def scheduler(worker_folder):
    """``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` started in a
    folder with no course in reach (no TFKIT_COURSE, no course above it)."""
    from autograder.grading.cluster import standing_cluster
    env = {k: v for k, v in os.environ.items() if k != "TFKIT_COURSE"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["TFKIT_WORKER_SECRET"] = WORKER_SECRET
    with standing_cluster(worker_folder, 2, env=env, preload=False) as (address, _workers):
        yield address


@pytest.mark.slow
def test_a_class_graded_on_the_cluster_is_the_local_result(scheduler, tmp_path):
    from autograder.grading.batch import run_round
    from autograder.sandbox.settings import Limits
    folder = make_class(tmp_path / "submitted", [("full", "full_marks"), ("stub", "untouched"),
                                                 ("mistake", "column_predict"), ("nothing", None)])
    done = run(BIN / "tfgrade", "grade", folder, "--out", tmp_path / "dask", "--scheduler",
               scheduler, "--quiet", "--time-scale", "3", check=False)
    assert done.returncode == 3, done.stderr  # "nothing" is ungradable
    run_round([folder], tmp_path / "local", seed=20211, jobs=2, progress=False,
              limits=Limits(time_scale=3))
    on_cluster, local = results(tmp_path / "dask"), results(tmp_path / "local")
    assert set(on_cluster) == {"full", "stub", "mistake", "nothing"}
    assert on_cluster == local
    assert on_cluster["full"]["score"] == 100 and on_cluster["mistake"]["status"] == "graded"
    predict = on_cluster["mistake"]["exercises"]["predict"]
    assert predict["score"] < predict["max_score"]
    for student in on_cluster:  # what students read is the same too
        assert (tmp_path / "dask" / student / "feedback.md").read_bytes() == \
            (tmp_path / "local" / student / "feedback.md").read_bytes()


@pytest.mark.slow
def test_autograde_on_the_cluster_fills_nbgraders_gradebook(scheduler, tmp_path):
    """``tfgrade autograde --scheduler``: the workers grade every student ahead of
    nbgrader's pipeline (none is graded again on the client), and the gradebook holds
    the sample class's expected scores."""
    from autograder.exercises import EXERCISES
    from autograder.integrations.nbgrader.gradebook import nbgrader_scores
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    students = [("full_marks", "full_marks"), ("untouched", "untouched"),
                ("column_predict", "column_predict")]
    make_class(course / "submitted", students)
    run(BIN / "nbgrader", "generate_assignment", ASSIGNMENT, "--force",
        f"--CourseDirectory.root={course}", cwd=course)
    done = run(BIN / "tfgrade", "autograde", ASSIGNMENT, "--scheduler", scheduler, "--force",
               cwd=course)
    assert done.stderr.count("graded ahead, in parallel") == len(students), done.stderr[-3000:]
    assert "graded now" not in done.stderr
    expected = json.loads((SAMPLE_CLASS / "expected.json").read_text())
    scores = nbgrader_scores(course, [name for name, _ in students])
    for student, per_exercise in scores.items():
        for name, score in per_exercise.items():
            if name in expected[student]:
                assert score < EXERCISES[name].points, (student, name)
            else:
                assert score == EXERCISES[name].points, (student, name, score)


def worker_probe(pids: list, planted: str) -> str:
    """A cell that looks for the worker grading it: its environment, a signal to it, a
    file beside it. Anything found swaps ``predict`` for a wrong one."""
    return (
        "import os\n"
        "found = []\n"
        f"for pid in {pids!r}:\n"
        "    try:\n"
        "        with open(f'/proc/{pid}/environ', 'rb') as handle:\n"
        f"            if {WORKER_SECRET.encode()!r} in handle.read():\n"
        "                found.append(('environ', pid))\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        "        os.kill(pid, 0)\n"
        "        found.append(('signal', pid))\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        f"    with open({planted!r}) as handle:\n"
        f"        if {WORKER_SECRET!r} in handle.read():\n"
        "            found.append('file')\n"
        "except OSError:\n"
        "    pass\n"
        "if found:\n"
        "    def predict(W, b, inputs):\n"
        "        return tf.zeros([inputs.shape[0]])\n")


@contextlib.contextmanager
def isolation_in_workers(client, on: bool):
    """With ``on`` False, every worker's sandboxes get no isolation (route "none") for
    the duration: ``settings.protections`` is replaced in each worker process, and put
    back afterwards. The functions sent are nested, so Dask sends them by value."""
    def switch_off():
        from autograder.sandbox import settings
        settings.__dict__.setdefault("kept_protections", settings.protections)
        settings.protections = lambda: settings.Protections("none")

    def switch_back():
        from autograder.sandbox import settings
        settings.protections = settings.__dict__.pop("kept_protections", settings.protections)
    if not on:
        client.run(switch_off)
    try:
        yield
    finally:
        if not on:
            client.run(switch_back)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the isolation tests run as root")
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_submission_cannot_reach_the_worker_grading_it(scheduler, worker_folder, tmp_path,
                                                         full_marks, protected):
    """From the full-marks notebook (100 points): a cell reads the worker's environment,
    signals it and reads a file beside it. In the sandbox it finds nothing; with the
    isolation switched off in the workers (route "none", see :func:`isolation_in_workers`)
    the same cell finds the worker, and ``predict`` loses its points."""
    from autograder.exercises import EXERCISES
    from autograder.grading.batch import run_round
    from autograder.grading.cluster import Cluster
    from autograder.grading.reference import read_reference
    from autograder.sandbox.settings import Limits
    with Cluster(scheduler=scheduler, reference_cells=read_reference(ROOT)) as cluster:
        pids = sorted(cluster.client.run(os.getpid).values())
        probe = worker_probe(pids, str(worker_folder / "planted.txt"))
        write_student(tmp_path / "submitted", "adversary", with_cell(full_marks, probe, after="predict"))
        with isolation_in_workers(cluster.client, on=protected):
            run_round([tmp_path / "submitted"], tmp_path / "out", seed=20211, progress=False,
                      limits=Limits(time_scale=3), cluster=cluster)
        assert sorted(cluster.client.run(os.getpid).values()) == pids  # no worker was lost
    result = json.loads((tmp_path / "out" / "adversary" / "result.json").read_text())
    assert result["status"] == "graded" and "skipped" not in result["reason"], result["reason"]
    predict = result["exercises"]["predict"]
    if protected:
        assert result["score"] == 100, predict["feedback"]
    else:
        assert predict["score"] < EXERCISES["predict"].points


def test_the_cluster_options_are_checked_before_anything_starts(tmp_path):
    folder = make_class(tmp_path / "submitted", [("full", "full_marks")])
    for options, message in [(["--cluster", "remote:2"], "expected local:N"),
                             (["--cluster", "local:2", "--jobs", "2"], "--jobs is for grading"),
                             (["--cluster", "local:2", "--scheduler", "tcp://x:1"], "not allowed")]:
        done = run(BIN / "tfgrade", "grade", folder, "--out", tmp_path / "out", *options,
                   check=False, timeout=60)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_worker_killed_mid_task_costs_no_student(tmp_path, monkeypatch):
    """A local cluster of two workers; one is killed with SIGKILL while it grades. Every
    student still gets exactly one result, written once, and the killed worker's
    forkserver and reference process end with it."""
    import psutil
    from autograder.grading import batch
    from autograder.grading.batch import run_round
    from autograder.grading.cluster import Cluster
    from autograder.grading.reference import read_reference
    from autograder.sandbox.settings import Limits
    students = [(f"s{i}", "full_marks" if i % 2 else "untouched") for i in range(6)]
    folder = make_class(tmp_path / "submitted", students)
    writes = Counter()
    record = batch.record
    monkeypatch.setattr(batch, "record", lambda out, submission, *rest: (
        writes.update([submission.student_id]), record(out, submission, *rest))[1])
    with Cluster(local=2, reference_cells=read_reference(ROOT)) as cluster:
        client = cluster.client
        pids = client.run(os.getpid)
        killed = {}

        def kill_one_mid_task() -> None:
            busy = wait_for(lambda: [w for w, tasks in client.processing().items() if tasks],
                            300, "a worker grading")
            time.sleep(0.5)  # inside the grading: the sandbox and the reference are up
            pid = pids[busy[0]]
            killed["children"] = [p.pid for p in psutil.Process(pid).children(recursive=True)]
            os.kill(pid, signal.SIGKILL)
            killed["pid"] = pid

        killer = threading.Thread(target=kill_one_mid_task, daemon=True)
        killer.start()
        run_round([folder], tmp_path / "out", seed=20211, progress=False,
                  limits=Limits(time_scale=3), cluster=cluster)
        killer.join(10)
    assert killed.get("pid"), "no worker was killed"
    assert writes == Counter(name for name, _ in students)  # each student written once
    graded = results(tmp_path / "out")
    assert set(graded) == {name for name, _ in students}
    for name, sample in students:
        assert graded[name]["status"] == "graded", graded[name]["reason"]
        assert graded[name]["score"] == (100 if sample == "full_marks" else 0)
    # The killed worker's forkserver and reference process do not outlive it.
    assert killed["children"]
    wait_for(lambda: not any(alive(pid) for pid in killed["children"]), 30,
             "the killed worker's processes to end")
