"""Isolation by allowlist, attacked: each protection is tested with an adversarial
submission, and each test also runs with its protection switched off (``probes.switched_off``)
to show that the attack then succeeds, so that no test here can pass hollow.

The attacks start from the full-marks notebook (a known score of 100). A probe reads
exactly the paths it is after (no open-ended globs) and encodes what it found into a
graded value: when the attack worked, it replaces an exercise with one that raises,
naming the probe, so the score says whether it worked, while the status stays
``graded`` with no skipped cell. Probes that need the same sandbox settings share one
notebook, graded once per setting, each with an exercise of its own (tests/probes.py;
"The probes graded together" below).
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.exercises import EXERCISES
from autograder.grading.batch import grade_class
from autograder.grading.grade import grade_submission
from autograder.sandbox import forkserver, process, settings
from autograder.sandbox.settings import Limits
from conftest import ROOT, with_cell, write_student
from probes import (assert_probe_held, assert_probe_worked, breaks, breaks_if_found,
                    switched_off, with_probes)

# Every test that grades is marked slow; the unit tests of the warning and the cgroup
# sweep are not.
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the isolation tests run as root")

SEED = 5
# Short cells (a probe that hangs ends soon), but exercises on the default time limits: at a
# quarter of them, `loss` (the first exercise whose stand-in waits for a reference process
# to start) ran out of time beside another grading on 2 cores.
FAST = Limits(cell_seconds=4)
PREDICT_POINTS = EXERCISES["predict"].points


def limited(**changes) -> Limits:
    """The test's limits: FAST with ``changes``."""
    return Limits(**{**FAST.__dict__, **changes})


def breaks_predict_if_found(probe: str) -> str:
    """A cell that runs ``probe`` (which must set ``found`` to a list) and, if anything
    was found, swaps ``predict`` for a wrong one: the attack's success becomes points."""
    return (probe + "\n"
            "if found:\n"
            "    def predict(W, b, inputs):\n"
            "        return tf.zeros([inputs.shape[0]])\n")


def grade(tmp_path, notebook, limits=FAST):
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.ipynb"
    nbformat.write(notebook, str(path))
    return grade_submission(path, "adversary", SEED, limits)


def assert_clean_run(result):
    assert result.status == "graded" and "skipped" not in result.reason, result.reason


def processes_with(marker: str) -> list:
    """Host pids whose command line or name holds ``marker``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        for name in ("cmdline", "comm"):
            try:
                with open(f"/proc/{entry}/{name}", "rb") as text:
                    if marker.encode() in text.read():
                        found.append(int(entry))
                        break
            except OSError:
                pass
    return found


def kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- Planted answers ---

PLANT_FOLDERS = ["/srv", "/opt", "/root", "/home", "/var/tmp", "/tmp", str(ROOT)]


@contextlib.contextmanager
def planting(tmp_path):
    """Answer files planted in the course root, a sibling folder of it, the usual host
    folders, and the source tree of the kit's editable install (the repository)."""
    secret = f"ANSWER-{uuid.uuid4().hex}"
    course, sibling = tmp_path / "course", tmp_path / "sibling"
    course.mkdir()
    sibling.mkdir()
    (course / "nbgrader_config.py").write_text("# a course root\n")
    folders = [str(course), str(sibling), *PLANT_FOLDERS]
    paths = [os.path.join(f, f".tfkit-planted-{secret[-8:]}.txt") for f in folders if os.path.isdir(f)]
    try:
        for path in paths:
            with open(path, "w") as handle:
                handle.write(secret)
            os.chmod(path, 0o644)
        yield secret, paths, course
    finally:
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)


@pytest.fixture
def planted(tmp_path):
    with planting(tmp_path) as plant:
        yield plant


def hunt(secret: str, paths: list, exercise: str = "predict") -> str:
    return breaks_if_found(exercise, "planted answers",
        "found = []\n"
        f"for path in {paths!r}:\n"
        "    try:\n"
        "        with open(path) as handle:\n"
        f"            if {secret!r} in handle.read():\n"
        "                found.append(path)\n"
        "    except OSError:\n"
        "        pass\n")


@pytest.mark.slow
def test_planted_answers_are_out_of_reach(protected_run):
    """Graded from the course root (the notebook is graded with the real course)."""
    assert_clean_run(protected_run.result)
    assert_probe_held(protected_run.result, "planted answers", PROBES["planted answers"])


@pytest.mark.slow
def test_planted_answers_are_out_of_reach_from_another_folder(tmp_path, planted, full_marks,
                                                              monkeypatch):
    secret, paths, course = planted
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TFKIT_COURSE", str(ROOT))  # the grader's reference: the real course
    result = grade(tmp_path, with_cell(full_marks, hunt(secret, paths), after="predict"))
    assert_clean_run(result)
    assert result.score == 100, result.exercises["predict"].feedback


@pytest.mark.slow
def test_planted_answers_are_out_of_reach_on_the_unprivileged_route(user_namespace_run):
    result = user_namespace_run.result
    assert_clean_run(result)
    assert "own filesystem" in result.isolation and "no capabilities" in result.isolation
    assert "own user id" not in result.isolation  # one uid for all, without root
    assert_probe_held(result, "planted answers", PROBES["planted answers"])


@pytest.mark.slow
def test_planted_answers_are_found_without_the_allowlist(off_filesystem_run):
    assert_clean_run(off_filesystem_run.result)
    assert_probe_worked(off_filesystem_run.result, "planted answers", PROBES["planted answers"])


# --- No pivot back to the host ---

def pivot_probe(secret_path: str, exercise: str = "predict") -> str:
    grader = os.getpid()
    return breaks_if_found(exercise, "pivot",
        "import os\n"
        "found = []\n"
        f"for path in ['/proc/1/root{secret_path}', '/proc/{grader}/root{secret_path}',\n"
        f"             '/proc/{grader}/environ', '/proc/{grader}/maps']:\n"
        "    try:\n"
        "        with open(path, 'rb') as handle:\n"
        "            text = handle.read()\n"
        "        if b'TFKIT_PIVOT_SECRET' in text or b'ANSWER-' in text or b'python' in text:\n"
        "            found.append(path)\n"
        "    except OSError:\n"
        "        pass\n")


@pytest.mark.slow
@pytest.mark.parametrize("route", ["auto", "user namespace"])
def test_no_pivot_back_to_the_host_or_the_grader(request, route):
    run = request.getfixturevalue("protected_run" if route == "auto" else "user_namespace_run")
    assert_clean_run(run.result)
    assert_probe_held(run.result, "pivot", PROBES["pivot"])


@pytest.mark.slow
def test_the_grader_is_reachable_through_proc_without_isolation(tmp_path, planted, full_marks,
                                                                monkeypatch):
    """The same probe, run with no isolation at all (the grader's uid, the host's PID
    namespace and filesystem), reads the grader's environment and memory map."""
    monkeypatch.setenv("TFKIT_PIVOT_SECRET", "1")
    _, paths, _ = planted
    with switched_off(route="none"):
        result = grade(tmp_path, with_cell(full_marks, pivot_probe(paths[0]), after="predict"))
    assert_clean_run(result)
    assert result.exercises["predict"].score < PREDICT_POINTS


# --- Nothing left behind ---

def daemon_cell(marker: str, exercise: str = "predict") -> str:
    """Double fork, setsid, exec a long sleep whose command line carries ``marker``
    (as its argv[0]); plus a squatter holding many threads, as a later batch's
    neighbour. ``exercise`` is broken if the daemon could not be seen running."""
    broken = "".join(f"    {line}\n" for line in
                     breaks(exercise, "daemon", "'did not start'").splitlines())
    return (
        "import ctypes, os, threading, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        try:\n"
        f"            os.execv('/bin/sleep', [{marker!r}, '3000'])\n"
        "        finally:\n"
        "            os._exit(0)\n"
        "    if os.fork() == 0:\n"
        "        try:\n"
        f"            ctypes.CDLL(None).prctl(15, {marker!r}.encode(), 0, 0, 0)  # PR_SET_NAME\n"
        "            for _ in range(400):\n"
        "                threading.Thread(target=time.sleep, args=(3000,), daemon=True).start()\n"
        "        finally:\n"
        "            time.sleep(3000)\n"
        "            os._exit(0)\n"
        "    os._exit(0)\n"
        "def daemon_runs():\n"
        "    for entry in filter(str.isdigit, os.listdir('/proc')):\n"
        "        try:\n"
        f"            if {marker!r}.encode() in open(f'/proc/{{entry}}/cmdline', 'rb').read():\n"
        "                return True\n"
        "        except OSError:\n"
        "            pass\n"
        "    return False\n"
        "for _ in range(40):\n"
        "    if daemon_runs():\n"
        "        break\n"
        "    time.sleep(0.05)\n"
        "else:  # the attack did not even start: that must show in the score\n"
        + broken)


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_no_process_outlives_its_grading(request, protected):
    run = request.getfixturevalue("protected_run" if protected else "off_inside_run")
    assert_clean_run(run.result)
    assert_probe_held(run.result, "daemon", PROBES["daemon"])  # the attack started
    assert (run.processes_left == []) is protected, run.processes_left


@pytest.mark.slow
def test_squatters_do_not_change_a_later_batch(tmp_path, full_marks):
    """A first batch leaves a daemon and hundreds of threads if it can; a second,
    separate batch of correct notebooks must still score 100 each."""
    marker = f"tfd{uuid.uuid4().hex[:8]}"
    first, second = tmp_path / "first", tmp_path / "second"
    write_student(first, "squatter", with_cell(full_marks, daemon_cell(marker), after="setup_imports"))
    for name in ("honest_1", "honest_2"):
        write_student(second, name, full_marks)
    try:
        grade_class([first], tmp_path / "out1", seed=SEED, jobs=1, limits=FAST, progress=False)
        results = grade_class([second], tmp_path / "out2", seed=SEED, jobs=2, limits=FAST,
                              progress=False)
        assert [r["score"] for r in results] == [100, 100], [r["reason"] for r in results]
        assert processes_with(marker) == []
    finally:
        kill_all(processes_with(marker))


WORLD_WRITABLE = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue",
                  "/run", "/var/crash", "/var/mail"]
SYSV_KEY = 0x7F4B17


def litter_cell(marker: str) -> str:
    """Markers in every world-writable place, a SysV segment and a POSIX one."""
    return (
        "import ctypes, os\n"
        f"for folder in {WORLD_WRITABLE!r}:\n"
        "    try:\n"
        f"        open(os.path.join(folder, {marker!r}), 'w').write('the reference')\n"
        "    except OSError:\n"
        "        pass\n"
        "libc = ctypes.CDLL(None)\n"
        f"segment = libc.shmget({SYSV_KEY}, 4096, 0o1666)\n"
        "from multiprocessing import shared_memory\n"
        "try:\n"
        f"    shared = shared_memory.SharedMemory({marker!r}, create=True, size=4096)\n"
        "except Exception:\n"
        "    pass\n")


def sysv_segments() -> set:
    with open("/proc/sysvipc/shm") as table:
        return {int(line.split()[0]) for line in table.readlines()[1:]}


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_nothing_is_left_on_the_host(request, protected):
    run = request.getfixturevalue("protected_run" if protected else "off_filesystem_run")
    assert_clean_run(run.result)
    assert (run.litter_left == [] and not run.sysv_left) is protected, (run.litter_left,
                                                                         run.sysv_left)


# --- A saboteur in the class ---

SABOTEUR = (
    "import ctypes, os, signal, time\n"
    "libc = ctypes.CDLL(None)\n"
    "me = os.getpid()\n"
    "end = time.monotonic() + 3.5\n"
    "while time.monotonic() < end:\n"
    "    for entry in os.listdir('/proc'):\n"
    "        if entry.isdigit() and int(entry) != me:\n"
    "            pid = int(entry)\n"
    "            for sig in (signal.SIGKILL, signal.SIGSTOP):\n"
    "                try:\n"
    "                    os.kill(pid, sig)\n"
    "                except OSError:\n"
    "                    pass\n"
    "            libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH\n")


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_saboteur_cannot_touch_the_students_graded_beside_it(tmp_path, full_marks, protected):
    """Five honest notebooks and one that kills, stops and traces every process it can
    see, graded with two jobs: the honest ones keep exactly the solution's score."""
    submitted = tmp_path / "submitted"
    write_student(submitted, "a_saboteur", with_cell(full_marks, SABOTEUR, after="setup_imports"))
    for index in range(5):
        write_student(submitted, f"honest_{index}", full_marks)
    with switched_off(*() if protected else (settings.PROCESSES, settings.USER)):
        results = grade_class([submitted], tmp_path / "out", seed=SEED, jobs=2,
                              limits=limited(cell_seconds=6), progress=False)
    honest = {r["student_id"]: r["score"] for r in results if r["student_id"].startswith("honest")}
    assert len(honest) == 5
    if protected:
        assert set(honest.values()) == {100}, honest
    else:
        assert min(honest.values()) < 100, honest


# --- Limits that name themselves ---

def memory_hog(megabytes: int) -> str:
    """A predict that touches memory a block at a time (each block well under any
    address-space cap), then answers correctly."""
    return ("def predict(W, b, inputs):\n"
            "    blocks = []\n"
            f"    for _ in range({megabytes // 16}):\n"
            "        blocks.append(bytearray(16 * 2**20))\n"
            "    return tf.reshape(tf.sigmoid(inputs @ W + b), [-1])\n")


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_memory_kill_is_recorded_as_the_memory_cap(tmp_path, full_marks, protected):
    with switched_off(*() if protected else (settings.CGROUP,)):
        result = grade(tmp_path, with_cell(full_marks, memory_hog(1200), replace="predict"),
                       limited(memory_mb=400))
    feedback = result.exercises["predict"].feedback
    assert result.exercises["predict"].score == 0
    assert ("went over its memory cap (400 MB)" in feedback) is protected, feedback
    assert all(e.score == e.max_score for n, e in result.exercises.items() if n != "predict")


def test_the_warning_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(settings.isolation, "can_make_user_namespace", lambda: False)
    warning = settings.missing_isolation()
    assert "NOT isolated" in warning and "user namespaces" in warning
    monkeypatch.setattr(settings.isolation, "can_make_user_namespace", lambda: True)
    assert settings.missing_isolation() == ""


def test_tfgrade_grade_warns_at_start_when_grading_is_not_isolated(tmp_path, monkeypatch, capsys,
                                                                     full_marks):
    """The warning comes before TensorFlow starts (here: instead of it)."""
    from autograder.cli import common, main as cli

    class Started(Exception):
        pass

    def start(jobs=None):
        raise Started

    write_student(tmp_path / "in", "someone", full_marks)
    monkeypatch.setattr(settings, "missing_isolation", lambda: "grading is NOT isolated: test")
    monkeypatch.setattr(common, "warm_up", start)
    with pytest.raises(Started):
        cli.main(["grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--quiet"])
    assert "WARNING: grading is NOT isolated: test" in capsys.readouterr().err


FD_PROBE = breaks_if_found(
    "model_loss", "descriptors",
    "import os\n"
    "found = []\n"
    "for fd in range(3, 1024):\n"
    "    try:\n"
    "        os.fstat(fd)\n"
    "        found.append(fd)\n"
    "    except OSError:\n"
    "        pass\n"
    "found = found[1:]  # one descriptor is the sandbox's own end of the channel\n")


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_no_descriptor_of_the_grader_reaches_student_code(request, protected):
    """The forkserver's alive pipe and the resource tracker's pipe were inherited once;
    a submission wrote to them to crash the forkserver and make root unlink files."""
    run = request.getfixturevalue("protected_run" if protected else "off_inside_run")
    assert_clean_run(run.result)
    (assert_probe_held if protected else assert_probe_worked)(run.result, "descriptors",
                                                               PROBES["descriptors"])


def test_groups_left_by_a_killed_grader_are_swept_and_live_ones_kept(monkeypatch):
    """kill -9 of a grader skips its cleanup and leaves empty cgroups behind: the next
    grader removes those once they are old, and never a recent or occupied one."""
    from autograder.sandbox import cgroups
    stale = cgroups.create(2**28, 64)
    if stale is None:
        pytest.skip("no cgroups here: the sandbox's memory and process caps cannot be tested")
    recent, fresh = cgroups.create(2**28, 64), None
    try:
        for folder in stale.folders:
            os.utime(folder, (time.time() - 2 * cgroups.STALE_SECONDS,) * 2)
        monkeypatch.setattr(cgroups, "_swept", False)
        fresh = cgroups.create(2**28, 64)
        assert not any(os.path.isdir(f) for f in stale.folders)
        assert all(os.path.isdir(f) for f in recent.folders + fresh.folders)
    finally:
        for group in (stale, recent, fresh):
            if group is not None:
                group.remove(1)


# --- The grader's environment ---

ENV_SECRET_VARIABLE = "TFKIT_INSTRUCTOR_TOKEN"

# Everything student code can learn of its environment, in one string: the mapping, the
# interpreter's start-up copy and the kernel's record of the process's start. predict
# prints it and raises it; accuracy returns it.
ENV_LEAK = (
    "def leak():\n"
    "    import os, posix\n"
    "    try:\n"
    "        with open('/proc/self/environ', 'rb') as handle:\n"
    "            environ = handle.read()\n"
    "    except OSError as exc:  # a process that changed its uid may not read it\n"
    "        environ = str(exc).encode()\n"
    f"    return ' '.join(repr(part)[:200] for part in (os.getenv({ENV_SECRET_VARIABLE!r}),\n"
    f"        posix.environ.get({ENV_SECRET_VARIABLE.encode()!r}),\n"
    f"        environ[environ.find({ENV_SECRET_VARIABLE.encode()!r}):]))\n"
)
LEAKING_PREDICT = ENV_LEAK + "def predict(W, b, inputs):\n    print(leak())\n    raise RuntimeError(leak())\n"
LEAKING_ACCURACY = ENV_LEAK + "def accuracy(W, b, inputs, targets):\n    return leak()\n"

ENV_GRADER = '''
import json, os, sys
from multiprocessing import forkserver
from autograder.grading import reference
from autograder.grading.batch import grade_class
from autograder.sandbox import forkserver as tfkit_forkserver, settings
from autograder.sandbox.settings import Limits
protected = sys.argv[3] == "protected"
if not protected:  # the forkserver started from the grader's whole environment, as it did
    tfkit_forkserver.forkserver_environment = lambda: {**os.environ, "PYTHONSAFEPATH": "1"}
if not protected:  # the sandbox gets the grader's environment
    off = settings.Protections(settings.resolve_route(), frozenset({settings.ENVIRONMENT}))
    settings.protections = lambda: off
results = grade_class([sys.argv[1]], sys.argv[2], seed=5, jobs=1, limits=Limits(), progress=False)
pids = [forkserver._forkserver._forkserver_pid]
for ref in reference._shared.values():
    pids += ref.pids()
secret = os.environ["TFKIT_INSTRUCTOR_TOKEN"].encode()
environs = {}
for pid in pids:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        environs[pid] = secret in handle.read()
print(json.dumps({"scores": {r["student_id"]: r["score"] for r in results}, "environs": environs}))
'''


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_the_graders_environment_reaches_no_file_under_out(tmp_path, full_marks, protected):
    """A grader started with an instructor's token in its environment grades a notebook
    that raises, returns and prints everything it can read of its environment: the
    token is in no file under ``--out``, nor in the environment of the forkserver or the
    reference process. Switched off (the sandbox gets the grader's environment, the
    forkserver starts from it), the same notebook puts the token in the feedback."""
    from conftest import BIN, run
    secret = f"tok-{uuid.uuid4().hex}"
    notebook = with_cell(with_cell(full_marks, LEAKING_PREDICT, replace="predict"),
                         LEAKING_ACCURACY, replace="accuracy")
    write_student(tmp_path / "submitted", "leaky", notebook)
    script = tmp_path / "grader.py"
    script.write_text(ENV_GRADER)
    done = run(BIN / "python", script, tmp_path / "submitted", tmp_path / "out",
               "protected" if protected else "off", cwd=tmp_path,
               env={ENV_SECRET_VARIABLE: secret, "TFKIT_COURSE": str(ROOT)})
    report = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    lost = EXERCISES["predict"].points + EXERCISES["accuracy"].points
    assert report["scores"] == {"leaky": 100 - lost}, (report, done.stderr[-2000:])
    leaked = [str(p.relative_to(tmp_path)) for p in (tmp_path / "out").rglob("*")
              if p.is_file() and secret.encode() in p.read_bytes()]
    assert (leaked == []) is protected, leaked
    assert (not any(report["environs"].values())) is protected, report["environs"]
    assert len(report["environs"]) >= 2  # the forkserver and at least one reference process


# --- Kernel keyrings, system calls, host-wide /proc files ---

KEYRING_GRADER = '''
import ctypes, json, os, platform, sys
from autograder.grading.grade import grade_submission
from autograder.sandbox import process, settings
from autograder.sandbox.isolation import UID_BASE
from autograder.sandbox.settings import Limits
ADD_KEY, KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
secret = os.environ.pop("TFKIT_KEY_SECRET").encode()
# A login session's keyring (as pam_keyinit gives one over SSH) holding the instructor's key.
assert libc.syscall(KEYCTL, 1, b"tfkit-login-session") > 0  # KEYCTL_JOIN_SESSION_KEYRING
assert libc.syscall(ADD_KEY, b"user", b"tfkit-instructor", secret, len(secret), -3) > 0


def sandbox_key_users():
    """Sandbox uids with keys in the kernel whose sandbox has ended: a live sandbox
    (another grading on the same machine) has its keeper process, host pid
    uid - UID_BASE, still running, and what it holds is not left behind."""
    with open("/proc/key-users") as table:
        uids = [int(line.split(":")[0]) for line in table]
    return [uid for uid in uids if uid == process.SHARED_UID
            or uid >= UID_BASE and not os.path.exists(f"/proc/{uid - UID_BASE}")]


def forget(uid):
    """Remove what a sandbox's uid left in the kernel: its user keyrings, by serial."""
    pid = os.fork()
    if pid == 0:
        os.setgroups([]); os.setgid(uid); os.setuid(uid)
        for key in [libc.syscall(KEYCTL, 0, ring, 0) for ring in (-4, -5)]:
            if key > 0:
                libc.syscall(KEYCTL, 21, key)  # KEYCTL_INVALIDATE
        os._exit(0)
    os.waitpid(pid, 0)


runs = {}
before = set(sandbox_key_users())
for name, disable, students in json.loads(sys.argv[2]):
    chosen = settings.Protections(settings.resolve_route(), frozenset(disable))
    settings.protections = lambda: chosen
    # the default times: a busy machine is slow
    scores = [grade_submission(sys.argv[1], f"s{i}", 5, Limits()).score for i in range(students)]
    left = sorted(set(sandbox_key_users()) - before)
    for uid in left:
        forget(uid)
    runs[name] = {"scores": scores, "left": left}
print(json.dumps(runs))
'''

# Reads the instructor's key if it can (from /proc/keys, or searched for in every keyring
# the process can name), and a key an earlier student left; then leaves one itself.
KEY_HUNT = breaks_predict_if_found(
    "import ctypes, platform\n"
    "ADD_KEY, KEYCTL = {'x86_64': (248, 250), 'aarch64': (217, 219)}[platform.machine()]\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "found = []\n"
    "try:\n"
    "    with open('/proc/keys') as keys:\n"
    "        found += [line for line in keys if 'tfkit-' in line]\n"
    "except OSError:\n"
    "    pass\n"
    "for ring in (-3, -4, -5):  # session, user, user session\n"
    "    for name in (b'tfkit-instructor', b'tfkit-left'):\n"
    "        key = libc.syscall(KEYCTL, 10, ring, b'user', name, 0)  # KEYCTL_SEARCH\n"
    "        if key > 0:\n"
    "            payload = ctypes.create_string_buffer(256)\n"
    "            size = libc.syscall(KEYCTL, 11, key, payload, 256)  # KEYCTL_READ\n"
    "            found.append((name, payload.raw[:max(size, 0)]))\n"
    "for ring in (-3, -4):\n"
    "    libc.syscall(ADD_KEY, b'user', b'tfkit-left', b'a student was here', 18, ring)\n")

KEYRING_RUNS = [  # name, protections switched off, students graded one after another
    ("protected", [], 2),
    ("keyring alone", [settings.SYSCALLS, settings.PROC_MASK], 1),
    ("filter and masks, no keyring", [settings.KEYRING], 1),
    ("neither", [settings.KEYRING, settings.SYSCALLS, settings.PROC_MASK], 1),
    ("filter off, one uid for all", [settings.SYSCALLS, settings.USER], 2),
]


@pytest.mark.slow
def test_no_sandbox_reads_a_key_or_leaves_one(tmp_path, full_marks):
    """A grader in a login session keyring holding the instructor's key grades a
    notebook that hunts for keys and leaves one. With every protection, no sandbox
    reads a key and nothing is left in /proc/key-users. The fresh session keyring alone,
    and the system call filter with the masked /proc (the key's name is in
    /proc/keys otherwise), each keep the instructor's key out of reach; with neither,
    the notebook finds it. Without the filter, a sandbox leaves its uid's
    keyrings in the kernel, and with one uid for all (as when a uid is reused) the next
    student reads the key the previous one left."""
    import json
    from conftest import BIN, run
    path = tmp_path / "hunter.ipynb"
    nbformat.write(with_cell(full_marks, KEY_HUNT, after="predict"), str(path))
    script = tmp_path / "grader.py"
    script.write_text(KEYRING_GRADER)
    done = run(BIN / "python", script, path, json.dumps(KEYRING_RUNS), cwd=tmp_path,
               env={"TFKIT_KEY_SECRET": f"key-{uuid.uuid4().hex}", "TFKIT_COURSE": str(ROOT)})
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    full, broken = 100, 100 - PREDICT_POINTS
    assert runs["protected"] == {"scores": [full, full], "left": []}, runs
    assert runs["keyring alone"]["scores"] == [full], runs
    assert runs["filter and masks, no keyring"] == {"scores": [full], "left": []}, runs
    assert runs["neither"]["scores"] == [broken], runs
    assert runs["keyring alone"]["left"] and runs["neither"]["left"], runs  # the uid's keyrings
    assert runs["filter off, one uid for all"]["scores"] == [full, broken], runs


SYSTEM_CALLS = {  # name: (x86_64 number, aarch64 number, arguments)
    "keyctl": (250, 219, (0, -3, 0)),  # KEYCTL_GET_KEYRING_ID of the session keyring
    "unshare": (272, 97, (0,)),  # with no flags: a no-op where allowed
    "setns": (308, 268, (-1, 0)),
    "ptrace": (101, 117, (16, 999_999)),  # PTRACE_ATTACH to no process
    "bpf": (321, 280, (0, 0, 0)),
    "perf_event_open": (298, 241, (0, 0, -1, -1, 0)),
    "userfaultfd": (323, 282, (0,)),
    "io_uring_setup": (425, 425, (1, 0)),
    "mount": (165, 40, (0, 0, 0, 0, 0)),
    "clone with CLONE_NEWUSER": (56, 220, (0x10000000 | 17, 0, 0, 0, 0)),
}

# Each call through a wrapper that raises OSError as the os module would; a call the
# filter refuses raises PermissionError, and the cell goes on. Any other outcome (a
# result, another error) counts as found.
REFUSED_PROBE = breaks_if_found(
    "model_grad", "system calls",
    "import ctypes, os, platform\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "arch = 0 if platform.machine() == 'x86_64' else 1\n"
    "def system_call(number, *args):\n"
    "    result = libc.syscall(number, *args)\n"
    "    if result == 0 and number in (56, 220):  # a child of clone: leave at once\n"
    "        os._exit(0)\n"
    "    if result < 0:\n"
    "        error = ctypes.get_errno()\n"
    "        raise OSError(error, os.strerror(error))\n"
    "    return result\n"
    "found = []\n"
    f"for name, numbers in {SYSTEM_CALLS!r}.items():\n"
    "    try:\n"
    "        system_call(numbers[arch], *numbers[2])\n"
    "        found.append(name)\n"
    "    except PermissionError:\n"
    "        pass\n"
    "    except OSError as error:\n"
    "        found.append(f'{name}: {error}')\n")


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_a_refused_system_call_fails_cleanly_in_student_code(request, protected):
    """keyctl, unshare, setns, ptrace, bpf, perf_event_open, userfaultfd, io_uring,
    mount and a clone into a new user namespace each raise PermissionError in student
    code, which goes on (the notebook keeps full marks). Without the filter, some
    succeed or fail otherwise (ENOENT, EBADF, ESRCH, EFAULT ...)."""
    run = request.getfixturevalue("protected_run" if protected else "off_inside_run")
    assert_clean_run(run.result)
    assert (settings.SYSCALLS in run.result.isolation) is protected
    (assert_probe_held if protected else assert_probe_worked)(run.result, "system calls",
                                                               PROBES["system calls"])


PROC_PROBE = breaks_if_found(
    "train_with_optimizer", "host /proc",
    "found = []\n"
    "for name in ('keys', 'key-users', 'timer_list', 'sched_debug'):\n"
    "    try:\n"
    "        with open('/proc/' + name) as handle:\n"
    "            if handle.read():\n"
    "                found.append(name)\n"
    "    except OSError:\n"
    "        pass\n")


@pytest.mark.slow
@pytest.mark.parametrize("protected", [True, False], ids=["protected", "switched off"])
def test_host_wide_proc_files_read_empty(request, protected):
    """/proc/keys and /proc/key-users list every uid's key counts and the keys a process
    may view; /proc/timer_list and /proc/sched_debug every task's timers: masked, they
    read empty (here /proc/keys and /proc/key-users are readable without the mask)."""
    run = request.getfixturevalue("protected_run" if protected else "off_inside_run")
    assert_clean_run(run.result)
    (assert_probe_held if protected else assert_probe_worked)(run.result, "host /proc",
                                                               PROBES["host /proc"])


# --- The probes graded together ---
#
# The probes above that need the same sandbox settings are graded in one notebook per
# setting (tests/probes.py): each breaks an exercise of its own when its attack works.
# Switched off, a run disables several protections at once, chosen so that each probe's
# protection is independent of the others switched off with it: the filesystem (which
# the /proc mask is part of) is switched off in a run of its own.

PROBES = {  # probe: the exercise it breaks
    "descriptors": "model_loss",  # found a descriptor of the grader
    "host /proc": "train_with_optimizer",  # read a host-wide /proc file
    "pivot": "accuracy",  # reached the host's or the grader's files through /proc
    "planted answers": "loss",  # read a planted answer file
    "system calls": "model_grad",  # a refused system call did not raise PermissionError
    "daemon": "grad",  # the daemon did not even start (the attack must run)
}
assert FD_PROBE.count("def model_loss(") == 1 and PROC_PROBE.count("def train_with_optimizer(") == 1
assert REFUSED_PROBE.count("def model_grad(") == 1


class ProbeRun:
    """One grading of the probe notebook, and what it left on the host."""

    def __init__(self, result, processes_left=(), litter_left=(), sysv_left=False):
        self.result, self.processes_left = result, list(processes_left)
        self.litter_left, self.sysv_left = list(litter_left), sysv_left


def grade_probes(folder, full_marks, limits, cells, daemon_marker=None, litter_marker=None):
    """Grade the full-marks notebook with ``cells`` at its end, note the daemons and the
    litter it left on the host, and remove them."""
    left, litter, sysv = [], [], False
    try:
        result = grade(folder, with_probes(full_marks, cells), limits)
        if daemon_marker:
            left = processes_with(daemon_marker)
        if litter_marker:
            litter = sorted({os.path.realpath(os.path.join(f, litter_marker)) for f in WORLD_WRITABLE
                             if os.path.exists(os.path.join(f, litter_marker))})
            sysv = SYSV_KEY in sysv_segments()
    finally:
        if daemon_marker:
            kill_all(processes_with(daemon_marker))
        for path in litter:
            os.unlink(path)
        if litter_marker and SYSV_KEY in sysv_segments():
            os.system(f"ipcrm -M {SYSV_KEY} 2>/dev/null")
    return ProbeRun(result, left, litter, sysv)


@pytest.fixture(scope="module")
def protected_run(tmp_path_factory, full_marks):
    """Every probe, every protection on, graded from a course root holding a planted
    answer (the grader's reference: the real course)."""
    folder = tmp_path_factory.mktemp("protected")
    daemon, litter = f"tfd{uuid.uuid4().hex[:8]}", f"tfkit-litter-{uuid.uuid4().hex[:8]}"
    with planting(folder) as (secret, paths, course), pytest.MonkeyPatch.context() as patch:
        patch.chdir(course)
        patch.setenv("TFKIT_COURSE", str(ROOT))
        patch.setenv("TFKIT_PIVOT_SECRET", "1")
        cells = [FD_PROBE, PROC_PROBE, pivot_probe(paths[0], PROBES["pivot"]),
                 hunt(secret, paths, PROBES["planted answers"]), REFUSED_PROBE,
                 daemon_cell(daemon, PROBES["daemon"]), litter_cell(litter)]
        run = grade_probes(folder, full_marks, FAST, cells, daemon, litter)
    return run


@pytest.fixture(scope="module")
def user_namespace_run(tmp_path_factory, full_marks):
    """The planted answers and the pivot, on the unprivileged route."""
    folder = tmp_path_factory.mktemp("user-namespace")
    with planting(folder) as (secret, paths, _), pytest.MonkeyPatch.context() as patch:
        patch.setenv("TFKIT_PIVOT_SECRET", "1")
        cells = [pivot_probe(paths[0], PROBES["pivot"]),
                 hunt(secret, paths, PROBES["planted answers"])]
        with switched_off(route="user namespace"):
            return grade_probes(folder, full_marks, FAST, cells)


@pytest.fixture(scope="module")
def off_inside_run(tmp_path_factory, full_marks):
    """The descriptors, the /proc mask, the system call filter, the PID namespace and the
    cgroup switched off (the filesystem stays): each of their probes must find its way."""
    folder = tmp_path_factory.mktemp("off-inside")
    daemon = f"tfd{uuid.uuid4().hex[:8]}"
    cells = [FD_PROBE, PROC_PROBE, REFUSED_PROBE, daemon_cell(daemon, PROBES["daemon"])]
    with switched_off(settings.DESCRIPTORS, settings.PROC_MASK, settings.SYSCALLS,
                      settings.PROCESSES, settings.CGROUP):
        return grade_probes(folder, full_marks, FAST, cells, daemon_marker=daemon)


@pytest.fixture(scope="module")
def off_filesystem_run(tmp_path_factory, full_marks):
    """The filesystem and IPC namespaces switched off: planted answers are found and
    litter is left on the host."""
    folder = tmp_path_factory.mktemp("off-filesystem")
    litter = f"tfkit-litter-{uuid.uuid4().hex[:8]}"
    with planting(folder) as (secret, paths, _):
        cells = [hunt(secret, paths, PROBES["planted answers"]), litter_cell(litter)]
        with switched_off(settings.FILESYSTEM, settings.IPC):
            return grade_probes(folder, full_marks, FAST, cells, litter_marker=litter)


@pytest.mark.slow
def test_the_probe_notebook_keeps_full_marks_when_protected(protected_run):
    """No probe costs a point when every protection is on (and the litter cell none)."""
    assert_clean_run(protected_run.result)
    assert protected_run.result.score == 100, {
        n: e.feedback[:400] for n, e in protected_run.result.exercises.items()
        if e.score < e.max_score}
