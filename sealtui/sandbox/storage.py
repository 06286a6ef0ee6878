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

`Destroyed` and `Destroyed_Compromised` are terminal: entering either erases the key's sealed material (with
`secure_delete` on and the write-ahead log truncated, so no copy of it stays in the database files) and no
state can follow, except `Destroyed` → `Destroyed_Compromised` (KMIP allows marking a destroyed key compromised).

Every SQLite failure (a full disk, a damaged file, a read-only directory) becomes a `StorageError` that names
the database and says what to do: never a raw sqlite3 traceback.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox.dbutil import OWNER, StorageError, grant_row, storage_error, utc_now
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.masterkey import MasterKey, key_path
from sealtui.sandbox.models import KEY_OPERATIONS, KEY_SPECS, KEY_STATES, SECRET_OPERATIONS, KeyInfo
from sealtui.sandbox.secretstore import SECRET_PREFIX, SecretRecord, SecretsMixin

__all__ = ["DB_NAME", "DESTROYED_STATES", "KeyRecord", "SecretRecord", "Storage", "StorageError"]

DB_NAME = "sandbox.db"

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
DESTROYED_STATES = ("Destroyed", "Destroyed_Compromised")
"""Terminal states: the material is erased when a key enters one."""
_MASTER_CHECK = "master-key-check"


@dataclass(frozen=True)
class KeyRecord:
    """A key as the server sees it for one client key: material unsealed, permissions looked up."""

    key_id: str
    spec: str
    state: str
    version_id: str
    material: bytes
    """32 raw bytes for `Aliyun_AES_256`; PKCS#8 DER for `EC_P256`; empty unless the key is `Active`."""
    permissions: frozenset[str]
    """The operations the asking client key may run on this key (empty: none)."""


class Storage(SecretsMixin):
    """A connection to a sandbox database. Thread-safe (one connection behind a lock)."""

    def __init__(
        self, root_dir: Path, *, create: bool = False, instance_id: str = "", key_dir: Path | None = None
    ) -> None:
        """Open the database under `root_dir` (or create it, for the new instance `instance_id`).

        The master key is read from `key_dir` (default: `masterkey.default_key_dir()`) the first time it is
        needed, so that describing an instance works without it.
        """
        self.root_dir = Path(root_dir)
        self.path = Layout(self.root_dir).database
        self._key_dir = key_dir
        self._master: MasterKey | None = None
        self._keys: dict[tuple[str, str], KeyRecord | None] = {}
        """`key_for` answers, valid while no connection commits (see `_check_fresh`): the lookup and the
        unsealing cost more than the operation they serve."""
        self._data_version = -1
        if create:
            # Create the file ourselves so that it (and the -wal/-shm files SQLite derives from it) is 0600.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        elif not self.path.is_file():
            raise InvalidInputError(
                f"{self.root_dir} holds no sandbox instance (no {DB_NAME})",
                fix=f"run `sealtui sandbox init --root-dir {self.root_dir}` first, or give the right --root-dir",
            )
        self._lock = threading.RLock()
        with self._errors():
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA busy_timeout = 30000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA secure_delete = ON")  # freed space is zeroed: erased material is gone
        if create:
            with self.write() as cur:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)
            self._master = MasterKey.create(key_path(instance_id, key_dir))
            self.set_meta(_MASTER_CHECK, self._master.seal(b"", f"{_MASTER_CHECK}|{instance_id}"))

    @property
    def master(self) -> MasterKey:
        """The instance's master key, read (and checked against this database) on first use."""
        if self._master is None:
            instance_id = self.get_meta("kms_instance_id") or ""
            if not instance_id:
                raise InvalidInputError(
                    f"{self.root_dir} holds an incomplete sandbox instance (init was interrupted)",
                    fix="remove the directory and run `sealtui sandbox init` again",
                )
            master = MasterKey.load(key_path(instance_id, self._key_dir), self.root_dir)
            check = self.get_meta(_MASTER_CHECK)
            if check is not None:
                try:
                    master.open(check, f"{_MASTER_CHECK}|{instance_id}")
                except InvalidInputError:
                    raise InvalidInputError(
                        f"{master.path} is not the master key of instance {instance_id}",
                        fix="give the directory that holds this instance's key (--master-key-dir)",
                    ) from None
            self._master = master
        return self._master

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as e:
            raise storage_error(self.path, e) from None

    def close(self) -> None:
        """Close the connection."""
        with self._lock, self._errors():
            self._conn.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def quick_check(self) -> None:
        """Raise `StorageError` unless SQLite's `quick_check` finds the database intact."""
        with self._lock, self._errors():
            rows = self._conn.execute("PRAGMA quick_check").fetchall()
        problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
        if problems:
            raise StorageError(
                f"{self.path} is damaged: {'; '.join(problems[:3])}",
                fix="restore the state directory from a backup, or create a new instance in another directory "
                "with `sealtui sandbox init --root-dir DIR`",
            )

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction, committed (and fsynced) on success, rolled back on error."""
        with self._lock, self._errors():
            self._keys.clear()  # data_version does not count this connection's own commits
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already (e.g. a full disk)
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, self._errors():
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
        sealed = None if state in DESTROYED_STATES else self.master.seal(material, f"{key_id}|{version_id}")
        created = utc_now()
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
                grant_row(cur, key_id, userid, KEY_OPERATIONS)
        return KeyInfo(key_id, [alias] if alias else [], spec, state)

    def resolve(self, ref: str) -> tuple[str, str] | None:
        """Resolve a key id, an alias or a secret name to (object id, kind), or None."""
        rows = self._query("SELECT key_id FROM aliases WHERE alias = ?", (ref,))
        object_id = rows[0][0] if rows else ref
        rows = self._query(
            "SELECT id, kind FROM objects WHERE id IN (?, ?) AND kind != 'client_key' ORDER BY kind",
            (object_id, SECRET_PREFIX + ref),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def _check_fresh(self) -> None:
        """Forget cached answers when any connection (another process's too) committed since the last look."""
        with self._lock, self._errors():
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version or len(self._keys) > 1024:
                self._data_version = version
                self._keys.clear()

    def key_for(self, ref: str, client_key_id: str) -> KeyRecord | None:
        """The key named by `ref` (id or alias) as `client_key_id` may use it, or None if no such key."""
        cache_key = (ref, client_key_id)
        with self._lock:  # check, load and store at once: a commit in between must not leave a stale answer
            self._check_fresh()
            try:
                return self._keys[cache_key]
            except KeyError:
                pass
            record = self._load_key(ref, client_key_id)
            self._keys[cache_key] = record
            return record

    def _load_key(self, ref: str, client_key_id: str) -> KeyRecord | None:
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
        sealed = obj.get("material")
        material = b""
        if sealed and state == "Active":
            material = self.master.open(sealed, f"{key_id}|{obj['version_id']}")
        permissions = frozenset(json.loads(perms)) if perms else frozenset()
        return KeyRecord(key_id, obj["spec"], state, obj["version_id"], material, permissions)

    def key_id_for_version(self, version_id: str) -> str | None:
        """The key that owns a key version (how Decrypt finds the key of a ciphertext)."""
        rows = self._query("SELECT key_id FROM key_versions WHERE version_id = ?", (version_id,))
        return str(rows[0][0]) if rows else None

    def set_key_state(self, ref: str, state: str) -> KeyInfo:
        """Change a key's state (the only change a key ever undergoes); a destroyed key stays destroyed."""
        _check_state(state)
        key_id = self._require(ref, "key")
        with self.write() as cur:
            row = cur.execute("SELECT state, object FROM objects WHERE id = ?", (key_id,)).fetchone()
            current, obj = row[0], json.loads(row[1])
            if current in DESTROYED_STATES and not (current == "Destroyed" and state == "Destroyed_Compromised"):
                if state == current:
                    return next(k for k in self.list_keys() if k.id == key_id)
                raise InvalidInputError(
                    f"key {key_id} is {current}: its material was erased, so it cannot become {state}",
                    fix="create a new key (`sealtui sandbox create-key`) and seal again with it",
                )
            if state in DESTROYED_STATES:
                obj["material"] = None
            cur.execute("UPDATE objects SET state = ?, object = ? WHERE id = ?", (state, json.dumps(obj), key_id))
        if state in DESTROYED_STATES:
            self._truncate_log()
        return next(k for k in self.list_keys() if k.id == key_id)

    def _truncate_log(self) -> None:
        """Copy the write-ahead log into the database and empty it, so no old page keeps erased material."""
        with self._lock, self._errors():
            for _ in range(50):  # a reader in another process can hold an old snapshot for a moment
                if self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0:
                    return
                time.sleep(0.02)

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
            grant_row(cur, object_id, client_key_id, ops)
        return object_id

    def revoke(self, ref: str, client_key_id: str) -> str:
        """Remove every permission of `client_key_id` on a key or secret; returns its id."""
        object_id, _kind = self._require_any(ref)
        with self.write() as cur:
            cur.execute("DELETE FROM read_access WHERE id = ? AND userid = ?", (object_id, client_key_id))
        return object_id

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


def _check_state(state: str) -> None:
    if state not in KEY_STATES:
        raise InvalidInputError(f"unknown key state {state!r}", fix=f"use one of {', '.join(KEY_STATES)}")


def _check_alias(alias: str) -> None:
    if not _ALIAS_RE.match(alias):
        raise InvalidInputError(
            f"alias {alias!r} is not valid", fix="use alias/<name> with letters, digits, _, / and -"
        )
