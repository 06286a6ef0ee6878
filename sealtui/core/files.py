"""Reading and writing user files the way sealtui promises.

Reading: one reader for every file a user names (`read_bytes`, `read_text`). It takes regular files (or standard
input, `-`) only, refuses a FIFO, a device or a socket at once (`/dev/zero` would never end), stops at
`MAX_FILE_BYTES`, and turns every failure into an `InvalidInputError` that names the file and the fix.

Writing, one rule for every file sealtui writes for a user (sealed strings, manifests, plaintext, private keys,
credential bundles, initdata TOML), from the CLI, the TUI and the Python API alike: the file is **new** (an
existing file is never overwritten), written whole or not at all, with mode **0600**. The one exception is a public
JWK (`write_public_file`), mode 0644: it is meant to be shared. A directory sealtui creates for them is mode 0700
(`ensure_directory`). sealtui's own state (the settings file, the local KMS's state directory) follows its own
rules, said where it is kept.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from sealtui.core.errors import InvalidInputError

__all__ = ["MAX_FILE_BYTES", "MAX_FILE_TEXT", "check_new_file", "ensure_directory", "read_bytes", "read_text",
           "write_new_file", "write_public_file"]

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest file sealtui reads: far above the 1 MiB a Kubernetes Secret can hold, far below what would
exhaust memory."""

MAX_FILE_TEXT = "64 MiB"
"""`MAX_FILE_BYTES` as said in help texts and messages."""

STDIN = "-"
"""The path that means standard input."""

_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"))


def read_bytes(path: str | os.PathLike[str], what: str, *,
               error: type[InvalidInputError] = InvalidInputError) -> bytes:
    """The bytes of the regular file `path` (`-`: standard input), at most `MAX_FILE_BYTES`.

    `what` names the file's role for the fix ("the public JWK"); `error` is the class raised (a subclass of
    `InvalidInputError`, e.g. `CredentialError`), always with a message naming the file and a fix.
    """
    if str(path) == STDIN:
        return _read_limited(sys.stdin.buffer, "standard input", what, error)
    p = Path(path).expanduser()
    try:
        _check_regular(p, os.stat(p).st_mode, what, error)
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO put there meanwhile must not block
    except FileNotFoundError:
        raise error(f"{p}: no such file", fix=f"check the path of {what}") from None
    except PermissionError:
        raise error(f"{p}: permission denied", fix="check the file's permissions") from None
    except OSError as e:
        raise error(f"{p}: {e.strerror}", fix=f"check the path of {what}") from None
    try:
        _check_regular(p, os.fstat(fd).st_mode, what, error)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return _read_limited(f, str(p), what, error)
    except OSError as e:
        raise error(f"{p}: {e.strerror}", fix=f"check the path of {what}") from None
    finally:
        os.close(fd)


def _check_regular(p: Path, mode: int, what: str, error: type[InvalidInputError]) -> None:
    if stat.S_ISDIR(mode):
        raise error(f"{p} is a directory", fix=f"give the file that holds {what}")
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise error(f"{p} is {kind}, not a regular file", fix=f"give the file that holds {what}")


def read_text(path: str | os.PathLike[str], what: str, *,
              error: type[InvalidInputError] = InvalidInputError) -> str:
    """The UTF-8 text of the regular file `path` (`-`: standard input); see `read_bytes`."""
    data = read_bytes(path, what, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        name = "standard input" if str(path) == STDIN else str(Path(path).expanduser())
        raise error(f"{name} is not UTF-8 text (byte {e.start})", fix=f"give the file that holds {what}") from None


def _read_limited(f: BinaryIO, name: str, what: str, error: type[InvalidInputError]) -> bytes:
    data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise error(f"{name} is larger than {MAX_FILE_TEXT}",
                    fix=f"give the file that holds {what} (a Kubernetes Secret holds at most 1 MiB)")
    return data


def write_new_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to the new file `path`, mode 0600, all or nothing; never overwrite an existing file."""
    return _write(Path(path).expanduser(), data, 0o600)


def write_public_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a public JWK to the new file `path`, mode 0644 (it is meant to be shared); never overwrite."""
    return _write(Path(path).expanduser(), data, 0o644)


def check_new_file(path: str | os.PathLike[str]) -> Path:
    """Raise the error writing would raise when `path` exists or its directory is not one: checked before work
    that costs something (a KMS call), so that its result is not lost."""
    path = Path(path).expanduser()
    if path.exists() or path.is_symlink():
        raise _exists(path)
    if path.parent.exists() and not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent} is not a directory", fix="choose another directory")
    return path


def ensure_directory(path: str | os.PathLike[str]) -> Path:
    """The directory `path`, created (mode 0700, with its parents) when it does not exist."""
    path = Path(path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise InvalidInputError(f"{path} is not a directory", fix="choose another directory")
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:  # made meanwhile
        if not path.is_dir():
            raise InvalidInputError(f"{path} is not a directory", fix="choose another directory") from None
    except OSError as e:
        raise InvalidInputError(f"cannot create the directory {path} ({e.strerror})",
                                fix="check the path and the permissions of its parent") from None
    return path


def _exists(path: Path) -> InvalidInputError:
    return InvalidInputError(f"{path} already exists", fix="choose another file name; sealtui never overwrites")


def _write(path: Path, data: bytes, mode: int) -> Path:
    """The data goes to a temporary file in the same directory first and is hard-linked into place, so a failure
    half-way (or a file that appeared meanwhile) never leaves a partial or clobbered file."""
    if path.exists() or path.is_symlink():
        raise _exists(path)
    import tempfile  # here, not at the top: it imports shutil, random, bz2, lzma (~4 ms of every command's start)

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise InvalidInputError(f"{path}: cannot write there ({e.strerror})",
                                fix="check the directory and its permissions") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as e:
        raise InvalidInputError(f"{path}: {e.strerror}", fix="check the directory and its permissions") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path
