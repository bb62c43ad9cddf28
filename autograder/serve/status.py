"""The instructor's status page, served by the service (Tornado, no front-end build).

``/`` shows the queue, recent results with scores and times, errors, and per-exercise
pass rates; its script (``/status.js``) fetches ``/api/status`` every two seconds and
redraws the tables. ``/feedback/<key>`` shows the feedback page of one submission (the
one the student fetches), ``/report.html`` the round's class report.

Every request must be authenticated, one of two ways:

- **a token**: ``?token=T`` (the page then sets an HttpOnly, SameSite=Strict cookie and
  drops the token from the address), the cookie, or an ``Authorization: token T``
  header; compared in constant time;
- **JupyterHub**, when the service runs as a hub service (``--hub-auth``): the hub
  token a request carries (``Authorization: token T``, as hub API clients send, or the
  hub's login cookie forwarded by its proxy) is checked with the hub's API (``GET
  /hub/api/user``), and the user must be an admin or one of ``hub_users``.

Anything else gets 403 and nothing of the course. Every value is escaped: the page is a
Tornado template (autoescaped) and the script writes text with ``textContent`` only;
the Content-Security-Policy allows no inline script and nothing from elsewhere.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
from pathlib import Path

import tornado.httpclient
import tornado.template
import tornado.web

log = logging.getLogger(__name__)
COOKIE = "tfgrade_serve_token"
KEY = re.compile(r"^[0-9a-f]{64}$")
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' "
       "'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
# Feedback pages and report.html are the kit's own files: no script at all.
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


class Auth:
    """Who may see the page: the holder of ``token``, and/or hub users."""

    def __init__(self, token: str | None, hub_users: tuple = (), hub: bool = False,
                 hub_api_url: str | None = None):
        self.token = token
        self.hub = hub
        self.hub_users = set(hub_users)
        self.hub_api_url = (hub_api_url or os.environ.get("JUPYTERHUB_API_URL", "")).rstrip("/")
        self._hub_cache: dict = {}  # hub token -> (allowed, until)

    def token_ok(self, offered: str | None) -> bool:
        return bool(self.token) and bool(offered) and hmac.compare_digest(
            offered.encode(), self.token.encode())

    async def hub_ok(self, offered: str | None) -> bool:
        """Whether the hub says ``offered`` is the token of an allowed user (cached 60 s)."""
        if not (self.hub and offered and self.hub_api_url):
            return False
        cached = self._hub_cache.get(offered)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        client = tornado.httpclient.AsyncHTTPClient()
        try:
            reply = await client.fetch(f"{self.hub_api_url}/user", raise_error=False,
                                       headers={"Authorization": f"token {offered}"},
                                       request_timeout=10)
            user = json.loads(reply.body) if reply.code == 200 else {}
        except Exception:  # noqa: BLE001 - the hub unreachable: refused
            user = {}
        allowed = bool(user.get("admin")) or user.get("name") in self.hub_users
        self._hub_cache[offered] = (allowed, time.monotonic() + 60)
        return allowed


class _Base(tornado.web.RequestHandler):
    def initialize(self, service, auth: Auth):
        self.service, self.auth = service, auth

    def set_default_headers(self):
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    def _offered(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        if header.lower().startswith("token "):
            return header[6:].strip()
        return self.get_cookie(COOKIE)

    async def prepare(self):
        query = self.get_query_argument("token", None)
        if query is not None and self.auth.token_ok(query):
            self.set_cookie(COOKIE, query, httponly=True, samesite="Strict",
                            path=self.reverse_url("page"))
            self.redirect(self.request.path)
            return
        offered = self._offered()
        if self.auth.token_ok(offered) or await self.auth.hub_ok(offered):
            return
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish("403: a token is needed (open the address tfgrade serve printed at start)\n")


PAGE = tornado.template.Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tfgrade serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: .2em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: .8em; background: #4a8; }
.muted { color: #777; }
</style></head>
<body>
<h1>tfgrade serve: {{ ", ".join(status["assignments"]) }}</h1>
<p id="summary" class="muted">{{ summary }}</p>
<p><a href="report.html">Class report (report.html)</a></p>
<h2>Queue</h2>
<table id="queue"><thead><tr><th>student</th><th>submitted</th><th>state</th><th>next</th><th>note</th></tr></thead>
<tbody>{% for r in status["queue"] %}<tr><td>{{ r["student"] }}</td><td>{{ r["submitted_at"] or "" }}</td><td>{{ r["state"] }}</td><td>{{ when(r["next_at"]) }}</td><td>{{ r["reason"] or "" }}</td></tr>{% end %}</tbody></table>
<h2>Recent results</h2>
<table id="recent"><thead><tr><th>student</th><th>submitted</th><th>score</th><th>status</th><th>graded in</th><th>feedback after</th><th>feedback</th></tr></thead>
<tbody>{% for r in status["recent"] %}<tr><td>{{ r["student"] }}</td><td>{{ r["submitted_at"] or "" }}</td><td class="num">{{ score(r) }}</td><td>{{ r["status"] or "" }}{% if not r["counted"] %} (not of record){% end %}</td><td class="num">{{ seconds(r["graded_seconds"]) }}</td><td class="num">{{ seconds(waited(r)) }}</td><td><a href="feedback/{{ r["key"] }}">feedback</a></td></tr>{% end %}</tbody></table>
<h2>Errors</h2>
<table id="errors"><thead><tr><th>student</th><th>state</th><th>attempts</th><th>next try</th><th>reason</th></tr></thead>
<tbody>{% for r in status["errors"] %}<tr><td>{{ r["student"] }}</td><td>{{ r["state"] }}</td><td class="num">{{ r["attempts"] }}</td><td>{{ when(r["next_at"]) }}</td><td>{{ r["reason"] or "" }}</td></tr>{% end %}</tbody></table>
<h2>Pass rates (submissions of record)</h2>
<table id="rates"><thead><tr><th>exercise</th><th>full points</th><th></th></tr></thead>
<tbody>{% for name, rate in status["pass_rates"].items() %}<tr><td>{{ name }}</td><td class="num">{{ rate["passed"] }} / {{ rate["of"] }}</td><td><span class="bar" style="width: {{ int(100 * rate["passed"] / max(rate["of"], 1)) }}px"></span></td></tr>{% end %}</tbody></table>
<script src="status.js"></script>
</body></html>
""", autoescape="xhtml_escape")

SCRIPT = r"""
"use strict";
// Redraws the tables from /api/status. Text only ever goes in with textContent.
function when(t) { return t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : ""; }
function secs(s) { return (s === null || s === undefined) ? "" : s.toFixed(1) + " s"; }
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = (text === null || text === undefined) ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function fill(id, rows, make) {
  const body = document.querySelector("#" + id + " tbody");
  const fresh = document.createElement("tbody");
  for (const r of rows) { const tr = document.createElement("tr"); make(tr, r); fresh.appendChild(tr); }
  body.replaceWith(fresh);
}
function score(r) { return (r.score === null || r.score === undefined) ? "" : r.score + " / " + r.max_score; }
async function refresh() {
  let status;
  try {
    const reply = await fetch("api/status", {credentials: "same-origin", cache: "no-store"});
    if (!reply.ok) return;
    status = await reply.json();
  } catch (e) { return; }
  const c = status.counts;
  document.getElementById("summary").textContent =
    c.done + " graded, " + (c.queued + c.grading) + " waiting or grading, " + c.deferred +
    " over the limit, " + (c.retry + c.failed) + " grader errors; " + status.jobs +
    " grading threads; updated " + when(status.now);
  fill("queue", status.queue, (tr, r) => {
    cell(tr, r.student); cell(tr, r.submitted_at); cell(tr, r.state); cell(tr, when(r.next_at)); cell(tr, r.reason);
  });
  fill("recent", status.recent, (tr, r) => {
    cell(tr, r.student); cell(tr, r.submitted_at); cell(tr, score(r), "num");
    cell(tr, (r.status || "") + (r.counted ? "" : " (not of record)"));
    cell(tr, secs(r.graded_seconds), "num");
    cell(tr, secs(r.feedback_at && r.found_at ? r.feedback_at - r.found_at : null), "num");
    const link = document.createElement("a");
    link.href = "feedback/" + encodeURIComponent(r.key);
    link.textContent = "feedback";
    cell(tr, "").appendChild(link);
  });
  fill("errors", status.errors, (tr, r) => {
    cell(tr, r.student); cell(tr, r.state); cell(tr, r.attempts, "num"); cell(tr, when(r.next_at)); cell(tr, r.reason);
  });
  fill("rates", Object.entries(status.pass_rates), (tr, [name, rate]) => {
    cell(tr, name); cell(tr, rate.passed + " / " + rate.of, "num");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = Math.round(100 * rate.passed / Math.max(rate.of, 1)) + "px";
    cell(tr, "").appendChild(bar);
  });
}
setInterval(refresh, 2000);
refresh();
"""


def _when(at) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at)) if at else ""


def _seconds(value) -> str:
    return "" if value is None else f"{value:.1f} s"


def _score(row) -> str:
    return "" if row.get("score") is None else f"{row['score']:g} / {row['max_score']:g}"


def _waited(row):
    return row["feedback_at"] - row["found_at"] if row.get("feedback_at") and row.get("found_at") else None


class PageHandler(_Base):
    def get(self):
        status = self.service.status()
        counts = status["counts"]
        summary = (f"{counts['done']} graded, {counts['queued'] + counts['grading']} waiting or "
                   f"grading, {counts['deferred']} over the limit, "
                   f"{counts['retry'] + counts['failed']} grader errors")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(PAGE.generate(status=status, summary=summary, when=_when, seconds=_seconds,
                                  score=_score, waited=_waited))


class ScriptHandler(_Base):
    def get(self):
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.finish(SCRIPT)


class StatusHandler(_Base):
    def get(self):
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(self.service.status()))


class FileHandler(_Base):
    """A file the kit wrote (a feedback page, report.html), served as it is, under a
    policy that runs no script."""

    def _send(self, path: Path | None):
        if path is None or path.is_symlink() or not path.is_file():
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Security-Policy", FILE_CSP)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(path.read_bytes())


class FeedbackHandler(FileHandler):
    def get(self, key: str):
        if not KEY.match(key):
            raise tornado.web.HTTPError(404)
        recorder = next(iter(self.service.recorders.values()))
        self._send(recorder.feedback_copy(key))


class ReportHandler(FileHandler):
    def get(self):
        from autograder.results.html import class_report
        recorder = next(iter(self.service.recorders.values()))
        self._send(recorder.out / class_report.REPORT_FILE)


def make_app(service, auth: Auth, prefix: str = "/") -> tornado.web.Application:
    """The status page's application, under ``prefix`` (a hub service's
    ``JUPYTERHUB_SERVICE_PREFIX``, else ``/``)."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    options = {"service": service, "auth": auth}
    return tornado.web.Application([
        tornado.web.url(prefix, PageHandler, options, name="page"),
        (prefix + "status.js", ScriptHandler, options),
        (prefix + "api/status", StatusHandler, options),
        (prefix + r"feedback/([^/]+)", FeedbackHandler, options),
        (prefix + "report.html", ReportHandler, options),
    ], xheaders=False)
