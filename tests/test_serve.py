"""``tfgrade serve`` with the real parts: nbgrader's exchange (release, fetch, submit as
students, fetch_feedback), the service started as a subprocess from the course root,
``kill -9`` during a grading and a restart, and the status page in Chromium.

One course and one exchange serve the whole module; one service process serves every
check until the kill, and a second one after it. Students submit in a burst at the
start, through nbgrader's own ``SubmitApp`` (``serve_support.py``), so that their
gradings overlap the other checks:

- alice: the sample class's ``sum_loss`` (90 points): the round trip, under the round's
  late policy and ``--feedback brief``;
- bob: the untouched release, then a changed copy: a resubmission;
- carol: three submissions under ``--limit 2/hour``: the third waits;
- flaky: a sandbox that cannot start (injected by ``serve_support.py``, not by a switch
  of the product) three times: retried, reported, never a 0; graded after the restart;
- a student whose id is HTML: escaped on the status page;
- slow (later): a notebook that sleeps 4 s, killed during its grading.

Runs in about a minute and a half.
"""
from __future__ import annotations

import copy
import html
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash

from autograder.course import KEY_FILE, case_key
from conftest import ASSIGNMENT, BIN, ROOT, SUBMITTED, read, run

# The tests that start a course, an exchange and a service are slow; the unit tests of the
# queue, the watcher, the status page's hub auth and the deployment files are not.
slow = pytest.mark.slow

TOKEN = "serve-test-" + os.urandom(8).hex()
HOSTILE = "<img src=x onerror=document.title='pwned'>"
COURSE_ID = "tfkit"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
HERE = Path(__file__).resolve().parent
# The round: everyone submits days after this due date, but whoami has an extension and
# an override (written before the service starts, as an instructor would).
ROUND = ["--due", "2026-12-01 00:00 UTC", "--late-policy", "per-day=10,floor=50"]
CHROMIUM = os.environ.get("TFKIT_CHROMIUM") or __import__("shutil").which("chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Course:
    """The module's course, exchange, students and service process."""

    def __init__(self, base: Path):
        import shutil
        self.base, self.root = base, base / "course"
        self.exchange, self.homes = base / "exchange", base / "homes"
        self.root.mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", self.root)
        shutil.copytree(ROOT / "source", self.root / "source")
        case_key(ROOT)
        shutil.copytree(ROOT / KEY_FILE.parent, self.root / KEY_FILE.parent,
                        ignore=shutil.ignore_patterns("serve"))
        with open(self.root / "nbgrader_config.py", "a") as config:  # what the contract reads
            config.write(f"\nc.Exchange.root = {str(self.exchange)!r}\n"
                         f"c.CourseDirectory.course_id = {COURSE_ID!r}\n")
        self.exchange.mkdir()
        self.exchange.chmod(0o777)
        self.port = free_port()
        self.process = None
        self.log = base / "serve.log"

    def nbgrader(self, *args):
        return run(BIN / "nbgrader", *args, cwd=self.root)

    def student(self, name: str, *args):
        """An nbgrader command as a student, in their own folder, with their own cache."""
        home = self.home(name)
        return run(BIN / "nbgrader", *args, f"--student={name}", f"--Exchange.root={self.exchange}",
                   f"--Exchange.cache={home / 'cache'}", f"--CourseDirectory.course_id={COURSE_ID}",
                   cwd=home, env={"HOME": str(home)})

    def home(self, name: str) -> Path:
        home = self.homes / name.replace("<", "_").replace(">", "_").replace("'", "_").replace(" ", "_")
        home.mkdir(parents=True, exist_ok=True)
        return home

    def submit(self, *submissions):
        """``(student, notebook path)`` pairs, submitted in order through nbgrader's exchange."""
        spec = {"exchange": str(self.exchange), "course_id": COURSE_ID, "assignment": ASSIGNMENT,
                "submissions": [[str(self.home(s)), s, str(nb)] for s, nb in submissions]}
        run(sys.executable, HERE / "serve_support.py", "submit", json.dumps(spec), cwd=self.base)

    # --- the service --------------------------------------------------------------------

    def start(self, wait: bool = True):
        command = [sys.executable, str(HERE / "serve_support.py"), "service", "serve", ASSIGNMENT,
                   "--port", str(self.port), "--settle", "0.2", "--rescan", "2", "--jobs", "2",
                   "--limit", "2/hour", "--retries", "3", "--backoff", "0.5",
                   "--feedback", f"{ASSIGNMENT}=brief", *ROUND]
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "TF_CPP_MIN_LOG_LEVEL": "3", "TFGRADE_SERVE_TOKEN": TOKEN,
               "SERVE_FAULTS": str(self.base / "faults"),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen(command, cwd=self.root, env=env, start_new_session=True,
                                        stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        if wait:
            self.wait(lambda s: True, 120, "the status page to answer")

    def kill(self, sig=signal.SIGKILL):
        """Signal the service's process group (the service and what it started)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        if self.process is not None:
            try:  # whatever of it outlived its leader (sandboxes, reference processes)
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def get(self, path: str, token: str | None = TOKEN, raw: bool = False):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/{path}")
        if token:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                body = reply.read()
                return reply.status, body if raw else json.loads(body)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def status(self) -> dict:
        code, body = self.get("api/status")
        assert code == 200, body
        return body

    def wait(self, done, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the service exited {self.process.returncode}:\n{self.tail()}")
            try:
                status = self.status()
                if done(status):
                    return status
            except (OSError, AssertionError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.is_file() else ""

    # --- what it left ---------------------------------------------------------------------

    def jobs(self) -> list:
        with sqlite3.connect(self.root / ".tfkit" / "serve" / "queue.sqlite") as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY found_at")]

    def events(self) -> dict:
        found: dict = {}
        with sqlite3.connect(self.root / ".tfkit" / "serve" / "queue.sqlite") as db:
            for key, event in db.execute("SELECT key, event FROM events ORDER BY id"):
                found.setdefault(key, []).append(event)
        return found

    def of(self, student: str) -> list:
        """``student``'s submissions, in the order they were submitted."""
        return sorted((j for j in self.jobs() if j["student"] == student),
                      key=lambda j: j["submitted_at"])

    def feedback_page(self, job: dict) -> Path:
        secret = (Path(job["source"]) / "submission_secret.txt").read_text()
        name = notebook_hash(secret=secret, notebook_id=ASSIGNMENT)
        return self.exchange / COURSE_ID / "feedback" / f"{name}.html"

    def gradebook(self, student: str):
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            try:
                found = gradebook.find_submission(ASSIGNMENT, student)
            except Exception:  # noqa: BLE001 - MissingEntry: not in the gradebook
                return None
            return {"score": found.score, "timestamp": found.timestamp}


def done_for(status: dict, student: str) -> int:
    return sum(1 for r in status["recent"] if r["student"] == student)


def with_cell(notebook, source: str, kind: str = "code"):
    notebook = copy.deepcopy(notebook)
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    notebook.cells.append(make(source))
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("serve"))
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    course.nbgrader("release_assignment", ASSIGNMENT)
    from autograder.results import adjust
    (course.root / "grades").mkdir()
    adjust.append_override(course.root / "grades", "whoami", "predict", 8, "a kind instructor")
    adjust.append_extension(course.root / "grades", "whoami", "2099-01-01 00:00 UTC", "medical note")
    course.start(wait=False)  # it warms up while alice fetches the assignment
    course.student("alice", "fetch_assignment", ASSIGNMENT)
    fetched = course.home("alice") / ASSIGNMENT / NOTEBOOK
    untouched = read(fetched)
    course.notebooks = {"untouched": fetched.with_name("untouched.ipynb"),
                        "changed": course.base / "changed.ipynb",
                        "slow": course.base / "slow.ipynb",
                        "whoami": course.base / "whoami.ipynb",
                        "sum_loss": SUBMITTED / "sum_loss" / ASSIGNMENT / NOTEBOOK}
    nbformat.write(untouched, str(course.notebooks["untouched"]))
    nbformat.write(with_cell(untouched, "I changed my mind.", "markdown"), str(course.notebooks["changed"]))
    nbformat.write(with_cell(untouched, "import time\ntime.sleep(4)"), str(course.notebooks["slow"]))
    nbformat.write(with_cell(untouched, "import os\nprint('uid', os.getuid(), os.geteuid())"),
                   str(course.notebooks["whoami"]))
    course.wait(lambda s: True, 120, "the status page to answer")
    nb = course.notebooks
    course.submit(("alice", nb["sum_loss"]), ("bob", nb["untouched"]), ("carol", nb["untouched"]),
                  ("carol", nb["changed"]), ("flaky", nb["untouched"]), (HOSTILE, nb["untouched"]),
                  ("bob", nb["changed"]), ("carol", nb["untouched"]), ("whoami", nb["whoami"]))
    yield course
    course.kill()


@pytest.fixture(scope="module")
def settled(course):
    """The burst, graded (or deferred, or given up on)."""
    def finished(status):
        counts = status["counts"]
        return sum(counts.values()) == 9 and not (counts["queued"] or counts["grading"]
                                                  or counts["retry"])
    return course.wait(finished, 120, "the burst to be graded")


@slow
def test_feedback_reaches_nbgrader_fetch_feedback(course, settled):
    [alice] = course.of("alice")
    assert alice["state"] == "done" and alice["score"] == pytest.approx(90)
    course.student("alice", "fetch_feedback", ASSIGNMENT)
    fetched = list((course.home("alice") / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(fetched) == 1, "nbgrader fetch_feedback found no feedback"
    text = html.unescape(re.sub(r"<[^>]+>", "", fetched[0].read_text()))
    assert "Automatic score: 90" in text and "Hint: The value is n times too large" in text
    # the round's late policy applies (submitted days after --due)
    assert re.search(r"days? \d+ h late: 10% off per started day late, never below 50% of the "
                     r"score; 45 points taken off", text), text[:600]
    assert re.search(r"\bgot \d+\.\d+", text)  # what came back, but, with --feedback brief, ...
    assert not re.search(r"expected\s+a\s+value\s+between", text)  # ... not what was expected
    assert fetched[0].read_bytes() == course.feedback_page(alice).read_bytes()
    # the instructor's side, as `tfgrade autograde` leaves it
    assert course.gradebook("alice")["score"] == pytest.approx(90)
    assert (course.root / "autograded" / "alice" / ASSIGNMENT / NOTEBOOK).is_file()
    result = json.loads((course.root / "grades" / "alice" / "result.json").read_text())
    assert result["score"] == pytest.approx(90) and result["submitted_at"]
    released = course.root / "feedback" / "alice" / ASSIGNMENT
    assert (released / f"{ASSIGNMENT}.html").is_file() and (released / "submission_secret.txt").is_file()
    # as release_feedback leaves them: no student can list the folder (the names are the
    # secrets), each page can be read by the one who knows its name
    assert stat.S_IMODE(course.feedback_page(alice).parent.stat().st_mode) == 0o711
    assert stat.S_IMODE(course.feedback_page(alice).stat().st_mode) == 0o644


@slow
def test_the_rounds_overrides_and_extensions_apply(course, settled):
    [whoami] = course.of("whoami")
    text = html.unescape(re.sub(r"<[^>]+>", "", course.feedback_page(whoami).read_text()))
    assert "predict: changed by your instructor from 0 to 8 (a kind instructor)" in text
    assert "Extension to 2099-01-01 00:00 UTC (medical note)" in text and "late" not in text
    assert "Final score: 8 / 100" in text
    grades = (course.root / "grades" / "grades.csv").read_text()
    assert re.search(r"^whoami,8\.0,", grades, re.MULTILINE), grades


@slow
def test_student_code_never_runs_as_the_services_user(course, settled):
    [whoami] = course.of("whoami")
    assert whoami["state"] == "done"
    output = json.loads((course.root / "grades" / "whoami" / "result.json").read_text())["output"]
    uids = re.search(r"uid (\d+) (\d+)", output)
    assert uids, output
    service_uid = os.stat(course.root / ".tfkit" / "serve" / "queue.sqlite").st_uid
    assert service_uid not in (int(uids[1]), int(uids[2])), (service_uid, uids[0])


@slow
def test_a_resubmission_is_graded_again_and_the_latest_counts(course, settled):
    first, second = course.of("bob")
    assert first["state"] == second["state"] == "done"
    assert (first["counted"], second["counted"]) == (0, 1)
    assert course.feedback_page(first).is_file() and course.feedback_page(second).is_file()
    recorded = course.gradebook("bob")["timestamp"]
    assert str(recorded).startswith(second["submitted_at"][:19])
    result = json.loads((course.root / "grades" / "bob" / "result.json").read_text())
    assert result["submitted_from"] == str(course.root / "submitted" / "bob" / ASSIGNMENT)
    assert (course.root / "submitted" / "bob" / ASSIGNMENT / "timestamp.txt").read_text() \
        == second["submitted_at"]


@slow
def test_over_the_limit_a_submission_waits_and_the_feedback_says_until_when(course, settled):
    carol = sorted(course.of("carol"), key=lambda j: j["state"])  # graded in the order found
    assert [j["state"] for j in carol] == ["deferred", "done", "done"]
    waiting = carol[0]
    first_started = min(j["started_at"] for j in carol[1:])
    assert waiting["next_at"] == pytest.approx(first_started + 3600, abs=1)
    page = course.feedback_page(waiting).read_text()
    until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(waiting["next_at"]))
    assert "at most 2 submissions" in page and f"graded at {until}" in page
    assert "recorded" not in course.events()[waiting["key"]]


@slow
def test_a_grader_error_is_retried_reported_and_never_a_zero(course, settled):
    [flaky] = course.of("flaky")
    assert flaky["state"] == "failed" and flaky["attempts"] == 3 and flaky["score"] is None
    assert "sandbox could not start" in flaky["reason"]
    assert course.events()[flaky["key"]] == ["queued", "started", "retry", "started", "retry",
                                             "started", "failed"]
    assert course.gradebook("flaky") is None
    assert not (course.root / "grades" / "flaky").exists()
    page = course.feedback_page(flaky).read_text()
    assert "not graded yet" in page and "problem on its side" in page and "Score" not in page
    errors = course.status()["errors"]
    assert [e["student"] for e in errors] == ["flaky"]


@slow
def test_the_status_page_refuses_requests_without_the_token(course, settled):
    key = course.of("alice")[0]["key"]
    for path in ("", "api/status", f"feedback/{key}", "report.html", "status.js"):
        for token in (None, "wrong-" + TOKEN, TOKEN[:-1]):
            code, body = course.get(path, token=token, raw=True)
            assert code == 403, (path, token)
            assert b"alice" not in body and b"Automatic score" not in body
        code, body = course.get(path, raw=True)
        assert code == 200, path
    code, body = course.get(f"feedback/{key}", raw=True)
    assert b"Automatic score: 90" in body


@slow
def test_the_status_page_escapes_a_hostile_student_id(course, settled):
    code, body = course.get("", raw=True)
    page = body.decode()
    assert code == 200 and HOSTILE not in page
    assert html.escape(HOSTILE) in page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("no chromium here")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@slow
def test_the_status_page_in_chromium_renders_updates_and_escapes(course, settled, browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refused = page.goto(f"http://127.0.0.1:{course.port}/")
    assert refused.status == 403 and "alice" not in page.content()
    page.goto(f"http://127.0.0.1:{course.port}/?token={TOKEN}")
    assert "token" not in page.url  # dropped from the address once the cookie is set
    page.wait_for_selector("#recent tbody tr")
    page.evaluate("window.notReloaded = true")
    students = page.eval_on_selector_all("#recent tbody tr td:first-child", "cells => cells.map(c => c.textContent)")
    assert "alice" in students and HOSTILE in students
    assert page.eval_on_selector_all("img", "images => images.length") == 0
    assert page.title() == "tfgrade serve"
    assert page.eval_on_selector_all("#rates tbody tr", "rows => rows.length") == 11
    # live: a new submission appears without a reload
    course.submit(("dave", course.notebooks["untouched"]))
    page.wait_for_function("() => [...document.querySelectorAll('#recent tbody td:first-child')]"
                           ".some(c => c.textContent === 'dave')", timeout=60000)
    assert page.evaluate("window.notReloaded") is True
    assert page.eval_on_selector_all("img", "images => images.length") == 0
    assert page.title() == "tfgrade serve" and errors == []
    # its feedback link opens the student's page
    link = page.eval_on_selector("#recent tbody tr:first-child a", "a => a.href")
    page.goto(link)
    assert "Score" in page.content()
    page.close()


@slow
def test_kill_9_during_a_grading_then_a_restart_grades_every_submission_once(course, settled):
    course.submit(("slow", course.notebooks["slow"]))
    course.wait(lambda s: any(r["student"] == "slow" and r["state"] == "grading" for r in s["queue"]),
                60, "the slow submission to be graded")
    time.sleep(1.0)  # well inside its 4 s cell
    before = course.events()
    course.kill(signal.SIGKILL)
    assert course.process.returncode == -signal.SIGKILL
    [slow] = course.of("slow")
    assert slow["state"] == "grading" and "recorded" not in before[slow["key"]]
    course.start()
    course.wait(lambda s: not s["counts"]["queued"] and not s["counts"]["grading"]
                and not s["counts"]["retry"] and not s["counts"]["failed"], 120,
                "the restarted service to finish what was queued")
    events = course.events()
    jobs = course.jobs()
    assert {j["student"] for j in jobs} >= {"alice", "bob", "carol", "flaky", HOSTILE, "slow"}
    for job in jobs:
        history = events[job["key"]]
        expected = 0 if job["state"] == "deferred" else 1
        assert history.count("recorded") == expected, (job["student"], history)
        assert history.count("queued") == 1, (job["student"], history)
        if job["state"] == "done" and job["student"] not in ("slow", "flaky"):
            assert history.count("started") == 1, (job["student"], history)  # not graded again
    assert events[slow["key"]] == ["queued", "started", "interrupted", "started", "graded", "recorded"]
    assert course.of("slow")[0]["score"] == 0 and course.gradebook("slow")["score"] == 0
    # flaky, given up on before, is graded at the restart: a real 0 only now
    [flaky] = course.of("flaky")
    assert flaky["state"] == "done" and events[flaky["key"]][-3:] == ["started", "graded", "recorded"]
    assert course.gradebook("flaky")["score"] == 0


# --- Deployment: what docs/serve.md tells an administrator to write -------------------------

DOCS = (ROOT / "docs" / "serve.md").read_text(encoding="utf-8")


def docs_block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading`` in docs/serve.md."""
    after = DOCS[DOCS.index(heading):]
    start = after.index(f"```{language}\n") + len(language) + 4
    return after[start:after.index("```", start)]


def serve_args(argv: list):
    from autograder.cli.parsers import parser as _parser
    args = _parser().parse_args(argv)
    assert args.command == "serve"
    return args


def test_the_jupyterhub_service_entry_starts_tfgrade_serve():
    from traitlets.config import Config
    c = Config()
    exec(docs_block("### As a JupyterHub service", "python"), {"c": c})  # noqa: S102
    [service] = c.JupyterHub.services
    executable, *argv = service["command"]
    assert executable.endswith("/bin/tfgrade") and service["cwd"]
    args = serve_args(argv)
    assert args.assignments == [ASSIGNMENT] and args.hub_auth and args.hub_user == ["instructor"]
    assert service["url"] == f"http://127.0.0.1:{args.port}"
    assert service["environment"]["TFGRADE_SERVE_TOKEN"]
    assert executable.rsplit("/", 1)[0] in service["environment"]["PATH"].split(":")  # alembic


def test_the_systemd_unit_is_valid_and_starts_tfgrade_serve(tmp_path):
    import configparser
    import shutil
    unit = docs_block("### As a systemd unit", "ini")
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.optionxform = str
    parsed.read_string(unit)
    executable, *argv = parsed["Service"]["ExecStart"].split()
    args = serve_args(argv)
    assert args.assignments == [ASSIGNMENT]
    assert parsed["Service"]["KillSignal"] == "SIGTERM" and parsed["Service"]["User"] == "root"
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze here to verify the unit")
    local = unit.replace("/opt/tfkit/.venv", sys.prefix).replace("/srv/courses/tfkit", str(tmp_path))
    (tmp_path / "tfgrade-serve.service").write_text(local)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "tfgrade-serve.service")],
                          capture_output=True, text=True, timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "tfgrade-serve" in line]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr


class _Stub:
    """What the status page asks of a service."""

    recorders = {}

    def status(self):
        return {"now": 0, "started_at": 0, "counts": {s: 0 for s in ("queued", "grading", "deferred",
                                                                     "retry", "failed", "done")},
                "watching": True, "jobs": 1, "assignments": [ASSIGNMENT], "queue": [], "recent": [],
                "errors": [], "pass_rates": {}}


def test_as_a_hub_service_the_page_lives_under_its_prefix_and_asks_the_hub():
    """The hub's API says whose token a request carries: an admin and a --hub-user are let
    in, another hub user is not (nor is anyone without a token)."""
    import asyncio

    import tornado.httpclient
    import tornado.web

    from autograder.serve.status import Auth, make_app

    users = {"t-admin": {"name": "root", "admin": True}, "t-instructor": {"name": "instructor"},
             "t-student": {"name": "student"}}

    class User(tornado.web.RequestHandler):
        def get(self):
            user = users.get(self.request.headers.get("Authorization", "").removeprefix("token "))
            if user is None:
                raise tornado.web.HTTPError(403)
            self.finish(user)

    async def check():
        hub_port, port = free_port(), free_port()
        tornado.web.Application([("/hub/api/user", User)]).listen(hub_port, "127.0.0.1")
        auth = Auth("the-token", ("instructor",), hub=True, hub_api_url=f"http://127.0.0.1:{hub_port}/hub/api")
        make_app(_Stub(), auth, "/services/tfgrade/").listen(port, "127.0.0.1")
        client = tornado.httpclient.AsyncHTTPClient()

        async def code(path, token=None):
            headers = {"Authorization": f"token {token}"} if token else {}
            reply = await client.fetch(f"http://127.0.0.1:{port}{path}", headers=headers, raise_error=False)
            return reply.code
        base = "/services/tfgrade/"
        return {"none": await code(base), "student": await code(base, "t-student"),
                "unknown": await code(base + "api/status", "t-nobody"),
                "instructor": await code(base, "t-instructor"), "admin": await code(base + "api/status", "t-admin"),
                "token": await code(base, "the-token"), "outside": await code("/", "the-token")}
    import threading
    found = []  # in a thread of its own: an event loop may already run in this one (Playwright's)
    thread = threading.Thread(target=lambda: found.append(asyncio.run(check())))
    thread.start()
    thread.join(60)
    [codes] = found
    assert codes == {"none": 403, "student": 403, "unknown": 403, "instructor": 200, "admin": 200,
                     "token": 200, "outside": 404}


@pytest.fixture(scope="module")
def dask_service(course):
    """A second service on the same course: a plain folder (no exchange), graded on a Dask
    cluster of one worker started outside tfgrade, as a course keeps one."""
    pytest.importorskip("distributed")
    from autograder.grading.cluster import standing_cluster
    folder = course.base / "dask"
    folder.mkdir()
    dropbox = course.base / "dropbox"
    dropbox.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with standing_cluster(folder, 1, env=env, log=open(folder / "dask.log", "w")) as (address, workers):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "autograder.cli", "serve", ASSIGNMENT, "--scheduler", address,
             "--no-exchange", "--folder", str(dropbox), "--out", "grades-dask", "--state",
             ".tfkit/serve-dask", "--port", str(port), "--settle", "0.2"],
            cwd=course.root, env={**env, "TFGRADE_SERVE_TOKEN": TOKEN}, start_new_session=True,
            stdout=open(folder / "serve.log", "w"), stderr=subprocess.STDOUT)
        try:
            yield process, port, dropbox
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            workers.kill()  # a graceful close of the workers takes seconds, and is not tested here


@slow
def test_the_dask_variant_grades_a_plain_folder_on_the_cluster(course, dask_service):
    import shutil
    process, port, dropbox = dask_service
    submission = dropbox / "erin" / ASSIGNMENT
    submission.mkdir(parents=True)
    shutil.copy(course.notebooks["sum_loss"], submission / NOTEBOOK)
    (submission / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    other = Course.__new__(Course)
    other.port, other.process, other.log = port, process, course.base / "dask" / "serve.log"
    status = other.wait(lambda s: s["counts"]["done"] == 1, 120, "the Dask service to grade erin")
    [row] = status["recent"]
    assert row["student"] == "erin" and row["kind"] == "folder" and row["score"] == pytest.approx(90)
    result = json.loads((course.root / "grades-dask" / "erin" / "result.json").read_text())
    assert result["score"] == pytest.approx(90) and result["submitted_at"].startswith("2026-12-01")
    assert course.gradebook("erin") is None  # a plain folder is recorded in the round only
    # this round's feedback is full: expected values, which alice's brief one leaves out
    page = (course.root / ".tfkit" / "serve-dask" / "feedback" / f"{row['key']}.html").read_text()
    assert re.search(r"expected\s+a\s+value\s+between", html.unescape(re.sub(r"<[^>]+>", "", page)))
    # graded on the worker: this service started no forkserver of its own
    tree, todo = [], [process.pid]
    while todo:
        pid = todo.pop()
        tree.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            todo += [int(c) for c in task.read_text().split()]
    assert not any(b"forkserver" in cmdline for cmdline in tree)


@slow
def test_the_benchmark_measures_submit_to_feedback(course, settled):
    """benchmarks/serve.py's measuring parts, with two students, on this module's service."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import serve as bench
    finally:
        sys.path.pop(0)
    students = bench.Students(course.base / "bench", course.exchange, COURSE_ID,
                              sources=[course.notebooks["untouched"]])
    try:
        names = [students.submit(), students.submit()]
        latencies = students.wait(names, 60)
    finally:
        students.close()
    figures = bench.summary(latencies, bench.grading_seconds(course.root))
    assert figures["n"] == 2 and 0 < figures["median_s"] <= figures["max_s"] < 60
    assert 0 < figures["grading_median_s"] < figures["median_s"]
    assert bench.memory(course.process.pid)["service_mb"] > 50


# --- The queue and the watcher's rules, without a service --------------------------------------

def job(key: str, student: str = "ann", submitted_at: str = "2026-12-01 10:00:00 UTC"):
    from autograder.serve.queue import Job
    return Job(key=key, student=student, assignment=ASSIGNMENT, source=f"/nowhere/{key}",
               notebook=NOTEBOOK, submitted_at=submitted_at, kind="exchange")


def test_the_queue_holds_each_submission_once_and_hands_it_to_one_thread(tmp_path):
    import threading

    from autograder.serve.queue import Queue
    queue = Queue(tmp_path / "q.sqlite")
    assert queue.add(job("a")) and not queue.add(job("a")) and queue.add(job("b"))
    claimed, lock = [], threading.Lock()

    def take():
        found = queue.claim()
        with lock:
            claimed.append(found and found.key)
    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(k for k in claimed if k) == ["a", "b"]
    queue.done(job("a"), {"score": 1.0, "max_score": 100, "status": "graded"}, True)
    queue.close()
    reopened = Queue(tmp_path / "q.sqlite")  # a new start: "b" was left grading
    assert reopened.recover() == ["b"]
    assert reopened.counts()["done"] == 1 and reopened.claim().key == "b"
    assert [e["event"] for e in reopened.events("a")] == ["queued", "started", "recorded"]


def test_two_threads_cannot_both_take_a_students_last_slot(tmp_path):
    import threading

    from autograder.serve.queue import Queue
    now = [1000.0]
    queue = Queue(tmp_path / "q.sqlite", clock=lambda: now[0])
    for key in "abc":
        queue.add(job(key))
    first = queue.claim()
    assert queue.admit(first, 2, 3600) is None
    queue.done(first, {"score": 0.0, "max_score": 100, "status": "graded"}, True)
    second, third = queue.claim(), queue.claim()
    verdicts = {}
    threads = [threading.Thread(target=lambda j=j: verdicts.__setitem__(j.key, queue.admit(j, 2, 3600)))
               for j in (second, third)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(verdicts.values(), key=str) == [1000.0 + 3600, None]


def test_a_submission_is_complete_once_its_files_are_there_and_settled(tmp_path):
    from autograder.serve import watch
    inbound = tmp_path / "inbound"
    folder = inbound / f"ann+{ASSIGNMENT}+2026-12-01 10:00:00.000000 UTC+abc"
    folder.mkdir(parents=True)
    source = watch.Source(inbound, "exchange", (ASSIGNMENT,))
    (folder / NOTEBOOK).write_text("{}")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    found, wait = watch.complete(source, folder, settle=0.5)
    assert found is None and wait == 0.5  # no submission_secret.txt yet: nbgrader writes it last
    (folder / "submission_secret.txt").write_text("s3cret")
    found, wait = watch.complete(source, folder, settle=5.0)
    assert found is None and 4 < wait <= 5.01  # just written: not settled
    found, wait = watch.complete(source, folder, settle=5.0, now=time.time() + 6)
    assert found.student == "ann" and found.notebook == NOTEBOOK and wait is None
    assert watch.complete(source, folder, 5.0, time.time() + 6)[0].key == found.key  # same key again
    other = watch.Source(inbound, "exchange", ("another_assignment",))
    assert watch.complete(other, folder, 0.0, time.time() + 6) == (None, None)
    (folder / NOTEBOOK).unlink()
    os.symlink("/etc/passwd", folder / NOTEBOOK)  # not followed: graded as having no notebook
    found, _ = watch.complete(source, folder, 0.0, time.time() + 6)
    assert found.notebook == ""


@slow
def test_sigterm_stops_the_service_cleanly(course, settled):
    """Last, on the module's service: SIGTERM (systemd's stop) ends it with 0, soon."""
    before = course.log.stat().st_size
    started = time.monotonic()
    course.process.send_signal(signal.SIGTERM)
    assert course.process.wait(timeout=30) == 0
    assert time.monotonic() - started < 15
    with open(course.log, "rb") as log:
        log.seek(before)
        assert b"Traceback" not in log.read()
