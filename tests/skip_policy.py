"""Where the suite runs in CI (``CI`` set, as ``.ci/run`` does), a skipped test fails.

Every skip in this suite means something is missing from the machine (a browser, Dask,
root, cgroups, ``systemd-analyze``). On a developer's machine that is a skip with its
reason (``make test`` passes ``-rs``); in CI it would hide a protection that was never
tested, so the skip is reported as a failure naming the reason. ``tests/conftest.py``
loads this hook.
"""
from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _fail_if_skipped(report) -> None:
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test's skip (in its setup, a ``skipif`` mark, or its body)."""
    outcome = yield
    _fail_if_skipped(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module's skip (``pytest.skip(allow_module_level=True)``, an
    ``importorskip`` at import)."""
    outcome = yield
    _fail_if_skipped(outcome.get_result())
