"""The sandboxed process: what runs in it before student code, and how it is confined.

A forkserver forks a fresh process per submission (the *keeper*). The keeper joins the
sandbox's cgroup, makes new namespaces and forks once more: the child is process 1 of its
own PID namespace, so when it ends, every process it started ends with it. The child
confines itself (:func:`confine`) before any student code runs:

- a root filesystem built by allowlist (the Python installation and system libraries,
  read-only; its own ``/proc`` with the host-wide files masked, a minimal ``/dev``, a
  private ``/tmp``), no network, its own IPC namespace, a uid no other sandbox has, no
  capabilities, no new privileges;
- an environment built by allowlist (:func:`sandbox_environment`): nothing of the
  grader's environment but a few named variables;
- a fresh, empty session keyring, and a system call filter that refuses with ``EPERM``
  what a notebook never needs (keyrings, tracing, BPF, mounts and namespaces, ...);
- cgroup caps on memory and processes, and rlimits on address space and file sizes;
- no descriptor but its end of the channel; stdin/stdout/stderr on /dev/null (what
  student code prints is captured by the harness, bounded).

As root, all of this applies. Without root, a user namespace gives the same namespaces
and filesystem (all sandboxes then share the grader's uid); where neither is possible,
only the process, time, memory and data-only protections remain. Then the child serves
the grader (``harness``) over its end of the channel until the grader hangs up.
"""
from __future__ import annotations

import os
import resource
import signal
import sys

from autograder.boundary import channel, wire
from autograder.sandbox import isolation
from autograder.sandbox.settings import (CAPABILITIES, CGROUP, DESCRIPTORS, ENVIRONMENT, FILESYSTEM,
                                         IPC, KEPT_VARIABLES, KEYRING, MEMORY, NETWORK, PROC_MASK,
                                         PROCESSES, SESSION, SYSCALLS, USER, Limits,
                                         Protections)


def _address_space_now() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


# Which namespace gives which protection (the mount namespace's is only counted once
# the allowlisted root is built in it, by ``confine``).
NAMESPACES = ((NETWORK, isolation.CLONE_NEWNET), (FILESYSTEM, isolation.CLONE_NEWNS),
              (PROCESSES, isolation.CLONE_NEWPID), (IPC, isolation.CLONE_NEWIPC))


def _close_descriptors(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)


def _child_main(sock, limits: Limits, protections: Protections, cgroup, scratch,
                environment) -> None:
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
        if protections.route != "none":
            applied += _enter_namespaces(protections)
    except BaseException as exc:  # noqa: BLE001 - report, do not run unconfined
        _send_refusal(fd, f"could not confine the process: {exc}")
        os._exit(1)
    uid = isolation.UID_BASE + os.getpid()
    pid = os.fork()
    if pid == 0:
        _sandbox_main(fd, limits, protections, applied, uid, scratch, environment)
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


def _enter_namespaces(protections: Protections) -> list:
    """New namespaces for the keeper's next child; returns the protections they give."""
    wanted = [(name, flag) for name, flag in NAMESPACES if name not in protections.off]
    flags = isolation.CLONE_NEWUTS
    for _, flag in wanted:
        flags |= flag
    if protections.route == "root":
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


def _sandbox_main(fd: int, limits: Limits, protections: Protections, applied: list, uid: int,
                  scratch, environment) -> None:
    """Process 1 of the sandbox: confine, then serve the grader until it hangs up."""
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        applied = applied + confine(limits, protections, fd, uid, CGROUP in applied, scratch,
                                    environment)
    except BaseException as exc:  # noqa: BLE001 - report, do not run unconfined
        _send_refusal(fd, f"could not confine the process: {exc}")
        os._exit(1)
    from autograder.sandbox import harness
    receive, send = channel.blocking_endpoint(fd)
    send(wire.dumps({"ready": applied}))
    try:
        harness.serve(receive, send, limits.output_chars)
    finally:
        os._exit(0)


SHARED_UID = 65534  # nobody: the uid sandboxes share when the per-sandbox uid is off


def confine(limits: Limits, protections: Protections, fd: int, uid: int, in_cgroup: bool,
            scratch=None, environment=None) -> list:
    """Apply every protection of ``protections`` inside the sandbox's namespaces;
    returns the names of those applied. ``scratch`` is the host folder the grader made
    for a sandbox without a filesystem of its own (None with one: its ``/tmp``);
    ``environment`` is the grader's, passed only when the clean environment is switched
    off."""
    applied, off, route = [], protections.off, protections.route
    if KEYRING not in off:
        isolation.join_fresh_keyring()
        applied.append(KEYRING)
    # With a cgroup, the cgroup is the memory cap (it counts what is used, and names
    # itself when it kills); the address-space cap then only turns absurd single
    # allocations into a MemoryError. Without one, the address space is the cap.
    headroom = limits.memory_mb * (4 if in_cgroup else 1)
    cap = _address_space_now() + headroom * 2**20
    user = SHARED_UID if USER in off else uid
    if route != "none" and FILESYSTEM not in off:
        mask = PROC_MASK not in off
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
        applied += [CAPABILITIES] if USER in off else [USER, CAPABILITIES]
    os.chdir(scratch)
    _set_rlimits(limits, cap, per_uid=USER in applied)
    applied.append(MEMORY)
    isolation.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1)
    _set_environment(sandbox_environment(scratch), environment)
    if ENVIRONMENT not in off:
        applied.append(ENVIRONMENT)
    if DESCRIPTORS not in off:
        _close_descriptors(fd)
        applied.append(DESCRIPTORS)
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    os.close(devnull)
    if SYSCALLS not in off:
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
