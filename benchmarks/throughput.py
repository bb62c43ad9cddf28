"""Throughput of ``tfgrade grade`` against ``nbgrader autograde`` on the same submissions.

Reproduce the published figures with (from the repository root):

    make bench
    # or, with the environment already built:
    PATH="$PWD/.venv/bin:$PATH" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/throughput.py --n 40

What it does, in one run on one machine:

1. builds a temporary course (``nbgrader_config.py`` and ``source/`` copied, then
   ``nbgrader generate_assignment``; not timed) and ``--n`` submissions
   ``s001..sNNN``, cycling through the students of ``examples/sample_class`` in a
   fixed order (correct, stub, then each mistake), so the mix is reproducible;
2. grades a class of copies of the ``untouched`` stub with tfgrade (the student's
   code does nothing, so wall time / submissions x jobs is the grader's own
   overhead per submission); this run also warms the disk cache for both graders;
3. times ``nbgrader autograde`` and ``tfgrade grade --jobs J`` on the submissions,
   sampling the memory of each command's process tree every 0.1 s;
4. compares every student's total (nbgrader's gradebook against tfgrade's
   grades.csv) and exits 1 if any differ.

Memory: the sum of RSS over a process tree counts pages shared between forked
processes (TensorFlow, loaded once by tfgrade's forkserver) once per process, so it
overstates; the sum of PSS (``/proc/<pid>/smaps_rollup``) splits shared pages between
their processes and does not. The largest single process's RSS is what one worker
needs resident. Peaks are sampled, so a spike shorter than 0.1 s can be missed.

Options: ``--n`` submissions (40), ``--jobs`` for tfgrade (2), ``--keep DIR`` keeps
the work folder (course, logs, outputs), ``--skip-nbgrader`` times tfgrade only (no
ratio, no agreement check), ``--json FILE`` writes the figures as JSON.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "tf_from_scratch"
SAMPLE_CLASS = ROOT / "examples" / "sample_class"
BIN = Path(sys.executable).parent  # the environment's bin/ (not resolved: venv symlinks)
GOALS = {"speedup": 10.0, "speedup_stretch": 20.0, "overhead_seconds": 0.3,
         "worker_bytes": 1.5 * 2**30}

try:
    import psutil
except ImportError:  # the /proc fallback below needs no dependency
    psutil = None


# --- Memory of a process tree ---

def _proc_children(pid: int) -> list:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(c) for c in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return children


def process_tree(pid: int) -> list:
    """``pid`` and all its descendants (psutil when the environment has it, else /proc)."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            return [pid] + [p.pid for p in root.children(recursive=True)]
        except psutil.Error:
            return []
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += _proc_children(current)
    return found


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_bytes(pid: int) -> int:
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss
        except psutil.Error:
            return 0
    return _status_kb(pid, "VmRSS") * 1024


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages divided between the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class PeakMemory(threading.Thread):
    """Samples a process tree every ``interval`` seconds and keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_total = self.peak_rss_largest = self.peak_pss_total = 0
        self.peak_rss_child = 0
        self.peak_processes = self.samples = 0
        self.largest_is_root = False
        self._stop_event = threading.Event()

    def sample(self) -> None:
        pids = process_tree(self.pid)
        if not pids:
            return
        rss = {pid: rss_bytes(pid) for pid in pids}
        pss = sum(pss_bytes(pid) for pid in pids)
        self.samples += 1
        self.peak_rss_total = max(self.peak_rss_total, sum(rss.values()))
        self.peak_pss_total = max(self.peak_pss_total, pss)
        self.peak_processes = max(self.peak_processes, len(pids))
        children = [value for pid, value in rss.items() if pid != self.pid]
        self.peak_rss_child = max([self.peak_rss_child, *children])
        biggest = max(rss, key=rss.get)
        if rss[biggest] > self.peak_rss_largest:
            self.peak_rss_largest, self.largest_is_root = rss[biggest], biggest == self.pid

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> dict:
        self._stop_event.set()
        self.join()
        return {"peak_rss_total_bytes": self.peak_rss_total,
                "peak_rss_largest_process_bytes": self.peak_rss_largest,
                "largest_process": "the command itself" if self.largest_is_root else "a child",
                "peak_rss_largest_child_bytes": self.peak_rss_child,
                "peak_pss_total_bytes": self.peak_pss_total,
                "peak_processes": self.peak_processes, "samples": self.samples}


def timed(command: list, cwd: Path, log: Path) -> dict:
    """Run ``command``, its output to ``log``; wall time, exit code and peak memory."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore",
           "TFKIT_COURSE": str(ROOT)}  # the reference: this course's source notebook
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen([str(c) for c in command], cwd=cwd, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        sampler = PeakMemory(process.pid)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
    return {"command": " ".join(str(c) for c in command), "seconds": seconds,
            "exit_code": code, "log": str(log), **sampler.stop()}


def log_tail(path, lines: int = 30) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


# --- The class ---

def sample_students() -> list:
    """(student, kind) for the sample class, in a fixed order: the correct one, the
    stub, then each mistake (the order of expected.json)."""
    expected = json.loads((SAMPLE_CLASS / "expected.json").read_text())
    present = sorted(p.name for p in (SAMPLE_CLASS / "submitted").iterdir()
                     if (p / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file())
    order = [s for s in expected if s in present] + [s for s in present if s not in expected]
    kinds = []
    for student in order:
        failing = expected.get(student)
        if failing is None:
            kind = "unknown"
        elif not failing:
            kind = "correct"
        elif student == "untouched":
            kind = "stub"
        else:
            kind = "mistake"
        kinds.append((student, kind))
    return kinds


def notebook_of(folder: Path, student: str) -> Path:
    return folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def make_class(submitted: Path, n: int, cycle: list) -> dict:
    """``n`` submissions s001.. cycling through ``cycle``; student -> sample student."""
    width = max(3, len(str(n)))
    origin = {}
    for index in range(n):
        student, sample = f"s{index + 1:0{width}d}", cycle[index % len(cycle)]
        target = notebook_of(submitted, student)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook_of(SAMPLE_CLASS / "submitted", sample), target)
        origin[student] = sample
    return origin


SANDBOXED_STEP = "c.Autograde.autograde_preprocessors"


def make_course(course: Path) -> None:
    """The course, with nbgrader's stock in-kernel autograde as the baseline: the
    config's sandboxed step (and everything after it) is cut, so ``nbgrader autograde``
    runs the hidden tests in a kernel as stock nbgrader does."""
    course.mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(config[:config.index(SANDBOXED_STEP)])
    shutil.copytree(ROOT / "source", course / "source")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT,
                           "--force", f"--CourseDirectory.root={course}"], cwd=course,
                          capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                               "TF_CPP_MIN_LOG_LEVEL": "3"})
    if done.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{done.stdout}\n{done.stderr}")


def tfgrade_command() -> list:
    script = BIN / "tfgrade"
    return [script] if script.is_file() else [sys.executable, "-m", "autograder.cli"]


def tfgrade_totals(out: Path) -> dict:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student_id"]: float(row["total"]) for row in csv.DictReader(handle)}


def nbgrader_totals(course: Path) -> dict:
    from autograder.sandbox import import_quietly
    import_quietly("autograder.gradebook")  # it imports TensorFlow, whose start-up is noisy
    from autograder.gradebook import nbgrader_scores
    return {student: sum(scores.values()) for student, scores in nbgrader_scores(course).items()}


def run_tfgrade(submitted: Path, out: Path, jobs: int, cwd: Path, log: Path, n: int) -> dict:
    figures = timed([*tfgrade_command(), "grade", submitted, "--out", out, "--jobs", jobs,
                     "--quiet", "--force"], cwd, log)
    if figures["exit_code"] != 0 or not (out / "grades.csv").is_file():
        raise SystemExit(f"tfgrade failed (exit {figures['exit_code']}):\n{log_tail(log)}")
    totals = tfgrade_totals(out)
    if len(totals) != n:
        raise SystemExit(f"tfgrade graded {len(totals)} of {n} submissions:\n{log_tail(log)}")
    return figures


# --- Report ---

def gb(value: float) -> str:
    return f"{value / 2**30:.2f} GB" if value >= 2**30 else f"{value / 2**20:.0f} MB"


def memory_text(figures: dict) -> str:
    return (f"peak RSS {gb(figures['peak_rss_total_bytes'])} "
            f"(largest process {gb(figures['peak_rss_largest_process_bytes'])}"
            f"{' = the command itself' if figures['largest_process'] == 'the command itself' else ''}, "
            f"PSS {gb(figures['peak_pss_total_bytes'])}, "
            f"{figures['peak_processes']} processes)")


def mark(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def report(result: dict) -> str:
    n, jobs = result["n"], result["jobs"]
    kinds = result["mix"]
    lines = [f"submissions             {n} (cycle of {len(result['cycle'])} sample students: "
             f"{kinds.get('correct', 0)} correct, {kinds.get('stub', 0)} stub, "
             f"{kinds.get('mistake', 0)} with mistakes)"]
    label = f"tfgrade grade --jobs {jobs}"
    width = max(len(label), len("nbgrader autograde"))
    for name, key in (("nbgrader autograde", "nbgrader"), (label, "tfgrade")):
        if key in result:
            f = result[key]
            lines.append(f"{name:<{width}}  {f['seconds']:7.1f} s  {f['per_submission']:6.2f} s/submission"
                         f"  {memory_text(f)}")
    if result.get("speedup") is not None:
        lines.append(f"{'speed-up':<{width}}  {result['speedup']:7.1f}x")
    over = result["overhead"]
    lines.append(f"overhead per stub submission  {over['per_submission']:.2f} s "
                 f"({over['n']} copies of 'untouched' in {over['seconds']:.1f} s with --jobs {jobs}; "
                 f"wall / submissions x jobs, start-up included)")
    lines.append(f"  steady state {over['median_grader_seconds']:.2f} s per stub (median of tfgrade's "
                 f"own per-submission times, the {jobs} slowest left out); fixed start-up "
                 f"~{over['startup_seconds']:.1f} s (wall - submissions x median / jobs)")
    if "agree" in result:
        lines.append(f"{'totals agree':<{width}}  {result['agree']}/{n}")
        for d in result["disagreements"]:
            lines.append(f"  {d['student']} ({d['sample']}): nbgrader {d['nbgrader']}, "
                         f"tfgrade {d['tfgrade']}")
    lines.append("(RSS sums count pages shared by forked processes once per process, so they "
                 "overstate; PSS splits shared pages and does not. Sampled every 0.1 s.)")
    goals = result["goals"]
    lines.append("goals:")
    if "speedup" in goals:
        g = goals["speedup"]
        lines.append(f"  [{mark(g['met'])}] throughput >= {GOALS['speedup']:g}x nbgrader "
                     f"(stretch {GOALS['speedup_stretch']:g}x{', met' if g['stretch_met'] else ''}): "
                     f"{result['speedup']:.1f}x")
    g = goals["overhead"]
    lines.append(f"  [{mark(g['met'])}] overhead per submission <= {GOALS['overhead_seconds']} s: "
                 f"{over['per_submission']:.2f} s with start-up, "
                 f"{over['median_grader_seconds']:.2f} s steady state"
                 f"{' (met)' if g['steady_state_met'] else ''}")
    g = goals["worker_memory"]
    tf = result["tfgrade"]
    own = (f"; the tfgrade process itself {gb(tf['peak_rss_largest_process_bytes'])}"
           if tf["largest_process"] == "the command itself" else "")
    lines.append(f"  [{mark(g['met'])}] peak memory per worker <= {gb(GOALS['worker_bytes'])}: "
                 f"{gb(tf['peak_rss_largest_child_bytes'])} (largest process under tfgrade, "
                 f"RSS{own})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="number of submissions (default 40)")
    parser.add_argument("--jobs", type=int, default=2, help="tfgrade --jobs (default 2)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (new or empty) and keep it")
    parser.add_argument("--skip-nbgrader", action="store_true",
                        help="time tfgrade only (no ratio, no agreement check)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.n < 1 or args.jobs < 1:
        parser.error("--n and --jobs must be at least 1")

    if args.keep:
        work = Path(args.keep).resolve()
        if work.exists() and any(work.iterdir()):
            parser.error(f"--keep {work}: the folder is not empty")
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="tfkit-bench-"))
    try:
        result = benchmark(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(report(result))
    if args.keep:
        print(f"work folder kept: {work}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result.get("disagreements") else 0


def benchmark(work: Path, args) -> dict:
    n, jobs = args.n, args.jobs
    cycle_kinds = sample_students()
    cycle = [s for s, _ in cycle_kinds]
    kind_of = dict(cycle_kinds)
    course = work / "course"
    print(f"building {n} submissions in {work} ...", flush=True)
    make_course(course)
    origin = make_class(course / "submitted", n, cycle)
    mix = {}
    for sample in origin.values():
        mix[kind_of[sample]] = mix.get(kind_of[sample], 0) + 1
    result = {"n": n, "jobs": jobs, "cycle": cycle, "mix": mix, "students": origin,
              "cpus": os.cpu_count(), "python": sys.version.split()[0],
              "memory_sampler": "psutil" if psutil is not None else "/proc"}

    # The stubs first: the grader's overhead, and a warm disk cache for both graders.
    stubs = work / "stubs"
    n_stubs = min(n, 20)
    make_class(stubs / "submitted", n_stubs, ["untouched"])
    print(f"tfgrade on {n_stubs} stubs ...", flush=True)
    over = run_tfgrade(stubs / "submitted", stubs / "tfgrade_out", jobs, stubs,
                       work / "tfgrade_stubs.log", n_stubs)
    seconds = [json.loads(p.read_text())["seconds"]
               for p in (stubs / "tfgrade_out").glob("*/result.json")]
    # The first `jobs` submissions wait for the forkserver to start: leave out the
    # `jobs` slowest (when there are others) and take the median of the rest.
    steady = sorted(seconds)[:-jobs] if len(seconds) > jobs else seconds
    median = statistics.median(steady)
    over.update(n=n_stubs, per_submission=over["seconds"] / n_stubs * jobs,
                median_grader_seconds=median,
                startup_seconds=max(0.0, over["seconds"] - n_stubs * median / jobs))
    result["overhead"] = over

    if not args.skip_nbgrader:
        print(f"nbgrader autograde on {n} submissions ...", flush=True)
        log = work / "nbgrader.log"
        figures = timed([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force",
                         "--create", f"--CourseDirectory.root={course}"], course, log)
        missing = [s for s in origin if not notebook_of(course / "autograded", s).is_file()]
        if figures["exit_code"] != 0 or missing:
            raise SystemExit(f"nbgrader autograde failed (exit {figures['exit_code']}, "
                             f"{len(missing)} autograded notebooks missing):\n{log_tail(log)}")
        figures["per_submission"] = figures["seconds"] / n
        result["nbgrader"] = figures

    print(f"tfgrade grade --jobs {jobs} on {n} submissions ...", flush=True)
    out = course / "tfgrade_out"
    figures = run_tfgrade(course / "submitted", out, jobs, course, work / "tfgrade.log", n)
    figures["per_submission"] = figures["seconds"] / n
    result["tfgrade"] = figures

    goals = {"overhead": {"met": over["per_submission"] <= GOALS["overhead_seconds"],
                          "steady_state_met": over["median_grader_seconds"]
                          <= GOALS["overhead_seconds"]},
             "worker_memory": {"met": figures["peak_rss_largest_child_bytes"]
                               <= GOALS["worker_bytes"]}}
    tf_totals = tfgrade_totals(out)
    result["totals"] = {"tfgrade": tf_totals}
    if "nbgrader" in result:
        result["speedup"] = result["nbgrader"]["seconds"] / figures["seconds"]
        goals["speedup"] = {"met": result["speedup"] >= GOALS["speedup"],
                            "stretch_met": result["speedup"] >= GOALS["speedup_stretch"]}
        nb_totals = nbgrader_totals(course)
        result["totals"]["nbgrader"] = nb_totals
        disagreements = [{"student": s, "sample": origin[s], "nbgrader": nb_totals.get(s),
                          "tfgrade": tf_totals.get(s)} for s in origin
                         if nb_totals.get(s) is None or tf_totals.get(s) is None
                         or abs(nb_totals[s] - tf_totals[s]) > 1e-6]
        result["agree"] = n - len(disagreements)
        result["disagreements"] = disagreements
    else:
        result["speedup"] = None
    result["goals"] = goals
    return result


if __name__ == "__main__":
    sys.exit(main())
