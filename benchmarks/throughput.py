"""Throughput of ``tfgrade grade`` (local pool and Dask) against ``nbgrader autograde``.

Reproduce the published figures with (from the repository root):

    make bench
    # or, with the environment already built:
    PATH="$PWD/.venv/bin:$PATH" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/throughput.py --n 40

What it does, in one run on one machine:

1. builds a temporary course (``nbgrader_config.py`` and ``source/`` copied, then
   ``nbgrader generate_assignment``; not timed) and ``--n`` submissions
   ``s001..sNNN``, cycling through the students of ``examples/sample_class`` in a
   fixed order (correct, stub, then each mistake), so the mix is reproducible; each
   copy's ``predict`` cell gets a comment naming its student, so every submission
   draws its own inputs, as in a real class (see ``make_class``);
2. grades a class of copies of the ``untouched`` stub with tfgrade (the student's
   code does nothing, so wall time / submissions x jobs is the grader's own
   overhead per submission); this run also warms the disk cache for both graders;
3. times ``nbgrader autograde``, ``tfgrade grade --jobs J`` and ``tfgrade grade
   --cluster local:J`` (a Dask LocalCluster of J one-thread workers, started by the
   command) on the submissions, sampling the memory of each command's process tree
   every 0.1 s, and watching the output folder for results as they are written;
4. starts a Dask cluster outside tfgrade (``dask scheduler`` and ``dask worker
   --nworkers J --nthreads 1 --preload autograder.grading.cluster``, as a course keeps one
   running), grades the stubs on it once, then times ``tfgrade grade --scheduler``
   on the submissions: the start-up a warm cluster leaves;
5. compares every student's total (nbgrader's gradebook against each tfgrade run's
   grades.csv) and exits 1 if any differ.

For each tfgrade run: the time to the first result (from the command's start to
the first result.json written) and the steady state (the wall time from the first
result to the last, per submission after the first: what one more student costs
once grading runs).

Memory: the sum of RSS over a process tree counts pages shared between forked
processes (TensorFlow, loaded once by tfgrade's forkserver) once per process, so it
overstates; the sum of PSS (``/proc/<pid>/smaps_rollup``) splits shared pages between
their processes and does not. The largest single process's RSS is what one worker
needs resident. Peaks are sampled, so a spike shorter than 0.1 s can be missed.

Options: ``--n`` submissions (40), ``--jobs`` for tfgrade (2), ``--keep DIR`` keeps
the work folder (course, logs, outputs), ``--skip-nbgrader`` times tfgrade only (no
ratio, no agreement check), ``--skip-dask`` leaves the Dask runs out (they need
``pip install -e '.[dask]'``), ``--json FILE`` writes the figures as JSON.
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
# Issue 23's targets (throughput, the Dask path, the grader's share above the floor, the
# core-seconds per submission) and issue 9's that still stand (start-up, stubs, memory).
GOALS = {"speedup": 12.0, "speedup_stretch": 20.0, "overhead_seconds": 0.3,
         "worker_bytes": 1.5 * 2**30, "first_result_seconds": 3.0, "dask_extra": 0.15,
         "overhead_share": 0.25, "core_seconds": 1.0}


def busy_core_seconds() -> float | None:
    """CPU time spent so far on this machine, every core and process together
    (``/proc/stat``: user, nice, system, irq, softirq, steal); None where unreadable."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
        ticks = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7))
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None

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


class Results(threading.Thread):
    """Watches an output folder: when the first and the last of ``n`` results were
    written (seconds after ``started``)."""

    def __init__(self, out: Path, n: int, started: float, interval: float = 0.02):
        super().__init__(daemon=True)
        self.out, self.n, self.started, self.interval = out, n, started, interval
        self.first = self.last = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            count = len(list(self.out.glob("*/result.json"))) if self.out.is_dir() else 0
            now = time.perf_counter() - self.started
            if count and self.first is None:
                self.first = now
            if count >= self.n:
                self.last = now
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> dict:
        self._stop_event.set()
        self.join()
        steady = ((self.last - self.first) / (self.n - 1)
                  if self.first is not None and self.last is not None and self.n > 1 else None)
        return {"first_result_seconds": self.first, "last_result_seconds": self.last,
                "steady_seconds_per_submission": steady}


def timed(command: list, cwd: Path, log: Path, watch: tuple | None = None) -> dict:
    """Run ``command``, its output to ``log``; wall time, exit code and peak memory,
    and with ``watch=(out, n)`` when its first and last result were written."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore",
           "TFKIT_COURSE": str(ROOT),  # the reference: this course's source notebook
           # The baseline is nbgrader's own route, hidden tests graded in the kernel,
           # which the hidden tests otherwise refuse (autograder/integrations/nbgrader/kernel.py).
           "TFKIT_UNSAFE_KERNEL_GRADING": "1"}
    with open(log, "w") as out:
        started, busy = time.perf_counter(), busy_core_seconds()
        results = Results(*watch, started) if watch else None
        if results:
            results.start()
        process = subprocess.Popen([str(c) for c in command], cwd=cwd, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        sampler = PeakMemory(process.pid)
        sampler.start()
        code = process.wait()
        seconds, busy_after = time.perf_counter() - started, busy_core_seconds()
    return {"command": " ".join(str(c) for c in command), "seconds": seconds,
            # the whole machine's, so only meaningful on an otherwise idle one
            "core_seconds": None if busy is None or busy_after is None else busy_after - busy,
            "exit_code": code, "log": str(log), **sampler.stop(),
            **(results.stop() if results else {})}


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
    """``n`` submissions s001.. cycling through ``cycle``; student -> sample student.

    Each copy's ``predict`` cell ends with a comment naming its student, so no two
    submissions share code: each draws its own inputs (``grade.derive_case_seed``)
    and the reference computes its expected values afresh, as in a real class. Plain
    copies would share inputs and let the reference's memo answer three in four."""
    import nbformat
    from autograder.course import grade_id
    width = max(3, len(str(n)))
    origin = {}
    for index in range(n):
        student, sample = f"s{index + 1:0{width}d}", cycle[index % len(cycle)]
        notebook = nbformat.read(str(notebook_of(SAMPLE_CLASS / "submitted", sample)), as_version=4)
        cell = next(c for c in notebook.cells if grade_id(c) == "predict")
        cell.source = cell.source.rstrip("\n") + f"\n# submission {student}\n"
        target = notebook_of(submitted, student)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(target))
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
    from autograder.sandbox.forkserver import import_quietly
    import_quietly("autograder.integrations.nbgrader.gradebook")  # it imports TensorFlow, whose start-up is noisy
    from autograder.integrations.nbgrader.gradebook import nbgrader_scores
    return {student: sum(scores.values()) for student, scores in nbgrader_scores(course).items()}


def run_tfgrade(submitted: Path, out: Path, where: list, cwd: Path, log: Path, n: int) -> dict:
    """``tfgrade grade`` with ``where`` (``--jobs J``, ``--cluster local:J`` or
    ``--scheduler ADDRESS``)."""
    figures = timed([*tfgrade_command(), "grade", submitted, "--out", out, *where,
                     "--quiet", "--force"], cwd, log, watch=(out, n))
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


RUNS = (("local", "tfgrade grade --jobs {jobs}"), ("dask_local", "tfgrade grade --cluster local:{jobs}"),
        ("dask_warm", "tfgrade grade --scheduler (warm)"))


def seconds_text(value) -> str:
    return "-" if value is None else f"{value:.2f} s"


def report(result: dict) -> str:
    n, jobs = result["n"], result["jobs"]
    kinds = result["mix"]
    lines = [f"submissions             {n} (cycle of {len(result['cycle'])} sample students: "
             f"{kinds.get('correct', 0)} correct, {kinds.get('stub', 0)} stub, "
             f"{kinds.get('mistake', 0)} with mistakes)"]
    runs = [("nbgrader", "nbgrader autograde")] + [(key, label.format(jobs=jobs)) for key, label in RUNS]
    width = max(len(label) for _, label in runs)
    for key, name in runs:
        if key in result:
            f = result[key]
            lines.append(f"{name:<{width}}  {f['seconds']:7.1f} s  {f['per_submission']:6.2f} s/submission"
                         f"  {memory_text(f)}")
            if key != "nbgrader":
                lines.append(f"{'':<{width}}  first result {seconds_text(f['first_result_seconds'])}, "
                             f"steady state {seconds_text(f['steady_seconds_per_submission'])}/submission"
                             f"{speedup_text(result, key)}{core_text(f, n)}")
    if "dask_warm" in result:
        w = result["dask_warm"]
        lines.append(f"{'':<{width}}  (the warm cluster's {jobs} workers, outside tfgrade: largest "
                     f"process {gb(w['workers']['peak_rss_largest_process_bytes'])}, PSS "
                     f"{gb(w['workers']['peak_pss_total_bytes'])})")
    over = result["overhead"]
    lines.append(f"overhead per stub submission  {over['per_submission']:.2f} s "
                 f"({over['n']} copies of 'untouched' in {over['seconds']:.1f} s with --jobs {jobs}; "
                 f"wall / submissions x jobs, start-up included)")
    lines.append(f"  steady state {over['median_grader_seconds']:.2f} s per stub (median of tfgrade's "
                 f"own per-submission times, the {jobs} slowest left out); fixed start-up "
                 f"~{over['startup_seconds']:.1f} s (wall - submissions x median / jobs)")
    if "agree" in result:
        lines.append(f"totals agree  {result['agree']}/{n} (nbgrader and every tfgrade run)")
        for d in result["disagreements"]:
            lines.append(f"  {d['student']} ({d['sample']}): nbgrader {d['nbgrader']}, "
                         f"tfgrade {d['tfgrade']}")
    lines += floor_lines(result)
    lines.append("(RSS sums count pages shared by forked processes once per process, so they "
                 "overstate; PSS splits shared pages and does not. Sampled every 0.1 s.)")
    lines.append("goals:")
    lines += goal_lines(result)
    return "\n".join(lines)


PARTS = ("student", "reference", "ahead", "grader")


def floor_table(out: Path) -> dict:
    """Per exercise, the mean seconds per submission spent in the student's code (the
    floor: the sandbox's side of each exercise, the probe and channel included), waiting
    for the reference (stand-ins' answers, expected values not ready), in the reference
    ahead of time (beside the sandbox) and in the grader's judging, from each
    result.json's ``seconds``."""
    sums, counts = {}, {}
    for path in sorted(out.glob("*/result.json")):
        for name, exercise in json.loads(path.read_text())["exercises"].items():
            spent = exercise.get("seconds")
            if not spent:
                continue
            row = sums.setdefault(name, dict.fromkeys(PARTS, 0.0))
            for part in PARTS:
                row[part] += spent.get(part, 0.0)
            counts[name] = counts.get(name, 0) + 1
    return {name: {part: row[part] / counts[name] for part in PARTS} for name, row in sums.items()}


def floor_lines(result: dict) -> list:
    table = result.get("floor") or {}
    if not table:
        return []
    lines = [f"per exercise, mean seconds per submission (tfgrade grade --jobs {result['jobs']}):",
             f"  {'exercise':<22}{'student':>9}{'reference':>11}{'ahead':>8}{'grader':>9}{'overhead':>10}"]

    def line(name, row):
        over = row["reference"] + row["ahead"] + row["grader"]
        share = over / row["student"] if row["student"] else float("nan")
        return (f"  {name:<22}{row['student']:>9.3f}{row['reference']:>11.3f}{row['ahead']:>8.3f}"
                f"{row['grader']:>9.3f}{share:>9.0%}")
    totals = dict.fromkeys(PARTS, 0.0)
    for name, row in table.items():
        for part in PARTS:
            totals[part] += row.get(part, 0.0)
        lines.append(line(name, {**dict.fromkeys(PARTS, 0.0), **row}))
    lines.append(line("total", totals))
    lines.append("  student: the floor (the sandbox's side: student code, probe, channel); reference: "
                 "waited for; ahead: computed beside the sandbox; overhead: reference + ahead + grader, "
                 "as a share of the floor")
    return lines


def core_text(figures: dict, n: int) -> str:
    core = figures.get("core_seconds")
    return "" if core is None else f"; {core / n:.2f} core-s/submission (start-up included)"


def speedup_text(result: dict, key: str) -> str:
    if result.get("nbgrader") is None:
        return ""
    return f"; {result['nbgrader']['seconds'] / result[key]['seconds']:.1f}x nbgrader"


def goal_lines(result: dict) -> list:
    goals, jobs, lines = result["goals"], result["jobs"], []
    if "speedup" in goals:
        g = goals["speedup"]
        lines.append(f"  [{mark(g['met'])}] throughput >= {GOALS['speedup']:g}x nbgrader "
                     f"(stretch {GOALS['speedup_stretch']:g}x{', met' if g['stretch_met'] else ''}): "
                     f"{result['speedup']:.1f}x with --jobs {jobs}")
    if "dask_extra" in goals:
        g = goals["dask_extra"]
        lines.append(f"  [{mark(g['met'])}] --cluster local:{jobs} at most "
                     f"{GOALS['dask_extra']:.0%} slower than --jobs {jobs}: {g['wall']:+.0%} wall, "
                     f"{g['steady']:+.0%} steady state")
    g = goals["first_result"]
    lines.append(f"  [{mark(g['met'])}] first graded student within {GOALS['first_result_seconds']:g} s: "
                 + ", ".join(f"{name} {seconds_text(value)}" for name, value in g["seconds"].items()))
    g = goals["overhead"]
    over = result["overhead"]
    lines.append(f"  [{mark(g['met'])}] overhead per submission <= {GOALS['overhead_seconds']} s: "
                 f"{over['per_submission']:.2f} s with start-up, "
                 f"{over['median_grader_seconds']:.2f} s steady state"
                 f"{' (met)' if g['steady_state_met'] else ''}")
    if "overhead_share" in goals:
        g = goals["overhead_share"]
        lines.append(f"  [{mark(g['met'])}] grader and reference <= {GOALS['overhead_share']:.0%} of the "
                     f"student-code time: {g['share']:.0%} (reference + ahead + grader over student, "
                     "in the table above)")
    if "core_seconds" in goals:
        g = goals["core_seconds"]
        lines.append(f"  [{mark(g['met'])}] a full-marks notebook costs <= {GOALS['core_seconds']:g} "
                     f"core-second: {g['per_submission']:.2f} core-s per submission of this class "
                     f"(--jobs {jobs}, start-up included; its correct notebooks cost more than its stubs)")
    g = goals["worker_memory"]
    lines.append(f"  [{mark(g['met'])}] peak memory per worker <= {gb(GOALS['worker_bytes'])}: "
                 f"{gb(g['bytes'])} (largest process under a tfgrade command or a Dask worker, RSS)")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="number of submissions (default 40)")
    parser.add_argument("--jobs", type=int, default=2, help="tfgrade --jobs (default 2)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (new or empty) and keep it")
    parser.add_argument("--skip-nbgrader", action="store_true",
                        help="time tfgrade only (no ratio, no agreement check)")
    parser.add_argument("--skip-dask", action="store_true",
                        help="leave out the Dask runs (--cluster local:J and a warm --scheduler)")
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
    over = run_tfgrade(stubs / "submitted", stubs / "tfgrade_out", ["--jobs", jobs], stubs,
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
    outs = {"local": course / "tfgrade_out"}
    result["local"] = run_tfgrade(course / "submitted", outs["local"], ["--jobs", jobs], course,
                                  work / "tfgrade.log", n)
    if not args.skip_dask:
        print(f"tfgrade grade --cluster local:{jobs} on {n} submissions ...", flush=True)
        outs["dask_local"] = course / "tfgrade_dask_local"
        result["dask_local"] = run_tfgrade(course / "submitted", outs["dask_local"],
                                           ["--cluster", f"local:{jobs}"], course,
                                           work / "tfgrade_dask_local.log", n)
        print(f"tfgrade grade --scheduler (a warm cluster of {jobs} workers) on {n} submissions ...",
              flush=True)
        outs["dask_warm"] = course / "tfgrade_dask_warm"
        result["dask_warm"] = warm_cluster_run(work, course, stubs, outs["dask_warm"], jobs, n,
                                               n_stubs)
    for key in outs:
        result[key]["per_submission"] = result[key]["seconds"] / n
    result["tfgrade"] = result["local"]  # the name earlier runs' JSON used
    result["floor"] = floor_table(outs["local"])

    largest = max(result[key]["peak_rss_largest_child_bytes"] for key in outs)
    if "dask_warm" in result:
        largest = max(largest, result["dask_warm"]["workers"]["peak_rss_largest_process_bytes"])
    firsts = {RUNS_LABEL[key].format(jobs=jobs): result[key]["first_result_seconds"] for key in outs}
    goals = {"overhead": {"met": over["per_submission"] <= GOALS["overhead_seconds"],
                          "steady_state_met": over["median_grader_seconds"]
                          <= GOALS["overhead_seconds"]},
             "worker_memory": {"met": largest <= GOALS["worker_bytes"], "bytes": largest},
             "first_result": {"met": any(v is not None and v <= GOALS["first_result_seconds"]
                                         for v in firsts.values()), "seconds": firsts}}
    floor_totals = {part: sum(row.get(part, 0.0) for row in result["floor"].values()) for part in PARTS}
    if floor_totals["student"]:
        share = (floor_totals["reference"] + floor_totals["ahead"] + floor_totals["grader"]) \
            / floor_totals["student"]
        goals["overhead_share"] = {"met": share <= GOALS["overhead_share"], "share": share}
    if result["local"].get("core_seconds") is not None:
        per = result["local"]["core_seconds"] / n
        goals["core_seconds"] = {"met": per <= GOALS["core_seconds"], "per_submission": per}
    if "dask_local" in result:
        local, dask = result["local"], result["dask_local"]
        extra = dask["seconds"] / local["seconds"] - 1
        steady = (dask["steady_seconds_per_submission"] / local["steady_seconds_per_submission"] - 1
                  if dask["steady_seconds_per_submission"] and local["steady_seconds_per_submission"]
                  else float("nan"))
        goals["dask_extra"] = {"met": extra <= GOALS["dask_extra"], "wall": extra, "steady": steady}
    totals = {key: tfgrade_totals(out) for key, out in outs.items()}
    result["totals"] = {"tfgrade": totals["local"], **{f"tfgrade_{k}": v for k, v in totals.items()
                                                        if k != "local"}}
    if "nbgrader" in result:
        result["speedup"] = result["nbgrader"]["seconds"] / result["local"]["seconds"]
        goals["speedup"] = {"met": result["speedup"] >= GOALS["speedup"],
                            "stretch_met": result["speedup"] >= GOALS["speedup_stretch"]}
        nb_totals = nbgrader_totals(course)
        result["totals"]["nbgrader"] = nb_totals
        disagreements = []
        for student in origin:
            mine = [totals[key].get(student) for key in totals]
            if nb_totals.get(student) is None or any(
                    t is None or abs(nb_totals[student] - t) > 1e-6 for t in mine):
                disagreements.append({"student": student, "sample": origin[student],
                                      "nbgrader": nb_totals.get(student),
                                      "tfgrade": dict(zip(totals, mine))})
        result["agree"] = n - len(disagreements)
        result["disagreements"] = disagreements
    else:
        result["speedup"] = None
    result["goals"] = goals
    return result


RUNS_LABEL = dict(RUNS)


def warm_cluster_run(work: Path, course: Path, stubs: Path, out: Path, jobs: int, n: int,
                     n_stubs: int) -> dict:
    """A cluster started outside tfgrade, as a course keeps one: ``dask scheduler`` and
    ``dask worker --preload autograder.grading.cluster`` in an empty folder. The stubs are
    graded on it once (the reference process warms up), then the class is timed. The
    workers' memory is sampled too: they are not under the tfgrade command."""
    from autograder.grading.cluster import standing_cluster
    empty = work / "workers"
    empty.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    env.pop("TFKIT_COURSE", None)
    with open(work / "dask_cluster.log", "w") as log, \
            standing_cluster(empty, jobs, env=env, log=log) as (address, workers_process):
        workers = PeakMemory(workers_process.pid)
        workers.start()
        run_tfgrade(stubs / "submitted", stubs / "tfgrade_warm_out", ["--scheduler", address],
                    stubs, work / "tfgrade_warm_stubs.log", n_stubs)
        figures = run_tfgrade(course / "submitted", out, ["--scheduler", address], course,
                              work / "tfgrade_dask_warm.log", n)
        figures["workers"] = workers.stop()
        return figures


if __name__ == "__main__":
    sys.exit(main())
