"""``tfgrade autograde``: nbgrader's autograde, each notebook in the sandbox, several at once."""
from __future__ import annotations

import os

from autograder.cli import common
from autograder.cli.common import UsageError


def run(args) -> int:
    if not os.path.isfile("nbgrader_config.py"):
        raise UsageError("run it from an nbgrader course root (there is no nbgrader_config.py here)")
    if not os.path.isdir("submitted"):
        raise UsageError("there is no submitted/ folder here: collect the submissions first")
    cluster = common.cluster_module(args)
    common.course_and_package(os.getcwd())
    common.quiet_library_warnings()
    from autograder.integrations.nbgrader.autograde import CourseError, autograde, course_app
    extra = [f"--SandboxedGrading.{name}={value}" for name, value in
             (("seed", args.seed), ("time_scale", args.time_scale), ("cell_seconds", args.cell_seconds))
             if value is not None]
    try:
        app = course_app(args.assignment, args.student, args.force, extra)
    except CourseError as exc:
        raise UsageError(str(exc)) from None
    if cluster is None:
        common.warn_if_not_isolated()
        common.warm_up(args.jobs)
    from contextlib import nullcontext
    with common.connect(cluster, args, common.course_reference()) if cluster else nullcontext() as connected:
        return autograde(app, args.assignment, args.jobs, args.force, cluster=connected,
                         progress=not args.quiet)
