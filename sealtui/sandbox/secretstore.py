"""Secrets for `GetSecretValue` in the local KMS's database: versions, stages and the sealing of their values.

A part of `Storage` (`storage.py`), kept apart because secrets have their own life: each `put_secret` adds a
version that becomes `ACSCurrent`, the one before it `ACSPrevious`; values are sealed with the master key.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox.dbutil import OWNER, grant_row, utc_now
from sealtui.sandbox.models import SECRET_OPERATIONS

if TYPE_CHECKING:
    from sealtui.sandbox.masterkey import MasterKey

__all__ = ["SECRET_PREFIX", "SecretRecord", "SecretsMixin"]

_SECRET_RE = re.compile(r"^[A-Za-z0-9_/+=.@-]{1,192}$")
SECRET_PREFIX = "secret:"
"""Secrets share the `objects` table with keys: their ids are `secret:<name>`."""


@dataclass(frozen=True)
class SecretRecord:
    """One version of a secret, with the asking client key's permissions."""

    name: str
    version_id: str
    stages: tuple[str, ...]
    data: bytes
    data_type: str
    created: str
    permissions: frozenset[str]


class SecretsMixin:
    """The secret half of `Storage`, which provides `write`, `_query` and `master`."""

    if TYPE_CHECKING:

        @property
        def master(self) -> MasterKey: ...

        def write(self) -> AbstractContextManager[sqlite3.Cursor]: ...

        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def put_secret(self, name: str, value: bytes, data_type: str, grant_to: Sequence[str]) -> str:
        """Add a new version of a secret (creating it if needed); the new version is `ACSCurrent`."""
        if not _SECRET_RE.match(name):
            raise InvalidInputError(f"secret name {name!r} is not valid", fix="use 1-192 letters, digits and _/+=.@-")
        object_id = SECRET_PREFIX + name
        version_id = str(uuid.uuid4())
        version = {
            "id": version_id,
            "data": self.master.seal(value, f"{object_id}|{version_id}"),
            "type": data_type,
            "created": utc_now(),
        }
        with self.write() as cur:
            row = cur.execute("SELECT object FROM objects WHERE id = ?", (object_id,)).fetchone()
            if row is None:
                obj = {"kind": "secret", "name": name, "versions": [version]}
                cur.execute(
                    "INSERT INTO objects (id, kind, object, state, owner) VALUES (?, 'secret', ?, 'Active', ?)",
                    (object_id, json.dumps(obj), OWNER),
                )
            else:
                obj = json.loads(row[0])
                obj["versions"].append(version)
                cur.execute("UPDATE objects SET object = ? WHERE id = ?", (json.dumps(obj), object_id))
            for userid in grant_to:
                grant_row(cur, object_id, userid, SECRET_OPERATIONS)
        return version_id

    def secret_for(
        self, name: str, client_key_id: str, *, version_id: str = "", stage: str = ""
    ) -> SecretRecord | None:
        """A version of a secret (by id or stage; default `ACSCurrent`), or None if there is none."""
        object_id = SECRET_PREFIX + name
        rows = self._query(
            "SELECT o.object, r.permissions FROM objects o LEFT JOIN read_access r "
            "ON r.id = o.id AND r.userid = ? WHERE o.id = ? AND o.kind = 'secret'",
            (client_key_id, object_id),
        )
        if not rows:
            return None
        versions = json.loads(rows[0][0])["versions"]
        staged = {"ACSCurrent": versions[-1]["id"]}
        if len(versions) > 1:
            staged["ACSPrevious"] = versions[-2]["id"]
        wanted = version_id or staged.get(stage or "ACSCurrent", "")
        match = [v for v in versions if v["id"] == wanted]
        if not match:
            return None
        v = match[0]
        stages = tuple(s for s, vid in staged.items() if vid == v["id"])
        data = self.master.open(v["data"], f"{object_id}|{v['id']}")
        permissions = frozenset(json.loads(rows[0][1])) if rows[0][1] else frozenset()
        return SecretRecord(name, v["id"], stages, data, v["type"], v["created"], permissions)

    def secret_names(self) -> list[str]:
        """Every secret name."""
        rows = self._query("SELECT id FROM objects WHERE kind = 'secret' ORDER BY id")
        return [r[0][len(SECRET_PREFIX) :] for r in rows]
