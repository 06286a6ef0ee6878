"""Small pieces the local KMS's storage modules share.

Above all what a SQLite failure means to its user: one `StorageError` with a message that names the database
and says what to do (a full disk, a damaged file, a read-only directory), never a raw sqlite3 traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sealtui.core.errors import SealtuiError

__all__ = ["OWNER", "StorageError", "grant_row", "storage_error", "utc_now"]

OWNER = "admin"
"""Owner of everything created through the admin API (the local operator)."""


class StorageError(SealtuiError):
    """The local KMS instance's database could not be read or written (full disk, damaged file, …)."""

    exit_code = 5


def storage_error(path: Path, err: sqlite3.Error) -> StorageError:
    """A `StorageError` naming the database and the fix for what SQLite reported."""
    code = getattr(err, "sqlite_errorcode", 0) & 0xFF
    if code == 13:  # SQLITE_FULL
        return StorageError(f"cannot write {path}: the disk is full", fix="free some disk space and try again")
    if code in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
        return StorageError(
            f"{path} is damaged ({err})",
            fix="restore the state directory from a backup, or create a new instance in another directory "
            "with `sealtui sandbox init --root-dir DIR`",
        )
    if code == 10:  # SQLITE_IOERR
        return StorageError(
            f"cannot read or write {path}: {err}",
            fix="check the disk holding it (full, read-only, a file size limit)",
        )
    if code in (3, 8, 14, 23):  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_AUTH
        return StorageError(f"cannot open or write {path}: {err}", fix="check the permissions of the state directory")
    if code in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED
        return StorageError(f"{path} stayed locked by another process: {err}", fix="try again in a moment")
    return StorageError(f"{path}: {err}", fix="check the state directory of the local KMS instance")


def grant_row(cur: sqlite3.Cursor, object_id: str, userid: str, ops: Sequence[str]) -> None:
    """Add `ops` to what `userid` may do on `object_id` (inside a write transaction)."""
    row = cur.execute("SELECT permissions FROM read_access WHERE id = ? AND userid = ?", (object_id, userid)).fetchone()
    merged = sorted(set(json.loads(row[0]) if row else ()) | set(ops))
    cur.execute(
        "INSERT OR REPLACE INTO read_access (id, userid, permissions) VALUES (?, ?, ?)",
        (object_id, userid, json.dumps(merged)),
    )


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
