"""``tfgrade selftest``: prove that every graded test can fail, and fails when it should.

Run from the course root. Each finding is a row of a table (area, subject, verdict,
detail); the command exits non-zero when any row failed. The areas:

- ``structure``: the source notebook against the contract (one solution, one visible
  check and one graded test with its hidden test and points per exercise; unique ids;
  the test cells add up to the exercises' total);
- ``release``: release/ and solutions/ match a fresh generation (not with ``--quick``),
  and the release gives nothing away (no markers, no solution or hidden-test line, a
  stub in every solution cell, no outputs);
- ``tfgrade``: graded in the sandbox, the solution earns every point, the untouched
  release none, every mutant of ``tests/mutants`` loses points on its exercise only and
  its feedback gives every hint its ``# hint:`` header names and no other hint, every
  alternative of ``tests/alternatives`` keeps full marks (the rule of
  ``tests/test_corpus_kernel.py``, here in the real sandbox). The whole set is graded at
  the kit's seed and at ``corpus.SECOND_SEED`` (``corpus.seeds()``); with ``--quick`` at
  the kit's seed only, which halves the longest part of the run;
- ``nbgrader``: the real ``nbgrader autograde`` gives the solution every point and the
  release none on every test cell (not with ``--quick``).

After the rows, a table counts the corpus per exercise: its mutants, the false passes
(a mutant at full marks), the wrong hints (a mutant whose feedback lacks a hint its
header names or gives another), its alternatives, and the false fails (correct code
losing points: an alternative, an exercise a snippet did not change, or an ungradable
notebook). All three counts must be 0; a row counts once however many seeds it fails at.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import ASSIGNMENT, GRADER_ERROR
from autograder.authoring import corpus
from autograder.authoring.build import (build, course_root, differences, leaks, nbgrader,
                                        stated_points)
from autograder.course import cell_role, grade_id, is_solution, notebook_in, notebook_path
from autograder.exercises import EXERCISES, TOTAL_POINTS


FALSE_PASS, WRONG_HINTS, FALSE_FAIL = "false pass", "wrong hints", "false fail"


@dataclass
class Row:
    area: str
    subject: str
    ok: bool
    detail: str = ""
    kind: str = ""  # of a graded notebook: solution, release, mutant or alternative
    exercise: str = ""  # of a corpus snippet: the exercise it answers
    faults: frozenset = frozenset()  # FALSE_PASS, WRONG_HINTS, FALSE_FAIL


def _notebook(root: Path, step: str):
    return nbformat.read(str(notebook_path(root, step)), as_version=4)


def _headings(notebook, defines: str) -> list:
    """(heading, points) of every Markdown heading naming `defines` with "(N points)"."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#") and f"`{defines}`" in line and stated_points(line):
                found += [(line, p) for p in stated_points(line)]
    return found


def check_structure(source) -> list:
    """The source notebook holds every exercise of the contract, with its hidden test."""
    rows = []
    ids = [grade_id(c) for c in source.cells]
    ids = [i for i in ids if i]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    rows.append(Row("structure", "grade ids", not duplicates,
                    f"duplicated: {', '.join(duplicates)}" if duplicates else f"{len(ids)} unique"))
    cells = {grade_id(c): c for c in source.cells}
    points = 0.0
    for name, exercise in EXERCISES.items():
        problems = []
        solution = cells.get(name)
        if solution is None or not is_solution(solution) \
                or "BEGIN SOLUTION" not in solution.source:
            problems.append(f"no solution cell `{name}` with a solution region")
        if f"check_{name}" not in cells:
            problems.append(f"no visible check cell `check_{name}`")
        test = cells.get(f"test_{name}")
        if test is None or cell_role(test) != "test":
            problems.append(f"no graded test cell `test_{name}`")
        else:
            points += float(test.metadata["nbgrader"].get("points", 0))
            hidden = test.source.split("BEGIN HIDDEN TESTS")[-1] if "BEGIN HIDDEN TESTS" in test.source else ""
            if f'grade("{name}"' not in hidden:
                problems.append(f"`test_{name}` has no hidden test calling grade(\"{name}\", ...): "
                                "the untouched stub would pass it")
            if test.metadata["nbgrader"].get("points") != exercise.points:
                problems.append(f"`test_{name}` is worth {test.metadata['nbgrader'].get('points')} "
                                f"points, the contract says {exercise.points:g}: run `make release`")
            if stated_points(test.source) != [exercise.points]:
                problems.append(f"the comment of `test_{name}` says {stated_points(test.source)} points, "
                                f"the contract {exercise.points:g}: run `make release`")
        headings = _headings(source, exercise.defines)
        if [p for _, p in headings] != [exercise.points]:
            problems.append(f"the heading of `{exercise.defines}` states "
                            f"{[p for _, p in headings] or 'no'} points, the contract {exercise.points:g} "
                            f"(`make release` writes it into the Markdown heading naming `{exercise.defines}`)")
        rows.append(Row("structure", name, not problems, "; ".join(problems)))
    rows.append(Row("structure", "points", points == TOTAL_POINTS,
                    f"test cells add up to {points:g}, the contract to {TOTAL_POINTS:g}"))
    return rows


def check_release(root: Path, fresh: bool) -> list:
    """The committed release gives nothing away and (when ``fresh``) is what nbgrader
    generates from the source today; likewise the solutions."""
    source, release = _notebook(root, "source"), _notebook(root, "release")
    found = leaks(release, source)
    rows = [Row("release", "gives nothing away", not found, "; ".join(found[:8]))]
    if fresh:
        with tempfile.TemporaryDirectory() as scratch:
            course = Path(scratch)
            shutil.copy(root / "nbgrader_config.py", course)
            shutil.copytree(root / "source", course / "source")
            build(course)
            for step in ("release", "solutions"):
                found = differences(_notebook(course, step), _notebook(root, step))
                rows.append(Row("release", f"{step}/ up to date", not found,
                                "; ".join(found[:8]) + (" (run `make release`)" if found else "")))
    return rows


def _students(root: Path, only) -> dict:
    """Every notebook the sandbox grades: {student id: (notebook, kind, snippet)}."""
    release, solution = _notebook(root, "release"), _notebook(root, "solutions")
    full = corpus.solved(release, solution)
    students = {"solution": (full, "solution", None), "release": (release, "release", None)}
    for kind, snippets in (("mutant", corpus.mutants(root)), ("alternative", corpus.alternatives(root))):
        for snippet in snippets:
            if only and snippet.exercise not in only:
                continue
            notebook = corpus.replace_solution(full, snippet.exercise, snippet.body)
            students[f"{kind}-{snippet.exercise}-{snippet.name}"] = (notebook, kind, snippet)
    return students


def _problems(kind, snippet, result) -> list:
    """What is wrong with one notebook graded at one seed: ``(fault, text)`` pairs."""
    if result["status"] in ("ungradable", GRADER_ERROR):
        return [(FALSE_FAIL, result["reason"])]
    scores = {n: e["score"] for n, e in result["exercises"].items()}
    points = {n: e.points for n, e in EXERCISES.items()}
    if kind == "solution":
        short = [n for n in EXERCISES if scores.get(n, 0) < points[n]]
        return [(FALSE_FAIL, f"loses points on {', '.join(short)}")] if short else []
    if kind == "release":
        passing = [n for n in EXERCISES if scores.get(n, 0) > 0]
        return [(FALSE_PASS, f"the stub earns points on {', '.join(passing)}: those tests assert "
                             "nothing")] if passing else []
    name, graded = snippet.exercise, result["exercises"][snippet.exercise]
    problems = []
    if kind == "alternative" and scores[name] < points[name]:
        problems.append((FALSE_FAIL, f"{name}: {scores[name]:g}/{points[name]:g} for correct code; "
                                     f"{graded['feedback']}"))
    if kind == "mutant":
        if scores[name] >= points[name]:
            problems.append((FALSE_PASS, f"{name} does not lose points on this mistake "
                                         f"({snippet.description})"))
        missing, others = corpus.wrong_hints(snippet, corpus.hints_given(graded))
        if missing:
            problems.append((WRONG_HINTS, f"{name}: the feedback lacks its hint {', '.join(missing)}"))
        if others:
            problems.append((WRONG_HINTS, f"{name}: the feedback gives another hint "
                                          f"({', '.join(others)})"))
    others = [n for n in EXERCISES if n != name and scores.get(n, 0) < points[n]]
    if others:
        problems.append((FALSE_FAIL, f"also loses points on {', '.join(others)}"))
    return problems


def _judge_student(kind, snippet, results: dict) -> Row:
    """One row for one notebook graded at every seed (``results``: {seed: result
    dict}); the detail names the seeds when there are several."""
    subject = {"solution": "solution earns every point",
               "release": "untouched release earns nothing"}.get(kind) or f"{kind} {snippet.id}"
    faults, seeds_of = set(), {}
    for seed, result in results.items():
        for fault, text in _problems(kind, snippet, result):
            faults.add(fault)
            seeds_of.setdefault(text, []).append(str(seed))
    if len(results) > 1:
        detail = "; ".join(f"at seed{'s' if len(seeds) > 1 else ''} {' and '.join(seeds)}: {text}"
                           for text, seeds in seeds_of.items())
    else:
        detail = "; ".join(seeds_of)
    return Row("tfgrade", subject, not faults, detail, kind,
               snippet.exercise if snippet else "", frozenset(faults))


def selftest_seeds(quick: bool) -> tuple:
    """The seeds the sandbox grades at: both of ``corpus.seeds()``, the kit's only when quick."""
    return corpus.seeds()[:1] if quick else corpus.seeds()


def check_graders(root: Path, only=(), jobs=None, seeds=None) -> list:
    """Grade the solution, the release and the whole corpus in the sandbox, at each of
    ``seeds`` (by default the kit's seed only)."""
    from autograder.grading.batch import grade_class
    seeds = seeds or selftest_seeds(quick=True)
    students = _students(root, only)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        submitted = Path(scratch) / "submitted"
        for student, (notebook, _, _) in students.items():
            path = notebook_in(submitted / student)
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, str(path))
        for seed in seeds:
            for r in grade_class([submitted], Path(scratch) / f"out-{seed}", seed=seed, jobs=jobs,
                                 progress=False):
                results.setdefault(r["student_id"], {})[seed] = r
    return [_judge_student(kind, snippet, results[student])
            for student, (_, kind, snippet) in students.items()]


def check_nbgrader(root: Path) -> list:
    """The real nbgrader autograde: solution full marks, release zero, per test cell."""
    from autograder.integrations.nbgrader.gradebook import nbgrader_scores
    release, solution = _notebook(root, "release"), _notebook(root, "solutions")
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch)
        shutil.copy(root / "nbgrader_config.py", course)
        shutil.copytree(root / "source", course / "source")
        for student, notebook in (("solution", corpus.solved(release, solution)), ("release", release)):
            path = notebook_in(course / "submitted" / student)
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, str(path))
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        nbgrader(course, "autograde", ASSIGNMENT, "--force", "--create")
        scores = nbgrader_scores(course)
    full = scores.get("solution", {})
    zero = scores.get("release", {})
    short = [n for n, ex in EXERCISES.items() if full.get(n, 0) < ex.points]
    passing = [n for n in EXERCISES if zero.get(n, 1) > 0]
    return [Row("nbgrader", "solution earns every point", not short,
                f"loses points on {', '.join(short)}" if short else ""),
            Row("nbgrader", "untouched release earns nothing", not passing,
                f"the stub earns points on {', '.join(passing)}: those tests assert nothing"
                if passing else "")]


def run_selftest(root: Path, quick: bool = False, only=(), jobs=None) -> list:
    rows = check_structure(_notebook(root, "source"))
    rows += check_release(root, fresh=not quick)
    rows += check_graders(root, only, jobs, selftest_seeds(quick))
    if not quick:
        rows += check_nbgrader(root)
    return rows


def summary(rows, seeds=()) -> str:
    """The corpus per exercise: how many mutants and alternatives were graded, and how
    many of them were false passes, wrong hints and false fails (all three must be 0)."""
    graded = [r for r in rows if r.kind in ("mutant", "alternative")]
    if not graded:
        return ""
    columns = ("mutants", "false passes", "wrong hints", "alternatives", "false fails")
    counts = {}
    for r in graded:
        n = counts.setdefault(r.exercise, [0] * len(columns))
        n[0 if r.kind == "mutant" else 3] += 1
        for i, fault in ((1, FALSE_PASS), (2, WRONG_HINTS), (4, FALSE_FAIL)):
            n[i] += fault in r.faults
    table = [(name, counts[name]) for name in EXERCISES if name in counts]
    table.append(("total", [sum(n[i] for _, n in table) for i in range(len(columns))]))
    width = max(len("exercise"), *(len(name) for name, _ in table))
    # As in a real round, each notebook's inputs come from the course seed and its cells.
    at = (f" at course seed{'s' if len(seeds) > 1 else ''} {' and '.join(map(str, seeds))}"
          " (each notebook's inputs from its own case seed)") if seeds else ""
    lines = [f"corpus graded in the sandbox{at}",
             f"{'exercise':<{width}}  " + "  ".join(columns)]
    for name, n in table:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{v:>{len(c)}}" for v, c in zip(n, columns)))
    lines.append("false pass: a mutant at full marks; wrong hints: a hint its header names is "
                 "missing, or another is given;\nfalse fail: correct code loses points (an "
                 "alternative, or an exercise the snippet did not change)")
    return "\n".join(lines)


def render(rows, seeds=()) -> str:
    width = max(len(r.subject) for r in rows)
    lines = [f"{'area':<10} {'subject':<{width}}  result"]
    for r in rows:
        lines.append(f"{r.area:<10} {r.subject:<{width}}  {'ok' if r.ok else 'FAILED'}"
                     + (f"  {r.detail}" if r.detail and not r.ok else ""))
    table = summary(rows, seeds)
    if table:
        lines.append("\n" + table)
    failed = sum(not r.ok for r in rows)
    lines.append(f"\n{len(rows) - failed} passed, {failed} failed")
    return "\n".join(lines)


def main(args) -> int:
    rows = run_selftest(course_root(), quick=args.quick, only=tuple(args.exercise or ()))
    print(render(rows, selftest_seeds(args.quick)))
    return 1 if any(not r.ok for r in rows) else 0
