"""What runs next to student code: executing cells and probing exercises.

The same functions serve the sandboxed process (driven over a pipe by ``sandbox``)
and a Jupyter kernel (``kernel``, for nbgrader's hidden tests), so both graders call
student code in exactly the same way. Nothing here knows the reference answers.
"""
from __future__ import annotations

import contextlib
import io
import linecache
import re
import traceback

from . import wire
from .exercises import EXERCISES

MAX_ERROR_CHARS = 600
_TERMINAL_NOISE = re.compile(r"\x1b\[[0-9;]*m|\{\{function_node [^}]*\}\}")


def describe_error(exc: BaseException) -> str:
    """'ValueError: message' on one line (TensorFlow's colour codes and kernel names
    removed), shortened, plus the last line of student code involved."""
    try:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception:  # noqa: BLE001 - a hostile __str__ must not break grading
        text = type(exc).__name__
    text = " ".join(_TERMINAL_NOISE.sub("", text).split())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if frames:
        last = frames[-1]
        text = text[:MAX_ERROR_CHARS]
        text += f" (in {last.filename.strip('<>')}, line {last.lineno}: {(last.line or '').strip()})"
    return text[:MAX_ERROR_CHARS + 200]


@contextlib.contextmanager
def injected(namespace: dict, definitions: dict):
    """Put reference definitions into the student's namespace for one exercise, and
    put the student's own names back afterwards."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in definitions}
    namespace.update(definitions)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def run_exercise(exercise, namespace: dict, cases: list, definitions: dict,
                 to_plain=wire.to_plain) -> list:
    """Probe one exercise on every case. Returns one outcome per case:
    ``{"ok": data}``, ``{"error": text}`` or ``{"missing": name}``."""
    if exercise.defines not in namespace:
        return [{"missing": exercise.defines}] * len(cases)
    outcomes = []
    with injected(namespace, definitions):
        for case in cases:
            try:
                outcomes.append({"ok": to_plain(exercise.probe(namespace, case))})
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: it is the student's error
                outcomes.append({"error": describe_error(exc)})
    return outcomes


def define(sources: dict) -> dict:
    """Execute reference definitions sent as source text, in their own namespace
    (so they call each other, not the student's versions)."""
    import numpy as np
    import tensorflow as tf
    scope = {"tf": tf, "np": np, "__name__": "reference"}
    for name, source in sources.items():
        exec(compile(source, f"<reference {name}>", "exec"), scope)  # noqa: S102 - grader's own code
    return {name: scope[name] for name in sources}


class BoundedOutput(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first ``limit`` characters of what
    student code prints, and drops the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts) + (f"\n[... {self.dropped} characters dropped]" if self.dropped else "")
        self.parts, self.size, self.dropped = [], 0, 0
        return out


def make_shell():
    """An IPython shell to run cells with notebook semantics (magics, display)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.enable_gui = lambda gui=None: None  # `%matplotlib inline` needs no GUI here
    shell.user_ns["__name__"] = "__main__"
    return shell


def run_cell(shell, cell_id: str, source: str) -> dict:
    """Run one cell; returns ``{"ok": True}`` or ``{"error": text}``."""
    try:
        code = shell.transform_cell(source)
        filename = f"<cell {cell_id}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
        exec(compile(code, filename, "exec"), shell.user_ns)  # noqa: S102 - student code, sandboxed
        return {"ok": True}
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_error(exc)}


def serve(receive, send, output_limit: int) -> None:
    """The request loop of a sandboxed process. Requests and replies are plain data
    (``wire``); each reply carries what the student's code printed meanwhile.

    Everything the loop uses is bound here, before any student code runs, so a
    submission that rewrites this package's modules (or numpy's) changes nothing the
    loop calls. Points are decided in the grader anyway, on values it computes itself.
    """
    import sys
    import types
    exercises = {name: types.SimpleNamespace(defines=ex.defines, probe=ex.probe)
                 for name, ex in EXERCISES.items()}
    loads, dumps, to_plain = wire.loads, wire.dumps, wire.to_plain
    run, run_one_cell, make_definitions, error_text = run_exercise, run_cell, define, describe_error
    shell = make_shell()
    out = BoundedOutput(output_limit)
    take = out.take
    sys.stdout = sys.stderr = out
    while True:
        request = loads(receive())
        op = request.get("op")
        if op == "cell":
            reply = run_one_cell(shell, request["id"], request["source"])
        elif op == "exercise":
            try:
                reply = {"outcomes": run(exercises[request["name"]], shell.user_ns, request["cases"],
                                         make_definitions(request["definitions"]), to_plain)}
            except BaseException as exc:  # noqa: BLE001
                reply = {"failed": error_text(exc)}
        else:
            return
        reply["output"] = take()
        send(dumps(reply))
