"""``tfgrade serve ASSIGNMENT...``: the command line of the grading service.

Run from the course root. It serves nbgrader's exchange as the course's
``nbgrader_config.py`` configures it (``Exchange.root``, ``CourseDirectory.course_id``),
and/or plain folders (``--folder``), grading on this machine (``--jobs``) or on a Dask
cluster (``--scheduler``) until it is stopped (SIGINT or SIGTERM: gradings under way
get ten seconds to finish; any cut short are graded at the next start).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

TOKEN_ENV = "TFGRADE_SERVE_TOKEN"
EXIT_USAGE = 2
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_limit(text: str) -> tuple:
    """``N/WINDOW`` (``5/hour``, ``10/2h``, ``3/30m``, ``20/day``) -> ``(N, seconds)``."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([a-z]+)\s*", text or "")
    if not match or match.group(3) not in _UNITS or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected N/WINDOW such as 5/hour, 10/2h or 3/30m, not {text!r}")
    seconds = float(match.group(2) or 1) * _UNITS[match.group(3)]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"the window of {text!r} must be longer than 0")
    return int(match.group(1)), seconds


def _feedback(text: str) -> tuple:
    assignment, _, mode = text.rpartition("=")
    if mode not in ("full", "brief"):
        raise argparse.ArgumentTypeError(f"expected full, brief, or ASSIGNMENT=full|brief, not {text!r}")
    return assignment, mode


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < 1e6:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1e6, not {text}")
    return value


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``serve`` on ``tfgrade``'s subcommands."""
    serve = commands.add_parser(
        "serve", help="grade every submission as it arrives and hand the feedback back through "
        "nbgrader's exchange (run from the course root; stops on Ctrl-C)",
        description="Grade each nbgrader submission within seconds of `nbgrader submit`, record "
        "it as `tfgrade autograde` would (gradebook, autograded/, the round's grades/), and put "
        "its feedback where `nbgrader fetch_feedback` finds it. Run from the course root; "
        "see the README's 'Grade as they submit' and docs/serve.md.")
    serve.add_argument("assignments", nargs="+", metavar="ASSIGNMENT",
                       help="the assignment(s) to serve (tf_from_scratch)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="submissions graded at once on this machine (default: the number of cores)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask cluster "
                       "(tcp://HOST:8786; pip install 'tfkit[dask]' here and on the workers)")
    serve.add_argument("--no-exchange", action="store_true",
                       help="do not watch nbgrader's exchange (only --folder)")
    serve.add_argument("--folder", action="append", default=[], metavar="DIR",
                       help="(repeatable) also watch DIR/<student>/<assignment>/ for a notebook "
                       "and timestamp.txt, for courses without nbgrader's exchange")
    serve.add_argument("--out", default="grades", metavar="DIR",
                       help="the round's folder, as tfgrade grade's --out (default grades)")
    serve.add_argument("--state", default=".tfkit/serve", metavar="DIR",
                       help="the service's queue and pages (default .tfkit/serve)")
    serve.add_argument("--settle", type=_seconds, default=0.5, metavar="S",
                       help="a submission counts as complete once nothing in it changed for S "
                       "seconds (default 0.5; more on a network filesystem)")
    serve.add_argument("--rescan", type=_seconds, default=30.0, metavar="S",
                       help="look at every folder every S seconds too (default 30)")
    serve.add_argument("--limit", type=parse_limit, default=None, metavar="N/WINDOW",
                       help="at most N gradings per student per WINDOW (5/hour, 10/2h): later "
                       "submissions wait, and the student's feedback says until when")
    serve.add_argument("--feedback", type=_feedback, action="append", default=[],
                       metavar="[ASSIGNMENT=]full|brief",
                       help="brief leaves expected values out of the feedback (per assignment)")
    serve.add_argument("--counts", choices=["latest", "best"], default="latest",
                       help="which submission is the grade of record (default latest)")
    serve.add_argument("--retries", type=int, default=5, metavar="N",
                       help="gradings of a submission that fail on the grader's side before it "
                       "is reported as failed (default 5; never a 0)")
    serve.add_argument("--backoff", type=_seconds, default=30.0, metavar="S",
                       help="seconds before the first retry, doubling each time (default 30)")
    serve.add_argument("--due", metavar="WHEN", help="the round's due date (as tfgrade grade's)")
    serve.add_argument("--late-policy", metavar="POLICY", help="as tfgrade grade's (per-day=P,floor=F,zero-after=N)")
    serve.add_argument("--host", default="127.0.0.1", help="address of the status page (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8790,
                       help="port of the status page (default 8790; 0: no page)")
    serve.add_argument("--token-file", metavar="FILE", help=f"the status page's token (default: "
                       f"${TOKEN_ENV}, else a new one written to STATE/token)")
    serve.add_argument("--hub-auth", action="store_true",
                       help="also accept JupyterHub users (admins and --hub-user) when run as a hub service")
    serve.add_argument("--hub-user", action="append", default=[], metavar="NAME",
                       help="(repeatable) a hub user allowed to see the status page")
    serve.set_defaults(run=run)
    return serve


def _options(args):
    from autograder.results import adjust

    from .service import Options
    round_settings = {}
    try:
        if args.due:
            round_settings["due"] = adjust.parse_when(args.due).isoformat()
        if args.late_policy:
            round_settings["late_policy"] = str(adjust.LatePolicy.parse(args.late_policy))
    except adjust.AdjustError as exc:
        raise ValueError(str(exc)) from None
    extra = [f"--SandboxedGrading.{name}={value}" for name, value in
             (("seed", args.seed), ("time_scale", args.time_scale), ("cell_seconds", args.cell_seconds))
             if value is not None]
    limit, window = args.limit or (None, 3600.0)
    return Options(assignments=tuple(args.assignments), out=Path(args.out), state=Path(args.state),
                   use_exchange=not args.no_exchange, folders=list(args.folder), jobs=args.jobs,
                   scheduler=args.scheduler, settle=args.settle, rescan=args.rescan or 30.0,
                   limit=limit, window=window, feedback=dict(args.feedback), counts=args.counts,
                   retries=max(1, args.retries), backoff=args.backoff, round_settings=round_settings,
                   extra=extra)


def _token(args, state: Path) -> tuple:
    """``(token, where it came from)``."""
    if args.token_file:
        return Path(args.token_file).read_text(encoding="utf-8").strip(), args.token_file
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV], f"${TOKEN_ENV}"
    path = state / "token"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip(), str(path)
    state.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token, str(path)


def _log_to_console() -> None:
    from autograder.results.escape import TerminalFormatter
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("autograder")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logging.getLogger("autograder.serve").setLevel(logging.INFO)


def _fail(text: str) -> int:
    print(f"tfgrade serve: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def run(args) -> int:
    if not os.path.isfile("nbgrader_config.py"):
        return _fail("run it from an nbgrader course root (there is no nbgrader_config.py here)")
    if args.no_exchange and not args.folder:
        return _fail("--no-exchange needs at least one --folder to watch")
    if args.jobs is not None and not 1 <= args.jobs <= 256:
        return _fail("--jobs must be between 1 and 256")
    try:
        options = _options(args)
    except ValueError as exc:
        return _fail(str(exc))
    _log_to_console()
    from autograder.integrations.nbgrader import autograde
    from autograder.sandbox.settings import missing_isolation

    from .service import Service
    service = Service(options)
    try:
        service.prepare()
    except autograde.CourseError as exc:
        return _fail(str(exc))
    warning = missing_isolation() if not args.scheduler else ""
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)
    elif not args.scheduler and os.geteuid() != 0:
        print("WARNING: not root: every notebook runs in a user namespace under this service's "
              "own uid (no uid of its own, no cgroup caps); run tfgrade serve as root for those "
              "(docs/serve.md, 'Users and permissions')", file=sys.stderr)
    service.warm()
    service.start()
    print(f"tfgrade serve: grading {', '.join(options.assignments)} with {service.jobs} "
          f"thread(s); watching {', '.join(str(s.path) for s in service.sources)}", file=sys.stderr)
    try:
        asyncio.run(_serve(service, args))
    finally:
        service.stop()
    return 0


async def _serve(service, args) -> None:
    """Serve the status page until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.port:
        from .status import Auth, make_app
        token, source = _token(args, service.root / service.options.state)
        host, port = args.host, args.port
        hub_url = os.environ.get("JUPYTERHUB_SERVICE_URL")
        if hub_url:  # run as a hub service: the hub says where to listen
            parsed = urlparse(hub_url)
            host, port = parsed.hostname or host, parsed.port or port
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
        app = make_app(service, Auth(token, tuple(args.hub_user), args.hub_auth), prefix)
        app.listen(port, host)
        print(f"tfgrade serve: status page at http://{host}:{port}{prefix}?token=... (the token "
              f"is in {source})", file=sys.stderr, flush=True)
    await stop.wait()
