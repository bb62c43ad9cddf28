"""The isolated process student code runs in, and its limits.

A forkserver imports TensorFlow once (and runs no TF op), then forks a fresh process
per submission in about 50 ms. Before any student code runs, that process confines
itself (:func:`confine`):

- its own session, killed with everything it started when it overruns;
- an address-space cap above what TensorFlow already maps, and capped file sizes;
- when the grader runs as root: a new network namespace (no interfaces up), a new
  mount namespace in which the course files, the grader's package, the output folder
  and the grader's home are replaced by empty folders (the Python installation stays
  visible), a fresh ``/tmp`` as the only writable place, and the user ``nobody``;
- no new privileges, stdin/stdout/stderr on /dev/null (what student code prints is
  captured by the harness, bounded).

The grader talks to it over a pipe, with plain data only (``wire``); a reply that does
not come within the time limit, or a process that dies, becomes a recorded reason.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import pwd
import resource
import signal
import sys
import threading
from dataclasses import dataclass, field

from . import wire

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


@dataclass(frozen=True)
class Limits:
    """What a submission may use. Times are in seconds."""

    memory_mb: int = 2048  # address space on top of what TensorFlow maps at start
    output_chars: int = 20_000  # what is kept of the student's printing, per reply
    cell_seconds: float = 15.0  # for each top-level cell (definitions; demos are skipped)
    time_scale: float = 1.0  # multiplies every exercise's own limit
    file_mb: int = 64
    hide: tuple = field(default_factory=lambda: standard_hidden())  # folders student code must not see


def standard_hidden() -> tuple:
    """Folders no submission may see: this package (the reference lives there), the
    course root (source/, solutions/, the gradebook, other students' work), the
    current folder and the grader's home."""
    package = os.path.dirname(os.path.abspath(__file__))
    folders = {package, os.getcwd(), os.path.expanduser("~")}
    here = os.getcwd()
    while here != os.path.dirname(here):
        if os.path.isfile(os.path.join(here, "nbgrader_config.py")):
            folders.add(here)
            break
        here = os.path.dirname(here)
    return tuple(sorted(folders))


class Timeout(Exception):
    """The sandboxed process did not answer in time (it has been killed)."""


class Crashed(Exception):
    """The sandboxed process ended, or sent something that is not plain data."""


# --- Inside the sandboxed process ---

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source, target, fstype, flags, data=None):
    enc = [x.encode() if isinstance(x, str) else x for x in (source, target, fstype, data)]
    if libc.mount(enc[0], enc[1], enc[2], flags, enc[3]) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}: {os.strerror(ctypes.get_errno())}")


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _hide_folders(libc, hide, keep):
    """Replace each folder in ``hide`` (and /tmp, /var/tmp, /dev/shm) with an empty
    one, except the folders in ``keep`` (the Python installation), bound back in place."""
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    stash_root = "/dev/shm" if os.path.isdir("/dev/shm") else "/mnt"
    _mount(libc, "tmpfs", stash_root, "tmpfs", 0, "mode=700,size=1m")
    stash = {}
    for i, folder in enumerate(keep):
        stash[folder] = f"{stash_root}/keep{i}"
        os.makedirs(stash[folder])
        _mount(libc, folder, stash[folder], None, MS_BIND | MS_REC)
    shared = [(f, "mode=1777,size=512m") for f in ("/tmp", "/var/tmp") if os.path.isdir(f)]
    private = [(f, "mode=755,size=1m") for f in hide if os.path.isdir(f)]
    for folder, options in sorted(shared + private, key=lambda item: len(item[0])):
        if not os.path.isdir(folder):  # inside a folder already replaced: gone already
            continue
        _mount(libc, "tmpfs", folder, "tmpfs", 0, options)
        for kept in keep:
            if _inside(kept, folder) and kept != folder:
                os.makedirs(kept, exist_ok=True)
                _mount(libc, stash[kept], kept, None, MS_BIND | MS_REC)


def _address_space_now() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def confine(limits: Limits) -> list:
    """Apply every protection this machine allows; returns the names of those applied."""
    libc = _libc()
    applied = ["own process"]
    os.setsid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    scratch = None
    if os.geteuid() == 0 and libc.unshare(CLONE_NEWNS | CLONE_NEWNET) == 0:
        applied.append("no network")
        keep = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
        _hide_folders(libc, [os.path.realpath(h) for h in limits.hide], keep)
        applied.append("course files hidden")
        nobody = pwd.getpwnam("nobody")
        scratch = "/tmp/scratch"
        os.makedirs(scratch)
        os.chown(scratch, nobody.pw_uid, nobody.pw_gid)
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
        resource.setrlimit(resource.RLIMIT_NPROC, (1024, 1024))
        applied.append("unprivileged user")
    else:
        import tempfile
        scratch = tempfile.mkdtemp(prefix="tfkit-")
    os.chdir(scratch)
    cap = _address_space_now() + limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    applied.append("memory cap")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    os.environ.update(HOME=scratch, TMPDIR=scratch, NBGRADER_EXECUTION="autograde",
                      MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return applied


def _child_main(conn, limits: Limits) -> None:
    from . import harness  # preloaded by the forkserver
    try:
        applied = confine(limits)
    except BaseException as exc:  # noqa: BLE001 - report, do not run unconfined
        conn.send_bytes(wire.dumps({"refused": f"could not confine the process: {exc}"}))
        return
    conn.send_bytes(wire.dumps({"ready": applied}))
    harness.serve(conn, limits.output_chars)


# --- In the grader ---

PRELOAD = ("tensorflow", "IPython.core.interactiveshell", "autograder.harness",
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


def _forkserver():
    """The process pool's context: a forkserver that has imported TensorFlow and this
    package's sandbox side (never ``reference``), started once per grader process."""
    global _context
    with _context_lock:
        if _context is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            _context = multiprocessing.get_context("forkserver")
            # "__main__" first: children then skip re-importing the main script one by one.
            _context.set_forkserver_preload(["__main__", "autograder._preload"])
        return _context


def start_forkserver() -> None:
    """Start the forkserver now, so that its imports overlap with the caller's."""
    _forkserver()
    from multiprocessing import forkserver
    forkserver.ensure_running()


class Sandbox:
    """One sandboxed process at a time for one submission (restarted after a hang or
    a crash with :meth:`start`)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.process = None
        self.conn = None
        self.isolation: list = []

    def start(self) -> None:
        self.stop()
        ctx = _forkserver()
        here, there = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_child_main, args=(there, self.limits), daemon=True)
        self.process.start()
        there.close()
        self.conn = here
        reply = self._receive(120.0)
        if "refused" in reply:
            self.stop()
            raise Crashed(reply["refused"])
        self.isolation = list(reply.get("ready", []))

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its reply (plain data) for ``timeout`` seconds."""
        try:
            self.conn.send_bytes(wire.dumps(message))
        except (OSError, ValueError) as exc:
            self.stop()
            raise Crashed(f"the process is gone ({exc})") from None
        return self._receive(timeout)

    def _receive(self, timeout: float) -> dict:
        try:
            ready = self.conn.poll(timeout)
            if not ready:
                self.stop()
                raise Timeout(f"no answer within {timeout:g} s")
            reply = wire.loads(self.conn.recv_bytes(wire.MAX_MESSAGE_BYTES))
        except (EOFError, OSError) as exc:
            raise Crashed(self._death_reason(exc)) from None
        except wire.WireError as exc:
            self.stop()
            raise Crashed(f"the process sent something that is not plain data ({exc})") from None
        if not isinstance(reply, dict):
            self.stop()
            raise Crashed("the process sent an unexpected reply")
        return reply

    def _death_reason(self, exc) -> str:
        process = self.process
        if process is not None:
            process.join(5)
        code = process.exitcode if process is not None else None
        self.stop()
        if code is None:
            return f"the connection to the process broke ({type(exc).__name__})"
        if code < 0:
            name = signal.Signals(-code).name
            extra = " (likely the memory cap)" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") else ""
            return f"the process was killed by {name}{extra}"
        return f"the process exited with status {code} (sys.exit or os._exit in student code?)"

    def stop(self) -> None:
        """Kill the sandboxed process and everything it started."""
        process, self.process = self.process, None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if process is None:
            return
        if process.pid:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            process.kill()
            process.join(10)
            process.close()
        except (ValueError, AttributeError):  # never started, or already closed
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
