"""The sandbox's state: one SQLite database under the root directory (DESIGN §5).

Tables:
- `objects (id, kind, object, state, owner)`: every managed object; `kind` is `key`, `secret` or
  `client_key`, `object` its JSON. Key material and secret values inside it are sealed with the master key.
- `read_access (id, userid, permissions)`: which client key (`userid`) may run which operations (a JSON list
  of API names) on which object. No row means no access: the server answers 403, never a silent success.
- `aliases (alias, key_id)`, `key_versions (version_id, key_id)`, `meta (name, value)`.

Durability: WAL with `synchronous=FULL`, so a commit is on disk before it is acknowledged; key material is
written once and never changed (only `state` is), so a ciphertext made under a key stays decryptable. Readers
(the server) query per request and so see what another process (the CLI) committed a moment ago.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.masterkey import MasterKey
from sealtui.sandbox.models import KEY_OPERATIONS, KEY_SPECS, KEY_STATES, SECRET_OPERATIONS, KeyInfo

__all__ = ["DB_NAME", "KeyRecord", "SecretRecord", "Storage"]

DB_NAME = "sandbox.db"
OWNER = "admin"
"""Owner of everything created through the admin API (the local operator)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, object TEXT NOT NULL, state TEXT NOT NULL, owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS read_access (
    id TEXT NOT NULL, userid TEXT NOT NULL, permissions TEXT NOT NULL, PRIMARY KEY (id, userid));
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, key_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS key_versions (version_id TEXT PRIMARY KEY, key_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_ALIAS_RE = re.compile(r"^alias/[A-Za-z0-9_/-]{1,249}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_/+=.@-]{1,192}$")
_SECRET_PREFIX = "secret:"


@dataclass(frozen=True)
class KeyRecord:
    """A key as the server sees it for one client key: material unsealed, permissions looked up."""

    key_id: str
    spec: str
    state: str
    version_id: str
    material: bytes
    """32 raw bytes for `Aliyun_AES_256`; PKCS#8 DER for `EC_P256`."""
    permissions: frozenset[str]
    """The operations the asking client key may run on this key (empty: none)."""


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


class Storage:
    """A connection to a sandbox database. Thread-safe (one connection behind a lock)."""

    def __init__(self, root_dir: Path, *, create: bool = False) -> None:
        self.root_dir = Path(root_dir)
        self.path = Layout(self.root_dir).database
        if create:
            # Create the file ourselves so that it (and the -wal/-shm files SQLite derives from it) is 0600.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            self.master = MasterKey.create(self.root_dir)
        elif not self.path.is_file():
            raise InvalidInputError(
                f"{self.root_dir} holds no sandbox instance (no {DB_NAME})",
                fix=f"run `sealtui sandbox init --root-dir {self.root_dir}` first, or give the right --root-dir",
            )
        else:
            self.master = MasterKey.load(self.root_dir)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        if create:
            with self.write() as cur:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction, committed (and fsynced) on success, rolled back on error."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # meta

    def get_meta(self, name: str) -> str | None:
        """A value of the `meta` table (e.g. `kms_instance_id`)."""
        rows = self._query("SELECT value FROM meta WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, name: str, value: str) -> None:
        """Set a value of the `meta` table."""
        with self.write() as cur:
            cur.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    # client keys

    def add_client_key(self, key_id: str, public_key_pem: bytes) -> bool:
        """Register a client key's public key. Returns False if it was already registered with this key."""
        existing = self.client_public_key(key_id)
        if existing is not None:
            if existing.strip() != public_key_pem.strip():
                raise InvalidInputError(
                    f"client key {key_id} is already registered with another public key",
                    fix="a client key id names one key pair; issue a new client key instead",
                )
            return False
        obj = json.dumps({"kind": "client_key", "public_key": public_key_pem.decode("ascii")})
        with self.write() as cur:
            cur.execute(
                "INSERT INTO objects (id, kind, object, state, owner) VALUES (?, 'client_key', ?, 'Active', ?)",
                (key_id, obj, OWNER),
            )
        return True

    def client_public_key(self, key_id: str) -> bytes | None:
        """The PEM public key of a registered client key, or None."""
        rows = self._query("SELECT object FROM objects WHERE id = ? AND kind = 'client_key'", (key_id,))
        return json.loads(rows[0][0])["public_key"].encode("ascii") if rows else None

    def client_key_ids(self) -> list[str]:
        """Every registered client key id."""
        return [r[0] for r in self._query("SELECT id FROM objects WHERE kind = 'client_key' ORDER BY id")]

    # keys

    def create_key(
        self, spec: str, material: bytes, *, alias: str | None, state: str, grant_to: Sequence[str]
    ) -> KeyInfo:
        """Store a new key (material sealed with the master key) and grant it to `grant_to`."""
        if spec not in KEY_SPECS:
            raise InvalidInputError(f"unknown key spec {spec!r}", fix=f"use one of {', '.join(KEY_SPECS)}")
        _check_state(state)
        if alias is not None:
            _check_alias(alias)
        key_id = "key-" + uuid.uuid4().hex[:24]
        version_id = str(uuid.uuid4())
        sealed = self.master.seal(material, f"{key_id}|{version_id}")
        created = _utc_now()
        obj = json.dumps(
            {"kind": "key", "spec": spec, "version_id": version_id, "material": sealed, "created": created}
        )
        with self.write() as cur:
            if alias is not None and cur.execute("SELECT 1 FROM aliases WHERE alias = ?", (alias,)).fetchone():
                raise InvalidInputError(f"alias {alias} is already taken", fix="choose another alias")
            cur.execute(
                "INSERT INTO objects (id, kind, object, state, owner) VALUES (?, 'key', ?, ?, ?)",
                (key_id, obj, state, OWNER),
            )
            cur.execute("INSERT INTO key_versions (version_id, key_id) VALUES (?, ?)", (version_id, key_id))
            if alias is not None:
                cur.execute("INSERT INTO aliases (alias, key_id) VALUES (?, ?)", (alias, key_id))
            for userid in grant_to:
                _grant(cur, key_id, userid, KEY_OPERATIONS)
        return KeyInfo(key_id, [alias] if alias else [], spec, state)

    def resolve(self, ref: str) -> tuple[str, str] | None:
        """Resolve a key id, an alias or a secret name to (object id, kind), or None."""
        rows = self._query("SELECT key_id FROM aliases WHERE alias = ?", (ref,))
        object_id = rows[0][0] if rows else ref
        rows = self._query(
            "SELECT id, kind FROM objects WHERE id IN (?, ?) AND kind != 'client_key' ORDER BY kind",
            (object_id, _SECRET_PREFIX + ref),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def key_for(self, ref: str, client_key_id: str) -> KeyRecord | None:
        """The key named by `ref` (id or alias) as `client_key_id` may use it, or None if no such key."""
        rows = self._query(
            "SELECT o.id, o.object, o.state, r.permissions FROM objects o "
            "LEFT JOIN read_access r ON r.id = o.id AND r.userid = ? "
            "WHERE o.kind = 'key' AND o.id = COALESCE((SELECT key_id FROM aliases WHERE alias = ?), ?)",
            (client_key_id, ref, ref),
        )
        if not rows:
            return None
        key_id, obj_json, state, perms = rows[0]
        obj = json.loads(obj_json)
        material = self.master.open(obj["material"], f"{key_id}|{obj['version_id']}")
        permissions = frozenset(json.loads(perms)) if perms else frozenset()
        return KeyRecord(key_id, obj["spec"], state, obj["version_id"], material, permissions)

    def key_id_for_version(self, version_id: str) -> str | None:
        """The key that owns a key version (how Decrypt finds the key of a ciphertext)."""
        rows = self._query("SELECT key_id FROM key_versions WHERE version_id = ?", (version_id,))
        return str(rows[0][0]) if rows else None

    def set_key_state(self, ref: str, state: str) -> KeyInfo:
        """Change a key's state (the only change a key ever undergoes)."""
        _check_state(state)
        key_id = self._require(ref, "key")
        with self.write() as cur:
            cur.execute("UPDATE objects SET state = ? WHERE id = ?", (state, key_id))
        return next(k for k in self.list_keys() if k.id == key_id)

    def list_keys(self) -> list[KeyInfo]:
        """Every key with its aliases, spec and state."""
        aliases: dict[str, list[str]] = {}
        for alias, key_id in self._query("SELECT alias, key_id FROM aliases ORDER BY alias"):
            aliases.setdefault(key_id, []).append(alias)
        rows = self._query("SELECT id, object, state FROM objects WHERE kind = 'key' ORDER BY rowid")
        return [KeyInfo(r[0], aliases.get(r[0], []), json.loads(r[1])["spec"], r[2]) for r in rows]

    # permissions

    def grant(self, ref: str, client_key_id: str, operations: Sequence[str] | None = None) -> str:
        """Let `client_key_id` run `operations` (default: all that apply) on a key or secret; returns its id."""
        object_id, kind = self._require_any(ref)
        allowed = KEY_OPERATIONS if kind == "key" else SECRET_OPERATIONS
        ops = tuple(operations) if operations else allowed
        bad = [op for op in ops if op not in allowed]
        if bad:
            raise InvalidInputError(
                f"{', '.join(bad)} cannot be granted on a {kind}", fix=f"use some of {', '.join(allowed)}"
            )
        if self.client_public_key(client_key_id) is None:
            raise InvalidInputError(
                f"no client key {client_key_id} in this sandbox", fix="see `sealtui sandbox status`"
            )
        with self.write() as cur:
            _grant(cur, object_id, client_key_id, ops)
        return object_id

    def revoke(self, ref: str, client_key_id: str) -> str:
        """Remove every permission of `client_key_id` on a key or secret; returns its id."""
        object_id, _kind = self._require_any(ref)
        with self.write() as cur:
            cur.execute("DELETE FROM read_access WHERE id = ? AND userid = ?", (object_id, client_key_id))
        return object_id

    # secrets

    def put_secret(self, name: str, value: bytes, data_type: str, grant_to: Sequence[str]) -> str:
        """Add a new version of a secret (creating it if needed); the new version is `ACSCurrent`."""
        if not _SECRET_RE.match(name):
            raise InvalidInputError(f"secret name {name!r} is not valid", fix="use 1-192 letters, digits and _/+=.@-")
        object_id = _SECRET_PREFIX + name
        version_id = str(uuid.uuid4())
        version = {
            "id": version_id,
            "data": self.master.seal(value, f"{object_id}|{version_id}"),
            "type": data_type,
            "created": _utc_now(),
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
                _grant(cur, object_id, userid, SECRET_OPERATIONS)
        return version_id

    def secret_for(
        self, name: str, client_key_id: str, *, version_id: str = "", stage: str = ""
    ) -> SecretRecord | None:
        """A version of a secret (by id or stage; default `ACSCurrent`), or None if there is none."""
        object_id = _SECRET_PREFIX + name
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
        return [r[0][len(_SECRET_PREFIX) :] for r in rows]

    # helpers

    def _require_any(self, ref: str) -> tuple[str, str]:
        found = self.resolve(ref)
        if found is None:
            raise InvalidInputError(
                f"no key, alias or secret {ref!r} in this sandbox", fix="see `sealtui sandbox status`"
            )
        return found

    def _require(self, ref: str, kind: str) -> str:
        object_id, found_kind = self._require_any(ref)
        if found_kind != kind:
            raise InvalidInputError(f"{ref!r} is a {found_kind}, not a {kind}", fix="give a key id or alias")
        return object_id


def _grant(cur: sqlite3.Cursor, object_id: str, userid: str, ops: Sequence[str]) -> None:
    row = cur.execute("SELECT permissions FROM read_access WHERE id = ? AND userid = ?", (object_id, userid)).fetchone()
    merged = sorted(set(json.loads(row[0]) if row else ()) | set(ops))
    cur.execute(
        "INSERT OR REPLACE INTO read_access (id, userid, permissions) VALUES (?, ?, ?)",
        (object_id, userid, json.dumps(merged)),
    )


def _check_state(state: str) -> None:
    if state not in KEY_STATES:
        raise InvalidInputError(f"unknown key state {state!r}", fix=f"use one of {', '.join(KEY_STATES)}")


def _check_alias(alias: str) -> None:
    if not _ALIAS_RE.match(alias):
        raise InvalidInputError(
            f"alias {alias!r} is not valid", fix="use alias/<name> with letters, digits, _, / and -"
        )


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
