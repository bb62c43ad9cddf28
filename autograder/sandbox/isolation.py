"""The Linux mechanics of confining a sandboxed process, by allowlist.

A sandbox gets new namespaces (mount, PID, network, IPC, UTS, and a user namespace when
the grader is not root) and a root filesystem built for it on a tmpfs, holding only:

- read-only: the Python installation the grader runs from (its prefixes and
  site-packages; for an editable install, the package folder alone) and the system
  folders Python and TensorFlow load libraries from (``/usr``, ``/lib*``, a few files
  of ``/etc``);
- a ``/proc`` of its own PID namespace, and a ``/dev`` with ``null``, ``zero``,
  ``random`` and ``urandom``;
- a private, size-capped ``/tmp``: the only writable place.

Its ``/proc`` hides the host-wide files that tell one student about another or about
the host (``/proc/keys``, ``/proc/key-users``, ``/proc/timer_list``, ...), as Docker
masks them. It then runs under a uid of its own, with no capabilities and no way to
gain any, in a fresh and empty session keyring, and under a system call filter that
refuses, with ``EPERM``, the kernel interfaces a notebook never needs (keyrings,
tracing, BPF, performance counters, ``userfaultfd``, ``io_uring``, mounts and
namespaces, modules, clocks; :data:`REFUSED_CALLS`). Nothing else of the host is
mounted, so nothing else can be named, whatever the grader's current folder and
wherever the kit is installed. Everything here runs in the sandboxed process itself,
before any student code.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import site
import sys

import autograder

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24
PR_SET_SECUREBITS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 28, 47, 4
# Never regain capabilities: no root fix-ups on setuid or exec, locked.
SECUREBITS_LOCKED_DOWN = 0b101111
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1
CLONE_NEWCGROUP = 0x02000000

# Sandboxes run as UID_BASE + the host pid of their keeper process: unique among live
# sandboxes of every grader on the machine, and far above any real account's uid.
UID_BASE = 2_000_000_000

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                "/etc/nsswitch.conf", "/etc/localtime", "/etc/hosts")
DEVICES = ("null", "zero", "random", "urandom")
STAGE = "/sys"  # any folder that exists: the new root is built on a tmpfs mounted here

# Host-wide /proc files and folders masked as Docker masks them (plus /proc/key-users):
# they show other users' keys and key counts, every task's timers and scheduling, the
# kernel's memory. Files read as empty, folders as empty and read-only.
MASKED_PROC_FILES = ("keys", "key-users", "timer_list", "sched_debug", "kcore",
                     "latency_stats", "timer_stats")
MASKED_PROC_FOLDERS = ("acpi", "asound", "scsi")
READ_ONLY_PROC = ("bus", "fs", "irq", "sys", "sysrq-trigger")

# System calls refused with EPERM (the filter allows everything else). The list follows
# what Docker's default seccomp profile does not allow an unprivileged container.
REFUSED_CALLS = (
    # kernel keyrings: shared per user and per session, and they outlive the process
    "add_key", "keyctl", "request_key",
    # reaching into other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel programs, performance counters, page-fault handling, asynchronous rings
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init", "lookup_dcookie",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
    "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_by_handle_at",
    # the machine itself: modules, kexec, reboot, swap, clocks, quotas, logs, accounting
    "init_module", "finit_module", "delete_module", "create_module", "get_kernel_syms",
    "query_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "clock_adjtime", "clock_settime", "settimeofday", "stime", "acct", "quotactl",
    "quotactl_fd", "syslog", "sysfs", "_sysctl", "uselib", "ustat", "vhangup",
    "nfsservctl", "iopl", "ioperm", "vm86", "vm86old",
)
# clone() may not make namespaces either. clone3 passes its flags in memory, out of a
# filter's reach: it is answered ENOSYS, and the C library falls back to clone().
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                   CLONE_NEWNET, CLONE_NEWCGROUP)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype, flags, data=None) -> None:
    enc = [x.encode() if isinstance(x, str) else x for x in (source, target, fstype, data)]
    _check(_libc().mount(enc[0], enc[1], enc[2], flags, enc[3]), f"mount {target}")


def unshare(flags: int) -> None:
    _check(_libc().unshare(flags), "unshare")


def prctl(option: int, arg: int) -> int:
    return _libc().prctl(option, arg, 0, 0, 0)


def python_paths() -> list:
    """What the sandbox needs of the Python installation: its prefixes, its
    site-packages, and this package's own folder (an editable install keeps it in a
    course checkout, whose other folders must stay out of reach)."""
    package = os.path.dirname(os.path.abspath(autograder.__file__))
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, package, *site.getsitepackages()]
    return [p for p in paths if os.path.exists(p)]


def allowed_paths() -> list:
    """Every host path bound read-only into a sandbox (real paths, nested ones dropped)."""
    paths = sorted({os.path.realpath(p) for p in python_paths()} | set(SYSTEM_PATHS))
    kept = []
    for path in paths:
        if os.path.lexists(path) and not any(path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _mount_flags(path: str) -> int:
    """The flags a read-only remount must keep (a user namespace may not drop them)."""
    flags = os.statvfs(path).f_flag
    kept = MS_NOSUID | MS_NODEV | MS_NOEXEC
    atime = {1024: 1024, 2048: 2048, 4096: 1 << 21}  # ST_NOATIME, ST_NODIRATIME, ST_RELATIME
    return (flags & kept) | sum(ms for st, ms in atime.items() if flags & st)


def _bind_read_only(source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _mount_flags(target))


def _place(path: str, stage: str) -> None:
    """Put one allowed host path into the new root: a symlink as the same symlink
    (``/lib`` -> ``usr/lib``), anything else as a read-only bind mount."""
    target = stage + path
    if os.path.islink(path) and os.path.dirname(path) == "/":
        os.symlink(os.readlink(path), target)
    else:
        _bind_read_only(path, target)


def _make_dev(stage: str) -> None:
    dev = stage + "/dev"
    os.makedirs(dev)
    for name in DEVICES:
        open(f"{dev}/{name}", "a").close()
        mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.makedirs(dev + "/shm")
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=16m")


def _write_accounts(stage: str, uid: int) -> None:
    os.makedirs(stage + "/etc", exist_ok=True)
    with open(stage + "/etc/passwd", "w") as passwd:
        passwd.write(f"root:x:0:0::/:/bin/false\nstudent:x:{uid}:{uid}::/tmp:/bin/false\n")
    with open(stage + "/etc/group", "w") as group:
        group.write(f"root:x:0:\nstudent:x:{uid}:\n")


def _mask_proc(proc: str) -> None:
    """Hide the host-wide files of the ``/proc`` mounted at ``proc`` (see
    :data:`MASKED_PROC_FILES`); those this kernel does not have are skipped."""
    for name in MASKED_PROC_FILES:
        if os.path.exists(f"{proc}/{name}"):
            mount("/dev/null", f"{proc}/{name}", None, MS_BIND)
    for name in MASKED_PROC_FOLDERS:
        if os.path.isdir(f"{proc}/{name}"):
            mount("tmpfs", f"{proc}/{name}", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=0")
    for name in READ_ONLY_PROC:
        path = f"{proc}/{name}"
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def build_root(owner: int, tmp_mb: int, mask_proc: bool = True) -> None:
    """Replace this mount namespace's root with one built by allowlist. ``owner`` is
    the uid that will own ``/tmp`` (as seen from inside the sandbox); ``mask_proc``
    hides the host-wide files of its ``/proc``."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
    # /tmp first: a Python installation under /tmp (a CI checkout's venv) is then bound
    # inside the private /tmp instead of being hidden by it.
    os.makedirs(STAGE + "/tmp")
    mount("tmpfs", STAGE + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=700,uid={owner},gid={owner},size={tmp_mb}m")
    for path in allowed_paths():
        _place(path, STAGE)
    _write_accounts(STAGE, owner)
    _make_dev(STAGE)
    os.makedirs(STAGE + "/proc")
    mount("proc", STAGE + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if mask_proc:
        _mask_proc(STAGE + "/proc")
    os.chdir(STAGE)
    libc = _libc()
    # pivot_root(".", "."): the old root ends up stacked on the new one, then detached.
    _check(libc.syscall(SYS_PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def map_user(outer_uid: int, outer_gid: int) -> None:
    """Map uid and gid 0 of the user namespace just made to the grader's own ids (the
    only mapping an unprivileged process may write for itself)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {outer_uid} 1\n"),
                       ("gid_map", f"0 {outer_gid} 1\n")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def drop_capabilities() -> None:
    """Give up every capability for good (for the user-namespace route, where the
    process is uid 0 of its namespace)."""
    libc = _libc()
    _check(prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN), "securebits")
    for cap in range(64):
        prctl(PR_CAPBSET_DROP, cap)  # EINVAL past the last capability is fine
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    _check(libc.syscall(SYS_CAPSET[platform.machine()], header, data), "capset")


def become(uid: int) -> None:
    """Switch from root to ``uid`` (group too), which also clears every capability."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def join_fresh_keyring() -> None:
    """Leave the inherited session keyring (the grader's login session's, with its keys)
    for a new, empty, anonymous one; before dropping privileges, so that it is not the
    sandbox's uid that owns it or is charged for it."""
    result = _libc().syscall(SYS_KEYCTL[platform.machine()], KEYCTL_JOIN_SESSION_KEYRING, None)
    if result < 0:
        number = ctypes.get_errno()
        raise OSError(number, f"join a session keyring: {os.strerror(number)}")


_filter = None


def prepare_filter():
    """Build the system call filter (:data:`REFUSED_CALLS`) once, in the forkserver: a
    sandbox then only loads it (about 1 ms instead of over 10 in a fresh child)."""
    global _filter
    if _filter is None:
        import pyseccomp as seccomp
        refuse = seccomp.ERRNO(errno.EPERM)
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in REFUSED_CALLS:
            number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            if number >= 0:  # a negative number: not a system call of this architecture
                rules.add_rule(refuse, number)
        for flag in NAMESPACE_FLAGS:
            rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        _filter = rules
    return _filter


def refuse_system_calls() -> None:
    """Load the system call filter (:data:`REFUSED_CALLS`) into this process and every
    process it starts. A refused call fails with ``EPERM`` in the caller, which goes on
    running. Needs no-new-privileges (or root)."""
    prepare_filter().load()


def can_make_user_namespace() -> bool:
    """Whether this (unprivileged) process may create a user namespace: tried in a
    throwaway child."""
    pid = os.fork()
    if pid == 0:
        try:
            unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
