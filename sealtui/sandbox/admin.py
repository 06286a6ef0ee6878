"""Managing a sandbox instance on disk: create it, inspect it, add keys, secrets and client keys.

These functions work on the root directory directly (not through the server), so they also work while a
server runs in another process: it reads the database per request and sees each change at once.

`key_dir` is where the instance's master key lives (default: `masterkey.default_key_dir()`, outside the state
directory); only the functions that seal or open something need it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sealtui.core.errors import InvalidInputError
from sealtui.sandbox import fsutil, pki
from sealtui.sandbox.layout import Layout
from sealtui.sandbox.masterkey import key_path
from sealtui.sandbox.models import DEFAULT_KEY_ALIAS, SIGNING_KEY_ALIAS, KeyInfo, SandboxStatus
from sealtui.sandbox.pkikeys import issuing_key_password, load_rsa_key, server_key_password
from sealtui.sandbox.storage import Storage

__all__ = [
    "create_key",
    "grant",
    "init_instance",
    "load_status",
    "put_secret",
    "register_client_key",
    "revoke",
    "set_key_state",
]

def init_instance(root_dir: Path, *, key_dir: Path | None = None) -> SandboxStatus:
    """Create a new instance in `root_dir` (absent or empty), its master key in `key_dir`.

    Makes the CA bundle and server certificate, one client key with its credential files, an AES-256 key
    `alias/sealtui-default` and an EC P-256 key `alias/sealtui-signing`, both granted to that client key.
    The root CA's private key is dropped once it has signed the intermediate; the intermediate's and the
    server's keys are written encrypted under passwords derived from the master key.
    """
    layout = Layout(Path(root_dir).expanduser().absolute())
    root = layout.root
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"{root} is a file, not a directory", fix="give a directory for --root-dir")
    if layout.database.exists():
        raise InvalidInputError(
            f"{root} already holds a sandbox instance",
            fix=f"use it as it is (`sealtui sandbox serve --root-dir {root}`), or give another --root-dir",
        )
    if root.is_dir() and any(root.iterdir()):
        raise InvalidInputError(f"{root} is not empty", fix="give a new or empty directory for the sandbox state")
    fsutil.make_private_dir(root)
    instance_id = pki.new_instance_id()

    with Storage(root, create=True, instance_id=instance_id, key_dir=key_dir) as db:
        fsutil.make_private_dir(layout.pki_dir)
        ca = pki.create_ca(instance_id)
        pem = serialization.Encoding.PEM
        fsutil.write_private(layout.root_ca_cert, ca.root_cert.public_bytes(pem))
        fsutil.write_private(layout.intermediate_ca_cert, ca.intermediate_cert.public_bytes(pem))
        issuing_password = issuing_key_password(db.master)
        fsutil.write_private(layout.intermediate_ca_key, pki.private_key_pem(ca.intermediate_key, issuing_password))
        chain, server_key = pki.issue_server_cert(ca, instance_id)
        fsutil.write_private(layout.server_chain, chain)
        server_pem = pki.private_key_pem(load_rsa_key(server_key), server_key_password(db.master))
        fsutil.write_private(layout.server_key, server_pem)

        client = pki.issue_client_key(instance_id)
        fsutil.make_private_dir(layout.credentials_dir)
        fsutil.write_private(layout.client_key_file(client.key_id), client.client_key_json)
        fsutil.write_private(layout.password_file(client.key_id), client.password.encode("ascii"))
        fsutil.write_private(layout.ca_file(instance_id), ca.bundle_pem())

        db.add_client_key(client.key_id, client.public_key_pem)
        db.create_key(
            "Aliyun_AES_256", os.urandom(32), alias=DEFAULT_KEY_ALIAS, state="Active", grant_to=[client.key_id]
        )
        db.create_key("EC_P256", _ec_material(), alias=SIGNING_KEY_ALIAS, state="Active", grant_to=[client.key_id])
        # Written last: an instance whose meta is complete was fully created.
        db.set_meta("client_key_id", client.key_id)
        db.set_meta("kms_instance_id", instance_id)
    return load_status(root, key_dir=key_dir)


def _ec_material() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _open(root_dir: Path, key_dir: Path | None = None) -> Storage:
    db = Storage(Path(root_dir).expanduser().absolute(), key_dir=key_dir)
    if db.get_meta("kms_instance_id") is None:
        db.close()
        raise InvalidInputError(
            f"{root_dir} holds an incomplete sandbox instance (init was interrupted)",
            fix="remove the directory and run `sealtui sandbox init` again",
        )
    return db


def load_status(
    root_dir: Path, *, hostname: str | None = None, port: int | None = None, key_dir: Path | None = None
) -> SandboxStatus:
    """Describe the instance in `root_dir`; `endpoint` is the last bound one, else the configured one."""
    from sealtui.sandbox import server
    from sealtui.sandbox.config import load_settings

    layout = Layout(Path(root_dir).expanduser().absolute())
    with _open(layout.root) as db:
        instance_id = db.get_meta("kms_instance_id") or ""
        client_key_id = db.get_meta("client_key_id") or ""
        keys = db.list_keys()
        client_keys = db.client_key_ids()
        secrets = db.secret_names()
    endpoint = server.read_serve_json(layout).get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        settings = load_settings(hostname=hostname, port=port, root_dir=layout.root)
        endpoint = server.endpoint_for(settings.hostname, settings.port)
    by_alias = {alias: k.id for k in keys for alias in k.aliases}
    return SandboxStatus(
        root_dir=layout.root,
        kms_instance_id=instance_id,
        endpoint=endpoint,
        running=server.is_serving(layout),
        client_key_id=client_key_id,
        credentials_dir=layout.credentials_dir,
        ca_file=layout.ca_file(instance_id),
        client_key_file=layout.client_key_file(client_key_id),
        password_file=layout.password_file(client_key_id),
        default_key_id=by_alias.get(DEFAULT_KEY_ALIAS),
        signing_key_id=by_alias.get(SIGNING_KEY_ALIAS),
        keys=keys,
        client_key_ids=client_keys,
        secrets=secrets,
        master_key_file=key_path(instance_id, key_dir),
    )


def create_key(
    root_dir: Path,
    spec: str = "Aliyun_AES_256",
    *,
    alias: str | None = None,
    state: str = "Active",
    grant_to: Sequence[str] | None = None,
    key_dir: Path | None = None,
) -> KeyInfo:
    """Create a key (`Aliyun_AES_256` or `EC_P256`), granted to `grant_to` (default: the instance's client key)."""
    with _open(root_dir, key_dir) as db:
        grantees = list(grant_to) if grant_to is not None else [db.get_meta("client_key_id") or ""]
        material = _ec_material() if spec == "EC_P256" else os.urandom(32)
        return db.create_key(spec, material, alias=alias, state=state, grant_to=grantees)


def set_key_state(root_dir: Path, key: str, state: str) -> KeyInfo:
    """Set the state of a key (id or alias): `PreActive`, `Active`, `Deactivated`, `Compromised`, …

    `Destroyed` and `Destroyed_Compromised` erase the key's material and cannot be left (except `Destroyed` →
    `Destroyed_Compromised`).
    """
    with _open(root_dir) as db:
        return db.set_key_state(key, state)


def _client(db: Storage, client_key_id: str | None) -> str:
    return client_key_id or db.get_meta("client_key_id") or ""


def grant(
    root_dir: Path, target: str, client_key_id: str | None = None, operations: Sequence[str] | None = None
) -> str:
    """Let a client key (default: the instance's) use a key, alias or secret; returns the object id."""
    with _open(root_dir) as db:
        return db.grant(target, _client(db, client_key_id), operations)


def revoke(root_dir: Path, target: str, client_key_id: str | None = None) -> str:
    """Remove a client key's (default: the instance's) permissions on a key, alias or secret."""
    with _open(root_dir) as db:
        return db.revoke(target, _client(db, client_key_id))


def put_secret(
    root_dir: Path,
    name: str,
    value: bytes | str,
    *,
    grant_to: Sequence[str] | None = None,
    key_dir: Path | None = None,
) -> str:
    """Store a new version of secret `name` (text if UTF-8, else binary); returns the version id."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    try:
        data.decode("utf-8")
        data_type = "text"
    except UnicodeDecodeError:
        data_type = "binary"
    with _open(root_dir, key_dir) as db:
        grantees = list(grant_to) if grant_to is not None else [db.get_meta("client_key_id") or ""]
        return db.put_secret(name, data, data_type, grantees)


def register_client_key(
    root_dir: Path, client_key_file: Path, password_file: Path, *, grant_defaults: bool = True
) -> str:
    """Register an existing client key (e.g. one issued by Alibaba) and grant it the default keys.

    The password file may be raw text or JSON `{"ClientKeyPassword": …}`; trailing whitespace is trimmed.
    Only the public key is kept. Returns the client key's KeyId.
    """
    from sealtui.core.credentials import load_client_key, read_password_file

    client_key = load_client_key(Path(client_key_file), read_password_file(Path(password_file)))
    public_pem = client_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with _open(root_dir) as db:
        db.add_client_key(client_key.key_id, public_pem)
        if grant_defaults:
            for alias in (DEFAULT_KEY_ALIAS, SIGNING_KEY_ALIAS):
                if db.resolve(alias) is not None:
                    db.grant(alias, client_key.key_id)
    return client_key.key_id
