"""benchmarks/throughput.py runs end to end and both graders agree on every total."""
import json
import sys

import pytest

from autograder.exercises import EXERCISES

from conftest import ROOT, run

SCRIPT = ROOT / "benchmarks" / "throughput.py"


@pytest.mark.slow
def test_benchmark_runs_and_totals_agree(tmp_path):
    figures = tmp_path / "bench.json"
    # --skip-dask: the Dask runs start two clusters (minutes here); tests/test_cluster.py
    # grades on a real cluster, and `make bench` times it. --n 3: the fewest submissions
    # that hold each kind of the cycle (each one costs a notebook run in nbgrader's kernel).
    done = run(sys.executable, SCRIPT, "--n", 3, "--jobs", 2, "--skip-dask", "--json", figures,
               timeout=1200)
    result = json.loads(figures.read_text())
    assert {"n", "jobs", "cycle", "mix", "students", "nbgrader", "tfgrade", "overhead",
            "speedup", "agree", "disagreements", "totals", "goals"} <= result.keys()
    assert result["n"] == 3 and result["jobs"] == 2
    # The first three of the cycle: the correct notebook, the stub and a mistake.
    assert result["mix"] == {"correct": 1, "stub": 1, "mistake": 1}
    assert result["agree"] == 3 and result["disagreements"] == []
    assert result["totals"]["nbgrader"] == result["totals"]["tfgrade"]
    for grader in ("nbgrader", "tfgrade", "overhead"):
        figures_of = result[grader]
        assert figures_of["exit_code"] == 0 and figures_of["seconds"] > 0
        assert figures_of["peak_rss_total_bytes"] >= figures_of["peak_rss_largest_process_bytes"] > 0
        assert figures_of["peak_pss_total_bytes"] > 0
    assert result["speedup"] > 0
    assert "totals agree" in done.stdout and "3/3" in done.stdout
    # the floor per exercise: every exercise, each part measured (the stub's exercises raise at
    # once, so a mean can be small, but the correct notebook's training takes real time)
    floor = result["floor"]
    assert set(floor) == set(EXERCISES)
    assert all(row[part] >= 0 for row in floor.values() for part in ("student", "reference", "ahead", "grader"))
    assert floor["train_minibatch"]["student"] > 0 and floor["train"]["reference"] > 0
    assert floor["train"]["ahead"] > 0  # its expected values, computed beside the sandbox
    assert "per exercise, mean seconds per submission" in done.stdout


@pytest.mark.slow
def test_isolation_benchmark_runs_and_reports_both_settings(tmp_path):
    figures = tmp_path / "isolation.json"
    done = run(sys.executable, ROOT / "benchmarks" / "isolation.py", "--n", 3, "--grades", 1,
               "--json", figures, timeout=600)
    result = json.loads(figures.read_text())
    for setting in ("full", "none"):
        assert result[setting]["start"]["median_ms"] > 0
        assert result[setting]["grade_full_marks"]["median_ms"] > 0
    assert "own session" in result["none"]["protections"]
    assert "own filesystem" not in result["none"]["protections"]
    assert "isolation costs" in done.stdout


def test_the_make_targets_run_the_benchmarks_with_options_they_take():
    """Fast: `make bench` and `make bench-isolation` name scripts that exist, and the
    options the slow runs above pass are ones each script's parser takes."""
    makefile = (ROOT / "Makefile").read_text()
    for target, script, options in (("bench", "throughput.py", ("--n", "--jobs", "--skip-dask", "--json")),
                                    ("bench-isolation", "isolation.py", ("--n", "--grades", "--json"))):
        recipe = makefile.split(f"\n{target}: ", 1)[1].split("\n\n", 1)[0]
        assert f"benchmarks/{script}" in recipe, recipe
        done = run(sys.executable, ROOT / "benchmarks" / script, "--help", timeout=120)
        assert all(option in done.stdout for option in options), done.stdout
