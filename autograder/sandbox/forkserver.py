"""The forkserver every sandbox and reference process is forked from.

It imports TensorFlow and this package's sandbox side once (``preload``; never
``grading.reference``), runs no TensorFlow op, and starts from an allowlist of the grader's
environment (:func:`forkserver_environment`), so the grader's variables are in no process
it forks, not even in the memory of one.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import sys
import threading

from autograder.sandbox.settings import FORKSERVER_VARIABLES


PRELOAD = ("tensorflow", "IPython.core.interactiveshell", "autograder.sandbox.harness",
           # What the assignment's setup cell imports: paid once here, not per submission.
           "matplotlib.pyplot", "sklearn.datasets")


_context_lock = threading.Lock()


_context = None


def import_quietly(*modules: str, warm: bool = False) -> None:
    """Import modules with file descriptor 2 pointed at /dev/null: TensorFlow's C++
    start-up lines ignore TF_CPP_MIN_LOG_LEVEL and would land in the instructor's
    console. With ``warm``, also run one TF op, whose device probing logs too."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MPLBACKEND", "Agg")
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        for module in modules:
            __import__(module)
        if warm:
            import tensorflow as tf
            tf.constant(0.0) + 1
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def process_context():
    """The process pool's context: a forkserver that has imported TensorFlow and this
    package's sandbox side (never ``reference``), started once per grader process."""
    global _context
    with _context_lock:
        if _context is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            _context = multiprocessing.get_context("forkserver")
            main = sys.modules.get("__main__")
            if main is not None and not hasattr(main, "__spec__"):
                # IPython's shell (a kernel, a test) puts a module without __spec__ there,
                # and the forkserver's start reads it: None reads as "no main script".
                main.__spec__ = None
            _tell_forkserver_the_main_script()
            multiprocessing.util.spawnv_passfds = _spawnv_passfds
            _context.set_forkserver_preload(["autograder.sandbox.preload"])
        return _context


def forkserver_environment() -> dict:
    """The whole environment the forkserver starts with, and so every process it forks
    (sandboxes, the reference) before they set their own: the variables named in
    :data:`FORKSERVER_VARIABLES`, the note on the main script, and ``PYTHONSAFEPATH``,
    so that it imports this package from where the grader's environment installs it,
    never from the grader's current folder (``python -c`` would look there first)."""
    names = FORKSERVER_VARIABLES + (MAIN_SCRIPT_VARIABLE,)
    return {**{name: os.environ[name] for name in names if name in os.environ},
            "PYTHONSAFEPATH": "1"}


_spawnv_passfds_of_multiprocessing = multiprocessing.util.spawnv_passfds


def _spawnv_passfds(path, args, passfds):
    """``multiprocessing.util.spawnv_passfds`` (which starts the forkserver and the
    resource tracker with the grader's whole environment), but the forkserver with
    :func:`forkserver_environment`. The same call to ``_posixsubprocess`` as
    Python 3.11's, with an environment."""
    if not any("multiprocessing.forkserver" in str(arg) for arg in args):
        return _spawnv_passfds_of_multiprocessing(path, args, passfds)
    import _posixsubprocess
    import subprocess
    environment = [f"{k}={v}".encode() for k, v in forkserver_environment().items()]
    passfds = tuple(sorted(map(int, passfds)))
    errpipe_read, errpipe_write = os.pipe()
    try:
        return _posixsubprocess.fork_exec(
            args, [path], True, passfds, None, environment,
            -1, -1, -1, -1, -1, -1, errpipe_read, errpipe_write,
            False, False, -1, None, None, None, -1, None, subprocess._USE_VFORK)
    finally:
        os.close(errpipe_read)
        os.close(errpipe_write)


# The forkserver reads this variable once (``preload``) and removes it.
MAIN_SCRIPT_VARIABLE = "TFKIT_GRADER_MAIN"


def _tell_forkserver_the_main_script() -> None:
    """Each child of the forkserver runs the grader's main script again before its
    target (multiprocessing's ``spawn.prepare``), unless the forkserver's own main
    module already claims to be that script; Python 3.11's ``"__main__"`` preload
    never does (it looks for a key the preparation data does not hold). That costs a
    few milliseconds under ``tfgrade``, and about a second per sandbox and per
    reference process under ``nbgrader`` or a Dask worker, whose scripts import much
    more. Every target here is a function of this package and needs nothing of the
    main script, so the forkserver is told which script it is (see ``_preload``)."""
    from multiprocessing import spawn
    data = spawn.get_preparation_data("tfkit")
    if "init_main_from_path" in data:
        os.environ[MAIN_SCRIPT_VARIABLE] = "path:" + data["init_main_from_path"]
    elif "init_main_from_name" in data:
        os.environ[MAIN_SCRIPT_VARIABLE] = "name:" + data["init_main_from_name"]


def exit_with_parent() -> None:
    """In a long-lived child of the forkserver (the reference process): end it when the
    process that started it ends, even by SIGKILL (a Dask worker killed, a grader
    killed with ``kill -9``). Such a child holds the forkserver's keep-alive pipe, so
    without this both would outlive their grader, about 1 GB each."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def start_forkserver() -> None:
    """Start the forkserver now, so that its imports overlap with the caller's."""
    process_context()
    from multiprocessing import forkserver
    forkserver.ensure_running()
