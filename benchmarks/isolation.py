"""What the sandbox's isolation costs: a fresh sandbox's start from the warm forkserver,
its stop, and the grading of one submission, with full isolation and with none,
measured in one run, interleaved, on the same machine.

    make bench-isolation
    # or, with the environment already built (as root, for full isolation):
    PATH="$PWD/.venv/bin:$PATH" TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/isolation.py --n 30

"full" is what this machine gives (as root: namespaces, the allowlisted root
filesystem, a uid and a cgroup per sandbox, a fresh keyring, the system call filter,
the masked /proc, the clean environment); "kernel guards off" is "full" without the
last four, so that their cost is measured in the same run, interleaved;
"none" is the same sandbox with every protection but its own session, time limits and
rlimits switched off (``Protections("none", {"cgroup caps"})``, put in place of
``settings.protections`` for its rounds, as the kit's tests do). Starting
means forking from the warm forkserver, confining, and the first reply; stopping means
killing the process tree and removing the cgroup. Each figure is the median over
``--n`` rounds (and the 90th percentile), the settings alternating round by round so
that a noisy neighbour costs each alike. Options: ``--n`` rounds (30), ``--grades`` submissions
graded per setting (6), ``--json FILE`` writes the figures.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_MARKS = (ROOT / "examples" / "sample_class" / "submitted" / "full_marks" / "tf_from_scratch"
              / "tf_from_scratch.ipynb")


def settings() -> dict:
    """The three settings, as the protections a sandbox gets (``settings.Protections``)."""
    from autograder.sandbox import settings
    guards = frozenset({settings.KEYRING, settings.SYSCALLS, settings.PROC_MASK, settings.ENVIRONMENT})
    return {"full": settings.protections(),
            "kernel guards off": settings.Protections(settings.resolve_route(), guards),
            "none": settings.Protections("none", frozenset({settings.CGROUP}))}


@contextlib.contextmanager
def using(protections):
    """Every sandbox started inside gets ``protections``."""
    from autograder.sandbox import settings
    kept = settings.protections
    settings.protections = lambda: protections
    try:
        yield
    finally:
        settings.protections = kept


def time_start_stop(protections) -> tuple:
    from autograder.sandbox.client import Sandbox
    from autograder.sandbox.settings import Limits
    with using(protections):
        box = Sandbox(Limits())
    started = time.perf_counter()
    box.start()
    ready = time.perf_counter()
    box.stop()
    return ready - started, time.perf_counter() - ready, box.isolation


def time_grading(protections) -> float:
    from autograder.grading.grade import grade_submission
    started = time.perf_counter()
    with using(protections):
        result = grade_submission(FULL_MARKS, "bench", 1)
    if result.score != 100:
        raise SystemExit(f"the full-marks notebook scored {result.score}: {result.reason}")
    return time.perf_counter() - started


def summary(values: list) -> dict:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1)}


def measure(rounds: int, grades: int) -> dict:
    from autograder.sandbox.forkserver import start_forkserver
    start_forkserver()
    limits = settings()
    for setting in limits.values():  # warm both paths (first fork, first TF op) untimed
        time_start_stop(setting)
    starts = {name: [] for name in limits}
    stops = {name: [] for name in limits}
    protections = {}
    for _ in range(rounds):
        for name, setting in limits.items():
            start, stop, protections[name] = time_start_stop(setting)
            starts[name].append(start)
            stops[name].append(stop)
    gradings = {name: [] for name in limits}
    for _ in range(grades):
        for name, setting in limits.items():
            gradings[name].append(time_grading(setting))
    figures = {name: {"start": summary(starts[name]), "stop": summary(stops[name]),
                      "grade_full_marks": summary(gradings[name]),
                      "protections": protections[name]} for name in limits}
    figures["cost_per_submission_ms"] = round(
        figures["full"]["grade_full_marks"]["median_ms"] - figures["none"]["grade_full_marks"]["median_ms"], 1)
    figures["kernel_guards_start_ms"] = round(
        figures["full"]["start"]["median_ms"] - figures["kernel guards off"]["start"]["median_ms"], 1)
    return {"rounds": rounds, "grades": grades, **figures}


def report(figures: dict) -> str:
    lines = ["| setting | start (median / p90) | stop (median / p90) | grading a full-marks notebook |",
             "|---|---:|---:|---:|"]
    for name in ("full", "kernel guards off", "none"):
        row = figures[name]
        lines.append(f"| {name} | {row['start']['median_ms']} / {row['start']['p90_ms']} ms "
                     f"| {row['stop']['median_ms']} / {row['stop']['p90_ms']} ms "
                     f"| {row['grade_full_marks']['median_ms']} ms |")
    lines.append(f"\nisolation costs {figures['cost_per_submission_ms']} ms per submission "
                 f"(median grading time, full minus none; {figures['rounds']} start rounds, "
                 f"{figures['grades']} gradings per setting)")
    lines.append(f"the keyring, system call filter, masked /proc and clean environment add "
                 f"{figures['kernel_guards_start_ms']} ms to a start (median, full minus "
                 f"kernel guards off)")
    lines.append("full isolation here: " + ", ".join(figures["full"]["protections"]))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="start/stop rounds per setting (30)")
    parser.add_argument("--grades", type=int, default=6, help="gradings per setting (6)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.n, args.grades)
    print(report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
