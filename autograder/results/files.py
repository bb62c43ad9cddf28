"""Writing a result's files safely: whole or absent, and only in its student's own folder.

Every file is written atomically (a temporary file in the same folder, then a rename), so an
interrupted run, even ``kill -9``, leaves each file either whole or absent, never
half-written. Files get the permissions the umask gives a new file (``0644`` under the usual
``022``, so teaching assistants in the group can read them), not ``mkstemp``'s ``0600``.
Every file lands in its student's own folder directly under the output folder, or nowhere.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutsideOutput(ValueError):
    """A path that would leave the output folder (or its student's own folder)."""


def _current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (changing it
    would race with threads creating files); else set and restored once, at import."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_current_umask()


def student_folder(out_dir: Path, student_id: str) -> Path:
    """``out_dir/student_id``, refused unless it is a direct child of ``out_dir`` that is
    not a symbolic link (so no id and no planted link can send a write elsewhere)."""
    out_dir = Path(out_dir)
    folder = out_dir / student_id
    if (not student_id or student_id in (".", "..") or Path(student_id).name != student_id
            or folder.is_symlink() or folder.resolve().parent != out_dir.resolve()):
        raise OutsideOutput(f"refusing to write outside {out_dir}: student id {student_id!r}")
    return folder


def write_atomic(path: Path, text: str | bytes, mode: int = FILE_MODE) -> None:
    """Write ``text`` (UTF-8, or bytes as they are) to ``path``, with permissions ``mode``,
    so that readers only ever see the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    binary = isinstance(text, bytes)
    try:
        os.fchmod(fd, mode)
        with (os.fdopen(fd, "wb") if binary else
              os.fdopen(fd, "w", encoding="utf-8", newline="")) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
