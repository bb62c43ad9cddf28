"""``tests/skip_policy.py``: a skip is a skip with its reason on a developer's machine and a
failure in CI (``CI=true``); switched off (no ``CI``), the same skip passes quietly."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SKIPPING = '''
import pytest

def test_needs_a_browser():
    pytest.skip("no real browser here: chromium is not installed")

@pytest.mark.skipif(True, reason="the isolation tests run as root")
def test_needs_root():
    pass

@pytest.mark.xfail(reason="a known gap", strict=False)
def test_known_gap():
    assert False

def test_runs():
    assert True
'''

MODULE_SKIP = '''
import pytest
pytest.importorskip("no_such_module_here")

def test_never():
    pass
'''


def run_inner(tmp_path, ci: str | None, source: str = SKIPPING):
    (tmp_path / "conftest.py").write_text(
        "from skip_policy import pytest_make_collect_report, pytest_runtest_makereport\n")
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_skip_fails_in_ci_with_its_reason(tmp_path, ci):
    done = run_inner(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    # the body's skip fails; a skipif mark is an error in the test's setup
    assert "1 failed, 1 passed, 1 xfailed, 1 error" in done.stdout, done.stdout
    assert "skipped in CI, where every test must run: Skipped: no real browser here" in done.stdout
    assert "the isolation tests run as root" in done.stdout


@pytest.mark.parametrize("ci", [None, "false", ""], ids=["unset", "false", "empty"])
def test_outside_ci_a_skip_is_a_skip_with_its_reason(tmp_path, ci):
    done = run_inner(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in done.stdout, done.stdout
    assert "SKIPPED" in done.stdout and "chromium is not installed" in done.stdout


def test_a_module_that_skips_itself_stops_the_run_in_ci(tmp_path):
    """A module skipped at import is a collection error in CI (pytest stops there, with
    the reason), and a plain skip elsewhere."""
    done = run_inner(tmp_path, "true", MODULE_SKIP)
    assert done.returncode == 2, done.stdout  # 2: interrupted
    assert "skipped in CI, where every test must run" in done.stdout
    assert "could not import 'no_such_module_here'" in done.stdout
    quiet = run_inner(tmp_path, None, MODULE_SKIP)
    assert quiet.returncode == 5 and "1 skipped" in quiet.stdout, quiet.stdout  # 5: no test ran
