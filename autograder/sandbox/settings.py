"""What a sandbox may use (:class:`Limits`), the names of its protections, which of them a
sandbox gets (:func:`protections`), and how this machine isolates sandboxes
(:func:`resolve_route`, :func:`missing_isolation`).

The protection names are what result.json lists as applied; the environment variables named
here are the only ones of the grader's that reach the forkserver and a sandbox.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from autograder.sandbox import isolation

# Protection names: what result.json lists, and what the kit's tests switch off
# (:class:`Protections`) to show that their attack then succeeds.
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


@dataclass(frozen=True)
class Protections:
    """How a sandbox is isolated: its ``route`` ("root", "user namespace" or "none",
    :func:`resolve_route`) and the protections left ``off``, by name."""

    route: str
    off: frozenset = frozenset()


def protections() -> Protections:
    """What every sandbox gets: every protection, on the best route this machine has.
    Nothing in the kit asks for less; the kit's tests replace this function for the
    length of a test (``tests/probes.py``: ``switched_off``) to show that each attack
    succeeds once its protection is off."""
    return Protections(resolve_route())


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


_user_namespaces_work = None


def resolve_route() -> str:
    """How sandboxes are isolated here: "root" (namespaces and a uid per sandbox),
    "user namespace" (the same namespaces without root) or "none"."""
    global _user_namespaces_work
    if os.geteuid() == 0:
        return "root"
    if _user_namespaces_work is None:
        _user_namespaces_work = os.geteuid() == 0 or isolation.can_make_user_namespace()
    return "user namespace" if _user_namespaces_work else "none"
