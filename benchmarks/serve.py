"""How soon ``tfgrade serve`` hands feedback back: submit to feedback available.

Reproduce with (from the repository root):

    make bench-serve
    # or, with the environment built:
    PATH="$PWD/.venv/bin:$PATH" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/serve.py

What it does, in one run on one machine:

1. builds a temporary course (``nbgrader_config.py`` with ``Exchange.root`` and
   ``CourseDirectory.course_id``, ``source/``, then ``nbgrader generate_assignment`` and
   ``release_assignment``; not timed) and starts ``tfgrade serve tf_from_scratch --jobs J``
   from its root, as an instructor would;
2. **burst**: ``--burst`` students submit back to back through nbgrader's exchange
   (nbgrader's own ``SubmitApp``, in this process, so a submission costs milliseconds);
3. **spaced**: ``--spaced`` students submit at random intervals (exponential, mean
   ``--interval`` seconds, seeded);
4. **memory**: with ``--memory N``, submissions continue (in bursts of 25, of the
   untouched stub unless ``--memory-mix``) until the service has graded N in all; the
   service's resident memory (its own process, and the sum over its process tree) is
   sampled after every 50.

Each submission is one of the sample class's notebooks (cycled: correct, stub, each
mistake), with a comment cell naming the submission, so each draws its own inputs as
in a real class. For each, the time from the end of its ``nbgrader submit`` to the
moment its feedback page exists where ``nbgrader fetch_feedback`` looks (polled every
20 ms), and the service's own grading time for it (its queue's ``graded`` event). The
goals of issue 25: burst p95 under 10 s; spaced median at most the grading time + 1 s.

Options: ``--burst`` (50), ``--spaced`` (50), ``--interval`` (4.0), ``--memory`` (0:
skip; the issue's figure is 500), ``--jobs`` (2), ``--settle`` (0.5), ``--seed``,
``--keep DIR``, ``--json FILE``. ``--burst 2 --spaced 2`` is a quick check.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "tf_from_scratch"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
SAMPLE_CLASS = ROOT / "examples" / "sample_class" / "submitted"
BIN = Path(sys.executable).parent
COURSE_ID = "bench"
TOKEN = "bench-" + os.urandom(8).hex()


# --- the course and the service ---

def run(*args, cwd):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}")


def make_course(work: Path) -> tuple:
    """A course with its exchange; returns ``(course root, exchange root)``."""
    course, exchange = work / "course", work / "exchange"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    if (ROOT / ".tfkit" / "case_key").is_file():
        (course / ".tfkit").mkdir()
        shutil.copy(ROOT / ".tfkit" / "case_key", course / ".tfkit" / "case_key")
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n")
    exchange.mkdir()
    exchange.chmod(0o777)
    run(BIN / "nbgrader", "generate_assignment", ASSIGNMENT, "--force", cwd=course)
    run(BIN / "nbgrader", "release_assignment", ASSIGNMENT, cwd=course)
    return course, exchange


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_service(course: Path, jobs: int, settle: float, log) -> tuple:
    port = free_port()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TFGRADE_SERVE_TOKEN": TOKEN,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "autograder.cli", "serve", ASSIGNMENT,
                                "--jobs", str(jobs), "--settle", str(settle), "--port", str(port)],
                               cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tfgrade serve exited {process.returncode}")
        try:
            status(port)
            return process, port
        except OSError:
            time.sleep(0.2)
    raise SystemExit("tfgrade serve did not start in 180 s")


def status(port: int) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                     headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


# --- submitting and waiting ---

def notebooks(work: Path) -> list:
    """The sample class's notebooks, in a fixed order."""
    return sorted(SAMPLE_CLASS.glob(f"*/{ASSIGNMENT}/{NOTEBOOK}"))


class Students:
    """Submits as students through nbgrader's exchange, and watches for their feedback."""

    def __init__(self, work: Path, exchange: Path, course_id: str = COURSE_ID, sources=None):
        import nbformat
        self.work, self.exchange, self.course_id = work, exchange, course_id
        self.sources = [nbformat.read(str(p), as_version=4) for p in (sources or notebooks(work))]
        self.stub = nbformat.read(str(SAMPLE_CLASS / "untouched" / ASSIGNMENT / NOTEBOOK), as_version=4)
        self.count = 0
        self.pending: dict = {}  # feedback path -> (student, submitted at)
        self.seen: dict = {}  # student -> seconds from submit to feedback
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def submit(self, stub: bool = False) -> str:
        """One more student submits (the next notebook of the mix, or with ``stub`` the
        untouched one); returns their id."""
        import nbformat
        from nbgrader.apps.submitapp import SubmitApp
        self.count += 1
        student = f"s{self.count:04d}"
        home = self.work / "homes" / student
        (home / ASSIGNMENT).mkdir(parents=True)
        notebook = (self.stub if stub else self.sources[(self.count - 1) % len(self.sources)]).copy()
        notebook.cells = [*notebook.cells, nbformat.v4.new_code_cell(f"# submission {student}")]
        nbformat.write(notebook, str(home / ASSIGNMENT / NOTEBOOK))
        here = os.getcwd()
        os.chdir(home)
        try:
            app = SubmitApp()
            app.initialize([ASSIGNMENT, f"--student={student}", f"--Exchange.root={self.exchange}",
                            f"--Exchange.cache={home / 'cache'}",
                            f"--CourseDirectory.course_id={self.course_id}", "--log-level=ERROR"])
            app.start()
        finally:
            os.chdir(here)
        submitted = time.monotonic()
        with self.lock:
            self.pending[self._feedback_path(home, student)] = (student, submitted)
        return student

    def _feedback_path(self, home: Path, student: str) -> Path:
        from nbgrader.utils import notebook_hash
        [secret] = (home / "cache" / self.course_id).glob(f"{student}+{ASSIGNMENT}+*/submission_secret.txt")
        name = notebook_hash(secret=secret.read_text(), notebook_id=ASSIGNMENT)
        return self.exchange / self.course_id / "feedback" / f"{name}.html"

    def _watch(self) -> None:
        while not self.stop.wait(0.02):
            with self.lock:
                items = list(self.pending.items())
            for path, (student, submitted) in items:
                if path.exists():
                    with self.lock:
                        self.seen[student] = time.monotonic() - submitted
                        del self.pending[path]

    def wait(self, students: list, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(s in self.seen for s in students):
                    return {s: self.seen[s] for s in students}
            time.sleep(0.05)
        raise SystemExit(f"no feedback within {timeout:g} s for "
                         f"{[s for s in students if s not in self.seen][:5]}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def grading_seconds(course: Path) -> dict:
    """The service's grading time of each student (its queue's ``graded`` events)."""
    with sqlite3.connect(course / ".tfkit" / "serve" / "queue.sqlite") as db:
        rows = db.execute("SELECT jobs.student, events.detail FROM events JOIN jobs ON "
                          "jobs.key = events.key WHERE events.event = 'graded'").fetchall()
    return {student: float(detail) for student, detail in rows}


def summary(latencies: dict, graded: dict) -> dict:
    values = sorted(latencies.values())
    grading = [graded[s] for s in latencies if s in graded]
    quantile = lambda q: values[min(len(values) - 1, int(round(q * (len(values) - 1))))]  # noqa: E731
    return {"n": len(values), "median_s": round(statistics.median(values), 3),
            "p95_s": round(quantile(0.95), 3), "max_s": round(values[-1], 3),
            "grading_median_s": round(statistics.median(grading), 3) if grading else None,
            "over_grading_median_s": round(statistics.median(
                [latencies[s] - graded[s] for s in latencies if s in graded]), 3) if grading else None}


def memory(pid: int) -> dict:
    """Resident memory of ``pid`` and of its whole process tree, in MB."""
    def rss(p):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def children(p):
        found = []
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
        return found
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children(p)
    return {"service_mb": round(rss(pid), 1), "tree_mb": round(sum(rss(p) for p in tree), 1),
            "processes": len(tree)}


# --- the run ---

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--spaced", type=int, default=50)
    parser.add_argument("--interval", type=float, default=4.0)
    parser.add_argument("--memory", type=int, default=0)
    parser.add_argument("--memory-mix", action="store_true",
                        help="the memory phase submits the mix too (default: the untouched stub, "
                        "so 500 submissions take minutes, not most of an hour)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--settle", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--keep", metavar="DIR")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="tfkit-bench-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {work}", file=sys.stderr)
    course, exchange = make_course(work)
    log = open(work / "serve.log", "w")
    process, port = start_service(course, args.jobs, args.settle, log)
    students = Students(work, exchange)
    figures = {"jobs": args.jobs, "settle_s": args.settle, "cores": os.cpu_count(),
               "load_at_start": os.getloadavg()[0]}
    try:
        warm = [students.submit()]  # the first grading starts the reference's caches
        students.wait(warm, 300)
        if args.burst:
            burst = [students.submit() for _ in range(args.burst)]
            figures["burst"] = summary(students.wait(burst, 1800), grading_seconds(course))
            print("burst:", figures["burst"], file=sys.stderr)
        if args.spaced:
            rng, spaced = random.Random(args.seed), []
            for _ in range(args.spaced):
                time.sleep(rng.expovariate(1 / args.interval))
                spaced.append(students.submit())
            figures["spaced"] = summary(students.wait(spaced, 1800), grading_seconds(course))
            print("spaced:", figures["spaced"], file=sys.stderr)
        if args.memory:
            samples = [{"submitted": students.count, **memory(process.pid)}]
            print("memory:", samples[-1], file=sys.stderr)
            while students.count < args.memory:
                upto = min(args.memory, (students.count // 50 + 1) * 50)  # to the next multiple of 50
                batch = [students.submit(stub=not args.memory_mix) for _ in range(upto - students.count)]
                students.wait(batch, 1800)
                samples.append({"submitted": students.count, **memory(process.pid)})
                print("memory:", samples[-1], file=sys.stderr)
            figures["memory"] = samples
    finally:
        students.close()
        if process.poll() is None:
            os.killpg(process.pid, 15)
            process.wait(60)
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
