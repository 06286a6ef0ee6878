"""Private files for the sandbox: every file it writes is mode 0600 and every directory 0700.

Writes are durable (fsync of the file and of its directory) because the sandbox promises that nothing it
acknowledged is lost if it is killed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["make_private_dir", "write_private", "write_private_atomic"]


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) and make it mode 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write a new file with mode 0600, refusing to overwrite, and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but a stricter one must not narrow it unnoticed
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def write_private_atomic(path: Path, data: bytes) -> None:
    """Replace `path` atomically with a new 0600 file holding `data` (write a temporary file, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    write_private(tmp, data)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
