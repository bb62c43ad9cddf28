"""What feedback.html and report.html cost per student, for a class of 400.

Reproduce (from the repository root, with the environment built):

    .venv/bin/python benchmarks/feedback_html.py --n 400

No TensorFlow and no grading: the result files are made up here, in a fixed,
reproducible mix that is worse than a real class (more pictures to draw):

- 50 % full marks (the score bars only);
- 30 % lost points in one training exercise whose result carries a 500-step loss
  curve, its reference, and a decision boundary on 1000 points (the score bars and
  one three-panel figure);
- 10 % lost points in all three training exercises (three such figures);
- 10 % lost points elsewhere (score bars only).

Timed, in one process (matplotlib imported first, not timed):

1. ``first``: every student's views written from nothing (feedback.md, feedback.html,
   result.json), as a first grading run does: the per-student cost of feedback.html
   is this minus ``markdown only``;
2. ``markdown only``: the same with feedback.html switched off, for comparison;
3. ``rebuild``: ``report.rebuild`` on the same folder with nothing changed, as every
   later run and every ``tfgrade override`` does (pages whose digest is current are
   not redrawn; grades.csv and report.html are);
4. ``report.html``: the class report alone.

Options: ``--n`` students (400), ``--keep DIR`` keeps the output folder, ``--json FILE``
writes the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.exercises import EXERCISES  # noqa: E402
from autograder.results import views  # noqa: E402
from autograder.results.html import class_report, feedback as feedback_html  # noqa: E402

TRAINING = ("train", "train_with_optimizer", "train_minibatch")


def blobs(rng: random.Random, n: int = 1000) -> tuple:
    inputs = [[rng.gauss(1, 1), rng.gauss(1, 1)] if i % 2 else [rng.gauss(-1, 1), rng.gauss(-1, 1)]
              for i in range(n)]
    return inputs, [i % 2 for i in range(n)]


def exercise(name: str, score: float, rng: random.Random, plots: bool) -> dict:
    top = EXERCISES[name].points
    checks = [] if score >= top else [{"label": f"{name} on a case", "passed": False,
                                       "detail": "expected 0.72, got 0.91", "hint": "A hint.",
                                       "weight": 1.0}]
    text = f"{name}: {score:g} / {top:g}" + ("\n  ✗ value: expected 0.72, got 0.91\n    Hint: A hint."
                                             if checks else "\n  ✓ all 3 checks passed")
    entry = {"score": score, "max_score": top, "status": "graded", "feedback": text, "checks": checks}
    if plots and name in TRAINING:
        rate = rng.uniform(0.5, 1.5)
        entry["curves"] = [{"label": "losses, 500 steps on the blobs",
                            "student": [0.8 * math.exp(-i / (300 * rate)) for i in range(500)],
                            "reference": [0.8 * math.exp(-i / 300) for i in range(500)]}]
        inputs, targets = blobs(rng)
        entry["boundary"] = {"label": "trained on the blobs", "inputs": inputs, "targets": targets,
                             "student": {"W": [rng.uniform(-2, 0), rng.uniform(-2, 0)], "b": 0.1},
                             "reference": {"W": [-1.1, -1.0], "b": 0.0}}
    return entry


def a_student(i: int) -> dict:
    rng = random.Random(i)
    kind = i % 10  # 0-4 full marks, 5-7 one training exercise, 8 all three, 9 elsewhere
    failing = (set() if kind < 5 else {TRAINING[i % 3]} if kind < 8 else set(TRAINING) if kind == 8
               else {"loss"})
    exercises = {name: exercise(name, round(EXERCISES[name].points * (0.4 if name in failing else 1), 2),
                                rng, True)
                 for name in EXERCISES}
    return {"student_id": f"s{i:04d}", "assignment": "tf_from_scratch", "status": "graded",
            "reason": "", "seed": 20211, "max_score": 100, "seconds": round(rng.uniform(0.4, 2), 3),
            "score": round(sum(e["score"] for e in exercises.values()), 2), "exercises": exercises}


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    import matplotlib.figure  # noqa: F401 - its import (about 0.4 s) is paid once per run
    results = [a_student(i) for i in range(args.n)]
    work = Path(tempfile.mkdtemp(prefix="tfkit-bench-html-"))
    try:
        first = timed(lambda: [views.write_result(work / "with", r) for r in results])
        written = feedback_html.write_feedback_html
        feedback_html.write_feedback_html = lambda *a, **k: False
        try:
            markdown = timed(lambda: [views.write_result(work / "without", r) for r in results])
        finally:
            feedback_html.write_feedback_html = written
        rebuild = timed(lambda: views.rebuild(work / "with"))
        page = timed(lambda: class_report.page(results))
        sizes = [p.stat().st_size for p in (work / "with").glob("*/feedback.html")]
        figures = {
            "students": args.n, "first_s": round(first, 2), "markdown_only_s": round(markdown, 2),
            "html_ms_per_student": round(1000 * (first - markdown) / args.n, 1),
            "rebuild_unchanged_s": round(rebuild, 2),
            "rebuild_ms_per_student": round(1000 * rebuild / args.n, 2),
            "report_html_s": round(page, 2),
            "feedback_html_kb_median": round(sorted(sizes)[len(sizes) // 2] / 1024, 1),
            "feedback_html_kb_max": round(max(sizes) / 1024, 1),
            "report_html_kb": round((work / "with" / "report.html").stat().st_size / 1024, 1)}
        for key, value in figures.items():
            print(f"{key:>26}: {value}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        if args.keep:
            shutil.copytree(work / "with", args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
