"""Writing files the way sealtui promises: new files only, all or nothing, plaintext with mode 0600."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from sealtui.core.errors import InvalidInputError


def write_new_file(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to a new file with `mode`, all or nothing; never overwrite an existing file.

    The data goes to a temporary file in the same directory first and is hard-linked into place, so a
    failure half-way (or a file that appeared meanwhile) never leaves a partial or clobbered file.
    """
    path = Path(path).expanduser()
    exists = InvalidInputError(f"{path} already exists", fix="choose another file name; sealtui never overwrites")
    if path.exists():
        raise exists
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
        raise exists from None
    except OSError as e:
        raise InvalidInputError(f"{path}: {e.strerror}", fix="check the directory and its permissions") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def write_private_file(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write plaintext (or a private key) to a new file with mode 0600; never overwrite."""
    return write_new_file(path, data, mode=0o600)
