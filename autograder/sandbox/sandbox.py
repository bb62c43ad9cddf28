"""The isolated process student code runs in, and its limits.

A forkserver imports TensorFlow once (and runs no TF op), then forks a fresh process
per submission in a few tens of milliseconds. That process (the *keeper*) joins the
sandbox's cgroup, makes new namespaces and forks once more: the child is process 1 of
its own PID namespace, so when it ends, every process it started ends with it. The
child confines itself (``isolation``) before any student code runs:

- a root filesystem built by allowlist (the Python installation and system libraries,
  read-only; its own ``/proc`` with the host-wide files masked, a minimal ``/dev``, a
  private ``/tmp``), no network, its own IPC namespace, a uid no other sandbox has, no
  capabilities, no new privileges;
- an environment built by allowlist (:func:`sandbox_environment`): nothing of the
  grader's environment but a few named variables; the forkserver itself starts from
  such an allowlist (:func:`forkserver_environment`), so the grader's variables are in
  no process it forks, not even in the memory of one;
- a fresh, empty session keyring, and a system call filter that refuses with ``EPERM``
  what a notebook never needs (keyrings, tracing, BPF, mounts and namespaces, ...);
- cgroup caps on memory and processes, whose OOM kills are counted (so a death is
  recorded with its real cause), and rlimits on address space and file sizes;
- no descriptor but its end of the channel; stdin/stdout/stderr on /dev/null (what
  student code prints is captured by the harness, bounded).

As root, all of this applies. Without root, a user namespace gives the same
namespaces and filesystem (all sandboxes then share the grader's uid); where neither is
possible, only the process, time, memory and data-only protections remain, and
:func:`missing_isolation` says so. The grader talks to the child over a socket with
framed plain data (``channel``, ``wire``), never blocking without a deadline.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from autograder.sandbox import cgroups, isolation
from autograder.boundary import channel, wire

# Protection names: what result.json lists, and what tests may switch off with
# ``Limits(disable=...)`` to show that their attack then succeeds.
SESSION, NETWORK, FILESYSTEM, PROCESSES = "own session", "no network", "own filesystem", "own processes"
IPC, USER, CAPABILITIES, CGROUP = "own IPC", "own user id", "no capabilities", "cgroup caps"
MEMORY, DESCRIPTORS = "memory cap", "no inherited descriptors"
ENVIRONMENT, KEYRING, SYSCALLS = "clean environment", "own keyring", "system call filter"
PROC_MASK = "masked /proc"

# What a sandbox keeps of the forkserver's environment (itself an allowlist of the
# grader's, see FORKSERVER_VARIABLES): locale and TensorFlow's own settings. Everything
# else it gets is set by the sandbox (sandbox_environment).
KEPT_VARIABLES = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ",
                  "TF_CPP_MAX_VLOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTEROP_THREADS",
                  "TF_NUM_INTRAOP_THREADS", "TF_DETERMINISTIC_OPS", "TF_XLA_FLAGS",
                  "CUDA_VISIBLE_DEVICES", "KERAS_BACKEND", "OMP_NUM_THREADS")
# What the forkserver (and so the reference process) gets of the grader's environment.
FORKSERVER_VARIABLES = KEPT_VARIABLES + ("PATH", "HOME", "PYTHONPATH", "LD_LIBRARY_PATH",
                                         "TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")


@dataclass(frozen=True)
class Limits:
    """What a submission may use. Times are in seconds."""

    memory_mb: int = 2048  # cgroup cap, and address space on top of what TensorFlow maps
    processes: int = 512  # processes and threads, TensorFlow's own included
    tmp_mb: int = 256  # the private /tmp (it counts against the memory cap too)
    output_chars: int = 20_000  # what is kept of the student's printing, per reply
    cell_seconds: float = 15.0  # for each top-level cell (definitions; demos are skipped)
    time_scale: float = 1.0  # multiplies every exercise's own limit
    # the whole submission; None: one pass of its cells plus every exercise's limit
    submission_seconds: float | None = None
    file_mb: int = 64
    route: str = "auto"  # "auto"; tests also take "user namespace" and "none" as root
    disable: frozenset = frozenset()  # protections switched off (tests only)


class Timeout(Exception):
    """The sandboxed process did not answer in time (it has been killed)."""


class Crashed(Exception):
    """The sandboxed process ended, or sent something that is not plain data."""


class Unavailable(Exception):
    """No sandbox could be started (a broken interpreter, a refused confinement, no
    process or cgroup to be had): a fault of the grader or its machine, never of a
    submission, since no student code runs in a process before it is ready."""


def missing_isolation() -> str:
    """'' where this grader can isolate submissions (root, or unprivileged user
    namespaces); otherwise what is missing, for a warning the instructor sees."""
    if os.geteuid() == 0 or isolation.can_make_user_namespace():
        return ""
    return ("grading is NOT isolated: this is not root and user namespaces are not "
            "allowed here, so submissions can read the host's files, reach the network "
            "and see each other's processes. Run tfgrade as root, or allow unprivileged "
            "user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            "user.max_user_namespaces > 0).")


# --- Inside the sandboxed process ---

def _address_space_now() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


_user_namespaces_work = None


def resolve_route(limits: Limits) -> str:
    """How sandboxes are isolated here: "root" (namespaces and a uid per sandbox),
    "user namespace" (the same namespaces without root) or "none"."""
    global _user_namespaces_work
    if limits.route == "none":
        return "none"
    if os.geteuid() == 0 and limits.route != "user namespace":
        return "root"
    if _user_namespaces_work is None:
        _user_namespaces_work = os.geteuid() == 0 or isolation.can_make_user_namespace()
    return "user namespace" if _user_namespaces_work else "none"


# Which namespace gives which protection (the mount namespace's is only counted once
# the allowlisted root is built in it, by ``confine``).
NAMESPACES = ((NETWORK, isolation.CLONE_NEWNET), (FILESYSTEM, isolation.CLONE_NEWNS),
              (PROCESSES, isolation.CLONE_NEWPID), (IPC, isolation.CLONE_NEWIPC))


def _close_descriptors(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)


def _child_main(sock, limits: Limits, route: str, cgroup, scratch, environment) -> None:
    """The keeper: joins the cgroup, makes the namespaces, forks the sandbox proper
    (process 1 of its PID namespace) and ends as it ends, with the same status."""
    fd = sock.detach()
    os.setsid()
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    applied = [SESSION]
    try:
        if cgroup is not None:
            cgroup.join()
            applied.append(CGROUP)
        if route != "none":
            applied += _enter_namespaces(limits, route)
    except BaseException as exc:  # noqa: BLE001 - report, do not run unconfined
        _send_refusal(fd, f"could not confine the process: {exc}")
        os._exit(1)
    uid = isolation.UID_BASE + os.getpid()
    pid = os.fork()
    if pid == 0:
        _sandbox_main(fd, limits, route, applied, uid, scratch, environment)
    os.close(fd)
    _close_descriptors(2)
    try:  # the kernel's OOM killer should pick the student's process, not this one
        with open("/proc/self/oom_score_adj", "w") as adj:
            adj.write("-1000")
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


def _enter_namespaces(limits: Limits, route: str) -> list:
    """New namespaces for the keeper's next child; returns the protections they give."""
    wanted = [(name, flag) for name, flag in NAMESPACES if name not in limits.disable]
    flags = isolation.CLONE_NEWUTS
    for _, flag in wanted:
        flags |= flag
    if route == "root":
        isolation.unshare(flags)
    else:
        uid, gid = os.geteuid(), os.getegid()
        isolation.unshare(flags | isolation.CLONE_NEWUSER)
        isolation.map_user(uid, gid)
    return [name for name, _ in wanted if name != FILESYSTEM]


def _send_refusal(fd: int, reason: str) -> None:
    try:
        channel.blocking_endpoint(fd)[1](wire.dumps({"refused": reason}))
    except OSError:
        pass


def _sandbox_main(fd: int, limits: Limits, route: str, applied: list, uid: int, scratch,
                  environment) -> None:
    """Process 1 of the sandbox: confine, then serve the grader until it hangs up."""
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        applied = applied + confine(limits, route, fd, uid, CGROUP in applied, scratch, environment)
    except BaseException as exc:  # noqa: BLE001 - report, do not run unconfined
        _send_refusal(fd, f"could not confine the process: {exc}")
        os._exit(1)
    from autograder.sandbox import harness  # preloaded by the forkserver
    receive, send = channel.blocking_endpoint(fd)
    send(wire.dumps({"ready": applied}))
    try:
        harness.serve(receive, send, limits.output_chars)
    finally:
        os._exit(0)


SHARED_UID = 65534  # nobody: what every sandbox ran as before uids were per sandbox


def confine(limits: Limits, route: str, fd: int, uid: int, in_cgroup: bool, scratch=None,
            environment=None) -> list:
    """Apply every protection this machine allows inside the sandbox's namespaces;
    returns the names of those applied. ``scratch`` is the host folder the grader made
    for a sandbox without a filesystem of its own (None with one: its ``/tmp``);
    ``environment`` is the grader's, passed only when the clean environment is switched
    off."""
    applied = []
    if KEYRING not in limits.disable:
        isolation.join_fresh_keyring()
        applied.append(KEYRING)
    # With a cgroup, the cgroup is the memory cap (it counts what is used, and names
    # itself when it kills); the address-space cap then only turns absurd single
    # allocations into a MemoryError. Without one, the address space is the cap.
    headroom = limits.memory_mb * (4 if in_cgroup else 1)
    cap = _address_space_now() + headroom * 2**20
    user = SHARED_UID if USER in limits.disable else uid
    if route != "none" and FILESYSTEM not in limits.disable:
        mask = PROC_MASK not in limits.disable
        isolation.build_root(0 if route == "user namespace" else user, limits.tmp_mb, mask)
        applied += [FILESYSTEM, PROC_MASK] if mask else [FILESYSTEM]
        scratch = "/tmp"
    if route == "root" and scratch != "/tmp":
        os.chown(scratch, user, user)
    if route == "user namespace":
        isolation.drop_capabilities()
        applied.append(CAPABILITIES)
    elif route == "root":
        isolation.become(user)
        applied += [CAPABILITIES] if USER in limits.disable else [USER, CAPABILITIES]
    os.chdir(scratch)
    _set_rlimits(limits, cap, per_uid=USER in applied)
    applied.append(MEMORY)
    isolation.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1)
    _set_environment(sandbox_environment(scratch), environment)
    if ENVIRONMENT not in limits.disable:
        applied.append(ENVIRONMENT)
    if DESCRIPTORS not in limits.disable:
        _close_descriptors(fd)
        applied.append(DESCRIPTORS)
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    os.close(devnull)
    if SYSCALLS not in limits.disable:
        isolation.refuse_system_calls()
        applied.append(SYSCALLS)
    one_tensorflow_thread()
    return applied


def _set_rlimits(limits: Limits, address_space: int, per_uid: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if per_uid:  # counted per uid: only safe with a uid of its own
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)


def sandbox_environment(scratch: str) -> dict:
    """The whole environment student code runs with: the forkserver's locale and
    TensorFlow variables (:data:`KEPT_VARIABLES`) and what the sandbox sets itself."""
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    python = os.path.dirname(sys.executable)
    return {**kept, "PATH": f"{python}:/usr/local/bin:/usr/bin:/bin", "HOME": scratch,
            "TMPDIR": scratch, "MPLCONFIGDIR": scratch, "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "3", "NBGRADER_EXECUTION": "autograde"}


def _set_environment(clean: dict, grader=None) -> None:
    """Make ``clean`` (plus the ``grader``'s environment, when the protection is off)
    this process's whole environment: ``os.environ``, the C library's, and the
    interpreter's start-up copy (``posix.environ``)."""
    import posix
    os.environ.clear()
    posix.environ.clear()
    os.environ.update({**(grader or {}), **clean})


def one_tensorflow_thread() -> None:
    """Run this process's TensorFlow on one thread (before its first operation). Each
    grading thread keeps a sandbox and a reference process busy in turn, one core's
    worth: TensorFlow's own thread pools would only contend with the other grading
    threads' processes (their idle threads spin) and slow every small operation."""
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


# --- In the grader ---

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


# The forkserver reads this variable once (``_preload``) and removes it.
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


def _remove_scratch(folder: str) -> None:
    """Remove a sandbox's host scratch folder, once its processes are gone."""
    shutil.rmtree(folder, ignore_errors=True)


class Sandbox:
    """One sandboxed process at a time for one submission (restarted after a hang or
    a crash with :meth:`start`)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.route = resolve_route(limits)
        self.process = None
        self.sock = None
        self.cgroup = None
        self.scratch = None  # a host folder, for a sandbox without a filesystem of its own
        self.isolation: list = []
        self.ready = False  # the process said it is confined and waits for cells

    def start(self) -> None:
        """A fresh, confined process, ready for cells; raises :class:`Unavailable` when
        none can be had."""
        self.stop()
        self.ready = False
        try:
            reply = self._launch()
        except (Crashed, Timeout, OSError) as exc:
            self.stop()
            raise Unavailable(str(exc) or type(exc).__name__) from exc
        if "refused" in reply:
            self.stop()
            raise Unavailable(str(reply["refused"]))
        self.isolation = [str(name) for name in reply.get("ready", [])]
        self.ready = True

    def _launch(self) -> dict:
        ctx = process_context()
        here, there = socket.socketpair()
        self.sock = here
        if CGROUP not in self.limits.disable:
            self.cgroup = cgroups.create(self.limits.memory_mb * 2**20, self.limits.processes)
        if self.route == "none" or FILESYSTEM in self.limits.disable:
            self.scratch = tempfile.mkdtemp(prefix="tfkit-")
        grader = dict(os.environ) if ENVIRONMENT in self.limits.disable else None
        self.process = ctx.Process(target=_child_main, daemon=True,
                                   args=(there, self.limits, self.route, self.cgroup,
                                         self.scratch, grader))
        try:
            self.process.start()
        finally:
            there.close()
        here.setblocking(False)
        return self._receive(120.0)

    def request(self, message: dict, timeout: float, answer_call=None) -> dict:
        """Send one request and wait for its reply (plain data) for ``timeout`` seconds.
        Meanwhile, each ``{"op": "call"}`` message the process sends (a stand-in asking
        for the reference) is answered with ``answer_call(message)``, when given."""
        deadline = time.monotonic() + timeout
        self._send(message, timeout, deadline)
        while True:
            reply = self._receive(timeout, deadline)
            if answer_call is None or reply.get("op") != "call":
                return reply
            self._send(answer_call(reply), timeout, deadline)

    def _send(self, message: dict, timeout: float, deadline: float) -> None:
        try:
            channel.send(self.sock.fileno(), wire.dumps(message), deadline)
        except channel.ChannelTimeout:
            self.stop()
            raise Timeout(f"no answer within {timeout:g} s") from None
        except channel.ChannelError:
            raise Crashed(self._death_reason()) from None

    def _receive(self, timeout: float, deadline: float | None = None) -> dict:
        deadline = deadline or time.monotonic() + timeout
        try:
            reply = wire.loads(channel.receive(self.sock.fileno(), deadline, wire.MAX_MESSAGE_BYTES))
        except channel.ChannelTimeout:
            self.stop()
            raise Timeout(f"no answer within {timeout:g} s") from None
        except channel.ChannelClosed:
            raise Crashed(self._death_reason()) from None
        except (channel.ChannelError, wire.WireError) as exc:
            self.stop()
            raise Crashed(f"the process sent a malformed message and was stopped ({exc})") from None
        if not isinstance(reply, dict):
            self.stop()
            raise Crashed("the process sent a malformed message and was stopped (not a mapping)")
        return reply

    def _death_reason(self) -> str:
        """Why the sandboxed process ended, from its exit status and its cgroup."""
        process = self.process
        if process is not None:
            process.join(5)
        code = process.exitcode if process is not None else None
        oom_kills = self.cgroup.oom_kills() if self.cgroup is not None else 0
        self.stop()
        if oom_kills:
            return f"the process went over its memory cap ({self.limits.memory_mb} MB) and was killed"
        if code is None:
            return "the connection to the process broke"
        if not self.ready:  # no student code has run in it: the grader's side failed
            return f"the sandbox process ended before it was ready (exit status {code})"
        if code >= 0:
            return f"the process exited with status {code} (sys.exit or os._exit in student code?)"
        name = signal.Signals(-code).name
        if name == "SIGKILL":
            who = ("not for its memory: another process or the system sent it" if self.cgroup
                   else "by the system's out-of-memory killer or another process")
            return f"the process was killed by SIGKILL ({who})"
        if name == "SIGABRT":
            return "native code aborted the process (SIGABRT), as it does when an allocation fails"
        return f"the process was killed by {name}"

    def stop(self) -> None:
        """Kill the sandboxed process and everything it started, and wait until they
        are gone (the cgroup, where there is one, is only removed once empty)."""
        process, self.process = self.process, None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if process is not None:
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
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.scratch is not None:
            _remove_scratch(self.scratch)
            self.scratch = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()
